# Installs the already-built careshed into a scratch prefix, then configures, builds and runs
# examples/cpp_consumer against it with find_package(careshed CONFIG REQUIRED), as a user would.
file(REMOVE_RECURSE ${CONSUMER_WORK_DIR})
set(prefix ${CONSUMER_WORK_DIR}/prefix)
execute_process(COMMAND ${CMAKE_COMMAND} --install ${CARESHED_BUILD_DIR} --prefix ${prefix}
  RESULT_VARIABLE rc)
if(rc)
  message(FATAL_ERROR "cmake --install failed (${rc})")
endif()
execute_process(COMMAND ${CMAKE_COMMAND} -S ${CARESHED_SOURCE_DIR}/examples/cpp_consumer
  -B ${CONSUMER_WORK_DIR}/build -DCMAKE_PREFIX_PATH=${prefix} -DCMAKE_BUILD_TYPE=Release
  RESULT_VARIABLE rc)
if(rc)
  message(FATAL_ERROR "configuring the consumer against ${prefix} failed (${rc})")
endif()
execute_process(COMMAND ${CMAKE_COMMAND} --build ${CONSUMER_WORK_DIR}/build -j 2 RESULT_VARIABLE rc)
if(rc)
  message(FATAL_ERROR "building the consumer failed (${rc})")
endif()
execute_process(COMMAND ${CONSUMER_WORK_DIR}/build/careshed_consumer
  ${CARESHED_SOURCE_DIR}/data/quzhou/counties.geojson
  RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
message(STATUS "consumer output:\n${out}${err}")
if(rc)
  message(FATAL_ERROR "the consumer program failed (${rc})")
endif()
