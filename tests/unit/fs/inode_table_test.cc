// tests/unit/fs/inode_table_test.cc — the table of looked-up inodes: paths rebuilt from the
// parents' names (both kinds of Node::extra), parents kept while children refer to them,
// collisions refused, and the open plan (sealed size, page cache kept only for the same
// version).
#include "src/fs/inode_table.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <ctime>
#include <string>
#include <vector>

namespace encfsr::fs {
namespace {

crypto::NodeId id_of(std::uint8_t seed) {
  crypto::NodeId id{};
  id.fill(seed);
  return id;
}

Node backed(Ino parent, std::uint8_t seed, const std::string& name, const std::string& extra = {},
            mode_t type = S_IFDIR) {
  Node n;
  n.kind = NodeKind::kBacked;
  n.type = type;
  n.parent = parent;
  n.id = id_of(seed);
  n.source = 3;
  n.tier = 2;
  n.name = name;
  n.extra = extra;
  return n;
}

Ino ref(InodeTable& table, const Node& n) {
  auto ino = table.ref(n);
  EXPECT_TRUE(ino.has_value());
  return ino.value_or(0);
}

TEST(InodeTable, RebuildsPathsFromTheParentsNames) {
  InodeTable table(id_of(1));
  Node source;
  source.kind = NodeKind::kSource;
  source.type = S_IFDIR;
  source.parent = kRootIno;
  source.id = id_of(2);
  source.source = 3;
  const Ino src = ref(table, source);
  const Ino a = ref(table, backed(src, 3, "a"));
  const Ino b = ref(table, backed(a, 4, "bee b"));
  const Ino f = ref(table, backed(b, 5, "file.txt", "", S_IFREG));
  EXPECT_EQ(f, crypto::inode_of(id_of(5)));

  auto n = table.find(f);
  ASSERT_TRUE(n);
  EXPECT_EQ(n->rel, "a/bee b/file.txt");
  EXPECT_EQ(n->name, "file.txt");
  EXPECT_EQ(n->type, static_cast<mode_t>(S_IFREG));
  EXPECT_EQ(n->parent, b);
  EXPECT_EQ(n->source, 3U);
  EXPECT_EQ(n->tier, 2U);
  EXPECT_EQ(n->id, id_of(5));
  EXPECT_EQ(table.find(src)->rel, "");
  EXPECT_EQ(table.find(a)->rel, "a");

  // A reverse view's side file keeps its contents as given (kOpaque), however long.
  Node side;
  side.kind = NodeKind::kSideFile;
  side.type = S_IFREG;
  side.parent = b;
  side.id = id_of(6);
  side.extra = std::string(700, 'x');
  const Ino s = ref(table, side);
  EXPECT_EQ(table.find(s)->extra, side.extra);
  EXPECT_EQ(table.find(s)->rel, "");
  EXPECT_EQ(table.find(kRootIno)->kind, NodeKind::kRoot);
  EXPECT_EQ(table.find(999).error(), ESTALE);
}

TEST(InodeTable, JoinsTheDecryptViewsPlaintextPaths) {
  InodeTable table(id_of(1), ExtraKind::kJoinedPath);
  const Ino d = ref(table, backed(kRootIno, 2, "CIPHER1", "plain dir"));
  const Ino f = ref(table, backed(d, 3, "CIPHER2", "plain dir/ünïcode file", S_IFREG));
  auto n = table.find(f);
  ASSERT_TRUE(n);
  EXPECT_EQ(n->rel, "CIPHER1/CIPHER2");
  EXPECT_EQ(n->name, "CIPHER2");
  EXPECT_EQ(n->extra, "plain dir/ünïcode file");
  EXPECT_EQ(table.find(d)->extra, "plain dir");
}

TEST(InodeTable, KeepsAParentWhileAChildRefersToIt) {
  InodeTable table(id_of(1));
  const Ino d = ref(table, backed(kRootIno, 2, "dir"));
  const Ino f = ref(table, backed(d, 3, "file", "", S_IFREG));
  EXPECT_EQ(table.size(), 3U);
  // The kernel may forget a directory before its child: the child's path must still resolve.
  table.forget(d, 1);
  EXPECT_EQ(table.size(), 3U);
  EXPECT_EQ(table.find(f)->rel, "dir/file");
  // Forgetting the child frees both.
  ref(table, backed(d, 3, "file", "", S_IFREG));
  table.forget(f, 2);
  EXPECT_EQ(table.size(), 1U);
  EXPECT_EQ(table.find(d).error(), ESTALE);
  EXPECT_EQ(table.find(f).error(), ESTALE);
  // The root is never forgotten.
  table.forget(kRootIno, 1000);
  EXPECT_EQ(table.size(), 1U);
}

TEST(InodeTable, CountsLookupsUntilAllAreForgotten) {
  InodeTable table(id_of(1));
  const Ino d = ref(table, backed(kRootIno, 2, "dir"));
  ref(table, backed(kRootIno, 2, "dir"));
  ref(table, backed(kRootIno, 2, "dir"));
  table.forget(d, 2);
  EXPECT_TRUE(table.find(d));
  table.forget(d, 1);
  EXPECT_FALSE(table.find(d));
}

TEST(InodeTable, RefusesCollisionsAndOrphans) {
  InodeTable table(id_of(1));
  ref(table, backed(kRootIno, 2, "dir"));
  // Same inode number (first 8 bytes), another ID: a collision.
  Node other = backed(kRootIno, 2, "other");
  other.id[15] ^= 1;
  EXPECT_FALSE(table.ref(other).has_value());
  // A parent the table does not hold.
  EXPECT_FALSE(table.ref(backed(12345, 7, "orphan")).has_value());
  EXPECT_EQ(table.size(), 2U);
}

TEST(InodeTable, RefreshesTypeAndTierOnEveryLookup) {
  InodeTable table(id_of(1));
  Node n = backed(kRootIno, 2, "entry", "", S_IFREG);
  const Ino ino = ref(table, n);
  n.type = S_IFLNK;
  n.tier = 0;
  ref(table, n);
  EXPECT_EQ(table.find(ino)->type, static_cast<mode_t>(S_IFLNK));
  EXPECT_EQ(table.find(ino)->tier, 0U);
}

TEST(InodeTable, OffersTheLeastRecentlyUsedFilesThatAreNotOpen) {
  InodeTable table(id_of(1));
  const Ino d = ref(table, backed(kRootIno, 2, "dir"));
  const Ino a = ref(table, backed(d, 3, "a", "", S_IFREG));
  const Ino b = ref(table, backed(d, 4, "b", "", S_IFREG));
  const Ino c = ref(table, backed(kRootIno, 5, "c", "", S_IFREG));
  const Ino e = ref(table, backed(kRootIno, 6, "e", "", S_IFREG));
  ASSERT_TRUE(table.find(a));  // a used again: b is now the oldest leaf
  struct stat st {};
  table.note_open(c, st);  // open: never offered
  // Not the root, not dir (a directory), not c (open).
  EXPECT_EQ(table.least_recently_used(10), (std::vector<Ino>{b, e, a}));
  EXPECT_EQ(table.least_recently_used(2), (std::vector<Ino>{b, e}));
  // get() does not count as a use.
  ASSERT_TRUE(table.get(b));
  EXPECT_EQ(table.least_recently_used(1), (std::vector<Ino>{b}));
  table.note_close(c);
  table.forget(a, 1);
  table.forget(b, 1);
  // dir has no children left and is the oldest entry, but a directory is never offered: the
  // kernel would unhash it even while it is some process's working directory.
  EXPECT_EQ(table.least_recently_used(10), (std::vector<Ino>{c, e}));
  EXPECT_TRUE(table.get(d));
}

struct stat stat_of(std::int64_t size, std::int64_t mtime) {
  struct stat st {};
  st.st_dev = 8;
  st.st_ino = 42;
  st.st_size = size;
  st.st_mtim.tv_sec = mtime;
  st.st_ctim.tv_sec = mtime;
  return st;
}

TEST(InodeTable, SealsAtTheReportedSizeAndKeepsTheCacheOnlyForTheSameVersion) {
  InodeTable table(id_of(1));
  const Ino f = ref(table, backed(kRootIno, 2, "file", "", S_IFREG));
  EXPECT_EQ(table.reply_size(f, 1000), 1000U);
  // Grown since the stat: sealed at the size reported.
  auto plan = table.note_open(f, stat_of(5000, 10));
  EXPECT_EQ(plan.seal_size, 1000U);
  EXPECT_FALSE(plan.keep_cache);
  // While open, attributes show the sealed size.
  EXPECT_EQ(table.reply_size(f, 5000), 1000U);
  table.note_close(f);
  EXPECT_EQ(table.reply_size(f, 5000), 5000U);
  // Shrunk since the stat: sealed at the current size.
  plan = table.note_open(f, stat_of(4000, 11));
  EXPECT_EQ(plan.seal_size, 4000U);
  EXPECT_FALSE(plan.keep_cache);
  table.note_close(f);
  // The same version again: the kernel may keep its pages.
  EXPECT_EQ(table.reply_size(f, 4000), 4000U);
  plan = table.note_open(f, stat_of(4000, 11));
  EXPECT_TRUE(plan.keep_cache);
  table.note_close(f);
  // Another mtime, same size: not the same version.
  EXPECT_FALSE(table.note_open(f, stat_of(4000, 12)).keep_cache);
  table.note_close(f);
  // A version changed just now may be confused with the next change in the same clock tick
  // (or a file deleted and recreated on a reused inode number): never kept.
  const auto now = static_cast<std::int64_t>(::time(nullptr));
  EXPECT_FALSE(table.note_open(f, stat_of(4000, now)).keep_cache);
  table.note_close(f);
  EXPECT_FALSE(table.note_open(f, stat_of(4000, now)).keep_cache);
  table.note_close(f);
  // An inode the table does not hold is served at its current size.
  EXPECT_EQ(table.note_open(777, stat_of(10, 1)).seal_size, 10U);
}

}  // namespace
}  // namespace encfsr::fs
