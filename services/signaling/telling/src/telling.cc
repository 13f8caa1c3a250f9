#include "inbeeld/signaling/telling/telling.h"

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <memory>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "inbeeld/events/event_json.h"
#include "grpcpp/grpcpp.h"
#include "inbeeld/grpc/server.h"
#include "inbeeld/identity/pseudonym.h"
#include "inbeeld/identity/validation.h"
#include "inbeeld/util/flags.h"
#include "inbeeld/util/dates.h"
#include "inbeeld/v1/telling_service.grpc.pb.h"


namespace inbeeld::signaling {
namespace {

constexpr int kExitOk = 0;
constexpr int kExitFout = 1;
constexpr int kExitUsage = 2;

bool IsBlank(const std::string& line) {
  return std::all_of(line.begin(), line.end(), [](unsigned char c) { return std::isspace(c) != 0; });
}

std::string JsonString(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out.push_back('\\');
    if (static_cast<unsigned char>(c) < 0x20) continue;
    out.push_back(c);
  }
  return out + "\"";
}

uint64_t Cijfer(const v1::TellingRij& rij, const std::string& kolom) {
  auto it = rij.cijfers().find(kolom);
  return it == rij.cijfers().end() ? 0 : it->second;
}

}  // namespace

std::set<std::string> GemeentenVanOrganisatie(const routing::OrganisatieTabel& tabel,
                                              const std::string& organisatie) {
  std::set<std::string> out;
  for (const routing::OrganisatieRegel& r : tabel.regels()) {
    if (r.organisatie_id == organisatie) out.insert(r.gemeentecode);
  }
  return out;
}

absl::Status ControleerFilter(const routing::OrganisatieTabel& tabel, const TellingFilter& filter) {
  std::set<std::string> bekend;
  for (const routing::OrganisatieRegel& r : tabel.regels()) bekend.insert(r.gemeentecode);
  for (const std::string& g : filter.gemeenten) {
    if (!bekend.contains(g)) {
      const std::vector<std::string> opvolgers = tabel.Opvolgers(g);
      if (opvolgers.size() != 1 || opvolgers.front() != g) {
        return absl::InvalidArgumentError(absl::StrCat("gemeente ", g, " no longer exists (herindeling): use ",
                                                       absl::StrJoin(opvolgers, " or ")));
      }
      return absl::InvalidArgumentError(absl::StrCat("unknown gemeente ", g, " (not in the organisation table)"));
    }
  }
  if (!filter.organisatie.empty() && GemeentenVanOrganisatie(tabel, filter.organisatie).empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("unknown organisatie ", filter.organisatie, " (no gemeente in the organisation table)"));
  }
  return absl::OkStatus();
}

TellingOpbouw::TellingOpbouw(const routing::OrganisatieTabel& tabel, Schooljaar jaar, absl::CivilDay tot_en_met,
                             CoreConfig config)
    : tabel_(tabel), jaar_(jaar), tot_en_met_(std::min(tot_en_met, jaar.tot())), config_(config) {}

void TellingOpbouw::Voeg(const Feiten& feiten, const std::string& pseudoniem) {
  ++jongeren_;
  for (const TellingTelling& t : TellingBijdrage(feiten, pseudoniem, config_, jaar_, tot_en_met_)) {
    // Today's code: a merged gemeente counts under its successor; a split
    // one under every successor (as routing tells every successor).
    for (const std::string& g : tabel_.Opvolgers(t.gemeente)) {
      per_gemeente_[g][t.kolom].insert(pseudoniem);
      const routing::RouteResult r = tabel_.Route(g, t.peildatum, /*achttien_plus=*/false);
      for (const routing::Organisatie& o : r.organisaties) per_organisatie_[o.id][t.kolom].insert(pseudoniem);
    }
  }
}

