// crs_internal.hpp (private) — OGRSpatialReference helpers shared by crs.cpp, io.cpp and density.cpp.
#pragma once

#include <ogr_spatialref.h>

#include <memory>
#include <optional>
#include <string>

namespace careshed::detail {

struct SrsRelease {
  void operator()(OGRSpatialReference* s) const {
    if (s) s->Release();
  }
};
using SrsPtr = std::unique_ptr<OGRSpatialReference, SrsRelease>;

struct TransformDelete {
  void operator()(OGRCoordinateTransformation* t) const { OGRCoordinateTransformation::DestroyCT(t); }
};
using TransformPtr = std::unique_ptr<OGRCoordinateTransformation, TransformDelete>;

/// Parses a user CRS string; traditional GIS axis order set. CrsError naming `what` on failure.
SrsPtr parse_srs(const std::string& crs, const std::string& what);
/// WKT2_2019 text of an SRS.
std::string srs_to_wkt2(const OGRSpatialReference& srs);
/// EPSG code if the SRS is (equivalent to) an EPSG CRS.
std::optional<int> srs_epsg(const OGRSpatialReference& srs);
/// Same CRS, ignoring geographic axis order.
bool srs_equivalent(const OGRSpatialReference& a, const OGRSpatialReference& b);
/// src -> dst transformation (both in traditional GIS order). CrsError if PROJ finds no path.
TransformPtr make_transform(const OGRSpatialReference& src, const OGRSpatialReference& dst);

}  // namespace careshed::detail
