// Internal helpers of the CUDA backend (only compiled with STENCIL_CUDA): turning CUDA runtime
// errors into stencil::Error with the call's name, the "is there a device" question, and an owning
// device allocation. Includes the CUDA runtime header, so only src/runtime/cuda/ files include it.
#pragma once

#include <cuda_runtime_api.h>

#include <cstddef>
#include <string>

namespace stencil::runtime::cuda {

// Throws stencil::Error("CUDA: <what> failed: <error name>: <error string>") unless e == cudaSuccess.
void check(cudaError_t e, const char* what);
// After a kernel launch: checks cudaGetLastError() (bad launch configuration, no kernel image for
// this device ...), naming the kernel.
void check_launch(const char* kernel);

// The number of usable CUDA devices; 0 when the driver is missing, too old, or there is no device
// (the reason is written to *why, when given). Never throws.
int device_count(std::string* why = nullptr) noexcept;

// Throws stencil::Error unless a device is there ("no CUDA device: <reason>").
void require_device();

// An owning cudaMalloc'd buffer (freed in the destructor; move-only).
class DeviceBuffer {
 public:
  DeviceBuffer() = default;
  // Allocates `bytes` (0 allowed: no allocation). Throws stencil::Error naming the size when the
  // device is out of memory; `what` says what the buffer is for.
  explicit DeviceBuffer(size_t bytes, const char* what = "buffer");
  DeviceBuffer(DeviceBuffer&& o) noexcept : p_(o.p_), bytes_(o.bytes_) { o.p_ = nullptr, o.bytes_ = 0; }
  DeviceBuffer& operator=(DeviceBuffer&& o) noexcept;
  DeviceBuffer(const DeviceBuffer&) = delete;
  DeviceBuffer& operator=(const DeviceBuffer&) = delete;
  ~DeviceBuffer();

  void* get() const noexcept { return p_; }
  template <typename T>
  T* as() const noexcept { return static_cast<T*>(p_); }
  size_t bytes() const noexcept { return bytes_; }

 private:
  void* p_ = nullptr;
  size_t bytes_ = 0;
};

}  // namespace stencil::runtime::cuda
