#include "services/signaling/replay/replay.h"

#include <algorithm>
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "google/protobuf/util/json_util.h"
#include "inbeeld/identity/pseudonym.h"
#include "inbeeld/identity/validation.h"
#include "inbeeld/util/dates.h"
#include "services/signaling/core/feiten.h"
#include "services/signaling/core/jongere.h"

namespace inbeeld::signaling {
namespace {

struct Regel {
  v1::Event event;
  absl::CivilDay datum;
};

bool IsBlank(const std::string& line) {
  return std::all_of(line.begin(), line.end(), [](unsigned char c) { return std::isspace(c) != 0; });
}

}  // namespace

absl::Status Replay(std::istream& in, std::ostream& out, const ReplayOptions& options,
                    std::ostream* progress) {
  absl::StatusOr<identity::Pseudonymizer> pseudonymizer = identity::Pseudonymizer::Create(
      options.pseudonym_secret.empty() ? std::string(identity::Pseudonymizer::kDevelopmentSecret)
                                       : options.pseudonym_secret);
  if (!pseudonymizer.ok()) return pseudonymizer.status();

  // Read and validate everything first: a bad line means no output at all.
  std::map<std::string, std::vector<Regel>> per_jongere;  // by pseudonym: deterministic
  std::optional<absl::CivilDay> laatste;
  std::string line;
  size_t nr = 0, aantal = 0;
  while (std::getline(in, line)) {
    ++nr;
    if (IsBlank(line)) continue;
    Regel r;
    google::protobuf::util::JsonParseOptions parse;
    // The parser's message may quote the offending value (a BSN): do not
    // pass it on.
    if (!google::protobuf::util::JsonStringToMessage(line, &r.event, parse).ok()) {
      return absl::InvalidArgumentError(absl::StrCat("line ", nr, ": not a valid inbeeld.v1.Event JSON object"));
    }
    const identity::Violations v = identity::Validate(r.event);
    if (!v.empty()) {
      return absl::InvalidArgumentError(absl::StrCat("line ", nr, ": ", identity::Describe(v)));
    }
    absl::StatusOr<absl::CivilDay> datum = DatumVan(r.event);
    if (!datum.ok()) return absl::InvalidArgumentError(absl::StrCat("line ", nr, ": invalid event date"));
    r.datum = *datum;
    if (!laatste || *datum > *laatste) laatste = *datum;
    per_jongere[pseudonymizer->Of(*LeerlingVan(r.event))].push_back(std::move(r));
    ++aantal;
  }
  if (in.bad()) return absl::DataLossError("read error");
  if (!laatste) return absl::OkStatus();  // no events, no signals
  const absl::CivilDay until =
      options.until.value_or(*laatste + options.config.LongestTimerDays());

  std::vector<v1::Signaal> signalen;
  size_t klaar = 0;
  for (auto& [pseudoniem, regels] : per_jongere) {
    std::sort(regels.begin(), regels.end(),
              [](const Regel& a, const Regel& b) { return CanonicalLess(a.event, b.event); });
    Jongere jongere;
    auto neem = [&](std::vector<v1::Signaal> s) {
      for (v1::Signaal& x : s) signalen.push_back(std::move(x));
    };
    for (size_t i = 0; i < regels.size(); ++i) {
      if (regels[i].datum > until) break;
      neem(jongere.Apply(regels[i].event, pseudoniem, options.config));
      // Each day's events are all applied first; then the end of that day.
      if (i + 1 == regels.size() || regels[i + 1].datum != regels[i].datum) {
        neem(jongere.AdvanceTo(regels[i].datum, pseudoniem, options.config));
      }
    }
    neem(jongere.AdvanceTo(until, pseudoniem, options.config));
    ++klaar;
    if (options.progress && progress != nullptr &&
        (klaar % 1000 == 0 || klaar == per_jongere.size())) {
      *progress << "replay: " << klaar << "/" << per_jongere.size() << " jongeren, " << aantal
                << " events, " << signalen.size() << " signalen\n";
    }
  }
  std::sort(signalen.begin(), signalen.end(), [](const v1::Signaal& a, const v1::Signaal& b) {
    return std::tie(a.peildatum(), a.signaal_id()) < std::tie(b.peildatum(), b.signaal_id());
  });

  std::string buffer;
  google::protobuf::util::JsonPrintOptions print;
  for (const v1::Signaal& s : signalen) {
    std::string json;
    if (!google::protobuf::util::MessageToJsonString(s, &json, print).ok()) {
      return absl::InternalError("cannot print signal");
    }
    buffer.append(json).append("\n");
  }
  out << buffer;
  out.flush();
  return out.good() ? absl::OkStatus() : absl::DataLossError("write error");
}

int ReplayMain(const std::vector<std::string>& args) {
  constexpr char kUsage[] =
      "usage: inbeeld replay FILE [--until YYYY-MM-DD] [--progress] [--pseudonym-secret S]\n";
  ReplayOptions options;
  std::optional<std::string> file;
  for (size_t i = 0; i < args.size(); ++i) {
    absl::string_view a = args[i];
    auto waarde = [&](absl::string_view naam, std::string* out) -> int {
      // --name=value or --name value; 1 = matched, 0 = not this flag, -1 = missing value.
      if (a == naam) {
        if (i + 1 >= args.size()) return -1;
        *out = args[++i];
        return 1;
      }
      if (absl::ConsumePrefix(&a, absl::StrCat(naam, "="))) {
        *out = std::string(a);
        return 1;
      }
      return 0;
    };
    std::string v;
    if (int r = waarde("--until", &v); r != 0) {
      absl::StatusOr<absl::CivilDay> d = r > 0 ? util::ParseDate(v) : absl::InvalidArgumentError("");
      if (!d.ok()) {
        std::cerr << "replay: --until needs a date YYYY-MM-DD\n" << kUsage;
        return 2;
      }
      options.until = *d;
    } else if (int r = waarde("--pseudonym-secret", &v); r != 0) {
      if (r < 0) {
        std::cerr << kUsage;
        return 2;
      }
      options.pseudonym_secret = v;
    } else if (a == "--progress") {
      options.progress = true;
    } else if (a == "-h" || a == "--help") {
      std::cout << kUsage;
      return 0;
    } else if (!file && (a == "-" || !absl::StartsWith(a, "--"))) {
      file = std::string(a);
    } else {
      std::cerr << "replay: unexpected argument\n" << kUsage;
      return 2;
    }
  }
  if (!file) {
    std::cerr << kUsage;
    return 2;
  }
  std::ifstream bestand;
  std::istream* in = &std::cin;
  if (*file != "-") {
    bestand.open(*file);
    if (!bestand) {
      std::cerr << "replay: cannot open " << *file << "\n";
      return 1;
    }
    in = &bestand;
  }
  const absl::Status st = Replay(*in, std::cout, options, &std::cerr);
  if (!st.ok()) {
    std::cerr << st.message() << "\n";
    return st.code() == absl::StatusCode::kInvalidArgument ? 2 : 1;
  }
  return 0;
}

}  // namespace inbeeld::signaling
