#pragma once
#include <string>
#include <vector>

namespace inbeeld::cli {

// `inbeeld run`: hosts the embedded Kafka cluster, starts every service binary
// found next to this one as a child process, writes the endpoints to
// --ready-file once all are ready, plays the demo scenario (unless --demo=false)
// and prints what happens, until SIGINT/SIGTERM.
int RunMain(const std::vector<std::string>& args, const std::string& self_path);

}  // namespace inbeeld::cli
