// ops-send-events: sends verzuimmeldingen to ingest over plaintext gRPC, for the
// scripted operations tests (Python has no gRPC module on this machine).
//   ops-send-events --address=127.0.0.1:PORT [--count=20] [--first=1000] [--prefix=ops]
// Prints "accepted N" and exits 0 when every event was accepted, 1 otherwise.
#include <chrono>
#include <iostream>

#include "grpcpp/grpcpp.h"
#include "inbeeld/util/config.h"
#include "inbeeld/util/dates.h"
#include "inbeeld/v1/melding_service.grpc.pb.h"
#include "ops_events.h"

int main(int argc, char** argv) {
  auto config = inbeeld::util::Config::Parse(argc, argv, {"address", "count", "first", "prefix"});
  if (!config.ok() || !config->Has("address")) {
    std::cerr << "usage: ops-send-events --address=HOST:PORT [--count=N] [--first=SEED] [--prefix=ID]\n";
    return 2;
  }
  auto count = config->GetInt("count", 20);
  auto first = config->GetInt("first", 1000);
  if (!count.ok() || !first.ok()) {
    std::cerr << "ops-send-events: --count and --first must be integers\n";
    return 2;
  }
  const std::string prefix = config->GetString("prefix", "ops");
  auto stub = inbeeld::v1::MeldingService::NewStub(
      grpc::CreateChannel(config->GetString("address", ""), grpc::InsecureChannelCredentials()));
  const absl::CivilDay today = inbeeld::util::TodayUtc();
  int accepted = 0;
  for (int64_t i = 0; i < *count; ++i) {
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    inbeeld::v1::MeldAntwoord resp;
    grpc::Status st = stub->MeldVerzuim(
        &ctx, inbeeld::ops_test::TestMelding(static_cast<int>(*first + i), today, prefix), &resp);
    if (st.ok()) {
      ++accepted;
    } else {
      std::cerr << "ops-send-events: " << st.error_code() << " " << st.error_message() << "\n";
    }
  }
  std::cout << "accepted " << accepted << std::endl;
  return accepted == *count ? 0 : 1;
}
