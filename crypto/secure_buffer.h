// crypto/secure_buffer.h — key material in libsodium guarded memory.
//
// SecureBuffer owns bytes allocated with sodium_malloc (guard pages, mlocked, canary) and
// frees them with sodium_free, which wipes them. Move-only. Every key and password in
// encfsr lives in one of these.
//
// mlock does not survive fork(): a child's copies of these pages are not locked. A process that
// keeps serving after a fork (the mount daemon) calls relock_secure_buffers(), which locks every
// live buffer again (the buffers register themselves; MADV_DONTDUMP, also set by libsodium, is
// inherited and needs nothing).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

namespace encfsr::crypto {

// Calls sodium_init() once; returns false if libsodium cannot be initialised.
bool ensure_sodium() noexcept;

// Locks the pages of every live SecureBuffer of this process again (after fork). Returns 0 or
// the errno of the first failure (ENOMEM/EPERM: RLIMIT_MEMLOCK too small).
int relock_secure_buffers() noexcept;

class SecureBuffer {
 public:
  SecureBuffer() = default;
  // Allocates size bytes (zeroed). Throws std::bad_alloc if sodium_malloc fails.
  explicit SecureBuffer(std::size_t size);
  SecureBuffer(const SecureBuffer&) = delete;
  SecureBuffer& operator=(const SecureBuffer&) = delete;
  SecureBuffer(SecureBuffer&& other) noexcept;
  SecureBuffer& operator=(SecureBuffer&& other) noexcept;
  ~SecureBuffer();

  std::uint8_t* data() noexcept { return data_; }
  const std::uint8_t* data() const noexcept { return data_; }
  std::size_t size() const noexcept { return size_; }
  bool empty() const noexcept { return size_ == 0; }
  std::span<std::uint8_t> span() noexcept { return {data_, size_}; }
  std::span<const std::uint8_t> span() const noexcept { return {data_, size_}; }
  // The bytes as text (for passwords).
  std::string_view view() const noexcept {
    return {reinterpret_cast<const char*>(data_), size_};  // NOLINT
  }
  // Shrinks the logical size (the allocation stays; the tail is wiped).
  void truncate(std::size_t size) noexcept;

 private:
  std::uint8_t* data_ = nullptr;
  std::size_t size_ = 0;
};

}  // namespace encfsr::crypto
