"""The requests our CLI sends are the Docker CLI's: recorded by a proxy in front of the daemon."""
from __future__ import annotations

import os

import pytest

from cli_proxy import RecordingProxy


@pytest.fixture(scope="module")
def proxy(daemon, tmp_path_factory):
    p = RecordingProxy(os.path.join(daemon.base, "proxy.sock"), daemon.sock)
    try:
        yield p
    finally:
        p.close()


def recorded(runner, proxy, *args, env=None, input=None):
    proxy.clear()
    r = runner(*args, env={"DOCKER_HOST": f"unix://{proxy.listen}", **(env or {})}, input=input)
    return r, [q for q in proxy.requests if q.path != "/_ping"]


def _create(runner, proxy, name, flags, cleanup):
    cleanup.append(name)
    r, reqs = recorded(runner, proxy, "create", "--name", name, *flags, "busybox", "sh", "-c", "echo hi",
                       env={"HOME": "/root", "REQ_FROM_ENV": "yes"})
    runner("rm", "-f", name)
    creates = [q for q in reqs if q.method == "POST" and "/containers/create" in q.path]
    assert creates, (r, reqs)
    q = creates[-1]
    return r.rc, q.path.replace(name, "NAME"), q.json()


CREATE_FLAGS = [
    [],
    ["-i"],
    ["-t", "-i"],
    ["-e", "A=1", "-e", "REQ_FROM_ENV", "-e", "UNSET_VAR_X", "--env-file", "{envfile}"],
    ["-v", "/tmp:/h:ro", "-v", "vol-req:/v", "-v", "/anon", "-v", "./rel:/r"],
    ["--mount", "type=tmpfs,target=/t,tmpfs-size=64m,tmpfs-mode=1770",
     "--mount", "type=bind,src=/tmp,dst=/b,readonly,bind-propagation=rslave",
     "--mount", "type=volume,target=/v,volume-label=a=b,volume-nocopy"],
    ["-w", "/w", "-u", "1000:1000", "--entrypoint", "/bin/sh", "--hostname", "hh", "--domainname", "dd"],
    ["--entrypoint="],
    ["-l", "a=b", "-l", "c", "--label-file", "{labelfile}"],
    ["--memory", "64m", "--memory-swap", "128m", "--memory-reservation", "32m", "--cpus", "1.5",
     "--pids-limit", "100", "--cpu-shares", "512", "--cpuset-cpus", "0", "--shm-size", "1m",
     "--memory-swappiness", "10", "--oom-score-adj", "5"],
    ["--memory-swap", "-1", "-m", "1g"],
    ["--restart", "on-failure:3"], ["--restart", "always"], ["--rm"],
    ["--init", "--read-only", "--privileged", "--runtime", "runc"],
    ["--cap-add", "NET_ADMIN", "--cap-add", "sys_time", "--cap-drop", "ALL", "--cap-drop", "chown"],
    ["--cap-add", "ALL", "--cap-drop", "net_raw"],
    ["--security-opt", "no-new-privileges", "--security-opt", "label=disable", "--security-opt", "seccomp={seccomp}"],
    ["--health-cmd", "true", "--health-interval", "5s", "--health-retries", "2", "--health-timeout", "1500ms",
     "--health-start-period", "1m"],
    ["--no-healthcheck"],
    ["--tmpfs", "/run:rw,size=1m", "--tmpfs", "/x"],
    ["--ulimit", "nofile=100:200", "--ulimit", "nproc=50"],
    ["--device", "/dev/null:/dev/n0:r", "--device", "/dev/zero", "--device", "/dev/full:rw"],
    ["--network", "none"], ["--network", "host"], ["--net", "bridge"],
    ["-p", "127.0.0.1:8080:80", "-p", "9000", "-p", "8000-8001:90-91/udp", "--expose", "3000-3001/udp", "-P"],
    ["--stop-signal", "SIGUSR1", "--stop-timeout", "7"],
    ["--platform", "linux/amd64"],
    ["--dns", "1.1.1.1", "--dns-search", "example.com", "--dns-option", "ndots:2",
     "--add-host", "h:1.2.3.4", "--add-host", "g=5.6.7.8"],
    ["--sysctl", "net.ipv4.ip_forward=1", "--group-add", "10", "--log-driver", "json-file",
     "--log-opt", "max-size=1m", "--ipc", "private", "--pid", "host", "--uts", "host", "--cgroupns", "private"],
    ["-a", "stdin", "-a", "STDOUT"],
    ["--cidfile", "{cidfile}"],
]


@pytest.mark.parametrize("flags", CREATE_FLAGS, ids=lambda f: " ".join(f)[:60] or "plain")
def test_create_body(dy, dk, proxy, tmp_path, cleanup, flags, monkeypatch):
    envfile = tmp_path / "env"
    envfile.write_text("A=from-file\n# comment\n  B=two words\nHOME\nNOPE_NOT_SET\n")
    labelfile = tmp_path / "labels"
    labelfile.write_text("lf=1\nbare\n")
    seccomp = tmp_path / "seccomp.json"
    seccomp.write_text('{ "defaultAction": "SCMP_ACT_ALLOW",\n  "syscalls": [] }\n')
    (tmp_path / "rel").mkdir()
    monkeypatch.chdir(tmp_path)
    results = []
    for runner in (dk, dy):
        cid = tmp_path / f"cid-{len(results)}"
        fl = [f.format(envfile=envfile, labelfile=labelfile, seccomp=seccomp, cidfile=cid) for f in flags]
        rc, path, body = _create(runner, proxy, f"req-{len(results)}", fl, cleanup)
        if "--cidfile" in flags:
            assert cid.read_text(), "the container ID file was not written"
            body["HostConfig"]["ContainerIDFile"] = "CID"
        results.append((rc, path, body))
    assert results[1][:2] == results[0][:2]
    assert diff(_canonical(results[1][2]), _canonical(results[0][2])) == []


