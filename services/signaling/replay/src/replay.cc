#include "inbeeld/signaling/replay/replay.h"

#include <algorithm>
#include <atomic>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <queue>
#include <sstream>
#include <thread>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "absl/synchronization/mutex.h"
#include "google/protobuf/util/json_util.h"
#include "inbeeld/events/event_json.h"
#include "inbeeld/identity/pseudonym.h"
#include "inbeeld/identity/validation.h"
#include "inbeeld/util/dates.h"
#include "inbeeld/util/flags.h"
#include "inbeeld/signaling/core/feiten.h"
#include "inbeeld/signaling/core/jongere.h"

namespace inbeeld::signaling {
namespace {

// Why partitions: a national file (millions of jongeren) does not fit in
// memory as parsed events. The core needs all events of one jongere together
// (applied in canonical order), never two jongeren at once, so the input is
// split by pseudonym into kPartities parts (temporary files once it outgrows
// ReplayOptions::spill_bytes), each part is replayed on its own by one of the
// worker threads, its signals sorted and kept as a run, and the runs merged by
// (peildatum, signaal_id): the same output, byte for byte, as replaying
// everything at once.
constexpr size_t kPartities = 256;
// A part's buffer is appended to its file when it grows beyond this.
constexpr size_t kSchrijfBuffer = size_t{256} << 10;

bool IsBlank(const std::string& line) {
  return std::all_of(line.begin(), line.end(), [](unsigned char c) { return std::isspace(c) != 0; });
}

void PutLengte(std::string* out, size_t n) {
  const auto v = static_cast<uint32_t>(n);
  out->append(reinterpret_cast<const char*>(&v), sizeof v);
}

// Reads the length-prefixed fields written by PutLengte + bytes.
class VeldLezer {
 public:
  explicit VeldLezer(std::string_view in) : in_(in) {}
  bool Op() const { return in_.empty(); }
  std::optional<std::string_view> Veld() {
    uint32_t n = 0;
    if (in_.size() < sizeof n) return std::nullopt;
    std::memcpy(&n, in_.data(), sizeof n);
    if (in_.size() - sizeof n < n) return std::nullopt;
    std::string_view v = in_.substr(sizeof n, n);
    in_.remove_prefix(sizeof n + n);
    return v;
  }

