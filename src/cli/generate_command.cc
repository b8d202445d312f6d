// `stencil generate`: model + constraint -> text, with the bundled runtime (stencil::generate).
// The text streams to stdout as it is decoded; a progress line while loading and a final stats
// line go to stderr. `--output json` prints one object instead of the streamed text:
// {"text", "valid", "tokens": {"prompt", "generated", "forced"}, "token_ids": [...], "timing": {"load_s",
// "prompt_tok_s", "gen_tok_s", "mask_share", "mask_work_share"}}: token_ids are the generated ids (EOS not
// included; what scripts/gpu-check compares between --device cpu and cuda), mask_share is the decoding time the
// grammar added (work not hidden behind the forward pass), mask_work_share all of its work.
//
// The constraint is compiled from the model's own vocabulary (the same ids the logits use), so
// --tokenizer is not taken here. Without a constraint the output is free text.
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <iterator>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "cli/commands.h"
#include "cli/constraint.h"
#include "stencil/compiler.h"
#include "stencil/errors.h"
#include "stencil/runtime/generator.h"
#include "stencil/runtime/model.h"
#include "stencil/runtime/tokenizer.h"

namespace stencil::cli {
namespace {

constexpr const char* kHelp =
    "usage: stencil generate --model M CONSTRAINT --prompt P [--max-tokens N] [--temperature T]\n"
    "                        [--seed S] [--output json]\n"
    "\n"
    "Generates text with the model under the constraint (free text without one). The text streams to\n"
    "stdout; a loading line and a stats line go to stderr.\n"
    "\n"
    "constraint: --schema FILE | --grammar FILE | --regex PATTERN | --json\n"
    "            [--no-strict] [--lenient] [--whitespace compact|pretty|flexible]\n"
    "options:\n"
    "  --model M          GGUF file or safetensors folder (default: $STENCIL_MODEL, else\n"
    "                     ../shared/models/stories260K/stories260K-f32.gguf next to the repository)\n"
    "  --prompt P         the user prompt (default: read from stdin)\n"
    "  --system S         system prompt for the chat template\n"
    "  --raw              no chat template: the prompt is the model's input as is\n"
    "  --max-tokens N     generated-token budget, EOS not counted (default 256); constrained output\n"
    "                     is always complete within it\n"
    "  --temperature T    0 = greedy (default 1.0)\n"
    "  --top-k K, --top-p P, --min-p P, --repetition-penalty R   sampler filters (default off)\n"
    "  --seed S           random seed (default 0); the same seed gives the same output\n"
    "  --threads N        forward-pass threads (default: all hardware threads)\n"
    "  --device cpu|cuda  where the forward pass runs (default cpu; cuda:N for GPU N); cuda needs a\n"
    "                     build with CUDA and a GPU, else the error says which is missing\n"
    "  --output json      print one JSON object with the text, validity, token counts and timing\n";

constexpr const char* kDefaultModel = "models/stories260K/stories260K-f32.gguf";

double float_value(const ParsedArgs& a, const std::string& option, double fallback, double min, double max) {
  const auto v = a.value(option);
  if (!v) return fallback;
  size_t used = 0;
  double d = 0;
  try {
    d = std::stod(*v, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used != v->size() || !(d >= min && d <= max)) {
    throw UsageError(option + " takes a number in [" + std::to_string(min) + ", " + std::to_string(max) + "], not '" +
                     *v + "'");
  }
  return d;
}

// $STENCIL_MODEL, else the shared stories260K model: ../shared from the working directory (the repository
// root, as scripts/demo runs), from the executable's repository (build/stencil), or from the source tree.
std::string default_model() {
  if (const char* env = std::getenv("STENCIL_MODEL"); env != nullptr && *env != '\0') return env;
  std::vector<std::filesystem::path> candidates = {std::filesystem::path("..") / "shared" / kDefaultModel};
  std::error_code ec;
  const std::filesystem::path exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (!ec) candidates.push_back(exe.parent_path() / ".." / ".." / "shared" / kDefaultModel);
#ifdef STENCIL_CLI_SOURCE_DIR
  candidates.push_back(std::filesystem::path(STENCIL_CLI_SOURCE_DIR) / ".." / "shared" / kDefaultModel);
#endif
  for (const auto& c : candidates) {
    if (std::filesystem::exists(c, ec)) return c.lexically_normal().string();
  }
  throw UsageError("no --model given, $STENCIL_MODEL unset, and ../shared/" + std::string(kDefaultModel) +
                   " not found");
}

int run(const ParsedArgs& a) {
  const auto output = a.value("--output");
  if (output && *output != "json") throw UsageError("--output takes 'json', not '" + *output + "'");
  const bool json_out = output.has_value();

  GenerateOptions o;
  o.max_tokens = static_cast<int32_t>(a.int_value("--max-tokens", 256, 0, 1 << 20));
  o.temperature = static_cast<float>(float_value(a, "--temperature", 1.0, 0.0, 100.0));
  o.top_k = static_cast<int32_t>(a.int_value("--top-k", 0, 0, 1 << 24));
  o.top_p = static_cast<float>(float_value(a, "--top-p", 1.0, 0.0, 1.0));
  o.min_p = static_cast<float>(float_value(a, "--min-p", 0.0, 0.0, 1.0));
  o.repetition_penalty = static_cast<float>(float_value(a, "--repetition-penalty", 1.0, 0.01, 100.0));
  o.seed = static_cast<uint64_t>(a.int_value("--seed", 0, 0, INT64_MAX));
  o.system = a.value("--system").value_or("");
  o.raw = a.has("--raw");
  const std::string model_path = a.value("--model").value_or("");
  const std::string path = model_path.empty() ? default_model() : model_path;
  const int32_t threads = static_cast<int32_t>(a.int_value("--threads", 0, 0, 1024));
  const std::string device = a.value("--device").value_or("cpu");
  if (device != "cpu" && device != "cuda" && device.rfind("cuda:", 0) != 0) {
    throw UsageError("--device takes cpu, cuda or cuda:N, not '" + device + "'");
  }

  std::string prompt;
  if (auto p = a.value("--prompt")) {
    prompt = *p;
  } else {
    prompt.assign(std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>());
    // `echo "question" | stencil generate ...`: the shell's final newline is not part of the question.
    while (!prompt.empty() && (prompt.back() == '\n' || prompt.back() == '\r')) prompt.pop_back();
  }

  std::fprintf(stderr, "loading %s ...\n", path.c_str());
  const auto t0 = std::chrono::steady_clock::now();
  const Model model = Model::load(path, {.threads = threads, .backend = device});
  const Tokenizer tokenizer = Tokenizer::from_file(path);
  std::optional<CompiledGrammar> grammar;
  if (a.constraint.kind != ConstraintKind::kNone) {
    const Compiler compiler = make_compiler(model.vocabulary(), a.constraint);
    grammar.emplace(compile_constraint(compiler, a.constraint));
  }
  const double load_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::fprintf(stderr, "loaded %s (%s, %s, %s) in %.2f s\n", model.info().name.c_str(), model.info().architecture.c_str(),
               model.info().weight_type.c_str(), model.info().backend.c_str(), load_s);

  PieceCallback stream;
  if (!json_out) {
    stream = [](std::string_view piece) {
      std::fwrite(piece.data(), 1, piece.size(), stdout);
      std::fflush(stdout);
    };
  }
  GenerateResult r = generate(model, tokenizer, grammar ? &*grammar : nullptr, prompt, o, stream);
  r.timing.load_s = load_s;

  if (json_out) {
    const nlohmann::json j = {
        {"text", r.text},
        {"valid", r.valid},
        {"tokens", {{"prompt", r.prompt_tokens}, {"generated", r.generated_tokens}, {"forced", r.forced_tokens}}},
        {"token_ids", r.tokens},
        {"timing",
         {{"load_s", r.timing.load_s},
          {"prompt_tok_s", r.timing.prompt_tok_s},
          {"gen_tok_s", r.timing.gen_tok_s},
          {"mask_share", r.timing.mask_share},
          {"mask_work_share", r.timing.mask_work_share}}}};
    std::cout << j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
    std::cout.flush();
  } else {
    std::fputc('\n', stdout);
    std::fflush(stdout);
  }
  std::fprintf(stderr,
               "stats: prompt %d tokens (%.1f tok/s), generated %d tokens (%.1f tok/s), forced %d, mask time %.1f%% "
               "(grammar work %.1f%%, overlapped with the forward pass), stop: %s%s%s\n",
               r.prompt_tokens, r.timing.prompt_tok_s, r.generated_tokens, r.timing.gen_tok_s, r.forced_tokens,
               100.0 * r.timing.mask_share, 100.0 * r.timing.mask_work_share, r.stop_reason.c_str(),
               r.valid ? "" : ", INVALID (incomplete match)",
               r.loop_guard_fired ? ", loop guard fired" : "");
  if (!r.valid && r.stop_reason == "no_token") {
    std::fprintf(stderr, "stencil generate: no valid output fits into --max-tokens %d; raise --max-tokens\n",
                 o.max_tokens);
  }
  return r.valid ? 0 : 1;
}

}  // namespace

const Command& generate_command() {
  static const Command c{
      "generate", "model + constraint -> text (streamed)", kHelp,
      CommandSpec{{"--model", "--prompt", "--system", "--max-tokens", "--temperature", "--top-k", "--top-p", "--min-p",
                   "--repetition-penalty", "--seed", "--threads", "--device", "--output"},
                  {"--raw"},
                  0,
                  true},
      run};
  return c;
}

}  // namespace stencil::cli
