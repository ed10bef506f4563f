// memory_test — careshed/memory.hpp: the estimate's behaviour (what grows with what), the available-memory
// readers on fabricated /proc and cgroup trees (v2 with a parent limit, v1, no limit), and the refusal.
// The estimate's accuracy against real runs (peak RSS within 25 %) is tested in
// tests/python/test_memory_estimate.py, which runs the searches in subprocesses.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <limits>
#include <string>

#include "careshed/error.hpp"
#include "careshed/memory.hpp"

namespace fs = std::filesystem;
using careshed::MemoryAnalysis;
using careshed::MemoryRequest;

namespace {

MemoryRequest request(MemoryAnalysis a, std::int64_t rows, std::int64_t cols, std::int64_t facilities = 10) {
  MemoryRequest r;
  r.analysis = a;
  r.rows = rows;
  r.cols = cols;
  r.facilities = facilities;
  r.threads = 2;
  r.count_inputs = false;
  return r;
}

std::uint64_t peak(const MemoryRequest& r) { return careshed::estimate_memory(r).peak_bytes; }

void write(const fs::path& p, const std::string& text) {
  fs::create_directories(p.parent_path());
  std::ofstream(p) << text;
}

struct TempDir {
  fs::path path;
  TempDir() {
    std::string tmpl = (fs::temp_directory_path() / "careshed_memory_XXXXXX").string();
    path = mkdtemp(tmpl.data());
  }
  ~TempDir() { fs::remove_all(path); }
};

const char* kMeminfo =
    "MemTotal:       24000000 kB\nMemFree:         1000000 kB\nMemAvailable:   12000000 kB\nBuffers: 0 kB\n";

}  // namespace

TEST(MemoryEstimate, TravelTimeHoldsAtLeastItsOutputAndGrowsWithTheGrid) {
  const auto e = careshed::estimate_memory(request(MemoryAnalysis::travel_time, 1000, 2000));
  // The output alone is one 8-byte CellLabel per cell (raster_search.hpp); the estimate cannot be below it.
  EXPECT_GE(e.peak_bytes, 8ull * 1000 * 2000);
  EXPECT_LE(e.peak_bytes, 16ull * 1000 * 2000);  // and the queues are a fraction of the labels
  EXPECT_GE(e.items.size(), 2u);
  std::uint64_t sum = 0;
  for (const auto& i : e.items) sum += i.bytes;
  EXPECT_NEAR(static_cast<double>(sum), static_cast<double>(e.peak_bytes), 8.0);  // the terms add up
  // Halving the cell size (twice the rows and columns) quadruples it.
  EXPECT_NEAR(static_cast<double>(peak(request(MemoryAnalysis::travel_time, 2000, 4000))),
              4.0 * static_cast<double>(e.peak_bytes), 16.0);
  // Inputs counted (before a run): + the float64 friction grid.
  MemoryRequest with = request(MemoryAnalysis::travel_time, 1000, 2000);
  with.count_inputs = true;
  EXPECT_EQ(peak(with), e.peak_bytes + 8ull * 1000 * 2000);
}

TEST(MemoryEstimate, CutoffKAndFacilitiesMoveTheEstimateTheRightWay) {
  MemoryRequest tt = request(MemoryAnalysis::travel_time, 3000, 3000, 5);
  const std::uint64_t unbounded = peak(tt);
  tt.max_seconds = 600;
  tt.typical_seconds_per_cell = 100;  // 6 cells of radius: a tiny reach
  EXPECT_LT(peak(tt), unbounded);
  EXPECT_GE(peak(tt), 8ull * 3000 * 3000);  // the output grid is allocated whatever the cut-off

  MemoryRequest kn = request(MemoryAnalysis::k_nearest, 1000, 1000);
  kn.k = 1;
  const std::uint64_t k1 = peak(kn);
  kn.k = 4;
  EXPECT_NEAR(static_cast<double>(peak(kn)), 4.0 * static_cast<double>(k1), 4.0);
  kn.k = 65;
  EXPECT_THROW(careshed::estimate_memory(kn), careshed::InputError);

  MemoryRequest rl = request(MemoryAnalysis::reach_lists, 2000, 2000, 100);
  rl.max_seconds = 1800;
  rl.typical_seconds_per_cell = 60;  // radius 30 cells
  const std::uint64_t r100 = peak(rl);
  rl.facilities = 1000;
  const std::uint64_t r1000 = peak(rl);
  EXPECT_GT(r1000, r100);
  // 900 more facilities reach 2700-2830 cells each (the 8-neighbour octagon of radius 30 has 2.83 r^2 cells,
  // the disc 3.14 r^2), 8 bytes per pair in the lists, and 8 more while copied into the CSR arrays once the
  // pairs outweigh the search scratch (here: 1000 x 2800 x 8 = 22 MB > 2 x 16 MB scratch).
  const double low = 900 * 2.83 * 30 * 30 * 8.0, high = 1000 * 3.14 * 30 * 30 * 16.0;
  EXPECT_GE(static_cast<double>(r1000 - r100), low);
  EXPECT_LE(static_cast<double>(r1000 - r100), high);
  // Unknown reach: every cell counted, flagged as an upper bound.
  rl.typical_seconds_per_cell = std::numeric_limits<double>::quiet_NaN();
  const auto ub = careshed::estimate_memory(rl);
  EXPECT_TRUE(ub.reach_is_upper_bound);
  EXPECT_GE(ub.peak_bytes, 1000ull * 2000 * 2000 * 16);
  // A known reach per facility is used as given.
  rl.reach_cells_per_facility = 100;
  EXPECT_FALSE(careshed::estimate_memory(rl).reach_is_upper_bound);
  EXPECT_LT(peak(rl), r100);
}

