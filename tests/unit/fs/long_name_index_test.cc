// tests/unit/fs/long_name_index_test.cc — the reverse view's index of long name forms: hits,
// misses, bounds, and lookups of long names through the view (before and after a listing, for
// names created since the listing and for names gone).
#include "src/fs/long_name_index.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <set>
#include <string>
#include <vector>

#include "src/fs/reverse_view.h"
#include "tests/unit/fs/fs_test_util.h"

namespace encfsr::fs {
namespace {

TEST(LongNameIndex, FindsWhatWasStoredAndNothingElse) {
  LongNameIndex index(100);
  index.store(7, {{"encfsr.long.b", "bee"}, {"encfsr.long.a", "ay"}});
  EXPECT_EQ(index.find(7, "encfsr.long.a"), "ay");
  EXPECT_EQ(index.find(7, "encfsr.long.b"), "bee");
  EXPECT_EQ(index.find(7, "encfsr.long.c"), std::nullopt);
  EXPECT_EQ(index.find(8, "encfsr.long.a"), std::nullopt);
  // A store replaces the directory's pairs.
  index.store(7, {{"encfsr.long.c", "sea"}});
  EXPECT_EQ(index.find(7, "encfsr.long.a"), std::nullopt);
  EXPECT_EQ(index.find(7, "encfsr.long.c"), "sea");
  EXPECT_EQ(index.names(), 1u);
  index.store(7, {});
  EXPECT_EQ(index.names(), 0u);
}

TEST(LongNameIndex, KeepsAtMostMaxNamesLeastRecentlyUsedOut) {
  LongNameIndex index(4);
  index.store(1, {{"x1", "1"}, {"y1", "1"}});
  index.store(2, {{"x2", "2"}, {"y2", "2"}});
  EXPECT_EQ(index.find(1, "x1"), "1");  // 1 is now the most recently used
  index.store(3, {{"x3", "3"}});
  EXPECT_EQ(index.names(), 3u);
  EXPECT_EQ(index.find(2, "x2"), std::nullopt);  // 2 went out
  EXPECT_EQ(index.find(1, "y1"), "1");
  EXPECT_EQ(index.find(3, "x3"), "3");
  // A directory with more long names than the bound is not kept at all.
  index.store(4, {{"a", "a"}, {"b", "b"}, {"c", "c"}, {"d", "d"}, {"e", "e"}});
  EXPECT_EQ(index.find(4, "a"), std::nullopt);
  EXPECT_LE(index.names(), 4u);
}

class LongNameLookup : public ::testing::Test {
 protected:
  void SetUp() override {
    for (int i = 0; i < 40; ++i) write_file(name(i), std::to_string(i));
    config_.sources.push_back(config::Source{"data", {plain_.path()}, {}, false});
    master_ = std::make_unique<crypto::MasterKey>(crypto::MasterKey::generate());
    ReverseOptions options;
    options.key_file_text = "K\n";
    view_ = make_reverse_view(config_, *master_, std::move(options));
    auto roots = view_->list(kRootIno);
    ASSERT_TRUE(roots.ok());
    for (const DirEntry& e : *roots) {
      if (e.type == S_IFDIR) data_ino_ = view_->lookup(kRootIno, e.name)->ino;
    }
    ASSERT_NE(data_ino_, 0u);
  }
  stdfs::path name(int i) const {
    return plain_.path() / (std::string(180, 'n') + std::to_string(i));
  }
  // The view's long forms of the data directory, as a listing shows them.
  std::vector<std::string> long_forms() {
    std::vector<std::string> out;
    auto listing = view_->list(data_ino_);
    EXPECT_TRUE(listing.ok());
    if (!listing) return out;
    for (const DirEntry& e : *listing) {
      if (e.name.starts_with("encfsr.long.") && !e.name.ends_with(".name")) out.push_back(e.name);
    }
    return out;
  }

  TempDir plain_;
  config::Config config_;
  std::unique_ptr<crypto::MasterKey> master_;
  std::unique_ptr<View> view_;
  Ino data_ino_ = 0;
};

TEST_F(LongNameLookup, EveryLongFormOfAListingLooksUpToItsFile) {
  const auto forms = long_forms();
  ASSERT_EQ(forms.size(), 40u);
  std::set<std::uint64_t> sizes;
  for (const std::string& form : forms) {
    auto e = view_->lookup(data_ino_, form);
    ASSERT_TRUE(e.ok()) << form;
    EXPECT_TRUE(S_ISREG(e->attr.st_mode));
    auto side = view_->lookup(data_ino_, form + ".name");
    EXPECT_TRUE(side.ok()) << form;
  }
}

TEST_F(LongNameLookup, NamesCreatedOrRemovedSinceTheListingAreSeen) {
  const auto before = long_forms();  // view_ has listed (and indexed) the directory
  write_file(name(99), "new");
  auto fresh_view = [&] {
    ReverseOptions options;
    options.key_file_text = "K\n";
    return make_reverse_view(config_, *master_, std::move(options));
  };
  // The new name's form, from another view's listing.
  auto other = fresh_view();
  auto roots = other->list(kRootIno);
  ASSERT_TRUE(roots.ok());
  std::string data_name;
  for (const DirEntry& e : *roots) {
    if (e.type == S_IFDIR) data_name = e.name;
  }
  auto data = other->lookup(kRootIno, data_name);
  ASSERT_TRUE(data.ok());
  auto listing = other->list(data->ino);
  ASSERT_TRUE(listing.ok());
  std::string fresh;
  for (const DirEntry& e : *listing) {
    if (e.name.starts_with("encfsr.long.") && !e.name.ends_with(".name") &&
        std::find(before.begin(), before.end(), e.name) == before.end()) {
      fresh = e.name;
    }
  }
  ASSERT_FALSE(fresh.empty());
  // view_'s index of its listing lacks it: the miss scans the directory.
  EXPECT_TRUE(view_->lookup(data_ino_, fresh).ok());
  // A view that has never listed the directory finds it too.
  auto third = fresh_view();
  auto third_data = third->lookup(kRootIno, data_name);
  ASSERT_TRUE(third_data.ok());
  EXPECT_TRUE(third->lookup(third_data->ino, fresh).ok());
  // A name removed after the listing that indexed it: the index still maps the form, and the
  // lookup then finds no file.
  stdfs::remove(name(3));
  std::size_t gone = 0;
  for (const std::string& form : before) gone += view_->lookup(data_ino_, form).ok() ? 0 : 1;
  EXPECT_EQ(gone, 1u);
  EXPECT_EQ(
      view_->lookup(data_ino_, "encfsr.long.aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa")
          .error(),
      ENOENT);
}

}  // namespace
}  // namespace encfsr::fs
