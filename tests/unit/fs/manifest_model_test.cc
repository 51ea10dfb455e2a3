// tests/unit/fs/manifest_model_test.cc — directory manifests through the FUSE-free views: the
// reverse view's encfsr.dir (snapshots, consistency while open) and the decrypt view's use of it
// (metadata, xattrs and link groups from the manifest; missing, unexpected and retyped entries).
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <future>
#include <map>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "crypto/manifest.h"
#include "src/fs/decrypt_view.h"
#include "src/fs/manifest_cache.h"
#include "src/fs/reverse_view.h"
#include "tests/unit/fs/fs_test_util.h"

namespace encfsr::fs {
namespace {

using util::Result;

// Copies a view to `dest` through the View interface (names as the view shows them).
void copy_view(View& view, Ino dir, const stdfs::path& dest) {
  stdfs::create_directories(dest);
  auto entries = view.list(dir);
  ASSERT_TRUE(entries.ok());
  for (const DirEntry& e : *entries) {
    auto entry = view.lookup(dir, e.name);
    ASSERT_TRUE(entry.ok()) << e.name;
    const stdfs::path target = dest / e.name;
    if (S_ISDIR(entry->attr.st_mode)) {
      copy_view(view, entry->ino, target);
      ::chmod(target.c_str(), entry->attr.st_mode & 07777);
    } else if (S_ISLNK(entry->attr.st_mode)) {
      auto link = view.readlink(entry->ino);
      ASSERT_TRUE(link.ok());
      stdfs::create_symlink(*link, target);
    } else {
      auto file = view.open(entry->ino);
      ASSERT_TRUE(file.ok());
      std::string data;
      std::vector<std::uint8_t> buf(65536);
      for (;;) {
        auto n = (*file)->read(data.size(), buf);
        ASSERT_TRUE(n.ok());
        if (*n == 0) break;
        data.append(reinterpret_cast<const char*>(buf.data()), *n);
      }
      write_file(target, data);
      // As rsync -a would: the view's mode and mtime on the copy.
      ::chmod(target.c_str(), entry->attr.st_mode & 07777);
      const struct timespec times[2] = {entry->attr.st_atim, entry->attr.st_mtim};
      ::utimensat(AT_FDCWD, target.c_str(), times, 0);
    }
    view.forget(entry->ino, 1);
  }
}

class ManifestModel : public ::testing::Test {
 protected:
  void SetUp() override {
    const stdfs::path src = plain_.path();
    stdfs::create_directories(src / "sub");
    write_file(src / "ping", "ping binary");
    ASSERT_EQ(::chmod((src / "ping").c_str(), 04755), 0);
    ASSERT_EQ(::setxattr((src / "ping").c_str(), "user.note", "hello", 5, 0), 0);
    write_file(src / "a.txt", "a");
    ASSERT_EQ(::link((src / "a.txt").c_str(), (src / "sub/b.txt").c_str()), 0);
    write_file(src / "sub/c.txt", "c");
    stdfs::create_symlink("a.txt", src / "link");
    config_.sources.push_back(config::Source{"data", {src}, {}, false});
    master_ = std::make_unique<crypto::MasterKey>(crypto::MasterKey::generate());
  }

