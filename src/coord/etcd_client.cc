#include "coord/etcd_client.h"

#include <httplib.h>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "duosync/etcd_gateway.pb.h"
#include "google/protobuf/util/json_util.h"

namespace duosync {

struct EtcdClient::Endpoint {
  std::string url;
  std::unique_ptr<httplib::Client> http;
};

namespace {

std::string ToJson(const google::protobuf::Message& m) {
  std::string out;
  google::protobuf::util::JsonPrintOptions options;
  options.preserve_proto_field_names = true;
  (void)google::protobuf::util::MessageToJsonString(m, &out, options);
  return out;
}

template <typename M>
absl::StatusOr<M> FromJson(const std::string& json, const char* what) {
  M m;
  google::protobuf::util::JsonParseOptions options;
  options.ignore_unknown_fields = true;
  if (!google::protobuf::util::JsonStringToMessage(json, &m, options).ok()) {
    return absl::DataLossError(absl::StrCat("etcd sent an unreadable ", what, " reply"));
  }
  return m;
}

// The first key after every key that starts with `prefix` (etcd's range_end for a prefix).
std::string PrefixEnd(std::string prefix) {
  while (!prefix.empty()) {
    if (static_cast<unsigned char>(prefix.back()) < 0xff) {
      prefix.back() = static_cast<char>(static_cast<unsigned char>(prefix.back()) + 1);
      return prefix;
    }
    prefix.pop_back();
  }
  return std::string(1, '\0');  // every key
}

absl::Status FromGrpcCode(int code, const std::string& message) {
  const std::string text = absl::StrCat("etcd: ", message);
  switch (code) {
    case 5:
      return absl::NotFoundError(text);
    case 3:
      return absl::InvalidArgumentError(text);
    case 7:
      return absl::PermissionDeniedError(text);
    case 16:
      return absl::UnauthenticatedError(text);
    case 9:
      return absl::FailedPreconditionError(text);
    default:
      return absl::UnavailableError(text);
  }
}

}  // namespace

absl::StatusOr<std::unique_ptr<EtcdClient>> EtcdClient::Create(const EtcdOptions& options) {
  if (options.endpoints.empty()) return absl::InvalidArgumentError("no etcd endpoint given");
  std::unique_ptr<EtcdClient> client(new EtcdClient());
  client->options_ = options;
  for (const std::string& url : options.endpoints) {
    const bool https = absl::StartsWith(url, "https://");
    if (!https && !absl::StartsWith(url, "http://")) {
      return absl::InvalidArgumentError(
          absl::StrCat("etcd endpoint '", url, "' is not http://host:port or https://host:port"));
    }
    const std::string rest = url.substr(https ? 8 : 7);
    const size_t colon = rest.rfind(':');
    int port = 0;
    if (rest.find('@') != std::string::npos) {
      return absl::InvalidArgumentError(
          "an etcd endpoint must not carry credentials (user:password@): use coordination.user and its password");
    }
    if (colon == std::string::npos || colon == 0 || !absl::SimpleAtoi(rest.substr(colon + 1), &port) ||
        port <= 0 || port > 65535 || rest.find('/') != std::string::npos) {
      return absl::InvalidArgumentError(
          absl::StrCat("etcd endpoint '", url, "' is not http://host:port or https://host:port"));
    }
    auto endpoint = std::make_unique<Endpoint>();
    endpoint->url = url;
    if (https && !options.cert_file.empty()) {
      endpoint->http = std::make_unique<httplib::Client>(url, options.cert_file, options.key_file);
    } else {
      endpoint->http = std::make_unique<httplib::Client>(url);
    }
    if (https) {
      if (!options.ca_file.empty()) endpoint->http->set_ca_cert_path(options.ca_file.c_str());
      endpoint->http->enable_server_certificate_verification(true);
    }
    const auto usec = absl::ToInt64Microseconds(options.timeout);
    endpoint->http->set_connection_timeout(usec / 1000000, usec % 1000000);
    endpoint->http->set_read_timeout(usec / 1000000, usec % 1000000);
    endpoint->http->set_write_timeout(usec / 1000000, usec % 1000000);
    endpoint->http->set_keep_alive(true);
    client->endpoints_.push_back(std::move(endpoint));
  }
  return client;
}

EtcdClient::~EtcdClient() = default;

std::string EtcdClient::current_endpoint() const {
  std::lock_guard<std::mutex> lock(mu_);
  return endpoints_[current_]->url;
}

absl::StatusOr<std::string> EtcdClient::PostOnce(Endpoint* endpoint, const std::string& path,
                                                 const std::string& body, bool* transport_error) {
  *transport_error = false;
  httplib::Headers headers;
  if (!token_.empty()) headers.emplace("Authorization", token_);
  auto reply = endpoint->http->Post(path.c_str(), headers, body, "application/json");
  if (!reply) {
    *transport_error = true;
    return absl::UnavailableError(
        absl::StrCat("etcd at ", endpoint->url, " did not answer (", httplib::to_string(reply.error()), ")"));
  }
  if (reply->status == 200) return reply->body;
  if (absl::StrContains(reply->body, "CommonName")) {
    // etcd 3.4+ with authentication on refuses, on its gateway, client certificates that carry a
    // CommonName (CN-based users do not work through the gateway).
    return absl::FailedPreconditionError(absl::StrCat(
        "etcd at ", endpoint->url, " refuses this client certificate on its JSON gateway because it has a "
        "CommonName: use a client certificate without one (subject e.g. /O=duosync) and sign in with "
        "coordination.user and its password"));
  }
  auto error = FromJson<etcd::GatewayError>(reply->body, "error");
  if (!error.ok() || (error->message().empty() && error->error().empty())) {
    *transport_error = reply->status >= 500;
    return absl::UnavailableError(absl::StrCat("etcd at ", endpoint->url, " answered HTTP ", reply->status, ": ",
                                               reply->body.substr(0, 200)));
  }
  // A member without a leader, or one that is shutting down, is as good as unreachable.
  const std::string& message = error->message().empty() ? error->error() : error->message();
  *transport_error = error->code() == 14 || error->code() == 4 || absl::StrContains(message, "no leader") ||
                     absl::StrContains(message, "stopped");
  return FromGrpcCode(error->code(), message);
}

absl::Status EtcdClient::Authenticate(Endpoint* endpoint) {
  token_.clear();
  etcd::AuthenticateRequest request;
  request.set_name(options_.user);
  request.set_password(options_.password);
  bool transport_error = false;
  auto reply = PostOnce(endpoint, "/v3/auth/authenticate", ToJson(request), &transport_error);
  if (!reply.ok()) return reply.status();
  auto parsed = FromJson<etcd::AuthenticateResponse>(*reply, "authenticate");
  if (!parsed.ok()) return parsed.status();
  token_ = parsed->token();
  return absl::OkStatus();
}

absl::StatusOr<std::string> EtcdClient::Post(const std::string& path, const std::string& body) {
  std::lock_guard<std::mutex> lock(mu_);
  absl::Status last = absl::UnavailableError("no etcd endpoint answered");
  for (size_t tried = 0; tried < endpoints_.size(); ++tried) {
    Endpoint* endpoint = endpoints_[current_].get();
    bool transport_error = false;
    if (!options_.user.empty() && token_.empty()) {
      absl::Status s = Authenticate(endpoint);
      if (!s.ok() && !absl::IsUnavailable(s)) return s;  // wrong credentials: no other member helps
      if (!s.ok()) {
        last = s;
        current_ = (current_ + 1) % endpoints_.size();
        continue;
      }
    }
    auto reply = PostOnce(endpoint, path, body, &transport_error);
    if (!reply.ok() && !options_.user.empty() && absl::StrContains(reply.status().message(), "token")) {
      // A token expires (or belongs to a member's old term): sign in again once.
      absl::Status s = Authenticate(endpoint);
      if (s.ok()) reply = PostOnce(endpoint, path, body, &transport_error);
    }
    if (reply.ok() || !transport_error) return reply;
    last = reply.status();
    current_ = (current_ + 1) % endpoints_.size();
    token_.clear();  // tokens are per member
  }
  return absl::UnavailableError(absl::StrCat("no etcd endpoint answered (last: ", last.message(), ")"));
}

absl::StatusOr<int64_t> EtcdClient::GrantLease(int64_t ttl_seconds) {
  etcd::LeaseGrantRequest request;
  request.set_ttl(ttl_seconds);
  auto reply = Post("/v3/lease/grant", ToJson(request));
  if (!reply.ok()) return reply.status();
  auto parsed = FromJson<etcd::LeaseGrantResponse>(*reply, "lease grant");
  if (!parsed.ok()) return parsed.status();
  if (!parsed->error().empty() || parsed->id() == 0) {
    return absl::UnavailableError(absl::StrCat("etcd granted no lease: ", parsed->error()));
  }
  return parsed->id();
}

absl::Status EtcdClient::KeepAlive(int64_t lease) {
  etcd::LeaseKeepAliveRequest request;
  request.set_id(lease);
  auto reply = Post("/v3/lease/keepalive", ToJson(request));
  if (!reply.ok()) return reply.status();
  auto parsed = FromJson<etcd::LeaseKeepAliveResult>(*reply, "keepalive");
  if (!parsed.ok()) return parsed.status();
  if (parsed->has_error()) return FromGrpcCode(parsed->error().code(), parsed->error().message());
  if (parsed->result().ttl() <= 0) return absl::NotFoundError(absl::StrCat("etcd lease ", lease, " has expired"));
  return absl::OkStatus();
}

absl::StatusOr<std::pair<int64_t, int64_t>> EtcdClient::TimeToLive(int64_t lease) {
  etcd::LeaseTimeToLiveRequest request;
  request.set_id(lease);
  auto reply = Post("/v3/lease/timetolive", ToJson(request));
  if (!reply.ok()) return reply.status();
  auto parsed = FromJson<etcd::LeaseTimeToLiveResponse>(*reply, "lease time-to-live");
  if (!parsed.ok()) return parsed.status();
  if (parsed->ttl() < 0) return absl::NotFoundError(absl::StrCat("etcd lease ", lease, " has expired"));
  return std::make_pair(parsed->ttl(), parsed->grantedttl());
}

absl::Status EtcdClient::Revoke(int64_t lease) {
  etcd::LeaseRevokeRequest request;
  request.set_id(lease);
  auto reply = Post("/v3/lease/revoke", ToJson(request));
  return reply.ok() ? absl::OkStatus() : reply.status();
}

absl::StatusOr<std::vector<EtcdKeyValue>> EtcdClient::ReadPrefix(const std::string& prefix) {
  etcd::RangeRequest request;
  request.set_key(prefix);
  request.set_range_end(PrefixEnd(prefix));
  auto reply = Post("/v3/kv/range", ToJson(request));
  if (!reply.ok()) return reply.status();
  auto parsed = FromJson<etcd::RangeResponse>(*reply, "range");
  if (!parsed.ok()) return parsed.status();
  std::vector<EtcdKeyValue> out;
  for (const etcd::KeyValue& kv : parsed->kvs()) {
    out.push_back({kv.key(), kv.value(), kv.lease(), kv.create_revision()});
  }
  return out;
}

absl::Status EtcdClient::Put(const std::string& key, const std::string& value, int64_t lease) {
  etcd::PutRequest request;
  request.set_key(key);
  request.set_value(value);
  request.set_lease(lease);
  auto reply = Post("/v3/kv/put", ToJson(request));
  return reply.ok() ? absl::OkStatus() : reply.status();
}

absl::StatusOr<bool> EtcdClient::CreateIfAbsent(const std::string& key, const std::string& value,
                                                int64_t lease) {
  etcd::TxnRequest request;
  etcd::Compare* absent = request.add_compare();
  absent->set_key(key);
  absent->set_target(etcd::Compare::CREATE);
  absent->set_result(etcd::Compare::EQUAL);
  absent->set_create_revision(0);
  etcd::PutRequest* put = request.add_success()->mutable_request_put();
  put->set_key(key);
  put->set_value(value);
  put->set_lease(lease);
  auto reply = Post("/v3/kv/txn", ToJson(request));
  if (!reply.ok()) return reply.status();
  auto parsed = FromJson<etcd::TxnResponse>(*reply, "transaction");
  if (!parsed.ok()) return parsed.status();
  return parsed->succeeded();
}

absl::Status EtcdClient::DeleteIfValue(const std::string& key, const std::string& value) {
  etcd::TxnRequest request;
  etcd::Compare* same = request.add_compare();
  same->set_key(key);
  same->set_target(etcd::Compare::VALUE);
  same->set_result(etcd::Compare::EQUAL);
  same->set_value(value);
  request.add_success()->mutable_request_delete_range()->set_key(key);
  auto reply = Post("/v3/kv/txn", ToJson(request));
  return reply.ok() ? absl::OkStatus() : reply.status();
}

}  // namespace duosync
