// Hosts the embedded Kafka cluster (librdkafka's mock, 127.0.0.1, random
// port) with every InBeeld topic, for test scripts that start service binaries
// themselves (tests/deploy/image_start_test.py):
//   inbeeld-test-kafka READY_FILE [PARTITIONS]
// writes the bootstrap address to READY_FILE (atomically, once the topics
// exist) and serves until SIGTERM or SIGINT. Exit 0 after a signal, 1 when the
// cluster cannot start, 2 on bad arguments.
#include <signal.h>

#include <cstdio>
#include <fstream>
#include <iostream>
#include <string>

#include "absl/strings/numbers.h"
#include "inbeeld/kafka/embedded_cluster.h"
#include "inbeeld/kafka/kafka.h"

int main(int argc, char** argv) {
  int partitions = 1;
  if (argc < 2 || argc > 3 || (argc == 3 && (!absl::SimpleAtoi(argv[2], &partitions) || partitions < 1))) {
    std::cerr << "usage: inbeeld-test-kafka READY_FILE [PARTITIONS]\n";
    return 2;
  }
  // Blocked before any thread starts, so every thread inherits the mask and
  // sigwait below is the only receiver.
  sigset_t stop;
  sigemptyset(&stop);
  sigaddset(&stop, SIGTERM);
  sigaddset(&stop, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop, nullptr);

  auto cluster = inbeeld::kafka::EmbeddedCluster::Start(1);
  if (!cluster.ok()) {
    std::cerr << "cannot start the embedded cluster: " << cluster.status() << "\n";
    return 1;
  }
  if (auto s = (*cluster)->CreateTopics(inbeeld::kafka::InBeeldTopics(partitions, 1)); !s.ok()) {
    std::cerr << "cannot create the topics: " << s << "\n";
    return 1;
  }
  const std::string ready = argv[1];
  const std::string tmp = ready + ".tmp";
  {
    std::ofstream out(tmp);
    out << (*cluster)->bootstrap_servers() << "\n";
    if (!out.flush()) {
      std::cerr << "cannot write " << tmp << "\n";
      return 1;
    }
  }
  if (std::rename(tmp.c_str(), ready.c_str()) != 0) {
    std::cerr << "cannot rename " << tmp << " to " << ready << "\n";
    return 1;
  }
  int sig = 0;
  sigwait(&stop, &sig);
  return 0;
}
