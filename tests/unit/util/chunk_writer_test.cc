// tests/unit/util/chunk_writer_test.cc — the chunk writer: every chunk lands in order even when
// the caller reuses its buffer at once, a failed write is reported by the next call or by
// finish(), and a writer serves file after file. Also run under ThreadSanitizer ("threads").
#include "src/util/chunk_writer.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include "src/util/unique_fd.h"

namespace encfsr::util {
namespace {

class ChunkWriterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char name[] = "/tmp/encfsr-chunk-writer.XXXXXX";
    fd_ = UniqueFd(::mkstemp(name));
    ASSERT_TRUE(fd_);
    path_ = name;
  }
  void TearDown() override { ::unlink(path_.c_str()); }
  std::string contents() const {
    std::string out;
    UniqueFd in(::open(path_.c_str(), O_RDONLY | O_CLOEXEC));
    char buf[65536];
    for (ssize_t n; (n = ::read(in.get(), buf, sizeof buf)) > 0;)
      out.append(buf, static_cast<std::size_t>(n));
    return out;
  }
  UniqueFd fd_;
  std::string path_;
};

TEST_F(ChunkWriterTest, ChunksLandInOrderWhileTheCallerReusesItsBuffer) {
  ChunkWriter writer;
  std::vector<std::uint8_t> buffer(100000);
  std::string expected;
  for (int chunk = 0; chunk < 50; ++chunk) {
    for (std::size_t i = 0; i < buffer.size(); ++i) {
      buffer[i] = static_cast<std::uint8_t>(chunk * 7 + i);
    }
    expected.append(buffer.begin(), buffer.end());
    ASSERT_EQ(writer.write(fd_.get(), buffer), 0);  // the buffer is overwritten right after
  }
  ASSERT_EQ(writer.finish(), 0);
  EXPECT_EQ(contents(), expected);
}

TEST_F(ChunkWriterTest, AFailedWriteIsReportedAndTheNextFileStartsClean) {
  ChunkWriter writer;
  const std::vector<std::uint8_t> data(4096, 0x5a);
  UniqueFd read_only(::open(path_.c_str(), O_RDONLY | O_CLOEXEC));
  ASSERT_EQ(writer.write(read_only.get(), data), 0);  // queued; fails on the writer's thread
  const int next = writer.write(read_only.get(), data);
  const int finished = writer.finish();
  EXPECT_EQ(next != 0 ? next : finished, EBADF);
  // finish() cleared the error: the writer serves the next file.
  ASSERT_EQ(writer.write(fd_.get(), data), 0);
  ASSERT_EQ(writer.finish(), 0);
  EXPECT_EQ(contents(), std::string(data.begin(), data.end()));
}

}  // namespace
}  // namespace encfsr::util
