// careshed/friction.hpp — friction surfaces (seconds per metre per cell) for raster travel-time searches.
//
// A friction surface says how long it takes to cross one metre of each cell, in seconds (s/m). It is built
// on the caller's analysis grid (raster_io.hpp: make_grid / make_utm_grid) from any mix of:
//   (a) a land-cover CLASS raster + a table class -> speed_kmh (read with nearest neighbour), or land-cover
//       FRACTION rasters (% cover per layer, e.g. Copernicus cover fractions) + a speed per layer: each cell
//       takes the speed of its dominant cover (largest fraction; "other" = 100 % minus the listed layers);
//   (b) road lines from any OGR line source (.osm.pbf "lines" layer, GeoPackage, shapefile, PostGIS ...),
//       reprojected to the grid CRS and burned at the speed of their class from a careshed::SpeedProfile
//       (or their parsable maxspeed when the profile says use_maxspeed);
//   (c) a speed raster (km/h) or a published friction raster (s/m, min/m, s/km, min/km or h/km — the Malaria
//       Atlas Project surfaces are in MINUTES per metre: pass FrictionUnit::MinutesPerMetre);
//   (d) a uniform background speed (e.g. walking 5 km/h where no land cover is known), or a speed array
//       already on the grid;
// then (e) barriers — polygons/lines from any OGR source, or a raster mask — made impassable; or the
// complement of a land mask (Barrier::outside: land polygons or a land raster, everything else — the sea — is
// impassable, whatever the background speed or a road says).
//
// Combination rule (fastest wins): every layer gives a speed in km/h per cell (NaN = "this layer says
// nothing here": nodata, outside the raster, no road); layers are combined with the per-cell MAXIMUM speed,
// ignoring NaN. Roads are burned class by class, slowest first, so where roads cross or overlap the fastest
// is kept, and a road through a slow land-cover cell (or a class of speed 0, or land-cover nodata along a
// coast) makes the cell passable at road speed. Barriers are applied LAST: a barrier cell is impassable even
// if a road crosses it (bridges must be cut out of barrier polygons by the caller).
// Then friction = 3.6 / speed_kmh s/m; a cell with speed 0 or no speed from any layer is impassable (NaN),
// a cell with infinite speed (friction raster value 0) costs 0 s/m.
//
// Rasterisation rules: roads use GDAL ALL_TOUCHED=TRUE by default (every cell a road line touches gets the
// road; without it thin lines skip cells and a road on a 1 km grid breaks into pieces); barrier polygons use
// cell-centre-inside by default (all_touched = false) so a lake does not swallow its shore cells; a land
// mask (outside = true) is best given all_touched = true for the same reason: then only cells holding no
// land at all become sea.
//
// Land-cover classes missing from the table: an InputError listing them (with cell counts), unless
// default_speed_kmh is given, in which case they get that speed and the notes list them. Class values must
// be integers (a non-integer value means the raster is not a class raster: InputError).
//
// Units: speeds km/h, friction s/m, grid coordinates in the grid CRS (metres for analysis grids).
// Ownership: inputs are values, except FrictionInputs::speed_kmh_on_grid, a borrowed pointer only read during
// the call; *_into functions write caller-owned buffers of grid.size() elements.
// Thread-safety: all functions are re-entrant (own GDAL/OGR handles per call); concurrent calls are safe.
// Errors: DataIOError (missing/unreadable file, layer, band — message names it), CrsError (input without
// CRS, untransformable), InputError (negative speeds/friction, unknown classes, bad unit, missing field,
// nothing to build from).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "careshed/grid.hpp"
#include "careshed/raster_io.hpp"
#include "careshed/speed_profile.hpp"

