"""The duosync command-line tool: commands, output and exit codes
(0 ok, 1 runtime failure, 2 usage error, 3 invalid config, 4 precheck failed, 5 verification found
differences)."""

import json
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
    assert done.stdout.strip() == "duosync 0.3.0"


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
    config = dict(project_config(table), scenario="ACTIVE_ACTIVE",
                  reverse={"migration_types": ["INCREMENTAL"]})
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
