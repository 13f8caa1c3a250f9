#include "inbeeld/signaling/core/state_codec.h"

#include <algorithm>
#include <array>
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
using google::protobuf::Reflection;
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
constexpr int kStateVelden = 8;
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

bool AlleenVelden(const Message& m, int max_nummer) {
  if (!m.GetReflection()->GetUnknownFields(m).empty()) return false;
  std::vector<const FieldDescriptor*> velden;
  m.GetReflection()->ListFields(m, &velden);
  for (const FieldDescriptor* f : velden) {
    if (f->number() > max_nummer) return false;
  }
  return true;
}

// Whether an event kind's message can be written field by field: scalar,
// string or message fields with numbers up to 64 (computed once per kind).
bool SoortPast(int soort) {
  static const auto* const past = [] {
    auto* p = new std::array<bool, kSoorten>();
    for (int soort = 1; soort < kSoorten; ++soort) {
      const FieldDescriptor* oneof = v1::Event::descriptor()->FindFieldByNumber(soort);
      if (oneof == nullptr || oneof->message_type() == nullptr) continue;
      const google::protobuf::Descriptor* d = oneof->message_type();
      bool ok = true;
      for (int i = 0; i < d->field_count(); ++i) {
        const FieldDescriptor* f = d->field(i);
        if (f->is_repeated() || f->number() > kMaxVeldNummer || f->cpp_type() == FieldDescriptor::CPPTYPE_FLOAT ||
            f->cpp_type() == FieldDescriptor::CPPTYPE_DOUBLE) {
          ok = false;
        }
      }
      (*p)[soort] = ok;
    }
    return p;
  }();
  return (*past)[soort];
}

bool EventPast(const v1::Event& e) {
  if (!e.GetReflection()->GetUnknownFields(e).empty()) return false;
  if (e.event_case() == v1::Event::EVENT_NOT_SET) return true;
  if (e.event_case() >= kSoorten || !SoortPast(e.event_case())) return false;
  const FieldDescriptor* oneof = e.GetDescriptor()->FindFieldByNumber(e.event_case());
  const Message& sub = e.GetReflection()->GetMessage(e, oneof);
  return sub.GetReflection()->GetUnknownFields(sub).empty();
}

bool Gelijk(const Message& a, const Message& b, const FieldDescriptor* f) {
  const Reflection* ra = a.GetReflection();
  const Reflection* rb = b.GetReflection();
  if (f->has_presence()) {
    const bool ha = ra->HasField(a, f), hb = rb->HasField(b, f);
    if (ha != hb) return false;
    if (!ha) return true;
  }
  switch (f->cpp_type()) {
    case FieldDescriptor::CPPTYPE_STRING: {
      std::string sa, sb;
      return ra->GetStringReference(a, f, &sa) == rb->GetStringReference(b, f, &sb);
    }
    case FieldDescriptor::CPPTYPE_MESSAGE:
      return ra->GetMessage(a, f).SerializeAsString() == rb->GetMessage(b, f).SerializeAsString();
    case FieldDescriptor::CPPTYPE_ENUM:
      return ra->GetEnumValue(a, f) == rb->GetEnumValue(b, f);
    case FieldDescriptor::CPPTYPE_BOOL:
      return ra->GetBool(a, f) == rb->GetBool(b, f);
    case FieldDescriptor::CPPTYPE_INT32:
      return ra->GetInt32(a, f) == rb->GetInt32(b, f);
    case FieldDescriptor::CPPTYPE_INT64:
      return ra->GetInt64(a, f) == rb->GetInt64(b, f);
    case FieldDescriptor::CPPTYPE_UINT32:
      return ra->GetUInt32(a, f) == rb->GetUInt32(b, f);
    case FieldDescriptor::CPPTYPE_UINT64:
      return ra->GetUInt64(a, f) == rb->GetUInt64(b, f);
    default:
      return false;
  }
}

class Schrijver {
 public:
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
  void Veld(const Message& m, const FieldDescriptor* f) {
    const Reflection* r = m.GetReflection();
    const bool aanwezig = !f->has_presence() || r->HasField(m, f);
    switch (f->cpp_type()) {
      case FieldDescriptor::CPPTYPE_STRING:
        if (!aanwezig) return Afwezig();
        return Waarde(r->GetStringReference(m, f, &scratch_), f->number());
      case FieldDescriptor::CPPTYPE_MESSAGE:
        if (!aanwezig) return Afwezig();
        return Waarde(r->GetMessage(m, f).SerializeAsString(), f->number());
      default:
        break;
    }
    if (f->has_presence()) Varint(aanwezig ? 1 : 0);
    if (!aanwezig) return;
    switch (f->cpp_type()) {
      case FieldDescriptor::CPPTYPE_ENUM:
        return Varint(ZigZag(r->GetEnumValue(m, f)));
      case FieldDescriptor::CPPTYPE_BOOL:
        return Varint(r->GetBool(m, f) ? 1 : 0);
      case FieldDescriptor::CPPTYPE_INT32:
        return Varint(ZigZag(r->GetInt32(m, f)));
      case FieldDescriptor::CPPTYPE_INT64:
        return Varint(ZigZag(r->GetInt64(m, f)));
      case FieldDescriptor::CPPTYPE_UINT32:
        return Varint(r->GetUInt32(m, f));
      case FieldDescriptor::CPPTYPE_UINT64:
        return Varint(r->GetUInt64(m, f));
      default:
        return;  // excluded by EventPast
    }
  }
  std::string Klaar() && { return std::move(uit_); }

