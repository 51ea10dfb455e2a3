// tests/integration/fuse_glue_test.cc — the FUSE glue (src/fuse) over a small in-test fake
// View, through a real mount: listing (readdir and readdirplus), attributes, reads of every
// size, symlinks, EROFS for every write-type call, xattrs, statfs, an entry that vanished
// between opendir and readdirplus, and an exception inside the model (EIO, daemon survives).
#include <dirent.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <map>
#include <mutex>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "src/fuse/operations.h"
#include "src/fuse/session.h"

namespace encfsr::fuse {
namespace {

constexpr fs::Ino kFile = 2, kDir = 3, kLink = 4, kGhost = 5, kBad = 7, kDenied = 8;
constexpr std::size_t kFileSize = 3 * 1024 * 1024 + 123;
constexpr int kDirEntries = 300;

std::uint8_t pattern(std::uint64_t offset) { return static_cast<std::uint8_t>(offset * 7 + 3); }

class FakeFile : public fs::OpenFile {
 public:
  util::Result<std::size_t> read(std::uint64_t offset, std::span<std::uint8_t> buf) override {
    if (offset >= kFileSize) return std::size_t{0};
    const std::size_t n = std::min<std::size_t>(buf.size(), kFileSize - offset);
    for (std::size_t i = 0; i < n; ++i) buf[i] = pattern(offset + i);
    return n;
  }
};

class FakeView : public fs::View {
 public:
  util::Result<fs::Entry> lookup(fs::Ino parent, std::string_view name) override {
    if (name == "throw") throw std::runtime_error("model bug");
    if (name == "denied") return util::Errno{EACCES};
    auto ino = find(parent, name);
    if (!ino) return util::Errno{ENOENT};
    ++lookups_;
    fs::Entry entry;
    entry.ino = ino;
    entry.attr = *getattr(ino);
    return entry;
  }
  void forget(fs::Ino, std::uint64_t count) noexcept override { forgets_ += count; }
  util::Result<struct stat> getattr(fs::Ino ino) override {
    struct stat st {};
    st.st_ino = ino;
    st.st_nlink = 1;
    st.st_mtime = 1700000000;
    if (ino == fs::kRootIno || ino == kDir) {
      st.st_mode = S_IFDIR | 0755;
      st.st_nlink = 2;
    } else if (ino == kFile) {
      st.st_mode = S_IFREG | 0644;
      st.st_size = static_cast<off_t>(kFileSize);
    } else if (ino == kLink) {
      st.st_mode = S_IFLNK | 0777;
      st.st_size = 6;
    } else if (ino == kBad) {
      st.st_mode = S_IFREG | 0644;
      st.st_size = 10;
    } else if (ino >= 1000 && ino < 1000 + kDirEntries) {
      st.st_mode = S_IFREG | 0600;
    } else {
      return util::Errno{ENOENT};
    }
    return st;
  }
  util::Result<std::string> readlink(fs::Ino ino) override {
    if (ino != kLink) return util::Errno{EINVAL};
    return std::string("target");
  }
  util::Result<std::vector<fs::DirEntry>> list(fs::Ino dir) override {
    std::vector<fs::DirEntry> out;
    if (dir == fs::kRootIno) {
      out.push_back({"hello.txt", kFile, S_IFREG, {}});
      out.push_back({"dir", kDir, S_IFDIR, {}});
      out.push_back({"denied", kDenied, S_IFDIR, {}});  // listed, but lookup says EACCES
      out.push_back({"link", kLink, S_IFLNK, {}});
      out.push_back({"ghost", kGhost, S_IFREG, {}});  // listed, but lookup says ENOENT
      out.push_back({"bad", kBad, S_IFREG, {}});
      return out;
    }
    if (dir == kDir) {
      for (int i = 0; i < kDirEntries; ++i) {
        out.push_back({long_name(i), static_cast<fs::Ino>(1000 + i), S_IFREG, {}});
      }
      return out;
    }
    return util::Errno{ENOTDIR};
  }
  util::Result<std::unique_ptr<fs::OpenFile>> open(fs::Ino ino) override {
    if (ino == kBad) return util::Errno{EIO};
    if (ino != kFile) return util::Errno{EISDIR};
    return std::unique_ptr<fs::OpenFile>(std::make_unique<FakeFile>());
  }
  double entry_timeout() const noexcept override { return 0.0; }
  double attr_timeout() const noexcept override { return 0.0; }

