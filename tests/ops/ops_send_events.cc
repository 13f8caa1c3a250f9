// ops-send-events: sends verzuimmeldingen to ingest over plaintext gRPC, for the
// scripted operations tests (Python has no gRPC module on this machine).
//   ops-send-events --address=127.0.0.1:PORT [--count=20] [--first=1000] [--prefix=ops]
// Prints "accepted N" and exits 0 when every event was accepted, 1 otherwise.
#include <chrono>
#include <iostream>

#include "grpcpp/grpcpp.h"
#include "inbeeld/util/flags.h"
#include "inbeeld/util/dates.h"
#include "inbeeld/v1/melding_service.grpc.pb.h"
#include "ops_events.h"

int main(int argc, char** argv) {
  CLI::App app("Sends verzuimmeldingen to ingest over plaintext gRPC.", "ops-send-events");
  std::string address;
  int64_t count = 20;
  int64_t first = 1000;
  std::string prefix = "ops";
  app.add_option("--address", address, "ingest's gRPC address")->required();
  app.add_option("--count", count, "how many")->capture_default_str();
  app.add_option("--first", first, "first seed")->capture_default_str();
  app.add_option("--prefix", prefix, "melding id prefix")->capture_default_str();
  if (auto exit = inbeeld::util::ParseFlags(app, argc, argv, std::cout, std::cerr)) return *exit;
  auto stub = inbeeld::v1::MeldingService::NewStub(
      grpc::CreateChannel(address, grpc::InsecureChannelCredentials()));
  const absl::CivilDay today = inbeeld::util::TodayUtc();
  int accepted = 0;
  for (int64_t i = 0; i < count; ++i) {
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    inbeeld::v1::MeldAntwoord resp;
    grpc::Status st = stub->MeldVerzuim(
        &ctx, inbeeld::ops_test::TestMelding(static_cast<int>(first + i), today, prefix), &resp);
    if (st.ok()) {
      ++accepted;
    } else {
      std::cerr << "ops-send-events: " << st.error_code() << " " << st.error_message() << "\n";
    }
  }
  std::cout << "accepted " << accepted << std::endl;
  return accepted == count ? 0 : 1;
}
