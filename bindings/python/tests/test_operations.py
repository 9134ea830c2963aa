"""Events, verification, switchover, conflicts and log levels against two real MariaDB servers."""

import json
import logging
import os
import subprocess
import sys
import threading
import time

import pytest

import duosync
from duosync.testing import poll


class Recorder:
    """An event callable that records (event, data) pairs; thread-safe."""

    def __init__(self):
        self.lock = threading.Lock()
        self.events = []
        self.threads = set()

    def __call__(self, event, data):
        with self.lock:
            self.events.append((event, data))
            self.threads.add(threading.get_ident())

    def of(self, kind):
        with self.lock:
            return [data for event, data in self.events if event == kind]

    def count(self):
        with self.lock:
            return len(self.events)


def test_events_arrive_on_a_library_thread(project_config, table):
    recorder = Recorder()
    with duosync.Project(project_config(table)) as p:
        p.on_event(recorder)  # before start: the first stage change is an event too
        started = time.monotonic()
        p.start()
        assert poll(lambda: recorder.of("progress"), 3), recorder.events
        stages = recorder.of("stage")
        assert {"link": "forward", "stage": "incremental"} in stages
        assert time.monotonic() - started < 3
        progress = recorder.of("progress")[0]
        assert progress["name"] == p.status()["name"] and progress["state"] == "running"
        assert progress["links"][0]["stage"] == "incremental"
        assert threading.get_ident() not in recorder.threads

        # A new callable replaces the first; None unsubscribes.
        second = Recorder()
        p.on_event(second)
        seen = recorder.count()
        assert poll(lambda: second.of("progress"), 3)
        assert recorder.count() <= seen + 1  # at most one call already under way
        p.on_event(None)
        time.sleep(0.1)  # a call under way may still finish
        quiet = second.count()
        time.sleep(1.3)
        assert second.count() == quiet

        p.on_event(recorder)
    # close() cleared the callback first: not even the links' "stopped" stages come.
    after_close = recorder.count()
    time.sleep(1.2)
    assert recorder.count() == after_close
    assert {"link": "forward", "stage": "stopped"} not in recorder.of("stage")


def test_an_exception_in_the_callback_is_logged_and_events_go_on(project_config, table, caplog):
    calls = []

    def broken(event, data):
        calls.append(event)
        raise ValueError("callback bug")

    with duosync.Project(project_config(table)) as p:
        p.on_event(broken)
        with caplog.at_level(logging.ERROR, logger="duosync"):
            p.start()
            assert poll(lambda: calls.count("progress") >= 2, 4), calls
    errors = [r for r in caplog.records if r.name == "duosync" and r.levelno == logging.ERROR]
    assert errors and "callback bug" in errors[0].exc_text


def test_close_inside_the_callback(project_config, table):
    closed = threading.Event()
    problems = []

    def close_on_progress(event, data):
        if event == "progress":
            try:
                p.close()
            except Exception as e:  # pragma: no cover - reported below
                problems.append(e)
            closed.set()

    p = duosync.Project(project_config(table))
    p.on_event(close_on_progress)
    p.start()
    assert closed.wait(5)
    assert not problems and p.closed
    # The project is freed on a helper thread once the callable returned.
    for thread in threading.enumerate():
        if thread.name == "duosync-close":
            thread.join(10)
            assert not thread.is_alive()
    with pytest.raises(duosync.FailedPrecondition):
        p.status()


def test_verify_reports_and_repairs_a_missing_row(servers, project_config, table):
    a, b = servers
    for s in servers:
        s.sql(f"INSERT INTO {table} VALUES (1, 'one'), (2, 'two'), (3, 'three')")
    with duosync.Project(project_config(table)) as p:
        report = p.verify()
        assert report["equal"] is True, report
        assert report["tables"][0]["table"] == table
        assert report["tables"][0]["rows_checked"] == 3

        b.sql(f"DELETE FROM {table} WHERE id = 2")
        report = p.verify()  # a difference is reported, not raised
        assert report["equal"] is False
        assert report["tables"][0]["missing"] == ["id=2"], report
        assert report["repaired"] is False and report["repair"]
        assert b.sql(f"SELECT count(*) FROM {table}") == [("2",)]

        report = p.verify(repair=True)
        assert report["equal"] is False and report["repaired"] is True  # as found, before repair
        assert b.sql(f"SELECT v FROM {table} WHERE id = 2") == [("two",)]
        assert p.verify()["equal"] is True


@pytest.fixture
def writable_a(servers):
    """Makes server A writable again after a test that may have set it read-only."""
    yield
    servers[0].sql("SET GLOBAL read_only=OFF")


def test_switchover_swaps_the_roles(servers, project_config, table, writable_a):
    a, b = servers
    recorder = Recorder()
    with duosync.Project(project_config(table)) as p:
        p.on_event(recorder)
        p.start()
        a.sql(f"INSERT INTO {table} VALUES (1, 'from a')")
        p.switchover(read_only=True, timeout=10)
        # Everything A wrote was on B before the roles swapped.
        assert b.sql(f"SELECT v FROM {table}") == [("from a",)]
        assert a.sql("SELECT @@global.read_only") == [("1",)]

        b.sql(f"INSERT INTO {table} VALUES (2, 'from b')")
        assert poll(lambda: a.sql(f"SELECT v FROM {table} WHERE id = 2")) == [("from b",)]
        links = {link["name"]: link["stage"] for link in p.status()["links"]}
        assert links == {"forward": "stopped", "reverse": "incremental"}
        assert {"link": "reverse", "stage": "incremental"} in recorder.of("stage")
        assert set(p.conflicts()) == {"forward", "reverse"}

        # A second switchover returns the roles.
        a.sql("SET GLOBAL read_only=OFF")
        p.switchover(timeout=10)
        a.sql(f"INSERT INTO {table} VALUES (3, 'from a again')")
        assert poll(lambda: b.sql(f"SELECT v FROM {table} WHERE id = 3")) == [("from a again",)]
        links = {link["name"]: link["stage"] for link in p.status()["links"]}
        assert links == {"forward": "incremental", "reverse": "stopped"}


