// gdal_util.hpp (private) — GDAL/OGR error handling shared by every module that calls GDAL.
//
// GDAL reports failures through return values plus a thread-local "last error" (CPLGetLastErrorMsg).
// We install nothing global: each call site checks its return value and, on failure, throws a careshed
// exception whose message is prefixed by the file/layer it concerns and ends with GDAL's own text.
// ensure_gdal_registered() registers drivers once, thread-safely.
#pragma once

#include <cpl_error.h>
#include <cpl_port.h>

#include <string>

namespace careshed::detail {

/// GDAL progress callback (GDALProgressFunc) over a careshed::RunControl* passed as `control`: reports
/// `complete` to it and returns FALSE, which makes GDAL stop the operation, once cancellation was
/// requested. The caller then checks the control before interpreting GDAL's failure.
int CPL_STDCALL gdal_progress(double complete, const char* message, void* control);

/// Registers all GDAL/OGR drivers exactly once (thread-safe, cheap after the first call).
void ensure_gdal_registered();

/// GDAL's last error message on this thread ("" if none), then resets it.
std::string take_gdal_error();

/// Throws DataIOError("<context>: <what>[: <GDAL message>]").
[[noreturn]] void throw_gdal_io(const std::string& context, const std::string& what);

/// RAII: silences GDAL's default stderr handler for the scope (errors are still retrievable with
/// take_gdal_error()), so users see careshed's message once instead of GDAL's console noise.
class QuietGdalErrors {
 public:
  QuietGdalErrors();
  ~QuietGdalErrors();
  QuietGdalErrors(const QuietGdalErrors&) = delete;
  QuietGdalErrors& operator=(const QuietGdalErrors&) = delete;
};

/// RAII for a read loop over a file the user named (features of a layer, pixels of a band): silences GDAL's
/// console output like QuietGdalErrors and remembers the first failure GDAL reports during the scope. GDAL's
/// drivers report a truncated or corrupt file (e.g. an .osm.pbf cut short, a GeoPackage with a damaged page)
/// by such an error and then end the feature stream exactly as at a normal end of file, so a loop that only
/// checks for the end silently reads part of the file. Warnings are not failures. Thread-local, like GDAL's
/// error handler stack.
class GdalReadFailures {
 public:
  GdalReadFailures();
  ~GdalReadFailures();
  GdalReadFailures(const GdalReadFailures&) = delete;
  GdalReadFailures& operator=(const GdalReadFailures&) = delete;

  bool failed() const { return failed_; }
  /// GDAL's message of the first failure ("" if none).
  const std::string& first_message() const { return first_; }
  /// When a failure was recorded: throws DataIOError "<context>: reading stopped after <read_so_far>: the file
  /// is truncated or corrupt (GDAL: <message>); <remedy>". Resets GDAL's last error either way.
  void throw_if_failed(const std::string& context, const std::string& read_so_far, const std::string& remedy) const;

 private:
  static void handler(CPLErr type, CPLErrorNum num, const char* message);
  bool failed_ = false;
  std::string first_;
};

}  // namespace careshed::detail
