// tests/unit/crypto/password_wrap_test.cc — Argon2id + XChaCha20-Poly1305 wrap of the master key
// (small KDF costs so the tests are fast).
#include "crypto/password_wrap.h"

#include <gtest/gtest.h>

#include "tests/unit/crypto/test_util.h"

namespace encfsr::crypto {
namespace {

using test::Bytes;

const KdfParams kFast{1, 8ull * 1024 * 1024};

TEST(PasswordWrap, ParamsValidation) {
  EXPECT_TRUE(kdf_params_valid(KdfParams{}));
  EXPECT_TRUE(kdf_params_valid(kFast));
  EXPECT_TRUE(kdf_params_valid({1, 8 * 1024}));
  EXPECT_TRUE(kdf_params_valid({64, 4ull << 30}));
  EXPECT_FALSE(kdf_params_valid({0, 8ull << 20}));
  EXPECT_FALSE(kdf_params_valid({65, 8ull << 20}));
  EXPECT_FALSE(kdf_params_valid({1, 8 * 1024 - 1}));
  EXPECT_FALSE(kdf_params_valid({1, (4ull << 30) + 1}));
}

TEST(PasswordWrap, AffordableAndInteractiveLevels) {
  EXPECT_TRUE(kdf_params_affordable(KdfParams{}));
  EXPECT_TRUE(kdf_params_affordable({kMaxAffordableOps, kMaxAffordableMem}));
  EXPECT_FALSE(kdf_params_affordable({kMaxAffordableOps + 1, kFast.mem}));
  EXPECT_FALSE(kdf_params_affordable({1, kMaxAffordableMem + 1}));
  EXPECT_FALSE(kdf_params_affordable({64, 4ull << 30}));
  EXPECT_FALSE(kdf_params_affordable({0, kFast.mem}));  // not valid at all
  EXPECT_FALSE(kdf_params_below_interactive(KdfParams{}));
  EXPECT_FALSE(kdf_params_below_interactive({kdf_interactive_ops(), kdf_interactive_mem()}));
  EXPECT_TRUE(kdf_params_below_interactive(kFast));
  EXPECT_TRUE(kdf_params_below_interactive({kdf_interactive_ops() - 1, 1ull << 30}));
  EXPECT_TRUE(kdf_params_below_interactive({4, kdf_interactive_mem() - 1}));
}

TEST(PasswordWrap, UnaffordableCostsRefusedBeforeHashing) {
  // 64 passes over 4 GiB would take minutes and 4 GiB if it were hashed; refused at once.
  const MasterKey master = MasterKey::generate();
  const Bytes ad{'a', 'd'};
  WrappedKey wrapped;
  ASSERT_EQ(wrap_master_key(master, "pw", kFast, random_salt(), ad, wrapped), Status::kOk);
  MasterKey out;
  EXPECT_EQ(unwrap_master_key(wrapped, "pw", KdfParams{64, 4ull << 30}, ad, out), Status::kTooLong);
  WrappedKey other;
  EXPECT_EQ(wrap_master_key(master, "pw", KdfParams{17, kFast.mem}, random_salt(), ad, other),
            Status::kTooLong);
}

TEST(PasswordWrap, RoundTripWrongPasswordAlteredData) {
  const MasterKey master = MasterKey::generate();
  const auto salt = random_salt();
  EXPECT_NE(salt, random_salt());
  const Bytes ad{'a', 'd', ' ', 't', 'e', 'x', 't'};
  WrappedKey wrapped;
  ASSERT_EQ(wrap_master_key(master, "correct horse", kFast, salt, ad, wrapped), Status::kOk);
  EXPECT_EQ(wrapped.salt, salt);

  MasterKey out;
  ASSERT_EQ(unwrap_master_key(wrapped, "correct horse", kFast, ad, out), Status::kOk);
  EXPECT_TRUE(std::equal(out.bytes().begin(), out.bytes().end(), master.bytes().begin()));

  MasterKey bad;
  EXPECT_EQ(unwrap_master_key(wrapped, "correct hors", kFast, ad, bad), Status::kWrongPassword);
  EXPECT_EQ(unwrap_master_key(wrapped, "", kFast, ad, bad), Status::kWrongPassword);
  Bytes ad2 = ad;
  ad2[0] ^= 1;
  EXPECT_EQ(unwrap_master_key(wrapped, "correct horse", kFast, ad2, bad), Status::kWrongPassword);
  EXPECT_EQ(unwrap_master_key(wrapped, "correct horse", kFast, Bytes{}, bad),
            Status::kWrongPassword);
  EXPECT_EQ(unwrap_master_key(wrapped, "correct horse", KdfParams{2, kFast.mem}, ad, bad),
            Status::kWrongPassword);
  WrappedKey w2 = wrapped;
  w2.salt[3] ^= 1;
  EXPECT_EQ(unwrap_master_key(w2, "correct horse", kFast, ad, bad), Status::kWrongPassword);
  w2 = wrapped;
  w2.nonce[0] ^= 1;
  EXPECT_EQ(unwrap_master_key(w2, "correct horse", kFast, ad, bad), Status::kWrongPassword);
  w2 = wrapped;
  w2.box[40] ^= 1;
  EXPECT_EQ(unwrap_master_key(w2, "correct horse", kFast, ad, bad), Status::kWrongPassword);
  // The failed attempts never touched `bad`.
  for (auto b : bad.bytes()) EXPECT_EQ(b, 0);

  // A second wrap of the same key uses a fresh nonce.
  WrappedKey again;
  ASSERT_EQ(wrap_master_key(master, "correct horse", kFast, salt, ad, again), Status::kOk);
  EXPECT_NE(again.nonce, wrapped.nonce);
  EXPECT_NE(again.box, wrapped.box);
}

TEST(PasswordWrap, InvalidParamsRefused) {
  const MasterKey master = MasterKey::generate();
  WrappedKey wrapped;
  EXPECT_NE(wrap_master_key(master, "pw", {0, 8ull << 20}, random_salt(), Bytes{}, wrapped),
            Status::kOk);
  MasterKey out;
  EXPECT_NE(unwrap_master_key(wrapped, "pw", {100, 8ull << 20}, Bytes{}, out), Status::kOk);
}

}  // namespace
}  // namespace encfsr::crypto
