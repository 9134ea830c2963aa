#!/usr/bin/env bash
# Runs COMMAND with two fresh MariaDB servers from `duosync servers`.
# Exports DUO_TEST_SERVERS (the servers' JSON), DUO_TEST_PORT_A/B, DUO_TEST_USER, DUO_TEST_PASSWORD,
# and creates database `capi` with table `capi.t` on both for the C test.
# Usage: with_servers.sh DUOSYNC_BINARY COMMAND [ARGS...]
set -euo pipefail
cli=$1
shift
coproc SERVERS { exec "$cli" servers --count 2; }
read -r line <&"${SERVERS[0]}"
export DUO_TEST_SERVERS="$line"
ports=($(grep -o '"port":[0-9]*' <<<"$line" | cut -d: -f2))
export DUO_TEST_PORT_A=${ports[0]} DUO_TEST_PORT_B=${ports[1]}
export DUO_TEST_USER=duosync DUO_TEST_PASSWORD=duosync-test-secret
for p in "${ports[@]}"; do
  mariadb -h127.0.0.1 -P"$p" -u"$DUO_TEST_USER" -p"$DUO_TEST_PASSWORD" \
    -e "CREATE DATABASE capi; CREATE TABLE capi.t (id INT PRIMARY KEY, v VARCHAR(20))"
done
set +e
"$@"
rc=$?
exec {SERVERS[1]}>&-
wait "$SERVERS_PID" 2>/dev/null
exit $rc
