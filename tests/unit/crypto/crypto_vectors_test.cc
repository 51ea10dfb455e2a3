// tests/unit/crypto/crypto_vectors_test.cc — the test vectors of docs/FORMAT.md, asserted so the
// format is frozen: a change to any of these values is a format change.
//
// Master key: bytes 0x00..0x1f. The subkeys, IDs and the tags were cross-checked with Python's
// hashlib.blake2b when they were generated.
#include <gtest/gtest.h>
#include <sodium.h>

#include "crypto/content_cipher.h"
#include "crypto/encoding.h"
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
  };
  for (std::uint64_t id = 1; id <= 9; ++id) {
    EXPECT_EQ(hex_encode(keys_.get(static_cast<Subkey>(id))), expected[id - 1]) << id;
  }
  EXPECT_EQ(hex_encode(key_check(keys_)),
            "9d7721cde64771d3429be52f957f2ea0c8b9a9aa89d5913721fd78cc0f4d3cf4");
  EXPECT_EQ(hex_encode(view_params_tag(keys_, "names: base64url\n")),
            "59950b776b9281d6f3ab64e037ecfb89982e51f8d33d124aaa6f7256dd358ae0");
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

TEST_F(VectorsTest, PaperKey) {
  EXPECT_EQ(format_paper_key(master_).view(),
            "AAAQ-EAYE-AUDA-OCAJ-BIFQ-YDIO-B4IB-CEQT-CQKR-MFYY-DENB-WHA5-DYP3-MPHI");
}

}  // namespace
}  // namespace encfsr::crypto
