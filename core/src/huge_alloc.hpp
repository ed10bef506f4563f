// huge_alloc.hpp (private) — an allocator that asks Linux for transparent huge pages on big arrays.
//
// Graph searches touch node labels and arcs in an order set by the search frontier, i.e. all over a
// multi-megabyte array: with 4 KiB pages nearly every such access also misses the TLB. Backing big
// arrays with 2 MiB pages (madvise(MADV_HUGEPAGE); the kernel's default THP mode is often "madvise")
// removes most of those misses. Small arrays and non-Linux systems use plain operator new.
#pragma once

#include <cstddef>
#include <cstdlib>
#include <new>
#include <vector>

#if defined(__linux__)
#include <sys/mman.h>
#endif

namespace careshed::detail {

template <typename T>
struct HugePageAllocator {
  using value_type = T;
  static constexpr size_t kHuge = size_t(2) << 20;  // 2 MiB
  static constexpr size_t kMinBytes = size_t(4) << 20;

  HugePageAllocator() noexcept = default;
  template <typename U>
  HugePageAllocator(const HugePageAllocator<U>&) noexcept {}

  T* allocate(size_t n) {
    const size_t bytes = n * sizeof(T);
#if defined(__linux__)
    if (bytes >= kMinBytes) {
      const size_t rounded = (bytes + kHuge - 1) / kHuge * kHuge;
      void* p = std::aligned_alloc(kHuge, rounded);
      if (p == nullptr) throw std::bad_alloc();
      madvise(p, rounded, MADV_HUGEPAGE);  // a hint: failure just means normal pages
      return static_cast<T*>(p);
    }
#endif
    void* p = std::malloc(bytes == 0 ? 1 : bytes);
    if (p == nullptr) throw std::bad_alloc();
    return static_cast<T*>(p);
  }
  void deallocate(T* p, size_t) noexcept { std::free(p); }

  template <typename U>
  bool operator==(const HugePageAllocator<U>&) const noexcept { return true; }
  template <typename U>
  bool operator!=(const HugePageAllocator<U>&) const noexcept { return false; }
};

template <typename T>
using huge_vector = std::vector<T, HugePageAllocator<T>>;

}  // namespace careshed::detail
