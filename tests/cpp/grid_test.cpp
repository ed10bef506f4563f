#include <gtest/gtest.h>

#include "careshed/grid.hpp"
#include "careshed/version.hpp"

TEST(Grid, CellCentresFollowGdalGeotransform) {
  careshed::GridSpec g;
  g.width = 4;
  g.height = 3;
  g.geotransform = {1000.0, 100.0, 0.0, 5000.0, 0.0, -50.0};
  EXPECT_EQ(g.size(), 12);
  EXPECT_DOUBLE_EQ(g.cell_width(), 100.0);
  EXPECT_DOUBLE_EQ(g.cell_height(), 50.0);
  EXPECT_TRUE(g.north_up());
  EXPECT_DOUBLE_EQ(g.col_center_x(0), 1050.0);
  EXPECT_DOUBLE_EQ(g.row_center_y(2), 5000.0 - 2.5 * 50.0);
}

TEST(Version, MatchesProjectVersion) { EXPECT_STREQ(careshed::version(), CARESHED_VERSION_STRING); }
