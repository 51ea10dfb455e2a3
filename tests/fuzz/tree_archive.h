// tests/fuzz/tree_archive.h — the small binary archive the decrypt_view target turns into a
// ciphertext copy on disk, and its writer (used by the seed generator).
//
// archive := flags:u8 entry*
// entry   := type:u8 path_length:u16le path content_length:u32le content
// type: 0 directory, 1 regular file (content = its bytes), 2 symlink (content = target),
// 3 FIFO (where the view must not block), other values: entry skipped. path is relative,
// '/'-separated; parents are created as directories. An entry whose path has an empty, ".",
// ".." or NUL-holding component, or that cannot be created, is skipped. A cut entry ends the
// archive.
#pragma once

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace encfsr::fuzz {

enum class ArchiveType : std::uint8_t { kDir = 0, kFile = 1, kSymlink = 2, kFifo = 3 };

struct ArchiveEntry {
  std::uint8_t type = 0;
  std::string path;
  std::string content;
};

inline void append_entry(std::string& out, const ArchiveEntry& e) {
  out.push_back(static_cast<char>(e.type));
  for (int i = 0; i < 2; ++i) out.push_back(static_cast<char>((e.path.size() >> (8 * i)) & 0xff));
  out += e.path;
  for (int i = 0; i < 4; ++i) {
    out.push_back(static_cast<char>((e.content.size() >> (8 * i)) & 0xff));
  }
  out += e.content;
}

// Splits an archive body (after the flags byte) into entries; stops at a cut entry.
inline std::vector<ArchiveEntry> read_entries(std::string_view in, std::size_t max_entries) {
  std::vector<ArchiveEntry> out;
  auto take = [&in](std::size_t n, std::uint64_t& v) {
    if (in.size() < n) return false;
    v = 0;
    for (std::size_t i = 0; i < n; ++i) {
      v |= std::uint64_t{static_cast<std::uint8_t>(in[i])} << (8 * i);
    }
    in.remove_prefix(n);
    return true;
  };
  while (!in.empty() && out.size() < max_entries) {
    ArchiveEntry e;
    e.type = static_cast<std::uint8_t>(in[0]);
    in.remove_prefix(1);
    std::uint64_t n = 0;
    if (!take(2, n) || in.size() < n) break;
    e.path.assign(in.substr(0, n));
    in.remove_prefix(n);
    if (!take(4, n) || in.size() < n) break;
    e.content.assign(in.substr(0, n));
    in.remove_prefix(n);
    out.push_back(std::move(e));
  }
  return out;
}

// Whether every component of a relative path can be created.
inline bool valid_relative_path(std::string_view path) {
  if (path.empty() || path.find('\0') != std::string_view::npos) return false;
  std::size_t start = 0;
  for (;;) {
    const std::size_t end = path.find('/', start);
    const std::string_view part =
        path.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start);
    if (part.empty() || part == "." || part == ".." || part.size() > 255) return false;
    if (end == std::string_view::npos) return true;
    start = end + 1;
  }
}

}  // namespace encfsr::fuzz