v1::TellingResponse TellingOpbouw::Resultaat(const TellingFilter& filter) const {
  v1::TellingResponse resp;
  resp.set_schooljaar(jaar_.Naam());
  resp.set_tot_en_met(util::FormatDate(tot_en_met_));
  std::set<std::string> gemeenten;
  const bool alle = filter.gemeenten.empty() && filter.organisatie.empty();
  if (alle) {
    for (const routing::OrganisatieRegel& r : tabel_.regels()) gemeenten.insert(r.gemeentecode);
    for (const auto& [g, _] : per_gemeente_) gemeenten.insert(g);
  } else {
    std::set<std::string> toegestaan;
    if (!filter.organisatie.empty()) toegestaan = GemeentenVanOrganisatie(tabel_, filter.organisatie);
    if (filter.gemeenten.empty()) {
      gemeenten = toegestaan;
    } else {
      for (const std::string& g : filter.gemeenten) {
        if (filter.organisatie.empty() || toegestaan.contains(g)) gemeenten.insert(g);
      }
    }
  }
  std::set<std::string> organisaties;
  auto vul = [](const std::map<std::string, std::set<std::string>>* tellers, v1::TellingRij* rij) {
    for (const std::string& k : TellingKolommen()) {
      uint64_t n = 0;
      if (tellers != nullptr) {
        auto it = tellers->find(k);
        if (it != tellers->end()) n = it->second.size();
      }
      (*rij->mutable_cijfers())[k] = n;
    }
  };
  for (const std::string& g : gemeenten) {
    v1::TellingRij* rij = resp.add_gemeenten();
    rij->set_gemeentecode(g);
    const routing::RouteResult r = tabel_.Route(g, tot_en_met_, false);
    rij->set_organisatie(r.organisaties.empty() ? "" : r.organisaties.front().id);
    organisaties.insert(rij->organisatie());
    auto it = per_gemeente_.find(g);
    vul(it == per_gemeente_.end() ? nullptr : &it->second, rij);
  }
  if (!filter.organisatie.empty()) organisaties = {filter.organisatie};
  if (alle) {
    for (const auto& [o, _] : per_organisatie_) organisaties.insert(o);
  }
  for (const std::string& o : organisaties) {
    v1::TellingRij* rij = resp.add_organisaties();
    rij->set_organisatie(o);
    auto it = per_organisatie_.find(o);
    vul(it == per_organisatie_.end() ? nullptr : &it->second, rij);
  }
  return resp;
}

std::string TellingCsv(const v1::TellingResponse& telling, bool per_organisatie) {
  std::string out = "schooljaar,tot_en_met,gemeentecode,organisatie";
  for (const std::string& k : TellingKolommen()) absl::StrAppend(&out, ",", k);
  out.push_back('\n');
  const auto& rijen = per_organisatie ? telling.organisaties() : telling.gemeenten();
  for (const v1::TellingRij& rij : rijen) {
    absl::StrAppend(&out, telling.schooljaar(), ",", telling.tot_en_met(), ",", rij.gemeentecode(), ",",
                    rij.organisatie());
    for (const std::string& k : TellingKolommen()) absl::StrAppend(&out, ",", Cijfer(rij, k));
    out.push_back('\n');
  }
  return out;
}

std::string TellingJson(const v1::TellingResponse& telling) {
  auto rijen = [](const google::protobuf::RepeatedPtrField<v1::TellingRij>& rs, bool met_gemeente) {
    std::vector<std::string> items;
    for (const v1::TellingRij& rij : rs) {
      std::string o = "{";
      if (met_gemeente) absl::StrAppend(&o, "\"gemeentecode\":", JsonString(rij.gemeentecode()), ",");
      absl::StrAppend(&o, "\"organisatie\":", JsonString(rij.organisatie()));
      for (const std::string& k : TellingKolommen()) absl::StrAppend(&o, ",\"", k, "\":", Cijfer(rij, k));
      items.push_back(o + "}");
    }
    return "[" + absl::StrJoin(items, ",\n  ") + "]";
  };
  return absl::StrCat("{\"schooljaar\":", JsonString(telling.schooljaar()),
                      ",\"tot_en_met\":", JsonString(telling.tot_en_met()), ",\n\"gemeenten\":",
                      rijen(telling.gemeenten(), true), ",\n\"organisaties\":", rijen(telling.organisaties(), false),
                      "}\n");
}

