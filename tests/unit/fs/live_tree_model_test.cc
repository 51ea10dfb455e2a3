// Tests of the reverse view over a live tree, driven through the FUSE-free model: blocks served
// by one open file come from one seal, an open file is sealed at the size last reported, no
// open blocks on a FIFO, the view keeps out of its own mountpoint, tiers agree between listing
// and lookup, and the decrypt view refuses impossible sizes and FIFOs in a copy.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "crypto/content_cipher.h"
#include "crypto/keys.h"
#include "crypto/node_id.h"
#include "crypto/size_math.h"
#include "src/fs/decrypt_view.h"
#include "src/fs/mount_guard.h"
#include "src/fs/reverse_view.h"
#include "src/fs/served_blocks.h"
#include "tests/unit/fs/fs_test_util.h"

namespace encfsr::fs {
namespace {

using Bytes = std::vector<std::uint8_t>;
constexpr std::size_t kCB = crypto::kCipherBlockSize;

// --- ServedBlocks on its own ------------------------------------------------------------------

Bytes blocks_with_tags(std::initializer_list<std::uint8_t> tags) {
  Bytes out;
  for (std::uint8_t t : tags) {
    Bytes block(kCB, static_cast<std::uint8_t>(t + 100));
    std::memset(block.data(), t, crypto::kTagSize);
    out.insert(out.end(), block.begin(), block.end());
  }
  return out;
}

TEST(ServedBlocks, CutBlockIsServedAgainFromItsFirstSeal) {
  ServedBlocks served;
  const auto never = [] { return false; };
  Bytes first = blocks_with_tags({1, 2});
  ASSERT_TRUE(served.reconcile(0, first, 0, kCB + 100, never));  // block 1 cut
  Bytes second = blocks_with_tags({9});  // block 1 sealed again from changed plaintext
  ASSERT_TRUE(served.reconcile(1, second, 100, kCB, never));
  EXPECT_EQ(std::memcmp(second.data(), first.data() + kCB, kCB), 0)
      << "the rest of a cut block must come from the seal its first part came from";
}

TEST(ServedBlocks, WholeBlockSealedDifferentlyIsRefused) {
  ServedBlocks served;
  const auto never = [] { return false; };
  Bytes first = blocks_with_tags({1, 2, 3});
  ASSERT_TRUE(served.reconcile(0, first, 0, first.size(), never));
  Bytes same = blocks_with_tags({2});
  EXPECT_TRUE(served.reconcile(1, same, 0, kCB, never));
  Bytes changed = blocks_with_tags({7});
  EXPECT_FALSE(served.reconcile(1, changed, 0, kCB, never));
}

TEST(ServedBlocks, ForgottenBlocksAreServedAgainOnlyIfTheFileIsUnchanged) {
  ServedBlocks served;
  const auto never = [] { return false; };
  const auto always = [] { return true; };
  // Serve one block in more chunks than are kept: the first chunks' fingerprints are dropped.
  for (std::uint64_t chunk = 0; chunk <= ServedBlocks::kMaxChunks; ++chunk) {
    Bytes b = blocks_with_tags({5});
    ASSERT_TRUE(served.reconcile(chunk * ServedBlocks::kChunkBlocks, b, 0, kCB, never));
  }
  Bytes again = blocks_with_tags({6});
  EXPECT_TRUE(served.reconcile(0, again, 0, kCB, never));
  Bytes third = blocks_with_tags({6});
  const std::uint64_t unseen = (ServedBlocks::kMaxChunks + 5) * ServedBlocks::kChunkBlocks;
  EXPECT_TRUE(served.reconcile(unseen, third, 0, kCB, always)) << "never served: nothing to prove";
  ServedBlocks other;
  for (std::uint64_t chunk = 0; chunk <= ServedBlocks::kMaxChunks; ++chunk) {
    Bytes b = blocks_with_tags({5});
    ASSERT_TRUE(other.reconcile(chunk * ServedBlocks::kChunkBlocks, b, 0, kCB, never));
  }
  Bytes changed = blocks_with_tags({6});
  EXPECT_FALSE(other.reconcile(0, changed, 0, kCB, always));
}

TEST(MountGuard, FindsEncfsrMountsInMountinfo) {
  const std::string info =
      "36 35 98:0 / /mnt1 rw,noatime master:1 - ext3 /dev/root rw,errors=continue\n"
      "40 36 0:45 / /srv/back\\040up/enc ro,nosuid - fuse.encfsr encfsr ro,user_id=0\n"
      "41 36 0:46 / /other ro - fuse.gocryptfs x ro\n";
  EXPECT_EQ(encfsr_mountpoints(info), std::vector<std::string>{"/srv/back up/enc"});
}

// --- the reverse view over a live tree --------------------------------------------------------

class LiveTreeModel : public ::testing::Test {
 protected:
  void SetUp() override {
    master_ = std::make_unique<crypto::MasterKey>(crypto::MasterKey::generate());
    keys_ = std::make_unique<crypto::KeySet>(*master_);
  }
  void add_source(std::vector<stdfs::path> tiers, std::vector<std::string> exclude = {}) {
    config_.sources.push_back(config::Source{"data", std::move(tiers), std::move(exclude), false});
  }
  std::unique_ptr<View> reverse(std::string mountpoint = {}) {
    ReverseOptions options;
    options.key_file_text = "KEY\n";
    options.key_uid = 1234;
    options.key_gid = 5678;
    options.mountpoint = std::move(mountpoint);
    return make_reverse_view(config_, *master_, std::move(options));
  }
  crypto::NodeId id_of(const std::string& name) const {
    return crypto::child_id(*keys_, crypto::child_id(*keys_, crypto::root_id(*keys_), "data"),
                            name);
  }
  // The inode of "data" in `view` (looked up by its encrypted name).
  Ino data_dir(View& view) {
    auto root = view.list(kRootIno);
    EXPECT_TRUE(root.ok());
    for (const DirEntry& e : *root) {
      if (e.type == S_IFDIR) return view.lookup(kRootIno, e.name)->ino;
    }
    return 0;
  }
  // The view name of plaintext `name` in "data" ("" if not listed).
  std::string view_name(View& view, Ino dir, const std::string& name) {
    const Ino want = crypto::inode_of(id_of(name));
    auto entries = view.list(dir);
    EXPECT_TRUE(entries.ok());
    for (const DirEntry& e : *entries) {
      if (e.ino == want) return e.name;
    }
    return {};
  }
  // Opens block `i` of ciphertext `sealed` (bytes of the view) as file `name` of `blocks` blocks.
  bool block_opens(const std::string& name, const Bytes& sealed, std::uint64_t i,
                   std::uint64_t blocks) {
    crypto::ContentCipher cipher(*keys_);
    const std::size_t at = static_cast<std::size_t>(i * kCB);
    const std::size_t n = std::min(kCB, sealed.size() - at);
    Bytes plain(n - crypto::kTagSize);
    return cipher.open(id_of(name), i, i + 1 == blocks, std::span(sealed).subspan(at, n), plain) ==
           crypto::Status::kOk;
  }

