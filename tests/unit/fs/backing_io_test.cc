// Tests of src/fs/backing_io: reading a copy's small files (key file, side files, manifests).
#include "src/fs/backing_io.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <string>

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

}  // namespace
}  // namespace encfsr::fs
