// src/cli/verify.h — the core of `encfsr verify`: walk a (decrypt) view without FUSE, read every
// block of every file and every symlink, and count what is there. Damage goes into a
// DamageReport (the view's sink feeds it names, side files, sizes; the walk adds every failing
// block, so all bad blocks of a file are listed, not only the first).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "src/cli/report.h"
#include "src/fs/view.h"

namespace encfsr::cli {

struct VerifyStats {
  std::uint64_t entries = 0;  // files + directories + symlinks, the root not counted
  std::uint64_t files = 0;
  std::uint64_t directories = 0;
  std::uint64_t symlinks = 0;
  std::uint64_t bytes = 0;  // plaintext bytes of the files (st_size)
};

// `progress` (may be disabled) is updated as entries and bytes are checked.
VerifyStats verify_view(fs::View& view, DamageReport& report, ProgressBar& progress);
// The same without progress.
VerifyStats verify_view(fs::View& view, DamageReport& report);

// "entries N (files F, directories D, symlinks S), B bytes: clean" or "...: D damaged", then
// "; C changed during backup" when C > 0.
std::string verify_summary(const VerifyStats& stats, std::size_t damaged, std::size_t changed = 0);
// {"entries":N,"files":N,"directories":N,"symlinks":N,"bytes":N,"damaged":[...],
//  "changed_during_backup":[PATH...],"completeness_checked":true|false}, plus
//  "metadata_not_compared":N when DamageReport::collapse_metadata dropped N "metadata" entries,
//  and "key_file_checked":true|false when given (whether the copy's own key file was opened
//  with the password)
std::string verify_json(const VerifyStats& stats, const std::vector<DamageRecord>& damaged,
                        const std::vector<std::string>& changed = {},
                        bool completeness_checked = true, std::size_t metadata_collapsed = 0,
                        std::optional<bool> key_file_checked = std::nullopt);
// The line verify prints for a copy without manifests.
inline constexpr const char* kNoManifestsLine =
    "completeness not checked: the copy has no directory manifests (made with manifests: false "
    "or before format 2); deleted, added or replaced entries are not detected";

}  // namespace encfsr::cli
