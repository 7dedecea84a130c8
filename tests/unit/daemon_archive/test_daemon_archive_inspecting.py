"""docker top / stats / diff formatting, and finding a container's cgroup from the runtime's state,
on fake cgroup trees in temporary directories."""
import json
import os

import pytest

from dockyard.daemon.containers import cgroupview, statsfmt, topfmt
from dockyard.daemon.containers.inspecting import docker_changes
from dockyard.daemon.http.response import encode_json

CID = "c" * 64


# ---- cgroup views ----------------------------------------------------------------------------------
def fake_v1(base, rel):
    """Control files of a v1 container cgroup under base/<controller>/<rel>."""
    files = {
        "memory": {"memory.usage_in_bytes": "364544\n", "memory.max_usage_in_bytes": "3825664\n",
                   "memory.limit_in_bytes": "9223372036854771712\n", "memory.failcnt": "0\n",
                   "memory.stat": "cache 12288\nrss 53248\nshmem 0\ntotal_inactive_file 4096\n"
                                  "hierarchical_memory_limit 9223372036854771712\n"},
        "cpuacct": {"cpuacct.usage": "127701194\n", "cpuacct.stat": "user 8\nsystem 4\n",
                    "cpuacct.usage_percpu": "66163811 61537383 \n"},
        "cpu": {"cpu.stat": "nr_periods 3\nnr_throttled 1\nthrottled_time 500\n"},
        "pids": {"pids.current": "2\n", "pids.max": "max\n"},
        "blkio": {"blkio.throttle.io_service_bytes_recursive": "254:0 Read 4096\n254:0 Write 8192\nTotal 12288\n",
                  "blkio.throttle.io_serviced_recursive": "254:0 Read 1\n254:0 Write 3\nTotal 4\n"},
    }
    paths = {}
    for ctl, content in files.items():
        d = base / ctl / rel
        (d / "child").mkdir(parents=True)
        for name, text in content.items():
            (d / name).write_text(text)
        paths[ctl] = str(d)
    (base / "pids" / rel / "cgroup.procs").write_text("41\n40\n")
    (base / "pids" / rel / "child" / "cgroup.procs").write_text("42\n")
    return paths


def test_runc_state_cgroup_paths(tmp_path):
    paths = fake_v1(tmp_path / "cg", "docker/" + CID)
    (tmp_path / "run" / CID).mkdir(parents=True)
    (tmp_path / "run" / CID / "state.json").write_text(json.dumps({"id": CID, "cgroup_paths": paths}))
    view = cgroupview.load(str(tmp_path / "run"), CID)
    assert view.version == 1 and view.pids() == [40, 41, 42]
    raw = view.stats()
    doc = statsfmt.stats_json("/x", CID, read="R", preread="P", raw=raw, version=1, system=5075420000000,
                              online=2, machine_memory=25276502016)
    tick = 10**9 // os.sysconf("SC_CLK_TCK")
    assert doc["cpu_stats"] == {"cpu_usage": {"total_usage": 127701194, "percpu_usage": [66163811, 61537383],
                                              "usage_in_kernelmode": 4 * tick, "usage_in_usermode": 8 * tick},
                                "system_cpu_usage": 5075420000000, "online_cpus": 2,
                                "throttling_data": {"periods": 3, "throttled_periods": 1, "throttled_time": 500}}
    mem = doc["memory_stats"]
    assert (mem["usage"], mem["max_usage"], mem["limit"]) == (364544, 3825664, 25276502016)
    assert "failcnt" not in mem and len(mem["stats"]) == 32 and "shmem" not in mem["stats"]
    assert list(mem["stats"]) == sorted(mem["stats"]) and mem["stats"]["total_inactive_file"] == 4096
    assert doc["pids_stats"] == {"current": 2}
    assert doc["blkio_stats"]["io_service_bytes_recursive"] == [
        {"major": 254, "minor": 0, "op": "Read", "value": 4096}, {"major": 254, "minor": 0, "op": "Write", "value": 8192}]
    assert doc["blkio_stats"]["sectors_recursive"] == []
    assert list(doc) == ["read", "preread", "pids_stats", "blkio_stats", "num_procs", "storage_stats", "cpu_stats",
                         "precpu_stats", "memory_stats", "name", "id"]


