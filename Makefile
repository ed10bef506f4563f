# careshed — the two commands:
#   make demo   runs the Quzhou example and writes out/ (tables, GeoPackage, PNG map)
#   make test   builds and runs the whole C++ and Python test suite (what CI runs)
# Both install what they need on a fresh Debian 12 machine (apt packages, a venv, the build) and are
# quick to re-run: every step is skipped when its inputs have not changed.

SHELL := /bin/bash
VENV  ?= .venv
PY    := $(VENV)/bin/python
BUILD ?= build/cpp
JOBS  ?= $(shell nproc)
STAMP := build/stamps

APT_PACKAGES := build-essential cmake pkg-config libgdal-dev gdal-bin libgeos-dev libnanoflann-dev \
  pybind11-dev libgtest-dev libbenchmark-dev python3-dev python3-venv python3-pip python3-setuptools \
  python3-wheel python3-numpy python3-pandas python3-geopandas python3-shapely python3-pyproj \
  python3-matplotlib python3-pytest python3-networkx python3-scipy python3-nbclient python3-nbformat \
  python3-ipykernel python3-gdal python3-fiona postgresql-15 postgresql-15-postgis-3 \
  proj-data python3-cairo coinor-libcbc-dev python3-pulp coinor-cbc python3-tqdm \
  libjs-leaflet fonts-noto-cjk chromium chromium-driver python3-selenium python3-pil python3-qgis qgis-providers \
  python3-arabic-reshaper python3-bidi libosmium2-dev libprotozero-dev zlib1g-dev libexpat1-dev \
  python3-dask python3-distributed python3-zarr
# Peers run side by side by the benchmarks (not needed for demo/test).
BENCH_APT_PACKAGES := grass-core python3-skimage hyperfine
# Debian's clang with libFuzzer and the sanitizer runtimes (only for `make fuzz` and `make test-sanitize-solver`).
FUZZ_APT_PACKAGES := clang-14 libfuzzer-14-dev libclang-rt-14-dev
INSTALL_CLANG = missing=$$(for p in $(FUZZ_APT_PACKAGES); do dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q 'install ok installed' || echo $$p; done); \
  if [ -n "$$missing" ]; then DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $$missing; fi

SOURCES := $(shell find core bindings python cmake -type f \( -name '*.cpp' -o -name '*.hpp' -o -name '*.h' -o -name '*.py' -o -name '*.in' -o -name '*.cmake' -o -name '*.txt' \) 2>/dev/null) \
           CMakeLists.txt setup.py pyproject.toml $(shell find data -type f 2>/dev/null)
TEST_SOURCES := $(shell find tests/cpp examples/cpp_consumer -type f 2>/dev/null)

.PHONY: demo test test-cpp test-python deps venv install bench clean help test-sanitize test-sanitize-solver fuzz

help:
	@echo "make demo   - run the Quzhou example, outputs in out/"
	@echo "make test   - build and run the C++ and Python test suites"
	@echo "make bench  - run the benchmarks against peers (installs GRASS, scikit-image)"
	@echo "make test-sanitize - the C++ tests built with AddressSanitizer + UndefinedBehaviorSanitizer"
	@echo "make test-sanitize-solver - the same for the CBC/CLP solver-process tests only, children's reports included"
	@echo "make fuzz   - build the libFuzzer targets (clang) and run each for FUZZ_SECONDS (default 600)"

# ---- system packages (once per machine) -----------------------------------------------------------
$(STAMP)/apt: Makefile
	@mkdir -p $(STAMP)
	@missing=$$(for p in $(APT_PACKAGES); do dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q 'install ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  echo "Installing Debian packages: $$missing"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -q --no-install-recommends $$missing; \
	fi
	@touch $@
deps: $(STAMP)/apt

# ---- Python venv over Debian's Python (sees Debian's numpy, pandas, geopandas ...) ----------------
$(VENV)/bin/python: | $(STAMP)/apt
	/usr/bin/python3 -m venv --system-site-packages $(VENV)
venv: $(VENV)/bin/python

# ---- one CMake build tree for everything: the core is compiled once ------------------------------
# $(BUILD) holds the core, the Python module (_core) and the C++ tests. pip builds the package from the
# same tree (CARESHED_BUILD_DIR), so installing after the C++ build recompiles nothing.
CMAKE_CONFIGURE := cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=Release -DCARESHED_BUILD_TESTS=ON \
  -DCARESHED_PYTHON=ON -DPython3_EXECUTABLE=$(abspath $(PY))

$(STAMP)/module: $(VENV)/bin/python $(SOURCES)
	@mkdir -p $(STAMP)
	$(CMAKE_CONFIGURE) >/dev/null
	cmake --build $(BUILD) -j $(JOBS) --target _core
	@touch $@

# ---- the package, installed into the venv (re-installed only when a source changed) -------------
$(STAMP)/installed: $(STAMP)/module
	CARESHED_BUILD_DIR=$(BUILD) CARESHED_JOBS=$(JOBS) $(PY) -m pip install --no-build-isolation --no-deps --no-index -q .
	@touch $@
install: $(STAMP)/installed

# ---- C++ tests, in the same tree --------------------------------------------------------------------
$(STAMP)/cpp: $(STAMP)/module $(TEST_SOURCES)
	cmake --build $(BUILD) -j $(JOBS)
	@touch $@

test-cpp: $(STAMP)/cpp
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS)

