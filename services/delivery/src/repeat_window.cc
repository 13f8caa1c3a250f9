#include "inbeeld/delivery/repeat_window.h"


namespace inbeeld::delivery {

bool RepeatWindow::ObserveIsRepeat(int32_t partition, int64_t offset, std::string_view organisatie,
                                   std::string_view signaal_id) {
  if (window_ == 0) return false;
  Partition& p = partitions_[partition];
  while (!p.entries.empty() && p.entries.front().offset < offset - window_) {
    auto it = p.present.find(p.entries.front().key);
    if (--it->second == 0) p.present.erase(it);
    p.entries.pop_front();
  }
  std::string key;
  key.reserve(organisatie.size() + 1 + signaal_id.size());
  key.append(organisatie).push_back('\0');
  key.append(signaal_id);
  auto [it, inserted] = p.present.try_emplace(key, 0);
  ++it->second;
  p.entries.push_back({offset, std::move(key)});
  return !inserted;
}

size_t RepeatWindow::size() const {
  size_t n = 0;
  for (const auto& [partition, p] : partitions_) n += p.entries.size();
  return n;
}

}  // namespace inbeeld::delivery
