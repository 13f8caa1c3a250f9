#pragma once
// The flags of a service that can write its batches in Kafka transactions (signaling, routing):
//   --exactly-once=idempotent|transactions   INBEELD_EXACTLY_ONCE (default idempotent: any broker)
//   --instance-id=ID                         INBEELD_INSTANCE_ID (transactional.id "<service>-<ID>"; default:
//                                            DefaultInstanceId of the state directory)
// A value other than the two modes is a usage error (exit 2) that names both.
#include <string>

#include "inbeeld/kafka/kafka.h"
#include "inbeeld/util/flags.h"

namespace inbeeld::kafka {

inline void AddExactlyOnceFlags(CLI::App& app, std::string& exactly_once, std::string& instance_id) {
  util::AddOption(app, "exactly-once", exactly_once,
                  "idempotent (outputs acknowledged before the state commit; any broker) or transactions (each "
                  "batch in a Kafka transaction, one batch in flight; Apache Kafka; docs/ARCHITECTURE.md)")
      ->check(CLI::Validator(
          [](std::string& value) {
            absl::StatusOr<ExactlyOnce> mode = ParseExactlyOnce(value);
            return mode.ok() ? std::string() : std::string(mode.status().message());
          },
          "idempotent|transactions", "exactly-once mode"));
  util::AddOption(app, "instance-id", instance_id,
                  "this instance's stable identity for --exactly-once=transactions (transactional.id "
                  "<service>-<id>; a restart with the same id fences its predecessor); empty: from the host name "
                  "and the state directory");
}

}  // namespace inbeeld::kafka
