// Test helper: runs tests/runtime/make_test_model.py to write a small random-weight model into the
// build tree (STENCIL_DATA_DIR/runtime_models), once per name per test process. Needs python3 with
// numpy (prefers /usr/bin/python3, where Debian's python3-numpy lives); make() returns false with
// the reason when it is absent, and the test then skips.
#pragma once

#include <cstdlib>
#include <filesystem>
#include <set>
#include <string>

namespace stencil::test_models {

inline std::string output_dir() { return std::string(STENCIL_DATA_DIR) + "/runtime_models"; }

inline const std::string& python() {
  static const std::string py = [] {
    for (const char* c : {"/usr/bin/python3", "python3"}) {
      const std::string cmd = std::string(c) + " -c 'import numpy' >/dev/null 2>&1";
      if (std::system(cmd.c_str()) == 0) return std::string(c);
    }
    return std::string();
  }();
  return py;
}

// Writes model `name` with make_test_model.py `args` (skipped when already made by this process).
inline bool make(const std::string& name, const std::string& args, std::string* why) {
  static std::set<std::string> made;
  if (made.count(name)) return true;
  if (python().empty()) {
    *why = "python3 with numpy is not available (Debian: python3-numpy); random-weight models cannot be generated";
    return false;
  }
  std::filesystem::create_directories(output_dir());
  const std::string cmd = python() + " " + STENCIL_SOURCE_DIR + "/tests/runtime/make_test_model.py " + STENCIL_SHARED_DIR +
                          " " + output_dir() + " " + name + " " + args;
  if (std::system(cmd.c_str()) != 0) {
    *why = "make_test_model.py failed: " + cmd;
    return false;
  }
  made.insert(name);
  return true;
}

}  // namespace stencil::test_models
