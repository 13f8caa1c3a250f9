// inbeeld: the command line. `inbeeld run` starts the whole pipeline on the
// embedded Kafka cluster; `replay` runs the signaling core over a file; `meld`
// sends events in bulk; `subscribe` prints an organisation's signals;
// `telling` counts; `status` asks for one jongere.
//
// Each command is a function over its own arguments that defines its flags
// with CLI11 (inbeeld/util/flags.h); adding one is a row in Commands().
#include <iomanip>
#include <iostream>
#include <string>
#include <vector>

#include "inbeeld/cli/meld_command.h"
#include "inbeeld/cli/run_command.h"
#if INBEELD_HAVE_REPLAY
#include "inbeeld/signaling/replay/replay.h"
#endif
#if INBEELD_HAVE_SUBSCRIBE
#include "inbeeld/cli/subscribe_command.h"
#endif
#include "inbeeld/cli/status_command.h"
#include "inbeeld/util/process.h"
#if INBEELD_HAVE_TELLING
#include "inbeeld/signaling/telling/telling.h"
#endif

namespace {

struct Command {
  const char* name;
  const char* summary;
  int (*main)(const std::vector<std::string>& args, const char* self);
};

const std::vector<Command>& Commands() {
  static const std::vector<Command> commands = {
      {"run", "start the pipeline on the embedded Kafka cluster (or --kafka) with a demo",
       [](const std::vector<std::string>& args, const char* self) {
         return inbeeld::cli::RunMain(args, self);
       }},
#if INBEELD_HAVE_REPLAY
      {"replay", "signals from a file of Event JSON lines (the signaling core, offline)",
       [](const std::vector<std::string>& args, const char*) { return inbeeld::signaling::ReplayMain(args); }},
#endif
      {"meld", "bulk ingest of Event JSON lines (MeldingService/MeldBundles or MeldBatch)",
       [](const std::vector<std::string>& args, const char*) { return inbeeld::cli::MeldMain(args); }},
#if INBEELD_HAVE_SUBSCRIBE
      {"subscribe", "print an organisation's signals as JSON lines",
       [](const std::vector<std::string>& args, const char*) { return inbeeld::cli::SubscribeMain(args); }},
#endif
      {"status", "one jongere's leerplicht status, open cases, last signals (identity from stdin or --identity-file)",
       [](const std::vector<std::string>& args, const char*) { return inbeeld::cli::StatusMain(args); }},
#if INBEELD_HAVE_TELLING
      {"telling", "the leerplichttelling of a schooljaar, from a file or live",
       [](const std::vector<std::string>& args, const char*) { return inbeeld::signaling::TellingMain(args); }},
#endif
  };
  return commands;
}

void Usage(std::ostream& out) {
  out << "usage: inbeeld <command> [flags]   (inbeeld <command> --help lists its flags)\n\ncommands:\n";
  for (const Command& c : Commands()) out << "  " << std::left << std::setw(11) << c.name << c.summary << "\n";
}

}  // namespace

int main(int argc, char** argv) {
  inbeeld::util::DisableMutexDeadlockDetection();
  if (argc < 2) {
    Usage(std::cerr);
    return 2;
  }
  const std::string command = argv[1];
  if (command == "--help" || command == "-h" || command == "help") {
    Usage(std::cout);
    return 0;
  }
  const std::vector<std::string> args(argv + 2, argv + argc);
  for (const Command& c : Commands()) {
    if (command == c.name) return c.main(args, argv[0]);
  }
  std::cerr << "inbeeld: unknown command " << command << "\n";
  Usage(std::cerr);
  return 2;
}
