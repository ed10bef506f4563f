// careshed/careshed.hpp — umbrella header: includes the whole public C++ API.
#pragma once

#include "careshed/crs.hpp"
#include "careshed/density.hpp"
#include "careshed/error.hpp"
#include "careshed/friction.hpp"
#include "careshed/geometry.hpp"
#include "careshed/graph_search.hpp"
#include "careshed/grid.hpp"
#include "careshed/io.hpp"
#include "careshed/raster_io.hpp"
#include "careshed/road_graph.hpp"
#include "careshed/snap.hpp"
#include "careshed/speed_profile.hpp"
#include "careshed/straight_line.hpp"
#include "careshed/version.hpp"
