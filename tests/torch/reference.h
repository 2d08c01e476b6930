// Runs one of the PyTorch reference scripts in tests/torch/ with Debian's python3-torch and
// parses its JSON output; null when torch is not installed (the callers then skip).
#pragma once
#include <cstdio>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

namespace nabla::testing {

inline nlohmann::json torch_reference(const std::string& script) {
  std::string cmd = "/usr/bin/python3 " NABLA_SOURCE_DIR "/tests/torch/" + script + " 2>/dev/null";
  std::unique_ptr<FILE, int (*)(FILE*)> pipe(popen(cmd.c_str(), "r"), pclose);
  std::string out;
  char buf[65536];
  while (pipe && fgets(buf, sizeof buf, pipe.get())) out += buf;
  return out.empty() ? nlohmann::json() : nlohmann::json::parse(out);
}

}  // namespace nabla::testing