  std::unique_ptr<View> reverse() {
    ReverseOptions options;
    options.key_file_text = "KEY\n";
    return make_reverse_view(config_, *master_, std::move(options));
  }
  std::unique_ptr<View> decrypt(std::vector<Damage>* damage = nullptr) {
    util::UniqueFd fd(::open(copy_.path().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    DecryptOptions options;
    options.manifests = true;
    options.compare_owners = true;
    options.on_damage = [damage](const Damage& d) {
      if (damage != nullptr) damage->push_back(d);
    };
    return make_decrypt_view(std::move(fd), *master_, std::move(options));
  }
  // Plaintext path -> entry of the decrypt view (looked up from the root).
  Result<Entry> find(View& view, const std::vector<std::string>& path) {
    Ino dir = kRootIno;
    Result<Entry> entry = util::Errno{ENOENT};
    for (const std::string& c : path) {
      entry = view.lookup(dir, c);
      if (!entry) return entry;
      dir = entry->ino;
    }
    return entry;
  }
  // The copy's entry names of a plaintext directory, by plaintext name (via inode numbers,
  // which both views derive from the same node IDs).
  std::map<std::string, stdfs::path> cipher_children(const std::vector<std::string>& dir_path) {
    auto rv = reverse();
    auto dv = decrypt();
    Ino rdir = kRootIno, ddir = kRootIno;
    stdfs::path cdir = copy_.path();
    for (const std::string& c : dir_path) {
      auto d = dv->lookup(ddir, c);
      EXPECT_TRUE(d.ok()) << c;
      const auto listing = rv->list(rdir);
      for (const DirEntry& e : *listing) {
        if (e.ino == d->ino) {
          cdir /= e.name;
          rdir = rv->lookup(rdir, e.name)->ino;
        }
      }
      ddir = d->ino;
    }
    std::map<Ino, std::string> plain;
    const auto plain_listing = dv->list(ddir);
    for (const DirEntry& e : *plain_listing) plain[e.ino] = e.name;
    std::map<std::string, stdfs::path> out;
    const auto cipher_listing = rv->list(rdir);
    for (const DirEntry& e : *cipher_listing) {
      if (plain.count(e.ino) != 0) out[plain[e.ino]] = cdir / e.name;
    }
    return out;
  }

  TempDir plain_, copy_;
  config::Config config_;
  std::unique_ptr<crypto::MasterKey> master_;
};

TEST_F(ManifestModel, EveryDirectoryHasAManifestAndTheDecryptViewTakesMetadataFromIt) {
  auto view = reverse();
  copy_view(*view, kRootIno, copy_.path());
  EXPECT_TRUE(stdfs::is_regular_file(copy_.path() / "encfsr.dir"));
  std::vector<Damage> damage;
  auto dv = decrypt(&damage);
  auto ping = find(*dv, {"data", "ping"});
  ASSERT_TRUE(ping.ok());
  EXPECT_EQ(ping->attr.st_mode & 07777, 04755u);
  auto extra = dv->extra_attrs(ping->ino);
  ASSERT_TRUE(extra.ok());
  EXPECT_TRUE(extra->authenticated);
  ASSERT_EQ(extra->xattrs.size(), 1u);
  EXPECT_EQ(extra->xattrs[0].name, "user.note");
  EXPECT_EQ(extra->xattrs[0].value, "hello");
  auto a = find(*dv, {"data", "a.txt"});
  auto b = find(*dv, {"data", "sub", "b.txt"});
  auto c = find(*dv, {"data", "sub", "c.txt"});
  ASSERT_TRUE(a.ok() && b.ok() && c.ok());
  EXPECT_NE(dv->extra_attrs(a->ino)->link_group, 0u);
  EXPECT_EQ(dv->extra_attrs(a->ino)->link_group, dv->extra_attrs(b->ino)->link_group);
  EXPECT_EQ(dv->extra_attrs(c->ino)->link_group, 0u);
  for (const Damage& d : damage) ADD_FAILURE() << describe(d.kind) << " " << d.plain_path;
}

TEST_F(ManifestModel, TamperedCopiesAreReported) {
  copy_view(*reverse(), kRootIno, copy_.path());
  auto children = cipher_children({"data"});
  ASSERT_EQ(children.count("ping"), 1u);
  // Planted setuid bits are not shown, and reported.
  ASSERT_EQ(::chmod(children["a.txt"].c_str(), 06777), 0);
  // A deleted file, a file replaced by a directory.
  stdfs::remove(children["link"]);
  stdfs::remove(children["ping"]);
  stdfs::create_directory(children["ping"]);
  std::vector<Damage> damage;
  auto dv = decrypt(&damage);
  auto data = find(*dv, {"data"});
  ASSERT_TRUE(data.ok());
  auto entries = dv->list(data->ino);
  ASSERT_TRUE(entries.ok());
  std::vector<std::string> names;
  for (const DirEntry& e : *entries) names.push_back(e.name);
  EXPECT_EQ(names, (std::vector<std::string>{"a.txt", "sub"}));
  auto a = dv->lookup(data->ino, "a.txt");
  ASSERT_TRUE(a.ok());
  struct stat source {};
  ASSERT_EQ(::lstat((plain_.path() / "a.txt").c_str(), &source), 0);
  EXPECT_EQ(a->attr.st_mode & 07777, source.st_mode & 07777) << "the manifest's, not 06777";
  EXPECT_EQ(dv->lookup(data->ino, "ping").error(), EIO);
  std::map<DamageKind, std::vector<std::string>> seen;
  for (const Damage& d : damage) seen[d.kind].push_back(d.plain_path);
  EXPECT_EQ(seen[DamageKind::kMissing], std::vector<std::string>{"data/link"});
  ASSERT_FALSE(seen[DamageKind::kType].empty());
  EXPECT_EQ(seen[DamageKind::kType][0], "data/ping");
  EXPECT_EQ(seen[DamageKind::kMetadata], std::vector<std::string>{"data/a.txt"});
}

TEST_F(ManifestModel, AnEntryTheManifestDoesNotListIsHiddenAndAManifestFromElsewhereFails) {
  copy_view(*reverse(), kRootIno, copy_.path());
  auto children = cipher_children({"data"});
  // A file added to the source after the copy, copied into it alone: authentic name and
  // content, but not in the manifest the copy holds.
  write_file(plain_.path() / "new.txt", "new");
  stdfs::path copy_dir = children["sub"].parent_path();
  {
    TempDir again;
    auto view = reverse();
    copy_view(*view, kRootIno, again.path());
    for (auto& e : stdfs::recursive_directory_iterator(again.path())) {
      const auto rel = e.path().lexically_relative(again.path());
      if (!stdfs::exists(copy_.path() / rel) && e.is_regular_file()) {
        stdfs::copy_file(e.path(), copy_.path() / rel);
      }
    }
  }
  // The sub directory's manifest replaced by the source directory's.
  stdfs::copy_file(copy_dir / "encfsr.dir", children["sub"] / "encfsr.dir",
                   stdfs::copy_options::overwrite_existing);
  std::vector<Damage> damage;
  auto dv = decrypt(&damage);
  auto data = find(*dv, {"data"});
  ASSERT_TRUE(data.ok());
  EXPECT_EQ(dv->lookup(data->ino, "new.txt").error(), ENOENT);
  auto listed = dv->list(data->ino);
  for (const DirEntry& e : *listed) EXPECT_NE(e.name, "new.txt");
  auto s = dv->lookup(data->ino, "sub");
  ASSERT_TRUE(s.ok());
  ASSERT_TRUE(dv->list(s->ino).ok());
  std::map<DamageKind, std::set<std::string>> seen;  // the same entry may be reported twice
  for (const Damage& d : damage) seen[d.kind].insert(d.plain_path);
  EXPECT_EQ(seen[DamageKind::kUnexpected], std::set<std::string>{"data/new.txt"});
  EXPECT_EQ(seen[DamageKind::kManifest], std::set<std::string>{"data/sub"});
}

// readdirplus answers from the listing's pass (View::lookup_listed): the same inode, type,
// mode, owner, size and mtime as a lookup of the name.
TEST_F(ManifestModel, AListedEntryLooksUpAsItsNameDoes) {
  auto view = reverse();
  const auto root = view->list(kRootIno);
  ASSERT_TRUE(root.ok());
  Ino dir = 0;
  for (const DirEntry& e : *root) {
    if (e.type == S_IFDIR) dir = view->lookup(kRootIno, e.name)->ino;
  }
  ASSERT_NE(dir, 0u);
  const auto listing = view->list(dir);
  ASSERT_TRUE(listing.ok());
  int listed = 0;
  for (const DirEntry& e : *listing) {
    if (e.listed) ++listed;
    auto by_listing = view->lookup_listed(dir, e);
    auto by_name = view->lookup(dir, e.name);
    ASSERT_TRUE(by_listing.ok() && by_name.ok()) << e.name;
    EXPECT_EQ(by_listing->ino, e.ino);
    EXPECT_EQ(by_listing->ino, by_name->ino);
    EXPECT_EQ(by_listing->generation, by_name->generation);
    EXPECT_EQ(by_listing->attr.st_mode, by_name->attr.st_mode) << e.name;
    EXPECT_EQ(by_listing->attr.st_uid, by_name->attr.st_uid);
    EXPECT_EQ(by_listing->attr.st_size, by_name->attr.st_size) << e.name;
    EXPECT_EQ(by_listing->attr.st_mtim.tv_sec, by_name->attr.st_mtim.tv_sec);
    EXPECT_EQ(by_listing->attr.st_mtim.tv_nsec, by_name->attr.st_mtim.tv_nsec);
    view->forget(e.ino, 2);
  }
  EXPECT_EQ(listed, 4);  // ping, a.txt, link and sub; not the virtual encfsr.dir
}

// A pass over a directory reuses the xattrs of the previous pass for an entry whose inode and
// ctime have not changed; an xattr change sets the ctime, so the next pass reads them again.
TEST_F(ManifestModel, AnXattrChangedSinceTheLastPassIsInTheNextManifest) {
  // Reuse needs a ctime over a second older than the pass.
  std::this_thread::sleep_for(std::chrono::milliseconds(2100));
  auto view = reverse();
  copy_view(*view, kRootIno, copy_.path());
  ASSERT_EQ(::setxattr((plain_.path() / "ping").c_str(), "user.note", "again", 5, 0), 0);
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));  // past the snapshot's ttl
  stdfs::remove_all(copy_.path());
  copy_view(*view, kRootIno, copy_.path());
  std::vector<Damage> damage;
  auto dv = decrypt(&damage);
  auto ping = find(*dv, {"data", "ping"});
  ASSERT_TRUE(ping.ok());
  auto extra = dv->extra_attrs(ping->ino);
  ASSERT_TRUE(extra.ok());
  ASSERT_EQ(extra->xattrs.size(), 1u);
  EXPECT_EQ(extra->xattrs[0].value, "again");
  for (const Damage& d : damage) ADD_FAILURE() << describe(d.kind) << " " << d.plain_path;
}

// Everything a walk of `view` below `dir` shows, by path of shown names: each entry's inode,
// type and attributes as readdirplus gives them (lookup_listed), and each manifest's bytes.
// Not atimes: listing a directory may change its own.
void walk_shown(View& view, Ino dir, const std::string& path,
                std::map<std::string, std::string>& out) {
  auto entries = view.list(dir);
  ASSERT_TRUE(entries.ok()) << path;
  for (const DirEntry& e : *entries) {
    auto entry = view.lookup_listed(dir, e);
    ASSERT_TRUE(entry.ok()) << path << "/" << e.name;
    const struct stat& a = entry->attr;
    std::string& shown = out[path + "/" + e.name];
    for (const long long v :
         {static_cast<long long>(entry->ino), static_cast<long long>(a.st_mode),
          static_cast<long long>(a.st_size), static_cast<long long>(a.st_uid),
          static_cast<long long>(a.st_gid), static_cast<long long>(a.st_mtim.tv_sec),
          static_cast<long long>(a.st_mtim.tv_nsec), static_cast<long long>(a.st_ctim.tv_sec),
          static_cast<long long>(a.st_ctim.tv_nsec)}) {
      shown += std::to_string(v) + " ";
    }
    if (S_ISDIR(a.st_mode)) {
      walk_shown(view, entry->ino, path + "/" + e.name, out);
    } else if (e.name == crypto::kManifestName) {
      auto file = view.open(entry->ino);
      ASSERT_TRUE(file.ok());
      std::vector<std::uint8_t> buf(static_cast<std::size_t>(a.st_size) + 1);
      auto n = (*file)->read(0, buf);
      ASSERT_TRUE(n.ok());
      shown.append(reinterpret_cast<const char*>(buf.data()), *n);
    }
    view.forget(entry->ino, 1);
  }
}

std::map<std::string, std::string> walk_shown(View& view) {
  std::map<std::string, std::string> out;
  walk_shown(view, kRootIno, "", out);
  return out;
}

// A pass over a directory whose tiers and children have not changed serves the previous pass
// again; any change the view shows makes a new pass, so that a view that has served many
// passes shows exactly what a new view shows. Each change is made in a directory of its own.
TEST_F(ManifestModel, APassIsServedAgainOnlyWhileNothingItShowsHasChanged) {
  TempDir tier2;
  config_.sources[0].paths.push_back(tier2.path());
  config_.sources[0].exclude_caches = true;
  const stdfs::path src = plain_.path();
  const std::vector<std::string> dirs = {"size", "new",       "xattr", "replaced", "mode",
                                         "tag",  "untouched", "deep",  "tier"};
  for (const std::string& d : dirs) {
    stdfs::create_directories(src / d);
    write_file(src / d / "f", "0123456789");
  }
  stdfs::create_directories(src / "deep/sub");
  stdfs::create_directories(src / "tag/cache");
  write_file(src / "tag/cache/CACHEDIR.TAG", "Signature: not yet\n");
  // Each directory listed once now, so that the walks below do not change their atimes.
  for (const auto& e : stdfs::recursive_directory_iterator(src)) (void)e;
  for (const auto& e : stdfs::recursive_directory_iterator(tier2.path())) (void)e;
  std::this_thread::sleep_for(std::chrono::milliseconds(2100));  // ctimes over a second old

  PassCounts counts;
  std::atomic<std::uint64_t>& reused = counts.reused;
  ReverseOptions options;
  options.key_file_text = "KEY\n";
  options.walk_ahead = false;  // every pass made where the walk asks for it
  options.counts = &counts;
  auto view = make_reverse_view(config_, *master_, std::move(options));
  const auto first = walk_shown(*view);
  EXPECT_EQ(reused.load(), 0u);
  // Every directory is served again but the root (never) and "tag" (its CACHEDIR.TAG is read
  // again at every pass): the source, "sub", the nine above and deep/sub. Anything else on the
  // machine that touches the tree (a read sets an atime) makes new passes, so up to three walks.
  for (int walk = 0; walk < 3 && (walk == 0 || reused.load() != 12u); ++walk) {
    reused = 0;
    std::this_thread::sleep_for(std::chrono::milliseconds(1100));  // past the snapshots' ttl
    EXPECT_EQ(walk_shown(*view), first);
  }
  EXPECT_EQ(reused.load(), 12u);

  write_file(src / "size/f", "0123456789abc");
  write_file(src / "new/g", "new");
  ASSERT_EQ(::setxattr((src / "xattr/f").c_str(), "user.note", "set", 3, 0), 0);
  write_file(src / "replaced/g", "9876543210");
  stdfs::rename(src / "replaced/g", src / "replaced/f");
  ASSERT_EQ(::chmod((src / "mode/f").c_str(), 0600), 0);
  write_file(src / "tag/cache/CACHEDIR.TAG", "Signature: 8a477f597d28d172789f06886806bc55\n");
  write_file(src / "deep/sub/g", "below");
  stdfs::create_directories(tier2.path() / "tier");
  write_file(tier2.path() / "tier/g", "from the second tier");
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));
  reused = 0;
  const auto after = walk_shown(*view);
  const auto fresh = walk_shown(*reverse());
  EXPECT_EQ(after, fresh);
  EXPECT_NE(after, first);
  // The source root gained "tier" in tier 2, so the source, "size", "new", "xattr",
  // "replaced", "mode", "tag", "deep", "deep/sub" and "tier" were listed again; at most "sub"
  // and "untouched" were served again.
  EXPECT_LE(reused.load(), 2u);
  // The changes show: the cache directory left "tag"'s listing, and "new", "deep/sub" and
  // "tier" gained an entry each.
  const auto children = [](const std::map<std::string, std::string>& walk) {
    std::map<std::string, int> n;
    for (const auto& entry : walk) ++n[entry.first.substr(0, entry.first.rfind('/'))];
    return n;
  };
  const auto before_counts = children(first), after_counts = children(after);
  int fewer = 0, more = 0;
  for (const auto& [dir, n] : after_counts) {
    if (before_counts.count(dir) == 0) continue;
    fewer += n == before_counts.at(dir) - 1 ? 1 : 0;
    more += n == before_counts.at(dir) + 1 ? 1 : 0;
  }
  EXPECT_EQ(fewer, 1);
  EXPECT_EQ(more, 3);
}

