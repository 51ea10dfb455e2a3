// tests/unit/util/mountinfo_test.cc — parsing /proc/self/mountinfo lines.
#include "src/util/mountinfo.h"

#include <gtest/gtest.h>

namespace encfsr::util {
namespace {

constexpr const char* kSample =
    "22 1 254:0 / / rw,relatime shared:1 - ext4 /dev/vda rw\n"
    "95 22 0:52 / /mnt/with\\040space rw,nosuid,nodev,relatime shared:50 - fuse.encfsr encfsr "
    "ro,user_id=0,group_id=0\n"
    "96 95 0:53 / /mnt/with\\040space ro,nosuid,nodev - fuse.encfsr data ro\n"
    "97 22 0:54 / /mnt/plain rw master:3 unbindable - fuse /dev/fuse rw\n"
    "98 22 0:55 / /mnt/other rw - tmpfs tmpfs rw\n"
    "garbage line without fields\n"
    "99 22 0:56 / /mnt/nosep rw shared:9 fuse.encfsr x rw\n"
    "100 22 bad / /mnt/baddev rw - fuse.encfsr x rw\n";

TEST(MountinfoTest, ParsesFieldsAndSkipsMalformedLines) {
  const auto entries = parse_mountinfo(kSample);
  ASSERT_EQ(entries.size(), 5U);
  EXPECT_EQ(entries[0].major, 254U);
  EXPECT_EQ(entries[0].minor, 0U);
  EXPECT_EQ(entries[0].mountpoint, "/");
  EXPECT_EQ(entries[0].fstype, "ext4");
  EXPECT_EQ(entries[1].mountpoint, "/mnt/with space");
  EXPECT_EQ(entries[1].fstype, "fuse.encfsr");
  EXPECT_EQ(entries[3].fstype, "fuse");
  EXPECT_EQ(entries[3].minor, 54U);
}

TEST(MountinfoTest, FindsTheTopmostFuseMount) {
  const auto entries = parse_mountinfo(kSample);
  const auto stacked = find_fuse_mount(entries, "/mnt/with space");
  ASSERT_TRUE(stacked.has_value());
  EXPECT_EQ(stacked->minor, 53U);  // mounted over the one with minor 52
  ASSERT_TRUE(find_fuse_mount(entries, "/mnt/plain").has_value());
  EXPECT_FALSE(find_fuse_mount(entries, "/mnt/other").has_value());  // tmpfs
  EXPECT_FALSE(find_fuse_mount(entries, "/mnt/with").has_value());
  EXPECT_FALSE(find_fuse_mount(entries, "/mnt/nosep").has_value());
}

TEST(MountinfoTest, FuseTypes) {
  EXPECT_TRUE(is_fuse_fstype("fuse"));
  EXPECT_TRUE(is_fuse_fstype("fuseblk"));
  EXPECT_TRUE(is_fuse_fstype("fuse.encfsr"));
  EXPECT_FALSE(is_fuse_fstype("fusectl"));
  EXPECT_FALSE(is_fuse_fstype("ext4"));
}

TEST(MountinfoTest, ReadsThisProcessTable) {
  const auto entries = read_mountinfo();
  bool root = false;
  for (const MountEntry& e : entries) root = root || e.mountpoint == "/";
  EXPECT_TRUE(root);
}

}  // namespace
}  // namespace encfsr::util
