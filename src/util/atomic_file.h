// src/util/atomic_file.h — write a small file so that a crash leaves either the old or the new
// contents under its name, never a mix: temporary file in the same directory, write, fsync,
// rename (or link for no-replace), fsync of the directory.
#pragma once

#include <sys/types.h>

#include <filesystem>
#include <string_view>

namespace encfsr::util {

// Returns 0 or an errno. With no_replace, EEXIST if path exists (checked atomically).
int write_file_atomically(const std::filesystem::path& path, std::string_view contents, mode_t mode,
                          bool no_replace);

}  // namespace encfsr::util