TEST_F(ManifestModel, AnOpenManifestKeepsTheVersionItWasShownAt) {
  auto view = reverse();
  Ino dir = 0;
  const auto root = view->list(kRootIno);
  for (const DirEntry& e : *root) {
    if (e.type == S_IFDIR) dir = view->lookup(kRootIno, e.name)->ino;
  }
  ASSERT_NE(dir, 0u);
  ASSERT_TRUE(view->list(dir).ok());
  auto manifest = view->lookup(dir, std::string(crypto::kManifestName));
  ASSERT_TRUE(manifest.ok());
  auto file = view->open(manifest->ino);
  ASSERT_TRUE(file.ok());
  // The directory changes and is listed again: the open file and attribute replies keep the
  // version shown; after the close the new one is shown.
  write_file(plain_.path() / "more.txt", std::string(100, 'x'));
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));  // past the snapshot's ttl
  ASSERT_TRUE(view->list(dir).ok());
  EXPECT_EQ(view->getattr(manifest->ino)->st_size, manifest->attr.st_size);
  std::vector<std::uint8_t> buf(1 << 20);
  EXPECT_EQ(*(*file)->read(0, buf), static_cast<std::size_t>(manifest->attr.st_size));
  file->reset();
  const auto after = view->getattr(manifest->ino);
  ASSERT_TRUE(after.ok());
  EXPECT_NE(after->st_size, manifest->attr.st_size);
  EXPECT_NE(after->st_mtim.tv_sec, manifest->attr.st_mtim.tv_sec);
}

