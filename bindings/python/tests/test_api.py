"""The binding without servers: loading, errors, validation, handle life cycle."""

import json
import os
import pathlib
import subprocess
import sys

import pytest

import duosync
from duosync import errors, testing

PACKAGE_ROOT = pathlib.Path(__file__).resolve().parents[1]

VALID = testing.OFFLINE_CONFIG


def test_version():
    assert duosync.version() == "0.4.0"
    assert duosync.version_number() // 1000000 == 0


def test_invalid_config_raises_invalid_argument_naming_the_field():
    with pytest.raises(duosync.InvalidArgument) as info:
        duosync.Project.from_dict(dict(VALID, colour="blue"))
    assert info.value.code == duosync.Code.INVALID_ARGUMENT == 3
    assert "colour" in info.value.message
    assert isinstance(info.value, duosync.Error)

    broken = dict(VALID, endpoints={"a": VALID["endpoints"]["a"]})
    with pytest.raises(duosync.InvalidArgument, match=r"endpoints\.b"):
        duosync.Project(broken)


def test_invalid_json_raises_invalid_argument():
    with pytest.raises(duosync.InvalidArgument):
        duosync.Project.from_json("{not json")


def test_validate_reports_field_message_and_fix():
    report = duosync.validate({"name": "x"})
    assert report["ok"] is False
    fields = {e["field"] for e in report["errors"]}
    assert {"endpoints.a", "endpoints.b", "forward"} <= fields
    for e in report["errors"]:
        assert e["message"] and e["fix"]


def test_validate_accepts_a_valid_config_as_dict_or_json():
    assert duosync.validate(VALID)["ok"] is True
    assert duosync.validate(json.dumps(VALID))["ok"] is True


def test_config_type_is_checked():
    with pytest.raises(TypeError):
        duosync.Project.from_json(VALID)
    with pytest.raises(TypeError):
        duosync.Project.from_dict(json.dumps(VALID))
    with pytest.raises(TypeError):
        duosync.validate(42)


def test_close_twice_and_use_after_close():
    p = duosync.Project.from_dict(VALID)
    assert not p.closed
    p.close()
    p.close()
    assert p.closed
    with pytest.raises(duosync.FailedPrecondition, match="closed"):
        p.status()


def test_context_manager_closes():
    with duosync.Project.from_json(json.dumps(VALID)) as p:
        status = p.status()
        assert status["name"] == "offline"
        assert status["state"] == "created"
        assert "offline-secret" not in json.dumps(status)
    assert p.closed


def test_stop_before_start_is_fine():
    with duosync.Project(VALID) as p:
        p.stop()
        p.stop()


def test_error_classes_carry_their_code():
    for code in duosync.Code:
        if code == duosync.Code.OK:
            continue
        e = errors.error_for(code, "boom")
        assert e.code == code
        assert type(e).__name__.lower() == code.name.replace("_", "").lower()
    for cls, code in [(duosync.NotFound, 5), (duosync.Unavailable, 14),
                      (duosync.DeadlineExceeded, 4), (duosync.FailedPrecondition, 9)]:
        assert cls("x").code == code
    future = errors.error_for(99, "from a newer library")
    assert type(future) is duosync.Error and future.code == 99 and "code 99" in str(future)


def _import_in_subprocess(code, **env):
    """Runs `code` in a fresh interpreter, where the library is not loaded yet."""
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False,
        env=dict(os.environ, PYTHONPATH=str(PACKAGE_ROOT), **env))


def test_missing_library_is_a_clear_error():
    done = _import_in_subprocess(
        "import duosync\n"
        "try:\n    duosync.version()\n"
        "except duosync.LibraryError as e:\n    print('LibraryError', e)\n",
        DUOSYNC_LIBRARY="/nonexistent/libduosync.so")
    assert done.returncode == 0, done.stderr
    assert "LibraryError" in done.stdout and "DUOSYNC_LIBRARY" in done.stdout


def test_major_version_mismatch_is_a_clear_error():
    done = _import_in_subprocess(
        "import duosync, duosync._native as n\n"
        "n.EXPECTED_VERSION_NUMBER = 1000000\n"
        "try:\n    duosync.version()\n"
        "except duosync.LibraryError as e:\n    print('LibraryError', e)\n")
    assert done.returncode == 0, done.stderr
    assert "LibraryError" in done.stdout and "major version 1" in done.stdout


def test_set_log_level_takes_levels_numbers_and_names():
    for level in (duosync.LogLevel.ERROR, 3, "info", "NONE", "Warning"):
        duosync.set_log_level(level)
    with pytest.raises(ValueError, match="LogLevel"):
        duosync.set_log_level(20)  # logging.INFO is not a duosync level
    with pytest.raises(ValueError, match="verbose"):
        duosync.set_log_level("verbose")
    with pytest.raises(TypeError):
        duosync.set_log_level(1.0)
    with pytest.raises(TypeError):
        duosync.set_log_level(True)
    assert duosync.LogLevel.WARNING == 1 and duosync.LogLevel.NONE == 3


def test_on_event_checks_its_argument_and_the_project():
    with duosync.Project(VALID) as p:
        with pytest.raises(TypeError, match="callable"):
            p.on_event("print")
        p.on_event(None)  # clearing without a callback is fine
        p.on_event(lambda event, data: None)
        p.on_event(lambda event, data: None)  # replaces
        p.on_event(None)
    with pytest.raises(duosync.FailedPrecondition, match="closed"):
        p.on_event(print)


def test_switchover_needs_a_running_one_way_project():
    with duosync.Project(VALID) as p:
        with pytest.raises(duosync.FailedPrecondition, match="running"):
            p.switchover(timeout=1)
    two_way = json.loads(json.dumps(VALID))
    two_way["endpoints"]["b"]["region"] = "region-2"
    two_way.update(scenario="ACTIVE_ACTIVE", reverse={"migration_types": ["INCREMENTAL"]})
    with duosync.Project(two_way) as p:
        with pytest.raises(duosync.FailedPrecondition, match="ACTIVE_ACTIVE"):
            p.switchover()


def test_verify_that_cannot_connect_raises():
    unreachable = json.loads(json.dumps(VALID))
    unreachable["endpoints"]["a"]["port"] = 1
    with duosync.Project(unreachable) as p:
        with pytest.raises(duosync.Error) as info:
            p.verify()
    assert info.value.code != duosync.Code.DATA_LOSS
