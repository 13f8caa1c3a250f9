#include "inbeeld/cli/meld_command.h"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstdio>
#include <deque>
#include <fstream>
#include <iostream>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>

#include "absl/strings/ascii.h"
#include "google/protobuf/arena.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "inbeeld/events/event_json.h"
#include "grpcpp/grpcpp.h"
#include "inbeeld/grpc/server.h"
#include "inbeeld/util/flags.h"
#include "inbeeld/v1/melding_service.grpc.pb.h"

namespace inbeeld::cli {
namespace {

constexpr int kExitOk = 0;
constexpr int kExitRejected = 1;
constexpr int kExitUsage = 2;

constexpr char kHint[] = "Run 'inbeeld meld --help' for the flags.\n";

std::string CodeName(grpc::StatusCode code) {
  switch (code) {
    case grpc::StatusCode::CANCELLED: return "CANCELLED";
    case grpc::StatusCode::INVALID_ARGUMENT: return "INVALID_ARGUMENT";
    case grpc::StatusCode::DEADLINE_EXCEEDED: return "DEADLINE_EXCEEDED";
    case grpc::StatusCode::ALREADY_EXISTS: return "ALREADY_EXISTS";
    case grpc::StatusCode::PERMISSION_DENIED: return "PERMISSION_DENIED";
    case grpc::StatusCode::RESOURCE_EXHAUSTED: return "RESOURCE_EXHAUSTED";
    case grpc::StatusCode::FAILED_PRECONDITION: return "FAILED_PRECONDITION";
    case grpc::StatusCode::ABORTED: return "ABORTED";
    case grpc::StatusCode::UNAVAILABLE: return "UNAVAILABLE";
    case grpc::StatusCode::UNAUTHENTICATED: return "UNAUTHENTICATED";
    case grpc::StatusCode::INTERNAL: return "INTERNAL";
    default: return absl::StrCat("code ", static_cast<int>(code));
  }
}

// Sent again with the same events: the service was away, pushed back, or did
// not answer in time. Ingest deduplicates by (bron, id), so a repeat of an
// event it did accept is answered as a duplicate.
bool Retryable(grpc::StatusCode code) {
  return code == grpc::StatusCode::UNAVAILABLE || code == grpc::StatusCode::RESOURCE_EXHAUSTED ||
         code == grpc::StatusCode::DEADLINE_EXCEEDED;
}
// The caller is not allowed to publish: no point in sending the rest.
bool Refused(grpc::StatusCode code) {
  return code == grpc::StatusCode::UNAUTHENTICATED || code == grpc::StatusCode::PERMISSION_DENIED;
}

bool IsBlank(const std::string& line) {
  return std::all_of(line.begin(), line.end(), [](unsigned char c) { return absl::ascii_isspace(c); });
}

struct Line {
  size_t nr = 0;               // 1-based line number in the input
  v1::Event* event = nullptr;  // on its chunk's arena
  size_t json_bytes = 0;       // the line's length: more than the event's serialized size
};

// The events of a chunk live on one arena: made by moving a pointer and freed
// at once with the chunk, instead of an allocation and a free for every
// message and string (about a fifth of meld's CPU in a profile).
struct Chunk {
  static std::unique_ptr<google::protobuf::Arena> NewArena() {
    google::protobuf::ArenaOptions options;
    options.start_block_size = 64 << 10;
    options.max_block_size = 1 << 20;
    return std::make_unique<google::protobuf::Arena>(options);
  }
  std::unique_ptr<google::protobuf::Arena> arena = NewArena();
  std::vector<Line> lines;
};

struct Rejection {
  size_t nr;
  std::string field;
  std::string reason;
};

// Everything the workers report, under one lock (updated once per call).
class Tally {
 public:
  void Accepted(size_t n, size_t duplicates) {
    std::lock_guard<std::mutex> lock(mu_);
    accepted_ += n;
    duplicates_ += duplicates;
  }
  void Reject(Rejection r, bool count_line = true) {
    std::lock_guard<std::mutex> lock(mu_);
    if (count_line) ++rejected_lines_;
    rejections_.push_back(std::move(r));
  }
  void Read(size_t n) { read_ += n; }
  size_t read() const { return read_.load(); }

  struct Snapshot {
    size_t accepted, duplicates, rejected_lines;
    std::vector<Rejection> rejections;
  };
  Snapshot Take(bool with_rejections) {
    std::lock_guard<std::mutex> lock(mu_);
    Snapshot s{accepted_, duplicates_, rejected_lines_, {}};
    if (with_rejections) s.rejections = rejections_;
    return s;
  }

