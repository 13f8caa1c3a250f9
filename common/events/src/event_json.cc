#include "inbeeld/events/event_json.h"

#include <bitset>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/message.h"
#include "google/protobuf/util/json_util.h"

namespace inbeeld::events {
namespace {

using google::protobuf::Descriptor;
using google::protobuf::FieldDescriptor;
using google::protobuf::Message;
using google::protobuf::Reflection;

// Nesting the fast path follows: Event → kind → Leerling.
constexpr int kMaxDepth = 4;
// Field numbers the seen-set covers; a message with higher ones is not read here.
constexpr int kMaxNumber = 64;

// What the fast path needs of one message type, computed once.
struct Velden {
  const Reflection* reflection = nullptr;
  // By proto field name and by JSON name (protobuf's parser accepts both).
  absl::flat_hash_map<std::string, const FieldDescriptor*> op_naam;
};

class Register {
 public:
  Register() { Voeg(v1::Event::descriptor(), v1::Event::default_instance().GetReflection()); }
  const Velden* Van(const Descriptor* d) const {
    const auto it = typen_.find(d);
    return it == typen_.end() ? nullptr : &it->second;
  }

 private:
  void Voeg(const Descriptor* d, const Reflection* r) {
    if (typen_.contains(d)) return;
    Velden v;
    v.reflection = r;
    std::vector<const Descriptor*> genest;
    for (int i = 0; i < d->field_count(); ++i) {
      const FieldDescriptor* f = d->field(i);
      if (f->number() > kMaxNumber) continue;  // read by protobuf's parser
      v.op_naam.emplace(f->name(), f);
      v.op_naam.emplace(f->json_name(), f);
      if (f->type() == FieldDescriptor::TYPE_MESSAGE) genest.push_back(f->message_type());
    }
    typen_.emplace(d, std::move(v));
    // After the emplace: a nested type's entry may move the map's elements.
    for (const Descriptor* n : genest) {
      const Message* prototype = google::protobuf::MessageFactory::generated_factory()->GetPrototype(n);
      if (prototype != nullptr) Voeg(n, prototype->GetReflection());
    }
  }
  absl::flat_hash_map<const Descriptor*, Velden> typen_;
};

const Register& Typen() {
  static const auto* const r = new Register();
  return *r;
}

class Lezer {
 public:
  explicit Lezer(std::string_view in) : in_(in) {}

  bool Lees(Message* m) {
    if (!Object(m, 0)) return false;
    Wit();
    return pos_ == in_.size();
  }

 private:
  void Wit() {
    while (pos_ < in_.size() && (in_[pos_] == ' ' || in_[pos_] == '\t' || in_[pos_] == '\n' || in_[pos_] == '\r')) {
      ++pos_;
    }
  }
  bool Teken(char c) {
    Wit();
    if (pos_ >= in_.size() || in_[pos_] != c) return false;
    ++pos_;
    return true;
  }
  // A string of printable ASCII without escapes; anything else is for
  // protobuf's parser.
  bool Tekst(std::string_view* out) {
    if (!Teken('"')) return false;
    const size_t begin = pos_;
    while (pos_ < in_.size()) {
      const auto c = static_cast<unsigned char>(in_[pos_]);
      if (c == '"') {
        *out = in_.substr(begin, pos_ - begin);
        ++pos_;
        return true;
      }
      if (c == '\\' || c < 0x20 || c >= 0x80) return false;
      ++pos_;
    }
    return false;
  }
  // A JSON number that is an unsigned 32-bit integer written plainly.
  bool Getal(uint32_t* out) {
    Wit();
    const size_t begin = pos_;
    uint64_t v = 0;
    while (pos_ < in_.size() && in_[pos_] >= '0' && in_[pos_] <= '9') {
      v = v * 10 + static_cast<uint64_t>(in_[pos_] - '0');
      if (v > UINT32_MAX) return false;
      ++pos_;
    }
    const size_t n = pos_ - begin;
    if (n == 0 || (n > 1 && in_[begin] == '0')) return false;
    // Not followed by a fraction or exponent (protobuf reads those too).
    if (pos_ < in_.size() && (in_[pos_] == '.' || in_[pos_] == 'e' || in_[pos_] == 'E')) return false;
    *out = static_cast<uint32_t>(v);
    return true;
  }
  bool Woord(std::string_view w) {
    Wit();
    if (in_.substr(pos_, w.size()) != w) return false;
    pos_ += w.size();
    return true;
  }

