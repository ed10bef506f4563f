// multimodal_setup.hpp (private) — the checks and the arithmetic every walk + ride engine shares
// (careshed/multimodal.hpp, careshed/multimodal_walkcap.hpp): one place, so the engines agree on every input they
// refuse and on the tick scale, and a capped search with a cap nobody reaches gives the uncapped bits.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "careshed/multimodal.hpp"
#include "careshed/raster_tiles.hpp"
#include "raster_search_internal.hpp"

namespace careshed::detail {

/// What multimodal_setup derives from the inputs.
struct MultimodalSetup {
  std::int64_t ncell = 0;            ///< rows * cols
  std::int64_t nride = 0;            ///< ride nodes (0: walking only)
  std::size_t n_modes = 0;           ///< net.modes.size()
  FrictionSummary summary;           ///< largest finite friction, passable cells
  double friction_sum = 0.0;         ///< sum of the passable cells' friction
  double max_offset = 0.0;           ///< largest start offset (s)
  std::size_t active_sources = 0;    ///< sources on passable cells
  std::vector<std::int64_t> cell_of; ///< per ride node: its transfer cell, -1 none or impassable
  std::vector<std::uint8_t> mode_of; ///< per ride node: its mode
  int mode_bits = 0;                 ///< bits of the mode code below the source index in a packed label
  RasterSearchOptions grid_options;  ///< the grid engine's options for these MultimodalOptions
  TickScale scale;                   ///< the grid engine's scale widened by the ride network; cut_ticks =
                                     ///< floor(max_seconds * 2^q) (exact doubles out: the inclusive cut-off)
  double ticks_per_second = 0.0;     ///< 2^q
};

/// Packed labels ((ticks + 1) << index_bits) | (source << mode_bits) | mode code, the grid engine's layout with the
/// mode code in the low bits of its "source index": integer order = (ticks, source, code).
struct MultimodalLabels {
  int ib = 0;                   ///< index bits
  std::uint64_t code_mask = 0;  ///< (1 << mode_bits) - 1
  std::uint64_t cut = 0;        ///< inclusive cut-off in ticks
  std::uint64_t ticks(std::uint64_t L) const { return (L >> ib) - 1; }
  /// L + w ticks, entering a node of mode m (code = max(code, m + 1); 0 keeps it); kUnreachedLabel beyond the cut.
  std::uint64_t step(std::uint64_t L, std::uint64_t w, int mode_code) const {
    if (ticks(L) + w > cut) return kUnreachedLabel;
    std::uint64_t out = L + (w << ib);
    const std::uint64_t c = static_cast<std::uint64_t>(mode_code);
    if (c > (out & code_mask)) out = (out & ~code_mask) | c;
    return out;
  }
};

/// Validates the walk + ride inputs (InputError naming the argument, the cell or the node) and derives the
/// shared arithmetic. Reads the friction once (OpenMP above 2^18 cells).
MultimodalSetup multimodal_setup(const MultimodalNetwork& net, const std::int64_t* sources_rc, std::size_t n_sources,
                                 const MultimodalOptions& options);

/// The label layout of `setup`.
MultimodalLabels multimodal_labels(const MultimodalSetup& setup);

/// Final labels (one per cell, in `labels`, which aliases out_seconds) -> seconds (ticks * 2^-q, exact; +inf
/// unreached), nearest source (-1) and trip mode (0 unreached; out_mode may be nullptr), in place; fills the
/// stats' cells_reached and cells_riding.
void multimodal_outputs(const MultimodalSetup& setup, std::uint64_t* labels, std::int32_t* out_nearest,
                        std::uint8_t* out_mode, MultimodalStats& stats);

/// floor(seconds * 2^q + 0.5): one walking step, ride arc or transfer in ticks.
std::uint64_t multimodal_ticks(double seconds, double ticks_per_second);

/// Friction of cell c of the walking grid, as a double.
inline double multimodal_friction(const FrictionGrid& g, std::int64_t c) {
  return g.friction_f32 ? static_cast<double>(g.friction_f32[c]) : g.friction_f64[c];
}

}  // namespace careshed::detail