def test_conflicts_of_a_one_way_project(project_config, table):
    with duosync.Project(project_config(table)) as p:
        p.start()
        assert p.conflicts() == {"forward": {"total": 0, "conflicts": []}}


def test_pause_and_resume_a_link(project_config, table):
    with duosync.Project(project_config(table)) as p:
        p.start()
        p.pause("forward")
        assert p.status()["links"][0]["stage"] == "paused"
        with pytest.raises(duosync.NotFound):
            p.pause("sideways")
        p.resume()
        assert p.status()["links"][0]["stage"] == "incremental"


def test_active_active_conflict_is_listed_and_raises_an_event(servers, project_config, table):
    a, b = servers
    recorder = Recorder()
    config = project_config(table, scenario="ACTIVE_ACTIVE")
    with duosync.Project(config) as p:
        p.on_event(recorder)
        p.start()
        a.sql(f"INSERT INTO {table} VALUES (1, 'a')")
        assert poll(lambda: b.sql(f"SELECT v FROM {table}"))
        # Change B's row behind the links' back, then update it on A: the forward link finds
        # another row on B than the one A changed.
        b.sql(f"SET sql_log_bin=0; UPDATE {table} SET v='b only' WHERE id = 1")
        a.sql(f"UPDATE {table} SET v='a again' WHERE id = 1")
        assert poll(lambda: p.conflicts()["forward"]["total"] == 1)
        conflicts = p.conflicts()
        assert conflicts["reverse"] == {"total": 0, "conflicts": []}
        record = conflicts["forward"]["conflicts"][0]
        assert record["table"] == table and record["key"] == "id=1"
        assert record["operation"] == "UPDATE"
        assert poll(lambda: recorder.of("conflict"), 3) == [record]
    # The destination keeps the log: a later process (not even started) reads the same record.
    with duosync.Project(config) as later:
        assert later.conflicts()["forward"] == {"total": 1, "conflicts": [record]}


def test_log_level_controls_the_library_log(servers, project_config, table):
    """In a child process: the library logs to the process's stderr."""
    script = (
        "import json, sys, duosync\n"
        "duosync.set_log_level(sys.argv[1])\n"
        "with duosync.Project(json.loads(sys.argv[2])) as p:\n"
        "    p.start()\n")
    package = os.path.dirname(os.path.dirname(duosync.__file__))
    env = dict(os.environ, PYTHONPATH=package)
    config = project_config(table)
    stderr = {}
    for level in ("info", "none"):
        config["name"] += "-" + level  # a new checkpoint: "starting at" rather than "resuming"
        done = subprocess.run([sys.executable, "-c", script, level, json.dumps(config)],
                              capture_output=True, text=True, env=env, timeout=60, check=False)
        assert done.returncode == 0, done.stderr
        stderr[level] = done.stderr
    assert "starting at" in stderr["info"]
    assert servers[0]["password"] not in stderr["info"]
    assert stderr["none"] == ""


def test_interpreter_exit_with_a_subscribed_open_project(project_config, table):
    """A project left open with a callback: the exit clears the callback, so that no library
    thread calls into a finalizing interpreter."""
    script = (
        "import json, sys, time, duosync\n"
        "p = duosync.Project(json.loads(sys.argv[1]))\n"
        "p.on_event(lambda event, data: (print(event, flush=True), time.sleep(0.3)))\n"
        "p.start()\n"
        "time.sleep(1.5)\n")
    package = os.path.dirname(os.path.dirname(duosync.__file__))
    done = subprocess.run([sys.executable, "-c", script, json.dumps(project_config(table))],
                          capture_output=True, text=True, timeout=60, check=False,
                          env=dict(os.environ, PYTHONPATH=package))
    assert done.returncode == 0, done.stderr
    assert "progress" in done.stdout and "Fatal" not in done.stderr


def test_replay_from_the_record_store(servers, project_config, table, tmp_path):
    a, b = servers
    config = project_config(table)
    config["data_dir"] = str(tmp_path)
    config["forward"]["options"] = {"retention_hours": 1}
    with duosync.Project(config) as p:
        p.start()
        a.sql(f"INSERT INTO {table} VALUES (1, 'one'), (2, 'two')")
        assert poll(lambda: b.sql(f"SELECT count(*) FROM {table}") == [("2",)])
        position = a.sql("SELECT @@gtid_binlog_pos")[0][0]
        a.sql(f"UPDATE {table} SET v = 'uno' WHERE id = 1")
        assert poll(lambda: b.sql(f"SELECT v FROM {table} WHERE id = 1") == [("uno",)])
        store = p.status()["links"][0]["store"]
        assert int(store["bytes"]) > 0 and store["end_position"]

        b.sql(f"DELETE FROM {table}")  # a mistake on the destination
        assert p.replay("forward", position) == position
        # The row changed after the position comes back; the other was not changed since.
        assert poll(lambda: b.sql(f"SELECT id, v FROM {table}") == [("1", "uno")])

        with pytest.raises(duosync.OutOfRange):
            p.replay("forward", 1)  # 1970: long before anything stored
        with pytest.raises(duosync.InvalidArgument):
            p.replay("forward", "yesterday")
        with pytest.raises(duosync.NotFound):
            p.replay("sideways", position)
