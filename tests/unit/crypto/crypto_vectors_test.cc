// tests/unit/crypto/crypto_vectors_test.cc — the test vectors of docs/FORMAT.md, asserted so the
// format is frozen: a change to any of these values is a format change.
//
// Master key: bytes 0x00..0x1f. The subkeys, IDs and the tags were cross-checked with Python's
// hashlib.blake2b when they were generated; the manifest vectors with tests/format/reference.py,
// which writes and reads manifests from the format description alone.
#include <gtest/gtest.h>
#include <sodium.h>

#include <array>
#include <cstring>

#include "crypto/content_cipher.h"
#include "crypto/encoding.h"
#include "crypto/manifest.h"
#include "crypto/name_cipher.h"
#include "crypto/paper_key.h"
#include "tests/unit/crypto/test_util.h"

namespace encfsr::crypto {
namespace {

using test::Bytes;

class VectorsTest : public ::testing::Test {
 protected:
  VectorsTest()
      : master_(test::vector_master_key()),
        keys_(master_),
        root_(root_id(keys_)),
        home_(child_id(keys_, root_, "home")),
        file_(child_id(keys_, home_, "notes.txt")) {}

  MasterKey master_;
  KeySet keys_;
  NodeId root_;
  NodeId home_;
  NodeId file_;
};

TEST_F(VectorsTest, Subkeys) {
  const char* expected[] = {
      "efaa95f32d25f769b75a5175e96c0b4db607ec73fb7ed94f8ab9582152082fb5",
      "7c80ae257321c4d065b85fb9841666df91a7f7dcc065ce875dfc2f060ff5be71",
      "9b43f61fb03fc006ce3084671b32f94ea88c772268331ab52eba22b50a8fe4e1",
      "98fd45a9a6ea2423ab97071a79c232f5b0589976fdace402e48159d36da2369f",
      "4fc8c732ba7e37cb5621dab59185cb26d285e847e4d5d75650284eeecf1cd5d1",
      "cbabfbaeb7c8698f87c46836909466c81b3bf929b6efeddd2b732c354d42e861",
      "85dab18b1f25d59fb5bbeab052dc9170540c23fc2946e9cdfe23d2d3a2c8c8cf",
      "33f2c84e1d75002e13567518e0a2f29d13d8c0d3ab6a0895f45362398ec431b8",
      "e9f6f2a3949a9b8edd5d7263de3f8fc425e664f6dae07f8f6af95d36509452e8",
      "e2a7beca414ad6facfbd71248be0c17197dca42eeb1b45d0694bb62b2b96ab58",
      "031df010e72264e43d9290bb172d50976ea2ce34bfaeae22027f72aff7677a41",
      "e1a0a02658a5a3edc251f36af7e65807a6f72517ce1ea90feaa8b6652bc3b7ec",
  };
  for (std::uint64_t id = 1; id <= 12; ++id) {
    EXPECT_EQ(hex_encode(keys_.get(static_cast<Subkey>(id))), expected[id - 1]) << id;
  }
  EXPECT_EQ(hex_encode(key_check(keys_)),
            "9d7721cde64771d3429be52f957f2ea0c8b9a9aa89d5913721fd78cc0f4d3cf4");
  EXPECT_EQ(hex_encode(view_params_tag(keys_, "names: base64url\n")),
            "59950b776b9281d6f3ab64e037ecfb89982e51f8d33d124aaa6f7256dd358ae0");
  EXPECT_EQ(hex_encode(view_params_tag(keys_, "names: base64url\nmanifests: yes\n")),
            "e6c8568e634f73a26f62c731d64c35a5c6f47b3e2a3bcb07afd93f7fc9b71bc7");
}

TEST_F(VectorsTest, NodeIdsAndInodes) {
  EXPECT_EQ(hex_encode(root_), "0d2801afd9c642d376fa4d8407558305");
  EXPECT_EQ(inode_of(root_), 15222948328711989261ull);
  EXPECT_EQ(hex_encode(home_), "48dc743b7d292f7cd221ab3a5fa4e7aa");
  EXPECT_EQ(inode_of(home_), 8948416602453630024ull);
  EXPECT_EQ(hex_encode(file_), "69f535821ed6dd5885b923cac4ff86b8");
}

TEST_F(VectorsTest, Content) {
  const ContentCipher cipher(keys_);
  EXPECT_EQ(hex_encode(test::encrypt_file(cipher, file_, Bytes{})),
            "6243c5102564905c6b75438cbfce75bd");
  EXPECT_EQ(hex_encode(test::encrypt_file(cipher, file_, Bytes{'A'})),
            "4dfaee354c957198ece4de0d7e5913c98c");
  Bytes big(5000);
  for (std::size_t i = 0; i < big.size(); ++i) big[i] = static_cast<std::uint8_t>(i % 251);
  const Bytes ct = test::encrypt_file(cipher, file_, big);
  ASSERT_EQ(ct.size(), 5032u);
  EXPECT_EQ(hex_encode(std::span(ct).first(32)),
            "ceb44a1fcac1698c44087cc9d61ed566e1197b7ecadce118d4bc3f18fbbe01b2");
  std::uint8_t hash[32];
  crypto_generichash(hash, sizeof hash, ct.data(), ct.size(), nullptr, 0);
  EXPECT_EQ(hex_encode(hash), "c25842d35f136a9dcbb2526b965e598c0986d53db2f99674acebe30e40650580");
}

TEST_F(VectorsTest, NamesBase64Url) {
  const NameCipher names(keys_, NameEncoding::kBase64Url);
  EXPECT_EQ(names.encrypt(root_, "home").name, "NX6IjltNl7zl-g7cPcgglOZ6x9ip_Sj38mQFI12jojE");
  EXPECT_EQ(names.encrypt(home_, "notes.txt").name, "qUbN4T_RUnS_mM-e9LefKmbdFP27V03Gr4zg5L15-To");
  const EncryptedName l = names.encrypt(home_, std::string(200, 'a'));
  EXPECT_TRUE(l.is_long);
  EXPECT_EQ(l.full.size(), 299u);
  EXPECT_EQ(l.name, "encfsr.long.EomCcb3v7P6iOrfOcU3eN_TMT-qVOKjN6lSZXJWZo9U");
  std::string plain;
  ASSERT_EQ(names.decrypt(home_, l.full, plain), Status::kOk);
  EXPECT_EQ(plain, std::string(200, 'a'));
}

TEST_F(VectorsTest, NamesBase32) {
  const NameCipher names(keys_, NameEncoding::kBase32);
  EXPECT_EQ(names.encrypt(root_, "home").name,
            "gv7irds3jwl3zzp2b3od3sbastthvr6yvh6sr57smqcsgxnduiyq");
  EXPECT_EQ(names.encrypt(home_, "notes.txt").name,
            "vfdm3yj72fjhjp4yz6ppjn47fjtn2fh5xnlu3rvprtqojplz7e5a");
  const EncryptedName l = names.encrypt(home_, std::string(200, 'a'));
  EXPECT_TRUE(l.is_long);
  EXPECT_EQ(l.full.size(), 359u);
  EXPECT_EQ(l.name, "encfsr.long.u7ybudai3x44zprpn4z4zyxmx4647ddyihuru4c6rdrovjxszpsq");
}

TEST_F(VectorsTest, LinkTarget) {
  const NameCipher names(keys_, NameEncoding::kBase32);  // links are base64url in both modes
  const NodeId link = child_id(keys_, home_, "link");
  EXPECT_EQ(hex_encode(link), "a50c0e8d85b511a6cbd2e761aa78e2b0");
  EXPECT_EQ(names.encrypt_link(link, "../etc/hosts"), "2xPdzyqITkq_A9RgT4oSL9cdL9UcHlrTMFdo_g");
}

std::string hex_of(std::string_view bytes) {
  return hex_encode(std::span(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size()));
}

TEST_F(VectorsTest, Manifest) {
  const ManifestCipher cipher(keys_);
  const std::uint64_t group = cipher.link_group(2049, 131073);
  EXPECT_EQ(group, 1738220906002760354ull);

  std::vector<ManifestRecord> records(4);
  records[0].name = "a.txt";
  records[0].type = EntryType::kRegular;
  records[0].mode = 0644;
  records[0].uid = records[0].gid = 1000;
  records[0].mtime_sec = 1600000000;
  records[0].size = 5;
  records[1].name = "bin";
  records[1].type = EntryType::kDirectory;
  records[1].mode = 0755;
  records[1].mtime_sec = 1600000001;
  records[1].mtime_nsec = 500;
  records[2].name = "link";
  records[2].type = EntryType::kSymlink;
  records[2].mode = 0777;
  records[2].uid = records[2].gid = 1000;
  records[2].mtime_sec = 1600000002;
  records[2].size = 12;
  records[3].name = "ping";
  records[3].type = EntryType::kRegular;
  records[3].mode = 04755;
  records[3].mtime_sec = 1600000003;
  records[3].size = 100;
  records[3].link_group = group;
  std::string capability(20, '\0');
  capability[0] = '\x01';
  capability[3] = '\x02';
  capability[5] = '\x20';
  records[3].xattrs = {{"security.capability", capability}, {"user.note", "hi"}};

  // One chunk (fewer than 32 records: no name-defined cut); its plaintext, then the sealed
  // manifest: a sole chunk (domain 0x03), varint(117) || tag || ciphertext, no trailer.
  EXPECT_EQ(hex_of(encode_records(records)),
            "020b941e3ce0a403e807e80780c0f0f50b05"
            "210662696eed03000002f403"
            "0309c2dcafff03e807e807020c"
            "c209d2dcabed1300000264a2c2735bb4661f18021373656375726974792e636170616269"
            "6c69747914010000020020000000000000000000000000000009757365722e6e6f7465026869");
  const std::string sealed = cipher.seal(home_, records);
  EXPECT_EQ(sealed.size(), 134u);
  EXPECT_EQ(hex_of(sealed),
            "758adc1e70a93cd644909c6a5a88eb0ea8dc58b54bfc9dd73c60cf91300f2a11d3b77fa8f4f7"
            "4b401c26af637f53eaba33f5322806cee95f985347266d3e4a0229690ca44e151fc19ce2520a"
            "a664b4d6083687f2de64a99eae7adcad4e65e8ad813bdd5fbf3ab364f5d348301d5ba9dcb9bd"
            "174867b87406955f771a00f57d894fe9411d36bd");
  EXPECT_EQ(ManifestCipher::mtime_of(sealed).tv_sec, 948707338);
  EXPECT_EQ(ManifestCipher::mtime_of(sealed).tv_nsec, 0);
  std::vector<ManifestRecord> opened;
  ASSERT_EQ(cipher.open(home_, sealed, opened), Status::kOk);
  EXPECT_EQ(opened, records);

  const std::string empty = cipher.seal(home_, {});
  EXPECT_EQ(hex_of(empty), "377238a142b7b661ab471f49748674f4");
  EXPECT_EQ(ManifestCipher::mtime_of(empty).tv_sec, 967161271);
  ASSERT_EQ(cipher.open(home_, empty, opened), Status::kOk);
  EXPECT_TRUE(opened.empty());
}

// The multi-chunk manifest vector of docs/FORMAT.md: 300 records "f000".."f299", regular,
// mode 0644, uid and gid 1000, mtime 1600000000 + i, size i, from i = 200 on one xattr
// user.pad = 150 bytes "x". Cuts: by the name hash (f106, f213; f022 would cut but is only the
// chunk's 23rd record), by the 4096-byte cap (f238, f263, f288: 25 records each), the last.
TEST_F(VectorsTest, ManifestChunks) {
  const ManifestCipher cipher(keys_);
  std::vector<ManifestRecord> records(300);
  for (std::size_t i = 0; i < records.size(); ++i) {
    records[i].name = {'f', static_cast<char>('0' + i / 100), static_cast<char>('0' + i / 10 % 10),
                       static_cast<char>('0' + i % 10)};
    records[i].type = EntryType::kRegular;
    records[i].mode = 0644;
    records[i].uid = records[i].gid = 1000;
    records[i].mtime_sec = 1600000000 + static_cast<std::int64_t>(i);
    records[i].size = i;
    if (i >= 200) records[i].xattrs = {{"user.pad", std::string(150, 'x')}};
  }
  const std::string sealed = cipher.seal(home_, records);
  EXPECT_EQ(sealed.size(), 18656u);
  std::array<std::uint8_t, 32> digest{};
  crypto_generichash(digest.data(), digest.size(),
                     reinterpret_cast<const unsigned char*>(sealed.data()), sealed.size(),
                     nullptr, 0);
  EXPECT_EQ(hex_encode(digest),
            "b255dc513d2130545f24a671e4e782f83d8cfc307e5e2a679d35b76b5ee26a6c");
  EXPECT_EQ(ManifestCipher::mtime_of(sealed).tv_sec, 1071096846);
  std::vector<ManifestRecord> opened;
  ASSERT_EQ(cipher.open(home_, sealed, opened), Status::kOk);
  EXPECT_EQ(opened, records);

  // The layout: chunks varint(L) || tag || L bytes (each L below 2^14: two varint bytes at
  // most), then the 16-byte trailer; each chunk decrypted and decoded on its own.
  const auto stream = keys_.get(Subkey::kManifestStream);
  std::vector<std::size_t> sizes, counts;
  std::size_t pos = 0;
  while (sealed.size() - pos > 16) {
    std::size_t length = static_cast<std::uint8_t>(sealed[pos]) & 0x7f;
    std::size_t header = 1;
    if (static_cast<std::uint8_t>(sealed[pos]) & 0x80) {
      length |= std::size_t{static_cast<std::uint8_t>(sealed[pos + 1])} << 7;
      header = 2;
    }
    ASSERT_LE(pos + header + 16 + length, sealed.size());
    const auto* tag = reinterpret_cast<const unsigned char*>(sealed.data() + pos + header);
    unsigned char nonce[24] = {};
    std::memcpy(nonce, tag, 16);
    std::string plain(length, '\0');
    crypto_stream_xchacha20_xor(reinterpret_cast<unsigned char*>(plain.data()), tag + 16,
                                length, nonce, stream.data());
    std::vector<ManifestRecord> chunk;
    ASSERT_EQ(decode_records(plain, chunk), Status::kOk);
    counts.push_back(chunk.size());
    sizes.push_back(header + 16 + length);
    pos += header + 16 + length;
  }
  EXPECT_EQ(sealed.size() - pos, 16u);
  EXPECT_EQ(counts, (std::vector<std::size_t>{107, 107, 25, 25, 25, 11}));
  EXPECT_EQ(sizes, (std::vector<std::size_t>{777, 3131, 4278, 4278, 4278, 1898}));
  EXPECT_EQ(hex_of(sealed.substr(pos)), "8e606a077bdeea65abb3ab6b795d2bdb");
}

TEST_F(VectorsTest, PaperKey) {
  EXPECT_EQ(format_paper_key(master_).view(),
            "AAAQ-EAYE-AUDA-OCAJ-BIFQ-YDIO-B4IB-CEQT-CQKR-MFYY-DENB-WHA5-DYP3-MPHI");
}

}  // namespace
}  // namespace encfsr::crypto
