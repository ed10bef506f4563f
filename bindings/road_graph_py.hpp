// The Python-side RoadGraph object (careshed._core.RoadGraph), shared by the bindings that take one
// (network.cpp defines it; referral.cpp runs referral on it).
#pragma once

#include <memory>
#include <utility>

#include "careshed/road_graph.hpp"
#include "careshed/snap.hpp"

namespace careshed::bindings {

// A RoadGraph plus its snappers, built on first use (all nodes / largest component only) with the GIL held.
class PyRoadGraph {
 public:
  explicit PyRoadGraph(RoadGraph g) : g_(std::move(g)) {}
  const RoadGraph& graph() const { return g_; }
  const NodeSnapper& snapper(bool largest_only) {
    std::unique_ptr<NodeSnapper>& s = largest_only ? largest_ : all_;
    if (!s) s = std::make_unique<NodeSnapper>(g_, largest_only);
    return *s;
  }

 private:
  RoadGraph g_;
  std::unique_ptr<NodeSnapper> all_, largest_;
};

}  // namespace careshed::bindings