  static std::string long_name(int i) {
    return "entry-" + std::to_string(i) + "-" + std::string(200, 'x');
  }

  std::atomic<std::uint64_t> lookups_{0};
  std::atomic<std::uint64_t> forgets_{0};

 private:
  fs::Ino find(fs::Ino parent, std::string_view name) {
    if (parent == fs::kRootIno) {
      if (name == "hello.txt") return kFile;
      if (name == "dir") return kDir;
      if (name == "link") return kLink;
      if (name == "bad") return kBad;
      return 0;
    }
    if (parent == kDir) {
      for (int i = 0; i < kDirEntries; ++i) {
        if (name == long_name(i)) return static_cast<fs::Ino>(1000 + i);
      }
    }
    return 0;
  }
};

bool fuse_usable() { return ::access("/dev/fuse", R_OK | W_OK) == 0; }

class FuseGlueTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!fuse_usable()) {
      if (const char* ci = std::getenv("CI"); ci != nullptr && std::string(ci) == "true") {
        FAIL() << "/dev/fuse is not usable under CI";
      }
      GTEST_SKIP() << "/dev/fuse is not usable";
    }
    char tmpl[] = "/tmp/encfsr-glue.XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    mountpoint_ = tmpl;
    context_ = std::make_unique<FsContext>(view_);
    session_ = std::make_unique<Session>(*context_, mountpoint_, SessionOptions{});
    loop_ = std::thread([this] { loop_result_ = session_->run(); });
  }
  void TearDown() override {
    if (session_) {
      ::umount2(mountpoint_.c_str(), MNT_DETACH);
      if (loop_.joinable()) loop_.join();
      session_.reset();
    }
    if (!mountpoint_.empty()) ::rmdir(mountpoint_.c_str());
  }
  std::string path(const std::string& rel) const { return mountpoint_ + "/" + rel; }

  std::set<std::string> list(const std::string& rel) {
    std::set<std::string> names;
    DIR* dir = ::opendir(path(rel).c_str());
    EXPECT_NE(dir, nullptr) << std::strerror(errno);
    if (dir == nullptr) return names;
    errno = 0;
    while (dirent* entry = ::readdir(dir)) names.insert(entry->d_name);
    EXPECT_EQ(errno, 0);
    ::closedir(dir);
    return names;
  }

  FakeView view_;
  std::unique_ptr<FsContext> context_;
  std::unique_ptr<Session> session_;
  std::thread loop_;
  int loop_result_ = -1;
  std::string mountpoint_;
};

TEST_F(FuseGlueTest, MountOptionsAlwaysReadOnly) {
  SessionOptions options;
  options.mount_options = {"allow_other", "fsname=x"};
  const std::string text = mount_option_string(options);
  EXPECT_NE(text.find("ro,"), std::string::npos);
  EXPECT_NE(text.find("default_permissions"), std::string::npos);
  EXPECT_NE(text.find("nosuid"), std::string::npos);
  EXPECT_NE(text.find("nodev"), std::string::npos);
  EXPECT_NE(text.find("subtype=encfsr"), std::string::npos);
  EXPECT_NE(text.find("fsname=x"), std::string::npos);
  EXPECT_EQ(text.find("fsname=encfsr"), std::string::npos);
  EXPECT_NE(text.find("allow_other"), std::string::npos);
}

