#include "inbeeld/signaling/core/state_codec.h"

#include <algorithm>
#include <array>
#include <memory>
#include <optional>
#include <cstdint>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/escaping.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/message.h"
#include "inbeeld/util/dates.h"

namespace inbeeld::signaling {
namespace {

using google::protobuf::FieldDescriptor;
using google::protobuf::Message;
using internal::v1::JongereState;

// Dates are written as deltas from the previous date of the record, the first
// one from this day.
const absl::CivilDay kEerste(2020, 1, 1);

// A string value's header (varint): low two bits say what follows.
//   kDatum       zigzag day delta in the high bits
//   kVerwijzing  index of an earlier string of the record
//   kLetterlijk  length, then the bytes
//   kOverig      0: absent (a field with presence); n > 0: a string of which
//                the first (varint) bytes equal the previous string written in
//                the same slot (event field number; 0 elsewhere), then n - 1
//                more bytes. Ids of one school system share a prefix.
enum : uint64_t { kDatum = 0, kVerwijzing = 1, kLetterlijk = 2, kOverig = 3 };
constexpr uint64_t kAfwezig = kOverig;
// Slots for the shared-prefix form: event field numbers 1..64, 0 for the rest.
constexpr int kSlots = 65;
// A shared prefix shorter than this is not worth the extra byte.
constexpr size_t kMinPrefix = 3;

// JongereState, AbsoluutVerzuimZaak and ZaakRoute fields the compact form
// holds; a state with any other field set is stored as protobuf instead.
constexpr int kStateVelden = 9;
constexpr int kZaakVelden = 3;
constexpr int kRouteVelden = 3;
// Event fields are written by field number in a 64-bit change mask.
constexpr int kMaxVeldNummer = 64;
// The oneof of v1::Event: field numbers 1..4.
constexpr int kSoorten = 5;

uint64_t ZigZag(int64_t v) { return (static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63); }
int64_t UnZigZag(uint64_t v) { return static_cast<int64_t>(v >> 1) ^ -static_cast<int64_t>(v & 1); }

std::optional<absl::CivilDay> AlsDatum(std::string_view s) {
  if (s.size() != 10) return std::nullopt;
  // ParseDate is strict (YYYY-MM-DD, a real day): what it accepts is
  // exactly what FormatDate gives back.
  absl::StatusOr<absl::CivilDay> d = util::ParseDate(s);
  if (!d.ok()) return std::nullopt;
  return *d;
}

// A signal id (32 lowercase hex) or its prefix of 16 (Jongere's memory of
// emitted signals).
bool IsHexId(std::string_view s) {
  if (s.size() != 32 && s.size() != 16) return false;
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

// True when every field `m`'s type declares has a number <= max_nummer.
bool AlleVeldenTot(const google::protobuf::Descriptor* d, int max_nummer) {
  for (int i = 0; i < d->field_count(); ++i) {
    if (d->field(i)->number() > max_nummer) return false;
  }
  return true;
}

bool AlleenVelden(const Message& m, int max_nummer) {
  if (!m.GetReflection()->GetUnknownFields(m).empty()) return false;
  std::vector<const FieldDescriptor*> velden;
  m.GetReflection()->ListFields(m, &velden);
  for (const FieldDescriptor* f : velden) {
    if (f->number() > max_nummer) return false;
  }
  return true;
}

// Event fields are read off the wire form of their kind's message (the
// generated serializer) and written back through the generated parser: the
// same values protobuf reflection would give, field by field, at a fraction
// of the cost (reflection was most of the codec's CPU, which signaling pays
// for every jongere of every batch). What each field is, is taken from the
// descriptors once per kind.
enum class Vorm { kTekst, kBericht, kEnum, kInt32, kInt64, kUInt32, kUInt64, kBool };

struct VeldInfo {
  int nummer;
  bool presence;  // has_presence: absent and default differ (optional, messages)
  Vorm vorm;
};

struct SoortInfo {
  bool past = false;            // every field fits: the compact form may hold this kind
  std::vector<VeldInfo> velden;  // by field number
};

std::optional<Vorm> VormVan(const FieldDescriptor* f) {
  // The wire form of these is a varint or length-delimited bytes as read below.
  switch (f->type()) {
    case FieldDescriptor::TYPE_STRING:
    case FieldDescriptor::TYPE_BYTES: return Vorm::kTekst;
    case FieldDescriptor::TYPE_MESSAGE: return Vorm::kBericht;
    case FieldDescriptor::TYPE_ENUM: return Vorm::kEnum;
    case FieldDescriptor::TYPE_INT32: return Vorm::kInt32;
    case FieldDescriptor::TYPE_INT64: return Vorm::kInt64;
    case FieldDescriptor::TYPE_UINT32: return Vorm::kUInt32;
    case FieldDescriptor::TYPE_UINT64: return Vorm::kUInt64;
    case FieldDescriptor::TYPE_BOOL: return Vorm::kBool;
    default: return std::nullopt;  // zigzag, fixed-width, floating point: not in the compact form
  }
}

const SoortInfo& Soort(int soort) {
  static const auto* const info = [] {
    auto* a = new std::array<SoortInfo, kSoorten>();
    for (int k = 1; k < kSoorten; ++k) {
      const FieldDescriptor* oneof = v1::Event::descriptor()->FindFieldByNumber(k);
      if (oneof == nullptr || oneof->message_type() == nullptr) continue;
      const google::protobuf::Descriptor* d = oneof->message_type();
      SoortInfo& s = (*a)[k];
      s.past = true;
      for (int i = 0; i < d->field_count(); ++i) {
        const FieldDescriptor* f = d->field(i);
        const std::optional<Vorm> vorm = VormVan(f);
        if (f->is_repeated() || f->number() > kMaxVeldNummer || !vorm) {
          s.past = false;
          continue;
        }
        s.velden.push_back({f->number(), f->has_presence(), *vorm});
      }
      std::sort(s.velden.begin(), s.velden.end(), [](const VeldInfo& x, const VeldInfo& y) { return x.nummer < y.nummer; });
    }
    return a;
  }();
  return (*info)[soort];
}

// The kind's message of an event, without reflection.
const Message* SubBericht(const v1::Event& e) {
  switch (e.event_case()) {
    case v1::Event::kVerzuimmelding: return &e.verzuimmelding();
    case v1::Event::kInschrijvingsmutatie: return &e.inschrijvingsmutatie();
    case v1::Event::kAdresmutatie: return &e.adresmutatie();
    case v1::Event::kVrijstelling: return &e.vrijstelling();
    default: return nullptr;
  }
}

Message* MutableSubBericht(v1::Event* e, int soort) {
  switch (soort) {
    case v1::Event::kVerzuimmelding: return e->mutable_verzuimmelding();
    case v1::Event::kInschrijvingsmutatie: return e->mutable_inschrijvingsmutatie();
    case v1::Event::kAdresmutatie: return e->mutable_adresmutatie();
    case v1::Event::kVrijstelling: return e->mutable_vrijstelling();
    default: return nullptr;
  }
}

// Without unknown fields (a newer writer's): those the compact form cannot hold.
// GetReflection() is not free (it looks up the descriptors each time): kept.
template <typename M>
bool ZonderOnbekende(const M& m) {
  static const google::protobuf::Reflection* const r = M::default_instance().GetReflection();
  return r->GetUnknownFields(m).empty();
}

bool EventPast(const v1::Event& e) {
  if (!ZonderOnbekende(e)) return false;
  if (e.event_case() == v1::Event::EVENT_NOT_SET) return true;
  if (e.event_case() >= kSoorten || !Soort(e.event_case()).past) return false;
  switch (e.event_case()) {
    case v1::Event::kVerzuimmelding: return ZonderOnbekende(e.verzuimmelding());
    case v1::Event::kInschrijvingsmutatie: return ZonderOnbekende(e.inschrijvingsmutatie());
    case v1::Event::kAdresmutatie: return ZonderOnbekende(e.adresmutatie());
    case v1::Event::kVrijstelling: return ZonderOnbekende(e.vrijstelling());
    default: return false;
  }
}

// The field values of one event kind's message, read off its wire form
// (string views into that form). Absent fields read as the default ("", 0).
// Only the bits of `aanwezig` are reset between events: a value is read
// through Tekst and Getal, which give the default for a field not on the
// wire (resetting all 64 of each was most of reading an event).
struct Waarden {
  std::array<std::string_view, kMaxVeldNummer + 1> tekst{};
  std::array<uint64_t, kMaxVeldNummer + 1> getal{};
  uint64_t aanwezig = 0;  // bit nummer - 1: the field is on the wire

  bool Aanwezig(int nummer) const { return (aanwezig >> (nummer - 1)) & 1; }
  std::string_view Tekst(int nummer) const { return Aanwezig(nummer) ? tekst[nummer] : std::string_view(); }
  uint64_t Getal(int nummer) const { return Aanwezig(nummer) ? getal[nummer] : 0; }
};

bool LeesVarint(std::string_view& in, uint64_t* v) {
  *v = 0;
  for (int shift = 0; shift < 64; shift += 7) {
    if (in.empty()) return false;
    const auto b = static_cast<unsigned char>(in.front());
    in.remove_prefix(1);
    *v |= uint64_t{b & 0x7fu} << shift;
    if ((b & 0x80) == 0) return true;
  }
  return false;
}

// Only what the generated serializer writes for the kinds that fit: varints
// (wire type 0) and length-delimited values (2), field numbers 1..64.
bool LeesDraad(std::string_view in, Waarden* w) {
  w->aanwezig = 0;
  while (!in.empty()) {
    uint64_t tag = 0;
    if (!LeesVarint(in, &tag)) return false;
    const uint64_t nummer = tag >> 3;
    if (nummer == 0 || nummer > kMaxVeldNummer) return false;
    switch (tag & 7) {
      case 0:
        if (!LeesVarint(in, &w->getal[nummer])) return false;
        break;
      case 2: {
        uint64_t n = 0;
        if (!LeesVarint(in, &n) || n > in.size()) return false;
        w->tekst[nummer] = in.substr(0, n);
        in.remove_prefix(n);
        break;
      }
      default:
        return false;
    }
    w->aanwezig |= uint64_t{1} << (nummer - 1);
  }
  return true;
}

bool IsTekst(Vorm v) { return v == Vorm::kTekst || v == Vorm::kBericht; }

bool Gelijk(const Waarden& a, const Waarden& b, const VeldInfo& f) {
  if (f.presence) {
    if (a.Aanwezig(f.nummer) != b.Aanwezig(f.nummer)) return false;
    if (!a.Aanwezig(f.nummer)) return true;
  }
  return IsTekst(f.vorm) ? a.Tekst(f.nummer) == b.Tekst(f.nummer) : a.Getal(f.nummer) == b.Getal(f.nummer);
}

void SchrijfVarint(std::string& uit, uint64_t v) {
  while (v >= 0x80) {
    uit.push_back(static_cast<char>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  uit.push_back(static_cast<char>(v));
}

// The value of one field as the decoder keeps it: what the wire form holds.
struct Veldwaarde {
  bool aanwezig = false;
  std::string tekst;
  uint64_t getal = 0;
};

// What encoding needs besides its output, kept per thread and reused (built
// and freed per state it was some tens of strings, a hash table and 10 KB of
// values to zero per encode).
struct CodeerRuimte {
  absl::flat_hash_map<std::string, uint32_t> tabel;
  std::array<std::string, kSlots> vorige_letterlijk;
  // Per kind two wire buffers and their values, used in turn: the previous
  // event's values are views into the buffer not written now.
  std::array<std::array<std::string, 2>, kSoorten> draad;
  std::array<std::array<Waarden, 2>, kSoorten> waarden;
};

class Schrijver {
 public:
  // `ruimte`: its table and previous literals are this writer's until it is
  // done (cleared here).
  explicit Schrijver(CodeerRuimte& ruimte) : tabel_(ruimte.tabel), vorige_letterlijk_(ruimte.vorige_letterlijk) {
    tabel_.clear();
    for (std::string& v : vorige_letterlijk_) v.clear();
  }
  void Varint(uint64_t v) {
    while (v >= 0x80) {
      uit_.push_back(static_cast<char>((v & 0x7f) | 0x80));
      v >>= 7;
    }
    uit_.push_back(static_cast<char>(v));
  }
  void Raw(std::string_view s) { uit_.append(s); }
  void Afwezig() { Varint(kAfwezig); }
  // A string: a date, a reference to an earlier string of the record, or
  // the string itself (which later ones may refer to).
  void Waarde(std::string_view s, int slot = 0) {
    if (std::optional<absl::CivilDay> d = AlsDatum(s)) {
      Varint(ZigZag(*d - vorige_dag_) << 2 | kDatum);
      vorige_dag_ = *d;
      return;
    }
    if (auto it = tabel_.find(absl::string_view(s.data(), s.size())); it != tabel_.end()) {
      Varint(uint64_t{it->second} << 2 | kVerwijzing);
      return;
    }
    std::string& vorige = vorige_letterlijk_[static_cast<size_t>(slot)];
    size_t gedeeld = 0;
    while (gedeeld < s.size() && gedeeld < vorige.size() && s[gedeeld] == vorige[gedeeld]) ++gedeeld;
    if (gedeeld >= kMinPrefix) {
      Varint(uint64_t{s.size() - gedeeld + 1} << 2 | kOverig);
      Varint(gedeeld);
      Raw(s.substr(gedeeld));
    } else {
      Varint(uint64_t{s.size()} << 2 | kLetterlijk);
      Raw(s);
    }
    vorige.assign(s.data(), s.size());
    tabel_.emplace(std::string(s), static_cast<uint32_t>(tabel_.size()));
  }
  // 0: 32 hex as 16 bytes, 1: 16 hex as 8 bytes, n > 1: n - 2 bytes as is.
  void SignaalId(std::string_view id) {
    if (IsHexId(id)) {
      Varint(id.size() == 32 ? 0 : 1);
      Raw(absl::HexStringToBytes(absl::string_view(id.data(), id.size())));
    } else {
      Varint(id.size() + 2);
      Raw(id);
    }
  }
  // The value of one field of an event message.
  void Veld(const Waarden& w, const VeldInfo& f) {
    const bool aanwezig = !f.presence || w.Aanwezig(f.nummer);
    if (IsTekst(f.vorm)) {
      if (!aanwezig) return Afwezig();
      return Waarde(w.Tekst(f.nummer), f.nummer);
    }
    if (f.presence) Varint(aanwezig ? 1 : 0);
    if (!aanwezig) return;
    const uint64_t v = w.Getal(f.nummer);
    switch (f.vorm) {
      case Vorm::kEnum:
      case Vorm::kInt32:
        // On the wire sign-extended to 64 bits; written as the 32-bit value.
        return Varint(ZigZag(static_cast<int32_t>(v)));
      case Vorm::kInt64:
        return Varint(ZigZag(static_cast<int64_t>(v)));
      case Vorm::kUInt32:
        return Varint(static_cast<uint32_t>(v));
      case Vorm::kBool:
        return Varint(v != 0 ? 1 : 0);
      default:
        return Varint(v);
    }
  }
  std::string Klaar() && { return std::move(uit_); }

 private:
  std::string uit_;
  absl::flat_hash_map<std::string, uint32_t>& tabel_;
  std::array<std::string, kSlots>& vorige_letterlijk_;
  absl::CivilDay vorige_dag_ = kEerste;
};

// Days since 1970-01-01 of a civil day, and back. The decoder adds the
// deltas to a day number and writes the date from it: adding them to an
// absl::CivilDay went through cctz's normalisation per date (most of a
// date's cost when decoding).
int64_t DagNummer(absl::CivilDay d) { return d - absl::CivilDay(1970, 1, 1); }
const int64_t kEersteNummer = DagNummer(kEerste);
// The days a stored date can take: years 0000..9999, as "YYYY-MM-DD" holds
// them (AlsDatum accepts no other).
const int64_t kKleinsteNummer = DagNummer(absl::CivilDay(0, 1, 1));
const int64_t kGrootsteNummer = DagNummer(absl::CivilDay(9999, 12, 31));

// "YYYY-MM-DD" of a day number (H. Hinnant's civil_from_days: exact for the
// proleptic Gregorian calendar, as absl::CivilDay).
void Datum(int64_t nummer, char (&s)[10]) {
  const int64_t z = nummer + 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const int64_t doe = z - era * 146097;
  const int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const int64_t mp = (5 * doy + 2) / 153;
  const int64_t dag = doy - (153 * mp + 2) / 5 + 1;
  const int64_t maand = mp < 10 ? mp + 3 : mp - 9;
  const int64_t jaar = yoe + era * 400 + (maand <= 2 ? 1 : 0);
  auto zet = [&s](size_t pos, int64_t v, int n) {
    for (int i = n - 1; i >= 0; --i, v /= 10) s[pos + static_cast<size_t>(i)] = static_cast<char>('0' + v % 10);
  };
  zet(0, jaar, 4);
  s[4] = '-';
  zet(5, maand, 2);
  s[7] = '-';
  zet(8, dag, 2);
}

// What decoding needs besides the state it builds, kept per thread and
// reused: the interned strings, the previous literal per slot, the previous
// event's values per kind (each a string) and the wire form of an event.
// Built and freed per state they were a few hundred strings per decode.
struct DecodeerRuimte {
  std::vector<std::string> tabel;  // [0, in gebruik) are this record's
  std::array<std::string, kSlots> vorige_letterlijk;
  std::array<std::array<Veldwaarde, kMaxVeldNummer + 1>, kSoorten> waarden;
  std::string draad;
};

class Lezer {
 public:
  // `ruimte`: its table and previous literals are this reader's until it is
  // done (cleared here).
  Lezer(std::string_view in, DecodeerRuimte& ruimte)
      : in_(in), tabel_(ruimte.tabel), vorige_letterlijk_(ruimte.vorige_letterlijk) {
    for (std::string& v : vorige_letterlijk_) v.clear();
  }
  bool ok() const { return ok_; }
  bool Op() const { return in_.empty(); }
  uint64_t Varint() {
    uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (in_.empty()) return Fout();
      const auto b = static_cast<unsigned char>(in_.front());
      in_.remove_prefix(1);
      v |= uint64_t{b & 0x7fu} << shift;
      if ((b & 0x80) == 0) return v;
    }
    return Fout();
  }
  std::string_view Raw(uint64_t n) {
    if (n > in_.size()) {
      Fout();
      return {};
    }
    std::string_view s = in_.substr(0, n);
    in_.remove_prefix(n);
    return s;
  }
  // nullopt: absent (kAfwezig). The view is valid until the next call (no
  // copy per value: decoding is on every batch's path).
  std::optional<std::string_view> Waarde(int slot = 0) {
    const uint64_t h = Varint();
    std::string& vorige = vorige_letterlijk_[static_cast<size_t>(slot)];
    switch (h & 3) {
      case kDatum: {
        // A delta that leaves the years a date can have is corrupt (and
        // would overflow here first).
        const int64_t delta = UnZigZag(h >> 2);
        if (delta < kKleinsteNummer - vorige_dag_ || delta > kGrootsteNummer - vorige_dag_) {
          Fout();
          return std::string_view();
        }
        vorige_dag_ += delta;
        Datum(vorige_dag_, datum_);
        return std::string_view(datum_, sizeof(datum_));
      }
      case kVerwijzing:
        if ((h >> 2) >= in_gebruik_) {
          Fout();
          return std::string_view();
        }
        return tabel_[h >> 2];
      case kLetterlijk:
        vorige.assign(Raw(h >> 2));
        return Intern(vorige);
      default: {
        if ((h >> 2) == 0) return std::nullopt;
        const uint64_t gedeeld = Varint();
        if (gedeeld > vorige.size()) {
          Fout();
          return std::string_view();
        }
        vorige.resize(gedeeld);
        vorige.append(Raw((h >> 2) - 1));
        return Intern(vorige);
      }
    }
  }
  std::string VerplichteWaarde() {
    std::optional<std::string_view> w = Waarde();
    if (!w) Fout();
    return std::string(w.value_or(""));
  }
  std::string SignaalId() {
    const uint64_t h = Varint();
    if (h <= 1) {
      const std::string_view raw = Raw(h == 0 ? 16 : 8);
      return absl::BytesToHexString(absl::string_view(raw.data(), raw.size()));
    }
    return std::string(Raw(h - 2));
  }
  // One field of an event message into its decoded value.
  void Veld(Veldwaarde* v, const VeldInfo& f) {
    if (IsTekst(f.vorm)) {
      const std::optional<std::string_view> w = Waarde(f.nummer);
      v->aanwezig = w.has_value();
      v->tekst.assign(w.value_or(""));
      return;
    }
    if (f.presence && Varint() == 0) {
      *v = Veldwaarde();
      return;
    }
    const uint64_t w = Varint();
    v->aanwezig = true;
    switch (f.vorm) {
      case Vorm::kEnum:
      case Vorm::kInt32:
        v->getal = static_cast<uint64_t>(static_cast<int64_t>(static_cast<int32_t>(UnZigZag(w))));
        return;
      case Vorm::kInt64:
        v->getal = static_cast<uint64_t>(UnZigZag(w));
        return;
      case Vorm::kUInt32:
        v->getal = static_cast<uint32_t>(w);
        return;
      case Vorm::kBool:
        v->getal = w != 0 ? 1 : 0;
        return;
      default:
        v->getal = w;
        return;
    }
  }

 private:
  uint64_t Fout() {
    ok_ = false;
    in_ = {};
    return 0;
  }
  // The next entry of the table, reusing a string of an earlier record.
  std::string_view Intern(const std::string& s) {
    if (in_gebruik_ == tabel_.size()) tabel_.emplace_back();
    std::string& plek = tabel_[in_gebruik_++];
    plek.assign(s);
    return plek;
  }

  std::string_view in_;
  bool ok_ = true;
  // Views into it are used before the next call (a later entry may move it).
  std::vector<std::string>& tabel_;
  size_t in_gebruik_ = 0;
  std::array<std::string, kSlots>& vorige_letterlijk_;
  char datum_[10] = {};
  int64_t vorige_dag_ = kEersteNummer;
};

// AlleenVelden for a message whose type declares no field beyond
// `max_nummer` (the compact form holds every field it has): only unknown
// fields (a newer writer's) can be beyond, and ListFields (reflection, a
// tenth of encoding's CPU) is not needed to see that.
template <typename M>
bool AlleenVeldenVan(const M& m, int max_nummer) {
  static const bool alle_bekend = AlleVeldenTot(M::descriptor(), max_nummer);
  return alle_bekend ? ZonderOnbekende(m) : AlleenVelden(m, max_nummer);
}

bool CompactPast(const JongereState& state) {
  if (!AlleenVeldenVan(state, kStateVelden)) return false;
  for (const v1::Event& e : state.feiten()) {
    if (!EventPast(e)) return false;
  }
  for (const internal::v1::AbsoluutVerzuimZaak& z : state.av_zaken()) {
    if (!AlleenVeldenVan(z, kZaakVelden)) return false;
    for (const v1::ZaakRoute& r : z.routes()) {
      if (!AlleenVeldenVan(r, kRouteVelden)) return false;
    }
  }
  return true;
}

}  // namespace

std::string EncodeJongereState(const JongereState& state) {
  if (!CompactPast(state)) return state.SerializeAsString();
  thread_local const std::unique_ptr<CodeerRuimte> ruimte = std::make_unique<CodeerRuimte>();
  Schrijver w(*ruimte);
  w.Raw(std::string_view(&kCompactStateVersion, 1));

  // Events: kind, change mask against the previous event of that kind, the
  // changed fields.
  w.Varint(static_cast<uint64_t>(state.feiten_size()));
  // Per kind the previous event's values (the first event of a kind is
  // compared with the empty message: nothing on the wire).
  std::array<size_t, kSoorten> beurt{};
  for (auto& paar : ruimte->waarden) {
    for (Waarden& waarden : paar) waarden.aanwezig = 0;
  }
  for (const v1::Event& e : state.feiten()) {
    const int soort = e.event_case();
    w.Varint(static_cast<uint64_t>(soort));
    if (soort == 0) continue;
    const Waarden& vorige = ruimte->waarden[soort][beurt[soort]];
    beurt[soort] ^= 1;
    std::string& buffer = ruimte->draad[soort][beurt[soort]];
    Waarden& huidig = ruimte->waarden[soort][beurt[soort]];
    buffer.clear();
    SubBericht(e)->AppendToString(&buffer);
    // The generated serializer writes nothing the reader above does not know
    // for a kind that fits (EventPast).
    (void)LeesDraad(buffer, &huidig);
    const std::vector<VeldInfo>& velden = Soort(soort).velden;
    uint64_t masker = 0;
    for (const VeldInfo& f : velden) {
      if (!Gelijk(huidig, vorige, f)) masker |= uint64_t{1} << (f.nummer - 1);
    }
    w.Varint(masker);
    for (const VeldInfo& f : velden) {
      if ((masker >> (f.nummer - 1)) & 1) w.Veld(huidig, f);
    }
  }

  w.Varint(static_cast<uint64_t>(state.uitgegeven_signaal_ids_size()));
  for (const std::string& id : state.uitgegeven_signaal_ids()) w.SignaalId(id);

  w.Varint(static_cast<uint64_t>(state.av_zaken_size()));
  for (const internal::v1::AbsoluutVerzuimZaak& z : state.av_zaken()) {
    // Usually one of the emitted ids: its index + 1; else 0 and the id.
    const auto& ids = state.uitgegeven_signaal_ids();
    const auto it = std::find(ids.begin(), ids.end(), z.signaal_id());
    if (it != ids.end()) {
      w.Varint(static_cast<uint64_t>(it - ids.begin()) + 1);
    } else {
      w.Varint(0);
      w.SignaalId(z.signaal_id());
    }
    w.Waarde(z.begindatum());
    w.Varint(static_cast<uint64_t>(z.routes_size()));
    for (const v1::ZaakRoute& r : z.routes()) {
      w.Waarde(r.woongemeente());
      w.Waarde(r.peildatum());
      w.Varint(r.achttien_plus() ? 1 : 0);
    }
  }
  w.Waarde(state.geevalueerd_tot());
  w.Waarde(state.woongemeente());
  w.Waarde(state.wekker());
  // Bit 4: wekker_in_index follows (a state without it ends here, as before
  // it existed); empty (no entry) as absent.
  w.Varint((state.absoluut_verzuim_open() ? 1u : 0u) | (state.uit_beeld() ? 2u : 0u) |
           (state.has_wekker_in_index() ? 4u : 0u));
  if (state.has_wekker_in_index()) {
    if (state.wekker_in_index().empty()) {
      w.Afwezig();
    } else {
      w.Waarde(state.wekker_in_index());
    }
  }
  return std::move(w).Klaar();
}

absl::StatusOr<JongereState> DecodeJongereState(std::string_view bytes) {
  JongereState state;
  if (bytes.empty() || bytes.front() != kCompactStateVersion) {
    if (!state.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
      return absl::DataLossError("stored jongere state does not parse");
    }
    return state;
  }
  thread_local const std::unique_ptr<DecodeerRuimte> ruimte = std::make_unique<DecodeerRuimte>();
  Lezer r(bytes.substr(1), *ruimte);
  const uint64_t n = r.Varint();
  // Per kind the values of the previous event (a changed field replaces its
  // value; each starts absent); each event is built as its kind's wire form
  // and parsed.
  auto& waarden = ruimte->waarden;
  for (int soort = 1; soort < kSoorten; ++soort) {
    for (const VeldInfo& f : Soort(soort).velden) {
      Veldwaarde& v = waarden[soort][static_cast<size_t>(f.nummer)];
      v.aanwezig = false;
      v.tekst.clear();  // keeps its buffer
      v.getal = 0;
    }
  }
  std::string& draad = ruimte->draad;
  for (uint64_t i = 0; i < n && r.ok(); ++i) {
    v1::Event* e = state.add_feiten();
    const uint64_t soort = r.Varint();
    if (soort == 0) continue;
    if (soort >= kSoorten || !Soort(static_cast<int>(soort)).past) {
      return absl::DataLossError("stored jongere state: unknown event kind");
    }
    const uint64_t masker = r.Varint();
    draad.clear();
    for (const VeldInfo& f : Soort(static_cast<int>(soort)).velden) {
      Veldwaarde& v = waarden[soort][static_cast<size_t>(f.nummer)];
      if ((masker >> (f.nummer - 1)) & 1) r.Veld(&v, f);
      // Without presence a default value is not written (proto3).
      if (!v.aanwezig || (!f.presence && (IsTekst(f.vorm) ? v.tekst.empty() : v.getal == 0))) continue;
      const uint64_t nummer = static_cast<uint64_t>(f.nummer);
      if (IsTekst(f.vorm)) {
        SchrijfVarint(draad, nummer << 3 | 2);
        SchrijfVarint(draad, v.tekst.size());
        draad.append(v.tekst);
      } else {
        SchrijfVarint(draad, nummer << 3);
        SchrijfVarint(draad, v.getal);
      }
    }
    if (!r.ok()) break;
    if (!MutableSubBericht(e, static_cast<int>(soort))->ParseFromString(draad)) {
      return absl::DataLossError("stored jongere state: an event does not parse");
    }
  }
  const uint64_t ids = r.Varint();
  for (uint64_t i = 0; i < ids && r.ok(); ++i) state.add_uitgegeven_signaal_ids(r.SignaalId());
  const uint64_t zaken = r.Varint();
  for (uint64_t i = 0; i < zaken && r.ok(); ++i) {
    internal::v1::AbsoluutVerzuimZaak* z = state.add_av_zaken();
    const uint64_t index = r.Varint();
    if (index == 0) {
      z->set_signaal_id(r.SignaalId());
    } else if (index <= static_cast<uint64_t>(state.uitgegeven_signaal_ids_size())) {
      z->set_signaal_id(state.uitgegeven_signaal_ids(static_cast<int>(index - 1)));
    } else {
      return absl::DataLossError("stored jongere state: bad case reference");
    }
    z->set_begindatum(r.VerplichteWaarde());
    const uint64_t routes = r.Varint();
    for (uint64_t k = 0; k < routes && r.ok(); ++k) {
      v1::ZaakRoute* route = z->add_routes();
      route->set_woongemeente(r.VerplichteWaarde());
      route->set_peildatum(r.VerplichteWaarde());
      route->set_achttien_plus(r.Varint() != 0);
    }
  }
  state.set_geevalueerd_tot(r.VerplichteWaarde());
  state.set_woongemeente(r.VerplichteWaarde());
  state.set_wekker(r.VerplichteWaarde());
  const uint64_t vlaggen = r.Varint();
  state.set_absoluut_verzuim_open((vlaggen & 1) != 0);
  state.set_uit_beeld((vlaggen & 2) != 0);
  if ((vlaggen & 4) != 0) state.set_wekker_in_index(std::string(r.Waarde().value_or("")));
  if ((vlaggen & ~uint64_t{7}) != 0) return absl::DataLossError("stored jongere state: unknown flags");
  if (!r.ok() || !r.Op()) return absl::DataLossError("stored jongere state is truncated or corrupt");
  return state;
}

}  // namespace inbeeld::signaling
