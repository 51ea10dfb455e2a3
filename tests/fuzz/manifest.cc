// tests/fuzz/manifest.cc — directory manifests (crypto/manifest.h) as a copy holds them
// ("encfsr.dir"), opened with the fixed test key for the test directory.
//
// Input: byte 0 selects the mode (modulo 3), the rest is the data.
//   0: the data is a sealed manifest: open it (framing, chunk tags, trailer or sole chunk).
//      If it opens, sealing the records again must open to the same records.
//   1: the data is one chunk's plaintext: decode its records; whatever decodes must encode and
//      decode to the same records, and seal + open to them when the writer accepts them.
//   2: the data is split into 1..8 chunk plaintexts that are sealed here with the test key, as
//      a writer holding the key could (docs/FORMAT.md), then opened: reaches the record
//      decoder behind valid tags, the order check across chunks, the sole chunk and trailer.
// mtime_of() is also called on every input (the view calls it on the copy's bytes).
#include "crypto/manifest.h"

#include <fuzzer/FuzzedDataProvider.h>
#include <sodium.h>

#include <array>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include "tests/fuzz/fuzz_common.h"

namespace {

using namespace encfsr;
using Tag = std::array<std::uint8_t, 16>;

Tag mac(std::uint8_t domain, std::initializer_list<std::string_view> parts) {
  const auto key = fuzz::test_keys().get(crypto::Subkey::kManifestMac);
  const crypto::NodeId dir = fuzz::test_dir_id();
  crypto_generichash_state state;
  crypto_generichash_init(&state, key.data(), key.size(), 16);
  crypto_generichash_update(&state, dir.data(), dir.size());
  crypto_generichash_update(&state, &domain, 1);
  for (std::string_view part : parts) {
    crypto_generichash_update(&state, reinterpret_cast<const unsigned char*>(part.data()),
                              part.size());
  }
  Tag tag{};
  crypto_generichash_final(&state, tag.data(), tag.size());
  return tag;
}

void put_varint(std::string& out, std::uint64_t v) {
  while (v >= 0x80) {
    out.push_back(static_cast<char>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<char>(v));
}

// The sealed manifest of these chunk plaintexts (each non-empty), per docs/FORMAT.md.
std::string seal_chunks(const std::vector<std::string>& chunks) {
  const std::uint8_t domain = chunks.size() == 1 ? 0x03 : 0x01;
  const auto stream_key = fuzz::test_keys().get(crypto::Subkey::kManifestStream);
  std::string out, tags;
  for (const std::string& plain : chunks) {
    const Tag tag = mac(domain, {plain});
    std::array<std::uint8_t, crypto_stream_xchacha20_NONCEBYTES> nonce{};
    std::memcpy(nonce.data(), tag.data(), tag.size());
    std::string ct = plain;
    crypto_stream_xchacha20_xor(reinterpret_cast<unsigned char*>(ct.data()),
                                reinterpret_cast<const unsigned char*>(plain.data()), plain.size(),
                                nonce.data(), stream_key.data());
    put_varint(out, plain.size());
    const std::string_view tag_text(reinterpret_cast<const char*>(tag.data()), tag.size());
    out += tag_text;
    out += ct;
    tags += tag_text;
  }
  if (chunks.size() > 1) {
    std::string count;
    for (int i = 0; i < 8; ++i)
      count.push_back(static_cast<char>((chunks.size() >> (8 * i)) & 0xff));
    const Tag trailer = mac(0x02, {count, tags});
    out.append(reinterpret_cast<const char*>(trailer.data()), trailer.size());
  }
  return out;
}

void check_records(const std::vector<crypto::ManifestRecord>& records, bool sorted) {
  for (std::size_t i = 0; i < records.size(); ++i) {
    const crypto::ManifestRecord& r = records[i];
    ENCFSR_FUZZ_CHECK(!r.name.empty() && r.name.size() <= 255);
    ENCFSR_FUZZ_CHECK(r.name.find('/') == std::string::npos);
    ENCFSR_FUZZ_CHECK(r.name.find('\0') == std::string::npos);
    ENCFSR_FUZZ_CHECK(r.mode <= 07777 && r.mtime_nsec < 1000000000);
    if (sorted && i > 0) ENCFSR_FUZZ_CHECK(records[i - 1].name < r.name);
  }
}

// Seals records when the writer takes them, and checks that they open unchanged.
void check_reseal(const crypto::ManifestCipher& cipher, const crypto::NodeId& dir,
                  const std::vector<crypto::ManifestRecord>& records) {
  std::string sealed;
  try {
    sealed = cipher.seal(dir, records);
  } catch (const std::invalid_argument&) {
    return;  // not sorted, or a field the writer never writes
  }
  std::vector<crypto::ManifestRecord> again;
  ENCFSR_FUZZ_CHECK(cipher.open(dir, sealed, again) == crypto::Status::kOk);
  ENCFSR_FUZZ_CHECK(again == records);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  static const crypto::ManifestCipher cipher(fuzz::test_keys());
  static const crypto::NodeId dir = fuzz::test_dir_id();
  const int mode = data[0] % 3;
  const std::string_view text = fuzz::as_text(data + 1, size - 1);
  (void)crypto::ManifestCipher::mtime_of(text);

  std::vector<crypto::ManifestRecord> records;
  if (mode == 0) {
    if (cipher.open(dir, text, records) == crypto::Status::kOk) {
      check_records(records, true);
      check_reseal(cipher, dir, records);
    } else {
      ENCFSR_FUZZ_CHECK(records.empty());
    }
  } else if (mode == 1) {
    if (crypto::decode_records(text, records) == crypto::Status::kOk) {
      check_records(records, false);
      std::vector<crypto::ManifestRecord> again;
      ENCFSR_FUZZ_CHECK(crypto::decode_records(crypto::encode_records(records), again) ==
                        crypto::Status::kOk);
      ENCFSR_FUZZ_CHECK(again == records);
      check_reseal(cipher, dir, records);
    }
  } else {
    FuzzedDataProvider in(data + 1, size - 1);
    const int count = in.ConsumeIntegralInRange<int>(1, 8);
    std::vector<std::string> chunks;
    for (int i = 0; i < count && in.remaining_bytes() > 0; ++i) {
      std::string chunk =
          i + 1 == count ? in.ConsumeRemainingBytesAsString() : in.ConsumeRandomLengthString(4096);
      if (!chunk.empty()) chunks.push_back(std::move(chunk));
    }
    if (chunks.empty()) return 0;
    const std::string sealed = seal_chunks(chunks);
    if (cipher.open(dir, sealed, records) == crypto::Status::kOk) {
      check_records(records, true);
      check_reseal(cipher, dir, records);
    }
  }
  return 0;
}
