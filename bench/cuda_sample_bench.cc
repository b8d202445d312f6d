// cuda_sample_bench: the latency of the CUDA sampling op (src/runtime/cuda/sample.cu) on one row of
// logits in device memory, with a grammar mask, against what the host path costs instead (copying the
// logits back, 4 bytes per id, through pageable memory): the figures that decide when sampling on the
// device pays off.
//
//   cuda_sample_bench [--vocab 32000,128256,256000] [--iters 200] [--warmup 20] [--device N]
//
// Per vocabulary and mode (greedy; temperature 1; top-k 40; top-p 0.9; top-k 100 + top-p 0.95): the
// time between two CUDA events around one call (its kernels and CUB's), p50 / p99 in µs over `iters`
// calls after `warmup`; then "copy back": one cudaMemcpy of the logits to the host, timed the same way.
// Masks allow about half the ids. Exits 77 with "no CUDA device (...)" without a GPU, 2 on bad
// arguments, 1 when a CUDA call fails.
#include <cuda_runtime_api.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "runtime/cuda/ops.h"
#include "stencil/bitmask.h"
#include "stencil/cuda.h"
#include "stencil/errors.h"

namespace {

void check(cudaError_t e, const char* what) {
  if (e != cudaSuccess) throw stencil::Error(std::string(what) + ": " + cudaGetErrorName(e) + ": " + cudaGetErrorString(e));
}

struct Timing {
  double p50, p99;
};

// Times `call` between two events on `stream`, one call at a time.
Timing time_calls(const std::function<void()>& call, cudaStream_t stream, int warmup, int iters) {
  cudaEvent_t a, b;
  check(cudaEventCreate(&a), "cudaEventCreate");
  check(cudaEventCreate(&b), "cudaEventCreate");
  for (int i = 0; i < warmup; ++i) call();
  check(cudaStreamSynchronize(stream), "cudaStreamSynchronize");
  std::vector<double> us;
  for (int i = 0; i < iters; ++i) {
    check(cudaEventRecord(a, stream), "cudaEventRecord");
    call();
    check(cudaEventRecord(b, stream), "cudaEventRecord");
    check(cudaEventSynchronize(b), "cudaEventSynchronize");
    float ms = 0;
    check(cudaEventElapsedTime(&ms, a, b), "cudaEventElapsedTime");
    us.push_back(ms * 1e3);
  }
  (void)cudaEventDestroy(a);
  (void)cudaEventDestroy(b);
  std::sort(us.begin(), us.end());
  return {us[us.size() / 2], us[std::min(us.size() - 1, us.size() * 99 / 100)]};
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<int32_t> vocabs = {32000, 128256, 256000};
  int iters = 200, warmup = 20, device = 0;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string a = argv[i], v = argv[i + 1];
    if (a == "--vocab") {
      vocabs.clear();
      std::stringstream ss(v);
      for (std::string x; std::getline(ss, x, ',');) vocabs.push_back(std::atoi(x.c_str()));
    } else if (a == "--iters") {
      iters = std::max(1, std::atoi(v.c_str()));
    } else if (a == "--warmup") {
      warmup = std::max(0, std::atoi(v.c_str()));
    } else if (a == "--device") {
      device = std::atoi(v.c_str());
    } else {
      std::fprintf(stderr, "usage: %s [--vocab LIST] [--iters N] [--warmup N] [--device N]\n", argv[0]);
      return 2;
    }
  }
  if (argc % 2 == 0) {
    std::fprintf(stderr, "usage: %s [--vocab LIST] [--iters N] [--warmup N] [--device N]\n", argv[0]);
    return 2;
  }
  if (!stencil::cuda_available()) {
    std::printf("%s\n", stencil::cuda_unavailable_reason().c_str());  // "no CUDA device (...)"
    return 77;
  }
  try {
    check(cudaSetDevice(device), "cudaSetDevice");
    cudaDeviceProp prop{};
    check(cudaGetDeviceProperties(&prop, device), "cudaGetDeviceProperties");
    cudaStream_t stream;
    check(cudaStreamCreateWithFlags(&stream, cudaStreamNonBlocking), "cudaStreamCreateWithFlags");
    std::printf("device %d: %s (sm_%d%d); %d warm-up + %d timed calls each\n", device, prop.name, prop.major,
                prop.minor, warmup, iters);
    std::printf("%-8s %-22s %10s %10s\n", "vocab", "mode", "p50 us", "p99 us");
    struct Mode {
      const char* name;
      stencil::runtime::cuda::SampleParams p;
    };
    const Mode modes[] = {{"greedy", {0.0f, 0, 1.0f}},        {"temperature 1", {1.0f, 0, 1.0f}},
                          {"top-k 40", {1.0f, 40, 1.0f}},     {"top-p 0.9", {1.0f, 0, 0.9f}},
                          {"top-k 100 + top-p 0.95", {1.0f, 100, 0.95f}}};
    for (int32_t n : vocabs) {
      if (n <= 0) continue;
      std::mt19937 rng(static_cast<uint32_t>(n));
      std::normal_distribution<float> normal(0.0f, 3.0f);
      std::vector<float> logits(static_cast<size_t>(n));
      for (float& v : logits) v = normal(rng);
      std::vector<uint32_t> mask(static_cast<size_t>(stencil::bitmask_words(n)));
      for (uint32_t& w : mask) {
        const uint32_t kind = rng() % 10;
        w = kind < 3 ? 0xFFFFFFFFu : kind < 6 ? 0u : static_cast<uint32_t>(rng());
      }
      const size_t scratch_bytes = stencil::runtime::cuda::sample_scratch_bytes(n);
      void *d_logits, *d_mask, *d_token, *d_scratch;
      check(cudaMalloc(&d_logits, logits.size() * 4), "cudaMalloc");
      check(cudaMalloc(&d_mask, mask.size() * 4), "cudaMalloc");
      check(cudaMalloc(&d_token, 4), "cudaMalloc");
      check(cudaMalloc(&d_scratch, scratch_bytes), "cudaMalloc");
      check(cudaMemcpy(d_logits, logits.data(), logits.size() * 4, cudaMemcpyHostToDevice), "cudaMemcpy");
      check(cudaMemcpy(d_mask, mask.data(), mask.size() * 4, cudaMemcpyHostToDevice), "cudaMemcpy");
      for (const Mode& m : modes) {
        const Timing t = time_calls(
            [&] {
              stencil::runtime::cuda::sample(static_cast<const float*>(d_logits), n, static_cast<const uint32_t*>(d_mask),
                                             n, m.p, 0.5, d_scratch, scratch_bytes, static_cast<int32_t*>(d_token), stream);
            },
            stream, warmup, iters);
        std::printf("%-8d %-22s %10.2f %10.2f\n", n, m.name, t.p50, t.p99);
      }
      std::vector<float> host(logits.size());
      const Timing c = time_calls(
          [&] {
            check(cudaMemcpyAsync(host.data(), d_logits, host.size() * 4, cudaMemcpyDeviceToHost, stream),
                  "cudaMemcpyAsync");
          },
          stream, warmup, iters);
      std::printf("%-8d %-22s %10.2f %10.2f\n", n, "copy back (pageable)", c.p50, c.p99);
      std::fflush(stdout);
      (void)cudaFree(d_logits);
      (void)cudaFree(d_mask);
      (void)cudaFree(d_token);
      (void)cudaFree(d_scratch);
    }
    (void)cudaStreamDestroy(stream);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "cuda_sample_bench: %s\n", e.what());
    return 1;
  }
  return 0;
}