TEST(ManifestCache, KeepsBoundsAndNeverEvictsAnOpenSnapshot) {
  ManifestCache cache(std::chrono::seconds(60), 4, 1 << 20);
  int builds = 0;
  auto builder = [&](std::size_t size) {
    return [&builds, size]() -> Result<SnapshotPtr> {
      ++builds;
      auto s = std::make_shared<DirSnapshot>();
      s->manifest.assign(size, 'm');
      return SnapshotPtr(std::move(s));
    };
  };
  auto opened = cache.open(1, builder(10));
  ASSERT_TRUE(opened.ok());
  for (Ino dir = 2; dir < 20; ++dir) ASSERT_TRUE(cache.for_listing(dir, builder(300000)).ok());
  // Directory 1 stays (open); a listing of it now is a new snapshot, but attributes keep the open.
  EXPECT_EQ((*cache.for_attr(1, builder(99)))->manifest.size(), 10u);
  cache.release(1);
  ASSERT_TRUE(cache.for_listing(1, builder(20)).ok());
  EXPECT_EQ((*cache.for_attr(1, builder(99)))->manifest.size(), 10u)
      << "a listing within the ttl reuses the snapshot";
}

// Two listings of one directory at once make one pass: the second waits for the first's.
TEST(ManifestCache, AListingWaitsForThePassAnotherThreadIsMaking) {
  ManifestCache cache(std::chrono::seconds(60), 4, 1 << 20);
  std::atomic<int> builds{0};
  std::promise<void> entered, go;
  std::shared_future<void> released = go.get_future().share();
  const auto slow = [&]() -> Result<SnapshotPtr> {
    ++builds;
    entered.set_value();
    released.wait();
    return SnapshotPtr(std::make_shared<DirSnapshot>());
  };
  const auto fast = [&]() -> Result<SnapshotPtr> {
    ++builds;
    return SnapshotPtr(std::make_shared<DirSnapshot>());
  };
  Result<SnapshotPtr> first = util::Errno{EIO};
  std::thread lister([&] { first = cache.for_listing(7, slow); });
  entered.get_future().wait();
  EXPECT_TRUE(cache.fresh_or_building(7));
  cache.make_ahead(7, fast);  // a pass ahead does not make a second one either
  Result<SnapshotPtr> second = util::Errno{EIO};
  std::thread waiter([&] { second = cache.for_listing(7, fast); });
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  go.set_value();
  lister.join();
  waiter.join();
  ASSERT_TRUE(first.ok() && second.ok());
  EXPECT_EQ(*first, *second);
  EXPECT_EQ(builds.load(), 1);
}

