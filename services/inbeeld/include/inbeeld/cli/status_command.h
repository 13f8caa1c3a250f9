#pragma once
// `inbeeld status`: one jongere's leerplicht status from inbeeld-signaling
// (inbeeld.v1.LeerplichtService/Status).
//
//   echo BSN | inbeeld status --address=host:port [--peildatum=YYYY-MM-DD]
//       [--tls-cert=PEM --tls-key=PEM --tls-ca=PEM | --plaintext] [--json]
//   inbeeld status --identity-file=F ...
//
// The identity (BSN or onderwijsnummer) comes from standard input or
// --identity-file, never from the command line, so it lands in no shell
// history or process list; no message repeats it.
//
// Exit codes: 0 answered; 1 the service did not (NOT_FOUND, UNAVAILABLE, ...,
// said on stderr with the gRPC status); 2 bad usage or an invalid identity.
#include <istream>
#include <ostream>
#include <string>
#include <vector>

namespace inbeeld::cli {

// `args` are the arguments after "status". Reads the identity from stdin.
int StatusMain(const std::vector<std::string>& args);
// The same with explicit streams (tests).
int StatusMain(const std::vector<std::string>& args, std::istream& in, std::ostream& out,
               std::ostream& err);

}  // namespace inbeeld::cli
