// geos_util.hpp (private) — RAII for the GEOS re-entrant C API, shared by every module that uses GEOS.
//
// careshed calls GEOS only through the stable C API's *_r functions (GEOS_USE_ONLY_R_API). A GeosContext owns
// one GEOSContextHandle_t and captures GEOS's error messages on it; a context, and every geometry created on
// it, must be used by one thread at a time (make one context per thread for parallel work). Geom and
// PreparedGeom own one object of a context and must be destroyed before it: declare the context first.
#pragma once

#ifndef GEOS_USE_ONLY_R_API
#define GEOS_USE_ONLY_R_API
#endif
#include <geos_c.h>

#include <string>

#include "careshed/error.hpp"

namespace careshed::detail {

class GeosContext {
 public:
  GeosContext() : h_(GEOS_init_r()) {
    if (h_ == nullptr) throw Error("GEOS: cannot create a context");
    GEOSContext_setErrorMessageHandler_r(h_, &GeosContext::on_error, this);
  }
  ~GeosContext() { GEOS_finish_r(h_); }
  GeosContext(const GeosContext&) = delete;
  GeosContext& operator=(const GeosContext&) = delete;
  GEOSContextHandle_t get() const { return h_; }
  /// GEOS's last error message on this context ("" if none), then cleared.
  std::string take_error() {
    std::string e;
    e.swap(error_);
    return e;
  }

 private:
  static void on_error(const char* message, void* userdata) {
    static_cast<GeosContext*>(userdata)->error_ = message ? message : "";
  }
  GEOSContextHandle_t h_;
  std::string error_;
};

/// Owning pointer to a GEOSGeometry of one context (move-only; null allowed).
class Geom {
 public:
  Geom() = default;
  Geom(GEOSContextHandle_t h, GEOSGeometry* g) : h_(h), g_(g) {}
  Geom(Geom&& o) noexcept : h_(o.h_), g_(o.g_) { o.g_ = nullptr; }
  Geom& operator=(Geom&& o) noexcept {
    if (this != &o) {
      reset();
      h_ = o.h_;
      g_ = o.g_;
      o.g_ = nullptr;
    }
    return *this;
  }
  Geom(const Geom&) = delete;
  Geom& operator=(const Geom&) = delete;
  ~Geom() { reset(); }
  void reset() {
    if (g_) GEOSGeom_destroy_r(h_, g_);
    g_ = nullptr;
  }
  GEOSGeometry* get() const { return g_; }
  /// Gives up ownership (e.g. to a collection that takes it).
  GEOSGeometry* release() {
    GEOSGeometry* g = g_;
    g_ = nullptr;
    return g;
  }
  explicit operator bool() const { return g_ != nullptr; }

 private:
  GEOSContextHandle_t h_ = nullptr;
  GEOSGeometry* g_ = nullptr;
};

/// Owning pointer to a GEOSPreparedGeometry of one context (move-only; null allowed).
class PreparedGeom {
 public:
  PreparedGeom() = default;
  PreparedGeom(GEOSContextHandle_t h, const GEOSPreparedGeometry* p) : h_(h), p_(p) {}
  PreparedGeom(PreparedGeom&& o) noexcept : h_(o.h_), p_(o.p_) { o.p_ = nullptr; }
  PreparedGeom& operator=(PreparedGeom&& o) noexcept {
    if (this != &o) {
      if (p_) GEOSPreparedGeom_destroy_r(h_, p_);
      h_ = o.h_;
      p_ = o.p_;
      o.p_ = nullptr;
    }
    return *this;
  }
  PreparedGeom(const PreparedGeom&) = delete;
  PreparedGeom& operator=(const PreparedGeom&) = delete;
  ~PreparedGeom() {
    if (p_) GEOSPreparedGeom_destroy_r(h_, p_);
  }
  const GEOSPreparedGeometry* get() const { return p_; }

 private:
  GEOSContextHandle_t h_ = nullptr;
  const GEOSPreparedGeometry* p_ = nullptr;
};

}  // namespace careshed::detail