TEST(MemoryEstimate, EveryAnalysisHasANameAndAPositiveEstimate) {
  for (const char* name :
       {"friction", "travel_time", "k_nearest", "reach_lists", "coverage", "catchments", "access", "zonal"}) {
    SCOPED_TRACE(name);
    const MemoryAnalysis a = careshed::memory_analysis_from_string(name);
    EXPECT_STREQ(careshed::memory_analysis_name(a), name);
    MemoryRequest r = request(a, 500, 400, 20);
    r.max_seconds = 1800;
    r.typical_seconds_per_cell = 60;
    r.zones = 12;
    EXPECT_GE(peak(r), 4ull * 500 * 400) << "at least one grid-sized array";
  }
  try {
    careshed::memory_analysis_from_string("travel-time");
    FAIL() << "no error";
  } catch (const careshed::InputError& e) {
    EXPECT_NE(std::string(e.what()).find("travel_time"), std::string::npos) << e.what();
  }
  MemoryRequest bad = request(MemoryAnalysis::zonal, -1, 3);
  EXPECT_THROW(careshed::estimate_memory(bad), careshed::InputError);
}

TEST(MemoryEstimate, ThirtyBillionCellsIsPureArithmeticAndRefused) {
  // The request of issue 8 (3e10 cells): estimated without allocating, refused with what to change.
  MemoryRequest r = request(MemoryAnalysis::friction, 173205, 173205);
  const auto e = careshed::estimate_memory(r);
  EXPECT_GE(e.peak_bytes, 8ull * 173205 * 173205);  // the float64 friction grid alone: 240 GB
  careshed::AvailableMemory avail{24ull << 30, "MemAvailable in /proc/meminfo"};
  try {
    careshed::check_memory(e, 0, avail, "a friction surface of 173205 x 173205 cells");
    FAIL() << "not refused";
  } catch (const careshed::MemoryLimitError& err) {
    const std::string m = err.what();
    for (const char* part : {"173205 x 173205", "needs an estimated", "24.0 GB", "MemAvailable", "cell size",
                             "cut-off", "tiles", "Refused before allocating"})
      EXPECT_NE(m.find(part), std::string::npos) << part << " missing from: " << m;
  }
}

TEST(MemoryCheck, CallerLimitAndAvailableMemory) {
  careshed::MemoryEstimate e;
  e.peak_bytes = 300ull << 20;
  e.items.push_back({"labels", 300ull << 20});
  const careshed::AvailableMemory plenty{64ull << 30, "MemAvailable in /proc/meminfo"};
  EXPECT_NO_THROW(careshed::check_memory(e, 0, plenty, "x"));
  EXPECT_NO_THROW(careshed::check_memory(e, 301ull << 20, plenty, "x"));
  try {
    careshed::check_memory(e, 200ull << 20, plenty, "x");  // the caller's limit is below the estimate
    FAIL() << "not refused";
  } catch (const careshed::MemoryLimitError& err) {
    const std::string m = err.what();
    EXPECT_NE(m.find("300.0 MB"), std::string::npos) << m;
    EXPECT_NE(m.find("200.0 MB"), std::string::npos) << m;
    EXPECT_NE(m.find("limit you set"), std::string::npos) << m;
  }
  const careshed::AvailableMemory little{100ull << 20, "cgroup v2 memory.max - memory.current of /job"};
  try {
    careshed::check_memory(e, 200ull << 20, little, "x");  // the machine is tighter than the caller
    FAIL() << "not refused";
  } catch (const careshed::MemoryLimitError& err) {
    EXPECT_NE(std::string(err.what()).find("cgroup v2"), std::string::npos) << err.what();
  }
  // Unknown available memory and no caller limit: nothing to check against.
  EXPECT_NO_THROW(careshed::check_memory(e, 0, careshed::AvailableMemory{}, "x"));
  // A MemoryLimitError is a careshed::Error (one hierarchy).
  EXPECT_THROW(careshed::check_memory(e, 1, plenty, "x"), careshed::Error);
}