 private:
  std::string_view in_;
};

absl::Status SchrijfBestand(const std::string& pad, const std::string& bytes, bool toevoegen) {
  std::ofstream f(pad, std::ios::binary | (toevoegen ? std::ios::app : std::ios::trunc));
  f.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  f.close();
  if (!f) return absl::DataLossError("cannot write a temporary file (TMPDIR full?)");
  return absl::OkStatus();
}

absl::StatusOr<std::string> LeesBestand(const std::string& pad) {
  std::ifstream f(pad, std::ios::binary);
  if (!f) return std::string();  // never written: an empty part
  std::string bytes((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  if (f.bad()) return absl::DataLossError("cannot read a temporary file");
  return bytes;
}

// The parts: in memory while small, else a temporary directory (removed
// when done, also on error).
class Delen {
 public:
  explicit Delen(size_t spill_bytes) : buffers_(kPartities), runs_(kPartities), spill_bytes_(spill_bytes) {}
  ~Delen() {
    if (!dir_.empty()) {
      std::error_code ec;
      std::filesystem::remove_all(dir_, ec);
    }
  }

  // One event of a jongere: [pseudonym][serialized Event].
  absl::Status Voeg(const std::string& pseudoniem, const v1::Event& event) {
    const size_t deel = std::hash<std::string>()(pseudoniem) % kPartities;
    std::string& b = buffers_[deel];
    const size_t voor = b.size();
    PutLengte(&b, pseudoniem.size());
    b.append(pseudoniem);
    const std::string bytes = event.SerializeAsString();
    PutLengte(&b, bytes.size());
    b.append(bytes);
    gebufferd_ += b.size() - voor;
    if (dir_.empty() && gebufferd_ > spill_bytes_) {
      if (absl::Status s = MaakDir(); !s.ok()) return s;
      for (size_t i = 0; i < kPartities; ++i) {
        if (absl::Status s = Spoel(i); !s.ok()) return s;
      }
    } else if (!dir_.empty() && b.size() > kSchrijfBuffer) {
      return Spoel(deel);
    }
    return absl::OkStatus();
  }

  absl::Status Klaar() {
    if (dir_.empty()) return absl::OkStatus();
    for (size_t i = 0; i < kPartities; ++i) {
      if (absl::Status s = Spoel(i); !s.ok()) return s;
    }
    return absl::OkStatus();
  }

  // The events of part i (taken: the memory is released).
  absl::StatusOr<std::string> Neem(size_t i) {
    if (dir_.empty()) return std::move(buffers_[i]);
    absl::StatusOr<std::string> bytes = LeesBestand(Pad("in", i));
    std::filesystem::remove(Pad("in", i));
    return bytes;
  }

  // The sorted signals of part i: kept in memory for a small input, else
  // written to a file.
  absl::Status ZetRun(size_t i, std::string run) {
    if (dir_.empty()) {
      runs_[i] = std::move(run);
      return absl::OkStatus();
    }
    return SchrijfBestand(Pad("run", i), run, false);
  }
  absl::StatusOr<std::string> NeemRun(size_t i) {
    if (dir_.empty()) return std::move(runs_[i]);
    absl::StatusOr<std::string> bytes = LeesBestand(Pad("run", i));
    std::filesystem::remove(Pad("run", i));
    return bytes;
  }
  bool OpSchijf() const { return !dir_.empty(); }
  std::string RunPad(size_t i) const { return Pad("run", i); }

 private:
  absl::Status MaakDir() {
    const char* tmp = std::getenv("TMPDIR");
    std::string sjabloon = std::string(tmp != nullptr && *tmp != '\0' ? tmp : "/tmp") + "/inbeeld-replay-XXXXXX";
    if (mkdtemp(sjabloon.data()) == nullptr) {
      return absl::DataLossError("cannot create a temporary directory (set TMPDIR)");
    }
    dir_ = sjabloon;
    return absl::OkStatus();
  }
  absl::Status Spoel(size_t i) {
    if (buffers_[i].empty()) return absl::OkStatus();
    absl::Status s = SchrijfBestand(Pad("in", i), buffers_[i], true);
    std::string().swap(buffers_[i]);
    return s;
  }
  std::string Pad(const char* soort, size_t i) const { return absl::StrCat(dir_, "/", soort, "-", i); }

  std::vector<std::string> buffers_;
  std::vector<std::string> runs_;
  size_t spill_bytes_;
  size_t gebufferd_ = 0;
  std::string dir_;
};

struct Regel {
  std::string_view pseudoniem;
  v1::Event event;
  absl::CivilDay datum;
};

struct Uit {
  std::string sleutel;  // peildatum '\0' signaal_id: sorts as (peildatum, signaal_id)
  std::string json;
};

// Shared between the workers: progress counters and the first error.
struct Voortgang {
  absl::Mutex mu;
  size_t klaar = 0;
  size_t signalen = 0;
  absl::Status fout;
};

// Replays one part: groups its events by jongere, applies each jongere's
// events day by day, and returns its signals as a sorted run.
absl::StatusOr<std::string> SpeelDeel(std::string_view bytes, absl::CivilDay until, const ReplayOptions& options,
                                      size_t jongeren_totaal, size_t events_totaal, Voortgang* voortgang,
                                      std::ostream* progress) {
  std::vector<Regel> regels;
  VeldLezer lezer(bytes);
  while (!lezer.Op()) {
    std::optional<std::string_view> p = lezer.Veld();
    std::optional<std::string_view> e = p ? lezer.Veld() : std::nullopt;
    Regel r;
    if (!e || !r.event.ParseFromArray(e->data(), static_cast<int>(e->size()))) {
      return absl::DataLossError("temporary file is corrupt");
    }
    r.pseudoniem = *p;
    r.datum = *DatumVan(r.event);  // validated when read
    regels.push_back(std::move(r));
  }
  std::sort(regels.begin(), regels.end(), [](const Regel& a, const Regel& b) {
    if (a.pseudoniem != b.pseudoniem) return a.pseudoniem < b.pseudoniem;
    return CanonicalLess(a.event, b.event);
  });

  std::vector<v1::Signaal> signalen;
  size_t jongeren = 0;
  for (size_t begin = 0; begin < regels.size();) {
    size_t eind = begin;
    while (eind < regels.size() && regels[eind].pseudoniem == regels[begin].pseudoniem) ++eind;
    const std::string_view pseudoniem = regels[begin].pseudoniem;
    Jongere jongere;
    auto neem = [&](std::vector<v1::Signaal> s) {
      for (v1::Signaal& x : s) signalen.push_back(std::move(x));
    };
    for (size_t i = begin; i < eind; ++i) {
      if (regels[i].datum > until) break;
      neem(jongere.Apply(regels[i].event, pseudoniem, options.config));
      // Each day's events are all applied first; then the end of that day.
      if (i + 1 == eind || regels[i + 1].datum != regels[i].datum) {
        neem(jongere.AdvanceTo(regels[i].datum, pseudoniem, options.config));
      }
    }
    neem(jongere.AdvanceTo(until, pseudoniem, options.config));
    ++jongeren;
    begin = eind;
    if (options.progress && progress != nullptr && jongeren % 1000 == 0) {
      absl::MutexLock lock(&voortgang->mu);
      voortgang->klaar += 1000;
      *progress << "replay: " << voortgang->klaar << "/" << jongeren_totaal << " jongeren, " << events_totaal
                << " events\n";
    }
  }
  {
    absl::MutexLock lock(&voortgang->mu);
    voortgang->klaar += jongeren % 1000;
    voortgang->signalen += signalen.size();
  }
  regels.clear();

  std::vector<Uit> uit;
  uit.reserve(signalen.size());
  google::protobuf::util::JsonPrintOptions print;
  for (const v1::Signaal& s : signalen) {
    Uit u;
    u.sleutel.reserve(s.peildatum().size() + 1 + s.signaal_id().size());
    u.sleutel.append(s.peildatum()).push_back('\0');
    u.sleutel.append(s.signaal_id());
    if (!google::protobuf::util::MessageToJsonString(s, &u.json, print).ok()) {
      return absl::InternalError("cannot print signal");
    }
    u.json.push_back('\n');
    uit.push_back(std::move(u));
  }
  signalen.clear();
  std::sort(uit.begin(), uit.end(), [](const Uit& a, const Uit& b) { return a.sleutel < b.sleutel; });
  std::string run;
  for (const Uit& u : uit) {
    PutLengte(&run, u.sleutel.size());
    run.append(u.sleutel);
    PutLengte(&run, u.json.size());
    run.append(u.json);
  }
  return run;
}

// Streams a run from a file (or from memory for a small input).
class RunLezer {
 public:
  absl::Status Open(Delen& delen, size_t i) {
    if (delen.OpSchijf()) {
      file_.open(delen.RunPad(i), std::ios::binary);
      if (!file_) return absl::DataLossError("cannot read a temporary file");
      op_schijf_ = true;
    } else {
      absl::StatusOr<std::string> run = delen.NeemRun(i);
      if (!run.ok()) return run.status();
      geheugen_ = *std::move(run);
    }
    return Volgende();
  }
  bool Geldig() const { return geldig_; }
  const std::string& sleutel() const { return sleutel_; }
  const std::string& json() const { return json_; }

  absl::Status Volgende() {
    geldig_ = false;
    if (!Lees(&sleutel_)) return fout_ ? absl::DataLossError("temporary file is corrupt") : absl::OkStatus();
    if (!Lees(&json_)) return absl::DataLossError("temporary file is corrupt");
    geldig_ = true;
    return absl::OkStatus();
  }

 private:
  bool Lees(std::string* out) {
    uint32_t n = 0;
    if (op_schijf_) {
      if (!file_.read(reinterpret_cast<char*>(&n), sizeof n)) return false;
      out->resize(n);
      if (!file_.read(out->data(), n)) {
        fout_ = true;
        return false;
      }
      return true;
    }
    if (pos_ == geheugen_.size()) return false;
    if (geheugen_.size() - pos_ < sizeof n) {
      fout_ = true;
      return false;
    }
    std::memcpy(&n, geheugen_.data() + pos_, sizeof n);
    pos_ += sizeof n;
    if (geheugen_.size() - pos_ < n) {
      fout_ = true;
      return false;
    }
    out->assign(geheugen_, pos_, n);
    pos_ += n;
    return true;
  }

  bool op_schijf_ = false;
  std::ifstream file_;
  std::string geheugen_;
  size_t pos_ = 0;
  bool geldig_ = false;
  bool fout_ = false;
  std::string sleutel_, json_;
};

bool Gestopt(const ReplayOptions& options) {
  return options.stop != nullptr && options.stop->load(std::memory_order_relaxed);
}

// Set by SIGINT/SIGTERM in the CLI: the replay stops and removes its
// temporary files.
std::atomic<bool> cli_gestopt{false};
extern "C" void StopReplay(int) { cli_gestopt.store(true); }

// Pass 1 in blocks of lines, parsed on every core.
constexpr size_t kBlokRegels = 2048;

struct Blok {
  size_t eerste = 0;
  std::vector<std::pair<size_t, std::string>> regels;  // (line number, text)
};

// Blocks read, waiting for a reader thread (guarded by Invoer::mu).
struct Wachtrij {
  std::deque<Blok> blokken;
  size_t max = 2;
  bool gesloten = false;
  bool KanNemen() const { return !blokken.empty() || gesloten; }
  bool HeeftRuimte() const { return blokken.size() < max; }
};

// What pass 1 gathers; guarded by mu.
struct Invoer {
  absl::Mutex mu;
  std::optional<absl::CivilDay> laatste;
  size_t aantal = 0;
  absl::flat_hash_set<uint64_t> jongeren;  // for the progress total only
  std::optional<size_t> fout_regel;        // the first bad line seen so far
  absl::Status fout;
  absl::Status schrijf_fout;
};

void VerwerkBlok(Blok blok, const identity::Pseudonymizer& pseudonymizer, bool progress, Delen* delen,
                 Invoer* invoer) {
  std::vector<std::pair<std::string, v1::Event>> goed;
  goed.reserve(blok.regels.size());
  std::optional<absl::CivilDay> laatste;
  std::optional<size_t> fout_regel;
  absl::Status fout;
  for (auto& [nr, line] : blok.regels) {
    v1::Event event;
    // The parser's message may quote the offending value (a BSN): do not
    // pass it on.
    if (!events::ParseEventJson(line, &event).ok()) {
      fout = absl::InvalidArgumentError(absl::StrCat("line ", nr, ": not a valid inbeeld.v1.Event JSON object"));
    } else if (const identity::Violations v = identity::Validate(event); !v.empty()) {
      fout = absl::InvalidArgumentError(absl::StrCat("line ", nr, ": ", identity::Describe(v)));
    } else if (absl::StatusOr<absl::CivilDay> datum = DatumVan(event); !datum.ok()) {
      fout = absl::InvalidArgumentError(absl::StrCat("line ", nr, ": invalid event date"));
    } else {
      if (!laatste || *datum > *laatste) laatste = *datum;
      goed.emplace_back(pseudonymizer.Of(*LeerlingVan(event)), std::move(event));
      continue;
    }
    fout_regel = nr;
    break;
  }
  absl::MutexLock lock(&invoer->mu);
  if (fout_regel) {
    if (!invoer->fout_regel || *fout_regel < *invoer->fout_regel) {
      invoer->fout_regel = fout_regel;
      invoer->fout = fout;
    }
    return;
  }
  if (invoer->fout_regel || !invoer->schrijf_fout.ok()) return;  // no output anyway
  if (laatste && (!invoer->laatste || *laatste > *invoer->laatste)) invoer->laatste = laatste;
  for (auto& [pseudoniem, event] : goed) {
    if (progress) invoer->jongeren.insert(std::hash<std::string>()(pseudoniem));
    if (absl::Status s = delen->Voeg(pseudoniem, event); !s.ok()) {
      invoer->schrijf_fout = s;
      return;
    }
    ++invoer->aantal;
  }
}

}  // namespace

absl::Status Replay(std::istream& in, std::ostream& out, const ReplayOptions& options,
                    std::ostream* progress) {
  absl::StatusOr<identity::Pseudonymizer> pseudonymizer = identity::Pseudonymizer::Create(
      options.pseudonym_secret.empty() ? std::string(identity::Pseudonymizer::kDevelopmentSecret)
                                       : options.pseudonym_secret);
  if (!pseudonymizer.ok()) return pseudonymizer.status();

  // Pass 1: read and validate everything first (a bad line means no output
  // at all), split by jongere. Blocks of lines are parsed on every core; the
  // error reported is the one of the first bad line.
  Delen delen(options.spill_bytes);
  const size_t draden = std::clamp<size_t>(options.threads > 0 ? options.threads : std::thread::hardware_concurrency(),
                                           1, 8);
  Invoer invoer;
  std::string line;
  size_t nr = 0;
  std::vector<std::thread> lezers;
  Wachtrij wachtrij;
  wachtrij.max = 2 * draden;  // a few blocks per reader waiting: memory stays bounded
  for (size_t t = 0; t < draden; ++t) {
    lezers.emplace_back([&] {
      while (true) {
        Blok blok;
        {
          absl::MutexLock lock(&invoer.mu);
          invoer.mu.Await(absl::Condition(&wachtrij, &Wachtrij::KanNemen));
          if (wachtrij.blokken.empty()) return;
          blok = std::move(wachtrij.blokken.front());
          wachtrij.blokken.pop_front();
        }
        VerwerkBlok(std::move(blok), *pseudonymizer, options.progress, &delen, &invoer);
      }
    });
  }
  Blok blok;
  auto verstuur = [&] {
    absl::MutexLock lock(&invoer.mu);
    invoer.mu.Await(absl::Condition(&wachtrij, &Wachtrij::HeeftRuimte));
    wachtrij.blokken.push_back(std::move(blok));
    blok = Blok();
  };
  while (std::getline(in, line)) {
    if (Gestopt(options)) break;
    ++nr;
    if (IsBlank(line)) continue;
    if (blok.regels.empty()) blok.eerste = nr;
    blok.regels.emplace_back(nr, std::move(line));
    if (blok.regels.size() == kBlokRegels) {
      verstuur();
      absl::MutexLock lock(&invoer.mu);
      if (invoer.fout_regel.has_value()) break;  // every earlier block is read: stop
    }
  }
  if (!blok.regels.empty()) verstuur();
  {
    absl::MutexLock lock(&invoer.mu);
    wachtrij.gesloten = true;
  }
  for (std::thread& t : lezers) t.join();
  if (Gestopt(options)) return absl::CancelledError("replay: interrupted");
  if (invoer.fout_regel.has_value()) return invoer.fout;
  if (!invoer.schrijf_fout.ok()) return invoer.schrijf_fout;
  const std::optional<absl::CivilDay> laatste = invoer.laatste;
  const size_t aantal = invoer.aantal;
  absl::flat_hash_set<uint64_t>& jongeren = invoer.jongeren;
  if (in.bad()) return absl::DataLossError("read error");
  if (!laatste) return absl::OkStatus();  // no events, no signals
  if (absl::Status s = delen.Klaar(); !s.ok()) return s;
  const absl::CivilDay until = options.until.value_or(*laatste + options.config.LongestTimerDays());

  // Pass 2: the parts on every core.
  Voortgang voortgang;
  std::atomic<size_t> volgende{0};
  auto werk = [&] {
    for (size_t i = volgende++; i < kPartities && !Gestopt(options); i = volgende++) {
      absl::StatusOr<std::string> bytes = delen.Neem(i);
      absl::StatusOr<std::string> run =
          bytes.ok() ? SpeelDeel(*bytes, until, options, jongeren.size(), aantal, &voortgang, progress)
                     : bytes.status();
      absl::Status s = run.ok() ? delen.ZetRun(i, *std::move(run)) : run.status();
      if (!s.ok()) {
        absl::MutexLock lock(&voortgang.mu);
        if (voortgang.fout.ok()) voortgang.fout = s;
        volgende = kPartities;
        return;
      }
    }
  };
  std::vector<std::thread> werkers;
  for (size_t t = 1; t < draden; ++t) werkers.emplace_back(werk);
  werk();
  for (std::thread& t : werkers) t.join();
  if (!voortgang.fout.ok()) return voortgang.fout;
  if (Gestopt(options)) return absl::CancelledError("replay: interrupted");
  if (options.progress && progress != nullptr) {
    *progress << "replay: " << jongeren.size() << "/" << jongeren.size() << " jongeren, " << aantal
              << " events, " << voortgang.signalen << " signalen\n";
  }

  // Pass 3: merge the runs by (peildatum, signaal_id).
  std::vector<RunLezer> runs(kPartities);
  for (size_t i = 0; i < kPartities; ++i) {
    if (absl::Status s = runs[i].Open(delen, i); !s.ok()) return s;
  }
  auto later = [&runs](size_t a, size_t b) { return runs[a].sleutel() > runs[b].sleutel(); };
  std::priority_queue<size_t, std::vector<size_t>, decltype(later)> heap(later);
  for (size_t i = 0; i < kPartities; ++i) {
    if (runs[i].Geldig()) heap.push(i);
  }
  std::string buffer;
  while (!heap.empty()) {
    const size_t i = heap.top();
    heap.pop();
    buffer.append(runs[i].json());
    if (absl::Status s = runs[i].Volgende(); !s.ok()) return s;
    if (runs[i].Geldig()) heap.push(i);
    if (buffer.size() >= (size_t{1} << 20)) {
      out.write(buffer.data(), static_cast<std::streamsize>(buffer.size()));
      buffer.clear();
      if (!out.good()) return absl::DataLossError("write error");
      if (Gestopt(options)) return absl::CancelledError("replay: interrupted");
    }
  }
  out.write(buffer.data(), static_cast<std::streamsize>(buffer.size()));
  out.flush();
  return out.good() ? absl::OkStatus() : absl::DataLossError("write error");
}

int ReplayMain(const std::vector<std::string>& args) {
  CLI::App app("Runs the signaling core over a file of Event JSON lines and prints the signals.",
               "inbeeld replay");
  ReplayOptions options;
  std::string file;
  std::string until;
  app.add_option("FILE", file, "events, one Event (proto3 JSON) per line; - for standard input")
      ->required();
  util::AddOption(app, "until", until, "last day evaluated, YYYY-MM-DD (empty: last event + the longest timer)")
      ->check(
          [](const std::string& text) -> std::string {
            return util::ParseDate(text).ok() ? "" : "needs a date YYYY-MM-DD";
          },
          "");
  util::AddSwitch(app, "progress", options.progress, "report progress on standard error");
  util::AddOption(app, "pseudonym-secret", options.pseudonym_secret,
                  "secret for the pseudonyms (empty: the development secret)");
  if (auto exit = util::ParseFlags(app, args, std::cout, std::cerr)) return *exit;
  if (!until.empty()) options.until = *util::ParseDate(until);
  std::ifstream bestand;
  std::istream* in = &std::cin;
  if (file != "-") {
    bestand.open(file);
    if (!bestand) {
      std::cerr << "replay: cannot open " << file << "\n";
      return 1;
    }
    in = &bestand;
  }
  // A closed pipe (`inbeeld replay FILE | head`) is a write error and Ctrl-C
  // or SIGTERM a stop: either way Replay returns and removes its temporary
  // files, where dying on the signal would leave them behind.
  std::signal(SIGPIPE, SIG_IGN);
  std::signal(SIGINT, StopReplay);
  std::signal(SIGTERM, StopReplay);
  options.stop = &cli_gestopt;
  const absl::Status st = Replay(*in, std::cout, options, &std::cerr);
  if (cli_gestopt.load()) {
    std::cerr << "replay: interrupted\n";
    return 130;
  }
  if (!st.ok()) {
    std::cerr << st.message() << "\n";
    return st.code() == absl::StatusCode::kInvalidArgument ? 2 : 1;
  }
  return 0;
}

}  // namespace inbeeld::signaling
