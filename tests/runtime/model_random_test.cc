// Random-weight models of every supported tensor type, architecture variant and file format, written
// by tests/runtime/make_test_model.py at test time into the build tree, checked against a plain
// reference forward pass written here: double precision, no SIMD, no quantisation, Hugging Face
// layout with rotate_half RoPE, computed from the weights the script dumps (*.ref.bin). So the GGUF
// q/k permutation, RoPE pairing, biases, GQA, tied embeddings, llama3 rope factors and every
// dequantiser are checked against an independent description of the model.
//
// Tolerances: float weights (F32/F16/BF16) and types dequantised to float (Q4_0/Q4_K/Q6_K) are
// computed in float32: row max |diff| / row max |logit| <= 2e-5. Q8_0 quantises activations to 8
// bits (as llama.cpp does), which moves logits by about 1%: relative <= 4e-2.
// Skips (with a message) when python3 with numpy is not available.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>

#include <nlohmann/json.hpp>

#include "stencil/errors.h"
#include "stencil/runtime/model.h"
#include "runtime/test_models.h"

namespace stencil {
namespace {

using Matrix = std::vector<double>;  // row-major

struct Reference {
  nlohmann::json meta;
  std::map<std::string, std::vector<float>> w;

  static Reference load(const std::string& base) {
    Reference r;
    std::ifstream js(base + ".ref.json");
    r.meta = nlohmann::json::parse(js);
    std::ifstream bin(base + ".ref.bin", std::ios::binary);
    std::vector<char> all((std::istreambuf_iterator<char>(bin)), std::istreambuf_iterator<char>());
    for (const auto& t : r.meta["tensors"]) {
      size_t n = 1;
      for (const auto& d : t["shape"]) n *= d.get<size_t>();
      std::vector<float> v(n);
      std::memcpy(v.data(), all.data() + t["offset"].get<size_t>() * 4, n * 4);
      r.w[t["name"].get<std::string>()] = std::move(v);
    }
    return r;
  }
  const std::vector<float>& get(const std::string& name) const { return w.at(name); }
};

// y (rows) = W (rows x cols) . x
std::vector<double> matvec(const std::vector<float>& W, const std::vector<double>& x, size_t rows) {
  const size_t cols = x.size();
  std::vector<double> y(rows);
  for (size_t r = 0; r < rows; ++r) {
    double s = 0;
    for (size_t c = 0; c < cols; ++c) s += static_cast<double>(W[r * cols + c]) * x[c];
    y[r] = s;
  }
  return y;
}

std::vector<double> rmsnorm(const std::vector<double>& x, const std::vector<float>& w, double eps) {
  double ss = 0;
  for (double v : x) ss += v * v;
  const double s = 1.0 / std::sqrt(ss / x.size() + eps);
  std::vector<double> y(x.size());
  for (size_t i = 0; i < x.size(); ++i) y[i] = x[i] * s * w[i];
  return y;
}

// The plain reference: every position's logits for `tokens` (one token at a time, full KV history).
std::vector<std::vector<double>> reference_logits(const Reference& R, const std::vector<int32_t>& tokens) {
  const auto& m = R.meta;
  const int d = m["n_embd"], nh = m["n_head"], nkv = m["n_head_kv"], ff = m["n_ff"], nl = m["n_layer"], nv = m["n_vocab"];
  const int hd = d / nh;
  const double eps = m["eps"], base = m["rope_base"];
  const bool bias = m["bias"];
  const std::vector<double> factors = m["rope_factors"].get<std::vector<double>>();
  std::vector<std::vector<std::vector<double>>> kc(nl), vc(nl);  // (layer, pos, nkv*hd)
  std::vector<std::vector<double>> out;
  auto rope = [&](std::vector<double>& v, int heads, int pos) {
    for (int h = 0; h < heads; ++h) {
      for (int i = 0; i < hd / 2; ++i) {
        double inv = std::pow(base, -2.0 * i / hd);
        if (!factors.empty()) inv /= factors[i];
        const double th = pos * inv, c = std::cos(th), s = std::sin(th);
        double& a = v[h * hd + i];
        double& b = v[h * hd + i + hd / 2];
        const double a0 = a, b0 = b;
        a = a0 * c - b0 * s;
        b = a0 * s + b0 * c;
      }
    }
  };
  for (size_t pos = 0; pos < tokens.size(); ++pos) {
    const std::vector<float>& E = R.get("model.embed_tokens.weight");
    std::vector<double> x(E.begin() + static_cast<size_t>(tokens[pos]) * d, E.begin() + static_cast<size_t>(tokens[pos] + 1) * d);
    for (int l = 0; l < nl; ++l) {
      const std::string p = "model.layers." + std::to_string(l) + ".";
      std::vector<double> xn = rmsnorm(x, R.get(p + "input_layernorm.weight"), eps);
      std::vector<double> q = matvec(R.get(p + "self_attn.q_proj.weight"), xn, nh * hd);
      std::vector<double> k = matvec(R.get(p + "self_attn.k_proj.weight"), xn, nkv * hd);
      std::vector<double> v = matvec(R.get(p + "self_attn.v_proj.weight"), xn, nkv * hd);
      if (bias) {
        for (int i = 0; i < nh * hd; ++i) q[i] += R.get(p + "self_attn.q_proj.bias")[i];
        for (int i = 0; i < nkv * hd; ++i) k[i] += R.get(p + "self_attn.k_proj.bias")[i];
        for (int i = 0; i < nkv * hd; ++i) v[i] += R.get(p + "self_attn.v_proj.bias")[i];
      }
      rope(q, nh, static_cast<int>(pos));
      rope(k, nkv, static_cast<int>(pos));
      kc[l].push_back(k);
      vc[l].push_back(v);
      std::vector<double> att(nh * hd, 0.0);
      for (int h = 0; h < nh; ++h) {
        const int g = h / (nh / nkv);
        std::vector<double> sc(pos + 1);
        double mx = -1e300;
        for (size_t j = 0; j <= pos; ++j) {
          double s = 0;
          for (int i = 0; i < hd; ++i) s += q[h * hd + i] * kc[l][j][g * hd + i];
          sc[j] = s / std::sqrt(static_cast<double>(hd));
          mx = std::max(mx, sc[j]);
        }
        double sum = 0;
        for (double& s : sc) sum += (s = std::exp(s - mx));
        for (size_t j = 0; j <= pos; ++j) {
          for (int i = 0; i < hd; ++i) att[h * hd + i] += sc[j] / sum * vc[l][j][g * hd + i];
        }
      }
      std::vector<double> o = matvec(R.get(p + "self_attn.o_proj.weight"), att, d);
      for (int i = 0; i < d; ++i) x[i] += o[i];
      xn = rmsnorm(x, R.get(p + "post_attention_layernorm.weight"), eps);
      std::vector<double> gt = matvec(R.get(p + "mlp.gate_proj.weight"), xn, ff);
      std::vector<double> up = matvec(R.get(p + "mlp.up_proj.weight"), xn, ff);
      for (int i = 0; i < ff; ++i) gt[i] = gt[i] / (1 + std::exp(-gt[i])) * up[i];
      std::vector<double> dn = matvec(R.get(p + "mlp.down_proj.weight"), gt, d);
      for (int i = 0; i < d; ++i) x[i] += dn[i];
    }
    out.push_back(matvec(R.get("lm_head.weight"), rmsnorm(x, R.get("model.norm.weight"), eps), nv));
  }
  return out;
}

struct Variant {
  const char* name;
  const char* args;  // make_test_model.py options
  double max_rel;
  bool safetensors = false;
  int prompt_len = 9;
};

class RandomModelTest : public ::testing::TestWithParam<Variant> {};

double row_rel_diff(std::span<const float> got, const std::vector<double>& want) {
  double md = 0, ml = 0;
  for (size_t i = 0; i < want.size(); ++i) {
    md = std::max(md, std::fabs(got[i] - want[i]));
    ml = std::max(ml, std::fabs(want[i]));
  }
  return md / ml;
}

TEST_P(RandomModelTest, LogitsMatchReferenceForward) {
  const Variant& v = GetParam();
  const std::string dir = test_models::output_dir();
  std::string why;
  if (!test_models::make(v.name, v.args, &why)) GTEST_SKIP() << why;
  const std::string path = dir + "/" + v.name + (v.safetensors ? "" : ".gguf");
  const Reference R = Reference::load(dir + "/" + v.name);
  const int nv = R.meta["n_vocab"];

  std::vector<int32_t> tokens;
  uint32_t s = 12345;
  for (int i = 0; i < v.prompt_len + 3; ++i) tokens.push_back(static_cast<int32_t>((s = s * 1103515245u + 12345u) >> 8) % nv);
  const std::vector<std::vector<double>> want = reference_logits(R, tokens);

  for (int threads : {1, 2}) {
    SCOPED_TRACE("threads " + std::to_string(threads));
    const Model model = Model::load(path, ModelOptions{.threads = threads});
    EXPECT_EQ(model.info().n_vocab, nv);
    EXPECT_EQ(model.info().format, v.safetensors ? "safetensors" : "gguf");
    Session session(model, SessionOptions{.context_length = v.prompt_len + 8});
    // Prompt as one batch with every row's logits, then three single-token steps.
    const std::vector<int32_t> prompt(tokens.begin(), tokens.begin() + v.prompt_len);
    std::span<const float> rows = session.eval_all(prompt);
    double worst = 0;
    for (int r = 0; r < v.prompt_len; ++r) worst = std::max(worst, row_rel_diff(rows.subspan(size_t(r) * nv, nv), want[r]));
    for (int r = v.prompt_len; r < v.prompt_len + 3; ++r) {
      worst = std::max(worst, row_rel_diff(session.eval({&tokens[r], 1}), want[r]));
    }
    EXPECT_LE(worst, v.max_rel);
    if (threads == 1) std::printf("[ info ] %s: worst row relative diff %.3g\n", v.name, worst);
  }
}

constexpr double kFloat = 2e-5;  // measured <= 2.8e-6 (Q6_K), <= 2.7e-7 for the others
constexpr double kQ8 = 4e-2;    // measured 1.6e-2
// dims: n_embd, heads, kv_heads, ff, layers, vocab
INSTANTIATE_TEST_SUITE_P(
    Variants, RandomModelTest,
    ::testing::Values(
        Variant{"llama_f32", "--arch llama --type f32", kFloat},
        Variant{"llama_f32_tied_mha", "--arch llama --type f32 --tied --dims 64,4,4,96,2,80", kFloat},
        Variant{"llama_f16", "--arch llama --type f16", kFloat},
        Variant{"llama_bf16", "--arch llama --type bf16 --tied", kFloat},
        Variant{"llama_q8_0", "--arch llama --type q8_0", kQ8},
        Variant{"llama_q4_0", "--arch llama --type q4_0", kFloat},
        Variant{"llama_q4_k", "--arch llama --type q4_k --dims 256,4,2,256,1,64", kFloat},
        Variant{"llama_q6_k", "--arch llama --type q6_k --dims 256,4,1,256,1,64", kFloat},
        Variant{"llama3_rope_f32", "--arch llama --type f32 --llama3-rope --rope-base 500000 --dims 128,2,1,128,2,64", kFloat},
        Variant{"qwen2_f32", "--arch qwen2 --type f32 --tied --rope-base 1000000", kFloat},
        Variant{"qwen2_q8_0", "--arch qwen2 --type q8_0", kQ8},
        Variant{"llama_f32_long_prompt", "--arch llama --type f32 --dims 32,2,1,64,1,48", kFloat, false, 300},
        Variant{"st_llama_f32", "--format safetensors --arch llama --type f32", kFloat, true},
        Variant{"st_llama3_bf16_tied", "--format safetensors --arch llama --type bf16 --tied --llama3-rope --rope-base 500000",
                kFloat, true},
        Variant{"st_qwen2_f16", "--format safetensors --arch qwen2 --type f16", kFloat, true}),
    [](const auto& info) { return std::string(info.param.name); });

}  // namespace
}  // namespace stencil
