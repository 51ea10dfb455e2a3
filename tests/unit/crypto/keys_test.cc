// tests/unit/crypto/keys_test.cc — SecureBuffer, status texts, master keys, subkeys, key check,
// view tag, node IDs and inode numbers.
#include "crypto/keys.h"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <fstream>
#include <set>
#include <string>

#include "crypto/node_id.h"
#include "crypto/secure_buffer.h"
#include "crypto/status.h"
#include "tests/unit/crypto/test_util.h"

namespace encfsr::crypto {
namespace {

using test::Bytes;

// mlock does not survive fork(): in a child, relock_secure_buffers() locks the live buffers
// again. The child reports through its exit status: 0 ok, 1 locked before the relock (nothing
// to test), 2 still not locked after it.
TEST(SecureBuffer, RelockAfterFork) {
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
  GTEST_SKIP() << "the sanitizers make mlock a no-op";
#endif
  SecureBuffer key(4096 * 3);
  const auto locked_kib = []() -> long {
    std::ifstream status("/proc/self/status");
    std::string line;
    while (std::getline(status, line)) {
      if (line.rfind("VmLck:", 0) == 0) return std::stol(line.substr(6));
    }
    return -1;
  };
  const pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    if (locked_kib() != 0) ::_exit(1);
    if (relock_secure_buffers() != 0) ::_exit(3);
    ::_exit(locked_kib() >= 12 ? 0 : 2);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0);
}

TEST(SecureBuffer, ZeroedMovableAndTruncatable) {
  ASSERT_TRUE(ensure_sodium());
  SecureBuffer a(40);
  ASSERT_EQ(a.size(), 40u);
  for (auto b : a.span()) EXPECT_EQ(b, 0);
  std::memcpy(a.data(), "secret password", 15);
  SecureBuffer b(std::move(a));
  EXPECT_TRUE(a.empty());
  EXPECT_EQ(a.data(), nullptr);
  EXPECT_EQ(b.view().substr(0, 15), "secret password");
  b.truncate(6);
  EXPECT_EQ(b.view(), "secret");
  b.truncate(100);  // growing is a no-op
  EXPECT_EQ(b.size(), 6u);
  SecureBuffer c;
  EXPECT_TRUE(c.empty());
  c = std::move(b);
  EXPECT_EQ(c.view(), "secret");
  SecureBuffer zero(0);
  EXPECT_TRUE(zero.empty());
}

TEST(Status, EveryCodeHasADescription) {
  std::set<std::string> texts;
  for (Status s :
       {Status::kOk, Status::kAuthFailed, Status::kBadSize, Status::kBadEncoding,
        Status::kBadFormat, Status::kTooLong, Status::kWrongPassword, Status::kInternal}) {
    ASSERT_NE(describe(s), nullptr);
    texts.insert(describe(s));
  }
  EXPECT_EQ(texts.size(), 8u);
  EXPECT_STREQ(describe(Status::kAuthFailed), "authentication failed");
}

TEST(MasterKey, GenerateIsRandomAndFromBytesChecksLength) {
  const MasterKey a = MasterKey::generate();
  const MasterKey b = MasterKey::generate();
  ASSERT_EQ(a.bytes().size(), kMasterKeyBytes);
  EXPECT_FALSE(std::equal(a.bytes().begin(), a.bytes().end(), b.bytes().begin()));

  MasterKey c;
  Bytes raw(31, 7);
  EXPECT_EQ(MasterKey::from_bytes(raw, c), Status::kBadSize);
  raw.resize(33, 7);
  EXPECT_EQ(MasterKey::from_bytes(raw, c), Status::kBadSize);
  raw.resize(32);
  ASSERT_EQ(MasterKey::from_bytes(raw, c), Status::kOk);
  EXPECT_TRUE(std::equal(raw.begin(), raw.end(), c.bytes().begin()));

  const MasterKey z = MasterKey::zero();
  for (auto byte : z.bytes()) EXPECT_EQ(byte, 0);
}

TEST(KeySet, TwelveDistinctSubkeysDependingOnTheMasterKey) {
  const MasterKey master = test::vector_master_key();
  const KeySet keys(master);
  std::set<Bytes> seen;
  for (std::uint64_t id = 1; id <= 12; ++id) {
    const auto k = keys.get(static_cast<Subkey>(id));
    ASSERT_EQ(k.size(), kSubkeyBytes);
    seen.insert(Bytes(k.begin(), k.end()));
  }
  seen.insert(Bytes(master.bytes().begin(), master.bytes().end()));
  EXPECT_EQ(seen.size(), 13u);
  EXPECT_TRUE(keys.get(static_cast<Subkey>(0)).empty());
  EXPECT_TRUE(keys.get(static_cast<Subkey>(13)).empty());

  const KeySet same(test::vector_master_key());
  const KeySet other(MasterKey::generate());
  const auto a = keys.get(Subkey::kContentMac);
  const auto b = same.get(Subkey::kContentMac);
  const auto c = other.get(Subkey::kContentMac);
  EXPECT_TRUE(std::equal(a.begin(), a.end(), b.begin()));
  EXPECT_FALSE(std::equal(a.begin(), a.end(), c.begin()));
}

TEST(KeySet, KeyCheckAndViewTag) {
  const KeySet keys(test::vector_master_key());
  const KeySet other(MasterKey::generate());
  EXPECT_EQ(key_check(keys), key_check(KeySet(test::vector_master_key())));
  EXPECT_NE(key_check(keys), key_check(other));
  EXPECT_NE(view_params_tag(keys, "names: base64url\n"), view_params_tag(keys, "names: base32\n"));
  EXPECT_NE(view_params_tag(keys, "names: base64url\n"),
            view_params_tag(other, "names: base64url\n"));
  EXPECT_EQ(view_params_tag(keys, "names: base32\n"), view_params_tag(keys, "names: base32\n"));
}

TEST(NodeId, PathBound) {
  const KeySet keys(test::vector_master_key());
  const KeySet other(MasterKey::generate());
  const NodeId root = root_id(keys);
  EXPECT_EQ(root, root_id(KeySet(test::vector_master_key())));
  EXPECT_NE(root, root_id(other));
  const NodeId a = child_id(keys, root, "a");
  EXPECT_EQ(a, child_id(keys, root, "a"));
  EXPECT_NE(a, child_id(keys, root, "b"));
  EXPECT_NE(a, root);
  const NodeId aa = child_id(keys, a, "a");
  EXPECT_NE(aa, a);
  EXPECT_NE(child_id(keys, a, "b"), child_id(keys, child_id(keys, root, "b"), "a"));
  EXPECT_NE(child_id(keys, root, "a"), child_id(other, root_id(other), "a"));
}

TEST(NodeId, InodeIsLittleEndianAndNeverZeroOrOne) {
  NodeId id{};
  for (std::size_t i = 0; i < 16; ++i) id[i] = static_cast<std::uint8_t>(i + 1);
  EXPECT_EQ(inode_of(id), 0x0807060504030201ull);

  NodeId zero{};
  EXPECT_GE(inode_of(zero), 2u);
  EXPECT_EQ(inode_of(zero), inode_of(zero));
  NodeId one{};
  one[0] = 1;
  EXPECT_GE(inode_of(one), 2u);
  NodeId zero_head{};
  zero_head[8] = 0x42;
  EXPECT_EQ(inode_of(zero_head), 0x42u);

  const KeySet keys(test::vector_master_key());
  std::set<std::uint64_t> inodes;
  const NodeId root = root_id(keys);
  for (int i = 0; i < 1000; ++i) {
    const std::uint64_t ino = inode_of(child_id(keys, root, std::to_string(i)));
    EXPECT_GE(ino, 2u);
    inodes.insert(ino);
  }
  EXPECT_EQ(inodes.size(), 1000u);
}

}  // namespace
}  // namespace encfsr::crypto
