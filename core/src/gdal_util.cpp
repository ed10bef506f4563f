#include "gdal_util.hpp"

#include <cpl_error.h>
#include <gdal.h>
#include <ogr_api.h>

#include <mutex>

#include "careshed/error.hpp"
#include "careshed/progress.hpp"

namespace careshed::detail {

int CPL_STDCALL gdal_progress(double complete, const char* /*message*/, void* control) {
  auto* c = static_cast<RunControl*>(control);
  c->report(complete);
  return c->cancel_requested() ? FALSE : TRUE;
}

void ensure_gdal_registered() {
  static std::once_flag once;
  std::call_once(once, [] { GDALAllRegister(); });
}

std::string take_gdal_error() {
  std::string msg;
  if (CPLGetLastErrorType() != CE_None) {
    const char* text = CPLGetLastErrorMsg();
    if (text != nullptr) msg = text;
  }
  CPLErrorReset();
  return msg;
}

void throw_gdal_io(const std::string& context, const std::string& what) {
  std::string gdal_msg = take_gdal_error();
  std::string msg = context + ": " + what;
  if (!gdal_msg.empty()) msg += " (GDAL: " + gdal_msg + ")";
  throw DataIOError(msg);
}

QuietGdalErrors::QuietGdalErrors() { CPLPushErrorHandler(CPLQuietErrorHandler); }
QuietGdalErrors::~QuietGdalErrors() { CPLPopErrorHandler(); }

GdalReadFailures::GdalReadFailures() { CPLPushErrorHandlerEx(&GdalReadFailures::handler, this); }
GdalReadFailures::~GdalReadFailures() { CPLPopErrorHandler(); }

void GdalReadFailures::handler(CPLErr type, CPLErrorNum, const char* message) {
  if (type != CE_Failure && type != CE_Fatal) return;
  auto* self = static_cast<GdalReadFailures*>(CPLGetErrorHandlerUserData());
  if (self == nullptr || self->failed_) return;
  self->failed_ = true;
  self->first_ = message != nullptr ? message : "";
}

void GdalReadFailures::throw_if_failed(const std::string& context, const std::string& read_so_far,
                                       const std::string& remedy) const {
  CPLErrorReset();
  if (!failed_) return;
  std::string msg = context + ": reading stopped after " + read_so_far + ": the file is truncated or corrupt";
  if (!first_.empty()) msg += " (GDAL: " + first_ + ")";
  throw DataIOError(msg + "; " + remedy);
}

}  // namespace careshed::detail
