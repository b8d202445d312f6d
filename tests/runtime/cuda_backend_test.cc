// The CUDA backend against its CPU twin, the CPU backend (the numerical reference), on the random-weight
// models of make_test_model.py (every weight type, GQA and MHA, tied embeddings, qwen2 biases, llama3
// rope scaling, safetensors, a prompt longer than one batch) and on stories260K with stencil::generate.
//
// Each model runs a prompt as one batch (every row's logits), three decode steps, then a truncation and
// two re-evaluated positions (the KV cache overwrite path), on both backends. Per row, max |cuda - cpu| /
// max |cpu| must stay under the tolerance:
//   float weights (F32/F16/BF16, and Q4_0/Q4_K/Q6_K, which both backends compute in F32): 1e-4. The ops
//     are the same formulas; only float summation order differs (expected ~1e-6).
//   Q8_0: 1e-2. Activations are quantised to 8 bits by the same rule on both, so a tiny difference in an
//     activation can move one quant by one step (expected well under 1e-3).
// Not yet measured on a GPU (none was lent when this was written): the figures above are bounds, not
// observations; scripts/gpu-check prints the worst value per model.
// Greedy generation on stories260K must give the same tokens on both backends (free text and JSON).
// Greedy in lockstep over $STENCIL_CUDA_GREEDY_MODELS (set by scripts/gpu-check): argmax differences
// only where the CPU's logits make them a near-tie.
//
// Without a CUDA device these tests skip with the reason; the error-path tests run everywhere.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "runtime/test_models.h"
#include "stencil/compiler.h"
#include "stencil/cuda.h"
#include "stencil/errors.h"
#include "stencil/runtime/generator.h"
#include "stencil/runtime/model.h"

