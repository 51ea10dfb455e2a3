// tests/unit/crypto/content_cipher_test.cc — content SIV: round trips, determinism, block
// locality and detection of every kind of tampering (bit flips, truncation, extension,
// reordering, moved blocks/files, wrong key, wrong `last` flag).
#include "crypto/content_cipher.h"

#include <gtest/gtest.h>

#include <random>

#include "tests/unit/crypto/test_util.h"

namespace encfsr::crypto {
namespace {

using test::Bytes;
using test::cipher_block;
using test::decrypt_file;
using test::encrypt_file;

class ContentCipherTest : public ::testing::Test {
 protected:
  ContentCipherTest()
      : master_(test::vector_master_key()),
        keys_(master_),
        cipher_(keys_),
        file_(child_id(keys_, root_id(keys_), "file")),
        other_file_(child_id(keys_, root_id(keys_), "other")),
        rng_(7) {}

  MasterKey master_;
  KeySet keys_;
  ContentCipher cipher_;
  NodeId file_;
  NodeId other_file_;
  std::mt19937_64 rng_;
};

TEST_F(ContentCipherTest, RoundTripSizes) {
  for (std::size_t size : {0u, 1u, 4095u, 4096u, 4097u, 8192u, 1024u * 1024u + 1u}) {
    const Bytes plain = test::random_bytes(rng_, size);
    const Bytes ct = encrypt_file(cipher_, file_, plain);
    ASSERT_EQ(ct.size(), cipher_size(size));
    if (size > 0) {
      // The ciphertext does not contain the plaintext.
      EXPECT_NE(Bytes(ct.begin() + 16, ct.begin() + 16 + std::min<std::size_t>(size, 64)),
                Bytes(plain.begin(), plain.begin() + std::min<std::size_t>(size, 64)));
    }
    Bytes back;
    ASSERT_EQ(decrypt_file(cipher_, file_, ct, back), Status::kOk) << size;
    EXPECT_EQ(back, plain) << size;
  }
}

TEST_F(ContentCipherTest, Deterministic) {
  const Bytes plain = test::random_bytes(rng_, 10000);
  const Bytes a = encrypt_file(cipher_, file_, plain);
  EXPECT_EQ(a, encrypt_file(cipher_, file_, plain));
  const KeySet same_keys(test::vector_master_key());
  EXPECT_EQ(a, encrypt_file(ContentCipher(same_keys), file_, plain));
  EXPECT_NE(a, encrypt_file(cipher_, other_file_, plain));
  const KeySet other_keys(MasterKey::generate());
  EXPECT_NE(a, encrypt_file(ContentCipher(other_keys), file_, plain));
  // Identical plaintext blocks at different indices encrypt differently.
  const Bytes zeros(3 * 4096, 0);
  const Bytes z = encrypt_file(cipher_, file_, zeros);
  EXPECT_NE(cipher_block(z, 0), cipher_block(z, 1));
}

TEST_F(ContentCipherTest, OneChangedByteChangesExactlyOneBlock) {
  const Bytes plain = test::random_bytes(rng_, 3 * 4096 + 100);
  const Bytes ct = encrypt_file(cipher_, file_, plain);
  for (std::size_t pos : {0u, 4095u, 4096u, 9000u, 3u * 4096u + 99u}) {
    Bytes changed = plain;
    changed[pos] ^= 0x01;
    const Bytes ct2 = encrypt_file(cipher_, file_, changed);
    ASSERT_EQ(ct2.size(), ct.size());
    for (std::size_t b = 0; b < 4; ++b) {
      EXPECT_EQ(cipher_block(ct, b) != cipher_block(ct2, b), b == pos / 4096) << pos << " " << b;
    }
  }
}

TEST_F(ContentCipherTest, GrowingChangesOnlyOldLastBlockAndNewOnes) {
  const Bytes big = test::random_bytes(rng_, 5 * 4096);
  for (auto [from, to] : {std::pair<std::size_t, std::size_t>{5000, 9000},
                          {4096, 5000},
                          {8192, 8193},
                          {100, 4096},
                          {0, 20000}}) {
    const Bytes a = encrypt_file(cipher_, file_, std::span(big).first(from));
    const Bytes b = encrypt_file(cipher_, file_, std::span(big).first(to));
    const std::size_t old_blocks = block_count(from);
    for (std::size_t i = 0; i + 1 < old_blocks; ++i) {
      EXPECT_EQ(cipher_block(a, i), cipher_block(b, i)) << from << "->" << to << " block " << i;
    }
    // The old last block changes (its flag or its length changed).
    EXPECT_NE(cipher_block(a, old_blocks - 1), cipher_block(b, old_blocks - 1));
  }
}

TEST_F(ContentCipherTest, EveryBitFlipOfASmallBlockDetected) {
  const Bytes plain = test::random_bytes(rng_, 40);
  const Bytes ct = encrypt_file(cipher_, file_, plain);
  Bytes out;
  for (std::size_t bit = 0; bit < ct.size() * 8; ++bit) {
    Bytes bad = ct;
    bad[bit / 8] ^= static_cast<std::uint8_t>(1u << (bit % 8));
    ASSERT_EQ(decrypt_file(cipher_, file_, bad, out), Status::kAuthFailed) << bit;
  }
  // The empty file's single tag too.
  const Bytes empty = encrypt_file(cipher_, file_, Bytes{});
  for (std::size_t bit = 0; bit < 128; ++bit) {
    Bytes bad = empty;
    bad[bit / 8] ^= static_cast<std::uint8_t>(1u << (bit % 8));
    ASSERT_EQ(decrypt_file(cipher_, file_, bad, out), Status::kAuthFailed) << bit;
  }
}

TEST_F(ContentCipherTest, SampledBitFlipsOfAFullBlockDetected) {
  const Bytes plain = test::random_bytes(rng_, 4096);
  const Bytes ct = encrypt_file(cipher_, file_, plain);
  Bytes out(4096);
  for (int i = 0; i < 600; ++i) {
    const std::size_t bit = i < 128 ? static_cast<std::size_t>(i) : rng_() % (ct.size() * 8);
    Bytes bad = ct;
    bad[bit / 8] ^= static_cast<std::uint8_t>(1u << (bit % 8));
    ASSERT_EQ(cipher_.open(file_, 0, true, bad, out), Status::kAuthFailed) << bit;
    // out is wiped on failure.
    ASSERT_TRUE(std::all_of(out.begin(), out.end(), [](std::uint8_t b) { return b == 0; }));
  }
}

TEST_F(ContentCipherTest, TruncationAndExtensionDetected) {
  const Bytes plain = test::random_bytes(rng_, 3 * 4096 + 500);
  const Bytes ct = encrypt_file(cipher_, file_, plain);
  Bytes out;
  // At block boundaries the size is valid, but the new last block carries last = 0.
  for (std::size_t blocks = 1; blocks <= 3; ++blocks) {
    const Bytes cut(ct.begin(), ct.begin() + static_cast<std::ptrdiff_t>(blocks * 4112));
    EXPECT_EQ(decrypt_file(cipher_, file_, cut, out), Status::kAuthFailed) << blocks;
  }
  // Between boundaries: either the size is impossible or the shortened block fails.
  for (std::size_t len : {4112u + 1u, 4112u + 16u, 4112u + 17u, 4112u + 2000u, 3u * 4112u + 499u,
                          3u * 4112u + 515u}) {
    const Bytes cut(ct.begin(), ct.begin() + static_cast<std::ptrdiff_t>(len));
    EXPECT_NE(decrypt_file(cipher_, file_, cut, out), Status::kOk) << len;
  }
  EXPECT_NE(decrypt_file(cipher_, file_, Bytes{}, out), Status::kOk);
  // Extension: appended bytes, an appended copy of a block, a full file plus an empty last block.
  Bytes ext = ct;
  ext.push_back(0);
  EXPECT_NE(decrypt_file(cipher_, file_, ext, out), Status::kOk);
  ext = ct;
  const Bytes b0 = cipher_block(ct, 0);
  ext.insert(ext.end(), b0.begin(), b0.end());
  EXPECT_NE(decrypt_file(cipher_, file_, ext, out), Status::kOk);
  const Bytes full = encrypt_file(cipher_, file_, std::span(plain).first(8192));
  ext = full;
  ext.insert(ext.end(), 16, 0);
  EXPECT_NE(decrypt_file(cipher_, file_, ext, out), Status::kOk);
  // An empty file turned into a non-empty one by appending a valid-looking block.
  const Bytes one = encrypt_file(cipher_, file_, std::span(plain).first(1));
  Bytes two = encrypt_file(cipher_, file_, Bytes{});
  two.insert(two.end(), one.begin(), one.end());
  EXPECT_NE(decrypt_file(cipher_, file_, two, out), Status::kOk);
}

TEST_F(ContentCipherTest, ReorderedBlocksDetected) {
  const Bytes plain = test::random_bytes(rng_, 3 * 4096);
  const Bytes ct = encrypt_file(cipher_, file_, plain);
  Bytes swapped;
  for (std::size_t i : {1u, 0u, 2u}) {
    const Bytes b = cipher_block(ct, i);
    swapped.insert(swapped.end(), b.begin(), b.end());
  }
  Bytes out;
  EXPECT_EQ(decrypt_file(cipher_, file_, swapped, out), Status::kAuthFailed);
  // Opening block 0 at index 1 fails by itself.
  Bytes one(4096);
  EXPECT_EQ(cipher_.open(file_, 1, false, cipher_block(ct, 0), one), Status::kAuthFailed);
  EXPECT_EQ(cipher_.open(file_, 0, false, cipher_block(ct, 0), one), Status::kOk);
}

TEST_F(ContentCipherTest, MovedBlockOrFileDetected) {
  const Bytes plain = test::random_bytes(rng_, 2 * 4096 + 10);
  const Bytes a = encrypt_file(cipher_, file_, plain);
  Bytes b = encrypt_file(cipher_, other_file_, plain);
  Bytes out;
  // The whole file under another ID.
  EXPECT_EQ(decrypt_file(cipher_, other_file_, a, out), Status::kAuthFailed);
  // One block of the same content from the other file.
  std::copy(a.begin(), a.begin() + 4112, b.begin());
  EXPECT_EQ(decrypt_file(cipher_, other_file_, b, out), Status::kAuthFailed);
}

TEST_F(ContentCipherTest, WrongKeyDetected) {
  const Bytes plain = test::random_bytes(rng_, 5000);
  const Bytes ct = encrypt_file(cipher_, file_, plain);
  const KeySet other(MasterKey::generate());
  Bytes out;
  EXPECT_EQ(decrypt_file(ContentCipher(other), file_, ct, out), Status::kAuthFailed);
}

TEST_F(ContentCipherTest, WrongLastFlagDetected) {
  const Bytes plain = test::random_bytes(rng_, 4096);
  Bytes ct(4112), out(4096);
  cipher_.seal(file_, 0, false, plain, ct);
  EXPECT_EQ(cipher_.open(file_, 0, true, ct, out), Status::kAuthFailed);
  ASSERT_EQ(cipher_.open(file_, 0, false, ct, out), Status::kOk);
  EXPECT_EQ(out, plain);
  cipher_.seal(file_, 0, true, plain, ct);
  EXPECT_EQ(cipher_.open(file_, 0, false, ct, out), Status::kAuthFailed);
}

TEST_F(ContentCipherTest, IndexUsesAll64Bits) {
  const Bytes plain = test::random_bytes(rng_, 100);
  Bytes a(116), b(116), out(100);
  cipher_.seal(file_, 1, true, plain, a);
  cipher_.seal(file_, 1 + (1ull << 40), true, plain, b);
  EXPECT_NE(a, b);
  EXPECT_EQ(cipher_.open(file_, 1 + (1ull << 40), true, b, out), Status::kOk);
  EXPECT_EQ(cipher_.open(file_, 1, true, b, out), Status::kAuthFailed);
}

TEST_F(ContentCipherTest, BadSizes) {
  Bytes out(5000);
  Bytes ct(15);
  EXPECT_EQ(cipher_.open(file_, 0, true, ct, std::span(out).first(0)), Status::kBadSize);
  ct.resize(4113);
  EXPECT_EQ(cipher_.open(file_, 0, true, ct, std::span(out).first(4097)), Status::kBadSize);
  ct.resize(100);
  EXPECT_EQ(cipher_.open(file_, 0, true, ct, std::span(out).first(83)), Status::kBadSize);
  // seal with a wrong output size writes nothing meaningful (all zero), never overflows.
  Bytes plain(10, 1), small(20, 0xff);
  cipher_.seal(file_, 0, true, plain, small);
  EXPECT_TRUE(std::all_of(small.begin(), small.end(), [](std::uint8_t x) { return x == 0; }));
}

}  // namespace
}  // namespace encfsr::crypto
