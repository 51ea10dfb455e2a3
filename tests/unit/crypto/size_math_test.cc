// tests/unit/crypto/size_math_test.cc — plaintext/ciphertext size maths and block ranges.
#include "crypto/size_math.h"

#include <gtest/gtest.h>

#include <random>

namespace encfsr::crypto {
namespace {

TEST(SizeMath, KnownValues) {
  EXPECT_EQ(block_count(0), 1u);
  EXPECT_EQ(block_count(1), 1u);
  EXPECT_EQ(block_count(4096), 1u);
  EXPECT_EQ(block_count(4097), 2u);
  EXPECT_EQ(cipher_size(0), 16u);
  EXPECT_EQ(cipher_size(1), 17u);
  EXPECT_EQ(cipher_size(4096), 4112u);
  EXPECT_EQ(cipher_size(4097), 4129u);
  EXPECT_EQ(plain_size(16), 0u);
  EXPECT_EQ(plain_size(17), 1u);
  EXPECT_EQ(plain_size(4112), 4096u);
  EXPECT_EQ(plain_size(4129), 4097u);
}

TEST(SizeMath, EveryCipherSizeUpToThreeBlocks) {
  // Every plaintext size round trips; every ciphertext size is either produced by exactly one
  // plaintext size or rejected.
  const std::uint64_t limit = 3 * kCipherBlockSize + 2 * kTagSize;
  std::vector<int> produced(limit + 1, 0);
  for (std::uint64_t p = 0; cipher_size(p) <= limit; ++p) {
    const std::uint64_t c = cipher_size(p);
    ASSERT_EQ(plain_size(c), p) << p;
    ASSERT_EQ(plain_size_lenient(c), p);
    ++produced[c];
  }
  std::uint64_t rejected = 0;
  for (std::uint64_t c = 0; c <= limit; ++c) {
    ASSERT_LE(produced[c], 1);
    const auto p = plain_size(c);
    ASSERT_EQ(p.has_value(), produced[c] == 1) << c;
    if (!p) {
      ++rejected;
      // Lenient: the whole blocks only.
      EXPECT_EQ(plain_size_lenient(c), c / kCipherBlockSize * kBlockSize) << c;
    }
  }
  // 0..15, then 1..16 bytes after each of the 3 full blocks.
  EXPECT_EQ(rejected, 16u + 3 * 16u);
}

TEST(SizeMath, ImpossibleSizesRejected) {
  EXPECT_FALSE(plain_size(0));
  EXPECT_FALSE(plain_size(1));
  EXPECT_FALSE(plain_size(15));
  EXPECT_FALSE(plain_size(4112 + 1));
  EXPECT_FALSE(plain_size(4112 + 16));  // a last block of a tag and no data
  EXPECT_FALSE(plain_size(2 * 4112 + 7));
  EXPECT_EQ(plain_size(4112 + 17), 4097u);
}

TEST(SizeMath, RandomLargeSizes) {
  std::mt19937_64 rng(42);
  for (int i = 0; i < 100000; ++i) {
    const std::uint64_t p = rng() >> 4;
    ASSERT_EQ(plain_size(cipher_size(p)), p);
    const std::uint64_t c = rng() >> 4;
    if (const auto q = plain_size(c)) {
      ASSERT_EQ(cipher_size(*q), c);
    } else {
      ASSERT_LE(c % kCipherBlockSize, kTagSize);
    }
  }
  const std::uint64_t max_c = ~0ull;
  if (const auto q = plain_size(max_c)) {
    EXPECT_EQ(cipher_size(*q), max_c);
  }
}

TEST(SizeMath, BlockRanges) {
  EXPECT_EQ(blocks_of_plain_range(0, 1).first, 0u);
  EXPECT_EQ(blocks_of_plain_range(0, 4096).last, 0u);
  EXPECT_EQ(blocks_of_plain_range(0, 4097).last, 1u);
  EXPECT_EQ(blocks_of_plain_range(4095, 2).first, 0u);
  EXPECT_EQ(blocks_of_plain_range(4095, 2).last, 1u);
  EXPECT_EQ(blocks_of_cipher_range(4112, 1).first, 1u);
  EXPECT_EQ(blocks_of_cipher_range(4111, 2).last, 1u);
  EXPECT_EQ(blocks_of_cipher_range(0, 4112).last, 0u);
}

}  // namespace
}  // namespace encfsr::crypto
