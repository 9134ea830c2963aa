import itertools
import json
import os
import pathlib
import subprocess
import sys

import pytest

REPO = pathlib.Path(__file__).resolve().parents[2]
# The servers helper lives in the Python binding.
sys.path.insert(0, str(REPO / "bindings" / "python"))

from duosync import testing  # noqa: E402

_ids = itertools.count(1)


@pytest.fixture(scope="session")
def servers():
    """One pair of real MariaDB servers for the whole session."""
    with testing.servers(2) as pair:
        yield pair


@pytest.fixture(scope="session")
def status_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("status")


@pytest.fixture
def cli_env(status_dir):
    """The CLI's environment: a private status directory."""
    return dict(os.environ, DUOSYNC_STATUS_DIR=str(status_dir))


@pytest.fixture
def cli(cli_env):
    """Runs the CLI to its end; returns the CompletedProcess."""

    def run(*args, timeout=120):
        return subprocess.run([testing.cli_path(), *map(str, args)], capture_output=True,
                              text=True, timeout=timeout, env=cli_env, stdin=subprocess.DEVNULL,
                              check=False)

    return run


@pytest.fixture
def table(servers):
    """A fresh database with table t (id INT PRIMARY KEY, v VARCHAR(32)) on both servers; yields
    "db.t"."""
    with testing.fresh_table(servers, f"cli{next(_ids)}") as name:
        yield name


@pytest.fixture
def write_config(tmp_path):
    """Writes a config dict (or raw text) to a file and returns its path."""

    def write(config, name="project.json"):
        path = tmp_path / name
        path.write_text(config if isinstance(config, str) else json.dumps(config))
        return path

    return write


@pytest.fixture
def project_config(servers):
    """Returns a maker of minimal incremental project configs over the two servers."""
    a, b = servers

    def make(objects, name=None):
        return {
            "name": name or f"cli-{next(_ids)}",
            "scenario": "DATA_MIGRATION",
            "endpoints": {"a": a.endpoint, "b": b.endpoint},
            "forward": {"migration_types": ["INCREMENTAL"], "objects": {"import": objects}},
        }

    return make