absl::StatusOr<v1::TellingResponse> TellingUitBestand(std::istream& in, const routing::OrganisatieTabel& tabel,
                                                      const TellingBestandOptions& options,
                                                      std::ostream* progress) {
  if (absl::Status s = ControleerFilter(tabel, options.filter); !s.ok()) return s;
  absl::StatusOr<identity::Pseudonymizer> pseudonymizer = identity::Pseudonymizer::Create(
      options.pseudonym_secret.empty() ? std::string(identity::Pseudonymizer::kDevelopmentSecret)
                                       : options.pseudonym_secret);
  if (!pseudonymizer.ok()) return pseudonymizer.status();
  // Read and validate everything first, like replay: a bad line, no telling.
  std::map<std::string, google::protobuf::RepeatedPtrField<v1::Event>> per_jongere;
  std::map<std::string, absl::flat_hash_set<std::string>> gezien;
  std::string line;
  size_t nr = 0;
  while (std::getline(in, line)) {
    ++nr;
    if (IsBlank(line)) continue;
    v1::Event e;
    if (!events::ParseEventJson(line, &e).ok()) {
      return absl::InvalidArgumentError(absl::StrCat("line ", nr, ": not a valid inbeeld.v1.Event JSON object"));
    }
    const identity::Violations v = identity::Validate(e);
    if (!v.empty()) return absl::InvalidArgumentError(absl::StrCat("line ", nr, ": ", identity::Describe(v)));
    if (!DatumVan(e).ok()) return absl::InvalidArgumentError(absl::StrCat("line ", nr, ": invalid event date"));
    const std::string p = pseudonymizer->Of(*LeerlingVan(e));
    // The same (bron, id) twice is one event (the first wins, as in the service).
    if (!gezien[p].insert(DedupSleutel(e)).second) continue;
    *per_jongere[p].Add() = std::move(e);
  }
  if (in.bad()) return absl::DataLossError("read error");
  TellingOpbouw opbouw(tabel, options.jaar, options.tot_en_met.value_or(options.jaar.tot()), options.config);
  size_t klaar = 0;
  for (auto& [p, events] : per_jongere) {
    std::sort(events.begin(), events.end(), [](const v1::Event& a, const v1::Event& b) { return CanonicalLess(a, b); });
    opbouw.Voeg(ParseFeiten(events), p);
    ++klaar;
    if (progress != nullptr && (klaar % 1000 == 0 || klaar == per_jongere.size())) {
      *progress << "telling: " << klaar << "/" << per_jongere.size() << " jongeren\n";
    }
  }
  return opbouw.Resultaat(options.filter);
}

namespace {

constexpr char kHint[] = "Run 'inbeeld telling --help' for the flags.\n";

}  // namespace

