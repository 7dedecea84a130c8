"""The command line without a daemon: dispatch, usage errors, help, version, and start-up cost."""
from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time

import pytest

from dockyard.cli import registry

PY = sys.executable
REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))


def cli(*args, env=None, input=None):
    e = {k: v for k, v in os.environ.items() if not k.startswith(("DOCKER_", "DOCKYARD_"))}
    e.update({"PYTHONPATH": REPO, "DOCKYARD_HOST": "unix:///nonexistent/dockyard.sock"})
    e.update(env or {})
    return subprocess.run([PY, "-m", "dockyard.cli.main", *args], capture_output=True, text=True, env=e,
                          input=input, timeout=30)


@pytest.mark.parametrize("args,rc,err", [
    (["run"], 1, "dockyard: 'dockyard run' requires at least 1 argument\n\nUsage:  dockyard run [OPTIONS] IMAGE "
                 "[COMMAND] [ARG...]\n\nSee 'dockyard run --help' for more information\n"),
    (["ps", "x"], 1, "dockyard: 'dockyard ps' accepts no arguments\n\nUsage:  dockyard ps [OPTIONS]\n\n"
                     "Run 'dockyard ps --help' for more information\n"),
    (["rename", "a"], 1, "dockyard: 'dockyard rename' requires 2 arguments\n\nUsage:  dockyard rename CONTAINER "
                         "NEW_NAME\n\nRun 'dockyard rename --help' for more information\n"),
    (["port", "a", "b", "c"], 1, "dockyard: 'dockyard port' requires at least 1 and at most 2 arguments\n\nUsage:  "
                                 "dockyard port CONTAINER [PRIVATE_PORT[/PROTO]]\n\nRun 'dockyard port --help' for "
                                 "more information\n"),
    (["run", "--bogus", "x"], 125, "unknown flag: --bogus\n\nUsage:  dockyard run [OPTIONS] IMAGE [COMMAND] "
                                   "[ARG...]\n\nRun 'dockyard run --help' for more information\n"),
    (["bogus"], 1, "dockyard: unknown command: dockyard bogus\n\nRun 'dockyard --help' for more information\n"),
    (["image", "bogus"], 1, "dockyard: unknown command: dockyard image bogus\n\nUsage:  dockyard image\n\n"
                            "Run 'dockyard image --help' for more information\n"),
    (["ps"], 1, "Cannot connect to the dockyard daemon at unix:///nonexistent/dockyard.sock. "
                "Is the daemon running?\n"),
    (["-H", "a", "-H", "b", "ps"], 1, "Specify only one -H\n"),
    (["--context", "other", "ps"], 1, 'context "other" does not exist\n'),
])
def test_usage_errors(args, rc, err):
    r = cli(*args)
    assert (r.returncode, r.stderr) == (rc, err)


def test_help_and_version():
    r = cli("--help")
    assert r.returncode == 0 and r.stdout.startswith("Usage:  dockyard [OPTIONS] COMMAND")
    for name in ("run", "ps", "container", "image", "volume", "system"):
        assert f"  {name} " in r.stdout
    r = cli("run", "--help")
    assert r.returncode == 0 and "Usage:  dockyard run [OPTIONS] IMAGE [COMMAND] [ARG...]" in r.stdout
    assert "--detach-keys string" in r.stdout and "-e, --env list" in r.stdout
    r = cli("image")
    assert r.returncode == 0 and "Usage:  dockyard image COMMAND" in r.stderr and "  ls " in r.stderr
    assert cli("-v").stdout.startswith("dockyard version ")
    r = cli("version", "--format", "{{.Client.Version}} {{.Client.Os}}")
    assert (r.returncode, r.stdout) == (0, "0.1.0 linux\n")  # needs no daemon
    r = cli("version", "--format", "{{.Client.Nope}}")
    assert r.returncode == 1 and 'map has no entry for key "Nope"' in r.stderr or "<no value>" in r.stdout


def test_every_registered_command_loads():
    import importlib
    names = {m for m, _ in registry.COMMANDS.values()}
    for _, table in registry.MANAGEMENT.values():
        names |= set(table.values())
    for n in names:
        mod = importlib.import_module(f"dockyard.cli.commands.{n}")
        assert mod.SHORT and hasattr(mod, "main") and hasattr(mod, "flags"), n


_PROBE = """
import sys, importlib
before = set(sys.modules)
import dockyard.cli.main as m
for name in sys.argv[1:]:
    importlib.import_module("dockyard.cli.commands." + name)
new = sorted(set(sys.modules) - before)
print("\\n".join(new))
"""


def test_only_standard_library_on_the_import_path():
    """Loading the CLI and its verbs imports the standard library, dockyard.cli and dockyard.util (small
    stdlib-only helpers shared with the daemon) only: any third-party import would show up here."""
    names = {m for m, _ in registry.COMMANDS.values()}
    for _, table in registry.MANAGEMENT.values():
        names |= set(table.values())
    r = subprocess.run([PY, "-c", _PROBE, *sorted(names)], capture_output=True, text=True,
                       env={**os.environ, "PYTHONPATH": REPO}, timeout=60)
    assert r.returncode == 0, r.stderr
    stdlib = set(sys.stdlib_module_names)
    bad = [m for m in r.stdout.split() if m.split(".")[0] not in stdlib
           and not m.startswith(("dockyard.cli", "dockyard.util")) and m != "dockyard" and not m.startswith("_")]
    assert bad == []


def test_ps_imports_little():
    """``ps`` must not pull in heavy modules (http.client, ssl, email, datetime, dataclasses)."""
    r = subprocess.run([PY, "-X", "importtime", "-c", "import dockyard.cli.main, dockyard.cli.commands.ps, "
                        "dockyard.cli.api, dockyard.cli.app, dockyard.cli.hosts"],
                       capture_output=True, text=True, env={**os.environ, "PYTHONPATH": REPO}, timeout=60)
    mods = {line.split("|")[-1].strip() for line in r.stderr.splitlines() if "|" in line}
    for heavy in ("http.client", "ssl", "email.parser", "datetime", "dataclasses", "urllib.parse", "tarfile",
                  "fractions", "csv", "decimal"):
        assert heavy not in mods, heavy


def test_startup_time_without_daemon():
    """Generous bound (the target is well under 50 ms on an idle machine)."""
    times = []
    for _ in range(5):
        t = time.perf_counter()
        r = cli("version", "--format", "{{.Client.Version}}")
        times.append(time.perf_counter() - t)
        assert r.returncode == 0
    assert statistics.median(times) < 0.25, times
