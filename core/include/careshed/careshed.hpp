// careshed/careshed.hpp — umbrella header: includes the whole public C++ API.
#pragma once

#include "careshed/error.hpp"
#include "careshed/grid.hpp"
#include "careshed/speed_profile.hpp"
#include "careshed/version.hpp"
