#!/usr/bin/env python3
"""Re-capture dockerd-20.10-cases.json: for each `docker run` of capture-cases.json, what the Docker CLI
sends (POST /containers/create body) and the config.json dockerd hands to the OCI runtime.

Not a test: a tool, run by hand as root on a machine with dockerd (Debian's docker.io 20.10) and the
Docker CLI. See README.md for the dockerd command line (a private daemon whose default runtime is the
wrapper this script writes, which copies each bundle's config.json before exec'ing runc).

    python3 capture_dockerd.py WORKDIR            # WORKDIR as in README.md (/tmp/sgo)
"""
from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
WRAPPER = """#!/bin/sh
prev=""
for a in "$@"; do
  if [ "$prev" = "--bundle" ]; then mkdir -p {work}/cfg; cp "$a/config.json" "{work}/cfg/$(basename "$a").json"; fi
  prev="$a"
done
exec /usr/sbin/runc "$@"
"""


class CreateSniffer:
    """A unix-socket proxy in front of dockerd that keeps the last /containers/create body."""

    def __init__(self, listen: str, upstream: str):
        self.upstream, self.last, self.done = upstream, None, threading.Event()
        if os.path.exists(listen):
            os.unlink(listen)
        self.sock = socket.socket(socket.AF_UNIX)
        self.sock.bind(listen)
        self.sock.listen(16)
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self):
        while True:
            c, _ = self.sock.accept()
            threading.Thread(target=self._handle, args=(c,), daemon=True).start()

    def _pipe(self, a, b, keep):
        buf = b""
        try:
            while data := a.recv(65536):
                b.sendall(data)
                if keep:
                    buf += data
        except OSError:
            pass
        finally:
            try:
                b.shutdown(socket.SHUT_WR)
            except OSError:
                pass
        for req in buf.split(b"POST ")[1:] if keep else []:
            if b"/containers/create" in req.split(b"\r\n", 1)[0]:
                self.last = json.loads(req.split(b"\r\n\r\n", 1)[1])
                self.done.set()

    def _handle(self, c):
        d = socket.socket(socket.AF_UNIX)
        d.connect(self.upstream)
        t = threading.Thread(target=self._pipe, args=(d, c, False))
        t.start()
        self._pipe(c, d, True)
        t.join()
        c.close()
        d.close()


def docker(host, *args):
    return subprocess.run(["docker", "-H", f"unix://{host}", *args], capture_output=True, text=True)


def capture(work: str, case: dict, sniffer: CreateSniffer) -> dict | None:
    name, daemon, proxy = "sg_" + case["name"], f"{work}/d.sock", f"{work}/p.sock"
    docker(daemon, "rm", "-f", name)
    sniffer.last = None
    sniffer.done.clear()
    r = docker(proxy, "create", "--name", name, *case["options"], case["image"], *case["command"])
    if not sniffer.done.wait(3):
        print(case["name"], "refused by the CLI:", r.stderr.strip().splitlines()[0])
        return None
    res = {"args": case["options"] + [case["image"]] + case["command"], "request": sniffer.last}
    if r.returncode:
        res["create_error"] = r.stderr.strip()
    else:
        cid = docker(daemon, "inspect", "-f", "{{.Id}}", name).stdout.strip()
        s = docker(daemon, "start", name)
        if s.returncode:
            res["start_error"] = s.stderr.strip()
        cfg_path = f"{work}/cfg/{cid}.json"
        if os.path.exists(cfg_path):
            with open(cfg_path) as f:
                cfg = json.load(f)
            os.unlink(cfg_path)
            cfg.get("linux", {}).pop("seccomp", None)
            res.update(id=cid, config=cfg, files={})
            for fn in ("hostname", "hosts", "resolv.conf"):
                p = f"{work}/data/containers/{cid}/{fn}"
                if os.path.exists(p):
                    with open(p) as f:
                        res["files"][fn] = f.read()
    docker(daemon, "rm", "-f", name)
    print(case["name"], (res.get("create_error") or res.get("start_error") or "ok").splitlines()[0])
    return res


def delta(base, new):
    """What new changes in base: objects key by key ({"$deleted": true} for a removed key)."""
    if not (isinstance(base, dict) and isinstance(new, dict)):
        return new
    out = {k: {"$deleted": True} for k in base if k not in new}
    for k, v in new.items():
        if k not in base:
            out[k] = v
        elif base[k] != v:
            out[k] = delta(base[k], v)
    return out


def encode(results: dict, meta: dict) -> str:
    """One document: the base case in full, every other case as deltas with the base's id."""
    base = results.pop("default")
    cases = {}
    for name, d in sorted(results.items()):
        c = {"args": d["args"], "request": delta(base["request"], d["request"])}
        if "config" in d:
            text = json.dumps(d["config"]).replace(d["id"], base["id"]).replace(d["id"][:12], base["id"][:12])
            cfg = json.loads(text)
            cfg["root"]["path"] = base["config"]["root"]["path"]
            if len(cfg["linux"].get("devices", [])) > 10:
                cfg["linux"]["devices"] = "HOST_DEVICES"  # --privileged: the capture host's /dev
            c["config"] = delta(base["config"], cfg)
            files = json.loads(json.dumps(d["files"]).replace(d["id"][:12], base["id"][:12]))
            if files != base["files"]:
                c["files"] = files
        for k in ("create_error", "start_error"):
            if k in d:
                c[k] = d[k].splitlines()[0].replace("Error response from daemon: ", "").replace("docker: ", "")
        cases[name] = c
    meta["base"] = {k: base[k] for k in ("args", "id", "request", "config", "files")}
    head = json.dumps(meta, sort_keys=True, indent=1)[:-2]
    body = ",\n".join(f" {json.dumps(k)}: {json.dumps(v, sort_keys=True, separators=(',', ':'))}"
                      for k, v in cases.items())
    return head + ',\n"cases": {\n' + body + "\n}\n}\n"


def main(work: str) -> None:
    with open(f"{work}/rt.sh", "w") as f:
        f.write(WRAPPER.format(work=work))
    os.chmod(f"{work}/rt.sh", 0o755)
    sniffer = CreateSniffer(f"{work}/p.sock", f"{work}/d.sock")
    with open(os.path.join(HERE, "capture-cases.json")) as f:
        cases = json.load(f)
    results = {}
    for case in cases:
        r = capture(work, case, sniffer)
        if r is not None:
            results[case["name"]] = r
        time.sleep(0.05)
    keeper = docker(f"{work}/d.sock", "inspect", "-f", "{{.Id}} {{.State.Pid}}", "keeper").stdout.split()
    with open(os.path.join(HERE, "dockerd-20.10-cases.json")) as f:
        meta = json.load(f)
    meta.pop("cases"), meta.pop("base")
    meta["peer"].update(id=keeper[0], pid=int(keeper[1]))
    with open(os.path.join(HERE, "dockerd-20.10-cases.json"), "w") as f:
        f.write(encode(results, meta))


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "/tmp/sgo")
