#pragma once
// Recognises a repeated signal on inbeeld.aflevering.v1. Routing writes a
// signal again after a crash between producing and committing (same
// deterministic signaal_id, a later offset of the same partition, since the
// key is the organisation). The promise to an organisation is one delivery
// per signal per cursor position, so delivery withholds such a repeat.
//
// The decision is a function of the log alone, never of a stream's history:
// the record at (partition p, offset o) for organisation A is a repeat when a
// record of A with the same signaal_id sits in p at an offset in [o - window,
// o). The shared reader and every catch-up reader (which first reads the
// `window` offsets before its cursor, see Abonnement) therefore agree, and a
// stream from any cursor sees the same signals: each signal at its first
// record, and no repeat of a signal first written before the cursor.
#include <cstdint>
#include <deque>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>

namespace inbeeld::delivery {

class RepeatWindow {
 public:
  // `window`: offsets per partition to look back (≥ 0; 0 remembers nothing).
  explicit RepeatWindow(int64_t window) : window_(window < 0 ? 0 : window) {}

  // Records (partition, offset, organisatie, signaal_id) and says whether it
  // repeats one within the window before it. Offsets of one partition must
  // come in increasing order.
  bool ObserveIsRepeat(int32_t partition, int64_t offset, std::string_view organisatie,
                       std::string_view signaal_id);

  int64_t window() const { return window_; }
  size_t size() const;

 private:
  struct Entry {
    int64_t offset;
    std::string key;  // organisatie + '\0' + signaal_id
  };
  struct Partition {
    std::deque<Entry> entries;                      // in offset order
    std::unordered_map<std::string, int> present;  // key → entries holding it
  };

  const int64_t window_;
  std::unordered_map<int32_t, Partition> partitions_;
};

}  // namespace inbeeld::delivery
