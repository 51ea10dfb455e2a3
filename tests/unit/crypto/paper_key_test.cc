// tests/unit/crypto/paper_key_test.cc — the paper key: layout, round trip, tolerant parsing and
// typo detection.
#include "crypto/paper_key.h"

#include <gtest/gtest.h>

#include <cctype>
#include <string>

#include "tests/unit/crypto/test_util.h"

namespace encfsr::crypto {
namespace {

bool same_key(const MasterKey& a, const MasterKey& b) {
  return std::equal(a.bytes().begin(), a.bytes().end(), b.bytes().begin());
}

TEST(PaperKey, LayoutAndRoundTrip) {
  for (int i = 0; i < 20; ++i) {
    const MasterKey key = MasterKey::generate();
    const SecureBuffer text = format_paper_key(key);
    const std::string s(text.view());
    ASSERT_EQ(s.size(), 14u * 4u + 13u);
    for (std::size_t j = 0; j < s.size(); ++j) {
      if (j % 5 == 4) {
        ASSERT_EQ(s[j], '-') << s;
      } else {
        ASSERT_TRUE((s[j] >= 'A' && s[j] <= 'Z') || (s[j] >= '2' && s[j] <= '7')) << s;
      }
    }
    MasterKey back;
    ASSERT_EQ(parse_paper_key(s, back), Status::kOk);
    EXPECT_TRUE(same_key(back, key));
  }
}

TEST(PaperKey, TolerantOfCaseSpacesDashesNewlines) {
  const MasterKey key = MasterKey::generate();
  const std::string s(format_paper_key(key).view());
  std::string lower, bare, spaced;
  for (char c : s) {
    lower.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
    if (c != '-') bare.push_back(c);
    spaced.push_back(c == '-' ? ' ' : c);
    if (c == '-') spaced += "\n";
  }
  for (const std::string& t : {lower, bare, spaced, "  " + s + "\n", s + "\r\n"}) {
    MasterKey back;
    ASSERT_EQ(parse_paper_key(t, back), Status::kOk) << t;
    EXPECT_TRUE(same_key(back, key));
  }
}

TEST(PaperKey, TyposDetected) {
  const MasterKey key = test::vector_master_key();
  const std::string s(format_paper_key(key).view());
  MasterKey back;
  int detected = 0, total = 0;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '-') continue;
    std::string bad = s;
    bad[i] = s[i] == 'A' ? 'B' : 'A';
    ++total;
    if (parse_paper_key(bad, back) == Status::kAuthFailed) ++detected;
  }
  EXPECT_EQ(detected, total);
  // Swapped neighbours.
  std::string swapped = s;
  std::swap(swapped[0], swapped[1]);
  if (swapped != s) {
    EXPECT_EQ(parse_paper_key(swapped, back), Status::kAuthFailed);
  }
}

TEST(PaperKey, BadTextRejected) {
  const std::string s(format_paper_key(MasterKey::generate()).view());
  MasterKey back;
  EXPECT_EQ(parse_paper_key("", back), Status::kBadEncoding);
  EXPECT_EQ(parse_paper_key(s.substr(0, s.size() - 1), back), Status::kBadEncoding);
  EXPECT_EQ(parse_paper_key(s + "A", back), Status::kBadEncoding);
  for (char c : {'0', '1', '8', '9', '=', '.', '_'}) {
    std::string bad = s;
    bad[2] = c;
    EXPECT_EQ(parse_paper_key(bad, back), Status::kBadEncoding) << c;
  }
}

}  // namespace
}  // namespace encfsr::crypto
