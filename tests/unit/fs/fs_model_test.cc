// Tests of the FUSE-free model: the reverse view copied out through the View interface, then
// read back through the decrypt view, must give the plaintext; damage must be reported.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <random>
#include <thread>

#include "crypto/manifest.h"
#include "crypto/name_cipher.h"
#include "crypto/size_math.h"
#include "src/fs/decrypt_view.h"
#include "src/fs/reverse_view.h"
#include "tests/unit/fs/fs_test_util.h"

namespace encfsr::fs {
namespace {

// Copies everything a view shows into `out`, checking st_size against the bytes read.
void materialize(View& view, Ino dir, const stdfs::path& out) {
  auto entries = view.list(dir);
  ASSERT_TRUE(entries.ok()) << entries.error();
  for (const DirEntry& e : *entries) {
    auto entry = view.lookup(dir, e.name);
    ASSERT_TRUE(entry.ok()) << e.name << ": " << entry.error();
    EXPECT_EQ(entry->ino, e.ino) << e.name;
    EXPECT_EQ(entry->attr.st_mode & S_IFMT, e.type) << e.name;
    EXPECT_LE(e.name.size(), 255u);
    const stdfs::path target = out / e.name;
    if (e.type == S_IFDIR) {
      stdfs::create_directory(target);
      materialize(view, entry->ino, target);
    } else if (e.type == S_IFLNK) {
      auto link = view.readlink(entry->ino);
      ASSERT_TRUE(link.ok());
      EXPECT_EQ(static_cast<off_t>(link->size()), entry->attr.st_size);
      stdfs::create_symlink(*link, target);
    } else {
      auto file = view.open(entry->ino);
      ASSERT_TRUE(file.ok());
      std::string data;
      std::vector<std::uint8_t> buf(100000);  // not a multiple of any block size
      for (;;) {
        auto n = (*file)->read(data.size(), buf);
        ASSERT_TRUE(n.ok()) << e.name << ": " << n.error();
        if (*n == 0) break;
        data.append(reinterpret_cast<const char*>(buf.data()), *n);
      }
      EXPECT_EQ(static_cast<off_t>(data.size()), entry->attr.st_size) << e.name;
      write_file(target, data);
    }
    view.forget(entry->ino, 1);
  }
}

// name -> contents ("L:" + target for links, "D" for dirs) of a whole tree.
std::map<std::string, std::string> snapshot(const stdfs::path& root) {
  std::map<std::string, std::string> out;
  for (auto it = stdfs::recursive_directory_iterator(root); it != stdfs::end(it); ++it) {
    const auto rel = it->path().lexically_relative(root).string();
    if (it->is_symlink()) {
      out[rel] = "L:" + stdfs::read_symlink(it->path()).string();
    } else if (it->is_directory()) {
      out[rel] = "D";
    } else if (it->is_regular_file()) {
      out[rel] = read_file(it->path());
    }
  }
  return out;
}

class FsModel : public ::testing::Test {
 protected:
  void SetUp() override {
    const stdfs::path src = plain_.path();
    for (std::size_t size : {0, 1, 4095, 4096, 4097, 8192, 100001}) {
      write_file(src / ("f" + std::to_string(size)),
                 random_bytes(size, static_cast<unsigned>(size)));
    }
    stdfs::create_directories(src / "a/b/c");
    write_file(src / "a/b/c/deep.txt", "deep");
    long_name_ = std::string(200, 'L');
    write_file(src / "a" / long_name_, "long");
    write_file(src / "a/\xc3\xa9t\xc3\xa9.txt", "utf8");
    stdfs::create_symlink("b/c/deep.txt", src / "a/rel-link");
    stdfs::create_symlink("/etc/passwd", src / "a/abs-link");
    ASSERT_EQ(::mkfifo((src / "a/fifo").c_str(), 0600), 0);
    config_.sources.push_back(config::Source{"data", {src}, {}, false});
    master_ = std::make_unique<crypto::MasterKey>(crypto::MasterKey::generate());
  }

