#include "coord/etcd_options.h"

namespace duosync {

EtcdOptions EtcdOptionsFor(const CoordinationConfig& c) {
  EtcdOptions o;
  o.endpoints = c.etcd_endpoints;
  o.ca_file = c.ca_file;
  o.cert_file = c.cert_file;
  o.key_file = c.key_file;
  o.user = c.user;
  o.password = c.password;
  return o;
}

}  // namespace duosync
