// raster_search_internal.hpp (private) — the pieces of raster_search.cpp that the tiled search
// (raster_tiles.cpp, public contract in careshed/raster_tiles.hpp) drives one tile at a time.
#pragma once

#include <cstddef>
#include <cstdint>

#include "careshed/raster_search.hpp"
#include "careshed/raster_tiles.hpp"

namespace careshed::detail {

/// Packed label of an unreached cell (the bytes of CellLabel{-1, +inf}); valid labels are
/// ((ticks + 1) << index_bits) | source index, all below it.
constexpr std::uint64_t kUnreachedLabel = 0x7F800000FFFFFFFFull;

/// Friction summary of one piece (negative friction: InputError naming the piece's cell).
FrictionSummary friction_summary(const FrictionGrid& piece);

/// The whole grid's arithmetic (what prepare() computes for raster_travel_time on the whole grid; with
/// reach_lists, what raster_reach_lists computes for its one-facility searches: 32-bit labels, no index).
TickScale whole_grid_scale(const FrictionGrid& geometry, const FrictionSummary& whole, std::size_t n_sources,
                           double max_start_offset_s, const RasterSearchOptions& options, bool reach_lists = false);

/// The nearest search over one window with the given arithmetic, on packed labels (window-sized, in and
/// out). Propagates from the sources (window cells, whole-search indices) and from the seed cells' labels.
RasterSearchStats tile_search(const FrictionGrid& window, const TickScale& scale, const RasterSearchOptions& options,
                              const std::int64_t* sources_rc, const std::int32_t* source_index, std::size_t n_sources,
                              const std::int64_t* seed_cells, std::size_t n_seeds, std::uint64_t* labels,
                              RunControl* control);

}  // namespace careshed::detail