int TellingMain(const std::vector<std::string>& raw_args, std::ostream& out, std::ostream& err) {
  std::vector<std::string> args = raw_args;
  if (!args.empty() && args.front() == "telling") args.erase(args.begin());
  CLI::App app(
      "The leerplichttelling of a schooljaar: from a file of Event JSON lines (FILE), or live from\n"
      "inbeeld-signaling's TellingService (--address, per organisation by its client certificate).",
      "inbeeld telling");
  std::string file;
  std::string schooljaar;
  bool json = false;
  bool per_org = false;
  bool progress = false;
  std::string gemeenten;
  TellingFilter filter;
  std::string until;
  std::string config_dir = util::kDefaultConfigDir;
  std::string organisaties = "organisaties.csv";
  std::string herindelingen = "herindelingen.csv";
  std::string pseudonym_secret;
  std::string address;
  util::TlsFlags tls_flags;
  app.add_option("FILE", file, "events, one Event (proto3 JSON) per line; - for standard input");
  util::AddOption(app, "schooljaar", schooljaar, "the schooljaar, e.g. 2025-2026")->required();
  util::AddSwitch(app, "json", json, "proto3 JSON instead of CSV");
  util::AddSwitch(app, "per-organisatie", per_org, "CSV per organisation");
  util::AddOption(app, "gemeente", gemeenten, "only these gemeenten, CODE[,CODE]");
  util::AddOption(app, "organisatie", filter.organisatie, "only this organisation");
  util::AddOption(app, "until", until, "FILE: the last day counted, YYYY-MM-DD (empty: the events' last)");
  util::AddSwitch(app, "progress", progress, "FILE: progress on standard error even without a terminal");
  util::AddOption(app, "config-dir", config_dir, "FILE: directory of the tables (relative table paths are below it)");
  util::AddOption(app, "organisaties", organisaties, "FILE: organisation table (CSV)");
  util::AddOption(app, "herindelingen", herindelingen, "FILE: municipal mergers table (CSV)");
  util::AddOption(app, "pseudonym-secret", pseudonym_secret, "FILE: secret for the pseudonyms (empty: development)");
  util::AddOption(app, "address", address, "live: inbeeld-signaling's gRPC address host:port");
  tls_flags.Add(app);
  if (auto exit = util::ParseFlags(app, args, out, err)) return *exit;
  auto usage = [&](const auto& why) {
    err << "inbeeld telling: " << why << "\n" << kHint;
    return kExitUsage;
  };
  absl::StatusOr<Schooljaar> jaar = Schooljaar::Parse(schooljaar);
  if (!jaar.ok()) return usage(jaar.status().message());
  if (!gemeenten.empty()) filter.gemeenten = absl::StrSplit(gemeenten, ',', absl::SkipEmpty());

  v1::TellingResponse telling;
  if (!address.empty()) {
    if (!file.empty()) return usage("FILE and --address exclude each other");
    grpc_util::TlsOptions tls;
    tls.plaintext = tls_flags.plaintext;
    tls.cert_file = tls_flags.cert;
    tls.key_file = tls_flags.key;
    tls.ca_file = tls_flags.ca;
    if (!tls.plaintext && (tls.cert_file.empty() || tls.key_file.empty() || tls.ca_file.empty())) {
      return usage("--tls-cert, --tls-key and --tls-ca are required (the server authorises the organisation "
                   "by its client certificate), or --plaintext");
    }
    absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> creds = grpc_util::ChannelCredentials(tls);
    if (!creds.ok()) return usage(creds.status().message());
    auto stub = v1::TellingService::NewStub(grpc::CreateChannel(address, *creds));
    v1::TellingRequest req;
    req.set_schooljaar(jaar->Naam());
    for (const std::string& g : filter.gemeenten) req.add_gemeenten(g);
    req.set_organisatie(filter.organisatie);
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(60));
    const grpc::Status st = stub->Telling(&ctx, req, &telling);
    if (!st.ok()) {
      err << "inbeeld telling: " << address << ": " << st.error_message() << " (gRPC code " << st.error_code()
          << ")\n";
      return st.error_code() == grpc::StatusCode::INVALID_ARGUMENT ? kExitUsage : kExitFout;
    }
  } else {
    if (file.empty()) return usage("give one event FILE (or - for stdin), or --address");
    absl::StatusOr<routing::OrganisatieTabel> tabel = routing::OrganisatieTabel::Load(
        util::ResolvePath(config_dir, organisaties), util::ResolvePath(config_dir, herindelingen));
    if (!tabel.ok()) {
      err << "inbeeld telling: " << tabel.status().message() << "\n";
      return kExitUsage;
    }
    TellingBestandOptions options;
    options.jaar = *jaar;
    options.filter = filter;
    options.pseudonym_secret = pseudonym_secret;
    if (!until.empty()) {
      absl::StatusOr<absl::CivilDay> d = util::ParseDate(until);
      if (!d.ok()) return usage("--until needs a date YYYY-MM-DD");
      options.tot_en_met = *d;
    }
    std::ifstream bestand;
    std::istream* in = &std::cin;
    if (file != "-") {
      bestand.open(file);
      if (!bestand) {
        err << "inbeeld telling: cannot open " << file << "\n";
        return kExitFout;
      }
      in = &bestand;
    }
    // Progress only when asked or when someone watches the terminal.
    const bool toon = progress || isatty(STDERR_FILENO) != 0;
    absl::StatusOr<v1::TellingResponse> t = TellingUitBestand(*in, *tabel, options, toon ? &err : nullptr);
    if (!t.ok()) {
      err << "inbeeld telling: " << t.status().message() << "\n";
      return t.status().code() == absl::StatusCode::kInvalidArgument ? kExitUsage : kExitFout;
    }
    telling = *std::move(t);
  }
  out << (json ? TellingJson(telling) : TellingCsv(telling, per_org));
  out.flush();
  return out.good() ? kExitOk : kExitFout;
}

int TellingMain(const std::vector<std::string>& args) { return TellingMain(args, std::cout, std::cerr); }

}  // namespace inbeeld::signaling
