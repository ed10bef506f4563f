// careshed/grid.hpp — the analysis grid: size, affine geotransform and CRS of a raster.
//
// Conventions (shared by every raster in careshed):
//  * Arrays are row-major, row 0 at the top (north-up), index = row * width + col.
//  * geotransform follows GDAL: x = gt[0] + col*gt[1] + row*gt[2], y = gt[3] + col*gt[4] + row*gt[5],
//    for the *corner* of a cell; cell centres are at col + 0.5, row + 0.5.
//  * Units of gt[1], gt[5] are those of the CRS: metres for the metric analysis CRS, degrees for lon/lat.
//  * crs_wkt is WKT2 (as OGRSpatialReference::exportToWkt gives it); empty means "unknown" and is refused
//    by every function that needs a CRS.
// Thread-safety: plain value type.
#pragma once

#include <array>
#include <cstdint>
#include <string>

namespace careshed {

struct GridSpec {
  int64_t width = 0;   ///< columns
  int64_t height = 0;  ///< rows
  std::array<double, 6> geotransform{{0.0, 1.0, 0.0, 0.0, 0.0, -1.0}};
  std::string crs_wkt;

  int64_t size() const { return width * height; }
  /// Cell width along x in CRS units (absolute value).
  double cell_width() const { return geotransform[1] < 0 ? -geotransform[1] : geotransform[1]; }
  /// Cell height along y in CRS units (absolute value).
  double cell_height() const { return geotransform[5] < 0 ? -geotransform[5] : geotransform[5]; }
  /// True when the grid has no rotation terms.
  bool north_up() const { return geotransform[2] == 0.0 && geotransform[4] == 0.0; }
  /// X coordinate of the centre of column col (north-up grids).
  double col_center_x(double col) const { return geotransform[0] + (col + 0.5) * geotransform[1]; }
  /// Y coordinate of the centre of row row (north-up grids).
  double row_center_y(double row) const { return geotransform[3] + (row + 0.5) * geotransform[5]; }
};

}  // namespace careshed