 private:
  std::string uit_;
  std::string scratch_;
  absl::flat_hash_map<std::string, uint32_t> tabel_;
  std::array<std::string, kSlots> vorige_letterlijk_;
  absl::CivilDay vorige_dag_ = kEerste;
};

// FormatDate without the format parser (decoding is on the hot path).
std::string Datum(absl::CivilDay d) {
  std::string s = "0000-00-00";
  auto zet = [&s](size_t pos, int64_t v, int n) {
    for (int i = n - 1; i >= 0; --i, v /= 10) s[pos + static_cast<size_t>(i)] = static_cast<char>('0' + v % 10);
  };
  zet(0, d.year(), 4);
  zet(5, d.month(), 2);
  zet(8, d.day(), 2);
  return s;
}

class Lezer {
 public:
  explicit Lezer(std::string_view in) : in_(in) {}
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
  // nullopt: absent (kAfwezig).
  std::optional<std::string> Waarde(int slot = 0) {
    const uint64_t h = Varint();
    std::string& vorige = vorige_letterlijk_[static_cast<size_t>(slot)];
    switch (h & 3) {
      case kDatum: {
        vorige_dag_ += UnZigZag(h >> 2);
        return Datum(vorige_dag_);
      }
      case kVerwijzing:
        if ((h >> 2) >= tabel_.size()) {
          Fout();
          return std::string();
        }
        return tabel_[h >> 2];
      case kLetterlijk:
        vorige.assign(Raw(h >> 2));
        tabel_.push_back(vorige);
        return vorige;
      default: {
        if ((h >> 2) == 0) return std::nullopt;
        const uint64_t gedeeld = Varint();
        if (gedeeld > vorige.size()) {
          Fout();
          return std::string();
        }
        vorige.resize(gedeeld);
        vorige.append(Raw((h >> 2) - 1));
        tabel_.push_back(vorige);
        return vorige;
      }
    }
  }
  std::string VerplichteWaarde() {
    std::optional<std::string> w = Waarde();
    if (!w) Fout();
    return w.value_or("");
  }
  std::string SignaalId() {
    const uint64_t h = Varint();
    if (h <= 1) {
      const std::string_view raw = Raw(h == 0 ? 16 : 8);
      return absl::BytesToHexString(absl::string_view(raw.data(), raw.size()));
    }
    return std::string(Raw(h - 2));
  }
  void Veld(Message* m, const FieldDescriptor* f) {
    const Reflection* r = m->GetReflection();
    switch (f->cpp_type()) {
      case FieldDescriptor::CPPTYPE_STRING: {
        std::optional<std::string> w = Waarde(f->number());
        if (w) {
          r->SetString(m, f, std::move(*w));
        } else {
          r->ClearField(m, f);
        }
        return;
      }
      case FieldDescriptor::CPPTYPE_MESSAGE: {
        std::optional<std::string> w = Waarde(f->number());
        if (!w) return r->ClearField(m, f);
        if (!r->MutableMessage(m, f)->ParseFromString(*w)) Fout();
        return;
      }
      default:
        break;
    }
    if (f->has_presence() && Varint() == 0) return r->ClearField(m, f);
    const uint64_t v = Varint();
    switch (f->cpp_type()) {
      case FieldDescriptor::CPPTYPE_ENUM:
        return r->SetEnumValue(m, f, static_cast<int>(UnZigZag(v)));
      case FieldDescriptor::CPPTYPE_BOOL:
        return r->SetBool(m, f, v != 0);
      case FieldDescriptor::CPPTYPE_INT32:
        return r->SetInt32(m, f, static_cast<int32_t>(UnZigZag(v)));
      case FieldDescriptor::CPPTYPE_INT64:
        return r->SetInt64(m, f, UnZigZag(v));
      case FieldDescriptor::CPPTYPE_UINT32:
        return r->SetUInt32(m, f, static_cast<uint32_t>(v));
      case FieldDescriptor::CPPTYPE_UINT64:
        return r->SetUInt64(m, f, v);
      default:
        Fout();
        return;
    }
  }