TEST_F(FuseGlueTest, RootListingSkipsVanishedEntries) {
  const auto names = list("");
  EXPECT_TRUE(names.count("."));
  EXPECT_TRUE(names.count(".."));
  EXPECT_TRUE(names.count("hello.txt"));
  EXPECT_TRUE(names.count("dir"));
  EXPECT_TRUE(names.count("link"));
  EXPECT_TRUE(names.count("bad"));
  struct stat st {};
  EXPECT_NE(::stat(path("ghost").c_str(), &st), 0);
  EXPECT_EQ(errno, ENOENT);
}

TEST_F(FuseGlueTest, EntryThatFailsItsLookupIsListedAndHidesNothingAfterIt) {
  const auto names = list("");
  EXPECT_TRUE(names.count("denied")) << "an entry the daemon cannot look up is still listed";
  EXPECT_TRUE(names.count("link"));
  EXPECT_TRUE(names.count("bad"));
  struct stat st {};
  EXPECT_NE(::stat(path("denied").c_str(), &st), 0);
  EXPECT_EQ(errno, EACCES) << "the tool gets the errno for that name alone";
}

TEST_F(FuseGlueTest, LargeDirectoryListsEveryEntryOnce) {
  // 300 names of ~210 bytes: several readdir(plus) batches.
  DIR* dir = ::opendir(path("dir").c_str());
  ASSERT_NE(dir, nullptr);
  std::vector<std::string> seen;
  while (dirent* entry = ::readdir(dir)) seen.emplace_back(entry->d_name);
  ::closedir(dir);
  std::set<std::string> unique(seen.begin(), seen.end());
  EXPECT_EQ(seen.size(), unique.size());
  EXPECT_EQ(unique.size(), static_cast<std::size_t>(kDirEntries + 2));
  for (int i = 0; i < kDirEntries; ++i) EXPECT_TRUE(unique.count(FakeView::long_name(i))) << i;
  // No entry may have been looked up more often than it was handed to the kernel: with a
  // zero timeout every stat below adds one lookup, so lookups <= listed entries + stats.
  const std::uint64_t before = view_.lookups_;
  EXPECT_LE(before, static_cast<std::uint64_t>(kDirEntries + 10));
}

TEST_F(FuseGlueTest, AttributesAndInodeNumbers) {
  struct stat st {};
  ASSERT_EQ(::stat(path("hello.txt").c_str(), &st), 0);
  EXPECT_EQ(st.st_ino, kFile);
  EXPECT_EQ(static_cast<std::size_t>(st.st_size), kFileSize);
  EXPECT_TRUE(S_ISREG(st.st_mode));
  EXPECT_EQ(st.st_mode & 07777, 0644u);
  EXPECT_EQ(st.st_mtime, 1700000000);
  ASSERT_EQ(::lstat(path("link").c_str(), &st), 0);
  EXPECT_TRUE(S_ISLNK(st.st_mode));
  char target[64] = {};
  ASSERT_EQ(::readlink(path("link").c_str(), target, sizeof target), 6);
  EXPECT_STREQ(target, "target");
}

