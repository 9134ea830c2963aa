"""Coordinated mode through the binding: who owns each link, standby elsewhere, takeovers (real
etcd, real MariaDB)."""
import duosync
from duosync import testing


def _link(status, name):
    return next(link for link in status["links"] if link["name"] == name)


def test_a_second_member_stands_by_and_takes_over_when_the_first_closes(project_config, table):
    config = project_config(table, scenario="ACTIVE_ACTIVE")
    with testing.etcd() as url:
        config["coordination"] = {"etcd_endpoints": [url], "lease_ttl_seconds": 2,
                                  "key_prefix": "/py-test"}
        first = duosync.Project(config)
        second = duosync.Project(config)
        try:
            first.start()
            second.start()
            # Each link runs in exactly one of the two; the other shows it as standby, owned there.
            def settled():
                s1, s2 = first.status(), second.status()
                for name in ("forward", "reverse"):
                    l1, l2 = _link(s1, name), _link(s2, name)
                    if {l1["stage"] == "standby", l2["stage"] == "standby"} != {True, False}:
                        return None
                    if not l1.get("owner_member") or l1.get("owner_member") != l2.get("owner_member"):
                        return None
                if len(s1["coordination"]["members"]) != 2:
                    return None  # each sees the other once it has read etcd after the other joined
                return s1, s2
            got = testing.poll(settled, timeout_s=30)
            assert got, (first.status(), second.status())
            s1, s2 = got
            assert s1["coordination"]["member"] != s2["coordination"]["member"]
            assert sorted(s1["coordination"]["members"]) == sorted(
                [s1["coordination"]["member"], s2["coordination"]["member"]])
            assert s1["coordination"]["lease_held"] is True
            owners = {_link(s1, name)["owner_member"] for name in ("forward", "reverse")}
            runner = first if s1["coordination"]["member"] in owners else second
            other = second if runner is first else first
            gone = runner.status()["coordination"]["member"]
            runner.close()
            # The survivor takes the links over (the closing member released them) and says so.
            def taken():
                s = other.status()
                links = [_link(s, name) for name in ("forward", "reverse")]
                if all(l["stage"] == "incremental" and l.get("takeovers") for l in links):
                    return links
                return None
            links = testing.poll(taken, timeout_s=30)
            assert links, other.status()
            for link in links:
                takeover = link["takeovers"][-1]
                assert isinstance(takeover["at_unix_ms"], int) and takeover["at_unix_ms"] > 0
                assert isinstance(takeover["epoch"], int) and takeover["epoch"] == link["epoch"]
            assert any(link["takeovers"][-1].get("from_member") == gone for link in links)
        finally:
            first.close()
            second.close()
