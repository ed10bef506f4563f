// vector_test_util.hpp — helpers for the io / crs / geometry / density tests: scratch directories, text
// files, WKB from WKT (through OGR, independently of the code under test), seeds.
#pragma once

#include <gtest/gtest.h>
#include <ogr_geometry.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "careshed/crs.hpp"
#include "careshed/error.hpp"

namespace careshed::testing {

namespace fs = std::filesystem;

/// A fresh directory under the system temp dir, removed at the end of the test.
class ScratchDir {
 public:
  ScratchDir() {
    std::random_device rd;
    for (;;) {
      dir_ = fs::temp_directory_path() / ("careshed-test-" + std::to_string(rd()));
      if (fs::create_directory(dir_)) break;
    }
  }
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;
  ~ScratchDir() {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  std::string path(const std::string& name) const { return (dir_ / name).string(); }
  const fs::path& dir() const { return dir_; }
  /// Names of the entries in the directory (hidden ones too), sorted.
  std::vector<std::string> entries() const {
    std::vector<std::string> out;
    for (const auto& e : fs::directory_iterator(dir_)) out.push_back(e.path().filename().string());
    std::sort(out.begin(), out.end());
    return out;
  }

 private:
  fs::path dir_;
};

inline void write_text(const std::string& path, const std::string& text) {
  std::ofstream f(path, std::ios::binary);
  f << text;
}

inline std::string read_text(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
}

/// ISO WKB of a WKT geometry, made by OGR.
inline Wkb wkb_from_wkt(const std::string& wkt) {
  OGRGeometry* g = nullptr;
  if (OGRGeometryFactory::createFromWkt(wkt.c_str(), nullptr, &g) != OGRERR_NONE || g == nullptr) {
    ADD_FAILURE() << "bad WKT in test: " << wkt;
    return {};
  }
  Wkb out(g->WkbSize());
  g->exportToWkb(wkbNDR, out.data(), wkbVariantIso);
  OGRGeometryFactory::destroyGeometry(g);
  return out;
}

/// WKT of a WKB geometry (OGR), for comparing geometries read back.
inline std::string wkt_from_wkb(const Wkb& w) {
  OGRGeometry* g = nullptr;
  if (OGRGeometryFactory::createFromWkb(w.data(), nullptr, &g, w.size()) != OGRERR_NONE || g == nullptr) return "";
  char* txt = nullptr;
  g->exportToWkt(&txt);
  std::string s = txt ? txt : "";
  CPLFree(txt);
  OGRGeometryFactory::destroyGeometry(g);
  return s;
}

/// A random seed, or CARESHED_TEST_SEED from the environment to replay a failure; always printed.
inline unsigned test_seed() {
  unsigned seed;
  if (const char* s = std::getenv("CARESHED_TEST_SEED")) {
    seed = static_cast<unsigned>(std::strtoul(s, nullptr, 10));
  } else {
    seed = std::random_device{}();
  }
  std::cout << "[ seed ] CARESHED_TEST_SEED=" << seed << std::endl;
  return seed;
}

/// Expects `stmt` to throw `Ex` whose message contains every one of `parts`.
#define EXPECT_THROW_MSG(stmt, Ex, ...)                                                        \
  do {                                                                                         \
    bool caught_ = false;                                                                      \
    try {                                                                                      \
      stmt;                                                                                    \
    } catch (const Ex& e_) {                                                                   \
      caught_ = true;                                                                          \
      const std::string msg_ = e_.what();                                                      \
      for (const std::string& part_ : std::vector<std::string>{__VA_ARGS__}) {                 \
        EXPECT_NE(msg_.find(part_), std::string::npos) << "message lacks '" << part_ << "': " << msg_; \
      }                                                                                        \
    } catch (const std::exception& other_) {                                                   \
      ADD_FAILURE() << "expected " #Ex ", got another exception: " << other_.what();           \
      caught_ = true;                                                                          \
    }                                                                                          \
    EXPECT_TRUE(caught_) << "expected " #Ex " from " #stmt;                                    \
  } while (0)

}  // namespace careshed::testing