test-python: $(STAMP)/installed
	$(PY) -m pip check
	$(PY) -m pytest -q -p no:cacheprovider tests/python

test: test-cpp test-python

# ---- memory safety (not part of `make test`; docs/fuzzing.md) ---------------------------------------
# The C++ suite built with ASan + UBSan in its own build dir; any report fails the run (halt_on_error, UB
# not recoverable, leaks checked at exit). The consumer test (an install + rebuild) is left out.
SANITIZE_BUILD ?= build/sanitize
SANITIZER_ENV := ASAN_OPTIONS=halt_on_error=1:detect_leaks=1:detect_stack_use_after_return=1:check_initialization_order=1:strict_init_order=1 \
  UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 LSAN_OPTIONS=suppressions=$(CURDIR)/tests/fuzz/lsan.supp:print_suppressions=0
test-sanitize: $(STAMP)/apt
	cmake -S . -B $(SANITIZE_BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCARESHED_SANITIZE=ON -DCARESHED_BUILD_TESTS=ON >/dev/null
	$(SANITIZER_ENV) cmake --build $(SANITIZE_BUILD) -j $(JOBS)
	cd $(SANITIZE_BUILD) && $(SANITIZER_ENV) ctest --output-on-failure -LE consumer -j $(JOBS)

# Only the CBC / CLP solver-process code (core/src/cbc_support.hpp) and its users, under the same sanitizers: a few
# minutes instead of the whole suite. A solver child's stderr goes to a pipe its parent reads (and a child that dies
# is retried), so a report from a child would not fail its test: every process here writes its reports to a file
# (log_path), and any such file fails the run. Built with clang (its own build dir): with GCC, UBSan (libubsan
# beside libasan) ignores log_path and a child's UB report would go to the pipe.
SANITIZE_SOLVER_BUILD ?= build/sanitize-solver
SANITIZE_SOLVER_TESTS := cbc_support_test optimize_test outreach_test
SANITIZE_REPORTS = $(CURDIR)/$(SANITIZE_SOLVER_BUILD)/solver-reports
test-sanitize-solver: $(STAMP)/apt
	@$(INSTALL_CLANG)
	cmake -S . -B $(SANITIZE_SOLVER_BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_COMPILER=clang++-14 \
	  -DCARESHED_SANITIZE=ON -DCARESHED_BUILD_TESTS=ON >/dev/null
	cmake --build $(SANITIZE_SOLVER_BUILD) -j $(JOBS) --target $(SANITIZE_SOLVER_TESTS)
	@rm -rf $(SANITIZE_REPORTS) && mkdir -p $(SANITIZE_REPORTS); failed=0; \
	for t in $(SANITIZE_SOLVER_TESTS); do \
	  echo "== $$t"; \
	  ( cd $(SANITIZE_SOLVER_BUILD) && $(SANITIZER_ENV) sh -c 'ASAN_OPTIONS="$$ASAN_OPTIONS:log_path=$(SANITIZE_REPORTS)/asan" \
	    UBSAN_OPTIONS="$$UBSAN_OPTIONS:log_path=$(SANITIZE_REPORTS)/ubsan" exec ./tests/cpp/'$$t' --gtest_brief=1' ) \
	    || failed=1; \
	done; \
	for f in $(SANITIZE_REPORTS)/*; do [ -e "$$f" ] || continue; echo "== sanitizer report $$f"; cat "$$f"; failed=1; done; \
	exit $$failed

# libFuzzer targets (tests/fuzz) built with Debian's clang; each runs FUZZ_SECONDS from the committed seed
# corpus (tests/fuzz/corpus/<target>) and the run fails on the first crash, leak, UB or timeout.
FUZZ_BUILD ?= build/fuzz
FUZZ_SECONDS ?= 600
FUZZ_TARGETS ?= fuzz_text_parsers fuzz_speed_profile_csv fuzz_crs fuzz_vector fuzz_raster fuzz_osm_pbf fuzz_osm_libosmium \
  fuzz_fca_steps fuzz_wkb
fuzz: $(STAMP)/apt
	@$(INSTALL_CLANG)
	cmake -S . -B $(FUZZ_BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_COMPILER=clang++-14 -DCARESHED_FUZZ=ON \
	  -DCARESHED_BUILD_TESTS=OFF -DCARESHED_OPENMP=OFF >/dev/null
	cmake --build $(FUZZ_BUILD) -j $(JOBS) --target careshed_fuzzers
	tests/fuzz/run_fuzzers.sh $(FUZZ_BUILD) $(FUZZ_SECONDS) $(FUZZ_TARGETS)

demo: $(STAMP)/installed
	$(VENV)/bin/careshed demo --out out

bench: $(STAMP)/installed
	@missing=$$(for p in $(BENCH_APT_PACKAGES); do dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q 'install ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $$missing; fi
	$(PY) benchmarks/run_all.py

clean:
	rm -rf build out $(VENV) *.egg-info python/*.egg-info