  TempDir src_;
  config::Config config_;
  std::unique_ptr<crypto::MasterKey> master_;
  std::unique_ptr<crypto::KeySet> keys_;
};

TEST_F(LiveTreeModel, BlockCutByTwoRequestsComesFromOneSealWhenTheSourceChangesBetween) {
  const std::string text = random_bytes(64 * 1024, 1);
  write_file(src_.path() / "f", text);
  add_source({src_.path()});
  auto view = reverse();
  const Ino dir = data_dir(*view);
  auto entry = view->lookup(dir, view_name(*view, dir, "f"));
  ASSERT_TRUE(entry.ok());
  auto file = view->open(entry->ino);
  ASSERT_TRUE(file.ok());
  const std::size_t total = crypto::cipher_size(text.size());
  Bytes copy(total);
  // Page-aligned requests, as the kernel makes them; the plaintext changes between each.
  for (std::size_t off = 0; off < total; off += 8192) {
    const std::size_t n = std::min<std::size_t>(8192, total - off);
    auto got = (*file)->read(off, std::span(copy).subspan(off, n));
    ASSERT_TRUE(got.ok()) << "offset " << off << ": " << got.error();
    ASSERT_EQ(*got, n);
    std::string edited = random_bytes(text.size(), static_cast<unsigned>(off + 7));
    write_file(src_.path() / "f", edited);  // same size, every block different
  }
  // Every block of what was read authenticates, even though no two requests saw the same file.
  for (std::uint64_t i = 0; i < crypto::block_count(text.size()); ++i) {
    EXPECT_TRUE(block_opens("f", copy, i, crypto::block_count(text.size()))) << "block " << i;
  }
}

TEST_F(LiveTreeModel, WholeBlockReadAgainAfterAnEditGivesEio) {
  write_file(src_.path() / "f", random_bytes(40000, 2));
  add_source({src_.path()});
  auto view = reverse();
  const Ino dir = data_dir(*view);
  auto entry = view->lookup(dir, view_name(*view, dir, "f"));
  auto file = view->open(entry->ino);
  Bytes first(kCB * 3);
  ASSERT_EQ(*(*file)->read(kCB * 2, first), first.size());
  write_file(src_.path() / "f", random_bytes(40000, 3));
  Bytes again(kCB * 3);
  auto got = (*file)->read(kCB * 2, again);  // e.g. the page cache was evicted meanwhile
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.error(), EIO);
}

TEST_F(LiveTreeModel, FileGrownSinceTheLookupIsServedWholeAtTheReportedSize) {
  const std::string first = random_bytes(5000, 4);
  write_file(src_.path() / "log", first);
  add_source({src_.path()});
  auto view = reverse();
  const Ino dir = data_dir(*view);
  auto entry = view->lookup(dir, view_name(*view, dir, "log"));
  ASSERT_EQ(entry->attr.st_size, static_cast<off_t>(crypto::cipher_size(5000)));
  write_file(src_.path() / "log", first + random_bytes(5000, 5));  // the log grows
  auto file = view->open(entry->ino);
  ASSERT_TRUE(file.ok());
  // While it is open, the view keeps reporting the size it serves.
  EXPECT_EQ(view->getattr(entry->ino)->st_size, static_cast<off_t>(crypto::cipher_size(5000)));
  Bytes copy(crypto::cipher_size(10000));
  auto got = (*file)->read(0, copy);
  ASSERT_TRUE(got.ok());
  ASSERT_EQ(*got, crypto::cipher_size(5000));
  copy.resize(*got);
  EXPECT_TRUE(block_opens("log", copy, 0, 2));
  EXPECT_TRUE(block_opens("log", copy, 1, 2)) << "the last block is sealed as the last one";
  file->reset();
  // Closed: the next stat shows the new size, and the next open serves it.
  EXPECT_EQ(view->getattr(entry->ino)->st_size, static_cast<off_t>(crypto::cipher_size(10000)));
  auto reopened = view->open(entry->ino);
  Bytes whole(crypto::cipher_size(10000));
  EXPECT_EQ(*(*reopened)->read(0, whole), whole.size());
}

TEST_F(LiveTreeModel, KeepCacheOnlyForAFileProvablyUnchanged) {
  write_file(src_.path() / "f", "same size");
  add_source({src_.path()});
  // Changed less than a second before an open, a version is never kept (see
  // InodeTable::note_open): let it age.
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));
  auto view = reverse();
  const Ino dir = data_dir(*view);
  const Ino ino = view->lookup(dir, view_name(*view, dir, "f"))->ino;
  EXPECT_FALSE((*view->open(ino))->keep_cache());
  EXPECT_TRUE((*view->open(ino))->keep_cache());
  struct stat before {};
  ASSERT_EQ(::stat((src_.path() / "f").c_str(), &before), 0);
  write_file(src_.path() / "f", "SAME SIZE");  // an in-place edit; mtime put back, ctime moves
  const timespec times[2] = {before.st_atim, before.st_mtim};
  ASSERT_EQ(::utimensat(AT_FDCWD, (src_.path() / "f").c_str(), times, 0), 0);
  EXPECT_FALSE((*view->open(ino))->keep_cache());
}

