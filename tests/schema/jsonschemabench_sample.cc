// schema_jsonschemabench_sample: random outputs of JSONSchemaBench schemas, for an
// independent validator (tests/schema/jsonschemabench_validate.py drives this program
// and checks every output with python3-jsonschema).
//
// For every `--every`-th line of the dev split (line index % every == offset), the schema
// is compiled with default options (strict, flexible whitespace, not lenient) against the
// given vocabulary, then `--count` outputs are drawn exactly as `stencil sample --count N
// --seed LINE --max-tokens M` draws them (the same sample_one, src/cli/random_output.h; the
// driver checks that both agree on a few schemas):
// budget-aware masks, EOS with probability 1/5 when allowed, otherwise a uniformly random
// allowed token, splitmix64 seeded with the line index.
//
// Writes one JSON line per schema to stdout:
//   {"line", "id", "subset", "status", "compile_ms", "sample_ms", "message", "outputs"}
// status: "compiled" (outputs present), "unsupported" / "error" (message), "budget" (the
// grammar cannot be finished within --max-tokens even from the start: skipped, reported),
// "slow" (compile took longer than --slow-ms, or ran out of the --max-memory-mb address space:
// skipped, reported), "stuck" (a sample could
// not be finished after it had started: a bug), "bad_utf8" (an output is not UTF-8: a bug).
//
// usage: schema_jsonschemabench_sample --tokenizer T --data jsb_dev.jsonl [--every K] [--offset O]
//        [--count N] [--max-tokens M] [--slow-ms MS] [--max-memory-mb MB] [--only-line L]
//        [--eager-mask-states K]   (default 0: every mask computed on first visit)
//
// --max-memory-mb (default 2048) caps the process's address space (setrlimit RLIMIT_AS) so a
// compile that runs away ends in std::bad_alloc, reported as "slow", instead of the machine's
// OOM killer; not applied under AddressSanitizer, which reserves terabytes of address space.
#include <sys/resource.h>

#include <bit>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "cli/random_output.h"
#include "stencil/compiler.h"
#include "stencil/errors.h"
#include "stencil/matcher.h"
#include "stencil/vocabulary.h"

namespace {

using stencil::CompiledGrammar;
using stencil::Matcher;
using stencil::TokenBitmask;
using stencil::Vocabulary;

using stencil::cli::SampleStuck;
using stencil::cli::sample_one;
using stencil::cli::SplitMix64;

bool valid_utf8(const std::string& s) {
  try {
    (void)nlohmann::json(s).dump();
    return true;
  } catch (const nlohmann::json::type_error&) {
    return false;
  }
}

const char* arg(int argc, char** argv, const char* name, const char* def) {
  for (int i = 1; i + 1 < argc; ++i) {
    if (std::strcmp(argv[i], name) == 0) return argv[i + 1];
  }
  return def;
}

}  // namespace

int main(int argc, char** argv) {
  const char* tokenizer = arg(argc, argv, "--tokenizer", nullptr);
  const char* data = arg(argc, argv, "--data", nullptr);
  if (tokenizer == nullptr || data == nullptr) {
    std::fprintf(stderr, "usage: %s --tokenizer T --data jsb_dev.jsonl [--every K] [--offset O] [--count N] "
                         "[--max-tokens M] [--slow-ms MS] [--only-line L]\n", argv[0]);
    return 2;
  }
  const long every = std::atol(arg(argc, argv, "--every", "1"));
  const long offset = std::atol(arg(argc, argv, "--offset", "0"));
  const long count = std::atol(arg(argc, argv, "--count", "3"));
  const long max_tokens = std::atol(arg(argc, argv, "--max-tokens", "1024"));
  const double slow_ms = std::atof(arg(argc, argv, "--slow-ms", "0"));  // 0: no limit
  const long only_line = std::atol(arg(argc, argv, "--only-line", "-1"));
  const long max_memory_mb = std::atol(arg(argc, argv, "--max-memory-mb", "2048"));
#if !defined(__SANITIZE_ADDRESS__)
  if (max_memory_mb > 0) {
    const rlim_t bytes = static_cast<rlim_t>(max_memory_mb) << 20;
    const rlimit lim{bytes, bytes};
    setrlimit(RLIMIT_AS, &lim);
  }
#endif
  if (every < 1 || count < 0 || max_tokens < 1) {
    std::fprintf(stderr, "bad --every/--count/--max-tokens\n");
    return 2;
  }

  const Vocabulary vocab = Vocabulary::from_file(tokenizer);
  // Masks computed on each state's first visit rather than for the first 128 states at compile time
  // (the masks, hence the outputs, are the same; tests/engine checks lazy against eager): most of
  // those states are never visited by three samples, and their masks were most of this run's time.
  stencil::CompileOptions co;
  co.limits.eager_mask_states = static_cast<int32_t>(std::atol(arg(argc, argv, "--eager-mask-states", "0")));
  const stencil::Compiler compiler(vocab, co);
  std::ifstream in(data);
  if (!in) {
    std::fprintf(stderr, "cannot read %s\n", data);
    return 2;
  }
  std::string line;
  for (long index = 0; std::getline(in, line); ++index) {
    if (only_line >= 0 ? index != only_line : index % every != offset) continue;
    const nlohmann::ordered_json rec = nlohmann::ordered_json::parse(line);
    nlohmann::ordered_json out{{"line", index}, {"id", rec["id"]}, {"subset", rec["subset"]}};
    const std::string schema_text = rec["schema"].dump();
    std::optional<CompiledGrammar> g;
    const auto t0 = std::chrono::steady_clock::now();
    try {
      g = compiler.compile_json_schema(schema_text);
    } catch (const stencil::Error& e) {
      const std::string msg = e.what();
      const bool unsup = msg.find("unsupported") != std::string::npos || msg.find("unresolvable") != std::string::npos;
      out["status"] = unsup ? "unsupported" : "error";
      out["message"] = msg.substr(0, 300);
    } catch (const std::bad_alloc&) {
      out["status"] = "slow";
      out["message"] = "compile ran out of memory (--max-memory-mb " + std::to_string(max_memory_mb) + ")";
    }
    const auto t1 = std::chrono::steady_clock::now();
    out["compile_ms"] = std::chrono::duration<double, std::milli>(t1 - t0).count();
    if (g && slow_ms > 0 && out["compile_ms"].get<double>() > slow_ms) {
      out["status"] = "slow";
      out["message"] = "compile took longer than --slow-ms";
      g.reset();
    }
    if (g) {
      out["status"] = "compiled";
      nlohmann::ordered_json outputs = nlohmann::ordered_json::array();
      SplitMix64 rng{static_cast<uint64_t>(index)};
      try {
        for (long i = 0; i < count; ++i) {
          const std::string text = sample_one(*g, rng, max_tokens);
          if (!valid_utf8(text)) {
            out["status"] = "bad_utf8";
            out["message"] = nlohmann::json(text).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
            break;
          }
          outputs.push_back(text);
        }
      } catch (const SampleStuck& s) {
        out["status"] = s.step == 0 && outputs.empty() ? "budget" : "stuck";
        out["message"] = s.why;
      } catch (const std::bad_alloc&) {
        out["status"] = "slow";
        out["message"] = "sampling ran out of memory (--max-memory-mb " + std::to_string(max_memory_mb) + ")";
      }
      out["outputs"] = outputs;
      out["sample_ms"] = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t1).count();
    }
    std::cout << out.dump() << "\n";
    std::cout.flush();
  }
  return 0;
}
