#include "inbeeld/grpc/server.h"

#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "grpcpp/ext/proto_server_reflection_plugin.h"
#include "grpcpp/health_check_service_interface.h"
#include "grpcpp/impl/server_builder_option.h"
#include "grpcpp/impl/server_builder_plugin.h"
#include "grpcpp/security/credentials.h"
#include "grpcpp/security/server_credentials.h"
#include "inbeeld/util/log.h"

namespace inbeeld::grpc_util {

// Defined in metrics_interceptor.cc.
std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface> MakeMetricsInterceptorFactory();

namespace {

// Drops every ServerBuilder plugin (the process-wide reflection plugin in
// particular), so the health listener exposes grpc.health.v1 and nothing else.
class NoPluginsOption final : public grpc::ServerBuilderOption {
 public:
  void UpdateArguments(grpc::ChannelArguments*) override {}
  void UpdatePlugins(std::vector<std::unique_ptr<grpc::ServerBuilderPlugin>>* plugins) override {
    plugins->clear();
  }
};

// "0.0.0.0:1234" → the host part clients on this machine can dial.
std::string DialHost(const std::string& listen_address) {
  std::string host = listen_address.substr(0, listen_address.rfind(':'));
  if (host == "0.0.0.0" || host == "[::]" || host.empty()) host = "127.0.0.1";
  return host;
}

void SetHealth(grpc::Server* server, bool serving) {
  if (server == nullptr) return;
  if (auto* health = server->GetHealthCheckService()) health->SetServingStatus(serving);
}

// Registers each named service with the health service; a later
// SetServingStatus(bool) then covers them all.
void RegisterHealth(grpc::Server* server, const std::vector<std::string>& names) {
  if (server == nullptr) return;
  if (auto* health = server->GetHealthCheckService()) {
    for (const auto& name : names) health->SetServingStatus(name, true);
  }
}

}  // namespace

absl::StatusOr<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot read ", path));
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> ServerCredentials(const TlsOptions& tls) {
  if (tls.plaintext) return grpc::InsecureServerCredentials();
  if (tls.cert_file.empty() || tls.key_file.empty()) {
    return absl::InvalidArgumentError(
        "TLS needs --tls-cert and --tls-key (or --plaintext for local development only)");
  }
  auto cert = ReadFile(tls.cert_file);
  if (!cert.ok()) return cert.status();
  auto key = ReadFile(tls.key_file);
  if (!key.ok()) return key.status();
  grpc::SslServerCredentialsOptions options(
      tls.require_client_cert ? GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY
                              : GRPC_SSL_DONT_REQUEST_CLIENT_CERTIFICATE);
  if (tls.require_client_cert) {
    if (tls.ca_file.empty()) return absl::InvalidArgumentError("mutual TLS needs --tls-ca");
    auto ca = ReadFile(tls.ca_file);
    if (!ca.ok()) return ca.status();
    options.pem_root_certs = *ca;
  }
  options.pem_key_cert_pairs.push_back({*key, *cert});
  return grpc::SslServerCredentials(options);
}

absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> ChannelCredentials(const TlsOptions& tls) {
  if (tls.plaintext) return grpc::InsecureChannelCredentials();
  grpc::SslCredentialsOptions options;
  if (!tls.ca_file.empty()) {
    auto ca = ReadFile(tls.ca_file);
    if (!ca.ok()) return ca.status();
    options.pem_root_certs = *ca;
  }
  if (!tls.cert_file.empty()) {
    auto cert = ReadFile(tls.cert_file);
    if (!cert.ok()) return cert.status();
    auto key = ReadFile(tls.key_file);
    if (!key.ok()) return key.status();
    options.pem_cert_chain = *cert;
    options.pem_private_key = *key;
  }
  return grpc::SslCredentials(options);
}

absl::StatusOr<std::unique_ptr<Server>> Server::Start(const std::string& address,
                                                      const TlsOptions& tls,
                                                      std::vector<grpc::Service*> services,
                                                      int max_receive_message_bytes) {
  ServerOptions options;
  options.max_receive_message_bytes = max_receive_message_bytes;
  return Start(address, tls, std::move(services), options);
}

absl::StatusOr<std::unique_ptr<Server>> Server::Start(const std::string& address,
                                                      const TlsOptions& tls,
                                                      std::vector<grpc::Service*> services,
                                                      const ServerOptions& options) {
  const int max_receive_message_bytes = options.max_receive_message_bytes;
  auto creds = ServerCredentials(tls);
  if (!creds.ok()) return creds.status();
  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  grpc::ServerBuilder builder;
  int port = 0;
  builder.AddListeningPort(address, *creds, &port);
  builder.SetMaxReceiveMessageSize(max_receive_message_bytes);
  for (grpc::Service* s : services) builder.RegisterService(s);
  std::vector<std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>> interceptors;
  interceptors.push_back(MakeMetricsInterceptorFactory());
  builder.experimental().SetInterceptorCreators(std::move(interceptors));
  std::unique_ptr<Server> server(new Server());
  server->server_ = builder.BuildAndStart();
  if (!server->server_ || port == 0) {
    return absl::UnavailableError(absl::StrCat("cannot listen for gRPC on ", address));
  }
  server->port_ = port;
  server->host_ = DialHost(address);
  if (!options.health_listen.empty()) {
    // Default health service only (EnableDefaultHealthCheckService above is
    // process-wide); no interceptor, so probes do not show up in the
    // application's request metrics.
    grpc::ServerBuilder health_builder;
    int health_port = 0;
    health_builder.AddListeningPort(options.health_listen, grpc::InsecureServerCredentials(), &health_port);
    health_builder.SetOption(std::make_unique<NoPluginsOption>());
    health_builder.RegisterCallbackGenericService(&server->health_fallback_);
    server->health_server_ = health_builder.BuildAndStart();
    if (!server->health_server_ || health_port == 0) {
      return absl::UnavailableError(absl::StrCat("cannot listen for gRPC health on ", options.health_listen));
    }
    server->health_port_ = health_port;
    server->health_host_ = DialHost(options.health_listen);
  }
  // SERVING only once both listeners are up.
  RegisterHealth(server->server_.get(), options.service_names);
  RegisterHealth(server->health_server_.get(), options.service_names);
  SetHealth(server->server_.get(), true);
  SetHealth(server->health_server_.get(), true);
  return server;
}

std::string Server::address() const { return absl::StrCat(host_, ":", port_); }

std::string Server::health_address() const {
  return health_server_ ? absl::StrCat(health_host_, ":", health_port_) : "";
}

void Server::Shutdown(absl::Duration drain) {
  if (shut_down_ || !server_) return;
  shut_down_ = true;
  SetHealth(health_server_.get(), false);
  SetHealth(server_.get(), false);
  server_->Shutdown(std::chrono::system_clock::now() + absl::ToChronoMilliseconds(drain));
}

void Server::SetServing(bool serving) {
  if (shut_down_ || !server_) return;
  SetHealth(health_server_.get(), serving);
  SetHealth(server_.get(), serving);
}

void Server::Wait() {
  if (server_) server_->Wait();
}

Server::~Server() {
  Shutdown(absl::Seconds(1));
  if (health_server_) health_server_->Shutdown(std::chrono::system_clock::now());
}

}  // namespace inbeeld::grpc_util