namespace careshed {

/// Units of a friction raster.
enum class FrictionUnit { SecondsPerMetre, MinutesPerMetre, SecondsPerKilometre, MinutesPerKilometre, HoursPerKilometre };

/// "s/m", "min/m", "s/km", "min/km", "h/km" (also "seconds_per_metre", "minutes_per_metre", ...) → unit;
/// InputError listing the accepted names otherwise.
FrictionUnit friction_unit_from_string(const std::string& name);
/// Seconds per metre represented by 1 of `unit` (min/m → 60, s/km → 0.001 ...).
double seconds_per_metre_per_unit(FrictionUnit unit);

/// 3.6 / speed_kmh; NaN for speed 0, negative or NaN (impassable); 0 for +inf.
double speed_kmh_to_seconds_per_metre(double speed_kmh);

/// (a) A land-cover class raster and its speed table.
struct LandcoverClasses {
  std::string path;
  int band = 1;
  std::map<int64_t, double> speed_kmh;  ///< class value -> km/h (>= 0; 0 = impassable)
  std::optional<double> default_speed_kmh;  ///< speed of classes absent from the table (else InputError)
  Resampling resampling = Resampling::Nearest;  ///< Nearest or Mode (classes must not be averaged)
};

/// (a') Land-cover fraction rasters (cover in % of the cell): dominant cover decides the speed.
struct LandcoverFractions {
  std::vector<std::string> paths;       ///< one single-band raster per cover type
  std::vector<double> speeds_kmh;       ///< speed of each cover type (same order as paths)
  double other_speed_kmh = 0.0;         ///< speed of the remainder (100 % minus the listed covers)
  double full_cover = 100.0;            ///< value meaning "the whole cell" (100 for %, 1 for fractions)
  Resampling resampling = Resampling::Average;
};

/// (b) A road line layer.
struct RoadLayer {
  std::string path;
  std::string layer;                    ///< "" = "lines" if the source has it (OSM), else the first layer
  std::string class_field = "highway";  ///< field with the class; else parsed from OSM's other_tags
  std::string where;                    ///< optional OGR SQL attribute filter
  SpeedProfile profile = SpeedProfile::car();
  bool all_touched = true;
  /// Speed factors by class (time of day, congestion): a road's speed (its maxspeed or its class speed) is
  /// multiplied by speed_factor[class], else by speed_factor["*"] when given, else by 1. Factors must be
  /// finite and > 0 (InputError naming the class otherwise); empty = no change.
  std::map<std::string, double> speed_factor;
};

/// (c) A speed (km/h) or friction raster.
struct SpeedRaster {
  std::string path;
  int band = 1;
  Resampling resampling = Resampling::Bilinear;
};
struct FrictionRaster {
  std::string path;
  int band = 1;
  FrictionUnit unit = FrictionUnit::SecondsPerMetre;
  Resampling resampling = Resampling::Bilinear;
};

/// (e) Barriers: a vector source (any geometry) or a raster mask (cells with a non-zero value are barriers).
/// With `outside` the source is a LAND mask instead and the barrier is its complement (the sea): every cell
/// the geometries do not cover — with all_touched, every cell they do not even touch, so a coastal cell
/// holding any land stays passable — or, for a raster, every cell that is zero, nodata or off the raster.
/// A land mask that marks no cell of the grid as land is an InputError (it would make the whole grid
/// impassable; usually a wrong file, layer or CRS).
struct Barrier {
  std::string path;
  bool is_raster = false;
  std::string layer;    ///< vector: "" = first layer
  std::string where;    ///< vector: optional OGR SQL attribute filter
  int band = 1;         ///< raster
  bool all_touched = false;  ///< vector: also cells merely touched by the geometry
  bool outside = false;      ///< land mask: the cells NOT covered are impassable (see above)
};

/// Everything a friction surface may be built from; at least one speed source must be given.
struct FrictionInputs {
  std::optional<LandcoverClasses> landcover;
  std::optional<LandcoverFractions> landcover_fractions;
  std::optional<SpeedRaster> speed_raster;
  std::optional<FrictionRaster> friction_raster;
  std::optional<double> background_speed_kmh;  ///< (d) speed of every cell before the max-combine
  /// (d') a speed layer already on the grid (km/h, NaN = nothing): grid.size() values, row-major, owned by the
  /// caller and only read during the call (e.g. Tobler's hiking speed from a DEM computed in numpy, or a
  /// walking speed only where people live). nullptr = none.
  const double* speed_kmh_on_grid = nullptr;
  std::vector<RoadLayer> roads;
  std::vector<Barrier> barriers;
};

/// What was modelled, for provenance and sanity checks.
struct FrictionReport {
  std::vector<std::string> notes;   ///< one line per layer: source, rule, counts
  int64_t road_features = 0;        ///< road features burned
  int64_t road_features_skipped = 0;  ///< class not in the profile, or not a line (features without a
                                      ///< class are not roads and are not counted)
  std::map<std::string, int64_t> skipped_classes;  ///< class -> features not burned
  int64_t road_cells = 0;           ///< cells touched by a burned road (summed over road layers)
  int64_t barrier_cells = 0;        ///< cells made impassable by barriers
  int64_t impassable_cells = 0;     ///< NaN cells in the result
};

struct FrictionSurface {
  GridSpec grid;
  std::vector<double> seconds_per_metre;  ///< row-major, NaN = impassable
  FrictionReport report;
};

/// Builds the friction surface on `grid` (see the header comment for the rules).
/// control (optional, careshed/progress.hpp): polled between layers and inside GDAL's raster warps;
/// throws careshed::Cancelled after request_cancel().
FrictionSurface build_friction_surface(const GridSpec& grid, const FrictionInputs& inputs,
                                       RunControl* control = nullptr);

/// Same into a caller-owned buffer of grid.size() doubles (overwritten; its content is unspecified if an
/// exception is thrown). Safe without the Python GIL. Memory: one grid of doubles per extra raster layer while
/// it is combined (the first raster layer is warped straight into `out`), plus one for roads and barriers.
FrictionReport build_friction_surface_into(const GridSpec& grid, const FrictionInputs& inputs, double* out,
                                           RunControl* control = nullptr);

// ---- building blocks (speed grids in km/h, NaN = no information); each max-combines into `speed_kmh` ----

/// Land-cover classes → speed, max-combined into speed_kmh. Returns a note.
std::string add_landcover_speeds(const LandcoverClasses& lc, const GridSpec& grid, double* speed_kmh);
/// Land-cover fractions → speed of the dominant cover, max-combined into speed_kmh. Returns a note.
std::string add_landcover_fraction_speeds(const LandcoverFractions& lf, const GridSpec& grid, double* speed_kmh);
/// Roads burned at their speed (fastest wins), max-combined into speed_kmh; counts go into `report`.
void add_road_speeds(const RoadLayer& roads, const GridSpec& grid, double* speed_kmh, FrictionReport& report);
/// Barrier cells set to NaN in `values` (speed or friction). Returns the number of cells marked.
int64_t apply_barrier(const Barrier& barrier, const GridSpec& grid, double* values, std::string* note = nullptr);

}  // namespace careshed