def test_dockyard_runtime_state(tmp_path):
    fake_v1(tmp_path / "cg", "dockyard/" + CID)
    hier = [{"name": c, "controllers": [c], "mount": str(tmp_path / "cg" / c), "own": "/"}
            for c in ("memory", "cpuacct", "cpu", "pids", "blkio")]
    state = {"id": CID, "cgroup": {"version": 1, "rel": "dockyard/" + CID, "hierarchies": hier, "created": []}}
    (tmp_path / "run" / CID).mkdir(parents=True)
    (tmp_path / "run" / CID / "state.json").write_text(json.dumps(state))
    view = cgroupview.load(str(tmp_path / "run"), CID)
    assert view.pids() == [40, 41, 42] and view.stats()["memory"]["usage"] == 364544
    assert cgroupview.load(str(tmp_path / "run"), "d" * 64) is None   # no state: not running
    with pytest.raises(ValueError):
        cgroupview.load(str(tmp_path / "run"), "../x")


def test_cgroup_v2_paths(tmp_path):
    d = tmp_path / "unified" / "c"
    d.mkdir(parents=True)
    for name, text in {"memory.current": "1000\n", "memory.max": "max\n", "memory.events": "oom 0\nmax 2\n",
                       "memory.stat": "anon 10\nfile 20\nsock 0\n", "cpu.stat": "usage_usec 5\nuser_usec 3\n"
                       "system_usec 2\nnr_periods 0\nnr_throttled 0\nthrottled_usec 0\n",
                       "pids.current": "1\n", "pids.max": "100\n", "io.stat": "8:0 rbytes=1 wbytes=2 rios=3 wios=4\n",
                       "cgroup.procs": "7\n"}.items():
        (d / name).write_text(text)
    view = cgroupview.PathsView({"": str(d)})
    assert view.version == 2 and view.pids() == [7]
    doc = statsfmt.stats_json("/x", CID, raw=view.stats(), version=2, machine_memory=4096)
    assert doc["cpu_stats"]["cpu_usage"] == {"total_usage": 5000, "usage_in_kernelmode": 2000, "usage_in_usermode": 3000}
    assert doc["memory_stats"]["limit"] == 4096 and "max_usage" not in doc["memory_stats"]
    assert doc["memory_stats"]["failcnt"] == 2 and doc["memory_stats"]["stats"]["anon"] == 10
    assert doc["pids_stats"] == {"current": 1, "limit": 100}
    blk = doc["blkio_stats"]
    assert blk["io_service_bytes_recursive"] == [{"major": 8, "minor": 0, "op": "read", "value": 1},
                                                 {"major": 8, "minor": 0, "op": "write", "value": 2}]
    assert blk["io_serviced_recursive"] is None


def test_zero_stats_are_dockerds_bytes():
    # GET /containers/r2/stats?stream=false from dockerd 20.10 for a container that is not running
    ref = ('{"read":"0001-01-01T00:00:00Z","preread":"0001-01-01T00:00:00Z","pids_stats":{},"blkio_stats":'
           '{"io_service_bytes_recursive":null,"io_serviced_recursive":null,"io_queue_recursive":null,'
           '"io_service_time_recursive":null,"io_wait_time_recursive":null,"io_merged_recursive":null,'
           '"io_time_recursive":null,"sectors_recursive":null},"num_procs":0,"storage_stats":{},"cpu_stats":'
           '{"cpu_usage":{"total_usage":0,"usage_in_kernelmode":0,"usage_in_usermode":0},"throttling_data":'
           '{"periods":0,"throttled_periods":0,"throttled_time":0}},"precpu_stats":{"cpu_usage":{"total_usage":0,'
           '"usage_in_kernelmode":0,"usage_in_usermode":0},"throttling_data":{"periods":0,"throttled_periods":0,'
           '"throttled_time":0}},"memory_stats":{},"name":"/r2","id":"' + CID + '"}\n')
    assert encode_json(statsfmt.stats_json("/r2", CID)).decode() == ref


