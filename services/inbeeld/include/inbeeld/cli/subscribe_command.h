#pragma once
// `inbeeld subscribe`: follows an organisation's signal stream
// (inbeeld.v1.SignaalService/Subscribe) and prints one JSON line per
// SignaalBericht (proto3 JSON: {"signaal":{...},"cursor":"..."}).
//
//   inbeeld subscribe --address=host:port --organisatie=ID [--cursor=C]
//       [--tls-cert=PEM --tls-key=PEM --tls-ca=PEM | --plaintext]
//       [--max=N] [--timeout=DURATION]
//
// Reconnects from the last cursor printed when the stream breaks with
// UNAVAILABLE (or RESOURCE_EXHAUSTED: cut off as too slow). --max stops after
// N signals; --timeout bounds the whole run.
//
// Exit codes: 0 done (--max reached, or --timeout without --max, or the
// server ended the stream); 1 refused (PERMISSION_DENIED, UNAUTHENTICATED,
// INVALID_ARGUMENT, said on stderr) or any other error; 2 bad usage;
// 3 --timeout before --max was reached.
#include <ostream>
#include <string>
#include <vector>

namespace inbeeld::cli {

// `args` are the arguments after "subscribe" (a leading "subscribe" is
// skipped too). Writes signals to stdout and diagnostics to stderr.
int SubscribeMain(const std::vector<std::string>& args);
// The same with explicit streams (tests).
int SubscribeMain(const std::vector<std::string>& args, std::ostream& out, std::ostream& err);

}  // namespace inbeeld::cli