TEST_F(LiveTreeModel, GenerationChangesWhenTheNameIsBoundToAnotherFile) {
  write_file(src_.path() / "f", "one");
  write_file(src_.path() / "keep", "x");  // holds the old inode number so it is not reused
  add_source({src_.path()});
  auto view = reverse();
  const Ino dir = data_dir(*view);
  const std::string name = view_name(*view, dir, "f");
  const auto first = view->lookup(dir, name);
  ASSERT_EQ(::link((src_.path() / "f").c_str(), (src_.path() / "old").c_str()), 0);
  write_file(src_.path() / "new", "two");
  ASSERT_EQ(::rename((src_.path() / "new").c_str(), (src_.path() / "f").c_str()), 0);
  const auto second = view->lookup(dir, name);
  EXPECT_EQ(first->ino, second->ino);
  EXPECT_NE(first->generation, second->generation);
  EXPECT_EQ(view->lookup(dir, name)->generation, second->generation);
}

TEST_F(LiveTreeModel, FileReplacedByAFifoAfterTheLookupGivesAnErrnoWithoutBlocking) {
  write_file(src_.path() / "f", "file");
  add_source({src_.path()});
  auto view = reverse();
  const Ino dir = data_dir(*view);
  const Ino ino = view->lookup(dir, view_name(*view, dir, "f"))->ino;
  stdfs::remove(src_.path() / "f");
  ASSERT_EQ(::mkfifo((src_.path() / "f").c_str(), 0600), 0);
  auto opened = view->open(ino);  // would block forever without O_NONBLOCK
  ASSERT_FALSE(opened.ok());
  EXPECT_EQ(opened.error(), ENOENT);
}

