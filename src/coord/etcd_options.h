// The etcd client options a project's coordination section gives (endpoints, TLS, credentials):
// one mapping for the coordinator and the precheck. Apart from etcd_client.h, which the test
// harness uses without the config's protobufs.
#ifndef DUOSYNC_SRC_COORD_ETCD_OPTIONS_H_
#define DUOSYNC_SRC_COORD_ETCD_OPTIONS_H_

#include "config/resolved_config.h"
#include "coord/etcd_client.h"

namespace duosync {

EtcdOptions EtcdOptionsFor(const CoordinationConfig& coordination);

}  // namespace duosync

#endif  // DUOSYNC_SRC_COORD_ETCD_OPTIONS_H_
