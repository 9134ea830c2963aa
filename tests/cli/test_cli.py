"""The duosync command-line tool: commands, output and exit codes
(0 ok, 1 runtime failure, 2 usage error, 3 invalid config, 4 precheck failed, 5 verification found
differences)."""

import json
import os
import pathlib
import subprocess
import time

import pytest

import duosync
from duosync import testing

OK, FAILURE, USAGE, INVALID_CONFIG, PRECHECK_FAILED, DIFFERENT = 0, 1, 2, 3, 4, 5

# Valid without servers: validate never connects.
VALID = testing.OFFLINE_CONFIG
INVALID = dict(VALID, endpoints={"a": VALID["endpoints"]["a"]})  # endpoints.b missing


@pytest.mark.parametrize("args", [
    [],
    ["frobnicate"],
    ["validate", "x.json", "--bogus"],
    ["run", "x.json", "--seconds"],
    ["run", "x.json", "--seconds", "-1"],
    ["validate"],
    ["validate", "a.json", "b.json"],
    ["validate", "/nonexistent/project.json"],
    ["verify"],
    ["verify", "a.json", "b.json"],
    ["switchover"],
    ["replay", "x.json"],
    ["replay", "x.json", "--from"],
    ["conflicts"],
    ["binlog"],
])
def test_usage_errors_exit_2(cli, args):
    done = cli(*args)
    assert done.returncode == USAGE, done
    assert "usage: duosync" in done.stderr


def test_help_and_version(cli):
    done = cli("--help")
    assert done.returncode == OK and "usage: duosync" in done.stdout
    done = cli("version")
    assert done.returncode == OK
    assert done.stdout.strip() == "duosync 0.4.0"


def test_validate_good_file(cli, write_config):
    done = cli("validate", write_config(VALID))
    assert done.returncode == OK, done
    assert "config is valid" in done.stdout


def test_validate_bad_file_names_the_field(cli, write_config):
    done = cli("validate", write_config(INVALID))
    assert done.returncode == INVALID_CONFIG, done
    assert "endpoints.b" in done.stdout
    assert "fix:" in done.stdout


def test_validate_json_output(cli, write_config):
    done = cli("validate", write_config(INVALID), "--json")
    assert done.returncode == INVALID_CONFIG
    report = json.loads(done.stdout)
    assert report["ok"] is False
    assert any(e["field"] == "endpoints.b" and e["fix"] for e in report["errors"])

    done = cli("validate", "--json", write_config(VALID))
    assert done.returncode == OK
    assert json.loads(done.stdout)["ok"] is True


def test_validate_garbage_is_an_invalid_config(cli, write_config):
    assert cli("validate", write_config("{not json")).returncode == INVALID_CONFIG


def test_precheck_passes(cli, write_config, project_config, table):
    done = cli("precheck", write_config(project_config(table)))
    assert done.returncode == OK, done.stdout + done.stderr
    assert "precheck passed" in done.stdout


def test_precheck_fails_for_a_missing_table(cli, write_config, project_config, table):
    missing = table.split(".")[0] + ".missing"
    path = write_config(project_config(missing))
    done = cli("precheck", path)
    assert done.returncode == PRECHECK_FAILED, done
    assert "FAILED" in done.stdout and missing in done.stdout

    done = cli("precheck", path, "--json")
    assert done.returncode == PRECHECK_FAILED
    report = json.loads(done.stdout)
    assert report["ok"] is False
    assert any(c["status"] == "FAILED" and missing in c["objects"] for c in report["checks"])


def test_precheck_of_an_invalid_config_exits_3(cli, write_config):
    done = cli("precheck", write_config(INVALID))
    assert done.returncode == INVALID_CONFIG
    assert "endpoints.b" in done.stdout