 private:
  uint64_t Fout() {
    ok_ = false;
    in_ = {};
    return 0;
  }
  std::string_view in_;
  bool ok_ = true;
  std::vector<std::string> tabel_;
  std::array<std::string, kSlots> vorige_letterlijk_;
  absl::CivilDay vorige_dag_ = kEerste;
};

bool CompactPast(const JongereState& state) {
  if (!AlleenVelden(state, kStateVelden)) return false;
  for (const v1::Event& e : state.feiten()) {
    if (!EventPast(e)) return false;
  }
  for (const internal::v1::AbsoluutVerzuimZaak& z : state.av_zaken()) {
    if (!AlleenVelden(z, kZaakVelden)) return false;
    for (const v1::ZaakRoute& r : z.routes()) {
      if (!AlleenVelden(r, kRouteVelden)) return false;
    }
  }
  return true;
}

// Fields of each event kind's message in field-number order (computed once).
const std::vector<const FieldDescriptor*>& VeldenOpNummer(int soort) {
  static const auto* const velden = [] {
    auto* v = new std::array<std::vector<const FieldDescriptor*>, kSoorten>();
    for (int soort = 1; soort < kSoorten; ++soort) {
      const FieldDescriptor* oneof = v1::Event::descriptor()->FindFieldByNumber(soort);
      if (oneof == nullptr || oneof->message_type() == nullptr) continue;
      const google::protobuf::Descriptor* d = oneof->message_type();
      for (int i = 0; i < d->field_count(); ++i) (*v)[soort].push_back(d->field(i));
      std::sort((*v)[soort].begin(), (*v)[soort].end(),
                [](const FieldDescriptor* a, const FieldDescriptor* b) { return a->number() < b->number(); });
    }
    return v;
  }();
  return (*velden)[soort];
}

}  // namespace

std::string EncodeJongereState(const JongereState& state) {
  if (!CompactPast(state)) return state.SerializeAsString();
  Schrijver w;
  w.Raw(std::string_view(&kCompactStateVersion, 1));

  // Events: kind, change mask against the previous event of that kind, the
  // changed fields.
  w.Varint(static_cast<uint64_t>(state.feiten_size()));
  std::array<const Message*, kSoorten> vorige{};
  const google::protobuf::Descriptor* event_d = v1::Event::descriptor();
  for (const v1::Event& e : state.feiten()) {
    const int soort = e.event_case();
    w.Varint(static_cast<uint64_t>(soort));
    if (soort == 0) continue;
    const FieldDescriptor* oneof = event_d->FindFieldByNumber(soort);
    const Message& sub = e.GetReflection()->GetMessage(e, oneof);
    // The first event of a kind is compared with the empty message.
    const Message& basis =
        vorige[soort] != nullptr ? *vorige[soort] : e.GetReflection()->GetMessage(v1::Event::default_instance(), oneof);
    const std::vector<const FieldDescriptor*>& velden = VeldenOpNummer(soort);
    uint64_t masker = 0;
    for (const FieldDescriptor* f : velden) {
      if (!Gelijk(sub, basis, f)) masker |= uint64_t{1} << (f->number() - 1);
    }
    w.Varint(masker);
    for (const FieldDescriptor* f : velden) {
      if ((masker >> (f->number() - 1)) & 1) w.Veld(sub, f);
    }
    vorige[soort] = &sub;
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
  w.Varint((state.absoluut_verzuim_open() ? 1u : 0u) | (state.uit_beeld() ? 2u : 0u));
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
  Lezer r(bytes.substr(1));
  const uint64_t n = r.Varint();
  std::array<const Message*, kSoorten> vorige{};
  const google::protobuf::Descriptor* event_d = v1::Event::descriptor();
  for (uint64_t i = 0; i < n && r.ok(); ++i) {
    v1::Event* e = state.add_feiten();
    const uint64_t soort = r.Varint();
    if (soort == 0) continue;
    if (soort >= kSoorten) return absl::DataLossError("stored jongere state: unknown event kind");
    const FieldDescriptor* oneof = event_d->FindFieldByNumber(static_cast<int>(soort));
    if (oneof == nullptr) return absl::DataLossError("stored jongere state: unknown event kind");
    Message* sub = e->GetReflection()->MutableMessage(e, oneof);
    if (vorige[soort] != nullptr) sub->CopyFrom(*vorige[soort]);
    const uint64_t masker = r.Varint();
    for (const FieldDescriptor* f : VeldenOpNummer(static_cast<int>(soort))) {
      if ((masker >> (f->number() - 1)) & 1) r.Veld(sub, f);
    }
    vorige[soort] = sub;
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
  if (!r.ok() || !r.Op()) return absl::DataLossError("stored jongere state is truncated or corrupt");
  return state;
}

}  // namespace inbeeld::signaling
