#include "src/fs/mount_guard.h"

#include <fcntl.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <sstream>

namespace encfsr::fs {
namespace {

// mountinfo escapes space, tab, newline and backslash as \ooo.
std::string unescape(std::string_view field) {
  std::string out;
  for (std::size_t i = 0; i < field.size(); ++i) {
    if (field[i] == '\\' && i + 3 < field.size()) {
      const std::string_view digits = field.substr(i + 1, 3);
      if (digits.size() == 3 && digits.find_first_not_of("01234567") == std::string_view::npos) {
        out.push_back(static_cast<char>(std::strtol(std::string(digits).c_str(), nullptr, 8)));
        i += 3;
        continue;
      }
    }
    out.push_back(field[i]);
  }
  return out;
}

}  // namespace

std::vector<std::string> encfsr_mountpoints(std::string_view mountinfo) {
  std::vector<std::string> out;
  std::istringstream lines{std::string(mountinfo)};
  std::string line;
  while (std::getline(lines, line)) {
    // id parent major:minor root mountpoint options [optional...] - fstype source superopts
    std::istringstream fields(line);
    std::vector<std::string> f;
    std::string word;
    while (fields >> word) f.push_back(word);
    std::size_t dash = 0;
    while (dash < f.size() && f[dash] != "-") ++dash;
    if (f.size() < 5 || dash + 1 >= f.size()) continue;
    if (f[dash + 1] == "fuse.encfsr") out.push_back(unescape(f[4]));
  }
  return out;
}

MountGuard::MountGuard(const std::string& mountpoint) {
  if (!mountpoint.empty()) add(mountpoint);
  std::ifstream in("/proc/self/mountinfo");
  std::stringstream text;
  text << in.rdbuf();
  for (const std::string& other : encfsr_mountpoints(text.str())) add(other);
}

void MountGuard::add(const std::string& mountpoint) {
  const std::filesystem::path path(mountpoint);
  const std::string name = path.filename().string();
  std::error_code ec;
  const std::string parent = std::filesystem::canonical(path.parent_path(), ec).string();
  if (ec || name.empty()) return;
  struct stat st {};
  if (::stat(parent.c_str(), &st) != 0) return;
  for (const Guarded& g : guarded_) {
    if (g.dev == st.st_dev && g.ino == st.st_ino && g.name == name) return;
  }
  guarded_.push_back(Guarded{st.st_dev, st.st_ino, name});
}

bool MountGuard::hides(int dir_fd, std::string_view name) const noexcept {
  std::optional<struct stat> dir;
  for (const Guarded& g : guarded_) {
    if (g.name != name) continue;
    if (!dir) {
      struct stat st {};
      if (::fstat(dir_fd, &st) != 0) return false;
      dir = st;
    }
    if (g.dev == dir->st_dev && g.ino == dir->st_ino) return true;
  }
  return false;
}

}  // namespace encfsr::fs
