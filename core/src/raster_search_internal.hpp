// raster_search_internal.hpp (private) — the pieces of raster_search.cpp that the tiled search
// (raster_tiles.cpp, public contract in careshed/raster_tiles.hpp) drives one tile at a time.
#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>

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

/// A network joined to some cells of the grid and searched in the same bucket queue as the cells (the ride
/// graph of the walk + ride search, multimodal.cpp): one search instead of rounds of grid searches.
/// Its nodes carry packed labels in the grid's layout. The grid engine reports every expansion of a joined
/// cell (settled(): the label it was expanded with); between buckets, with no grid work running, one thread
/// calls advance(), which runs the side network's own search over the labels below `horizon_ticks` (the end
/// of the bucket about to be worked) and offers cells labels through the sink. The next bucket worked is the
/// lowest one holding grid entries, unprocessed reports or next_ticks(). Exact like the grid search itself (a
/// label-correcting search: every label is the cost of a real path, and the search ends only when no cell,
/// report or side label is pending, at the unique per-cell minimum), whatever the order or the threads.
class SideNetwork {
 public:
  struct Settled {
    std::uint64_t label;
    std::uint32_t cell;
  };
  /// Lowers a cell's label (if lower) and queues the cell; labels' ticks must lie in
  /// [start of the current bucket, offer_limit_ticks) (see advance).
  class CellSink {
   public:
    virtual void offer(std::uint32_t cell, std::uint64_t label) = 0;

   protected:
    ~CellSink() = default;
  };
  /// joined_bits: bit c set (word c / 64, bit c % 64) when cell c is joined; caller-owned, read during the search.
  explicit SideNetwork(const std::uint64_t* joined_bits) : joined_bits_(joined_bits) {}
  virtual ~SideNetwork() = default;
  SideNetwork(const SideNetwork&) = delete;
  SideNetwork& operator=(const SideNetwork&) = delete;
  bool joined(std::uint32_t c) const { return (joined_bits_[c >> 6] >> (c & 63)) & 1u; }
  /// Joined cells expanded since the last call, with the labels they were expanded with (one thread).
  virtual void settled(const Settled* cells, std::size_t n) = 0;
  /// One thread, no grid work running: search the side labels with ticks < horizon_ticks; offer cells labels
  /// with ticks < offer_limit_ticks (the bucket queue's window) and keep later ones pending.
  virtual void advance(std::uint64_t horizon_ticks, std::uint64_t offer_limit_ticks, CellSink& sink) = 0;
  /// Ticks of the lowest pending side label (node or cell offer); ~0 when none. Read by every thread, no change.
  virtual std::uint64_t next_ticks() const = 0;

 protected:
  void set_joined_bits(const std::uint64_t* joined_bits) { joined_bits_ = joined_bits; }

 private:
  const std::uint64_t* joined_bits_;
};

/// The nearest search over one window with the given arithmetic, on packed labels (window-sized, in and
/// out). Propagates from the sources (window cells, whole-search indices) and from the seed cells' labels.
/// side (optional): a network searched together with the cells (see SideNetwork); max_bucket_seconds caps
/// the bucket width (a side network whose transfers are short against the grid's typical bucket needs
/// narrower buckets to keep the joint order close to Dijkstra's; speed only, never exactness).
RasterSearchStats tile_search(const FrictionGrid& window, const TickScale& scale, const RasterSearchOptions& options,
                              const std::int64_t* sources_rc, const std::int32_t* source_index, std::size_t n_sources,
                              const std::int64_t* seed_cells, std::size_t n_seeds, std::uint64_t* labels,
                              RunControl* control, SideNetwork* side = nullptr,
                              double max_bucket_seconds = std::numeric_limits<double>::infinity());

}  // namespace careshed::detail