def _canonical(body: dict) -> dict:
    """Docker builds Binds from a Go map (random order) and moves -e values that repeat an
    --env-file name to the end; compare what the daemon makes of them."""
    hc = body["HostConfig"]
    if hc.get("Binds"):
        hc["Binds"] = sorted(hc["Binds"])
    if body.get("Env"):
        body["Env"] = sorted(dict(e.split("=", 1) if "=" in e else (e, None) for e in body["Env"]).items(),
                             key=lambda kv: kv[0])
    return body


def diff(got, want, path="") -> list[str]:
    """Where two JSON values differ (readable failures for large bodies)."""
    if isinstance(got, dict) and isinstance(want, dict):
        out = []
        for k in sorted(set(got) | set(want)):
            if k not in got:
                out.append(f"{path}.{k} missing (docker: {want[k]!r})")
            elif k not in want:
                out.append(f"{path}.{k} extra: {got[k]!r}")
            else:
                out += diff(got[k], want[k], f"{path}.{k}")
        return out
    return [] if got == want else [f"{path}: {got!r} != docker's {want!r}"]


def test_run_call_sequence(dy, dk, proxy):
    """create → attach (hijack) → wait → start, as docker does; --rm waits for removal."""
    seqs = []
    for runner in (dk, dy):
        r, reqs = recorded(runner, proxy, "run", "--rm", "busybox", "sh", "-c", "echo out; echo err >&2; exit 3")
        assert (r.rc, r.out, r.err) == (3, "out\n", "err\n")
        seqs.append([(q.method, q.path.split("?")[0].split("/")[-1], q.path.split("?")[1] if "?" in q.path else "")
                     for q in reqs])
    # docker sends attach and wait from two goroutines: their order varies; create comes first, start last
    canon = [(s[0], s[-1], sorted(s[1:-1])) for s in seqs]
    assert canon[1] == canon[0]
    names = [x[1] for x in seqs[0]]
    assert names[0] == "create" and names[-1] == "start" and sorted(names[1:3]) == ["attach", "wait"]


def test_exec_call_sequence(dy, dk, proxy, cleanup):
    cleanup.append("req-exec")
    assert dk("run", "-d", "--name", "req-exec", "busybox", "sleep", "600").rc == 0
    bodies = []
    for runner in (dk, dy):
        r, reqs = recorded(runner, proxy, "exec", "-e", "X=1", "-w", "/tmp", "-u", "0", "req-exec",
                           "sh", "-c", "echo $X; pwd; exit 4")
        assert (r.rc, r.out) == (4, "1\n/tmp\n")
        bodies.append([(q.method, q.path.split("/")[-1].split("?")[0], q.json() if q.method == "POST" else None)
                       for q in reqs])
    strip = lambda seq: [(m, p if len(p) != 64 else "<id>", j) for m, p, j in seq]
    assert strip(bodies[1]) == strip(bodies[0])


def test_exec_detached_body(dy, dk, proxy, cleanup):
    cleanup.append("req-exd")
    assert dk("run", "-d", "--name", "req-exd", "busybox", "sleep", "600").rc == 0
    bodies = []
    for runner in (dk, dy):
        r, reqs = recorded(runner, proxy, "exec", "-d", "-e", "A=1", "-u", "1", "-w", "/",
                           "req-exd", "true")
        assert (r.rc, r.out, r.err) == (0, "", ""), r
        bodies.append([(q.method, q.path.rsplit("/", 1)[-1], q.json()) for q in reqs if q.method == "POST"])
    assert bodies[1] == bodies[0]
    assert bodies[0][0][2]["Env"] == ["A=1"] and bodies[0][1][2] == {"Detach": True, "Tty": False}


def test_update(dy, dk, proxy, cleanup):
    cleanup.append("req-upd")
    assert dk("run", "-d", "--name", "req-upd", "-m", "64m", "busybox", "sleep", "600").rc == 0
    seen = []
    for runner in (dk, dy):
        r, reqs = recorded(runner, proxy, "update", "-m", "128m", "--memory-swap", "-1", "--cpus", "0.5",
                           "--pids-limit", "20", "--restart", "on-failure:2", "req-upd", "nope")
        seen.append((r.rc, r.out, r.err.replace("docker", "dockyard"),
                     [q.json() for q in reqs if q.path.endswith("/update")]))
    assert seen[1] == seen[0]
    assert dy("inspect", "-f", "{{.HostConfig.Memory}} {{.HostConfig.PidsLimit}} {{.HostConfig.RestartPolicy.Name}}",
              "req-upd").out == "134217728 20 on-failure\n"
    a, b = dy("update", "req-upd"), dk("update", "req-upd")
    assert (a.rc, a.err) == (b.rc, b.err.replace("docker", "dockyard"))


def test_system_prune(dy, dk, proxy):
    for runner in (dk, dy):
        assert runner("create", "--name", "to-prune", "busybox").rc == 0
        r = runner("system", "prune", "-f")
        assert r.rc == 0 and r.out.startswith("Deleted Containers:\n") and r.out.endswith("Total reclaimed space: 0B\n"), r
    for args in (("system", "prune"), ("system", "prune", "-a", "--volumes"), ("container", "prune"),
                 ("image", "prune", "-a"), ("volume", "prune")):
        a, b = dy(*args, input="n\n"), dk(*args, input="n\n")
        assert (a.rc, a.out, a.err) == (b.rc, b.out, b.err), args
    a, b = dy("volume", "prune", "-a", "-f"), dk("volume", "prune", "-a", "-f")
    assert (a.rc, a.err) == (b.rc, b.err.replace("Docker daemon", "daemon")), (a, b)
