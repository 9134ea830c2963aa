// Certificates made at test time with openssl, for TLS tests against real servers (MariaDB, etcd):
// a CA, a server certificate for 127.0.0.1 and localhost signed by it, client certificates, and a
// second CA that signed nothing of the server's (a "wrong CA" a client must refuse).
#ifndef DUOSYNC_SRC_HARNESS_TEST_CERTIFICATES_H_
#define DUOSYNC_SRC_HARNESS_TEST_CERTIFICATES_H_

#include <string>

#include "absl/status/statusor.h"

namespace duosync::harness {

struct TestCertificates {
  std::string dir;
  std::string ca, ca_key;                  // ca.pem signed every certificate below
  std::string server_cert, server_key;     // subjectAltName IP:127.0.0.1, DNS:localhost
  std::string client_cert, client_key;     // no CommonName (etcd's gateway refuses one with auth)
  std::string client_cn_cert, client_cn_key;  // CommonName "duosync"
  std::string other_ca;                    // a CA that signed nothing here

  // Makes them in a new directory under /tmp (kept: a failure names openssl.log there).
  static absl::StatusOr<TestCertificates> Make();
};

}  // namespace duosync::harness

#endif  // DUOSYNC_SRC_HARNESS_TEST_CERTIFICATES_H_
