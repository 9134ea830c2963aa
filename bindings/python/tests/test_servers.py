"""The binding against two real MariaDB servers (one pair for the session)."""

import json
import threading
import time

import pytest

import duosync
from duosync.testing import poll


def test_precheck_passes_for_an_existing_table(project_config, table):
    with duosync.Project(project_config(table)) as p:
        report = p.precheck()
    assert report["ok"] is True, json.dumps(report, indent=1)
    assert all(c["status"] != "FAILED" for c in report["checks"])


def test_precheck_fails_for_a_missing_table(project_config, table):
    missing = table.split(".")[0] + ".missing"
    with duosync.Project(project_config(missing)) as p:
        report = p.precheck()
    assert report["ok"] is False
    failed = [c for c in report["checks"] if c["status"] == "FAILED"]
    assert failed, json.dumps(report, indent=1)
    assert any(missing in c["message"] or missing in c.get("objects", []) for c in failed)


def test_precheck_against_an_unreachable_server_reports_failure(project_config, table):
    config = project_config(table)
    config["endpoints"]["b"]["port"] = 1
    with duosync.Project(config) as p:
        report = p.precheck()
    assert report["ok"] is False


def test_data_migration_replicates_inserts(servers, project_config, table):
    a, b = servers
    password = a["password"]
    with duosync.Project.from_dict(project_config(table)) as p:
        assert p.precheck()["ok"]
        p.start()
        with pytest.raises(duosync.FailedPrecondition):
            p.start()  # already running
        with pytest.raises(duosync.DeadlineExceeded):
            p.wait(0.1)  # incremental links run until stopped

        a.sql(f"INSERT INTO {table} VALUES (1, 'one'), (2, 'two')")
        rows = poll(lambda: b.sql(f"SELECT id, v FROM {table} ORDER BY id"))
        assert rows == [("1", "one"), ("2", "two")]

        a.sql(f"UPDATE {table} SET v = 'uno' WHERE id = 1")
        assert poll(lambda: b.sql(f"SELECT v FROM {table} WHERE id = 1") == [("uno",)])

        status = p.status()
        assert status["state"] == "running"
        forward = next(link for link in status["links"] if link["name"] == "forward")
        assert forward["stage"] == "incremental"
        # Counters are ints (the C ABI's JSON writes 64-bit counters as strings).
        assert isinstance(forward["transactions_applied"], int)
        assert forward["transactions_applied"] >= 2 and forward["rows_applied"] >= 3
        assert password not in json.dumps(status)
        assert "***" in status["endpoint_a"]

        p.stop()
        p.stop()  # idempotent
        assert p.status()["state"] == "stopped"
        assert password not in json.dumps(p.status())
    assert p.closed
    p.close()  # closing again is safe


def test_close_stops_a_running_project(servers, project_config, table):
    a, b = servers
    p = duosync.Project(project_config(table))
    p.start()
    p.close()
    p.close()
    # Nothing follows A any more.
    a.sql(f"INSERT INTO {table} VALUES (10, 'after close')")
    time.sleep(1.5)
    assert b.sql(f"SELECT id FROM {table}") == []


def test_close_from_another_thread_ends_a_wait(project_config, table):
    p = duosync.Project(project_config(table))
    p.start()
    outcome = []

    def waiter():
        try:
            p.wait()
            outcome.append("returned")
        except duosync.Error as e:
            outcome.append(e)

    thread = threading.Thread(target=waiter)
    thread.start()
    time.sleep(0.3)
    p.close()
    thread.join(10)
    assert not thread.is_alive()
    # The stop made the links end well, or the next slice found the project closed.
    assert outcome == ["returned"] or isinstance(outcome[0], duosync.FailedPrecondition)


def test_listen_serves_metrics_of_the_embedded_project(servers, project_config, table):
    import urllib.error
    import urllib.request
    a, _ = servers
    config = project_config(table)
    with duosync.Project.from_dict(config) as p:
        p.start()
        port = p.listen("127.0.0.1:0")
        assert port > 0
        a.sql(f"INSERT INTO {table} VALUES (1, 'one')")

        def applied():
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as r:
                for line in r.read().decode().splitlines():
                    if line.startswith("duosync_link_transactions_applied_total{") and \
                            'link="forward"' in line:
                        return float(line.rsplit(" ", 1)[1])
            return 0

        assert poll(lambda: applied() >= 1)
        assert poll(lambda: p.verify()["equal"])
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as r:
            text = r.read().decode()
        assert f'duosync_verification_equal{{project="{config["name"]}"}} 1' in text
        assert f'duosync_verification_rows_checked{{project="{config["name"]}"}} 1' in text
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/status", timeout=10) as r:
            (status,) = json.loads(r.read())
        assert status["name"] == config["name"] and a["password"] not in json.dumps(status)
        with pytest.raises(duosync.InvalidArgument):
            p.listen("no port")
        assert p.listen(None) is None  # stops
        with pytest.raises(urllib.error.URLError):
            urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5)
