// src/util/mountinfo.cc — parsing /proc/self/mountinfo (see proc(5)):
//   id parent major:minor root mountpoint options [optional fields...] - fstype source super
#include "src/util/mountinfo.h"

#include <charconv>
#include <fstream>
#include <sstream>

namespace encfsr::util {
namespace {

bool is_octal(char c) { return c >= '0' && c <= '7'; }

std::string unescape(std::string_view field) {
  std::string out;
  out.reserve(field.size());
  for (std::size_t i = 0; i < field.size(); ++i) {
    if (field[i] == '\\' && i + 3 < field.size() && is_octal(field[i + 1]) &&
        is_octal(field[i + 2]) && is_octal(field[i + 3])) {
      out += static_cast<char>((field[i + 1] - '0') * 64 + (field[i + 2] - '0') * 8 +
                               (field[i + 3] - '0'));
      i += 3;
    } else {
      out += field[i];
    }
  }
  return out;
}

bool parse_devno(std::string_view text, unsigned& major, unsigned& minor) {
  const auto colon = text.find(':');
  if (colon == std::string_view::npos) return false;
  const char* begin = text.data();
  const char* mid = begin + colon;
  const char* end = begin + text.size();
  const auto [p1, e1] = std::from_chars(begin, mid, major);
  const auto [p2, e2] = std::from_chars(mid + 1, end, minor);
  return e1 == std::errc() && p1 == mid && e2 == std::errc() && p2 == end && colon > 0;
}

}  // namespace

std::vector<MountEntry> parse_mountinfo(std::string_view text) {
  std::vector<MountEntry> entries;
  std::istringstream in{std::string(text)};
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream fields(line);
    std::string id, parent, devno, root, mountpoint;
    if (!(fields >> id >> parent >> devno >> root >> mountpoint)) continue;
    std::string word;
    bool separator = false;
    while (fields >> word) {
      if (word == "-") {
        separator = true;
        break;
      }
    }
    MountEntry entry;
    if (!separator || !(fields >> entry.fstype)) continue;
    if (!parse_devno(devno, entry.major, entry.minor)) continue;
    entry.mountpoint = unescape(mountpoint);
    entries.push_back(std::move(entry));
  }
  return entries;
}

std::vector<MountEntry> read_mountinfo() {
  std::ifstream in("/proc/self/mountinfo");
  if (!in) return {};
  std::ostringstream text;
  text << in.rdbuf();
  return parse_mountinfo(text.str());
}

bool is_fuse_fstype(std::string_view fstype) noexcept {
  return fstype == "fuse" || fstype == "fuseblk" || fstype.starts_with("fuse.") ||
         fstype.starts_with("fuseblk.");
}

std::optional<MountEntry> find_fuse_mount(const std::vector<MountEntry>& entries,
                                          std::string_view abs_path) {
  std::optional<MountEntry> found;
  for (const MountEntry& entry : entries) {
    if (is_fuse_fstype(entry.fstype) && entry.mountpoint == abs_path) found = entry;
  }
  return found;
}

}  // namespace encfsr::util
