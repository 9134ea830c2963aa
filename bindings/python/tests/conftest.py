import itertools
import pathlib
import sys

import pytest

# Test the package in this tree, not an installed one.
sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))

from duosync import testing  # noqa: E402

_ids = itertools.count(1)


@pytest.fixture(scope="session")
def servers():
    """One pair of real MariaDB servers for the whole session."""
    with testing.servers(2) as pair:
        yield pair


@pytest.fixture
def table(servers):
    """A fresh database with table t (id INT PRIMARY KEY, v VARCHAR(32)) on both servers; yields
    "db.t"."""
    with testing.fresh_table(servers, f"py{next(_ids)}") as name:
        yield name


@pytest.fixture
def project_config(servers):
    """Returns a maker of minimal incremental project configs over the two servers."""
    a, b = servers

    def make(objects, name=None, scenario="DATA_MIGRATION"):
        config = {
            "name": name or f"py-{next(_ids)}",
            "scenario": scenario,
            "endpoints": {"a": a.endpoint, "b": b.endpoint},
            "forward": {"migration_types": ["INCREMENTAL"], "objects": {"import": objects}},
        }
        if scenario == "ACTIVE_ACTIVE":
            config["reverse"] = {"migration_types": ["INCREMENTAL"]}
        return config

    return make
