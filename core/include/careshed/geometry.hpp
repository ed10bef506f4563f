// careshed/geometry.hpp — polygon operations through GEOS's re-entrant C API (geos_c.h, *_r functions).
//
// Geometries cross this interface as ISO/extended WKB (careshed::Wkb); GEOS objects never leak out.
// Coordinates are in the caller's CRS (a metric one for areas; point-in-polygon works in any CRS as long
// as points and polygons share it).
// Thread-safety: every function creates its own GEOS context(s); concurrent calls are safe.
// assign_points_to_zones uses OpenMP threads internally when careshed was built with OpenMP.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "careshed/crs.hpp"  // careshed::Wkb

namespace careshed {

/// For every point i, the index of the zone that covers it ("covers": a point on a zone's boundary is in
/// the zone), the LOWEST such index when the point lies on a boundary shared by several zones, or -1 when
/// no zone covers it (and for NaN coordinates). Zones must be Polygon / MultiPolygon WKB (empty WKB, other
/// types, unparseable WKB or invalid polygons → InputError naming the zone index and, for invalid ones,
/// GEOS's reason). x and y hold n coordinates in the zones' CRS.
/// Cost: prepared geometries + a grid index over zone bounding boxes; O(n · candidates) covers tests.
std::vector<int32_t> assign_points_to_zones(const std::vector<Wkb>& zones, const double* x, const double* y,
                                            std::size_t n);

/// Same with vectors (InputError if x and y differ in length).
std::vector<int32_t> assign_points_to_zones(const std::vector<Wkb>& zones, const std::vector<double>& x,
                                            const std::vector<double>& y);

/// (index, reason) for every geometry that is not a valid Polygon/MultiPolygon: unparseable WKB, empty,
/// another geometry type, or invalid per GEOSisValidReason (e.g. "Self-intersection[118.4 29.1]").
/// Empty result = all valid.
std::vector<std::pair<std::size_t, std::string>> check_polygons(const std::vector<Wkb>& zones);

/// Area of each geometry in CRS units squared (m² in a metric CRS); 0 for null geometries.
/// InputError for unparseable WKB.
std::vector<double> geometry_areas(const std::vector<Wkb>& geometries);

/// ISO WKB (little-endian) of the point (x, y): a convenience to build facility tables in memory.
Wkb point_wkb(double x, double y);

/// A point strictly inside each polygon (GEOSPointOnSurface), e.g. to place labels; null WKB → NaN.
std::vector<std::pair<double, double>> interior_points(const std::vector<Wkb>& geometries);

}  // namespace careshed