def test_proc_stat_and_meminfo():
    tick = os.sysconf("SC_CLK_TCK")
    text = "cpu  100 2 30 400 5 6 7 8 0 0\ncpu0 50 1 15 200 2 3 3 4 0 0\ncpu1 50 1 15 200 3 3 4 4 0 0\nintr 1\n"
    assert statsfmt.read_proc_stat(text) == (550 * 10**9 // tick, 2)
    with pytest.raises(ValueError):
        statsfmt.read_proc_stat("cpu 1 2\n")
    assert statsfmt.read_machine_memory("MemFree: 1 kB\nMemTotal:  24684084 kB\n") == 24684084 * 1024


# ---- top -----------------------------------------------------------------------------------------------
PS = ("UID          PID    PPID  C STIME TTY          TIME CMD\n"
      "root           1       0  0 18:28 ?        00:00:14 /sbin/init splash\n"
      "root       28360   28341  0 19:10 ?        00:00:00 sleep 1000\n"
      "root       28361   28360  0 19:10 ?        00:00:00 sh -c while true; do :; done\n")


def test_parse_ps_keeps_the_containers_rows():
    out = topfmt.parse_ps(PS, [28360, 28361])
    assert out == {"Processes": [["root", "28360", "28341", "0", "19:10", "?", "00:00:00", "sleep 1000"],
                                 ["root", "28361", "28360", "0", "19:10", "?", "00:00:00",
                                  "sh -c while true; do :; done"]],
                   "Titles": ["UID", "PID", "PPID", "C", "STIME", "TTY", "TIME", "CMD"]}
    assert list(out) == ["Processes", "Titles"]


def test_parse_ps_thread_lines_follow_their_process():
    text = ("USER PID TID CMD\nroot 10 - a\nroot - 10 -\nroot - 11 -\nroot 12 - b\nroot - 12 -\n")
    assert topfmt.parse_ps(text, [10])["Processes"] == [["root", "10", "-", "a"], ["root", "-", "10", "-"],
                                                         ["root", "-", "11", "-"]]
    with pytest.raises(topfmt.TopError, match="Couldn't find PID"):
        topfmt.parse_ps("USER CMD\nroot x\n", [1])
    with pytest.raises(topfmt.TopError, match="Unexpected pid"):
        topfmt.parse_ps("PID CMD\nabc x\n", [1])


def test_ps_args_rules():
    topfmt.validate_ps_args("-ef")
    topfmt.validate_ps_args("-o pid=PID,comm")
    with pytest.raises(topfmt.TopError, match='specifying "x=PID" is not allowed'):
        topfmt.validate_ps_args("-o x=PID")
    assert topfmt.ps_argv("-o pid,comm", [1, 2]) == ["ps", "-o", "pid,comm", "-q1,2"]
    assert topfmt.ps_argv("aux", [3], with_pids=False) == ["ps", "aux"]


# ---- diff ----------------------------------------------------------------------------------------------
def test_docker_changes_order_and_init_layer():
    items = [("C", "/tmp"), ("A", "/tmp/new"), ("C", "/etc"), ("A", "/etc/hosts"), ("A", "/etc/resolv.conf"),
             ("A", "/.dockerenv"), ("A", "/proc"), ("C", "/bin"), ("D", "/bin/vi"), ("A", "/a.txt"), ("A", "/a"),
             ("A", "/a/z")]
    assert docker_changes(items) == [
        {"Path": "/a", "Kind": 1}, {"Path": "/a/z", "Kind": 1}, {"Path": "/a.txt", "Kind": 1},
        {"Path": "/bin", "Kind": 0}, {"Path": "/bin/vi", "Kind": 2},
        {"Path": "/tmp", "Kind": 0}, {"Path": "/tmp/new", "Kind": 1}]
    kept = docker_changes([("C", "/etc"), ("A", "/etc/hosts"), ("C", "/etc/passwd")])
    assert kept == [{"Path": "/etc", "Kind": 0}, {"Path": "/etc/passwd", "Kind": 0}]
    assert docker_changes([("C", "/etc")]) == [{"Path": "/etc", "Kind": 0}]   # /etc itself changed
