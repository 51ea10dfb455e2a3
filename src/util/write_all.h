// src/util/write_all.h — writing a whole buffer to a file descriptor (short writes continued,
// EINTR retried).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

namespace encfsr::util {

// Writes all `size` bytes at `data` to `fd`: 0, or the errno of the write that failed.
int write_all(int fd, const void* data, std::size_t size) noexcept;

inline int write_all(int fd, std::string_view data) noexcept {
  return write_all(fd, data.data(), data.size());
}
inline int write_all(int fd, std::span<const std::uint8_t> data) noexcept {
  return write_all(fd, data.data(), data.size());
}

}  // namespace encfsr::util