def test_run_replicates_and_status_shows_the_project(servers, cli, cli_env, write_config,
                                                     project_config, table):
    a, b = servers
    config = project_config(table)
    name = config["name"]
    # --json prints the status each second: the first line means the link is started.
    proc = subprocess.Popen(
        [testing.cli_path(), "run", write_config(config), "--seconds", "3", "--json"],
        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env=cli_env)
    try:
        first = proc.stdout.readline()
        assert json.loads(first)["state"] == "running"
        a.sql(f"INSERT INTO {table} VALUES (1, 'from the cli run')")
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == OK, err

    assert b.sql(f"SELECT id, v FROM {table}") == [("1", "from the cli run")]
    final = json.loads(out.strip().splitlines()[-1])
    assert final["state"] == "stopped"
    assert int(final["links"][0]["transactions_applied"]) >= 1
    assert a["password"] not in first + out + err

    done = cli("status", name)
    assert done.returncode == OK, done
    assert done.stdout.startswith(name)
    done = cli("status", name, "--json")
    assert done.returncode == OK
    status = json.loads(done.stdout)
    assert status["name"] == name and status["state"] == "stopped"
    assert a["password"] not in done.stdout
    assert name in cli("status").stdout


def test_run_without_json_prints_a_progress_line(cli, write_config, project_config, table):
    config = project_config(table)
    done = cli("run", write_config(config), "--seconds", "1")
    assert done.returncode == OK, done
    last = done.stdout.strip().splitlines()[-1]
    assert last.startswith(f"{config['name']} stopped") and "forward" in last


def test_status_of_an_unknown_project_exits_1(cli):
    done = cli("status", "no-such-project")
    assert done.returncode == FAILURE
    assert "no project status" in done.stderr


def test_run_with_an_unreachable_endpoint_fails_precheck(cli, write_config, project_config,
                                                          table):
    config = project_config(table)
    config["endpoints"]["b"]["port"] = 1
    started = time.monotonic()
    done = cli("run", write_config(config), "--seconds", "3")
    assert done.returncode == PRECHECK_FAILED, done
    assert "precheck FAILED" in done.stdout
    assert time.monotonic() - started < 60


def test_run_with_an_invalid_config_exits_3(cli, write_config):
    done = cli("run", write_config(INVALID), "--seconds", "1")
    assert done.returncode == INVALID_CONFIG
    assert "endpoints.b" in done.stdout


def test_verify_exit_codes_report_and_repair(servers, cli, write_config, project_config, table):
    a, b = servers
    for s in servers:
        s.sql(f"INSERT INTO {table} VALUES (1, 'one'), (2, 'two'), (3, 'three')")
    path = write_config(project_config(table))
    done = cli("verify", path)
    assert done.returncode == OK, done
    assert table in done.stdout and "equal" in done.stdout

    b.sql(f"DELETE FROM {table} WHERE id = 2")
    done = cli("verify", path, "--json")
    assert done.returncode == DIFFERENT, done
    report = json.loads(done.stdout)
    assert report["equal"] is False and report["tables"][0]["missing"] == ["id=2"]
    assert b.sql(f"SELECT count(*) FROM {table}") == [("2",)]  # no --repair: B untouched

    done = cli("verify", path, "--repair")
    assert done.returncode == DIFFERENT, done  # what it found, before the repair
    assert "1 missing (id=2)" in done.stdout and "DIFFERENT (repaired)" in done.stdout
    assert b.sql(f"SELECT v FROM {table} WHERE id = 2") == [("two",)]
    assert cli("verify", path).returncode == OK


def test_verify_of_an_invalid_config_exits_3(cli, write_config):
    done = cli("verify", write_config(INVALID))
    assert done.returncode == INVALID_CONFIG
    assert "endpoints.b" in done.stdout


def test_replay_rewinds_a_stopped_project(servers, cli, write_config, project_config, table,
                                          tmp_path):
    a, b = servers
    config = project_config(table)
    path = write_config(config)
    done = cli("replay", path, "--from", "0-1-1")
    assert done.returncode == FAILURE and "retention_hours" in done.stderr, done

    config["data_dir"] = str(tmp_path)
    config["forward"]["options"] = {"retention_hours": 1}
    path = write_config(config)
    done = cli("run", path, "--seconds", "3")  # records the start, fills the store
    assert done.returncode == OK, done
    done = cli("replay", path, "--from", "yesterday")
    assert done.returncode == USAGE and "neither a time" in done.stderr, done
    done = cli("replay", path, "--from", "@1", "--link", "forward")
    assert done.returncode == FAILURE and "holds" in done.stderr, done
    done = cli("replay", path, "--from", "@1", "--link", "sideways")
    assert done.returncode == USAGE, done


