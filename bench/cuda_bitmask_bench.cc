// cuda_bitmask_bench: the latency of apply_token_bitmask_cuda (include/stencil/cuda.h) on one GPU, for
// the matrix docs/performance.md reports: vocabulary 32k / 128k / 256k ids x batch 1 / 64 / 512 rows x
// float32 / bfloat16 logits (anchor: XGrammar's CUDA kernel, 5.5 us at batch 1 and 128k ids on an
// H100, about 37 us at batch 512).
//
//   cuda_bitmask_bench [--vocab 32000,128256,256000] [--batch 1,64,512] [--dtype f32,bf16,f16]
//                      [--iters 200] [--warmup 20] [--device N] [--output json]
//
// Each configuration: logits (batch, vocab) and masks (batch, vocab / 32 words) in device memory, the
// masks shaped like real ones (30% of the words all-allowed, 30% all-disallowed, the rest random bits,
// so about half the ids are masked). `warmup` calls, then `iters` calls, each between two CUDA events
// on one stream (the time of that one call on the GPU, launch gaps excluded), after which the stream is
// synchronised; the median (p50), p99 and min over the timed calls are printed in microseconds. The
// same logits buffer is reused (the kernel writes the same -inf values each time, so every call does
// the same work); at batch 1 the data fit into L2, as in a decoding loop. "GB/s" counts the mask words
// read plus the masked logits written, and "of peak" divides it by the device's memory bandwidth
// (memory clock x bus width x 2).
//
// Exits 77 (the "skipped" code of CTest and automake) with "no CUDA device (...)" when there is no GPU or
// driver, 2 on bad arguments, 1 when a CUDA call fails.
#include <cuda_runtime_api.h>

#include <algorithm>
#include <bit>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "stencil/bitmask.h"
#include "stencil/cuda.h"
#include "stencil/errors.h"

namespace {

constexpr int kSkipped = 77;

struct Options {
  std::vector<int32_t> vocabs = {32000, 128256, 256000};
  std::vector<int32_t> batches = {1, 64, 512};
  std::vector<stencil::LogitsDtype> dtypes = {stencil::LogitsDtype::kFloat32, stencil::LogitsDtype::kBFloat16};
  int iters = 200;
  int warmup = 20;
  int device = 0;
  bool json = false;
};

const char* dtype_name(stencil::LogitsDtype t) {
  switch (t) {
    case stencil::LogitsDtype::kFloat32: return "f32";
    case stencil::LogitsDtype::kFloat16: return "f16";
    default: return "bf16";
  }
}

std::vector<int32_t> parse_ints(const std::string& s) {
  std::vector<int32_t> out;
  std::stringstream ss(s);
  for (std::string item; std::getline(ss, item, ',');) {
    char* end = nullptr;
    const long v = std::strtol(item.c_str(), &end, 10);
    if (item.empty() || *end != '\0' || v <= 0 || v > (1L << 30)) throw stencil::ArgumentError("bad number '" + item + "'");
    out.push_back(static_cast<int32_t>(v));
  }
  return out;
}

Options parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--output" && i + 1 < argc && std::string(argv[i + 1]) == "json") {
      o.json = true, ++i;
      continue;
    }
    if (i + 1 >= argc) throw stencil::ArgumentError("unknown option or missing value: " + a);
    const std::string v = argv[++i];
    if (a == "--vocab") o.vocabs = parse_ints(v);
    else if (a == "--batch") o.batches = parse_ints(v);
    else if (a == "--iters") o.iters = parse_ints(v).at(0);
    else if (a == "--warmup") o.warmup = std::stoi(v);
    else if (a == "--device") o.device = std::stoi(v);
    else if (a == "--dtype") {
      o.dtypes.clear();
      std::stringstream ss(v);
      for (std::string d; std::getline(ss, d, ',');) {
        if (d == "f32") o.dtypes.push_back(stencil::LogitsDtype::kFloat32);
        else if (d == "bf16") o.dtypes.push_back(stencil::LogitsDtype::kBFloat16);
        else if (d == "f16") o.dtypes.push_back(stencil::LogitsDtype::kFloat16);
        else throw stencil::ArgumentError("unknown dtype '" + d + "' (f32, bf16, f16)");
      }
    } else {
      throw stencil::ArgumentError("unknown option " + a);
    }
  }
  if (o.warmup < 0) throw stencil::ArgumentError("--warmup must not be negative");
  return o;
}

// Throws stencil::Error naming the call unless it succeeded.
void check(cudaError_t e, const char* what) {
  if (e != cudaSuccess) throw stencil::Error(std::string(what) + ": " + cudaGetErrorName(e) + ": " + cudaGetErrorString(e));
}

// Owning device allocation.
struct DeviceMem {
  void* p = nullptr;
  explicit DeviceMem(size_t bytes) { check(cudaMalloc(&p, bytes), "cudaMalloc"); }
  ~DeviceMem() { (void)cudaFree(p); }
  DeviceMem(const DeviceMem&) = delete;
  DeviceMem& operator=(const DeviceMem&) = delete;
};

struct Result {
  double p50_us, p99_us, min_us, gb_s;
};