TEST_F(LiveTreeModel, FifoNamedCacheDirTagDoesNotBlockTheListing) {
  stdfs::create_directory(src_.path() / "d");
  ASSERT_EQ(::mkfifo((src_.path() / "d/CACHEDIR.TAG").c_str(), 0600), 0);
  config_.sources.push_back(config::Source{"data", {src_.path()}, {}, true});
  auto view = reverse();
  const Ino dir = data_dir(*view);
  EXPECT_FALSE(view_name(*view, dir, "d").empty()) << "not a cache tag: the directory stays";
}

TEST_F(LiveTreeModel, OwnMountpointInsideTheSourceIsNeitherListedNorFound) {
  stdfs::create_directories(src_.path() / "sub/mnt");
  write_file(src_.path() / "sub/file", "x");
  add_source({src_.path()});
  auto view = reverse((src_.path() / "sub/mnt").string());
  const Ino dir = data_dir(*view);
  const auto sub = view->lookup(dir, view_name(*view, dir, "sub"));
  ASSERT_TRUE(sub.ok());
  auto entries = view->list(sub->ino);
  ASSERT_TRUE(entries.ok());
  EXPECT_EQ(entries->size(), 2u) << "only sub/file and encfsr.dir";
  config_.one_file_system = true;
  auto strict = reverse((src_.path() / "sub/mnt").string());
  const Ino dir2 = data_dir(*strict);
  const auto sub2 = strict->lookup(dir2, view_name(*strict, dir2, "sub"));
  EXPECT_EQ(strict->list(sub2->ino)->size(), 2u);
}

TEST_F(LiveTreeModel, TiersAgreeBetweenListingAndLookup) {
  TempDir second;
  ASSERT_EQ(::mkfifo((src_.path() / "x").c_str(), 0600), 0);  // first tier: not admitted
  write_file(second.path() / "x", "file in the second tier");
  stdfs::create_directory(src_.path() / "y");  // excluded as a directory in the first tier
  write_file(second.path() / "y", "file in the second tier");
  add_source({src_.path(), second.path()}, {"y/"});
  auto view = reverse();
  const Ino dir = data_dir(*view);
  EXPECT_TRUE(view_name(*view, dir, "x").empty());
  EXPECT_TRUE(view_name(*view, dir, "y").empty());
  auto entries = view->list(dir);
  ASSERT_TRUE(entries.ok());
  for (const DirEntry& e : *entries) {
    EXPECT_TRUE(view->lookup(dir, e.name).ok()) << "listed but not found: " << e.name;
  }
}