def test_switchover_runs_the_reverse_link(servers, cli_env, write_config, project_config, table):
    a, b = servers
    proc = subprocess.Popen(
        [testing.cli_path(), "switchover", write_config(project_config(table)), "--seconds", "3"],
        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env=cli_env)
    try:
        lines = []
        while not any(line.startswith("switched over") for line in lines):
            line = proc.stdout.readline()
            assert line, (lines, proc.stderr.read())
            lines.append(line)
        b.sql(f"INSERT INTO {table} VALUES (2, 'from b')")
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == OK, err
    assert "catching the forward link up" in lines[0]
    # The reverse link brought B's write to A.
    assert a.sql(f"SELECT id, v FROM {table}") == [("2", "from b")]
    assert a["password"] not in "".join(lines) + out + err


def test_conflicts_lists_what_the_destination_kept(servers, cli, write_config, project_config, table):
    a, b = servers
    config = _active_active(project_config(table))
    path = write_config(config)
    assert cli("conflicts", path, "--json").returncode == OK
    with duosync.Project(config) as p:
        p.start()
        a.sql(f"INSERT INTO {table} VALUES (1, 'a')")
        assert testing.poll(lambda: b.sql(f"SELECT v FROM {table}"))
        # B's row changes behind the links' back; A's update then meets another row on B.
        b.sql(f"SET sql_log_bin=0; UPDATE {table} SET v='b only' WHERE id = 1")
        a.sql(f"UPDATE {table} SET v='a again' WHERE id = 1")
        assert testing.poll(lambda: p.conflicts()["forward"]["total"] == 1)
    done = cli("conflicts", path, "--json")
    assert done.returncode == OK, done
    log = json.loads(done.stdout)
    assert log["reverse"] == {"total": 0, "conflicts": []}
    (record,) = log["forward"]["conflicts"]
    assert record["key"] == "id=1" and record["policy"] == "REGION_PRIORITY"
    assert record["outcome"] == "applied the incoming change"
    done = cli("conflicts", path)
    assert done.returncode == OK, done
    assert "forward: 1 conflict(s)" in done.stdout and f"UPDATE {table} (id=1)" in done.stdout
    assert "v='b only'" in done.stdout and a["password"] not in done.stdout


FIXTURES = pathlib.Path(__file__).resolve().parents[1] / "data" / "binlog"


def test_binlog_prints_mysql_8_files_as_json_lines_without_credentials(cli):
    files = sorted(p for p in FIXTURES.iterdir() if p.name.endswith(".000001"))
    done = cli("binlog", *files, "--json")
    assert done.returncode == OK, done.stderr
    lines = [json.loads(line) for line in done.stdout.splitlines()]
    summaries = [line["summary"] for line in lines if "summary" in line]
    assert [s["file"] for s in summaries] == [str(f) for f in files]
    assert all(s["incomplete_tail_bytes"] == 0 and not s["open_transaction"] for s in summaries)
    assert all(not any(e.startswith("unknown") for e in s["events"]) for s in summaries)
    txns = [line for line in lines if "summary" not in line]
    assert sum(s["transactions"] for s in summaries) == len(txns)
    by_file = lambda name: [t for t in txns if t["file"].endswith(name)]  # noqa: E731
    (compressed,) = by_file("transaction_compression.000001")
    assert compressed["changes"] == [{"table": "test.tb1", "op": "INSERT", "after": {"@1": 1}}]
    enum_set = by_file("mysql-enum-string-set.000001")
    assert enum_set[2]["gtid"] == "93e95066-a2f4-11ec-9b69-9657f0ae95e2:3"
    after = enum_set[3]["changes"][0]["after"]
    assert after["f3"] == "variant2" and after["f4"] == "two,four" and after["f2"] == "field_2"
    json_rows = [c["after"] for t in by_file("json.binlog.000001") for c in t["changes"]
                 if c["op"] == "INSERT"]
    assert json.loads(json_rows[0]["@2"]) == {"age": 24, "data": "xxxxxxxxxx", "name": "Joe"}
    # Each file starts with ALTER USER ... IDENTIFIED WITH ... AS '<hash>': the hash never shows.
    assert "$A$005$" not in done.stdout
    assert any("IDENTIFIED WITH '<redacted>'" in t.get("ddl", "") for t in txns)
    text = cli("binlog", FIXTURES / "time_issue.000001")
    assert text.returncode == OK and "@1='-507:48:27'" in text.stdout


