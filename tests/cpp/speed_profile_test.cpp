// Speed profiles and OSM maxspeed parsing. Expected values are worked by hand from the OSM wiki's
// unit definitions (1 mph = 1.609344 km/h exactly, 1 knot = 1.852 km/h exactly).
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <fstream>
#include <string>

#include "careshed/error.hpp"
#include "careshed/speed_profile.hpp"

using careshed::parse_maxspeed;
using careshed::SpeedProfile;

TEST(ParseMaxspeed, PlainNumbersAndKmhUnits) {
  EXPECT_DOUBLE_EQ(*parse_maxspeed("50"), 50.0);
  EXPECT_DOUBLE_EQ(*parse_maxspeed(" 50 km/h "), 50.0);
  EXPECT_DOUBLE_EQ(*parse_maxspeed("50kmh"), 50.0);
  EXPECT_DOUBLE_EQ(*parse_maxspeed("50 kph"), 50.0);
  EXPECT_DOUBLE_EQ(*parse_maxspeed("7.5"), 7.5);
}

TEST(ParseMaxspeed, MilesAndKnots) {
  // 30 mph x 1.609344 km/h per mph = 48.28032 km/h; 10 knots x 1.852 = 18.52 km/h (hand arithmetic).
  EXPECT_DOUBLE_EQ(*parse_maxspeed("30 mph"), 48.28032);
  EXPECT_DOUBLE_EQ(*parse_maxspeed("30mph"), 48.28032);
  EXPECT_DOUBLE_EQ(*parse_maxspeed("30 MPH"), 48.28032);
  EXPECT_DOUBLE_EQ(*parse_maxspeed("10 knots"), 18.52);
}

TEST(ParseMaxspeed, SeveralValuesTakeTheLowest) {
  EXPECT_DOUBLE_EQ(*parse_maxspeed("50;30"), 30.0);
  EXPECT_DOUBLE_EQ(*parse_maxspeed("30;50"), 30.0);
  EXPECT_DOUBLE_EQ(*parse_maxspeed("none;40"), 40.0);
  EXPECT_DOUBLE_EQ(*parse_maxspeed("60 | 20 mph"), 32.18688);  // 20 x 1.609344 = 32.18688 km/h < 60 km/h
}

TEST(ParseMaxspeed, CountryCodesAndZones) {
  EXPECT_DOUBLE_EQ(*parse_maxspeed("RU:urban"), 60.0);
  EXPECT_DOUBLE_EQ(*parse_maxspeed("DE:rural"), 100.0);
  EXPECT_DOUBLE_EQ(*parse_maxspeed("GB:nsl_single"), 60 * 1.609344);
  EXPECT_DOUBLE_EQ(*parse_maxspeed("DE:zone30"), 30.0);
  EXPECT_DOUBLE_EQ(*parse_maxspeed("DE:zone:20"), 20.0);
  EXPECT_FALSE(parse_maxspeed("DE:motorway").has_value());  // no general limit → class speed
  EXPECT_FALSE(parse_maxspeed("XX:living_street").has_value());
}

TEST(ParseMaxspeed, NonNumericGiveNothing) {
  for (const char* s : {"", "  ", "none", "signals", "variable", "walk", "0", "-5", "fast", "50 furlongs", "nan"}) {
    EXPECT_FALSE(parse_maxspeed(s).has_value()) << "'" << s << "'";
  }
}

TEST(SpeedProfile, ShippedProfilesExcludeWhatTheyShould) {
  auto car = SpeedProfile::car();
  EXPECT_EQ(car.name(), "car");
  EXPECT_TRUE(car.speed_kmh("primary").has_value());
  EXPECT_FALSE(car.speed_kmh("footway").has_value());
  EXPECT_TRUE(car.use_maxspeed());
  EXPECT_TRUE(car.respect_oneway());
  auto amb = SpeedProfile::ambulance();
  for (const auto& [cls, kmh] : car.speeds_kmh()) {
    ASSERT_TRUE(amb.speed_kmh(cls).has_value()) << cls;
    EXPECT_GE(*amb.speed_kmh(cls), kmh) << cls;  // an ambulance is never slower than a car
  }
  auto walk = SpeedProfile::walking();
  EXPECT_FALSE(walk.speed_kmh("motorway").has_value());
  EXPECT_DOUBLE_EQ(*walk.speed_kmh("footway"), 5.0);
  EXPECT_FALSE(walk.use_maxspeed());
  EXPECT_FALSE(walk.respect_oneway());
  EXPECT_EQ(SpeedProfile::by_name("walking").name(), "walking");
  EXPECT_THROW(SpeedProfile::by_name("bicycle"), careshed::InputError);
}

TEST(SpeedProfile, EditingValidates) {
  auto p = SpeedProfile::car();
  p.set_speed_kmh("footway", 4.0);
  EXPECT_DOUBLE_EQ(*p.speed_kmh("footway"), 4.0);
  EXPECT_TRUE(p.remove("footway"));
  EXPECT_FALSE(p.remove("footway"));
  EXPECT_THROW(p.set_speed_kmh("primary", 0.0), careshed::InputError);
  EXPECT_THROW(p.set_speed_kmh("primary", -3.0), careshed::InputError);
  EXPECT_THROW(p.set_speed_kmh("primary", std::nan("")), careshed::InputError);
  EXPECT_DOUBLE_EQ(p.max_speed_kmh(), 110.0);
}

TEST(SpeedProfile, CsvRoundTripAndErrors) {
  const std::string dir = ::testing::TempDir();
  const std::string path = dir + "careshed_profile_roundtrip.csv";
  auto p = SpeedProfile::ambulance();
  p.set_speed_kmh("Odd Class", 12.25);
  p.to_csv(path);
  auto q = SpeedProfile::from_csv(path, "amb2", true, false);
  EXPECT_EQ(q.name(), "amb2");
  EXPECT_FALSE(q.respect_oneway());
  EXPECT_EQ(q.speeds_kmh(), p.speeds_kmh());

  auto write = [&](const std::string& name, const std::string& text) {
    std::ofstream(dir + name) << text;
    return dir + name;
  };
  auto ok = SpeedProfile::from_csv(write("ok.csv", "# comment\nclass,speed_kmh\r\nprimary, 70\n\nresidential,30\n"));
  EXPECT_EQ(ok.speeds_kmh().size(), 2u);
  EXPECT_DOUBLE_EQ(*ok.speed_kmh("primary"), 70.0);
  EXPECT_THROW(SpeedProfile::from_csv(write("nohdr.csv", "primary,70\n")), careshed::InputError);
  EXPECT_THROW(SpeedProfile::from_csv(write("bad.csv", "class,speed_kmh\nprimary,fast\n")), careshed::InputError);
  EXPECT_THROW(SpeedProfile::from_csv(write("neg.csv", "class,speed_kmh\nprimary,-1\n")), careshed::InputError);
  EXPECT_THROW(SpeedProfile::from_csv(write("dup.csv", "class,speed_kmh\na,1\na,2\n")), careshed::InputError);
  try {
    SpeedProfile::from_csv(write("line.csv", "class,speed_kmh\nprimary,70\nsecondary\n"));
    FAIL();
  } catch (const careshed::InputError& e) {
    EXPECT_NE(std::string(e.what()).find("line 3"), std::string::npos) << e.what();
  }
  EXPECT_THROW(SpeedProfile::from_csv(dir + "does_not_exist.csv"), careshed::DataIOError);
}