  bool Object(Message* m, int diepte) {
    if (diepte >= kMaxDepth) return false;
    const Velden* velden = Typen().Van(m->GetDescriptor());
    if (velden == nullptr || !Teken('{')) return false;
    Wit();
    if (pos_ < in_.size() && in_[pos_] == '}') {
      ++pos_;
      return true;
    }
    std::bitset<kMaxNumber + 1> gezien;
    const google::protobuf::OneofDescriptor* gezette_oneofs[kMaxNumber + 1] = {};
    size_t oneofs = 0;
    while (true) {
      std::string_view sleutel;
      if (!Tekst(&sleutel) || !Teken(':')) return false;
      const auto it = velden->op_naam.find(absl::string_view(sleutel.data(), sleutel.size()));
      if (it == velden->op_naam.end()) return false;  // unknown: protobuf's parser decides
      const FieldDescriptor* f = it->second;
      if (gezien[static_cast<size_t>(f->number())]) return false;  // a key twice
      gezien[static_cast<size_t>(f->number())] = true;
      if (const auto* oneof = f->containing_oneof()) {
        // A second member of a oneof: protobuf's parser decides.
        for (size_t i = 0; i < oneofs; ++i) {
          if (gezette_oneofs[i] == oneof) return false;
        }
        gezette_oneofs[oneofs++] = oneof;
      }
      if (f->is_repeated() || !Waarde(m, velden->reflection, f, diepte)) return false;
      if (Teken(',')) continue;
      return Teken('}');
    }
  }

  bool Waarde(Message* m, const Reflection* r, const FieldDescriptor* f, int diepte) {
    switch (f->type()) {
      case FieldDescriptor::TYPE_STRING: {
        std::string_view s;
        if (!Tekst(&s)) return false;
        r->SetString(m, f, std::string(s));
        return true;
      }
      case FieldDescriptor::TYPE_MESSAGE:
        return Object(r->MutableMessage(m, f), diepte + 1);
      case FieldDescriptor::TYPE_ENUM: {
        std::string_view naam;
        if (!Tekst(&naam)) return false;
        const google::protobuf::EnumValueDescriptor* v = f->enum_type()->FindValueByName(std::string(naam));
        if (v == nullptr) return false;
        r->SetEnumValue(m, f, v->number());
        return true;
      }
      case FieldDescriptor::TYPE_UINT32: {
        uint32_t v = 0;
        if (!Getal(&v)) return false;
        r->SetUInt32(m, f, v);
        return true;
      }
      case FieldDescriptor::TYPE_BOOL:
        if (Woord("true")) {
          r->SetBool(m, f, true);
          return true;
        }
        if (Woord("false")) {
          r->SetBool(m, f, false);
          return true;
        }
        return false;
      default:
        return false;  // other types: protobuf's parser
    }
  }

  std::string_view in_;
  size_t pos_ = 0;
};

}  // namespace

bool ParseEventJsonFast(std::string_view line, v1::Event* event) {
  event->Clear();
  return Lezer(line).Lees(event);
}

absl::Status ParseEventJson(std::string_view line, v1::Event* event) {
  if (ParseEventJsonFast(line, event)) return absl::OkStatus();
  event->Clear();
  if (!google::protobuf::util::JsonStringToMessage(
           google::protobuf::StringPiece(line.data(), line.size()), event,
           google::protobuf::util::JsonParseOptions())
           .ok()) {
    return absl::InvalidArgumentError("not a valid inbeeld.v1.Event JSON object");
  }
  return absl::OkStatus();
}

}  // namespace inbeeld::events
