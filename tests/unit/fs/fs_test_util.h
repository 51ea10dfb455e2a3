// tests/unit/fs/fs_test_util.h — small helpers of the model tests: a temporary directory,
// whole-file reads and writes, deterministic random bytes.
#pragma once

#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>
#include <string>

namespace encfsr::fs {

namespace stdfs = std::filesystem;

class TempDir {
 public:
  TempDir() {
    char tmpl[] = "/tmp/encfsr-fs-test.XXXXXX";
    path_ = ::mkdtemp(tmpl);
  }
  ~TempDir() { stdfs::remove_all(path_); }
  const stdfs::path& path() const { return path_; }

 private:
  stdfs::path path_;
};

inline void write_file(const stdfs::path& p, const std::string& data) {
  std::ofstream(p, std::ios::binary) << data;
}
inline std::string read_file(const stdfs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), {}};
}
inline std::string random_bytes(std::size_t n, unsigned seed) {
  std::mt19937 rng(seed);
  std::string s(n, '\0');
  for (auto& c : s) c = static_cast<char>(rng());
  return s;
}

}  // namespace encfsr::fs
