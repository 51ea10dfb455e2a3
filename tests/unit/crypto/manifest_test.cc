// tests/unit/crypto/manifest_test.cc — directory manifests: round trips, tampering with every
// byte and every field, moved and cut manifests, block locality of edits.
#include "crypto/manifest.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <functional>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "tests/unit/crypto/test_util.h"

namespace encfsr::crypto {
namespace {

ManifestRecord named(std::string name, EntryType type = EntryType::kRegular) {
  ManifestRecord r;
  r.name = std::move(name);
  r.type = type;
  return r;
}

class ManifestTest : public ::testing::Test {
 protected:
  ManifestTest()
      : master_(test::vector_master_key()),
        keys_(master_),
        cipher_(keys_),
        dir_(child_id(keys_, root_id(keys_), "home")) {}

  // n records with varied fields, sorted by name.
  static std::vector<ManifestRecord> sample(std::size_t n, std::uint64_t seed = 1) {
    std::mt19937_64 rng(seed);
    std::set<std::string> names;
    while (names.size() < n) names.insert("f" + std::to_string(rng() % 10000000) + ".txt");
    std::vector<ManifestRecord> out;
    for (const std::string& name : names) {
      ManifestRecord r;
      r.name = name;
      r.type = static_cast<EntryType>(1 + rng() % 3);
      r.mode = static_cast<std::uint16_t>(rng() % 3 == 0 ? 04755 : 0644);
      r.uid = static_cast<std::uint32_t>(rng() % 4 == 0 ? 1000 : 0);
      r.gid = r.uid;
      r.mtime_sec = 1700000000 + static_cast<std::int64_t>(rng() % 100000000);
      r.mtime_nsec = static_cast<std::uint32_t>(rng() % 2 == 0 ? 0 : rng() % 1000000000);
      if (r.type != EntryType::kDirectory) r.size = rng() % 100000;
      if (r.type == EntryType::kRegular && rng() % 10 == 0) r.link_group = rng() | 1;
      if (rng() % 8 == 0) r.xattrs.push_back({"user.comment", "value " + std::to_string(rng())});
      if (rng() % 50 == 0) r.attrs_known = false;
      if (!r.attrs_known) {
        r = named(r.name, r.type);
        r.attrs_known = false;
      }
      out.push_back(std::move(r));
    }
    return out;
  }

  std::vector<ManifestRecord> open_ok(const std::string& sealed) {
    std::vector<ManifestRecord> out;
    EXPECT_EQ(cipher_.open(dir_, sealed, out), Status::kOk);
    return out;
  }

