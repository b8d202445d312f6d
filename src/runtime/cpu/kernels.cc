// Runtime ISA dispatch: picks the kernel table once per process from cpuid.
#include "runtime/cpu/kernels.h"

#include <cstdlib>
#include <cstring>

namespace stencil::runtime::cpu {
namespace {

bool cpu_has(Isa isa) {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_cpu_init();
  switch (isa) {
    case Isa::kScalar: return true;
    case Isa::kAvx2:
      return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && __builtin_cpu_supports("f16c");
    case Isa::kAvx512:
      return cpu_has(Isa::kAvx2) && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
             __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512vnni");
  }
  return false;
#else
  return isa == Isa::kScalar;
#endif
}

struct Tables {
  KernelTable scalar, avx2, avx512;
  bool has_avx2 = false, has_avx512 = false;
  Tables() {
    fill_kernels_scalar(&scalar);
#if defined(__x86_64__)
    has_avx2 = cpu_has(Isa::kAvx2);
    has_avx512 = cpu_has(Isa::kAvx512);
    if (has_avx2) fill_kernels_avx2(&avx2);
    if (has_avx512) fill_kernels_avx512(&avx512);
#endif
  }
};

const Tables& tables() {
  static const Tables t;
  return t;
}

}  // namespace

const KernelTable* kernels_for(Isa isa) {
  const Tables& t = tables();
  switch (isa) {
    case Isa::kScalar: return &t.scalar;
    case Isa::kAvx2: return t.has_avx2 ? &t.avx2 : nullptr;
    case Isa::kAvx512: return t.has_avx512 ? &t.avx512 : nullptr;
  }
  return nullptr;
}

const KernelTable& best_kernels() {
  // STENCIL_CPU_ISA=scalar|avx2|avx512 caps the level (for comparisons and debugging).
  static const KernelTable* best = [] {
    const char* cap = std::getenv("STENCIL_CPU_ISA");
    const bool allow512 = !cap || std::strcmp(cap, "avx512") == 0;
    const bool allow2 = allow512 || (cap && std::strcmp(cap, "avx2") == 0);
    if (allow512 && kernels_for(Isa::kAvx512)) return kernels_for(Isa::kAvx512);
    if (allow2 && kernels_for(Isa::kAvx2)) return kernels_for(Isa::kAvx2);
    return kernels_for(Isa::kScalar);
  }();
  return *best;
}

}  // namespace stencil::runtime::cpu
