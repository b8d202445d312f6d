// Malformed, truncated and unsupported model files must fail with a ModelError that names the
// offset, tensor or key at fault (never a crash, never a silent load). The corruptions are applied
// to a copy of the shared stories260K GGUF written into the build tree; safetensors corruptions to a
// generated folder. Also the Session's argument checks.
#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>

#include "runtime/test_models.h"
#include "stencil/errors.h"
#include "stencil/runtime/model.h"

namespace stencil {
namespace {

namespace fs = std::filesystem;
const std::string kStories = std::string(STENCIL_SHARED_DIR) + "/models/stories260K/stories260K-f32.gguf";

std::string read_all(const std::string& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}
std::string write_tmp(const std::string& name, const std::string& bytes) {
  fs::create_directories(test_models::output_dir());
  const std::string p = test_models::output_dir() + "/" + name;
  std::ofstream(p, std::ios::binary) << bytes;
  return p;
}

// Loads `bytes` as a GGUF and returns the ModelError (fails the test if none is thrown).
ModelError load_error(const std::string& name, const std::string& bytes) {
  const std::string p = write_tmp(name, bytes);
  try {
    Model::load(p);
  } catch (const ModelError& e) {
    return e;
  } catch (const std::exception& e) {
    ADD_FAILURE() << name << ": wrong exception type: " << e.what();
    return ModelError("wrong type");
  }
  ADD_FAILURE() << name << ": loaded without an error";
  return ModelError("no error");
}

// Offset of the tensor-info entry of `tensor` (its u64 name length) in a GGUF file's bytes.
size_t tensor_info_at(const std::string& f, const std::string& tensor) {
  std::string key(8, '\0');
  const uint64_t n = tensor.size();
  std::memcpy(key.data(), &n, 8);
  key += tensor;
  const size_t at = f.find(key);
  EXPECT_NE(at, std::string::npos) << tensor;
  return at;
}

class ModelErrorsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!fs::exists(kStories)) GTEST_SKIP() << "shared model absent: " << kStories;
    good_ = read_all(kStories);
  }
  std::string good_;
};

TEST_F(ModelErrorsTest, TruncatedFilesNameTheOffset) {
  // Cut inside the header, the metadata, the tensor infos and the tensor data.
  const size_t infos = tensor_info_at(good_, "token_embd.weight");
  const struct {
    size_t size;
    const char* expect;  // substring of what()
  } cuts[] = {
      {0, "truncated"},    {3, "truncated"},          {10, "offset"},         {100, "offset"},
      {infos + 5, "offset"}, {infos + 30, "offset"}, {good_.size() / 2, "beyond the end of the file"},
      {good_.size() - 1, "beyond the end of the file"},
  };
  for (const auto& c : cuts) {
    SCOPED_TRACE("size " + std::to_string(c.size));
    const ModelError e = load_error("truncated.gguf", good_.substr(0, c.size));
    EXPECT_NE(std::string(e.what()).find(c.expect), std::string::npos) << "what: " << e.what();
    EXPECT_FALSE(e.location().empty());
  }
}

TEST_F(ModelErrorsTest, HeaderCorruptions) {
  std::string f = good_;
  f[0] = 'X';
  EXPECT_NE(std::string(load_error("magic.gguf", f).what()).find("not a GGUF file"), std::string::npos);
  f = good_;
  f[4] = 7;  // version 7
  EXPECT_NE(std::string(load_error("version.gguf", f).what()).find("version"), std::string::npos);
  f = good_;
  f[15] = 0x7f;  // absurd tensor count
  EXPECT_NE(std::string(load_error("count.gguf", f).what()).find("tensor count"), std::string::npos);
  // Flipping every byte of the first 4 KiB one at a time never crashes: it loads or throws ModelError.
  int errors = 0;
  for (size_t i = 0; i < 4096 && i < good_.size(); i += 7) {
    f = good_;
    f[i] = static_cast<char>(f[i] ^ 0xA5);
    const std::string p = write_tmp("flip.gguf", f);
    try {
      Model::load(p);
    } catch (const ModelError&) {
      ++errors;
    }
  }
  EXPECT_GT(errors, 100);
}

TEST_F(ModelErrorsTest, UnsupportedArchitectureNamesTheKey) {
  std::string f = good_;
  const std::string key = "general.architecture";
  const size_t at = f.find(key);
  ASSERT_NE(at, std::string::npos);
  // value: u32 type, u64 length, "llama"
  const size_t value = at + key.size() + 4 + 8;
  ASSERT_EQ(f.substr(value, 5), "llama");
  f[value + 4] = 'x';
  const ModelError e = load_error("arch.gguf", f);
  EXPECT_NE(std::string(e.what()).find("unsupported architecture \"llamx\""), std::string::npos) << e.what();
  EXPECT_NE(e.location().find("general.architecture"), std::string::npos) << e.location();
}

