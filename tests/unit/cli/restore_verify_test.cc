// tests/unit/cli/restore_verify_test.cc — `restore` and `verify` cores against an in-memory fake
// view: tree walk with bounded lookups, restore of modes/times/symlinks, no-overwrite, damaged
// blocks (left out, or salvaged with zeros), every bad block listed by verify, the damage report
// merging, and the JSON output.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "src/cli/report.h"
#include "src/cli/restore.h"
#include "src/cli/tree_walk.h"
#include "src/cli/verify.h"
#include "src/fs/view.h"

namespace encfsr::cli {
namespace {

namespace stdfs = std::filesystem;

// ---------------------------------------------------------------------------------------------
// A fake view: a fixed tree in memory; bad blocks answer EIO; lookups are counted.

struct FakeNode {
  std::string name;
  mode_t mode = 0;   // with type
  std::string data;  // content or link target
  std::vector<int> children;
  int parent = -1;
  std::set<std::uint64_t> bad_blocks;
  bool bad_link = false;
  std::vector<std::string> hidden_bad_names;  // reported (kName) when the directory is listed
  std::time_t mtime = 1'600'000'000;
  std::uint64_t link_group = 0;  // non-zero: a hard link of every node with the same group
};

class FakeView : public fs::View {
 public:
  FakeView() { nodes_.push_back({"", S_IFDIR | 0755, "", {}, -1, {}, false, {}, 1'500'000'000}); }

  int add(int parent, const std::string& name, mode_t mode, std::string data = "",
          std::time_t mtime = 1'600'000'000) {
    FakeNode node;
    node.name = name;
    node.mode = mode;
    node.data = std::move(data);
    node.parent = parent;
    node.mtime = mtime;
    nodes_.push_back(node);
    const int id = static_cast<int>(nodes_.size() - 1);
    nodes_[parent].children.push_back(id);
    return id;
  }
  FakeNode& node(int id) { return nodes_[id]; }
  fs::DamageSink sink;
  // Called with the view path of a file before its first read: tests change DEST meanwhile.
  std::function<void(const std::string&)> on_read;

  std::string path_of(int id) const {
    if (id == 0) return "";
    const std::string parent = path_of(nodes_[id].parent);
    return parent.empty() ? nodes_[id].name : parent + "/" + nodes_[id].name;
  }

  util::Result<fs::Entry> lookup(fs::Ino parent, std::string_view name) override {
    for (int child : nodes_[index(parent)].children) {
      if (nodes_[child].name == name) {
        ++lookups_[ino_of(child)];
        ++outstanding_;
        max_outstanding_ = std::max(max_outstanding_, outstanding_);
        return fs::Entry{ino_of(child), 0, attr(child)};
      }
    }
    return util::Errno{ENOENT};
  }
  void forget(fs::Ino ino, std::uint64_t count) noexcept override {
    lookups_[ino] -= static_cast<long>(count);
    outstanding_ -= static_cast<long>(count);
  }
  util::Result<struct stat> getattr(fs::Ino ino) override { return attr(index(ino)); }
  util::Result<std::string> readlink(fs::Ino ino) override {
    const FakeNode& n = nodes_[index(ino)];
    if (n.bad_link) {
      report({fs::DamageKind::kLink, "cipher/" + n.name, path_of(index(ino)), 0});
      return util::Errno{EIO};
    }
    return n.data;
  }
  util::Result<std::vector<fs::DirEntry>> list(fs::Ino dir) override {
    const FakeNode& n = nodes_[index(dir)];
    for (const std::string& bad : n.hidden_bad_names) {
      report({fs::DamageKind::kName, path_of(index(dir)) + "/" + bad, "", 0});
    }
    std::vector<fs::DirEntry> out;
    for (int child : n.children) {
      out.push_back({nodes_[child].name, ino_of(child), nodes_[child].mode & S_IFMT, {}});
    }
    return out;
  }
  util::Result<std::unique_ptr<fs::OpenFile>> open(fs::Ino ino) override {
    return std::unique_ptr<fs::OpenFile>(new File(*this, index(ino)));
  }
  util::Result<fs::ExtraAttrs> extra_attrs(fs::Ino ino) override {
    fs::ExtraAttrs extra;
    extra.link_group = nodes_[index(ino)].link_group;
    return extra;
  }
  double entry_timeout() const noexcept override { return 1; }
  double attr_timeout() const noexcept override { return 1; }

  long outstanding() const { return outstanding_; }
  long max_outstanding() const { return max_outstanding_; }

 private:
  class File : public fs::OpenFile {
   public:
    File(FakeView& view, int id) : view_(view), id_(id) {}
    util::Result<std::size_t> read(std::uint64_t offset, std::span<std::uint8_t> buf) override {
      if (offset == 0 && view_.on_read) view_.on_read(view_.path_of(id_));
      const FakeNode& n = view_.nodes_[id_];
      if (offset >= n.data.size()) return std::size_t{0};
      const std::size_t len = std::min<std::size_t>(buf.size(), n.data.size() - offset);
      for (std::uint64_t b = offset / 4096; b <= (offset + len - 1) / 4096; ++b) {
        if (n.bad_blocks.count(b) != 0) {
          view_.report({fs::DamageKind::kBlock, "cipher/" + n.name, view_.path_of(id_), b});
          return util::Errno{EIO};
        }
      }
      std::memcpy(buf.data(), n.data.data() + offset, len);
      return len;
    }

   private:
    FakeView& view_;
    int id_;
  };

  void report(const fs::Damage& damage) {
    if (sink) sink(damage);
  }
  static fs::Ino ino_of(int id) { return static_cast<fs::Ino>(id) + 1; }
  static int index(fs::Ino ino) { return static_cast<int>(ino - 1); }
  struct stat attr(int id) const {
    struct stat st {};
    st.st_mode = nodes_[id].mode;
    st.st_size = static_cast<off_t>(nodes_[id].data.size());
    st.st_nlink = 1;
    st.st_uid = 1234;
    st.st_gid = 2345;
    st.st_mtim.tv_sec = nodes_[id].mtime;
    st.st_mtim.tv_nsec = 123456789;
    st.st_atim.tv_sec = nodes_[id].mtime - 10;
    return st;
  }

  std::vector<FakeNode> nodes_;
  std::map<fs::Ino, long> lookups_;
  long outstanding_ = 0;
  long max_outstanding_ = 0;
};

std::string pattern(std::size_t size, char seed) {
  std::string s(size, '\0');
  for (std::size_t i = 0; i < size; ++i)
    s[i] = static_cast<char>(seed + static_cast<char>(i % 251));
  return s;
}

std::string slurp(const stdfs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

class TempDir {
 public:
  TempDir() {
    char tmpl[] = "/tmp/encfsr-restore-test-XXXXXX";
    path_ = ::mkdtemp(tmpl);
  }
  ~TempDir() {
    // Make read-only directories removable again.
    std::error_code ec;
    for (auto it = stdfs::recursive_directory_iterator(path_, ec);
         it != stdfs::recursive_directory_iterator(); it.increment(ec)) {
      if (it->is_directory(ec) && !it->is_symlink(ec)) ::chmod(it->path().c_str(), 0700);
    }
    stdfs::remove_all(path_, ec);
  }
  const stdfs::path& path() const { return path_; }

 private:
  stdfs::path path_;
};

// The tree used by most tests:
//   home/ (0750)
//     a.txt            3 blocks + 100 bytes
//     empty            0 bytes
//     ro/ (0555)       read-only directory with a file in it
//       inner.txt
//     link -> a.txt
//   etc/
//     big.bin          300 KiB
struct Tree {
  FakeView view;
  int home, a, empty, ro, inner, link, etc, big;
  Tree() {
    home = view.add(0, "home", S_IFDIR | 0750, "", 1'600'000'100);
    a = view.add(home, "a.txt", S_IFREG | 0640, pattern(3 * 4096 + 100, 'a'), 1'600'000'200);
    empty = view.add(home, "empty", S_IFREG | 0600, "", 1'600'000'300);
    ro = view.add(home, "ro", S_IFDIR | 0555, "", 1'600'000'400);
    inner = view.add(ro, "inner.txt", S_IFREG | 0444, "inside", 1'600'000'500);
    link = view.add(home, "link", S_IFLNK | 0777, "a.txt", 1'600'000'600);
    etc = view.add(0, "etc", S_IFDIR | 0755, "", 1'600'000'700);
    big = view.add(etc, "big.bin", S_IFREG | 0644, pattern(300 * 1024, 'b'), 1'600'000'800);
  }
};

struct RestoreRun {
  RestoreStats stats;
  std::vector<DamageRecord> damaged;
  std::string messages;
};

RestoreRun run_restore(FakeView& view, const stdfs::path& dest,
                       const std::vector<std::string>& paths, bool overwrite = false,
                       bool salvage = false) {
  DamageReport report;
  view.sink = report.sink();
  stdfs::create_directories(dest);
  const int fd = ::open(dest.c_str(), O_RDONLY | O_DIRECTORY);
  std::FILE* messages = std::tmpfile();
  RestoreOptions options;
  options.overwrite = overwrite;
  options.salvage = salvage;
  options.messages = messages;
  RestoreRun run;
  run.stats = restore_view(view, report, paths, fd, options);
  ::close(fd);
  std::rewind(messages);
  char line[4096];
  while (std::fgets(line, sizeof line, messages) != nullptr) run.messages += line;
  std::fclose(messages);
  run.damaged = report.records();
  view.sink = nullptr;
  return run;
}

void expect_same_node(FakeView& view, int id, const stdfs::path& file) {
  struct stat st {};
  ASSERT_EQ(::lstat(file.c_str(), &st), 0) << file;
  const FakeNode& n = view.node(id);
  EXPECT_EQ(st.st_mode, n.mode) << file;
  EXPECT_EQ(st.st_mtim.tv_sec, n.mtime) << file;
  EXPECT_EQ(st.st_mtim.tv_nsec, 123456789) << file;
  if (::geteuid() == 0) {
    EXPECT_EQ(st.st_uid, 1234u);
    EXPECT_EQ(st.st_gid, 2345u);
  }
  if (S_ISREG(n.mode)) {
    EXPECT_EQ(slurp(file), n.data) << file;
  }
  if (S_ISLNK(n.mode)) {
    EXPECT_EQ(stdfs::read_symlink(file).string(), n.data);
  }
}

TEST(RestoreCoreTest, RestoresEverythingWithModesTimesAndLinks) {
  Tree t;
  TempDir dir;
  const stdfs::path dest = dir.path() / "out";
  const RestoreRun run = run_restore(t.view, dest, {});
  EXPECT_EQ(run.stats.files, 4u);
  EXPECT_EQ(run.stats.directories, 3u);
  EXPECT_EQ(run.stats.symlinks, 1u);
  EXPECT_EQ(run.stats.bytes, 3 * 4096 + 100 + 6 + 300 * 1024u);
  EXPECT_EQ(run.stats.errors, 0u);
  EXPECT_TRUE(run.damaged.empty());
  EXPECT_EQ(run.messages, "");
  expect_same_node(t.view, t.home, dest / "home");
  expect_same_node(t.view, t.a, dest / "home/a.txt");
  expect_same_node(t.view, t.empty, dest / "home/empty");
  expect_same_node(t.view, t.ro, dest / "home/ro");
  expect_same_node(t.view, t.inner, dest / "home/ro/inner.txt");
  expect_same_node(t.view, t.link, dest / "home/link");
  expect_same_node(t.view, t.etc, dest / "etc");
  expect_same_node(t.view, t.big, dest / "etc/big.bin");
  // No temporary files left, every lookup forgotten, at most the current path held.
  for (const auto& e : stdfs::recursive_directory_iterator(dest)) {
    EXPECT_EQ(e.path().filename().string().rfind(".encfsr-restore", 0), std::string::npos);
  }
  EXPECT_EQ(t.view.outstanding(), 0);
  EXPECT_LE(t.view.max_outstanding(), 3);
}

TEST(RestoreCoreTest, RestoresOnePathWithItsAncestors) {
  Tree t;
  TempDir dir;
  const stdfs::path dest = dir.path() / "out";
  const RestoreRun run = run_restore(t.view, dest, {"home/ro/inner.txt"});
  EXPECT_EQ(run.stats.files, 1u);
  EXPECT_EQ(run.stats.errors + run.stats.missing, 0u);
  expect_same_node(t.view, t.inner, dest / "home/ro/inner.txt");
  expect_same_node(t.view, t.ro, dest / "home/ro");  // created ancestors get their attributes
  expect_same_node(t.view, t.home, dest / "home");
  EXPECT_FALSE(stdfs::exists(dest / "home/a.txt"));
  EXPECT_FALSE(stdfs::exists(dest / "etc"));
  EXPECT_EQ(t.view.outstanding(), 0);
}

TEST(RestoreCoreTest, MissingPathIsCountedAndTheOthersRestored) {
  Tree t;
  TempDir dir;
  const stdfs::path dest = dir.path() / "out";
  const RestoreRun run = run_restore(t.view, dest, {"home/nope", "etc/big.bin", "../x"});
  EXPECT_EQ(run.stats.missing, 2u);
  EXPECT_EQ(run.stats.files, 1u);
  EXPECT_NE(run.messages.find("no such entry in the copy: home/nope"), std::string::npos);
  expect_same_node(t.view, t.big, dest / "etc/big.bin");
}

TEST(RestoreCoreTest, NeverOverwritesUnlessAsked) {
  Tree t;
  TempDir dir;
  const stdfs::path dest = dir.path() / "out";
  stdfs::create_directories(dest / "home");
  { std::ofstream(dest / "home/a.txt") << "mine"; }
  RestoreRun run = run_restore(t.view, dest, {"home/a.txt", "home/empty"});
  EXPECT_EQ(run.stats.errors, 1u);
  EXPECT_EQ(run.stats.files, 1u);
  EXPECT_NE(run.messages.find("exists: home/a.txt"), std::string::npos);
  EXPECT_EQ(slurp(dest / "home/a.txt"), "mine");

  run = run_restore(t.view, dest, {"home/a.txt"}, /*overwrite=*/true);
  EXPECT_EQ(run.stats.errors, 0u);
  expect_same_node(t.view, t.a, dest / "home/a.txt");
}

TEST(RestoreCoreTest, DamagedFileLeftOutOthersRestored) {
  Tree t;
  t.view.node(t.big).bad_blocks = {5, 40};
  TempDir dir;
  const stdfs::path dest = dir.path() / "out";
  const RestoreRun run = run_restore(t.view, dest, {});
  EXPECT_FALSE(stdfs::exists(dest / "etc/big.bin"));
  EXPECT_FALSE(stdfs::exists(dest / "etc/big.bin.damaged"));
  EXPECT_EQ(run.stats.files, 3u);
  expect_same_node(t.view, t.a, dest / "home/a.txt");
  ASSERT_FALSE(run.damaged.empty());
  EXPECT_EQ(run.damaged[0].path, "etc/big.bin");
  EXPECT_EQ(run.damaged[0].kind, "block");
  EXPECT_EQ(run.damaged[0].block, 5u);
  EXPECT_EQ(run.damaged[0].cipher_path, "cipher/big.bin");  // merged from the view's report
  for (const auto& e : stdfs::recursive_directory_iterator(dest)) {
    EXPECT_EQ(e.path().filename().string().rfind(".encfsr-restore", 0), std::string::npos);
  }
}

TEST(RestoreCoreTest, SalvageZeroesBadBlocksOnly) {
  Tree t;
  t.view.node(t.big).bad_blocks = {5, 40};
  TempDir dir;
  const stdfs::path dest = dir.path() / "out";
  const RestoreRun run = run_restore(t.view, dest, {"etc"}, false, /*salvage=*/true);
  EXPECT_EQ(run.stats.salvaged, 1u);
  EXPECT_FALSE(stdfs::exists(dest / "etc/big.bin"));
  std::string expected = t.view.node(t.big).data;
  std::fill_n(expected.begin() + 5 * 4096, 4096, '\0');
  std::fill_n(expected.begin() + 40 * 4096, 4096, '\0');
  EXPECT_EQ(slurp(dest / "etc/big.bin.damaged"), expected);
  ASSERT_EQ(run.damaged.size(), 2u);
  EXPECT_EQ(run.damaged[1].block, 40u);
}

TEST(RestoreCoreTest, SalvageReadsOnAfterALongRunOfBadBlocks) {
  // verify stops a file after kMaxDamagedRun bad blocks in a row; a salvage must not: the good
  // blocks after the run are what it is for, at their offsets.
  Tree t;  // etc/big.bin: 75 blocks
  for (std::uint64_t b = 0; b < 70; ++b) t.view.node(t.big).bad_blocks.insert(b);
  TempDir dir;
  const stdfs::path dest = dir.path() / "out";
  const RestoreRun run = run_restore(t.view, dest, {"etc"}, false, /*salvage=*/true);
  EXPECT_EQ(run.stats.salvaged, 1u);
  std::string expected = t.view.node(t.big).data;
  std::fill_n(expected.begin(), 70 * 4096, '\0');
  EXPECT_EQ(slurp(dest / "etc/big.bin.damaged"), expected);
  for (const auto& d : run.damaged) EXPECT_NE(d.kind, kUncheckedToken);
}

TEST(RestoreCoreTest, DamagedLinkAndHiddenNameAreReported) {
  Tree t;
  t.view.node(t.link).bad_link = true;
  t.view.node(t.home).hidden_bad_names = {"XYZcipher"};
  TempDir dir;
  const stdfs::path dest = dir.path() / "out";
  const RestoreRun run = run_restore(t.view, dest, {});
  EXPECT_FALSE(stdfs::exists(stdfs::symlink_status(dest / "home/link")));
  EXPECT_EQ(run.stats.symlinks, 0u);
  ASSERT_EQ(run.damaged.size(), 2u);
  EXPECT_EQ(damage_line(run.damaged[0]), "damaged: home/XYZcipher: name");
  EXPECT_EQ(damage_line(run.damaged[1]), "damaged: home/link: link");
}

// --- no symlink in DEST is followed, in any component of a path (issue 11) ---

// Replaces DEST/<name> by a symlink to `outside` (the directory that was there is moved to
// `moved`), as someone with write access to DEST might while a restore runs.
void swap_for_symlink(const stdfs::path& dest, const std::string& name, const stdfs::path& moved,
                      const stdfs::path& outside) {
  stdfs::rename(dest / name, moved);
  stdfs::create_directory_symlink(outside, dest / name);
}

struct stat lstat_of(const stdfs::path& path) {
  struct stat st {};
  EXPECT_EQ(::lstat(path.c_str(), &st), 0) << path;
  return st;
}

TEST(RestoreCoreTest, SymlinkPlantedInDestIsNotFollowedAndNamed) {
  Tree t;
  TempDir dir;
  const stdfs::path dest = dir.path() / "out";
  const stdfs::path outside = dir.path() / "outside";
  stdfs::create_directories(outside);
  stdfs::create_directories(dest);
  stdfs::create_directory_symlink(outside, dest / "home");
  const RestoreRun run = run_restore(t.view, dest, {});
  EXPECT_TRUE(stdfs::is_empty(outside));
  EXPECT_NE(run.messages.find("exists: home (a symlink, not followed)"), std::string::npos)
      << run.messages;
  EXPECT_EQ(run.stats.errors, 1u);
  expect_same_node(t.view, t.big, dest / "etc/big.bin");  // the rest is restored
}

TEST(RestoreCoreTest, AncestorFixUpDoesNotFollowASymlinkPutInPlaceOfAnAncestor) {
  Tree t;
  TempDir dir;
  const stdfs::path dest = dir.path() / "out";
  const stdfs::path outside = dir.path() / "outside";
  stdfs::create_directories(outside / "ro");
  ASSERT_EQ(::chmod((outside / "ro").c_str(), 0711), 0);
  const struct timespec times[2] = {{1'000'000'000, 0}, {1'000'000'000, 0}};
  ASSERT_EQ(::utimensat(AT_FDCWD, (outside / "ro").c_str(), times, 0), 0);
  t.view.on_read = [&](const std::string& path) {
    if (path == "home/ro/inner.txt") swap_for_symlink(dest, "home", dir.path() / "moved", outside);
  };
  // home and home/ro are created as ancestors of the PATH; their modes and times are set at
  // the end, after home was swapped for a symlink to `outside`.
  const RestoreRun run = run_restore(t.view, dest, {"home/ro/inner.txt"});
  const struct stat st = lstat_of(outside / "ro");
  EXPECT_EQ(st.st_mode & 07777, 0711u);
  EXPECT_EQ(st.st_mtim.tv_sec, 1'000'000'000);
  EXPECT_EQ(stdfs::directory_iterator(outside / "ro"), stdfs::directory_iterator());
  EXPECT_EQ(run.stats.errors, 2u) << run.messages;  // home and home/ro: not set
  EXPECT_NE(run.messages.find("cannot set mode, owner or times of home/ro: "), std::string::npos)
      << run.messages;
  // The file went where the directory restore held open went: still the restore's directory.
  EXPECT_EQ(slurp(dir.path() / "moved/ro/inner.txt"), "inside");
}

TEST(RestoreCoreTest, HardLinksAreMadeToTheFirstRestoredMember) {
  Tree t;
  t.view.node(t.a).link_group = 7;
  const int twin = t.view.add(t.etc, "twin", S_IFREG | 0640, t.view.node(t.a).data);
  t.view.node(twin).link_group = 7;
  TempDir dir;
  const stdfs::path dest = dir.path() / "out";
  const RestoreRun run = run_restore(t.view, dest, {});
  EXPECT_EQ(run.stats.links, 1u);
  EXPECT_EQ(run.stats.errors, 0u) << run.messages;
  EXPECT_EQ(lstat_of(dest / "etc/twin").st_ino, lstat_of(dest / "home/a.txt").st_ino);
}

TEST(RestoreCoreTest, HardLinkDoesNotFollowASymlinkPutInPlaceOfItsFirstMembersDirectory) {
  Tree t;
  t.view.node(t.a).link_group = 7;
  const int twin = t.view.add(t.etc, "twin", S_IFREG | 0640, t.view.node(t.a).data);
  t.view.node(twin).link_group = 7;
  TempDir dir;
  const stdfs::path dest = dir.path() / "out";
  const stdfs::path outside = dir.path() / "outside";
  stdfs::create_directories(outside);
  { std::ofstream(outside / "a.txt") << "secret"; }
  t.view.on_read = [&](const std::string& path) {
    if (path == "etc/big.bin") swap_for_symlink(dest, "home", dir.path() / "moved", outside);
  };
  const RestoreRun run = run_restore(t.view, dest, {});
  EXPECT_EQ(run.stats.links, 0u);
  // No link into the planted directory: the member is restored as a copy of its own.
  EXPECT_TRUE(stdfs::is_regular_file(stdfs::symlink_status(dest / "etc/twin")));
  EXPECT_EQ(lstat_of(dest / "etc/twin").st_nlink, 1u);
  EXPECT_EQ(lstat_of(outside / "a.txt").st_nlink, 1u);
  EXPECT_EQ(slurp(outside / "a.txt"), "secret");
  EXPECT_NE(run.messages.find("etc/twin"), std::string::npos) << run.messages;
  for (const auto& e : stdfs::recursive_directory_iterator(dest)) {
    EXPECT_EQ(e.path().filename().string().rfind(".encfsr-restore", 0), std::string::npos);
  }
}

TEST(RestoreCoreTest, HardLinkIsNotMadeToAFileThatReplacedTheFirstMember) {
  Tree t;
  t.view.node(t.a).link_group = 7;
  const int twin = t.view.add(t.etc, "twin", S_IFREG | 0640, t.view.node(t.a).data);
  t.view.node(twin).link_group = 7;
  TempDir dir;
  const stdfs::path dest = dir.path() / "out";
  t.view.on_read = [&](const std::string& path) {
    if (path != "etc/big.bin") return;
    stdfs::remove(dest / "home/a.txt");
    std::ofstream(dest / "home/a.txt") << "planted";
  };
  const RestoreRun run = run_restore(t.view, dest, {});
  EXPECT_EQ(run.stats.links, 0u);
  // Not linked to the planted file: restored as a copy of its own, with its own content.
  EXPECT_EQ(slurp(dest / "etc/twin"), t.view.node(t.a).data);
  EXPECT_EQ(lstat_of(dest / "etc/twin").st_nlink, 1u);
  EXPECT_NE(run.messages.find("home/a.txt was replaced since it was restored; restored as a "
                              "separate copy"),
            std::string::npos)
      << run.messages;
  EXPECT_NE(run.messages.find("etc/twin"), std::string::npos) << run.messages;
}

TEST(VerifyCoreTest, CountsAndListsEveryBadBlock) {
  Tree t;
  t.view.node(t.big).bad_blocks = {0, 1, 73};
  t.view.node(t.a).bad_blocks = {3};
  DamageReport report;
  t.view.sink = report.sink();
  const VerifyStats stats = verify_view(t.view, report);
  t.view.sink = nullptr;
  EXPECT_EQ(stats.files, 4u);
  EXPECT_EQ(stats.directories, 3u);
  EXPECT_EQ(stats.symlinks, 1u);
  EXPECT_EQ(stats.entries, 8u);
  EXPECT_EQ(stats.bytes, 3 * 4096 + 100 + 6 + 300 * 1024u);
  const std::vector<DamageRecord> damaged = report.records();
  std::vector<std::string> lines;
  for (const auto& r : damaged) lines.push_back(damage_line(r));
  EXPECT_EQ(lines, (std::vector<std::string>{
                       "damaged: home/a.txt: block 3", "damaged: etc/big.bin: block 0",
                       "damaged: etc/big.bin: block 1", "damaged: etc/big.bin: block 73"}));
  EXPECT_EQ(verify_summary(stats, damaged.size()),
            "entries 8 (files 4, directories 3, symlinks 1), 319594 bytes: 4 damaged");
  EXPECT_EQ(t.view.outstanding(), 0);
}

TEST(VerifyCoreTest, RunOfBadBlocksStopsTheFileEarly) {
  Tree t;  // etc/big.bin has 300 KiB: 75 blocks
  for (std::uint64_t b = 0; b < 70; ++b) t.view.node(t.big).bad_blocks.insert(b);
  for (std::uint64_t b = 0; b < 9; b += 2) t.view.node(t.a).bad_blocks.insert(b);
  DamageReport report;
  t.view.sink = report.sink();
  verify_view(t.view, report);
  t.view.sink = nullptr;
  std::vector<std::string> lines;
  for (const auto& r : report.records()) lines.push_back(damage_line(r));
  std::vector<std::string> expected;
  for (int b = 0; b < 16; ++b)
    expected.push_back("damaged: etc/big.bin: block " + std::to_string(b));
  expected.push_back("damaged: etc/big.bin: and 48 more damaged blocks (not listed)");
  expected.push_back(
      "damaged: etc/big.bin: and 11 more blocks unchecked from block 64 (stopped after 64 "
      "damaged blocks in a row)");
  // home/a.txt has blocks 0..3: bad blocks that are not in a row are all listed.
  expected.insert(expected.begin(),
                  {"damaged: home/a.txt: block 0", "damaged: home/a.txt: block 2"});
  EXPECT_EQ(lines, expected);
}

TEST(VerifyCoreTest, CleanTreeAndJson) {
  Tree t;
  DamageReport report;
  const VerifyStats stats = verify_view(t.view, report);
  EXPECT_TRUE(report.records().empty());
  EXPECT_EQ(verify_summary(stats, 0),
            "entries 8 (files 4, directories 3, symlinks 1), 319594 bytes: clean");
  EXPECT_EQ(verify_json(stats, {}),
            "{\"entries\":8,\"files\":4,\"directories\":3,\"symlinks\":1,\"bytes\":319594,"
            "\"damaged\":[],\"changed_during_backup\":[],\"completeness_checked\":true}");
  EXPECT_EQ(verify_summary(stats, 2, 3),
            "entries 8 (files 4, directories 3, symlinks 1), 319594 bytes: 2 damaged; 3 changed "
            "during backup");
  EXPECT_EQ(verify_json(stats, {}, {"a/b", "c"}, false),
            "{\"entries\":8,\"files\":4,\"directories\":3,\"symlinks\":1,\"bytes\":319594,"
            "\"damaged\":[],\"changed_during_backup\":[\"a/b\",\"c\"],"
            "\"completeness_checked\":false}");
  DamageRecord r{"block", "a\"b\\c\n\x01\xff\xc3\xa9", "", 7, std::nullopt};
  DamageRecord k{"key-file", "", "encfsr.key", std::nullopt, std::nullopt};
  EXPECT_EQ(json_damage_array({r, k}),
            "[{\"path\":\"a\\\"b\\\\c\\n\\u0001\\ufffd\xc3\xa9\",\"cipher_path\":null,"
            "\"kind\":\"block\",\"block\":7},"
            "{\"path\":null,\"cipher_path\":\"encfsr.key\",\"kind\":\"key-file\",\"block\":null}]");
  EXPECT_EQ(damage_line(r), "damaged: a\"b\\x5cc\\x0a\\x01\xff\xc3\xa9: block 7");
}

TEST(ReportTest, MergesSamePathKindBlock) {
  DamageReport report;
  report.add({fs::DamageKind::kBlock, "/c/x", "/home/x", 2});
  report.add(DamageRecord{"block", "home/x", "", 2, std::nullopt});
  report.add(DamageRecord{"block", "home/x", "", 3, std::nullopt});
  report.add({fs::DamageKind::kName, "c/bad", "", 0});
  report.add({fs::DamageKind::kName, "c/bad", "", 0});
  const auto records = report.records();
  ASSERT_EQ(records.size(), 3u);
  EXPECT_EQ(records[0].cipher_path, "c/x");
  EXPECT_EQ(records[0].path, "home/x");
  EXPECT_EQ(records[1].block, 3u);
  EXPECT_EQ(records[2].shown_path(), "c/bad");
  EXPECT_FALSE(records[2].block.has_value());
  EXPECT_TRUE(report.has_damage("home/x"));
  EXPECT_FALSE(report.has_damage("home/y"));
  EXPECT_TRUE(report.damaged_since(1, "home/x"));
  EXPECT_FALSE(report.damaged_since(3, "home/x"));
}

TEST(ReportTest, BlocksListedPerFileUpToALimitThenCounted) {
  DamageReport report;
  // 100 bad blocks of one file, each reported twice (the view's sink and the command's read),
  // then one of another file.
  for (std::uint64_t b = 0; b < 100; ++b) {
    report.add({fs::DamageKind::kBlock, "c/big", "/home/big", b});
    report.add(DamageRecord{"block", "home/big", "", b, std::nullopt});
  }
  report.add({fs::DamageKind::kBlock, "c/other", "/home/other", 5});
  // Only the listed blocks are kept as events (twice each): memory does not grow with the file.
  EXPECT_EQ(report.events(), 2 * kMaxListedBlocks + 1);
  const auto records = report.records();
  ASSERT_EQ(records.size(), kMaxListedBlocks + 2);
  for (std::size_t i = 0; i < kMaxListedBlocks; ++i) {
    EXPECT_EQ(records[i].kind, "block");
    EXPECT_EQ(records[i].block, i);
    EXPECT_EQ(records[i].cipher_path, "c/big");
  }
  const DamageRecord& more = records[kMaxListedBlocks];
  EXPECT_EQ(more.kind, kMoreBlocksToken);
  EXPECT_EQ(more.path, "home/big");
  EXPECT_EQ(more.count, 100u - kMaxListedBlocks);
  EXPECT_EQ(damage_line(more), "damaged: home/big: and 84 more damaged blocks (not listed)");
  EXPECT_EQ(records.back().path, "home/other");
  EXPECT_EQ(json_damage_array({more}),
            "[{\"path\":\"home/big\",\"cipher_path\":\"c/big\",\"kind\":\"more-blocks\","
            "\"block\":null,\"count\":84}]");
  DamageRecord unchecked{kUncheckedToken, "home/big", "", 64, 1000};
  EXPECT_EQ(damage_line(unchecked),
            "damaged: home/big: and 1000 more blocks unchecked from block 64 (stopped after 64 "
            "damaged blocks in a row)");
}

TEST(TreeWalkTest, SplitViewPath) {
  std::vector<std::string> parts;
  EXPECT_TRUE(split_view_path("/home//a/./b.txt/", parts));
  EXPECT_EQ(parts, (std::vector<std::string>{"home", "a", "b.txt"}));
  EXPECT_FALSE(split_view_path("home/../etc", parts));
  EXPECT_TRUE(split_view_path(".", parts));
  EXPECT_TRUE(parts.empty());
  EXPECT_FALSE(is_plain_component(".."));
  EXPECT_FALSE(is_plain_component("a/b"));
  EXPECT_TRUE(is_plain_component("a b"));
}

}  // namespace
}  // namespace encfsr::cli
