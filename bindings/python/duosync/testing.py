"""Real MariaDB servers for tests, from `duosync servers` (needs the CLI and mariadb-server).

    from duosync import testing
    with testing.servers(2) as (a, b):
        a.sql("CREATE DATABASE db1")
        config = {"endpoints": {"a": a.endpoint, "b": b.endpoint}, ...}

The CLI is found through DUOSYNC_CLI, else DUOSYNC_BUILD_DIR/duosync, else the repository's build
tree. This module does not load libduosync.
"""

import contextlib
import json
import os
import pathlib
import selectors
import subprocess
import tempfile
import time

_REPO_CLI = pathlib.Path(__file__).resolve().parents[3] / "build" / "duosync"

# The keys of a project config endpoint; the CLI's output adds server_id and dir.
_ENDPOINT_KEYS = ("region", "host", "port", "user", "password")


class SQLError(RuntimeError):
    """The mariadb client failed; `stderr` holds its message."""

    def __init__(self, statement, returncode, stderr):
        super().__init__(f"mariadb exited {returncode} running {statement!r}: {stderr.strip()}")
        self.statement = statement
        self.returncode = returncode
        self.stderr = stderr


def cli_path():
    """The duosync CLI this module runs."""
    if os.environ.get("DUOSYNC_CLI"):
        return os.environ["DUOSYNC_CLI"]
    if os.environ.get("DUOSYNC_BUILD_DIR"):
        return os.path.join(os.environ["DUOSYNC_BUILD_DIR"], "duosync")
    return str(_REPO_CLI)


def sql(endpoint, statement, database=None, timeout=60):
    """Runs SQL on `endpoint` through the mariadb client; returns the rows as tuples of str.

    NULL comes back as the string "NULL" (the client's batch format).
    """
    cmd = ["mariadb", "--batch", "--skip-column-names", "--protocol=TCP",
           f"--host={endpoint['host']}", f"--port={endpoint['port']}", f"--user={endpoint['user']}"]
    if database:
        cmd.append(f"--database={database}")
    # The password goes through the environment, not argv where `ps` shows it.
    env = dict(os.environ, MYSQL_PWD=endpoint["password"])
    done = subprocess.run(cmd + ["-e", statement], env=env, capture_output=True, text=True,
                          timeout=timeout, check=False)
    if done.returncode != 0:
        raise SQLError(statement, done.returncode, done.stderr)
    return [tuple(line.split("\t")) for line in done.stdout.splitlines()]


class Server(dict):
    """One server as the CLI printed it ({"region", "host", "port", "user", "password",
    "server_id", "dir"}), with helpers."""

    @property
    def endpoint(self):
        """The server as a project config endpoint."""
        return {k: self[k] for k in _ENDPOINT_KEYS}

    def sql(self, statement, database=None, timeout=60):
        """Runs SQL here; see the module's sql()."""
        return sql(self, statement, database=database, timeout=timeout)


@contextlib.contextmanager
def servers(count=2, timeout=120):
    """Starts `count` fresh MariaDB servers and yields them as a list of Server; they are removed
    on exit (the CLI keeps them until its stdin closes)."""
    # A private TMPDIR for the servers' data and for MariaDB's temporary files: in a /tmp shared
    # with other test runs, mariadb-install-db sometimes loses its temp tables to theirs.
    with tempfile.TemporaryDirectory(prefix="duosync-servers-",
                                     ignore_cleanup_errors=True) as tmp, \
            tempfile.TemporaryFile(mode="w+") as log:
        proc = subprocess.Popen([cli_path(), "servers", "--count", str(count)],
                                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log,
                                text=True, env=dict(os.environ, TMPDIR=tmp))
        try:
            line = _read_line(proc, timeout)
            if not line:
                proc.wait(timeout=10)
                log.seek(0)
                raise RuntimeError(
                    f"`{cli_path()} servers --count {count}` exited {proc.returncode} without "
                    f"printing endpoints: {log.read().strip()}")
            yield [Server(s) for s in json.loads(line)]
        finally:
            _shut_down(proc)


# A valid config that needs no server (validation never connects).
OFFLINE_CONFIG = {
    "name": "offline",
    "scenario": "DATA_MIGRATION",
    "endpoints": {
        "a": {"region": "region-1", "host": "127.0.0.1", "port": 3306, "user": "u",
              "password": "offline-secret"},
        "b": {"region": "region-1", "host": "127.0.0.1", "port": 3307, "user": "u",
              "password": "offline-secret"},
    },
    "forward": {"migration_types": ["INCREMENTAL"], "objects": {"import": "db1.t1"}},
}


@contextlib.contextmanager
def fresh_table(servers, database):
    """Creates `database` with table t (id INT PRIMARY KEY, v VARCHAR(32)) on every server,
    yields "database.t", and drops the database afterwards."""
    for s in servers:
        s.sql(f"CREATE DATABASE {database}; CREATE TABLE {database}.t "
              "(id INT PRIMARY KEY, v VARCHAR(32))")
    try:
        yield f"{database}.t"
    finally:
        for s in servers:
            s.sql(f"DROP DATABASE IF EXISTS {database}")


def poll(fn, timeout_s=20, interval_s=0.05):
    """Calls fn() until it returns something truthy; returns that, or the last falsy result once
    timeout_s passed."""
    deadline = time.monotonic() + timeout_s
    while True:
        got = fn()
        if got or time.monotonic() > deadline:
            return got
        time.sleep(interval_s)


def _read_line(proc, timeout):
    """The first stdout line of proc, or "" if it ended first; raises TimeoutError after timeout."""
    deadline = time.monotonic() + timeout
    with selectors.DefaultSelector() as sel:
        sel.register(proc.stdout, selectors.EVENT_READ)
        # One line, then nothing: readline after readiness blocks at most until the newline.
        if not sel.select(max(0.0, deadline - time.monotonic())):
            raise TimeoutError(f"duosync servers printed nothing within {timeout} s")
    return proc.stdout.readline()


def _shut_down(proc):
    try:
        proc.stdin.close()  # the CLI's signal to stop the servers and remove their data
    except OSError:
        pass
    try:
        proc.wait(timeout=60)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
    proc.stdout.close()


def _free_port():
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def etcd(timeout=60):
    """Starts a one-member etcd (Debian's etcd-server, /usr/bin/etcd) on free loopback ports and
    yields its client URL; it is killed and its data removed on exit."""
    import urllib.request
    with tempfile.TemporaryDirectory(prefix="duosync-etcd-", ignore_cleanup_errors=True) as tmp, \
            tempfile.TemporaryFile(mode="w+") as log:
        client = f"http://127.0.0.1:{_free_port()}"
        peer = f"http://127.0.0.1:{_free_port()}"
        proc = subprocess.Popen(
            ["/usr/bin/etcd", "--name=py", f"--data-dir={tmp}/data", f"--listen-client-urls={client}",
             f"--advertise-client-urls={client}", f"--listen-peer-urls={peer}",
             f"--initial-advertise-peer-urls={peer}", f"--initial-cluster=py={peer}"],
            stdout=log, stderr=log)
        try:
            deadline = time.monotonic() + timeout
            while True:
                try:
                    with urllib.request.urlopen(client + "/health", timeout=1) as reply:
                        if b"true" in reply.read():
                            break
                except OSError:
                    pass
                if proc.poll() is not None or time.monotonic() > deadline:
                    log.seek(0)
                    raise RuntimeError(f"etcd did not start: {log.read()[-2000:]}")
                time.sleep(0.1)
            yield client
        finally:
            proc.kill()
            proc.wait()
