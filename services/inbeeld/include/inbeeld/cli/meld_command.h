#pragma once
// `inbeeld meld`: the bulk ingest client for initial loads and catch-up.
// Reads proto3 JSON `inbeeld.v1.Event` lines (the format `inbeeld replay`
// reads) from FILE or stdin ("-") and sends them through
// inbeeld.v1.MeldingService/MeldBundles (MeldBatch with up to 100 events per
// stream message) over concurrent streams; through MeldBatch itself with
// --bundles=false, or when ingest answers MeldBundles UNIMPLEMENTED (an ingest
// from before it: the call read nothing, and every later call uses MeldBatch).
//
//   inbeeld meld FILE|- --address=host:port
//       [--tls-cert=PEM --tls-key=PEM --tls-ca=PEM | --plaintext]
//       [--streams=N] [--batch=N] [--retries=N] [--bundles=true|false]
//       [--progress=auto|always|never]
//
// Each call carries up to --batch lines. A call that fails with
// UNAVAILABLE or RESOURCE_EXHAUSTED (ingest down or pushing back), and items
// answered with one of those codes, are sent again with the SAME events (so
// the same (bron, id) and ce_id; ingest answers an earlier acceptance as a
// duplicate), with exponential backoff, at most --retries times.
//
// Progress (events/s, accepted, rejected, ETA) goes to stderr: a line that
// rewrites itself on a terminal, a plain line every few seconds otherwise.
// The summary on stdout names every rejected line by line number, field and
// reason; never by the line's identifiers or content.
//
// Exit codes: 0 every line accepted (or a duplicate of an accepted one);
// 1 some line rejected or not delivered; 2 usage error (bad flags, no file).
#include <istream>
#include <ostream>
#include <string>
#include <vector>

namespace inbeeld::cli {

// `args` are the arguments after "meld" (a leading "meld" is skipped too).
int MeldMain(const std::vector<std::string>& args);
// The same with explicit streams (tests): `in` is read for "-"; progress goes
// to `err` as plain lines unless --progress=always.
int MeldMain(const std::vector<std::string>& args, std::istream& in, std::ostream& out,
             std::ostream& err);

}  // namespace inbeeld::cli