// for_listing says whether a listing is the first served from a pass: the one that made it, or
// the first after a pass made ahead; not the ones after.
TEST(ManifestCache, TellsTheFirstListingOfEachPass) {
  ManifestCache cache(std::chrono::seconds(60), 4, 1 << 20);
  const auto build = []() -> Result<SnapshotPtr> {
    return SnapshotPtr(std::make_shared<DirSnapshot>());
  };
  bool first = false;
  ASSERT_TRUE(cache.for_listing(1, build, &first).ok());
  EXPECT_TRUE(first);
  ASSERT_TRUE(cache.for_listing(1, build, &first).ok());
  EXPECT_FALSE(first);
  cache.make_ahead(2, build);
  ASSERT_TRUE(cache.for_listing(2, build, &first).ok());
  EXPECT_TRUE(first);
  ASSERT_TRUE(cache.for_listing(2, build, &first).ok());
  EXPECT_FALSE(first);
}

// A listing queues its subdirectories for the walk-ahead thread, which makes their passes, so
// that the walk's own listings of them find them made.
TEST_F(ManifestModel, TheWalkAheadThreadMakesTheListedSubdirectoriesPasses) {
  for (int i = 0; i < 5; ++i) {
    const stdfs::path d = plain_.path() / ("d" + std::to_string(i));
    stdfs::create_directories(d / "inner");
    write_file(d / "f", "x");
  }
  PassCounts counts;
  ReverseOptions options;
  options.key_file_text = "KEY\n";
  options.counts = &counts;
  auto view = make_reverse_view(config_, *master_, std::move(options));
  auto root = view->list(kRootIno);
  ASSERT_TRUE(root.ok());
  Ino source = 0;
  for (const DirEntry& e : *root) {
    if (e.type == S_IFDIR) source = view->lookup(kRootIno, e.name)->ino;
  }
  ASSERT_NE(source, 0u);
  auto listing = view->list(source);
  ASSERT_TRUE(listing.ok());
  // "sub" and d0 to d4, each made by the walk-ahead thread.
  for (int i = 0; i < 500 && counts.ahead.load() < 6; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_EQ(counts.ahead.load(), 6u);
  const std::uint64_t passes = counts.made.load() + counts.reused.load();
  int subdirs = 0;
  for (const DirEntry& e : *listing) {
    if (e.type != S_IFDIR) continue;
    auto d = view->lookup(source, e.name);
    ASSERT_TRUE(d.ok());
    ASSERT_TRUE(view->list(d->ino).ok());
    ++subdirs;
  }
  EXPECT_EQ(subdirs, 6);
  // Those listings found the passes made; each of d0 to d4 queued its "inner", and the
  // walk-ahead thread made those: every pass since was its own.
  for (int i = 0; i < 500 && counts.ahead.load() < 11; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_EQ(counts.ahead.load(), 11u);
  EXPECT_EQ(counts.made.load() + counts.reused.load() - passes, 5u);
}

}  // namespace
}  // namespace encfsr::fs