TEST_F(ModelErrorsTest, WrongShapeNamesTheTensor) {
  std::string f = good_;
  const std::string name = "blk.2.attn_q.weight";
  const size_t at = tensor_info_at(f, name) + 8 + name.size();  // u32 n_dims, then u64 dims
  uint64_t dim1 = 0;
  std::memcpy(&dim1, f.data() + at + 4 + 8, 8);
  ASSERT_EQ(dim1, 64u);
  dim1 = 32;
  std::memcpy(f.data() + at + 4 + 8, &dim1, 8);
  const ModelError e = load_error("shape.gguf", f);
  EXPECT_NE(std::string(e.what()).find("tensor blk.2.attn_q.weight has shape [64, 32], expected [64, 64]"),
            std::string::npos) << e.what();
  EXPECT_NE(e.location().find("blk.2.attn_q.weight"), std::string::npos);
}

TEST_F(ModelErrorsTest, UnsupportedTypeNamesTheTensor) {
  std::string f = good_;
  const std::string name = "blk.0.ffn_up.weight";
  const size_t at = tensor_info_at(f, name) + 8 + name.size();
  const uint32_t type = 16;  // IQ2_XXS
  std::memcpy(f.data() + at + 4 + 2 * 8, &type, 4);
  const ModelError e = load_error("type.gguf", f);
  EXPECT_NE(std::string(e.what()).find("tensor blk.0.ffn_up.weight has unsupported type type 16"), std::string::npos)
      << e.what();
}

TEST_F(ModelErrorsTest, MissingTensorAndMisalignedData) {
  std::string f = good_;
  size_t at = tensor_info_at(f, "blk.4.ffn_down.weight") + 8;
  f[at + 10] = 'X';  // blk.4.ffn_Xown.weight
  const ModelError e = load_error("missing.gguf", f);
  EXPECT_NE(std::string(e.what()).find("missing tensor blk.4.ffn_down.weight"), std::string::npos) << e.what();

  f = good_;
  const std::string name = "output_norm.weight";
  at = tensor_info_at(f, name) + 8 + name.size();
  uint32_t n_dims = 0;
  std::memcpy(&n_dims, f.data() + at, 4);
  uint64_t offset = 0;
  std::memcpy(&offset, f.data() + at + 4 + 8 * n_dims + 4, 8);
  offset += 4;
  std::memcpy(f.data() + at + 4 + 8 * n_dims + 4, &offset, 8);
  EXPECT_NE(std::string(load_error("align.gguf", f).what()).find("not a multiple of the alignment"), std::string::npos);
}

TEST(ModelErrorsSafetensorsTest, CorruptFolders) {
  std::string why;
  if (!test_models::make("err_st", "--format safetensors --type f32", &why)) GTEST_SKIP() << why;
  const std::string dir = test_models::output_dir() + "/err_st";
  const std::string good = read_all(dir + "/model.safetensors");
  auto expect_error = [&](const std::string& bytes, const std::string& needle) {
    const std::string bad = test_models::output_dir() + "/err_st_bad";
    fs::create_directories(bad);
    fs::copy_file(dir + "/config.json", bad + "/config.json", fs::copy_options::overwrite_existing);
    std::ofstream(bad + "/model.safetensors", std::ios::binary) << bytes;
    try {
      Model::load(bad);
      ADD_FAILURE() << "loaded: " << needle;
    } catch (const ModelError& e) {
      EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << "what: " << e.what();
    }
  };
  expect_error(good.substr(0, 4), "truncated");
  expect_error(good.substr(0, good.size() - 100), "do not hold");
  std::string f = good;
  f[8] = '#';  // the header's opening brace
  expect_error(f, "not valid JSON");
  f = good;
  const size_t at = f.find("\"F32\"");
  f.replace(at, 5, "\"I64\"");
  expect_error(f, "unsupported type");
  EXPECT_THROW(Model::load(test_models::output_dir() + "/no_such_model.gguf"), ModelError);
}

TEST_F(ModelErrorsTest, SessionArgumentErrors) {
  const Model model = Model::load(kStories);
  EXPECT_EQ(model.info().architecture, "llama");
  EXPECT_EQ(model.info().weight_type, "F32");
  Session s(model, SessionOptions{.context_length = 8});
  EXPECT_EQ(s.context_length(), 8);
  const std::vector<int32_t> bad_id = {1, 512};
  EXPECT_THROW(s.eval(bad_id), ArgumentError);
  const std::vector<int32_t> neg = {-1};
  EXPECT_THROW(s.eval(neg), ArgumentError);
  EXPECT_THROW(s.eval({}), ArgumentError);
  const std::vector<int32_t> nine(9, 1);
  EXPECT_THROW(s.eval(nine), ArgumentError);
  EXPECT_EQ(s.n_past(), 0);
  const std::vector<int32_t> eight(8, 1);
  EXPECT_EQ(s.eval(eight).size(), 512u);
  EXPECT_THROW(s.eval(neg), ArgumentError);
  const int32_t one = 1;
  EXPECT_THROW(s.eval({&one, 1}), ArgumentError);  // context full
  EXPECT_THROW(s.truncate(9), ArgumentError);
  s.truncate(7);
  EXPECT_EQ(s.eval({&one, 1}).size(), 512u);
  EXPECT_THROW(Model::load(kStories, ModelOptions{.backend = "tpu"}), ArgumentError);
}

}  // namespace
}  // namespace stencil