def test_binlog_reads_a_mariadb_servers_own_binlog(servers, cli, table):
    a, _ = servers
    db = table.split(".")[0]
    a.sql(f"CREATE TABLE {db}.j (id INT PRIMARY KEY, doc JSON, price DECIMAL(10,2), "
          "at DATETIME(3), name VARCHAR(20) CHARACTER SET utf8mb4)")
    a.sql("FLUSH BINARY LOGS")  # a file of its own, starting here
    ((basename,),) = a.sql("SELECT @@log_bin_basename")
    ((current,),) = a.sql("SELECT @@gtid_binlog_pos")
    files = [row[0] for row in a.sql("SHOW BINARY LOGS")]
    path = pathlib.Path(basename).parent / files[-1]
    a.sql(f"INSERT INTO {db}.j VALUES (1, '{{\"k\": [1, 2]}}', -12.50, '2026-12-01 10:00:00.125', "
          f"'Grüße 雪'), (2, NULL, 0, NULL, '')")
    a.sql(f"UPDATE {db}.j SET price = price + 1 WHERE id = 1; DELETE FROM {db}.j WHERE id = 2")
    # Credentials in the binlog never show: a statement's and an account table's row images.
    user = f"u{db[-6:]}"
    a.sql(f"CREATE USER '{user}'@'%' IDENTIFIED BY 'visible-pw-1'; DROP USER '{user}'@'%'")
    a.sql(f"INSERT INTO mysql.global_priv VALUES ('h', '{user}', "
          "'{\"authentication_string\": \"*HASHVISIBLE\"}'); "
          f"DELETE FROM mysql.global_priv WHERE User = '{user}'")
    done = cli("binlog", path, "--json")
    assert done.returncode == OK, done.stderr
    lines = [json.loads(line) for line in done.stdout.splitlines()]
    summary = lines[-1]["summary"]
    assert "MariaDB" in summary["server_version"] and summary["gtid_list"] == current
    changes = [c for t in lines[:-1] for c in t["changes"] if c["table"] == f"{db}.j"]
    assert [c["op"] for c in changes] == ["INSERT", "INSERT", "UPDATE", "DELETE"]
    assert changes[0]["after"] == {"id": 1, "doc": '{"k": [1, 2]}', "price": "-12.50",
                                   "at": "2026-12-01 10:00:00.125", "name": "Grüße 雪"}
    assert changes[2]["before"]["price"] == "-12.50" and changes[2]["after"]["price"] == "-11.50"
    assert changes[3]["before"] == {"id": 2, "doc": None, "price": "0.00", "at": None, "name": ""}
    assert "visible-pw-1" not in done.stdout and "HASHVISIBLE" not in done.stdout
    assert any(c["table"] == "mysql.global_priv" for t in lines[:-1] for c in t["changes"])
    gtids = [t["gtid"] for t in lines[:-1]]
    assert len(set(gtids)) == len(gtids) and all(g.count("-") == 2 for g in gtids)


def test_binlog_refuses_what_is_not_a_readable_binlog(cli, tmp_path):
    missing = cli("binlog", tmp_path / "nope.000001")
    assert missing.returncode == FAILURE and "cannot open binlog file" in missing.stderr
    text = tmp_path / "notes.txt"
    text.write_text("hello")
    done = cli("binlog", text)
    assert done.returncode == FAILURE and "not a binlog file" in done.stderr
    damaged = tmp_path / "damaged.000001"
    data = bytearray((FIXTURES / "mysql_type_bit.000001").read_bytes())
    data[800] ^= 0x40
    damaged.write_bytes(bytes(data))
    done = cli("binlog", damaged)
    assert done.returncode == FAILURE and "checksum mismatch" in done.stderr, done.stderr


def _active_active(config):
    """`config` (a one-way project) made active-active."""
    return dict(config, scenario="ACTIVE_ACTIVE", reverse={"migration_types": ["INCREMENTAL"]})