  std::unique_ptr<View> reverse(bool plain = false) {
    ReverseOptions options;
    options.plain = plain;
    options.key_file_text = "KEY FILE TEXT\n";
    return make_reverse_view(config_, *master_, std::move(options));
  }
  std::unique_ptr<View> decrypt(const stdfs::path& copy, DamageSink sink = {}) {
    util::UniqueFd fd(::open(copy.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    return make_decrypt_view(std::move(fd), *master_,
                             DecryptOptions{crypto::NameEncoding::kBase64Url, 1, std::move(sink)});
  }
  std::map<std::string, std::string> expected() {
    auto snap = snapshot(plain_.path());
    snap.erase("a/fifo");
    std::map<std::string, std::string> out;
    out["data"] = "D";
    for (auto& [k, v] : snap) out["data/" + k] = v;
    return out;
  }

  // The inode of the file in the source's directory whose view size is `size`, 0 if none.
  // The root holds the source's directory and encfsr.key.
  static Ino file_of_size(View& view, std::uint64_t size) {
    Ino data = 0;
    if (auto root = view.list(kRootIno)) {
      for (const DirEntry& e : *root) {
        if (e.type != S_IFDIR) continue;
        if (auto dir = view.lookup(kRootIno, e.name)) data = dir->ino;
      }
    }
    if (data == 0) return 0;
    auto entries = view.list(data);
    if (!entries) return 0;
    for (const DirEntry& e : *entries) {
      auto entry = view.lookup(data, e.name);
      if (entry && static_cast<std::uint64_t>(entry->attr.st_size) == size) return entry->ino;
    }
    return 0;
  }

  TempDir plain_, copy_, restored_;
  config::Config config_;
  std::unique_ptr<crypto::MasterKey> master_;
  std::string long_name_;
};

TEST_F(FsModel, ReverseThenDecryptGivesThePlaintext) {
  auto view = reverse();
  materialize(*view, kRootIno, copy_.path());
  EXPECT_EQ(read_file(copy_.path() / "encfsr.key"), "KEY FILE TEXT\n");
  auto dview = decrypt(copy_.path());
  materialize(*dview, kRootIno, restored_.path());
  EXPECT_EQ(snapshot(restored_.path()), expected());
}

TEST_F(FsModel, CiphertextIsDeterministicAndSizesAreComputed) {
  materialize(*reverse(), kRootIno, copy_.path());
  TempDir again;
  materialize(*reverse(), kRootIno, again.path());
  EXPECT_EQ(snapshot(copy_.path()), snapshot(again.path()));
  // One directory per source plus the key file; a long name brings its side file.
  std::size_t longs = 0, sides = 0;
  for (auto& [k, v] : snapshot(copy_.path())) {
    const auto name = stdfs::path(k).filename().string();
    if (name.rfind("encfsr.long.", 0) == 0)
      (name.size() > 5 && name.ends_with(".name")) ? ++sides : ++longs;
  }
  EXPECT_EQ(longs, 1u);
  EXPECT_EQ(sides, 1u);
}

TEST_F(FsModel, PlainModeIsThePlaintext) {
  materialize(*reverse(true), kRootIno, copy_.path());
  EXPECT_EQ(snapshot(copy_.path()), expected());
}

TEST_F(FsModel, FlippedBitIsReportedAndOtherBlocksStayReadable) {
  materialize(*reverse(), kRootIno, copy_.path());
  // The largest ciphertext file is f100001 (25 blocks).
  stdfs::path victim;
  std::uintmax_t biggest = 0;
  for (auto& e : stdfs::recursive_directory_iterator(copy_.path())) {
    if (e.is_regular_file() && e.file_size() > biggest) biggest = e.file_size(), victim = e.path();
  }
  ASSERT_EQ(biggest, crypto::cipher_size(100001));
  {
    std::fstream f(victim, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(3 * 4112 + 100);
    char c;
    f.seekg(3 * 4112 + 100);
    f.get(c);
    f.seekp(3 * 4112 + 100);
    f.put(static_cast<char>(c ^ 0x10));
  }
  std::vector<Damage> damage;
  auto view = decrypt(copy_.path(), [&](const Damage& d) { damage.push_back(d); });
  auto data = view->lookup(kRootIno, "data");
  ASSERT_TRUE(data.ok());
  auto file = view->lookup(data->ino, "f100001");
  ASSERT_TRUE(file.ok());
  auto open = view->open(file->ino);
  ASSERT_TRUE(open.ok());
  std::vector<std::uint8_t> buf(4096);
  EXPECT_TRUE((*open)->read(0, buf).ok());
  EXPECT_EQ((*open)->read(2 * 4096, buf).ok(), true);
  auto bad = (*open)->read(3 * 4096 + 10, buf);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error(), EIO);
  EXPECT_TRUE((*open)->read(4 * 4096, buf).ok());
  ASSERT_EQ(damage.size(), 1u);
  EXPECT_EQ(damage[0].kind, DamageKind::kBlock);
  EXPECT_EQ(damage[0].block, 3u);
  EXPECT_EQ(damage[0].plain_path, "data/f100001");
  // A page-aligned read is opened straight into the caller's buffer: a failing one leaves it
  // no plaintext of the bad block (nor of the good ones of that request).
  std::vector<std::uint8_t> pages(4 * 4096, 0xAA);
  auto failed = (*open)->read(2 * 4096, pages);
  ASSERT_FALSE(failed.ok());
  const std::size_t opened = crypto::kBlockSize * 4;
  EXPECT_EQ(std::count(pages.begin(), pages.begin() + opened, 0), static_cast<long>(opened));
}

TEST_F(FsModel, RenamedEntryIsHiddenAndReported) {
  materialize(*reverse(), kRootIno, copy_.path());
  // Swap two ciphertext file names inside the source directory.
  stdfs::path dir;
  for (auto& e : stdfs::directory_iterator(copy_.path())) {
    if (e.is_directory()) dir = e.path();
  }
  // Two encrypted file names: not the manifest, a side file or a long form (the order of a
  // directory listing depends on the filesystem, so filter rather than take the first two).
  std::vector<stdfs::path> files;
  for (auto& e : stdfs::directory_iterator(dir)) {
    const std::string name = e.path().filename().string();
    if (e.is_regular_file() && name != crypto::kManifestName &&
        !crypto::NameCipher::is_side_file(name) && !crypto::NameCipher::is_long_form(name)) {
      files.push_back(e.path());
    }
  }
  std::sort(files.begin(), files.end());
  ASSERT_GE(files.size(), 2u);
  stdfs::rename(files[0], dir / "tmp");
  stdfs::rename(files[1], files[0]);
  stdfs::rename(dir / "tmp", files[1]);
  std::vector<Damage> damage;
  auto view = decrypt(copy_.path(), [&](const Damage& d) { damage.push_back(d); });
  // Both names still authenticate (they are valid names of the directory), but each file's
  // blocks are bound to the other path: reading them fails, every other file reads fine.
  auto data = view->lookup(kRootIno, "data");
  ASSERT_TRUE(data.ok());
  int failed = 0, good = 0;
  auto entries = view->list(data->ino);
  ASSERT_TRUE(entries.ok());
  for (auto& e : *entries) {
    if (e.type != S_IFREG) continue;
    auto ent = view->lookup(data->ino, e.name);
    ASSERT_TRUE(ent.ok());
    // An empty file is checked at open (it is never read); others when read.
    auto f = view->open(ent->ino);
    std::vector<std::uint8_t> buf(200000);
    (f.ok() && (*f)->read(0, buf).ok()) ? ++good : ++failed;
  }
  EXPECT_EQ(failed, 2);
  EXPECT_EQ(good, 5);
  EXPECT_EQ(damage.size(), 2u);
}

TEST_F(FsModel, DecryptViewNeverOffersAnOpenFileForEviction) {
  materialize(*reverse(), kRootIno, copy_.path());
  auto view = decrypt(copy_.path());
  auto data = view->lookup(kRootIno, "data");
  ASSERT_TRUE(data.ok());
  auto entries = view->list(data->ino);
  ASSERT_TRUE(entries.ok());
  std::string name;
  for (auto& e : *entries) {
    if (e.type == S_IFREG) name = e.name;
  }
  ASSERT_FALSE(name.empty());
  auto file = view->lookup(data->ino, name);
  ASSERT_TRUE(file.ok());
  const auto offered = [&] {
    for (const ShownName& s : view->least_recently_used(1000)) {
      if (s.parent == data->ino && s.name == name) return true;
    }
    return false;
  };
  EXPECT_TRUE(offered());
  {
    auto open = view->open(file->ino);
    ASSERT_TRUE(open.ok());
    EXPECT_FALSE(offered());  // a copy out of a decrypt mount must not lose its entry
  }
  EXPECT_TRUE(offered());
}

TEST_F(FsModel, EmptyFileSwappedInFromAnotherPathIsDetected) {
  materialize(*reverse(), kRootIno, copy_.path());
  // Two empty files in different directories: f0 at the top, and a new one below a/.
  std::vector<Damage> damage;
  auto view = decrypt(copy_.path(), [&](const Damage& d) { damage.push_back(d); });
  auto data = view->lookup(kRootIno, "data");
  ASSERT_TRUE(data.ok());
  auto f0 = view->lookup(data->ino, "f0");
  ASSERT_TRUE(f0.ok());
  ASSERT_TRUE(view->open(f0->ino).ok());
  // Replace f0's ciphertext by f1's first 16 bytes, i.e. a foreign tag of the right size.
  stdfs::path dir, f0_cipher, f1_cipher;
  for (auto& e : stdfs::directory_iterator(copy_.path())) {
    if (e.is_directory()) dir = e.path();
  }
  for (auto& e : stdfs::directory_iterator(dir)) {
    if (e.is_regular_file() && e.file_size() == 16) f0_cipher = e.path();
    if (e.is_regular_file() && e.file_size() == 17) f1_cipher = e.path();
  }
  ASSERT_FALSE(f0_cipher.empty());
  ASSERT_FALSE(f1_cipher.empty());
  write_file(f0_cipher, read_file(f1_cipher).substr(0, 16));
  auto opened = view->open(f0->ino);
  ASSERT_FALSE(opened.ok());
  EXPECT_EQ(opened.error(), EIO);
  ASSERT_EQ(damage.size(), 1u);
  EXPECT_EQ(damage[0].plain_path, "data/f0");
}

TEST_F(FsModel, ExcludedEntriesAreNeitherListedNorFound) {
  config_.sources[0].exclude = {"*.txt", "!deep.txt", "b/"};
  auto view = reverse(true);
  auto data = view->lookup(kRootIno, "data");
  ASSERT_TRUE(data.ok());
  auto a = view->lookup(data->ino, "a");
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(view->lookup(a->ino, "b").error(), ENOENT);
  EXPECT_EQ(view->lookup(a->ino, "\xc3\xa9t\xc3\xa9.txt").error(), ENOENT);
  auto list = view->list(a->ino);
  ASSERT_TRUE(list.ok());
  for (auto& e : *list) {
    EXPECT_NE(e.name, "b");
    EXPECT_NE(e.name, "fifo");
  }
  EXPECT_TRUE(view->lookup(a->ino, "rel-link").ok());
}

TEST_F(FsModel, TiersAreMergedFirstWins) {
  TempDir second;
  write_file(second.path() / "f1", "second tier loses");
  write_file(second.path() / "only-second", "x");
  stdfs::create_directories(second.path() / "a/b/extra");
  config_.sources[0].paths.push_back(second.path());
  materialize(*reverse(true), kRootIno, copy_.path());
  auto snap = snapshot(copy_.path());
  EXPECT_EQ(snap["data/f1"], random_bytes(1, 1));
  EXPECT_EQ(snap["data/only-second"], "x");
  EXPECT_EQ(snap["data/a/b/extra"], "D");
  EXPECT_EQ(snap["data/a/b/c/deep.txt"], "deep");
}

TEST_F(FsModel, ConcurrentReadersGetTheSameBytes) {
  auto view = reverse();
  const Ino file = file_of_size(*view, crypto::cipher_size(100001));
  ASSERT_NE(file, 0u);
  auto open = view->open(file);
  ASSERT_TRUE(open.ok());
  const std::size_t size = crypto::cipher_size(100001);
  std::vector<std::uint8_t> reference(size);
  ASSERT_EQ(*(*open)->read(0, reference), size);
  std::vector<std::thread> threads;
  std::atomic<int> mismatches{0};
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      std::vector<std::uint8_t> buf(1000 + static_cast<std::size_t>(t) * 777);
      for (std::uint64_t off = static_cast<std::uint64_t>(t); off < size; off += buf.size()) {
        auto n = (*open)->read(off, buf);
        if (!n.ok() || std::memcmp(buf.data(), reference.data() + off, *n) != 0) ++mismatches;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(mismatches.load(), 0);
}

// Large requests are sealed and opened in parallel (parallel_blocks.h): a 1 MiB request must
// give exactly the bytes small requests (sealed on the requesting thread alone) give, from any
// offset, also with several readers at once.
TEST_F(FsModel, LargeRequestsGiveTheBytesOfSmallOnes) {
  const std::size_t plain_size = (std::size_t{2} << 20) + 12345;
  write_file(plain_.path() / "big", random_bytes(plain_size, 77));
  auto view = reverse();
  const auto size = static_cast<std::size_t>(crypto::cipher_size(plain_size));
  const Ino file = file_of_size(*view, size);
  ASSERT_NE(file, 0u);

  // Reference: one block at a time, from its own open.
  std::vector<std::uint8_t> reference(size);
  {
    auto open = view->open(file);
    ASSERT_TRUE(open.ok());
    for (std::size_t off = 0; off < size; off += crypto::kCipherBlockSize) {
      auto n =
          (*open)->read(off, std::span(reference).subspan(
                                 off, std::min<std::size_t>(crypto::kCipherBlockSize, size - off)));
      ASSERT_TRUE(n.ok());
    }
  }
  auto open = view->open(file);
  ASSERT_TRUE(open.ok());
  std::atomic<int> mismatches{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      std::vector<std::uint8_t> buf(std::size_t{1} << 20);
      // Page-aligned like the kernel's, and from odd offsets that cut blocks.
      const std::uint64_t start = t % 2 == 0 ? static_cast<std::uint64_t>(t) * 4096 : 1234U * t;
      for (std::uint64_t off = start; off < size; off += buf.size()) {
        auto n = (*open)->read(off, buf);
        const std::size_t want = std::min<std::size_t>(buf.size(), size - off);
        if (!n.ok() || *n != want || std::memcmp(buf.data(), reference.data() + off, want) != 0) {
          ++mismatches;
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(mismatches.load(), 0);
  view->forget(file, 3);

  // The decrypt view opens large requests in parallel too, and reports the first bad block.
  materialize(*view, kRootIno, copy_.path());
  stdfs::path victim;
  for (auto& e : stdfs::recursive_directory_iterator(copy_.path())) {
    if (e.is_regular_file() && e.file_size() == size) victim = e.path();
  }
  ASSERT_FALSE(victim.empty());
  {
    std::fstream f(victim, std::ios::in | std::ios::out | std::ios::binary);
    for (const std::size_t block : {200U, 40U}) {  // both inside the first 1 MiB request
      const auto at = static_cast<std::streamoff>(block * crypto::kCipherBlockSize + 99);
      char c;
      f.seekg(at);
      f.get(c);
      f.seekp(at);
      f.put(static_cast<char>(c ^ 0x01));
    }
  }
  std::mutex mutex;
  std::vector<Damage> damage;
  auto dview = decrypt(copy_.path(), [&](const Damage& d) {
    std::lock_guard lock(mutex);
    damage.push_back(d);
  });
  auto ddata = dview->lookup(kRootIno, "data");
  ASSERT_TRUE(ddata.ok());
  auto dfile = dview->lookup(ddata->ino, "big");
  ASSERT_TRUE(dfile.ok());
  auto dopen = dview->open(dfile->ino);
  ASSERT_TRUE(dopen.ok());
  const std::string plain = read_file(plain_.path() / "big");
  std::vector<std::uint8_t> buf(std::size_t{1} << 20);
  auto bad = (*dopen)->read(0, buf);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error(), EIO);
  ASSERT_EQ(damage.size(), 1U);
  EXPECT_EQ(damage[0].block, 40U);
  // The rest of the file, in 1 MiB requests: intact.
  for (std::uint64_t off = buf.size(); off < plain_size; off += buf.size()) {
    auto n = (*dopen)->read(off, buf);
    ASSERT_TRUE(n.ok()) << off;
    EXPECT_EQ(std::memcmp(buf.data(), plain.data() + off, *n), 0) << off;
  }
}

}  // namespace
}  // namespace encfsr::fs