  MasterKey master_;
  KeySet keys_;
  ManifestCipher cipher_;
  NodeId dir_;
};

TEST_F(ManifestTest, RoundTripKeepsEveryField) {
  for (std::size_t n : {0, 1, 2, 31, 500, 3000}) {
    const auto records = sample(n, n);
    const std::string sealed = cipher_.seal(dir_, records);
    EXPECT_EQ(open_ok(sealed), records) << n;
    EXPECT_EQ(cipher_.seal(dir_, records), sealed) << "deterministic";
  }
}

TEST_F(ManifestTest, EmptyDirectoryIsATrailerOnly) {
  EXPECT_EQ(cipher_.seal(dir_, {}).size(), 16u);
}

TEST_F(ManifestTest, FlippingAnyBitIsDetected) {
  const std::string sealed = cipher_.seal(dir_, sample(60));
  for (std::size_t i = 0; i < sealed.size(); ++i) {
    std::string bad = sealed;
    bad[i] = static_cast<char>(bad[i] ^ (1 << (i % 8)));
    std::vector<ManifestRecord> out;
    EXPECT_NE(cipher_.open(dir_, bad, out), Status::kOk) << "byte " << i;
    EXPECT_TRUE(out.empty());
  }
}

TEST_F(ManifestTest, ChangingAnyFieldChangesTheManifestAndTheOldOneStaysAuthentic) {
  auto records = sample(40);
  records[7].type = EntryType::kRegular;
  records[7].attrs_known = true;
  records[7].size = 10;
  const std::string base = cipher_.seal(dir_, records);
  std::vector<std::function<void(ManifestRecord&)>> edits = {
      [](ManifestRecord& r) { r.mode ^= 04000; },
      [](ManifestRecord& r) { r.uid += 1; },
      [](ManifestRecord& r) { r.gid += 1; },
      [](ManifestRecord& r) { r.mtime_sec += 1; },
      [](ManifestRecord& r) { r.mtime_nsec += 1; },
      [](ManifestRecord& r) { r.size += 1; },
      [](ManifestRecord& r) { r.link_group = 12345; },
      [](ManifestRecord& r) { r.type = EntryType::kSymlink; },
      [](ManifestRecord& r) {
        r.xattrs.push_back({"security.capability", "x"});
      },
      [](ManifestRecord& r) { r.name += "z"; },
  };
  for (std::size_t i = 0; i < edits.size(); ++i) {
    auto changed = records;
    edits[i](changed[7]);
    const std::string sealed = cipher_.seal(dir_, changed);
    EXPECT_NE(sealed, base) << i;
    EXPECT_NE(ManifestCipher::mtime_of(sealed).tv_sec, ManifestCipher::mtime_of(base).tv_sec) << i;
    EXPECT_EQ(open_ok(sealed), changed) << i;
  }
}

TEST_F(ManifestTest, AManifestOfAnotherDirectoryFails) {
  const std::string sealed = cipher_.seal(dir_, sample(100));
  std::vector<ManifestRecord> out;
  EXPECT_EQ(cipher_.open(child_id(keys_, dir_, "sub"), sealed, out), Status::kAuthFailed);
  const std::string empty = cipher_.seal(dir_, {});
  EXPECT_EQ(cipher_.open(child_id(keys_, dir_, "sub"), empty, out), Status::kAuthFailed);
}

// Chunk layout: varint length, 16-byte tag, ciphertext; then the 16-byte trailer, except after a
// sole chunk.
std::vector<std::string> chunks_of(const std::string& sealed) {
  std::vector<std::string> out;
  std::size_t pos = 0;
  while (pos < sealed.size() && sealed.size() - pos != 16) {
    std::uint64_t n = 0;
    std::size_t header = 0;
    for (unsigned shift = 0;; shift += 7) {
      const auto b = static_cast<unsigned char>(sealed.at(pos + header++));
      n |= static_cast<std::uint64_t>(b & 0x7f) << shift;
      if ((b & 0x80) == 0) break;
    }
    out.push_back(sealed.substr(pos, header + 16 + n));
    pos += header + 16 + n;
  }
  return out;
}

TEST_F(ManifestTest, DroppingReorderingOrDuplicatingChunksIsDetected) {
  const std::string sealed = cipher_.seal(dir_, sample(400));
  auto chunks = chunks_of(sealed);
  ASSERT_GE(chunks.size(), 4u);
  const std::string trailer = sealed.substr(sealed.size() - 16);
  auto join = [&](const std::vector<std::string>& parts) {
    std::string s;
    for (const auto& p : parts) s += p;
    return s + trailer;
  };
  EXPECT_EQ(join(chunks), sealed);
  std::vector<ManifestRecord> out;
  auto dropped = chunks;
  dropped.pop_back();
  EXPECT_EQ(cipher_.open(dir_, join(dropped), out), Status::kAuthFailed);
  auto swapped = chunks;
  std::swap(swapped[1], swapped[2]);
  EXPECT_NE(cipher_.open(dir_, join(swapped), out), Status::kOk);
  auto doubled = chunks;
  doubled.insert(doubled.begin() + 1, chunks[1]);
  EXPECT_NE(cipher_.open(dir_, join(doubled), out), Status::kOk);
  EXPECT_NE(cipher_.open(dir_, sealed.substr(0, sealed.size() - 1), out), Status::kOk);
  EXPECT_NE(cipher_.open(dir_, sealed + "x", out), Status::kOk);
}

TEST_F(ManifestTest, ASoleChunkIsTheWholeManifest) {
  // Up to 32 records never cut: one chunk, no trailer.
  const std::string sole = cipher_.seal(dir_, sample(30, 3));
  ASSERT_EQ(chunks_of(sole).size(), 1u);
  EXPECT_EQ(chunks_of(sole).front(), sole);
  EXPECT_NE(ManifestCipher::mtime_of(sole).tv_sec, 946684800);
  std::vector<ManifestRecord> out;
  // The first chunk of a longer manifest, alone, is not a manifest (its tag says "not the
  // whole"), nor is a sole chunk given a trailer.
  const std::string longer = cipher_.seal(dir_, sample(400));
  const auto chunks = chunks_of(longer);
  ASSERT_GE(chunks.size(), 2u);
  EXPECT_EQ(cipher_.open(dir_, chunks.front(), out), Status::kAuthFailed);
  const std::string trailer = longer.substr(longer.size() - 16);
  EXPECT_NE(cipher_.open(dir_, sole + trailer, out), Status::kOk);
  EXPECT_NE(cipher_.open(dir_, chunks.front() + sole + trailer, out), Status::kOk);
  EXPECT_NE(cipher_.open(dir_, chunks.front() + trailer, out), Status::kOk);
  EXPECT_TRUE(out.empty());
}

TEST_F(ManifestTest, NamesArePackedWhenShorterAndDecodeExactly) {
  // 6 bits for each byte of the table, 14 for any other: packed only when shorter.
  std::vector<std::string> names = {"a",
                                    "ab",
                                    "abcd",
                                    "report-2024.pdf",
                                    "Q_Z.tar.gz",
                                    "My Documents",
                                    "caf\xc3\xa9-menu.txt",
                                    "\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e",
                                    std::string(255, 'z'),
                                    std::string(255, '~')};
  std::sort(names.begin(), names.end());
  std::vector<ManifestRecord> records;
  for (const std::string& name : names) records.push_back(named(name));
  for (ManifestRecord& r : records) r.mode = 0644;
  std::vector<ManifestRecord> out;
  ASSERT_EQ(decode_records(encode_records(records), out), Status::kOk);
  EXPECT_EQ(out, records);
  // "abcde" (5 bytes) packs into 4 (codes 37..41, then 2 zero bits): flags, varint(2 * 5 + 1),
  // the 4 bytes, then mode, uid, gid, mtime and size, all 0.
  ManifestRecord abcde = named("abcde");
  EXPECT_EQ(encode_records(std::span(&abcde, 1)),
            std::string("\x02\x0b\x96\x69\xe8\xa4\0\0\0\0\0", 11));
  // A 9-byte name of three 3-byte UTF-8 characters stays as it is (packing would take 16).
  ManifestRecord utf8 = named("\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e");
  EXPECT_EQ(encode_records(std::span(&utf8, 1)).substr(1, 10), std::string("\x12") + utf8.name);
}

TEST_F(ManifestTest, NonCanonicalPackedNamesAreRefused) {
  ManifestRecord abcde = named("abcde");
  const std::string good = encode_records(std::span(&abcde, 1));
  std::vector<ManifestRecord> out;
  ASSERT_EQ(decode_records(good, out), Status::kOk);
  // Non-zero padding bits after the last symbol.
  std::string bad = good;
  bad[5] = static_cast<char>(bad[5] | 0x01);
  EXPECT_EQ(decode_records(bad, out), Status::kBadFormat);
  // 'a' written as the escape and its byte instead of its code: 111111 01100001, then b..e
  // (38 bits, 5 bytes).
  bad = good.substr(0, 2) + std::string("\xfd\x86\x69\xe8\xa4", 5) + good.substr(6);
  EXPECT_EQ(decode_records(bad, out), Status::kBadFormat);
  // A packed name cut short.
  EXPECT_EQ(decode_records(good.substr(0, 3), out), Status::kBadFormat);
}

TEST_F(ManifestTest, OneChangedEntryOfThirtyThousandChangesAboutOneChunk) {
  auto records = sample(30000, 7);
  const auto before = chunks_of(cipher_.seal(dir_, records));
  records[15000].mtime_sec += 60;
  const auto after = chunks_of(cipher_.seal(dir_, records));
  ASSERT_EQ(before.size(), after.size());
  std::size_t differing = 0, bytes = 0;
  for (std::size_t i = 0; i < before.size(); ++i) {
    if (before[i] != after[i]) {
      ++differing;
      bytes += after[i].size();
    }
  }
  EXPECT_EQ(differing, 1u);
  EXPECT_LE(bytes, kChunkTarget + 1024);

  // An inserted entry shifts no chunk boundary but its own.
  auto inserted = records;
  ManifestRecord extra = inserted[20000];
  extra.name += "-new";
  inserted.insert(inserted.begin() + 20001, extra);
  const auto grown = chunks_of(cipher_.seal(dir_, inserted));
  std::set<std::string> old_chunks(after.begin(), after.end());
  std::size_t fresh = 0;
  for (const auto& c : grown) fresh += old_chunks.count(c) == 0 ? 1 : 0;
  EXPECT_LE(fresh, 2u);
}

TEST_F(ManifestTest, DecodeRefusesMalformedRecords) {
  std::vector<ManifestRecord> out;
  ManifestRecord r = named("a");
  r.mode = 0644;
  const std::string good = encode_records(std::span(&r, 1));
  EXPECT_EQ(decode_records(good, out), Status::kOk);
  std::string bad = good;
  bad[0] = 0;  // type 0
  EXPECT_EQ(decode_records(bad, out), Status::kBadFormat);
  bad = good;
  bad[0] = static_cast<char>(bad[0] | 0x08);  // "same mode as previous" in a first record
  EXPECT_EQ(decode_records(bad, out), Status::kBadFormat);
  EXPECT_EQ(decode_records(good.substr(0, good.size() - 1), out), Status::kBadFormat);
  for (const char* name : {".", "..", "a/b"}) {
    ManifestRecord n = named(name);
    EXPECT_EQ(decode_records(encode_records(std::span(&n, 1)), out), Status::kBadFormat) << name;
  }
  ManifestRecord big = named("m");
  big.mode = 0644;
  std::string over = encode_records(std::span(&big, 1));
  // mode 010000 (two-byte varint 0x80 0x20) is beyond the 12 bits.
  over.replace(3, 2, std::string("\x80\x20", 2));
  EXPECT_EQ(decode_records(over, out), Status::kBadFormat);
}

TEST_F(ManifestTest, LinkGroupsAreKeyedStableAndNonZero) {
  EXPECT_EQ(cipher_.link_group(1, 2), cipher_.link_group(1, 2));
  EXPECT_NE(cipher_.link_group(1, 2), cipher_.link_group(2, 1));
  EXPECT_NE(cipher_.link_group(1, 2), 0u);
  const KeySet other(MasterKey::generate());
  EXPECT_NE(ManifestCipher(other).link_group(1, 2), cipher_.link_group(1, 2));
}

TEST_F(ManifestTest, UnsortedOrOutOfRangeRecordsAreTheCallersBug) {
  std::vector<ManifestRecord> records = {named("b"), named("a")};
  EXPECT_THROW(cipher_.seal(dir_, records), std::invalid_argument);
  std::vector<std::function<void(ManifestRecord&)>> bad = {
      [](ManifestRecord& r) { r.mode = 010000; },
      [](ManifestRecord& r) { r.mtime_nsec = 1000000000; },
      [](ManifestRecord& r) { r.name = "a/b"; },
      [](ManifestRecord& r) {
        r.xattrs = {{"user.b", ""}, {"user.a", ""}};
      },
      [](ManifestRecord& r) {
        r.xattrs = {{"user.a", std::string(65537, 'x')}};
      },
      [](ManifestRecord& r) {
        r.type = EntryType::kSymlink;
        r.link_group = 7;
      },
  };
  for (std::size_t i = 0; i < bad.size(); ++i) {
    std::vector<ManifestRecord> one = {named("a")};
    bad[i](one[0]);
    EXPECT_THROW(cipher_.seal(dir_, one), std::invalid_argument) << i;
  }
}

}  // namespace
}  // namespace encfsr::crypto