def _run_listening(config_path, env):
    """`duosync run CONFIG --listen 127.0.0.1:0 --json`; its first stderr line names the address."""
    return subprocess.Popen(
        [testing.cli_path(), "run", config_path, "--listen", "127.0.0.1:0", "--json"],
        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)


def _listen_address(line):
    """"http://HOST:PORT" from the line `duosync run --listen` prints on stderr."""
    import re
    found = re.search(r"http://[0-9.]+:[0-9]+", line)
    assert found, line
    return found.group(0)


def _scrape(url):
    import urllib.request
    with urllib.request.urlopen(url, timeout=10) as r:
        return r.read().decode(), r.headers.get("Content-Type", "")


def _sample(text, name, **labels):
    """The value of metric `name` whose labels include `labels`, or None."""
    for line in text.splitlines():
        if line.startswith("#") or not line.startswith(name + "{"):
            continue
        head, value = line.rsplit(" ", 1)
        if all(f'{k}="{v}"' in head for k, v in labels.items()):
            return float(value)
    return None


def test_run_listen_serves_prometheus_metrics_that_move_with_the_load(
        servers, cli_env, write_config, project_config, table, tmp_path):
    a, b = servers
    config = _active_active(project_config(table))
    name = config["name"]
    proc = _run_listening(write_config(config), cli_env)
    try:
        line = proc.stderr.readline()
        assert "serving http://127.0.0.1:" in line, line
        base = _listen_address(line)
        a.sql(f"INSERT INTO {table} VALUES (1, 'one'), (2, 'two')")
        applied = lambda text: _sample(text, "duosync_link_transactions_applied_total",  # noqa: E731
                                       project=name, link="forward")
        assert testing.poll(lambda: (applied(_scrape(base + "/metrics")[0]) or 0) >= 1)
        text, content_type = _scrape(base + "/metrics")
        assert content_type.startswith("text/plain; version=0.0.4")
        before = applied(text)
        # The exposition is valid by Prometheus' own checker.
        check = subprocess.run(["promtool", "check", "metrics"], input=text, capture_output=True,
                               text=True, timeout=60)
        assert check.returncode == 0, check.stdout + check.stderr
        for link in ("forward", "reverse"):
            assert _sample(text, "duosync_link_stage", project=name, link=link,
                           stage="incremental") == 1
            assert _sample(text, "duosync_link_lag_seconds", project=name, link=link) is not None
        assert _sample(text, "duosync_project_state", project=name, state="running") == 1
        # More load: the counters move; B's own writes come back to A and are not echoed.
        for i in range(3, 8):
            a.sql(f"INSERT INTO {table} VALUES ({i}, 'more')")
        b.sql(f"INSERT INTO {table} VALUES (100, 'from b')")
        assert testing.poll(lambda: applied(_scrape(base + "/metrics")[0]) >= before + 5)
        assert testing.poll(lambda: (_sample(_scrape(base + "/metrics")[0],
                                             "duosync_link_rows_applied_total",
                                             project=name, link="reverse") or 0) >= 1)
        assert testing.poll(lambda: (_sample(_scrape(base + "/metrics")[0],
                                             "duosync_link_echoes_dropped_total",
                                             project=name, link="reverse") or 0) >= 1)
        status = json.loads(_scrape(base + "/status")[0])
        assert [p["name"] for p in status] == [name]
        assert {l["name"] for l in status[0]["links"]} == {"forward", "reverse"}
        everything = _scrape(base + "/metrics")[0] + json.dumps(status)
        assert a["password"] not in everything and b["password"] not in everything
    finally:
        proc.terminate()
        proc.communicate(timeout=60)
    bad = subprocess.run([testing.cli_path(), "run", write_config(config), "--listen", "nowhere"],
                         capture_output=True, text=True, timeout=120, env=cli_env,
                         stdin=subprocess.DEVNULL)
    assert bad.returncode == USAGE and "HOST:PORT" in bad.stderr


