// inbeeld: the command line. `inbeeld run` starts the whole pipeline on the
// embedded Kafka cluster; `replay` runs the signaling core over a file;
// `subscribe` prints an organisation's signals.
#include <iostream>
#include <string>
#include <vector>

#include "meld_command.h"
#include "run_command.h"
#if INBEELD_HAVE_REPLAY
#include "services/signaling/replay/replay.h"
#endif
#if INBEELD_HAVE_SUBSCRIBE
#include "subscribe_command.h"
#endif
#if INBEELD_HAVE_TELLING
#include "services/signaling/telling/telling.h"
#endif

namespace {

void Usage() {
  std::cerr << "usage: inbeeld <command> [flags]\n"
               "  run        start the pipeline on the embedded Kafka cluster with a demo\n"
               "             [--ready-file=PATH] [--demo=false] [--tls-dir=DIR | --plaintext] [--partitions=N]\n"
               "             [--kafka=BOOTSTRAP [--kafka-timeout=30s]]: an Apache Kafka cluster instead\n"
               "  replay     FILE [--until=YYYY-MM-DD] [--progress]: signals from Event JSON lines\n"
               "  meld       FILE|- --address=HOST:PORT [--streams=N] [TLS flags]: bulk ingest\n"
               "  subscribe  --address=HOST:PORT --organisatie=ID [--cursor=C] [TLS flags]\n"
               "  telling    FILE | --address=HOST:PORT, --schooljaar=YYYY-YYYY [--json]: the leerplichttelling\n";
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    Usage();
    return 2;
  }
  const std::string command = argv[1];
  std::vector<std::string> args(argv + 2, argv + argc);
  if (command == "run") return inbeeld::cli::RunMain(args, argv[0]);
  if (command == "meld") return inbeeld::cli::MeldMain(args);
#if INBEELD_HAVE_REPLAY
  if (command == "replay") return inbeeld::signaling::ReplayMain(args);
#endif
#if INBEELD_HAVE_SUBSCRIBE
  if (command == "subscribe") return inbeeld::cli::SubscribeMain(args);
#endif
#if INBEELD_HAVE_TELLING
  if (command == "telling") return inbeeld::signaling::TellingMain(args);
#endif
  if (command == "--help" || command == "help" || command == "-h") {
    Usage();
    return 0;
  }
  std::cerr << "inbeeld: unknown command " << command << "\n";
  Usage();
  return 2;
}
