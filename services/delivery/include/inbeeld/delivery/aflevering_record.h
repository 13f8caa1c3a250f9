#pragma once
// One record of inbeeld.aflevering.v1 as delivery sees it, shared by the
// shared tail reader (FanOut) and the catch-up readers (Abonnement).
#include <optional>
#include <string>

#include "inbeeld/delivery/subscriber_buffer.h"
#include "inbeeld/kafka/kafka.h"
#include "inbeeld/v1/signaal.pb.h"

namespace inbeeld::delivery {

// The signal in `record`, or nullopt (logged with its position) when the
// payload does not decode or names another organisation than the record's
// key: the identifying payload goes only to the organisation it was routed
// to (DOMAIN.md §7). Such records are skipped, not delivered, and move the
// cursor on (a resume does not stop at them again).
std::optional<v1::Signaal> DecodeAfleveringRecord(const kafka::InRecord& record);

// The message for a subscriber, without its cursor.
Aflevering MakeAflevering(v1::Signaal signaal, const kafka::InRecord& record);

}  // namespace inbeeld::delivery