TEST(AvailableMemory, MeminfoAlone) {
  TempDir t;
  write(t.path / "proc/meminfo", kMeminfo);
  const auto a = careshed::available_memory_from((t.path / "proc").string(), (t.path / "cg").string());
  EXPECT_EQ(a.bytes, 12000000ull * 1024);
  EXPECT_NE(a.source.find("MemAvailable"), std::string::npos);
}

TEST(AvailableMemory, CgroupV2TakesTheTightestAncestor) {
  TempDir t;
  write(t.path / "proc/meminfo", kMeminfo);
  write(t.path / "proc/self/cgroup", "0::/batch/job7\n");
  // The job itself has no limit ("max"); its parent allows 4 GiB of which 1 GiB is used.
  write(t.path / "cg/batch/job7/memory.max", "max\n");
  write(t.path / "cg/batch/job7/memory.current", "104857600\n");
  write(t.path / "cg/batch/memory.max", std::to_string(4ull << 30) + "\n");
  write(t.path / "cg/batch/memory.current", std::to_string(1ull << 30) + "\n");
  const auto a = careshed::available_memory_from((t.path / "proc").string(), (t.path / "cg").string());
  EXPECT_EQ(a.bytes, 3ull << 30);
  EXPECT_NE(a.source.find("cgroup v2"), std::string::npos) << a.source;
  EXPECT_NE(a.source.find("/batch"), std::string::npos) << a.source;
  // With no limit anywhere the machine's MemAvailable decides.
  write(t.path / "cg/batch/memory.max", "max\n");
  const auto b = careshed::available_memory_from((t.path / "proc").string(), (t.path / "cg").string());
  EXPECT_EQ(b.bytes, 12000000ull * 1024);
}

TEST(AvailableMemory, CgroupV1MemoryController) {
  TempDir t;
  write(t.path / "proc/meminfo", kMeminfo);
  write(t.path / "proc/self/cgroup", "12:cpu,cpuacct:/docker/abc\n7:memory:/docker/abc\n");
  write(t.path / "cg/memory/docker/abc/memory.limit_in_bytes", std::to_string(2ull << 30) + "\n");
  write(t.path / "cg/memory/docker/abc/memory.usage_in_bytes", std::to_string(512ull << 20) + "\n");
  const auto a = careshed::available_memory_from((t.path / "proc").string(), (t.path / "cg").string());
  EXPECT_EQ(a.bytes, (2ull << 30) - (512ull << 20));
  EXPECT_NE(a.source.find("cgroup v1"), std::string::npos) << a.source;
  // v1 "unlimited" (2^63 rounded to a page) is no limit.
  write(t.path / "cg/memory/docker/abc/memory.limit_in_bytes", "9223372036854771712\n");
  const auto b = careshed::available_memory_from((t.path / "proc").string(), (t.path / "cg").string());
  EXPECT_EQ(b.bytes, 12000000ull * 1024);
}

TEST(AvailableMemory, ThisMachineReportsSomething) {
  const auto a = careshed::available_memory();
#if defined(__linux__)
  EXPECT_GT(a.bytes, 0u) << a.source;  // /proc/meminfo exists on every Linux
#endif
  EXPECT_FALSE(a.source.empty());
}

TEST(MemoryFormat, Bytes) {
  EXPECT_EQ(careshed::format_bytes(17), "17 B");
  EXPECT_EQ(careshed::format_bytes(1536), "1.5 KB");
  EXPECT_EQ(careshed::format_bytes(320ull << 20), "320.0 MB");
  EXPECT_EQ(careshed::format_bytes(3ull << 30), "3.0 GB");
}