namespace stencil {
namespace {

const std::string kStories = std::string(STENCIL_SHARED_DIR) + "/models/stories260K/stories260K-f32.gguf";

bool file_exists(const std::string& p) { return std::filesystem::exists(p); }

TEST(CudaBackend, LoadSaysWhyWithoutADevice) {
  if (cuda_available()) GTEST_SKIP() << "a CUDA device is present: the unavailable path is not reachable";
  if (!file_exists(kStories)) GTEST_SKIP() << "stories260K model absent: " << kStories;
  try {
    Model::load(kStories, ModelOptions{.backend = "cuda"});
    ADD_FAILURE() << "backend cuda loaded without CUDA";
  } catch (const Error& e) {
    const std::string what = e.what();
    EXPECT_TRUE(what.find("built without CUDA") != std::string::npos || what.find("no CUDA device") != std::string::npos)
        << what;
  }
}

TEST(CudaBackend, BackendNames) {
  if (!file_exists(kStories)) GTEST_SKIP() << "stories260K model absent: " << kStories;
  for (const char* bad : {"gpu", "cuda:", "cuda:x", "cuda:-1", "cuda0"}) {
    try {
      Model::load(kStories, ModelOptions{.backend = bad});
      ADD_FAILURE() << bad << " was accepted";
    } catch (const ArgumentError& e) {
      EXPECT_NE(std::string(e.what()).find("available: auto, cpu, cuda, cuda:N"), std::string::npos) << e.what();
    }
  }
  EXPECT_NO_THROW(Model::load(kStories, ModelOptions{.threads = 1, .backend = "cpu"}));
  if (cuda_available()) {
    EXPECT_THROW(Model::load(kStories, ModelOptions{.backend = "cuda:999"}), ArgumentError);
  }
}

struct Variant {
  const char* name;  // cuda_-prefixed: the files differ from model_random_test's (ctest runs both at once)
  const char* args;
  double max_rel;
  bool safetensors = false;
  int prompt_len = 9;
};

double row_rel_diff(std::span<const float> got, std::span<const float> want) {
  double md = 0, ml = 0;
  for (size_t i = 0; i < want.size(); ++i) {
    md = std::max(md, static_cast<double>(std::fabs(got[i] - want[i])));
    ml = std::max(ml, static_cast<double>(std::fabs(want[i])));
  }
  return ml > 0 ? md / ml : md;
}

class CudaRandomModelTest : public ::testing::TestWithParam<Variant> {};

TEST_P(CudaRandomModelTest, LogitsMatchCpuBackend) {
  if (!cuda_available()) GTEST_SKIP() << "no GPU: " << cuda_unavailable_reason();
  const Variant& v = GetParam();
  std::string why;
  if (!test_models::make(v.name, v.args, &why)) GTEST_SKIP() << why;
  const std::string path = test_models::output_dir() + "/" + v.name + (v.safetensors ? "" : ".gguf");
  const Model cpu = Model::load(path, ModelOptions{.threads = 2, .backend = "cpu"});
  const Model gpu = Model::load(path, ModelOptions{.backend = "cuda"});
  EXPECT_NE(gpu.info().backend.find("cuda"), std::string::npos) << gpu.info().backend;
  const int nv = cpu.info().n_vocab;

  std::vector<int32_t> tokens;
  uint32_t s = 4242;
  for (int i = 0; i < v.prompt_len + 3; ++i) tokens.push_back(static_cast<int32_t>((s = s * 1103515245u + 12345u) >> 8) % nv);
  Session sc(cpu, SessionOptions{.context_length = v.prompt_len + 8});
  Session sg(gpu, SessionOptions{.context_length = v.prompt_len + 8});
  const std::vector<int32_t> prompt(tokens.begin(), tokens.begin() + v.prompt_len);
  double worst = 0;
  const std::span<const float> want_rows = sc.eval_all(prompt);
  const std::vector<float> want(want_rows.begin(), want_rows.end());
  const std::span<const float> got = sg.eval_all(prompt);
  ASSERT_EQ(got.size(), want.size());
  for (int r = 0; r < v.prompt_len; ++r) {
    const size_t at = static_cast<size_t>(r) * nv;
    worst = std::max(worst, row_rel_diff(got.subspan(at, nv), std::span<const float>(want).subspan(at, nv)));
  }
  for (int r = v.prompt_len; r < v.prompt_len + 3; ++r) {
    const std::span<const float> c = sc.eval({&tokens[r], 1});
    const std::vector<float> cv(c.begin(), c.end());
    worst = std::max(worst, row_rel_diff(sg.eval({&tokens[r], 1}), cv));
  }
  // Truncate and evaluate two positions again: the caches are overwritten there.
  const int32_t keep = v.prompt_len - 2;
  sc.truncate(keep);
  sg.truncate(keep);
  const std::vector<int32_t> again = {tokens[v.prompt_len + 2], tokens[1]};
  const std::span<const float> c2 = sc.eval_all(again);
  const std::vector<float> cv2(c2.begin(), c2.end());
  const std::span<const float> g2 = sg.eval_all(again);
  for (int r = 0; r < 2; ++r) {
    worst = std::max(worst, row_rel_diff(g2.subspan(size_t(r) * nv, nv), std::span<const float>(cv2).subspan(size_t(r) * nv, nv)));
  }
  EXPECT_LE(worst, v.max_rel);
  std::printf("[ info ] %s: worst row relative diff cuda vs cpu %.3g (%s)\n", v.name, worst, gpu.info().backend.c_str());
}

constexpr double kFloat = 1e-4;
constexpr double kQ8 = 1e-2;
INSTANTIATE_TEST_SUITE_P(
    Variants, CudaRandomModelTest,
    ::testing::Values(
        Variant{"cuda_llama_f32", "--arch llama --type f32", kFloat},
        Variant{"cuda_llama_f32_tied_mha", "--arch llama --type f32 --tied --dims 64,4,4,96,2,80", kFloat},
        Variant{"cuda_llama_f16", "--arch llama --type f16", kFloat},
        Variant{"cuda_llama_bf16", "--arch llama --type bf16 --tied", kFloat},
        Variant{"cuda_llama_q8_0", "--arch llama --type q8_0", kQ8},
        Variant{"cuda_llama_q4_0", "--arch llama --type q4_0", kFloat},
        Variant{"cuda_llama_q4_k", "--arch llama --type q4_k --dims 256,4,2,256,1,64", kFloat},
        Variant{"cuda_llama_q6_k", "--arch llama --type q6_k --dims 256,4,1,256,1,64", kFloat},
        Variant{"cuda_llama3_rope_f32", "--arch llama --type f32 --llama3-rope --rope-base 500000 --dims 128,2,1,128,2,64",
                kFloat},
        Variant{"cuda_qwen2_f32", "--arch qwen2 --type f32 --tied --rope-base 1000000", kFloat},
        Variant{"cuda_qwen2_q8_0", "--arch qwen2 --type q8_0", kQ8},
        Variant{"cuda_llama_f32_long_prompt", "--arch llama --type f32 --dims 32,2,1,64,1,48", kFloat, false, 300},
        Variant{"cuda_st_llama3_bf16_tied",
                "--format safetensors --arch llama --type bf16 --tied --llama3-rope --rope-base 500000", kFloat, true},
        Variant{"cuda_st_qwen2_f16", "--format safetensors --arch qwen2 --type f16", kFloat, true}),
    [](const auto& info) { return std::string(info.param.name); });

// Greedy decoding picks the same tokens on both backends (stories260K F32 and Q8_0; free text and JSON).
TEST(CudaBackend, GreedyGenerationMatchesCpu) {
  if (!cuda_available()) GTEST_SKIP() << "no GPU: " << cuda_unavailable_reason();
  for (const char* file : {"stories260K-f32.gguf", "stories260K-q8_0.gguf"}) {
    const std::string path = std::string(STENCIL_SHARED_DIR) + "/models/stories260K/" + file;
    if (!file_exists(path)) GTEST_SKIP() << "stories260K model absent: " << path;
    SCOPED_TRACE(file);
    const Model cpu = Model::load(path, ModelOptions{.threads = 2, .backend = "cpu"});
    const Model gpu = Model::load(path, ModelOptions{.backend = "cuda"});
    const Compiler compiler(cpu.vocabulary());
    const CompiledGrammar json = compiler.compile_builtin_json();
    GenerateOptions o;
    o.temperature = 0;
    o.max_tokens = 96;
    o.raw = true;
    for (const CompiledGrammar* g : {static_cast<const CompiledGrammar*>(nullptr), &json}) {
      const GenerateResult a = generate(cpu, g, "Once upon a time", o);
      const GenerateResult b = generate(gpu, g, "Once upon a time", o);
      EXPECT_EQ(a.tokens, b.tokens) << "cpu: " << a.text << "\ncuda: " << b.text;
      EXPECT_EQ(a.valid, b.valid);
    }
  }
}

// Greedy decoding in lockstep on both backends over the models named in $STENCIL_CUDA_GREEDY_MODELS
// (':'-separated model files; scripts/gpu-check sets it to every model it generates with): both are fed
// the CPU's token at every step, so one early difference cannot cascade. At each of 128 steps the CUDA
// argmax must be the CPU's, unless the CPU's own logits put the two tokens within twice that row's
// max |cuda - cpu| (a near-tie that rounding may break either way: random-weight models have many).
// Prints, per model, the steps, the argmax differences and the worst row difference, so that a token
// mismatch in `stencil generate` can be told apart from a bug.
TEST(CudaBackend, GreedyStepsAgreeOrAreNearTies) {
  if (!cuda_available()) GTEST_SKIP() << "no GPU: " << cuda_unavailable_reason();
  const char* env = std::getenv("STENCIL_CUDA_GREEDY_MODELS");
  if (env == nullptr || *env == '\0') {
    GTEST_SKIP() << "STENCIL_CUDA_GREEDY_MODELS (':'-separated model files) is not set; scripts/gpu-check sets it";
  }
  std::vector<std::string> paths;
  for (std::string rest = env; !rest.empty();) {
    const size_t colon = rest.find(':');
    if (colon != 0) paths.push_back(rest.substr(0, colon));
    rest = colon == std::string::npos ? "" : rest.substr(colon + 1);
  }
  for (const std::string& path : paths) {
    SCOPED_TRACE(path);
    ASSERT_TRUE(file_exists(path)) << path;
    const Model cpu = Model::load(path, ModelOptions{.threads = 0, .backend = "cpu"});
    const Model gpu = Model::load(path, ModelOptions{.backend = "cuda"});
    const int nv = cpu.info().n_vocab;
    constexpr int kSteps = 128;
    Session sc(cpu, SessionOptions{.context_length = kSteps + 8});
    Session sg(gpu, SessionOptions{.context_length = kSteps + 8});
    std::vector<int32_t> prompt = {1 % nv, 100 % nv, 1000 % nv, 10000 % nv};
    std::vector<float> c(static_cast<size_t>(nv));
    std::span<const float> cs = sc.eval(prompt);
    std::copy(cs.begin(), cs.end(), c.begin());
    std::span<const float> g = sg.eval(prompt);
    int differences = 0;
    double worst_diff = 0, worst_ratio = 0;  // worst row diff; worst margin / row diff at a difference
    for (int step = 0; step < kSteps; ++step) {
      double d = 0;
      int32_t ac = 0, ag = 0;
      for (int i = 0; i < nv; ++i) {
        d = std::max(d, static_cast<double>(std::fabs(g[i] - c[i])));
        if (c[i] > c[ac]) ac = i;
        if (g[i] > g[ag]) ag = i;
      }
      worst_diff = std::max(worst_diff, d);
      if (ac != ag) {
        ++differences;
        const double margin = static_cast<double>(c[ac]) - c[ag];
        worst_ratio = std::max(worst_ratio, d > 0 ? margin / d : INFINITY);
        EXPECT_LE(margin, 2 * d) << "step " << step << ": cpu picks " << ac << " (" << c[ac] << "), cuda " << ag
                                 << " (cpu logit " << c[ag] << ", cuda " << g[ag] << "); row max |cuda - cpu| " << d;
      }
      const int32_t next = ac;
      cs = sc.eval({&next, 1});
      std::copy(cs.begin(), cs.end(), c.begin());
      g = sg.eval({&next, 1});
    }
    std::printf("[ info ] greedy lockstep %s: %d steps, %d argmax differences (worst margin / row diff %.3g), worst row "
                "max |cuda - cpu| %.3g\n",
                std::filesystem::path(path).filename().c_str(), kSteps, differences, worst_ratio, worst_diff);
  }
}

}  // namespace
}  // namespace stencil
