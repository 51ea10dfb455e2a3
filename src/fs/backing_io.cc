#include "src/fs/backing_io.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <climits>
#include <cstring>

#include "crypto/name_cipher.h"
#include "src/util/log.h"
#include "src/util/open_file.h"
#include "src/util/unique_fd.h"

namespace encfsr::fs {

util::Result<std::size_t> pread_full(int fd, std::span<std::uint8_t> buf, std::uint64_t offset) {
  std::size_t done = 0;
  while (done < buf.size()) {
    const ssize_t n =
        ::pread(fd, buf.data() + done, buf.size() - done, static_cast<off_t>(offset + done));
    if (n < 0) {
      if (errno == EINTR) continue;
      return util::last_errno();
    }
    if (n == 0) break;
    done += static_cast<std::size_t>(n);
  }
  return done;
}

util::Result<std::size_t> preadv_full(int fd, std::span<struct iovec> slots, std::uint64_t offset) {
  std::size_t done = 0;
  while (!slots.empty()) {
    const ssize_t n = ::preadv(fd, slots.data(), static_cast<int>(slots.size()),
                               static_cast<off_t>(offset + done));
    if (n < 0) {
      if (errno == EINTR) continue;
      return util::last_errno();
    }
    if (n == 0) break;
    done += static_cast<std::size_t>(n);
    // Skip the slots filled; shorten the one cut.
    auto left = static_cast<std::size_t>(n);
    while (!slots.empty() && left >= slots.front().iov_len) {
      left -= slots.front().iov_len;
      slots = slots.subspan(1);
    }
    if (!slots.empty()) {
      slots.front().iov_base = static_cast<std::uint8_t*>(slots.front().iov_base) + left;
      slots.front().iov_len -= left;
    }
  }
  return done;
}

util::Result<std::vector<RawEntry>> read_dir(int dir_fd) {
  // fdopendir takes the fd over: give it its own.
  const int fd = ::openat(dir_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return util::last_errno();
  DIR* dir = ::fdopendir(fd);
  if (dir == nullptr) {
    const int err = errno;
    ::close(fd);
    return util::Errno{err};
  }
  std::unique_ptr<DIR, int (*)(DIR*)> guard(dir, ::closedir);
  std::vector<RawEntry> out;
  for (;;) {
    errno = 0;
    const dirent* ent = ::readdir(dir);
    if (ent == nullptr) {
      if (errno != 0) return util::last_errno();
      break;
    }
    const std::string_view name(ent->d_name);
    if (name == "." || name == "..") continue;
    out.push_back(RawEntry{std::string(name), ent->d_type});
  }
  return out;
}

mode_t entry_type(int dir_fd, const RawEntry& entry) {
  switch (entry.d_type) {
    case DT_DIR:
      return S_IFDIR;
    case DT_REG:
      return S_IFREG;
    case DT_LNK:
      return S_IFLNK;
    case DT_UNKNOWN:
      break;
    default:
      return 0;  // sockets, FIFOs, devices: not part of a view
  }
  struct stat st {};
  if (::fstatat(dir_fd, entry.name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
    // Gone: not listed. Any other failure (a directory that may be listed but not searched):
    // listed as a file, so that the tool's own lookup of it reports the errno.
    return errno == ENOENT ? 0 : S_IFREG;
  }
  const mode_t type = st.st_mode & S_IFMT;
  return (type == S_IFDIR || type == S_IFREG || type == S_IFLNK) ? type : 0;
}

util::Result<std::string> read_small_file(int dir_fd, const std::string& name, std::size_t limit) {
  auto text = util::read_regular_file(dir_fd, name.c_str(), O_NOFOLLOW, EINVAL, limit);
  if (!text) return util::Errno{text.error() == ELOOP ? EINVAL : text.error()};
  return text;
}

util::Result<std::string> read_side_file(int dir_fd, const std::string& long_form) {
  return read_small_file(dir_fd, long_form + std::string(crypto::kSideFileSuffix),
                         kMaxSideFileBytes);
}

CacheTag cache_tag(int dir_fd) {
  constexpr std::string_view kSignature = "Signature: 8a477f597d28d172789f06886806bc55";
  auto tag = read_small_file(dir_fd, "CACHEDIR.TAG", 4096);
  if (!tag) return tag.error() == ENOENT ? CacheTag::kNone : CacheTag::kOther;
  return tag->compare(0, kSignature.size(), kSignature) == 0 ? CacheTag::kCache : CacheTag::kOther;
}

bool is_cache_directory(int dir_fd) { return cache_tag(dir_fd) == CacheTag::kCache; }

util::Result<std::string> read_link(int dir_fd, const std::string& name) {
  std::string out(PATH_MAX, '\0');
  const ssize_t n = ::readlinkat(dir_fd, name.c_str(), out.data(), out.size());
  if (n < 0) return util::last_errno();
  if (static_cast<std::size_t>(n) >= out.size()) return util::Errno{ENAMETOOLONG};
  out.resize(static_cast<std::size_t>(n));
  return out;
}

std::span<std::uint8_t> scratch(Scratch which, std::size_t size) {
  thread_local std::vector<std::uint8_t> plain;
  thread_local std::vector<std::uint8_t> cipher;
  std::vector<std::uint8_t>& v = which == Scratch::kPlain ? plain : cipher;
  if (v.size() < size) v.resize(size);
  return {v.data(), size};
}

void sort_by_name(std::vector<DirEntry>& entries) {
  std::sort(entries.begin(), entries.end(),
            [](const DirEntry& a, const DirEntry& b) { return a.name < b.name; });
}

util::Result<std::span<const std::uint8_t>> OpenFile::read_shared(std::uint64_t offset,
                                                                  std::size_t size) {
  // Not one of scratch()'s buffers: read() may use those.
  thread_local std::vector<std::uint8_t> buffer;
  if (buffer.size() < size) buffer.resize(size);
  auto got = read(offset, std::span(buffer.data(), size));
  if (!got) return util::Errno{got.error()};
  return std::span<const std::uint8_t>(buffer.data(), *got);
}

util::Result<std::size_t> MemoryFile::read(std::uint64_t offset, std::span<std::uint8_t> buf) {
  if (offset >= contents_.size()) return std::size_t{0};
  const std::size_t n = std::min(buf.size(), contents_.size() - static_cast<std::size_t>(offset));
  std::memcpy(buf.data(), contents_.data() + offset, n);
  return n;
}

namespace {

// One call of listxattr/getxattr shape (size 0 asks for the size), retried while the value
// grows between the two calls. Fills `out` exactly.
template <typename Call>
int read_sized(std::string& out, Call&& call) {
  for (int attempt = 0; attempt < 8; ++attempt) {
    const ssize_t size = call(nullptr, 0);
    if (size < 0) return errno;
    out.resize(static_cast<std::size_t>(size));
    if (size == 0) return 0;
    const ssize_t got = call(out.data(), out.size());
    if (got >= 0) {
      out.resize(static_cast<std::size_t>(got));
      return 0;
    }
    if (errno != ERANGE) return errno;
  }
  return ERANGE;
}

// listxattrat / getxattrat (Linux 6.13): an entry's xattrs by directory fd and name, in one
// path step. Older kernels (and seccomp filters that refuse unknown calls) get the l* calls on
// /proc/self/fd/N/NAME, which cost a walk through procfs per call: about 5x the time.
#if defined(__x86_64__) || defined(__aarch64__) || (defined(__riscv) && __riscv_xlen == 64)
constexpr long kGetxattratCall = 464;
constexpr long kListxattratCall = 465;
#else
constexpr long kGetxattratCall = -1;
constexpr long kListxattratCall = -1;
#endif
std::atomic<bool> xattrat_works{kListxattratCall > 0};

struct XattrArgs {  // the kernel's struct xattr_args
  std::uint64_t value;
  std::uint32_t size;
  std::uint32_t flags;
};

// Whether a failure of an *xattrat call says that the call itself is unavailable.
bool xattrat_missing(ssize_t result) {
  if (result >= 0 || (errno != ENOSYS && errno != EPERM)) return false;
  xattrat_works.store(false, std::memory_order_relaxed);
  return true;
}

}  // namespace

void use_xattrat_calls(bool on) noexcept {
  xattrat_works.store(on && kListxattratCall > 0, std::memory_order_relaxed);
}

util::Result<std::vector<crypto::Xattr>> read_xattrs(int dir_fd, const std::string& name) {
  const bool self = name.empty();
  // The l* calls on /proc/self/fd/N/NAME: the directory by its fd, the entry not followed.
  // Built only when the *at calls are missing: a listing asks for every entry's xattrs.
  std::string proc_path;
  const auto path = [&]() -> const char* {
    if (proc_path.empty()) proc_path = "/proc/self/fd/" + std::to_string(dir_fd) + "/" + name;
    return proc_path.c_str();
  };
  const auto list = [&](char* buf, std::size_t size) -> ssize_t {
    if (self) return ::flistxattr(dir_fd, buf, size);
    if (xattrat_works.load(std::memory_order_relaxed)) {
      const auto got = static_cast<ssize_t>(
          ::syscall(kListxattratCall, dir_fd, name.c_str(), AT_SYMLINK_NOFOLLOW, buf, size));
      if (!xattrat_missing(got)) return got;
    }
    return ::llistxattr(path(), buf, size);
  };
  const auto get = [&](const std::string& attr, char* buf, std::size_t size) -> ssize_t {
    if (self) return ::fgetxattr(dir_fd, attr.c_str(), buf, size);
    if (xattrat_works.load(std::memory_order_relaxed)) {
      XattrArgs args{reinterpret_cast<std::uintptr_t>(buf), static_cast<std::uint32_t>(size), 0};
      const auto got =
          static_cast<ssize_t>(::syscall(kGetxattratCall, dir_fd, name.c_str(), AT_SYMLINK_NOFOLLOW,
                                         attr.c_str(), &args, sizeof args));
      if (!xattrat_missing(got)) return got;
    }
    return ::lgetxattr(path(), attr.c_str(), buf, size);
  };
  std::string names;
  int err = read_sized(names, list);
  if (err == ENOTSUP) return std::vector<crypto::Xattr>{};
  if (err != 0) return util::Errno{err};
  std::vector<crypto::Xattr> out;
  std::size_t total = 0;
  for (std::size_t pos = 0; pos < names.size();) {
    const std::size_t end = names.find('\0', pos);
    crypto::Xattr x;
    x.name = names.substr(pos, end == std::string::npos ? std::string::npos : end - pos);
    pos = end == std::string::npos ? names.size() : end + 1;
    if (x.name.empty() || x.name.size() > 255) continue;
    err = read_sized(x.value, [&](char* buf, std::size_t size) { return get(x.name, buf, size); });
    if (err == ENODATA) continue;  // removed since the listing
    if (err != 0) return util::Errno{err};
    total += x.name.size() + x.value.size();
    out.push_back(std::move(x));
  }
  if (total > crypto::kMaxXattrBytes) {
    util::log::warning("xattrs of " + util::log::name(name) +
                       " exceed 1 MiB in all; left out of the manifest");
    return std::vector<crypto::Xattr>{};
  }
  std::sort(out.begin(), out.end(),
            [](const crypto::Xattr& a, const crypto::Xattr& b) { return a.name < b.name; });
  return out;
}

struct stat virtual_attr(mode_t type_and_mode, std::uint64_t size) {
  struct stat st {};
  st.st_mode = type_and_mode;
  st.st_nlink = 1;
  st.st_uid = ::geteuid();
  st.st_gid = ::getegid();
  st.st_size = static_cast<off_t>(size);
  st.st_blksize = 4096;
  st.st_blocks = static_cast<blkcnt_t>((size + 511) / 512);
  st.st_mtim.tv_sec = kVirtualMtime;
  st.st_ctim.tv_sec = kVirtualMtime;
  st.st_atim.tv_sec = kVirtualMtime;
  return st;
}

}  // namespace encfsr::fs
