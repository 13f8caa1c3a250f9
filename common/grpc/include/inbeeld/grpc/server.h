#pragma once
// gRPC server set-up shared by every service: TLS (mutual when a client CA is
// given), grpc.health.v1 health checking, server reflection, and an
// interceptor that counts requests by method and status code with a latency
// histogram (inbeeld_grpc_server_handled_total, inbeeld_grpc_server_handling_seconds).
// Optionally a second, plaintext listener that serves only grpc.health.v1, for
// probes that cannot do (mutual) TLS, such as the kubelet's native grpc probe.
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "grpcpp/generic/async_generic_service.h"
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

struct ServerOptions {
  int max_receive_message_bytes = 4 * 1024 * 1024;
  // When not empty ("0.0.0.0:50052", "127.0.0.1:0"): a second server WITHOUT
  // TLS on this address that serves only grpc.health.v1 (no reflection, no
  // application services) and mirrors the main server's health. Plaintext is
  // acceptable because the health status is the only thing it reveals; the
  // kubelet's grpc probe can neither do TLS nor present a client certificate.
  std::string health_listen;
  // Full names of the application services ("inbeeld.v1.MeldingService"):
  // each gets its own grpc.health.v1 status besides the overall "" one, so a
  // probe that names a service is answered too.
  std::vector<std::string> service_names;
};

class Server {
 public:
  // Builds and starts a server on `address` ("127.0.0.1:0" picks a port) with
  // the given services, health (all SERVING once started) and reflection.
  static absl::StatusOr<std::unique_ptr<Server>> Start(
      const std::string& address, const TlsOptions& tls, std::vector<grpc::Service*> services,
      int max_receive_message_bytes = 4 * 1024 * 1024);
  static absl::StatusOr<std::unique_ptr<Server>> Start(const std::string& address, const TlsOptions& tls,
                                                       std::vector<grpc::Service*> services,
                                                       const ServerOptions& options);
  ~Server();

  int port() const { return port_; }
  std::string address() const;
  // The health-only listener; 0 / "" when ServerOptions::health_listen was empty.
  int health_port() const { return health_port_; }
  std::string health_address() const;
  // Orderly shutdown: health NOT_SERVING (on both listeners), stop accepting,
  // wait for in-flight calls up to `drain`, then cancel what is left. The
  // health listener keeps answering NOT_SERVING until the Server is destroyed,
  // so a readiness probe sees the drain instead of a refused connection.
  void Shutdown(absl::Duration drain);
  // Health of both listeners while running, e.g. NOT_SERVING when a service
  // cannot do its job (a partition stopped at lost records). No effect after
  // Shutdown.
  void SetServing(bool serving);
  void Wait();

 private:
  Server() = default;
  // Answers every method but grpc.health.v1 with UNIMPLEMENTED. It also gives
  // the health-only server the callback completion queue gRPC requires of a
  // server without application services.
  // Declared first: it must outlive health_server_.
  grpc::CallbackGenericService health_fallback_;
  std::unique_ptr<grpc::Server> server_;
  std::unique_ptr<grpc::Server> health_server_;
  std::string host_;
  std::string health_host_;
  int port_ = 0;
  int health_port_ = 0;
  bool shut_down_ = false;
};

// Reads a whole file (certificates).
absl::StatusOr<std::string> ReadFile(const std::string& path);

}  // namespace inbeeld::grpc_util
