"""Benchmark: `dockyard run --rm busybox true` vs `docker run --rm busybox true` (Debian's dockerd, same
image), `dockyard exec` vs `docker exec`, and 100 detached containers (start time, memory per container).

Usage (root): .venv/bin/python bench/daemon_run.py [ROUNDS] [N_DETACHED]
Targets: run ratio <= 0.33, exec ratio <= 0.33.
"""
import statistics
import subprocess
import sys
import time

from peers import DOCKYARD_CLI, Dockerd, Dockyardd, busybox_tar, pids_of, rss_kb


def timed(cmd, env):
    t = time.perf_counter()
    subprocess.run(cmd, env=env, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - t


def main():
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 20
    n_detached = int(sys.argv[2]) if len(sys.argv) > 2 else 100
    dy, dk = Dockyardd(), Dockerd()
    try:
        dy.start()
        dk.start()
        tar = busybox_tar()
        subprocess.run([DOCKYARD_CLI, "load", "-i", tar], env=dy.env, check=True, capture_output=True)
        assert dk.docker("load", "-i", tar).returncode == 0
        sides = {
            "dockyard": (lambda *a: [DOCKYARD_CLI, *a], dy.env),
            "docker": (lambda *a: ["docker", *a], dk.env),
        }
        res = {k: {"run": [], "exec": []} for k in sides}
        for name, (cli, env) in sides.items():  # warm up
            timed(cli("run", "--rm", "busybox", "true"), env)
            subprocess.run(cli("run", "-d", "--name", "bench-exec", "busybox", "sleep", "3600"), env=env,
                           check=True, capture_output=True)
            timed(cli("exec", "bench-exec", "true"), env)
        for _ in range(rounds):
            for name, (cli, env) in sides.items():
                res[name]["run"].append(timed(cli("run", "--rm", "busybox", "true"), env))
                res[name]["exec"].append(timed(cli("exec", "bench-exec", "true"), env))
        for name, (cli, env) in sides.items():
            subprocess.run(cli("rm", "-f", "bench-exec"), env=env, capture_output=True)
        print(f"{'':10s} {'dockyard':>10s} {'docker':>10s} {'ratio':>7s}")
        for what in ("run", "exec"):
            a = statistics.median(res["dockyard"][what])
            b = statistics.median(res["docker"][what])
            print(f"{what:10s} {a * 1000:8.0f}ms {b * 1000:8.0f}ms {a / b:7.2f}")

        # N detached containers: total start time and memory of the supervising processes
        mem = {}
        for name, (cli, env) in sides.items():
            if name == "dockyard":
                base_pids = [dy.proc.pid] + pids_of(f"dockyard.shim --exec-root {dy.exec_root}")
            else:
                base_pids = dk.daemon_pids()
            before = sum(rss_kb(p) for p in base_pids)
            t = time.perf_counter()
            for i in range(n_detached):
                subprocess.run(cli("run", "-d", "busybox", "sleep", "3600"), env=env, check=True,
                               stdout=subprocess.DEVNULL)
            elapsed = time.perf_counter() - t
            time.sleep(1)
            if name == "dockyard":
                pids = [dy.proc.pid] + pids_of(f"dockyard.shim --exec-root {dy.exec_root}")
            else:
                pids = dk.daemon_pids()
            after = sum(rss_kb(p) for p in pids)
            mem[name] = (elapsed, before, after)
            ids = subprocess.run(cli("ps", "-q"), env=env, capture_output=True, text=True).stdout.split()
            subprocess.run(cli("rm", "-f", *ids), env=env, capture_output=True)
        print(f"\n{n_detached} detached containers (run -d one after another)")
        for name, (elapsed, before, after) in mem.items():
            print(f"{name:10s} start {elapsed / n_detached * 1000:6.0f} ms each; supervisor memory "
                  f"{before / 1024:6.1f} MB -> {after / 1024:6.1f} MB = {(after - before) / n_detached:7.0f} KB "
                  f"per container")
    finally:
        dk.stop()
        dy.cleanup()


if __name__ == "__main__":
    main()
