// tests/fuzz/content_blocks.cc — a ciphertext file of content blocks, as a copy holds it, opened
// block by block with the fixed test key (as the decrypt view reads it), and the size maths of
// crypto/size_math.h on the input's size and on 64-bit values taken from the input.
//
// Input: byte 0 selects the mode, the rest is the data.
//   even: the data is a ciphertext file; every block is opened. If all authenticate, sealing
//         the plaintext again must give the same bytes (the format is deterministic).
//   odd:  the data's first 8 bytes say how to damage a file (position, xor mask, cut), the
//         rest is plaintext: it is sealed, damaged, and opened; any change must fail to open.
#include <cstdint>
#include <cstring>
#include <vector>

#include "crypto/content_cipher.h"
#include "crypto/size_math.h"
#include "tests/fuzz/fuzz_common.h"

namespace {

using namespace encfsr;
using crypto::kBlockSize;
using crypto::kCipherBlockSize;
using crypto::kTagSize;

std::uint64_t le64(const std::uint8_t* p, std::size_t n) {
  std::uint64_t v = 0;
  for (std::size_t i = 0; i < n && i < 8; ++i) v |= std::uint64_t{p[i]} << (8 * i);
  return v;
}

void check_size_maths(std::uint64_t cipher) {
  const auto plain = crypto::plain_size(cipher);
  const std::uint64_t lenient = crypto::plain_size_lenient(cipher);
  ENCFSR_FUZZ_CHECK(lenient <= cipher);
  if (plain) {
    ENCFSR_FUZZ_CHECK(lenient == *plain);
    ENCFSR_FUZZ_CHECK(crypto::cipher_size(*plain) == cipher);
    ENCFSR_FUZZ_CHECK(crypto::block_count(*plain) >= 1);
  } else {
    // Only whole blocks are readable from a damaged size.
    ENCFSR_FUZZ_CHECK(lenient % kBlockSize == 0);
    ENCFSR_FUZZ_CHECK(lenient / kBlockSize * kCipherBlockSize <= cipher);
  }
  // Block ranges of a read at some offset, when it does not wrap around.
  const std::uint64_t offset = cipher / 3, length = cipher - offset;
  if (length > 0) {
    const auto p = crypto::blocks_of_plain_range(offset, length);
    ENCFSR_FUZZ_CHECK(p.first <= p.last);
    ENCFSR_FUZZ_CHECK(p.first * kBlockSize <= offset);
    ENCFSR_FUZZ_CHECK(offset + length - 1 - p.last * kBlockSize < kBlockSize);
    const auto c = crypto::blocks_of_cipher_range(offset, length);
    ENCFSR_FUZZ_CHECK(c.first <= c.last);
  }
}

// Opens every block of `file` (as the strict reader sees its size). Returns true and fills
// `plain` if all authenticate.
bool open_file(const crypto::ContentCipher& cipher, const crypto::NodeId& id,
               const std::vector<std::uint8_t>& file, std::vector<std::uint8_t>& plain) {
  const auto size = crypto::plain_size(file.size());
  const std::uint64_t readable = size ? *size : crypto::plain_size_lenient(file.size());
  const std::uint64_t blocks = size ? crypto::block_count(*size) : readable / kBlockSize;
  plain.assign(readable, 0);
  bool all_ok = size.has_value();
  for (std::uint64_t i = 0; i < blocks; ++i) {
    const std::uint64_t at = i * kCipherBlockSize;
    const std::uint64_t len = std::min<std::uint64_t>(kCipherBlockSize, file.size() - at);
    ENCFSR_FUZZ_CHECK(len >= kTagSize);
    const bool last = size.has_value() && i + 1 == blocks;
    std::span<std::uint8_t> out(plain.data() + i * kBlockSize, len - kTagSize);
    const crypto::Status s =
        cipher.open(id, i, last, std::span<const std::uint8_t>(file.data() + at, len), out);
    if (s != crypto::Status::kOk) {
      ENCFSR_FUZZ_CHECK(s == crypto::Status::kAuthFailed);
      for (std::uint8_t b : out) ENCFSR_FUZZ_CHECK(b == 0);  // wiped
      all_ok = false;
    }
  }
  return all_ok;
}

std::vector<std::uint8_t> seal_file(const crypto::ContentCipher& cipher, const crypto::NodeId& id,
                                    std::span<const std::uint8_t> plain) {
  std::vector<std::uint8_t> out(crypto::cipher_size(plain.size()));
  const std::uint64_t blocks = crypto::block_count(plain.size());
  for (std::uint64_t i = 0; i < blocks; ++i) {
    const std::size_t at = i * kBlockSize;
    const std::size_t len = std::min<std::size_t>(kBlockSize, plain.size() - at);
    cipher.seal(id, i, i + 1 == blocks, plain.subspan(at, len),
                std::span<std::uint8_t>(out.data() + i * kCipherBlockSize, len + kTagSize));
  }
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  static const crypto::ContentCipher cipher(fuzz::test_keys());
  static const crypto::NodeId id = fuzz::test_file_id();
  const std::uint8_t mode = data[0];
  ++data;
  --size;

  check_size_maths(size);
  check_size_maths(le64(data, size));
  if (size >= 8) check_size_maths(le64(data, 8) ^ 0xffffffffffff0000u);

  if ((mode & 1) == 0) {
    const std::vector<std::uint8_t> file(data, data + size);
    std::vector<std::uint8_t> plain;
    if (open_file(cipher, id, file, plain)) {
      ENCFSR_FUZZ_CHECK(seal_file(cipher, id, plain) == file);
    }
    return 0;
  }

  if (size < 8) return 0;
  const std::uint64_t edit = le64(data, 8);
  const std::span<const std::uint8_t> plain(data + 8, size - 8);
  std::vector<std::uint8_t> file = seal_file(cipher, id, plain);
  bool changed = false;
  const std::size_t pos = static_cast<std::size_t>(edit & 0xffffff) % file.size();
  const auto mask = static_cast<std::uint8_t>(edit >> 24);
  if (mask != 0) {
    file[pos] ^= mask;
    changed = true;
  }
  if ((edit >> 32) & 1) {  // cut the file at `cut`
    const std::size_t cut = static_cast<std::size_t>(edit >> 33) % file.size();
    file.resize(cut);
    changed = true;
  } else if ((edit >> 32) & 2 && file.size() >= 2 * kCipherBlockSize) {  // swap blocks 0 and 1
    std::swap_ranges(file.begin(), file.begin() + kCipherBlockSize,
                     file.begin() + kCipherBlockSize);
    changed = true;
  }
  std::vector<std::uint8_t> opened;
  const bool ok = open_file(cipher, id, file, opened);
  ENCFSR_FUZZ_CHECK(ok == !changed);
  if (ok) ENCFSR_FUZZ_CHECK(std::equal(opened.begin(), opened.end(), plain.begin(), plain.end()));
  return 0;
}