def _chromium(*args, timeout=120):
    import shutil
    browser = shutil.which("chromium")
    assert browser, "chromium (Debian's package) is needed: run scripts/bootstrap"
    return subprocess.run([browser, "--headless=new", "--no-sandbox", "--disable-gpu",
                           "--disable-dev-shm-usage", "--hide-scrollbars", *args],
                          capture_output=True, text=True, timeout=timeout, check=False)


def test_console_page_shows_both_links_lag_and_conflicts_in_a_real_browser(
        servers, cli_env, write_config, project_config, table, tmp_path):
    a, b = servers
    config = _active_active(project_config(table))
    name = config["name"]
    proc = _run_listening(write_config(config), cli_env)
    try:
        base = _listen_address(proc.stderr.readline())
        a.sql(f"INSERT INTO {table} VALUES (1, 'a')")
        assert testing.poll(lambda: b.sql(f"SELECT v FROM {table}"))
        # B's row changes behind the links' back; A's update then meets another row on B.
        b.sql(f"SET sql_log_bin=0; UPDATE {table} SET v='b only' WHERE id = 1")
        a.sql(f"UPDATE {table} SET v='a again' WHERE id = 1")
        assert testing.poll(lambda: json.loads(_scrape(base + "/conflicts")[0])[name]["forward"]["total"] == 1)
        assert _sample(_scrape(base + "/metrics")[0], "duosync_link_conflict_outcomes_total", project=name,
                       link="forward", policy="REGION_PRIORITY",
                       outcome="applied the incoming change") == 1
        # The page renders from /status and /conflicts in the browser (its script, not the server).
        done = _chromium("--virtual-time-budget=8000", "--dump-dom", base + "/")
        assert done.returncode == 0, done.stderr[-2000:]
        dom = done.stdout
        assert f'data-project="{name}"' in dom, dom[-3000:]
        assert 'data-link="forward"' in dom and 'data-link="reverse"' in dom
        assert dom.count('class="stage incremental"') == 2
        assert dom.count('class="lag"') == 2 and " s</td>" in dom
        assert 'class="conflict"' in dom and "b only" in dom and "REGION_PRIORITY" in dom
        assert a["password"] not in dom
        # A screenshot, as README shows it.
        shot = tmp_path / "console.png"
        done = _chromium("--virtual-time-budget=8000", "--window-size=1400,700",
                         f"--screenshot={shot}", base + "/")
        assert done.returncode == 0 and shot.stat().st_size > 10000, done.stderr[-2000:]
        keep = os.environ.get("DUOSYNC_CONSOLE_SCREENSHOT")
        if keep:
            import shutil
            shutil.copy(shot, keep)
    finally:
        proc.terminate()
        proc.communicate(timeout=60)


def test_record_stores_default_to_the_users_state_directory(cli_env, write_config, project_config,
                                                            table, tmp_path):
    config = project_config(table)
    config["forward"]["options"] = {"retention_hours": 1}
    path = write_config(config)
    env = dict(cli_env, XDG_STATE_HOME=str(tmp_path / "state"))
    run = lambda *args: subprocess.run([testing.cli_path(), *map(str, args)], capture_output=True,  # noqa: E731
                                       text=True, timeout=120, env=env, stdin=subprocess.DEVNULL)
    done = run("validate", path)
    assert done.returncode == OK, done.stdout + done.stderr
    done = run("run", path, "--seconds", "2")
    assert done.returncode == OK, done.stdout + done.stderr
    store = tmp_path / "state" / "duosync" / config["name"]
    assert store.is_dir() and any(store.rglob("*")), done.stderr
    assert f"record stores go to {tmp_path / 'state' / 'duosync'}" in done.stderr


def test_demo_prints_its_console_address_and_serves_it_while_it_runs(cli_env):
    proc = subprocess.Popen([testing.cli_path(), "demo", "--seconds", "4"], stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=cli_env)
    try:
        base = None
        for line in proc.stdout:
            if line.startswith("console: "):
                base = _listen_address(line)
                break
        assert base, proc.stderr.read()
        (status,) = json.loads(_scrape(base + "/status")[0])
        assert {link["name"] for link in status["links"]} == {"forward", "reverse"}
        assert "<title>duosync console</title>" in _scrape(base + "/")[0]
        out, err = proc.communicate(timeout=180)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == OK, out + err
    assert "A and B are identical" in out
