// tests/unit/cli/progress_test.cc — the progress line of `restore` and `verify` when it does not
// go to a terminal (forced with --progress): plain newline-terminated lines, at most one per
// second, and always a last line with the final counts.
#include <gtest/gtest.h>

#include <cstdio>
#include <string>
#include <vector>

#include "src/cli/report.h"

namespace encfsr::cli {
namespace {

// The lines written to a temporary (non-terminal) file.
std::vector<std::string> lines_of(std::FILE* file) {
  std::fflush(file);
  std::rewind(file);
  std::vector<std::string> lines;
  std::string line;
  for (int c = std::fgetc(file); c != EOF; c = std::fgetc(file)) {
    if (c == '\n') {
      lines.push_back(line);
      line.clear();
    } else {
      line += static_cast<char>(c);
    }
  }
  EXPECT_EQ(line, "") << "the last line has no newline";
  return lines;
}

TEST(ProgressBar, DisabledWritesNothing) {
  std::FILE* out = std::tmpfile();
  ASSERT_NE(out, nullptr);
  {
    ProgressBar bar(out, false, 10, 1000);
    bar.update(5, 500);
    bar.finish();
  }
  EXPECT_TRUE(lines_of(out).empty());
  std::fclose(out);
}

TEST(ProgressBar, OffATerminalLinesAreThrottledAndTheLastOneIsComplete) {
  std::FILE* out = std::tmpfile();
  ASSERT_NE(out, nullptr);
  {
    ProgressBar bar(out, true, 3, 3 * 1024 * 1024);
    bar.update(1, 1024 * 1024);      // drawn: the first update
    bar.update(2, 2 * 1024 * 1024);  // within the second: not drawn
    bar.update(3, 3 * 1024 * 1024);
    bar.finish();  // the last values, once
    bar.finish();
  }
  const std::vector<std::string> lines = lines_of(out);
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[0].rfind(" 33%  entries 1/3  1.0 MiB/3.0 MiB  ", 0), 0u) << lines[0];
  EXPECT_EQ(lines[1].rfind("100%  entries 3/3  3.0 MiB/3.0 MiB  ", 0), 0u) << lines[1];
  for (const std::string& line : lines) {
    EXPECT_EQ(line.find('\r'), std::string::npos);
    EXPECT_NE(line.find("/s  ETA "), std::string::npos) << line;
  }
  std::fclose(out);
}

TEST(ProgressBar, FinishWithoutUpdatesStillReportsTheTotals) {
  std::FILE* out = std::tmpfile();
  ASSERT_NE(out, nullptr);
  { ProgressBar bar(out, true, 0, 0); }
  const std::vector<std::string> lines = lines_of(out);
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0].rfind("100%  entries 0/0  0 B/0 B  ", 0), 0u) << lines[0];
  std::fclose(out);
}

TEST(ProgressWanted, FlagsWin) {
  EXPECT_TRUE(progress_wanted(1));
  EXPECT_FALSE(progress_wanted(-1));
}

}  // namespace
}  // namespace encfsr::cli
