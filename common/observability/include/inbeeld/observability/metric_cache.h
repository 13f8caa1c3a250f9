#pragma once
// A per-loop cache of labelled metrics. prometheus::Family<T>::Add builds a
// label map, hashes it and looks it up under the family's lock on every call;
// a loop that counts per event (signaling: per event, per signal, per jongere
// of a batch) asks for the same few label combinations again and again. Add
// returns a reference that lives as long as the family (metrics are never
// removed here), so each combination is looked up once and kept.
#include <array>
#include <cstddef>
#include <map>
#include <string>
#include <string_view>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "prometheus/family.h"

namespace inbeeld::observability {

// Not thread-safe: one per loop (the metrics themselves are).
template <typename Metric, size_t kLabels>
class MetricCache {
 public:
  MetricCache(prometheus::Family<Metric>& family, std::array<std::string, kLabels> names)
      : family_(family), names_(std::move(names)) {}

  // The metric with these label values, in the order of the names.
  template <typename... Values>
  Metric& Get(const Values&... values) {
    static_assert(sizeof...(Values) == kLabels, "one value per label name");
    const std::array<std::string_view, kLabels> v{std::string_view(values)...};
    // Unit separator between values: no label value here contains it.
    key_.clear();
    for (std::string_view s : v) key_.append(s).push_back('\x1f');
    if (auto it = cache_.find(key_); it != cache_.end()) return *it->second;
    std::map<std::string, std::string> labels;
    for (size_t i = 0; i < kLabels; ++i) labels.emplace(names_[i], std::string(v[i]));
    Metric& metric = family_.Add(labels);
    cache_.emplace(key_, &metric);
    return metric;
  }

 private:
  prometheus::Family<Metric>& family_;
  const std::array<std::string, kLabels> names_;
  std::string key_;  // reused: no allocation per lookup
  absl::flat_hash_map<std::string, Metric*> cache_;
};

}  // namespace inbeeld::observability
