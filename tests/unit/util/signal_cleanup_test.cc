// tests/unit/util/signal_cleanup_test.cc — util::SignalCleanup / TempRegistration (a signal
// removes the registered temporary files and exits 128 + N; unregistered files stay) and
// util::open_dir_beneath (no symlink followed in any component).
#include "src/util/signal_cleanup.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "src/util/beneath.h"
#include "src/util/unique_fd.h"

namespace encfsr::util {
namespace {

namespace stdfs = std::filesystem;

class TempDir {
 public:
  TempDir() {
    char tmpl[] = "/tmp/encfsr-util-test-XXXXXX";
    path_ = ::mkdtemp(tmpl);
  }
  ~TempDir() {
    std::error_code ec;
    stdfs::remove_all(path_, ec);
  }
  const stdfs::path& path() const { return path_; }

 private:
  stdfs::path path_;
};

// In a child: installs SignalCleanup, creates "kept" (registered, then unregistered) and
// "temp" (registered), raises `sig`. Returns the child's wait status.
int signalled_child(const stdfs::path& dir, int sig) {
  const pid_t pid = ::fork();
  if (pid == 0) {
    const SignalCleanup cleanup;
    const int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    {
      const TempRegistration kept(dfd, "kept");
      ::close(::openat(dfd, "kept", O_WRONLY | O_CREAT | O_EXCL, 0600));
    }
    const TempRegistration temp(dfd, "temp");
    if (!temp.registered()) ::_exit(99);
    ::close(::openat(dfd, "temp", O_WRONLY | O_CREAT | O_EXCL, 0600));
    ::raise(sig);
    ::_exit(98);  // not reached: the handler exits
  }
  int status = 0;
  EXPECT_EQ(::waitpid(pid, &status, 0), pid);
  return status;
}

TEST(SignalCleanupTest, SigtermRemovesRegisteredFilesAndExits143) {
  TempDir dir;
  const int status = signalled_child(dir.path(), SIGTERM);
  ASSERT_TRUE(WIFEXITED(status)) << status;
  EXPECT_EQ(WEXITSTATUS(status), 128 + SIGTERM);
  EXPECT_FALSE(stdfs::exists(dir.path() / "temp"));
  EXPECT_TRUE(stdfs::exists(dir.path() / "kept"));  // its registration had ended
}

TEST(SignalCleanupTest, SigintRemovesRegisteredFilesAndExits130) {
  TempDir dir;
  const int status = signalled_child(dir.path(), SIGINT);
  ASSERT_TRUE(WIFEXITED(status)) << status;
  EXPECT_EQ(WEXITSTATUS(status), 128 + SIGINT);
  EXPECT_FALSE(stdfs::exists(dir.path() / "temp"));
}

TEST(SignalCleanupTest, PreviousHandlersComeBackAfterwards) {
  struct sigaction before {};
  ASSERT_EQ(::sigaction(SIGTERM, nullptr, &before), 0);
  {
    const SignalCleanup cleanup;
    struct sigaction during {};
    ASSERT_EQ(::sigaction(SIGTERM, nullptr, &during), 0);
    EXPECT_NE(during.sa_handler, before.sa_handler);
  }
  struct sigaction after {};
  ASSERT_EQ(::sigaction(SIGTERM, nullptr, &after), 0);
  EXPECT_EQ(after.sa_handler, before.sa_handler);
}

TEST(BeneathTest, OpensEachComponentWithoutFollowingSymlinks) {
  TempDir dir;
  stdfs::create_directories(dir.path() / "root/a/b");
  stdfs::create_directories(dir.path() / "outside/b");
  stdfs::create_directory_symlink(dir.path() / "outside", dir.path() / "root/l");
  UniqueFd root(::open((dir.path() / "root").c_str(), O_RDONLY | O_DIRECTORY));
  ASSERT_TRUE(root);

  auto ok = open_dir_beneath(root.get(), "a/b");
  ASSERT_TRUE(ok) << ok.error();
  struct stat got {};
  struct stat want {};
  ASSERT_EQ(::fstat(ok->get(), &got), 0);
  ASSERT_EQ(::stat((dir.path() / "root/a/b").c_str(), &want), 0);
  EXPECT_EQ(got.st_ino, want.st_ino);

  auto middle = open_dir_beneath(root.get(), "l/b");  // the symlink is not the last component
  ASSERT_FALSE(middle);
  EXPECT_TRUE(middle.error() == ENOTDIR || middle.error() == ELOOP) << middle.error();
  EXPECT_FALSE(open_dir_beneath(root.get(), "l"));
  EXPECT_EQ(open_dir_beneath(root.get(), "a/../a").error(), EINVAL);
  EXPECT_TRUE(open_dir_beneath(root.get(), ""));
  EXPECT_EQ(parent_path_of("a/b/c"), "a/b");
  EXPECT_EQ(parent_path_of("c"), "");
}

}  // namespace
}  // namespace encfsr::util