 private:
  std::mutex mu_;
  size_t accepted_ = 0, duplicates_ = 0, rejected_lines_ = 0;
  std::vector<Rejection> rejections_;
  std::atomic<size_t> read_{0};
};

// A bounded hand-over from the reader to the streams: memory stays bounded
// for files of any size.
class ChunkQueue {
 public:
  explicit ChunkQueue(size_t capacity) : capacity_(capacity) {}
  void Push(Chunk chunk) {
    std::unique_lock<std::mutex> lock(mu_);
    not_full_.wait(lock, [&] { return chunks_.size() < capacity_ || closed_; });
    if (closed_) return;
    chunks_.push_back(std::move(chunk));
    not_empty_.notify_one();
  }
  std::optional<Chunk> Pop() {
    std::unique_lock<std::mutex> lock(mu_);
    not_empty_.wait(lock, [&] { return !chunks_.empty() || closed_ || done_; });
    if (chunks_.empty()) return std::nullopt;
    Chunk c = std::move(chunks_.front());
    chunks_.pop_front();
    not_full_.notify_one();
    return c;
  }
  // No more chunks will be pushed.
  void Done() {
    std::lock_guard<std::mutex> lock(mu_);
    done_ = true;
    not_empty_.notify_all();
  }
  // Abandon: readers and writers return at once.
  void Close() {
    std::lock_guard<std::mutex> lock(mu_);
    closed_ = true;
    chunks_.clear();
    not_empty_.notify_all();
    not_full_.notify_all();
  }
  bool closed() {
    std::lock_guard<std::mutex> lock(mu_);
    return closed_;
  }