TEST_F(LiveTreeModel, KeyFileIsReadableByItsOwnerOnly) {
  add_source({src_.path()});
  auto view = reverse();
  auto key = view->lookup(kRootIno, "encfsr.key");
  ASSERT_TRUE(key.ok());
  EXPECT_EQ(key->attr.st_mode, static_cast<mode_t>(S_IFREG | 0400));
  EXPECT_EQ(key->attr.st_uid, 1234u);
  EXPECT_EQ(key->attr.st_gid, 5678u);
}

// --- the decrypt view over a hostile copy ----------------------------------------------------

class HostileCopy : public LiveTreeModel {
 protected:
  void SetUp() override {
    LiveTreeModel::SetUp();
    write_file(src_.path() / "f", random_bytes(10000, 9));
    add_source({src_.path()});
    auto view = reverse();
    const Ino dir = data_dir(*view);
    std::string data_name;
    auto root = view->list(kRootIno);
    ASSERT_TRUE(root.ok());
    for (const DirEntry& e : *root) {
      if (e.type == S_IFDIR) data_name = e.name;
    }
    file_name_ = view_name(*view, dir, "f");
    stdfs::create_directory(copy_.path() / data_name);
    cipher_ = copy_.path() / data_name / file_name_;
    auto file = view->open(view->lookup(dir, file_name_)->ino);
    Bytes all(crypto::cipher_size(10000));
    ASSERT_EQ(*(*file)->read(0, all), all.size());
    write_file(cipher_, std::string(all.begin(), all.end()));
  }
  // Opens plaintext data/f in the decrypt view of the copy.
  util::Result<std::unique_ptr<OpenFile>> open_f(bool lenient, std::vector<Damage>& damage) {
    util::UniqueFd fd(::open(copy_.path().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    DecryptOptions options;
    options.on_damage = [&damage](const Damage& d) { damage.push_back(d); };
    options.lenient_sizes = lenient;
    view_ = make_decrypt_view(std::move(fd), *master_, std::move(options));
    auto data = view_->lookup(kRootIno, "data");
    EXPECT_TRUE(data.ok());
    auto f = view_->lookup(data->ino, "f");
    if (!f) return util::Errno{f.error()};
    return view_->open(f->ino);
  }

  TempDir copy_;
  stdfs::path cipher_;
  std::string file_name_;
  std::unique_ptr<View> view_;
};

TEST_F(HostileCopy, ImpossibleSizesFailToOpenUnlessSalvaging) {
  for (const std::uint64_t size : {std::uint64_t{0}, std::uint64_t{9}, kCB * 2 + 5, kCB + 16}) {
    ASSERT_EQ(::truncate(cipher_.c_str(), static_cast<off_t>(size)), 0);
    std::vector<Damage> damage;
    auto strict = open_f(false, damage);
    ASSERT_FALSE(strict.ok()) << "size " << size;
    EXPECT_EQ(strict.error(), EIO);
    ASSERT_FALSE(damage.empty());
    EXPECT_EQ(damage.front().kind, DamageKind::kSize);
    if (size > kCB) {
      std::vector<Damage> more;
      EXPECT_TRUE(open_f(true, more).ok()) << "salvage reads the whole blocks";
    }
  }
}

TEST_F(HostileCopy, FifoAsContentFileIsReportedAndNeverOpened) {
  stdfs::remove(cipher_);
  ASSERT_EQ(::mkfifo(cipher_.c_str(), 0600), 0);
  std::vector<Damage> damage;
  util::UniqueFd fd(::open(copy_.path().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  DecryptOptions options;
  options.on_damage = [&damage](const Damage& d) { damage.push_back(d); };
  auto view = make_decrypt_view(std::move(fd), *master_, std::move(options));
  auto data = view->lookup(kRootIno, "data");
  auto listed = view->list(data->ino);
  ASSERT_TRUE(listed.ok());
  EXPECT_TRUE(listed->empty());
  ASSERT_EQ(damage.size(), 1u);
  EXPECT_EQ(damage.front().kind, DamageKind::kType);
  EXPECT_EQ(damage.front().plain_path, "data/f");
}

}  // namespace
}  // namespace encfsr::fs
