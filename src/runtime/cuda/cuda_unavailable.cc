// The CUDA entry points in a build without CUDA (STENCIL_CUDA=OFF): they exist, so programs and
// bindings link the same way everywhere, and say clearly that this build cannot run on a GPU.
#include <memory>
#include <string>

#include "runtime/backend.h"
#include "stencil/cuda.h"
#include "stencil/errors.h"

namespace stencil {

namespace {
constexpr const char* kBuiltWithout =
    "built without CUDA (STENCIL_CUDA=OFF: configure with nvcc available, or -DSTENCIL_CUDA=ON)";
}

bool cuda_available() noexcept { return false; }
std::string cuda_unavailable_reason() { return kBuiltWithout; }

void apply_token_bitmask_cuda(const DeviceBitmaskArgs&) {
  throw Error(std::string("apply_token_bitmask_cuda: stencil was ") + kBuiltWithout);
}

namespace runtime {
std::unique_ptr<Backend> make_cuda_backend(const LoadedModel&, int32_t) {
  throw Error(std::string("the cuda backend is not available: stencil was ") + kBuiltWithout);
}
}  // namespace runtime

}  // namespace stencil
