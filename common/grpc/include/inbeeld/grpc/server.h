#pragma once
// gRPC server set-up shared by every service: TLS (mutual when a client CA is
// given), grpc.health.v1 health checking, server reflection, and an
// interceptor that counts requests by method and status code with a latency
// histogram (inbeeld_grpc_server_handled_total, inbeeld_grpc_server_handling_seconds).
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "grpcpp/grpcpp.h"

namespace inbeeld::grpc_util {

struct TlsOptions {
  // Explicit opt-in for local development only: no TLS at all.
  bool plaintext = false;
  std::string cert_file;       // PEM server (or client) certificate chain
  std::string key_file;        // PEM private key
  std::string ca_file;         // PEM CA that signed the peer's certificates
  // Server: require and verify a client certificate (mutual TLS).
  bool require_client_cert = true;
};

absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> ServerCredentials(const TlsOptions& tls);
absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> ChannelCredentials(const TlsOptions& tls);

class Server {
 public:
  // Builds and starts a server on `address` ("127.0.0.1:0" picks a port) with
  // the given services, health (all SERVING once started) and reflection.
  static absl::StatusOr<std::unique_ptr<Server>> Start(
      const std::string& address, const TlsOptions& tls, std::vector<grpc::Service*> services,
      int max_receive_message_bytes = 4 * 1024 * 1024);
  ~Server();

  int port() const { return port_; }
  std::string address() const;
  // Orderly shutdown: health NOT_SERVING, stop accepting, wait for in-flight
  // calls up to `drain`, then cancel what is left.
  void Shutdown(absl::Duration drain);
  void Wait();

 private:
  Server() = default;
  std::unique_ptr<grpc::Server> server_;
  std::string host_;
  int port_ = 0;
  bool shut_down_ = false;
};

// Reads a whole file (certificates).
absl::StatusOr<std::string> ReadFile(const std::string& path);

}  // namespace inbeeld::grpc_util