Result run_one(int32_t vocab, int32_t batch, stencil::LogitsDtype dtype, const Options& o, cudaStream_t stream) {
  const size_t elem = dtype == stencil::LogitsDtype::kFloat32 ? 4 : 2;
  const int32_t words = stencil::bitmask_words(vocab);
  const size_t logit_bytes = static_cast<size_t>(batch) * vocab * elem;
  const size_t mask_count = static_cast<size_t>(batch) * words;

  std::mt19937 rng(static_cast<uint32_t>(vocab) * 31u + static_cast<uint32_t>(batch));
  std::vector<uint32_t> mask(mask_count);
  size_t masked = 0;
  for (size_t w = 0; w < mask_count; ++w) {
    const uint32_t kind = rng() % 10;
    mask[w] = kind < 3 ? 0xFFFFFFFFu : kind < 6 ? 0u : static_cast<uint32_t>(rng());
    masked += 32 - static_cast<size_t>(std::popcount(mask[w]));
  }
  DeviceMem d_logits(logit_bytes), d_mask(mask_count * 4);
  check(cudaMemset(d_logits.p, 0, logit_bytes), "cudaMemset");
  check(cudaMemcpy(d_mask.p, mask.data(), mask_count * 4, cudaMemcpyHostToDevice), "cudaMemcpy");

  stencil::DeviceBitmaskArgs a;
  a.logits = d_logits.p;
  a.dtype = dtype;
  a.n_rows = batch;
  a.width = vocab;
  a.mask = static_cast<const uint32_t*>(d_mask.p);
  a.mask_vocab_size = vocab;
  a.stream = stream;

  cudaEvent_t start, stop;
  check(cudaEventCreate(&start), "cudaEventCreate");
  check(cudaEventCreate(&stop), "cudaEventCreate");
  for (int i = 0; i < o.warmup; ++i) stencil::apply_token_bitmask_cuda(a);
  check(cudaStreamSynchronize(stream), "cudaStreamSynchronize (warm-up)");
  std::vector<double> us;
  us.reserve(static_cast<size_t>(o.iters));
  for (int i = 0; i < o.iters; ++i) {
    check(cudaEventRecord(start, stream), "cudaEventRecord");
    stencil::apply_token_bitmask_cuda(a);
    check(cudaEventRecord(stop, stream), "cudaEventRecord");
    check(cudaEventSynchronize(stop), "cudaEventSynchronize");
    float ms = 0;
    check(cudaEventElapsedTime(&ms, start, stop), "cudaEventElapsedTime");
    us.push_back(ms * 1e3);
  }
  (void)cudaEventDestroy(start);
  (void)cudaEventDestroy(stop);
  std::sort(us.begin(), us.end());
  const double p50 = us[us.size() / 2];
  const double p99 = us[std::min(us.size() - 1, (us.size() * 99) / 100)];
  const double bytes = static_cast<double>(mask_count) * 4 + static_cast<double>(masked) * elem;
  return {p50, p99, us.front(), bytes / (p50 * 1e-6) / 1e9};
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  try {
    o = parse(argc, argv);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "cuda_bitmask_bench: %s\nusage: %s [--vocab LIST] [--batch LIST] [--dtype f32,bf16,f16] "
                         "[--iters N] [--warmup N] [--device N] [--output json]\n",
                 e.what(), argv[0]);
    return 2;
  }
  if (!stencil::cuda_available()) {
    std::printf("%s\n", stencil::cuda_unavailable_reason().c_str());  // "no CUDA device (...)"
    return kSkipped;
  }
  try {
    check(cudaSetDevice(o.device), "cudaSetDevice");
    cudaDeviceProp prop{};
    check(cudaGetDeviceProperties(&prop, o.device), "cudaGetDeviceProperties");
    int mem_khz = 0;
    (void)cudaDeviceGetAttribute(&mem_khz, cudaDevAttrMemoryClockRate, o.device);
    const double peak_gb_s = 2.0 * mem_khz * 1e3 * (prop.memoryBusWidth / 8.0) / 1e9;  // 0 when unknown
    cudaStream_t stream;
    check(cudaStreamCreateWithFlags(&stream, cudaStreamNonBlocking), "cudaStreamCreateWithFlags");
    if (!o.json) {
      std::printf("device %d: %s (sm_%d%d), memory bandwidth %.0f GB/s; %d warm-up + %d timed calls each\n", o.device,
                  prop.name, prop.major, prop.minor, peak_gb_s, o.warmup, o.iters);
      std::printf("%-8s %-6s %-5s %10s %10s %10s %10s %8s\n", "vocab", "batch", "dtype", "p50 us", "p99 us", "min us",
                  "GB/s", "of peak");
    }
    for (int32_t vocab : o.vocabs) {
      for (int32_t batch : o.batches) {
        for (stencil::LogitsDtype dt : o.dtypes) {
          const Result r = run_one(vocab, batch, dt, o, stream);
          const double share = peak_gb_s > 0 ? r.gb_s / peak_gb_s : 0;
          if (o.json) {
            std::printf("{\"device\": \"%s\", \"vocab\": %d, \"batch\": %d, \"dtype\": \"%s\", \"p50_us\": %.2f, "
                        "\"p99_us\": %.2f, \"min_us\": %.2f, \"gb_s\": %.1f, \"peak_share\": %.3f}\n",
                        prop.name, vocab, batch, dtype_name(dt), r.p50_us, r.p99_us, r.min_us, r.gb_s, share);
          } else {
            std::printf("%-8d %-6d %-5s %10.2f %10.2f %10.2f %10.1f %7.1f%%\n", vocab, batch, dtype_name(dt), r.p50_us,
                        r.p99_us, r.min_us, r.gb_s, 100 * share);
          }
          std::fflush(stdout);
        }
      }
    }
    (void)cudaStreamDestroy(stream);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "cuda_bitmask_bench: %s\n", e.what());
    return 1;
  }
  return 0;
}
