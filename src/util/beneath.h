// src/util/beneath.h — opening a directory below a held directory fd one component at a time
// (openat with O_NOFOLLOW | O_DIRECTORY per component), so that no symlink is followed in any
// component of the path, not only in its last one. Used by restore for every path under DEST.
#pragma once

#include <string_view>

#include "src/util/result.h"
#include "src/util/unique_fd.h"

namespace encfsr::util {

// Opens root_fd/relative ("a/b/c"; "" or "." is root_fd itself, duplicated) as a directory
// (O_RDONLY). Empty and "." components are skipped; ".." is refused (EINVAL). A symlink in any
// component gives ENOTDIR (or ELOOP), never its target.
Result<UniqueFd> open_dir_beneath(int root_fd, std::string_view relative) noexcept;

// The parent part of a relative path ("a/b/c" -> "a/b", "c" -> "").
std::string_view parent_path_of(std::string_view relative) noexcept;

}  // namespace encfsr::util
