// raster_tiles.cpp — the tiled nearest search's public face (careshed/raster_tiles.hpp): argument checks
// and the conversion between the caller's (ticks, nearest) labels and the packed labels the search
// works on. The search itself is raster_search.cpp's, with the whole grid's arithmetic.
#include "careshed/raster_tiles.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <sstream>
#include <string>
#include <vector>

#include "careshed/error.hpp"
#include "raster_search_internal.hpp"

namespace careshed {

FrictionSummary raster_friction_summary(const FrictionGrid& piece) { return detail::friction_summary(piece); }

FrictionSummary merge_summaries(const FrictionSummary& a, const FrictionSummary& b) {
  return FrictionSummary{std::max(a.max_friction, b.max_friction), a.passable_cells + b.passable_cells};
}

TickScale raster_tiled_scale(const FrictionGrid& grid, const FrictionSummary& whole, std::size_t n_sources,
                             double max_start_offset_s, const RasterSearchOptions& options) {
  return detail::whole_grid_scale(grid, whole, n_sources, max_start_offset_s, options);
}

TickScale raster_tiled_reach_scale(const FrictionGrid& grid, const FrictionSummary& whole, double max_start_offset_s,
                                   const RasterSearchOptions& options) {
  if (!(options.max_seconds < std::numeric_limits<double>::infinity()))
    throw InputError("tiled reach lists: max_seconds (the catchment) must be finite");
  return detail::whole_grid_scale(grid, whole, 1, max_start_offset_s, options, true);
}

int tile_halo(int neighbours) {
  if (neighbours != 8 && neighbours != 16)
    throw InputError("tiled search: neighbours must be 8 or 16, got " + std::to_string(neighbours));
  return neighbours == 16 ? 2 : 1;
}

std::uint64_t tile_unreached_label() { return detail::kUnreachedLabel; }

namespace {

// The checks both forms of the tile search share (the labels' own checks are the caller's).
void check_tile_arguments(const FrictionGrid& window, const TickScale& scale, const std::int32_t* source_index,
                          std::size_t n_sources, const std::int64_t* seed_cells, std::size_t n_seeds) {
  if (scale.index_bits < 0 || scale.index_bits > 32 || scale.tick_seconds <= 0.0)
    throw InputError("tiled search: the tick scale is not one made by raster_tiled_scale");
  if (window.rows < 1 || window.cols < 1)
    throw InputError("tiled search: the window needs at least one cell, got " + std::to_string(window.rows) + " x " +
                     std::to_string(window.cols));
  const std::int64_t n = window.rows * window.cols;
  const std::int64_t index_limit = std::int64_t{1} << scale.index_bits;
  for (std::size_t s = 0; s < n_sources; ++s)
    if (source_index[s] < 0 || source_index[s] >= std::max<std::int64_t>(index_limit, 1)) {
      std::ostringstream m;
      m << "tiled search: source_index[" << s << "] = " << source_index[s]
        << " is outside the search's sources (0 .. " << index_limit - 1 << ")";
      throw InputError(m.str());
    }
  for (std::size_t i = 0; i < n_seeds; ++i)
    if (seed_cells[i] < 0 || seed_cells[i] >= n) {
      std::ostringstream m;
      m << "tiled search: seed_cells[" << i << "] = " << seed_cells[i] << " is not a cell of the " << window.rows
        << " x " << window.cols << " window";
      throw InputError(m.str());
    }
}

}  // namespace

RasterSearchStats raster_tile_search(const FrictionGrid& window, const TickScale& scale,
                                     const RasterSearchOptions& options, const std::int64_t* sources_rc,
                                     const std::int32_t* source_index, std::size_t n_sources,
                                     const std::int64_t* seed_cells, std::size_t n_seeds, std::int64_t* ticks,
                                     std::int32_t* nearest, RunControl* control) {
  check_tile_arguments(window, scale, source_index, n_sources, seed_cells, n_seeds);
  const std::int64_t n = window.rows * window.cols;
  const std::int64_t index_limit = std::int64_t{1} << scale.index_bits;
  // Packed labels: ((ticks + 1) << index_bits) | nearest, compared as integers = (time, index) order. They
  // are built in the caller's ticks array itself (int64 and uint64 cells of the same size; a window of
  // 4096^2 cells would otherwise allocate and page in 134 MB per call), after a read-only check so that
  // bad input leaves the arrays untouched.
  auto bad_label = [&](std::int64_t i) {
    const std::int64_t t = ticks[i];
    return t >= 0 && (static_cast<std::uint64_t>(t) > scale.cut_ticks || nearest[i] < 0 || nearest[i] >= index_limit);
  };
  bool bad = false;
  for (std::int64_t i = 0; i < n; ++i) bad |= bad_label(i);  // no early exit: vectorisable
  if (bad)
    for (std::int64_t i = 0; i < n; ++i)
      if (bad_label(i)) {
        std::ostringstream m;
        m << "tiled search: label of window cell " << i << " (ticks " << ticks[i] << ", nearest " << nearest[i]
          << ") does not belong to this search's scale (ticks 0.." << scale.cut_ticks << ", nearest 0.."
          << index_limit - 1 << "; -1 for unreached)";
        throw InputError(m.str());
      }
  auto* labels = reinterpret_cast<std::uint64_t*>(ticks);  // same cells, read as their unsigned counterpart
  for (std::int64_t i = 0; i < n; ++i) {
    const std::int64_t t = ticks[i];
    labels[i] = t < 0 ? detail::kUnreachedLabel
                      : ((static_cast<std::uint64_t>(t) + 1) << scale.index_bits) | static_cast<std::uint64_t>(nearest[i]);
  }
  const std::uint64_t mask = (std::uint64_t{1} << scale.index_bits) - 1;
  auto unpack = [&] {
    for (std::int64_t i = 0; i < n; ++i) {
      const std::uint64_t L = labels[i];
      const bool none = L == detail::kUnreachedLabel;
      ticks[i] = none ? -1 : static_cast<std::int64_t>((L >> scale.index_bits) - 1);
      nearest[i] = none ? -1 : static_cast<std::int32_t>(L & mask);
    }
  };
  RasterSearchStats st;
  try {
    st = detail::tile_search(window, scale, options, sources_rc, source_index, n_sources, seed_cells, n_seeds, labels,
                             control);
  } catch (...) {
    unpack();  // valid labels (each the time of a real path), lowered part-way: see the header
    throw;
  }
  unpack();
  return st;
}

RasterSearchStats raster_tile_search_packed(const FrictionGrid& window, const TickScale& scale,
                                            const RasterSearchOptions& options, const std::int64_t* sources_rc,
                                            const std::int32_t* source_index, std::size_t n_sources,
                                            const std::int64_t* seed_cells, std::size_t n_seeds,
                                            std::uint64_t* labels, RunControl* control) {
  check_tile_arguments(window, scale, source_index, n_sources, seed_cells, n_seeds);
  const std::int64_t n = window.rows * window.cols;
  // A reached label holds ticks + 1 >= 1 above the index bits and ticks <= cut_ticks: (L >> bits) - 1 wraps to
  // the largest value for ticks + 1 == 0, so one unsigned comparison checks both (the index bits are in range
  // by construction). One read-only pass, vectorisable; labels stay untouched on bad input.
  const int bits = scale.index_bits;
  const std::uint64_t cut = scale.cut_ticks;
  bool bad = false;
  for (std::int64_t i = 0; i < n; ++i) {
    const std::uint64_t L = labels[i];
    bad |= (L != detail::kUnreachedLabel) & (((L >> bits) - 1) > cut);
  }
  if (bad)
    for (std::int64_t i = 0; i < n; ++i) {
      const std::uint64_t L = labels[i];
      if (L != detail::kUnreachedLabel && ((L >> bits) - 1) > cut) {
        std::ostringstream m;
        m << "tiled search: packed label of window cell " << i << " (" << L << ") does not belong to this search's "
          << "scale (((ticks + 1) << " << bits << ") | index with ticks 0.." << cut << ", or "
          << detail::kUnreachedLabel << " for unreached)";
        throw InputError(m.str());
      }
    }
  return detail::tile_search(window, scale, options, sources_rc, source_index, n_sources, seed_cells, n_seeds, labels,
                             control);
}

void tile_labels_to_outputs(const std::uint64_t* labels, std::int64_t rows, std::int64_t cols, std::int64_t row_stride,
                            const TickScale& scale, float unreached_seconds, float* seconds, std::int32_t* nearest) {
  if (scale.index_bits < 0 || scale.index_bits > 32 || scale.tick_seconds <= 0.0)
    throw InputError("tiled outputs: the tick scale is not one made by raster_tiled_scale");
  if (rows < 0 || cols < 0 || row_stride < cols)
    throw InputError("tiled outputs: a " + std::to_string(rows) + " x " + std::to_string(cols) +
                     " block needs a row stride >= its columns, got " + std::to_string(row_stride));
  const int bits = scale.index_bits;
  const std::uint64_t mask = (std::uint64_t{1} << bits) - 1;
  // tick * 2^-q is exact in double (a power of two), so the product rounds to float32 exactly as
  // raster_travel_time's float32(ldexp(ticks, -q)).
  const double tick = std::ldexp(1.0, -scale.q);
  for (std::int64_t r = 0; r < rows; ++r) {
    const std::uint64_t* in = labels + r * row_stride;
    float* s = seconds + r * cols;
    std::int32_t* nr = nearest + r * cols;
    for (std::int64_t c = 0; c < cols; ++c) {
      const std::uint64_t L = in[c];
      const bool none = L == detail::kUnreachedLabel;
      s[c] = none ? unreached_seconds : static_cast<float>(static_cast<double>((L >> bits) - 1) * tick);
      nr[c] = none ? -1 : static_cast<std::int32_t>(L & mask);
    }
  }
}

}  // namespace careshed
