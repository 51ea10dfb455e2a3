// src/util/open_file.h — opening a file that must be a regular file, without ever blocking.
//
// A FIFO, a device or a socket can sit where a regular file was expected: in a live source
// tree (replaced between a lookup and an open), or in a ciphertext copy that someone altered.
// A plain open() of a FIFO waits for a writer forever, so every open of a file whose contents
// are read goes through open_regular(): O_NONBLOCK, then a type check. The flag stays set: for
// a regular file of a disk filesystem it changes nothing, and the rare regular file whose
// reads can wait (/proc/kmsg, in a source of / without one_file_system) answers EAGAIN
// instead of holding a worker thread forever.
#pragma once

#include <sys/stat.h>

#include <cstddef>
#include <string>

#include "src/util/result.h"
#include "src/util/unique_fd.h"

namespace encfsr::util {

struct OpenedFile {
  UniqueFd fd;
  struct stat st {};  // fstat of the open file
};

// Opens `path` relative to `dir_fd` (AT_FDCWD for a plain path) read-only with O_CLOEXEC |
// O_NOCTTY | O_NONBLOCK | `extra_flags` (e.g. O_NOFOLLOW, O_NOATIME). Anything but a regular
// file gives `not_regular` (the caller's errno for "not what was expected"). Never blocks.
Result<OpenedFile> open_regular(int dir_fd, const char* path, int extra_flags, int not_regular);

// The whole contents of a regular file opened with open_regular(), at most `limit` bytes: the
// one reader of every small file whose size someone else controls (a copy's key file, side
// files and manifests, CACHEDIR.TAG). EFBIG when the file holds more than `limit` bytes (its
// st_size is checked first, so a huge sparse file costs nothing; a file that grows while it is
// read stops at limit + 1 bytes); `not_regular` for anything but a regular file. Memory used
// is the file's size, never `limit` up front.
Result<std::string> read_regular_file(int dir_fd, const char* path, int extra_flags,
                                      int not_regular, std::size_t limit);

}  // namespace encfsr::util
