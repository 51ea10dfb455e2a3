// crypto/secure_buffer.cc — SecureBuffer on sodium_malloc / sodium_free, and libsodium start-up.
#include "crypto/secure_buffer.h"

#include <sodium.h>

#include <cerrno>
#include <cstring>
#include <mutex>
#include <new>
#include <unordered_map>
#include <utility>

namespace encfsr::crypto {

bool ensure_sodium() noexcept {
  // sodium_init() is itself thread-safe and idempotent; a function-local static makes the
  // result cheap to query from hot paths.
  static const bool ok = sodium_init() >= 0;
  return ok;
}

namespace {

// The live buffers (start -> size), for relock_secure_buffers().
struct Registry {
  std::mutex mutex;
  std::unordered_map<void*, std::size_t> buffers;
};

Registry& registry() {
  static auto* const instance = new Registry;  // never destroyed: used by static buffers
  return *instance;
}

void register_buffer(void* p, std::size_t size) {
  Registry& r = registry();
  const std::lock_guard lock(r.mutex);
  r.buffers.emplace(p, size);
}

void unregister_buffer(void* p) noexcept {
  Registry& r = registry();
  const std::lock_guard lock(r.mutex);
  r.buffers.erase(p);
}

void free_buffer(std::uint8_t* p) noexcept {
  unregister_buffer(p);
  sodium_free(p);  // wipes before unmapping
}

}  // namespace

int relock_secure_buffers() noexcept {
  Registry& r = registry();
  const std::lock_guard lock(r.mutex);
  int first_error = 0;
  for (const auto& [p, size] : r.buffers) {
    if (sodium_mlock(p, size) != 0 && first_error == 0) first_error = errno != 0 ? errno : ENOMEM;
  }
  return first_error;
}

SecureBuffer::SecureBuffer(std::size_t size) {
  if (size == 0) return;
  if (!ensure_sodium()) throw std::bad_alloc();
  void* p = sodium_malloc(size);
  if (p == nullptr) throw std::bad_alloc();
  try {
    register_buffer(p, size);
  } catch (...) {
    sodium_free(p);
    throw std::bad_alloc();
  }
  data_ = static_cast<std::uint8_t*>(p);
  size_ = size;
  std::memset(data_, 0, size_);  // sodium_malloc fills with 0xdb
}

SecureBuffer::SecureBuffer(SecureBuffer&& other) noexcept
    : data_(std::exchange(other.data_, nullptr)), size_(std::exchange(other.size_, 0)) {}

SecureBuffer& SecureBuffer::operator=(SecureBuffer&& other) noexcept {
  if (this != &other) {
    if (data_ != nullptr) free_buffer(data_);
    data_ = std::exchange(other.data_, nullptr);
    size_ = std::exchange(other.size_, 0);
  }
  return *this;
}

SecureBuffer::~SecureBuffer() {
  if (data_ != nullptr) free_buffer(data_);
}

void SecureBuffer::truncate(std::size_t size) noexcept {
  if (size >= size_) return;
  sodium_memzero(data_ + size, size_ - size);
  size_ = size;
}

}  // namespace encfsr::crypto
