// CUDA error handling, device discovery and DeviceBuffer (see cuda_check.h).
#include "runtime/cuda/cuda_check.h"

#include <cuda_runtime_api.h>

#include <utility>

#include "stencil/errors.h"

namespace stencil::runtime::cuda {

void check(cudaError_t e, const char* what) {
  if (e == cudaSuccess) return;
  throw Error(std::string("CUDA: ") + what + " failed: " + cudaGetErrorName(e) + ": " + cudaGetErrorString(e));
}

void check_launch(const char* kernel) {
  const cudaError_t e = cudaGetLastError();
  if (e == cudaSuccess) return;
  throw Error(std::string("CUDA: launching kernel ") + kernel + " failed: " + cudaGetErrorName(e) + ": " +
              cudaGetErrorString(e));
}

int device_count(std::string* why) noexcept {
  int n = 0;
  const cudaError_t e = cudaGetDeviceCount(&n);
  if (e != cudaSuccess) {
    // No driver, driver older than the runtime, no device node ...: all mean "no usable device".
    if (why) *why = std::string("cudaGetDeviceCount: ") + cudaGetErrorName(e) + ": " + cudaGetErrorString(e);
    (void)cudaGetLastError();  // clear the sticky error state for later calls
    return 0;
  }
  if (n == 0 && why) *why = "cudaGetDeviceCount found 0 devices";
  return n;
}

void require_device() {
  std::string why;
  if (device_count(&why) == 0) throw Error("no CUDA device (" + why + ")");
}

DeviceBuffer::DeviceBuffer(size_t bytes, const char* what) : bytes_(bytes) {
  if (bytes == 0) return;
  const cudaError_t e = cudaMalloc(&p_, bytes);
  if (e != cudaSuccess) {
    p_ = nullptr;
    (void)cudaGetLastError();
    throw Error(std::string("CUDA: cudaMalloc of ") + std::to_string(bytes) + " bytes for " + what +
                " failed: " + cudaGetErrorName(e) + ": " + cudaGetErrorString(e));
  }
}

DeviceBuffer& DeviceBuffer::operator=(DeviceBuffer&& o) noexcept {
  if (this != &o) {
    if (p_) (void)cudaFree(p_);
    p_ = std::exchange(o.p_, nullptr);
    bytes_ = std::exchange(o.bytes_, 0);
  }
  return *this;
}

DeviceBuffer::~DeviceBuffer() {
  if (p_) (void)cudaFree(p_);  // errors here (e.g. a context already torn down at exit) cannot be reported
}

}  // namespace stencil::runtime::cuda