TEST_F(FuseGlueTest, ReadsMatchAtEveryOffsetAndSize) {
  const int fd = ::open(path("hello.txt").c_str(), O_RDONLY);
  ASSERT_GE(fd, 0);
  std::vector<std::uint8_t> buf(2 * 1024 * 1024);
  for (std::size_t offset : {std::size_t{0}, std::size_t{1}, std::size_t{4095}, std::size_t{4097},
                             std::size_t{1 << 20}, kFileSize - 10, kFileSize}) {
    const ssize_t n = ::pread(fd, buf.data(), buf.size(), static_cast<off_t>(offset));
    ASSERT_GE(n, 0) << offset;
    EXPECT_EQ(static_cast<std::size_t>(n), std::min(buf.size(), kFileSize - offset)) << offset;
    for (ssize_t i = 0; i < n; ++i) {
      ASSERT_EQ(buf[static_cast<std::size_t>(i)], pattern(offset + static_cast<std::size_t>(i)))
          << offset << "+" << i;
    }
  }
  ::close(fd);
  // The whole file, sequentially, from several threads at once.
  std::vector<std::thread> readers;
  std::atomic<int> good{0};
  for (int t = 0; t < 4; ++t) {
    readers.emplace_back([&] {
      const int f = ::open(path("hello.txt").c_str(), O_RDONLY);
      if (f < 0) return;
      std::vector<std::uint8_t> chunk(65536);
      std::size_t total = 0;
      bool ok = true;
      for (;;) {
        const ssize_t n = ::read(f, chunk.data(), chunk.size());
        if (n <= 0) {
          ok = ok && n == 0;
          break;
        }
        for (ssize_t i = 0; i < n; ++i) {
          ok = ok &&
               chunk[static_cast<std::size_t>(i)] == pattern(total + static_cast<std::size_t>(i));
        }
        total += static_cast<std::size_t>(n);
      }
      ::close(f);
      if (ok && total == kFileSize) ++good;
    });
  }
  for (auto& r : readers) r.join();
  EXPECT_EQ(good.load(), 4);
}

TEST_F(FuseGlueTest, ModelErrorsBecomeErrnos) {
  EXPECT_LT(::open(path("bad").c_str(), O_RDONLY), 0);
  EXPECT_EQ(errno, EIO);
  struct stat st {};
  EXPECT_NE(::stat(path("throw").c_str(), &st), 0);
  EXPECT_EQ(errno, EIO);
  // The daemon survived the exception.
  EXPECT_EQ(::stat(path("hello.txt").c_str(), &st), 0);
}

TEST_F(FuseGlueTest, EveryWriteIsEROFS) {
  auto expect_erofs = [](int result, const char* what) {
    EXPECT_EQ(result, -1) << what;
    EXPECT_EQ(errno, EROFS) << what;
  };
  expect_erofs(::open(path("hello.txt").c_str(), O_WRONLY), "open O_WRONLY");
  expect_erofs(::open(path("hello.txt").c_str(), O_RDWR), "open O_RDWR");
  expect_erofs(::open(path("new").c_str(), O_WRONLY | O_CREAT, 0644), "create");
  expect_erofs(::mkdir(path("newdir").c_str(), 0755), "mkdir");
  expect_erofs(::unlink(path("hello.txt").c_str()), "unlink");
  expect_erofs(::rmdir(path("dir").c_str()), "rmdir");
  expect_erofs(::rename(path("hello.txt").c_str(), path("x").c_str()), "rename");
  expect_erofs(::chmod(path("hello.txt").c_str(), 0600), "chmod");
  expect_erofs(::truncate(path("hello.txt").c_str(), 0), "truncate");
  expect_erofs(::symlink("a", path("sym").c_str()), "symlink");
  expect_erofs(::link(path("hello.txt").c_str(), path("hard").c_str()), "link");
  expect_erofs(::setxattr(path("hello.txt").c_str(), "user.x", "1", 1, 0), "setxattr");
}

TEST_F(FuseGlueTest, XattrsAndStatfs) {
  // The fake view serves no xattrs: the glue answers ENOSYS, which the kernel reports as
  // EOPNOTSUPP, then and for every later call without asking again.
  char value[16];
  for (int round = 0; round < 2; ++round) {
    EXPECT_EQ(::getxattr(path("hello.txt").c_str(), "user.x", value, sizeof value), -1);
    EXPECT_EQ(errno, EOPNOTSUPP);
    EXPECT_EQ(::listxattr(path("hello.txt").c_str(), nullptr, 0), -1);
    EXPECT_EQ(errno, EOPNOTSUPP);
  }
  struct statvfs st {};
  ASSERT_EQ(::statvfs(mountpoint_.c_str(), &st), 0);
  EXPECT_EQ(st.f_namemax, 255u);
  EXPECT_NE(st.f_flag & ST_RDONLY, 0u);
}

}  // namespace
}  // namespace encfsr::fuse
