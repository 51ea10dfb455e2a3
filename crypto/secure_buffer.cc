// crypto/secure_buffer.cc — SecureBuffer on sodium_malloc / sodium_free, and libsodium start-up.
#include "crypto/secure_buffer.h"

#include <sodium.h>

#include <cstring>
#include <new>
#include <utility>

namespace encfsr::crypto {

bool ensure_sodium() noexcept {
  // sodium_init() is itself thread-safe and idempotent; a function-local static makes the
  // result cheap to query from hot paths.
  static const bool ok = sodium_init() >= 0;
  return ok;
}

SecureBuffer::SecureBuffer(std::size_t size) {
  if (size == 0) return;
  if (!ensure_sodium()) throw std::bad_alloc();
  void* p = sodium_malloc(size);
  if (p == nullptr) throw std::bad_alloc();
  data_ = static_cast<std::uint8_t*>(p);
  size_ = size;
  std::memset(data_, 0, size_);  // sodium_malloc fills with 0xdb
}

SecureBuffer::SecureBuffer(SecureBuffer&& other) noexcept
    : data_(std::exchange(other.data_, nullptr)), size_(std::exchange(other.size_, 0)) {}

SecureBuffer& SecureBuffer::operator=(SecureBuffer&& other) noexcept {
  if (this != &other) {
    if (data_ != nullptr) sodium_free(data_);
    data_ = std::exchange(other.data_, nullptr);
    size_ = std::exchange(other.size_, 0);
  }
  return *this;
}

SecureBuffer::~SecureBuffer() {
  if (data_ != nullptr) sodium_free(data_);  // wipes before unmapping
}

void SecureBuffer::truncate(std::size_t size) noexcept {
  if (size >= size_) return;
  sodium_memzero(data_ + size, size_ - size);
  size_ = size;
}

}  // namespace encfsr::crypto