 private:
  std::mutex mu_;
  std::condition_variable not_full_, not_empty_;
  std::deque<Chunk> chunks_;
  const size_t capacity_;
  bool done_ = false, closed_ = false;
};

// A MeldBundles message holds at most this many events, or this many bytes of
// JSON lines (more than their serialized size): far below ingest's largest
// message (4 MiB), and enough that gRPC's cost per message is small.
constexpr int kBundleEvents = 100;
constexpr size_t kBundleBytes = 1 << 20;

struct SendOptions {
  int retries = 20;
  absl::Duration call_timeout = absl::Seconds(60);
  absl::Duration first_backoff = absl::Milliseconds(200);
  absl::Duration max_backoff = absl::Seconds(5);
};

// One call for `pending`: MeldBundles (several events per message), or
// MeldBatch (one per message) for a service without MeldBundles. Every
// message but the last goes with the buffer hint: gRPC may send several in
// one frame and one system call; WritesDone (or a full buffer) sends the rest.
grpc::Status Call(v1::MeldingService::Stub& stub, grpc::ClientContext& context, google::protobuf::Arena& arena,
                  const std::vector<const Line*>& pending, bool bundles, v1::BatchAntwoord& answer) {
  grpc::WriteOptions buffered;
  buffered.set_buffer_hint();
  if (!bundles) {
    std::unique_ptr<grpc::ClientWriter<v1::Event>> writer = stub.MeldBatch(&context, &answer);
    for (size_t i = 0; i < pending.size(); ++i) {
      const bool last = i + 1 == pending.size();
      if (!writer->Write(*pending[i]->event, last ? grpc::WriteOptions() : buffered)) break;  // Finish says why
    }
    writer->WritesDone();
    return writer->Finish();
  }
  std::unique_ptr<grpc::ClientWriter<v1::EventBundle>> writer = stub.MeldBundles(&context, &answer);
  size_t i = 0;
  while (i < pending.size()) {
    // On the events' arena, which owns both: a bundle refers to the events
    // instead of copying them (a retry builds new bundles of the same events).
    auto* bundle = google::protobuf::Arena::CreateMessage<v1::EventBundle>(&arena);
    size_t bytes = 0;
    for (; i < pending.size() && bundle->events_size() < kBundleEvents && bytes < kBundleBytes; ++i) {
      bundle->mutable_events()->UnsafeArenaAddAllocated(pending[i]->event);
      bytes += pending[i]->json_bytes;
    }
    const bool last = i == pending.size();
    if (!writer->Write(*bundle, last ? grpc::WriteOptions() : buffered)) break;  // Finish says why
  }
  writer->WritesDone();
  return writer->Finish();
}

// Sends one chunk until every line has a final answer. `no_bundles` is set
// (for every stream) once the service answers MeldBundles UNIMPLEMENTED.
void SendChunk(v1::MeldingService::Stub& stub, const Chunk& chunk, const SendOptions& options, Tally& tally,
               std::atomic<bool>& refused, std::atomic<bool>& no_bundles, std::ostream& err, std::mutex& err_mu) {
  std::vector<const Line*> pending;
  pending.reserve(chunk.lines.size());
  for (const Line& l : chunk.lines) pending.push_back(&l);
  int attempt = 0;
  absl::Duration backoff = options.first_backoff;
  std::string last_failure;
  auto retry_or_give_up = [&](const std::string& why) {
    last_failure = why;
    if (attempt >= options.retries || refused.load()) {
      for (const Line* l : pending) {
        tally.Reject({l->nr, "", absl::StrCat("not delivered after ", attempt + 1, " attempts: ", why)});
      }
      pending.clear();
      return;
    }
    ++attempt;
    absl::SleepFor(backoff);
    backoff = std::min(backoff * 2, options.max_backoff);
  };
  while (!pending.empty()) {
    if (refused.load()) {
      for (const Line* l : pending) tally.Reject({l->nr, "", "not sent: the service refused this client"});
      return;
    }
    grpc::ClientContext context;
    context.set_deadline(absl::ToChronoTime(absl::Now() + options.call_timeout));
    v1::BatchAntwoord answer;
    const bool bundles = !no_bundles.load();
    grpc::Status status = Call(stub, context, *chunk.arena, pending, bundles, answer);
    if (bundles && status.error_code() == grpc::StatusCode::UNIMPLEMENTED) {
      // An ingest from before MeldBundles: it read nothing of this call.
      no_bundles = true;
      continue;
    }
    if (!status.ok()) {
      const std::string why = absl::StrCat(CodeName(status.error_code()), ": ", status.error_message());
      if (Retryable(status.error_code())) {
        retry_or_give_up(why);
        continue;
      }
      if (Refused(status.error_code()) && !refused.exchange(true)) {
        std::lock_guard<std::mutex> lock(err_mu);
        err << "inbeeld meld: refused (" << why << ")\n";
      }
      for (const Line* l : pending) tally.Reject({l->nr, "", why});
      return;
    }
    std::vector<bool> answered(pending.size(), false);
    std::vector<const Line*> again;
    size_t accepted = 0, duplicates = 0;
    for (const v1::ItemAntwoord& item : answer.items()) {
      if (item.index() >= pending.size() || answered[item.index()]) continue;
      answered[item.index()] = true;
      const Line* l = pending[item.index()];
      const auto code = static_cast<grpc::StatusCode>(item.code());
      if (code == grpc::StatusCode::OK) {
        ++accepted;
        if (item.antwoord().duplicate()) ++duplicates;
      } else if (Retryable(code)) {
        again.push_back(l);
      } else if (item.violations_size() > 0) {
        bool first = true;
        for (const v1::FieldViolation& v : item.violations()) {
          tally.Reject({l->nr, v.field(), v.description()}, first);
          first = false;
        }
      } else {
        tally.Reject({l->nr, "", absl::StrCat(CodeName(code), ": ", item.message())});
      }
    }
    // An item the answer does not mention has no known outcome: send it again.
    for (size_t i = 0; i < pending.size(); ++i) {
      if (!answered[i]) again.push_back(pending[i]);
    }
    tally.Accepted(accepted, duplicates);
    if (again.empty()) return;
    std::sort(again.begin(), again.end(), [](const Line* a, const Line* b) { return a->nr < b->nr; });
    pending = std::move(again);
    if (accepted > 0) backoff = options.first_backoff;  // progress: it is not down
    retry_or_give_up("the service asked to try again later");
  }
}

std::string Rate(double per_second) { return absl::StrFormat("%.0f", per_second); }

std::string ProgressLine(Tally& tally, std::optional<size_t> total, absl::Duration elapsed) {
  Tally::Snapshot s = tally.Take(false);
  const size_t done = s.accepted + s.rejected_lines;
  const double seconds = std::max(absl::ToDoubleSeconds(elapsed), 1e-3);
  const double rate = static_cast<double>(done) / seconds;
  std::string eta = "?";
  if (total && rate > 0) {
    const double left = static_cast<double>(*total > done ? *total - done : 0) / rate;
    eta = absl::StrFormat("%.0fs", left);
  }
  return absl::StrCat("meld: ", done, total ? absl::StrCat("/", *total) : "", " lines, ", Rate(rate),
                      " events/s, accepted ", s.accepted, " (", s.duplicates, " duplicate), rejected ",
                      s.rejected_lines, ", ETA ", eta);
}

int Meld(const std::vector<std::string>& raw_args, std::istream& stdin_in, std::ostream& out, std::ostream& err,
         bool terminal) {
  std::vector<std::string> args = raw_args;
  if (!args.empty() && args.front() == "meld") args.erase(args.begin());
  CLI::App app("Sends Event JSON lines to ingest in bulk (MeldingService/MeldBundles, or MeldBatch).",
               "inbeeld meld");
  std::string path;
  std::string address;
  util::TlsFlags tls_flags;
  int64_t streams = 4;
  int64_t batch = 500;
  int64_t retries = 20;
  bool bundles = true;
  std::string progress_mode = "auto";
  app.add_option("FILE", path, "events, one Event (proto3 JSON) per line; - for standard input")->required();
  util::AddOption(app, "address", address, "ingest's gRPC address host:port")->required();
  tls_flags.Add(app);
  util::AddOption(app, "streams", streams, "calls (streams) in parallel")->check(util::IntegerIn(1, 256));
  util::AddOption(app, "batch", batch, "events per call")->check(util::IntegerIn(1, 100000));
  util::AddSwitch(app, "bundles", bundles,
                  "send through MeldBundles, up to 100 events per message (false: MeldBatch, one per message; "
                  "used anyway when ingest lacks MeldBundles)");
  util::AddOption(app, "retries", retries, "attempts per batch after a retryable error")
      ->check(util::IntegerIn(0));
  util::AddOption(app, "progress", progress_mode, "progress on standard error: auto (a terminal), always or never")
      ->check(CLI::IsMember({"auto", "always", "never"}));
  if (auto exit = util::ParseFlags(app, args, out, err)) return *exit;
  grpc_util::TlsOptions tls;
  tls.plaintext = tls_flags.plaintext;
  tls.cert_file = tls_flags.cert;
  tls.key_file = tls_flags.key;
  tls.ca_file = tls_flags.ca;
  if (!tls.plaintext && (tls.cert_file.empty() || tls.key_file.empty() || tls.ca_file.empty())) {
    err << "inbeeld meld: --tls-cert, --tls-key and --tls-ca are required (ingest identifies the bron by "
           "its client certificate), or --plaintext\n";
    return kExitUsage;
  }
  absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> credentials = grpc_util::ChannelCredentials(tls);
  if (!credentials.ok()) {
    err << "inbeeld meld: " << credentials.status().message() << "\n";
    return kExitUsage;
  }

  std::ifstream file;
  std::optional<size_t> total;
  std::istream* in = &stdin_in;
  if (path != "-") {
    // A first pass counts the lines for the ETA (cheap next to sending them).
    std::ifstream counter(path);
    if (!counter) {
      err << "inbeeld meld: cannot open " << path << "\n";
      return kExitUsage;
    }
    size_t lines = 0;
    for (std::string l; std::getline(counter, l);) lines += IsBlank(l) ? 0 : 1;
    total = lines;
    file.open(path);
    in = &file;
  }
  const bool show_terminal = progress_mode == "always" || (progress_mode == "auto" && terminal);
  const bool show_progress = progress_mode != "never";

  // One channel per stream: each gets its own HTTP/2 connection (and its own
  // flow-control window), so the streams really run side by side.
  std::vector<std::unique_ptr<v1::MeldingService::Stub>> stubs;
  for (int64_t i = 0; i < streams; ++i) {
    grpc::ChannelArguments channel_args;
    channel_args.SetInt("inbeeld.meld.stream", static_cast<int>(i));  // distinct channels, no sharing
    stubs.push_back(
        v1::MeldingService::NewStub(grpc::CreateCustomChannel(address, *credentials, channel_args)));
  }

  Tally tally;
  ChunkQueue queue(static_cast<size_t>(streams) * 2);
  std::atomic<bool> refused{false};
  std::atomic<bool> no_bundles{!bundles};
  std::mutex err_mu;
  SendOptions send;
  send.retries = static_cast<int>(retries);
  std::vector<std::thread> workers;
  for (int64_t i = 0; i < streams; ++i) {
    workers.emplace_back([&, i] {
      while (std::optional<Chunk> chunk = queue.Pop()) {
        SendChunk(*stubs[static_cast<size_t>(i)], *chunk, send, tally, refused, no_bundles, err, err_mu);
      }
    });
  }

  const absl::Time start = absl::Now();
  std::atomic<bool> finished{false};
  std::thread progress([&] {
    const absl::Duration every = show_terminal ? absl::Milliseconds(250) : absl::Seconds(5);
    absl::Time next = absl::Now() + every;
    while (!finished.load()) {
      absl::SleepFor(absl::Milliseconds(50));
      if (absl::Now() < next || !show_progress) continue;
      next = absl::Now() + every;
      std::string line = ProgressLine(tally, total, absl::Now() - start);
      std::lock_guard<std::mutex> lock(err_mu);
      if (show_terminal) {
        err << "\r\x1b[K" << line << std::flush;
      } else {
        err << line << "\n" << std::flush;
      }
    }
  });

  // The reader: parse, chunk, hand over. A line that is not an Event is
  // rejected here; its content is never echoed (it may hold a BSN).
  Chunk chunk;
  size_t nr = 0;
  std::string text;
  // A rejected line's message is parsed into again (ParseEventJson clears
  // it), but a cleared message may leave parts on the arena: after `batch`
  // rejections the chunk goes as it is and a new arena begins, so memory stays
  // bounded whatever the input.
  v1::Event* event = nullptr;
  size_t rejected_in_chunk = 0;
  auto hand_over = [&] {
    if (!chunk.lines.empty()) {
      tally.Read(chunk.lines.size());
      queue.Push(std::move(chunk));
    }
    chunk = Chunk();
    event = nullptr;
    rejected_in_chunk = 0;
  };
  auto reject = [&](Rejection r) {
    tally.Reject(std::move(r));
    if (++rejected_in_chunk >= static_cast<size_t>(batch)) hand_over();
  };
  while (std::getline(*in, text)) {
    ++nr;
    if (IsBlank(text)) continue;
    if (event == nullptr) event = google::protobuf::Arena::CreateMessage<v1::Event>(chunk.arena.get());
    if (!events::ParseEventJson(text, event).ok()) {
      reject({nr, "", "not a valid inbeeld.v1.Event JSON object"});
      continue;
    }
    if (event->event_case() == v1::Event::EVENT_NOT_SET) {
      reject({nr, "event", "no event kind (verzuimmelding, inschrijvingsmutatie, adresmutatie, vrijstelling)"});
      continue;
    }
    chunk.lines.push_back({nr, event, text.size()});
    event = nullptr;
    if (chunk.lines.size() >= static_cast<size_t>(batch)) hand_over();
    if (refused.load()) break;
  }
  const bool read_error = in->bad();
  hand_over();
  queue.Done();
  for (auto& w : workers) w.join();
  finished = true;
  progress.join();
  const absl::Duration elapsed = absl::Now() - start;

  Tally::Snapshot s = tally.Take(true);
  if (show_terminal && show_progress) err << "\r\x1b[K";
  std::sort(s.rejections.begin(), s.rejections.end(),
            [](const Rejection& a, const Rejection& b) { return a.nr < b.nr; });
  const size_t unsent = refused.load() && total ? (*total > s.accepted + s.rejected_lines
                                                        ? *total - s.accepted - s.rejected_lines
                                                        : 0)
                                                : 0;
  out << "meld: " << s.accepted << " accepted (" << s.duplicates << " duplicate), " << s.rejected_lines
      << " rejected";
  if (unsent > 0) out << ", " << unsent << " not sent";
  out << absl::StrFormat(" in %.1fs (%s events/s)\n", absl::ToDoubleSeconds(elapsed),
                         Rate(static_cast<double>(s.accepted + s.rejected_lines) /
                              std::max(absl::ToDoubleSeconds(elapsed), 1e-3)));
  for (const Rejection& r : s.rejections) {
    out << "line " << r.nr << ": " << (r.field.empty() ? "-" : r.field) << ": " << r.reason << "\n";
  }
  if (read_error) {
    err << "inbeeld meld: read error in " << path << " after line " << nr << "\n";
    return kExitRejected;
  }
  return s.rejected_lines == 0 && unsent == 0 && !refused.load() ? kExitOk : kExitRejected;
}

}  // namespace

int MeldMain(const std::vector<std::string>& args) {
  return Meld(args, std::cin, std::cout, std::cerr, isatty(STDERR_FILENO) == 1);
}

int MeldMain(const std::vector<std::string>& args, std::istream& in, std::ostream& out, std::ostream& err) {
  return Meld(args, in, out, err, false);
}

}  // namespace inbeeld::cli
