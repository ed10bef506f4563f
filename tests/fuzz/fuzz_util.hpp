// fuzz_util.hpp — shared set-up of careshed's libFuzzer targets (tests/fuzz, CMake option CARESHED_FUZZ).
//
// Each target feeds arbitrary bytes to one parser of user input and accepts exactly two outcomes: a
// result, or a careshed::Error (the clear error the user would see). Anything else — a crash, a sanitizer
// report (ASan/UBSan are always on), a leak, another exception type (std::bad_alloc, std::length_error,
// std::out_of_range ...) escaping — is a finding: libFuzzer stops and writes the input to crash-<sha1>.
#pragma once

#include <cpl_conv.h>
#include <cpl_error.h>
#include <cpl_vsi.h>
#include <gdal.h>

#include <cstddef>
#include <cstdint>
#include <string>

namespace careshed_fuzz {

/// Registers GDAL once, silences its console messages (careshed reads them through CPLGetLastErrorMsg)
/// and keeps GDAL away from the network and from the files next to the input, so one input cannot make
/// a run depend on the machine (sidecar files, HTTP) or hang.
inline void init_gdal_once() {
  static const bool done = [] {
    GDALAllRegister();
    CPLSetErrorHandler(CPLQuietErrorHandler);
    CPLSetConfigOption("GDAL_DISABLE_READDIR_ON_OPEN", "EMPTY_DIR");
    CPLSetConfigOption("GDAL_HTTP_TIMEOUT", "1");
    CPLSetConfigOption("CPL_VSIL_CURL_ALLOWED_EXTENSIONS", ".none");
    CPLSetConfigOption("GDAL_PAM_ENABLED", "NO");  // no .aux.xml written next to inputs
    return true;
  }();
  (void)done;
}

/// An in-memory file /vsimem/careshed_fuzz/<name> holding the input bytes, removed on scope exit.
class VsiMemFile {
 public:
  VsiMemFile(const std::string& name, const uint8_t* data, size_t size) : path_("/vsimem/careshed_fuzz/" + name) {
    // bTakeOwnership = FALSE: GDAL reads the fuzzer's buffer in place; it outlives this object.
    VSILFILE* f = VSIFileFromMemBuffer(path_.c_str(), const_cast<GByte*>(data), static_cast<vsi_l_offset>(size), FALSE);
    if (f != nullptr) VSIFCloseL(f);
  }
  ~VsiMemFile() { VSIUnlink(path_.c_str()); }
  VsiMemFile(const VsiMemFile&) = delete;
  VsiMemFile& operator=(const VsiMemFile&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

}  // namespace careshed_fuzz
