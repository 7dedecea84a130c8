"""Unit tests of the daemon's core pieces: config, store, events, volumes (no root needed)."""
import asyncio
import json
import os
import subprocess
import sys

import pytest

from dockyard.daemon import config
from dockyard.daemon.db import DB
from dockyard.daemon.events import EventBus, Filter
from dockyard.volumes.store import ANON_LABEL, InvalidVolume, VolumeInUse, VolumeNotFound, VolumeStore


def test_config_flags_and_file(tmp_path):
    f = tmp_path / "daemon.json"
    f.write_text(json.dumps({"data-root": "/x/data", "insecure-registries": ["r:5000"], "log-opts": {"max-size": "1m"},
                             "runtimes": {"crunx": {"path": "/usr/bin/crun"}}}))
    cfg, _ = config.load(["--config-file", str(f), "--exec-root", "/x/run", "-H", "unix:///x/s.sock",
                          "--add-runtime", "other=/bin/true"])
    assert cfg.data_root == "/x/data" and cfg.exec_root == "/x/run" and cfg.hosts == ["unix:///x/s.sock"]
    assert cfg.insecure_registries == ["r:5000"] and cfg.log_opts == {"max-size": "1m"}
    assert cfg.runtimes["crunx"] == "/usr/bin/crun" and cfg.runtimes["other"] == "/bin/true"
    assert cfg.runtime_path().endswith("dockyard-runtime")
    assert cfg.pidfile_path == "/x/run/dockyardd.pid"


@pytest.mark.parametrize("argv,needle", [
    (["-H", "tcp://127.0.0.1:2375"], "without TLS"),
    (["-H", "ftp://x"], "invalid host"),
    (["--default-runtime", "nosuch"], "not configured"),
    (["--add-runtime", "bad"], "name=path"),
    (["--log-opt", "nokey"], "key=value"),
])
def test_config_errors(argv, needle, tmp_path):
    with pytest.raises(config.ConfigError, match=needle):
        config.load(["--config-file", str(tmp_path / "none.json"), *argv])


def test_config_file_unknown_key(tmp_path):
    f = tmp_path / "daemon.json"
    f.write_text('{"bogus": 1}')
    with pytest.raises(config.ConfigError, match="bogus"):
        config.load(["--config-file", str(f)])
    f.write_text("{not json")
    with pytest.raises(config.ConfigError, match="unable to configure"):
        config.load(["--config-file", str(f)])


def test_insecure_tcp_allowed_explicitly(tmp_path):
    cfg, _ = config.load(["--config-file", str(tmp_path / "n"), "-H", "tcp://127.0.0.1:2375", "--insecure-tcp"])
    assert cfg.hosts == ["tcp://127.0.0.1:2375"]


def test_db_transactions_roll_back(tmp_path):
    db = DB(str(tmp_path / "d" / "dockyard.db"))
    with db.write() as tx:
        tx.put("containers", "a", {"Id": "a"}, name="/one")
    with pytest.raises(RuntimeError):
        with db.write() as tx:
            tx.put("containers", "b", {"Id": "b"}, name="/two")
            raise RuntimeError("boom")
    assert db.get("containers", "b") is None and db.get("containers", "a") == {"Id": "a"}
    import sqlite3
    with pytest.raises(sqlite3.IntegrityError):
        with db.write() as tx:
            tx.put("containers", "c", {"Id": "c"}, name="/one")  # names are unique
    assert [d["Id"] for d in db.all("containers")] == ["a"]


def test_db_survives_kill_mid_transaction(tmp_path):
    path = str(tmp_path / "dockyard.db")
    db = DB(path)
    with db.write() as tx:
        tx.put("volumes", "keep", {"Name": "keep"})
    db.close()
    code = (f"import os; from dockyard.daemon.db import DB\n"
            f"db = DB({path!r})\n"
            f"with db.write() as tx:\n"
            f"    tx.put('volumes', 'lost', {{'Name': 'lost'}})\n"
            f"    os.kill(os.getpid(), 9)\n")
    p = subprocess.run([sys.executable, "-c", code])
    assert p.returncode == -9
    db = DB(path)
    assert [d["Name"] for d in db.all("volumes")] == ["keep"]


def test_events_filters_and_history():
    bus = EventBus()

    async def main():
        q = bus.subscribe()
        bus.emit("container", "start", "abc123", {"name": "web", "image": "busybox", "app": "x"})
        bus.emit("volume", "create", "v1", {"driver": "local"})
        got = [q.get_nowait(), q.get_nowait()]
        bus.unsubscribe(q)
        return got

    got = asyncio.run(main())
    assert got[0]["Type"] == "container" and got[0]["status"] == "start" and got[0]["from"] == "busybox"
    assert Filter({"type": ["volume"]}).match(got[1]) and not Filter({"type": ["volume"]}).match(got[0])
    assert Filter({"container": ["web"]}).match(got[0]) and Filter({"container": ["abc"]}).match(got[0])
    assert not Filter({"container": ["other"]}).match(got[0])
    assert Filter({"event": ["start"]}).match(got[0]) and not Filter({"event": ["stop"]}).match(got[0])
    assert Filter({"label": ["app=x"]}).match(got[0]) and not Filter({"label": ["app=y"]}).match(got[0])
    assert Filter({"image": ["busybox"]}).match(got[0])
    assert len(bus.since(0)) == 2


def test_volumes(tmp_path):
    users = {}
    vs = VolumeStore(str(tmp_path / "volumes"), DB(str(tmp_path / "db")), users=lambda n: users.get(n, []))
    v = vs.create("data", labels={"a": "b"})
    assert v["Mountpoint"] == str(tmp_path / "volumes" / "data" / "_data") and os.path.isdir(v["Mountpoint"])
    assert vs.create("data") == v  # idempotent, as docker
    anon = vs.create()
    assert len(anon["Name"]) == 64 and ANON_LABEL in anon["Labels"]
    assert [x["Name"] for x in vs.list({"label": ["a=b"]})] == ["data"]
    with pytest.raises(InvalidVolume, match="invalid characters"):
        vs.create("bad/name")
    users["data"] = ["c1"]
    with pytest.raises(VolumeInUse, match=r"volume is in use - \[c1\]"):
        vs.remove("data")
    assert [x["Name"] for x in vs.list({"dangling": ["true"]})] == [anon["Name"]]
    res = vs.prune()
    assert res["VolumesDeleted"] == [anon["Name"]]  # named volumes only with all=true
    users.clear()
    assert vs.prune({"all": ["true"]})["VolumesDeleted"] == ["data"]
    with pytest.raises(VolumeNotFound, match="no such volume"):
        vs.inspect("data")
    assert not os.path.exists(tmp_path / "volumes" / "data")
