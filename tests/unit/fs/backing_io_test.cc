// Tests of src/fs/backing_io: reading a copy's small files (key file, side files, manifests).
#include "src/fs/backing_io.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <cerrno>
#include <string>
#include <vector>

#include "src/util/unique_fd.h"
#include "tests/unit/fs/fs_test_util.h"

namespace encfsr::fs {
namespace {

class ReadSmallFile : public ::testing::Test {
 protected:
  void SetUp() override {
    fd_ = util::UniqueFd(::open(dir_.path().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    ASSERT_TRUE(fd_);
  }
  TempDir dir_;
  util::UniqueFd fd_;
};

// Found by the decrypt_view fuzz target: the buffer was limit + 1 bytes, zero-filled, so every
// manifest read (limit 256 MiB) took 256 MiB and ~1 s; a larger limit could not be allocated.
TEST_F(ReadSmallFile, TakesMemoryForTheFileNotForTheLimit) {
  write_file(dir_.path() / "f", "hello");
  auto read = read_small_file(fd_.get(), "f", std::size_t{1} << 62);
  ASSERT_TRUE(read.ok()) << read.error();
  EXPECT_EQ(*read, "hello");
}

TEST_F(ReadSmallFile, EnforcesTheLimitAndTheFileType) {
  const std::string data = random_bytes(10000, 3);
  write_file(dir_.path() / "f", data);
  write_file(dir_.path() / "empty", "");
  auto exact = read_small_file(fd_.get(), "f", data.size());
  ASSERT_TRUE(exact.ok());
  EXPECT_EQ(*exact, data);
  auto over = read_small_file(fd_.get(), "f", data.size() - 1);
  ASSERT_FALSE(over.ok());
  EXPECT_EQ(over.error(), EFBIG);
  auto empty = read_small_file(fd_.get(), "empty", 4096);
  ASSERT_TRUE(empty.ok());
  EXPECT_EQ(*empty, "");

  ASSERT_EQ(::mkfifo((dir_.path() / "fifo").c_str(), 0600), 0);
  auto fifo = read_small_file(fd_.get(), "fifo", 4096);
  ASSERT_FALSE(fifo.ok());
  EXPECT_EQ(fifo.error(), EINVAL);
  stdfs::create_symlink("f", dir_.path() / "link");
  auto link = read_small_file(fd_.get(), "link", 1 << 20);
  ASSERT_FALSE(link.ok());
  EXPECT_EQ(link.error(), EINVAL);
}

// preadv_full fills its slots in turn across short transfers, stops at the end of the file and
// says how much it read.
TEST_F(ReadSmallFile, PreadvFillsSlotsInTurnUpToTheEnd) {
  const std::string data = random_bytes(10000, 5);
  write_file(dir_.path() / "f", data);
  util::UniqueFd fd(::openat(fd_.get(), "f", O_RDONLY | O_CLOEXEC));
  ASSERT_TRUE(fd);
  std::vector<std::uint8_t> a(4096), b(3000), c(4096), d(100);
  std::vector<struct iovec> slots = {
      {a.data(), a.size()}, {b.data(), b.size()}, {c.data(), c.size()}, {d.data(), d.size()}};
  auto got = preadv_full(fd.get(), slots, 500);
  ASSERT_TRUE(got.ok()) << got.error();
  EXPECT_EQ(*got, 9500U);
  std::string joined(a.begin(), a.end());
  joined.append(b.begin(), b.end());
  joined.append(c.begin(), c.begin() + 2404);
  EXPECT_EQ(joined, data.substr(500));
  auto past = preadv_full(fd.get(), std::span(slots).first(1), 20000);
  ASSERT_TRUE(past.ok());
  EXPECT_EQ(*past, 0U);
}

// Both ways of reading an entry's xattrs (listxattrat/getxattrat where the kernel has them,
// else the l* calls through /proc/self/fd) give the same sorted list, never follow a symlink,
// and say ENOENT for a missing entry.
TEST_F(ReadSmallFile, XattrsReadTheSameWithAndWithoutTheAtCalls) {
  write_file(dir_.path() / "f", "x");
  const std::string big(3000, 'v');
  if (::setxattr((dir_.path() / "f").c_str(), "user.b", big.data(), big.size(), 0) != 0) {
    GTEST_SKIP() << "no user xattrs on the test directory's filesystem (errno " << errno << ")";
  }
  ASSERT_EQ(::setxattr((dir_.path() / "f").c_str(), "user.a", "1", 1, 0), 0);
  ASSERT_EQ(::symlink("f", (dir_.path() / "l").c_str()), 0);
  std::vector<std::vector<crypto::Xattr>> seen;
  for (const bool at : {true, false}) {
    use_xattrat_calls(at);
    auto got = read_xattrs(fd_.get(), "f");
    ASSERT_TRUE(got.ok()) << got.error();
    ASSERT_EQ(got->size(), 2U);
    EXPECT_EQ((*got)[0].name, "user.a");
    EXPECT_EQ((*got)[0].value, "1");
    EXPECT_EQ((*got)[1].name, "user.b");
    EXPECT_EQ((*got)[1].value, big);
    auto link = read_xattrs(fd_.get(), "l");
    ASSERT_TRUE(link.ok()) << link.error();
    EXPECT_TRUE(link->empty());
    auto missing = read_xattrs(fd_.get(), "missing");
    ASSERT_FALSE(missing.ok());
    EXPECT_EQ(missing.error(), ENOENT);
  }
  use_xattrat_calls(true);
}

}  // namespace
}  // namespace encfsr::fs
