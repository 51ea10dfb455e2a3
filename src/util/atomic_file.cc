#include "src/util/atomic_file.h"

#include <fcntl.h>
#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <string>

#include "src/util/unique_fd.h"
#include "src/util/write_all.h"

namespace encfsr::util {

int write_file_atomically(const std::filesystem::path& path, std::string_view contents, mode_t mode,
                          bool no_replace) {
  std::filesystem::path dir = path.parent_path();
  if (dir.empty()) dir = ".";
  char suffix[17];
  std::snprintf(suffix, sizeof suffix, "%08x%08x", randombytes_random(), randombytes_random());
  std::filesystem::path tmp = dir / ("." + path.filename().string() + ".tmp-" + suffix);

  UniqueFd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, mode));
  if (!fd) return errno;
  int err = 0;
  if (::fchmod(fd.get(), mode) != 0) err = errno;
  if (err == 0) err = write_all(fd.get(), contents);
  if (err == 0 && ::fsync(fd.get()) != 0) err = errno;
  if (err == 0 && ::close(fd.release()) != 0) err = errno;
  if (err == 0) {
    if (no_replace) {
      if (::link(tmp.c_str(), path.c_str()) != 0) err = errno;
      ::unlink(tmp.c_str());
    } else if (::rename(tmp.c_str(), path.c_str()) != 0) {
      err = errno;
    }
  }
  if (err != 0) {
    ::unlink(tmp.c_str());
    return err;
  }
  UniqueFd dfd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (dfd && ::fsync(dfd.get()) != 0) return errno;
  return 0;
}

}  // namespace encfsr::util
