#include "harness/test_certificates.h"

#include <stdlib.h>

#include <cstdlib>

#include "absl/strings/str_cat.h"

namespace duosync::harness {

absl::StatusOr<TestCertificates> TestCertificates::Make() {
  char dir_template[] = "/tmp/duosync-certs-XXXXXX";
  if (mkdtemp(dir_template) == nullptr) return absl::InternalError("mkdtemp failed");
  TestCertificates c;
  c.dir = dir_template;
  const std::string script = absl::StrCat(
      "set -e; cd ", c.dir, ";",
      "openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=test-ca -keyout ca.key -out ca.pem;",
      "openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=other-ca -keyout other-ca.key "
      "-out other-ca.pem;",
      "openssl req -newkey rsa:2048 -nodes -subj /CN=127.0.0.1 -keyout server.key -out server.csr;",
      "printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\\nextendedKeyUsage=serverAuth,clientAuth\\n' "
      "> server.ext;",
      "openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 "
      "-extfile server.ext -out server.pem;",
      "openssl req -newkey rsa:2048 -nodes -subj /O=duosync -keyout client.key -out client.csr;",
      "printf 'extendedKeyUsage=clientAuth\\n' > client.ext;",
      "openssl x509 -req -in client.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 "
      "-extfile client.ext -out client.pem;",
      "openssl req -newkey rsa:2048 -nodes -subj /CN=duosync -keyout client-cn.key -out client-cn.csr;",
      "openssl x509 -req -in client-cn.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 "
      "-extfile client.ext -out client-cn.pem;",
      // mariadbd may run as another user than the test: let it read the keys.
      "chmod 755 .; chmod 644 *");
  const std::string command = absl::StrCat("(", script, ") > ", c.dir, "/openssl.log 2>&1");
  if (std::system(command.c_str()) != 0) {
    return absl::InternalError(absl::StrCat("openssl failed; see ", c.dir, "/openssl.log"));
  }
  c.ca = c.dir + "/ca.pem";
  c.ca_key = c.dir + "/ca.key";
  c.server_cert = c.dir + "/server.pem";
  c.server_key = c.dir + "/server.key";
  c.client_cert = c.dir + "/client.pem";
  c.client_key = c.dir + "/client.key";
  c.client_cn_cert = c.dir + "/client-cn.pem";
  c.client_cn_key = c.dir + "/client-cn.key";
  c.other_ca = c.dir + "/other-ca.pem";
  return c;
}

}  // namespace duosync::harness
