"""Helpers shared by the CLI tests: CLI runners and output normalisation (kept out of conftest.py,
which other test directories also have)."""
from __future__ import annotations

import json
import os
import re
import subprocess

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))


class Result:
    def __init__(self, p: subprocess.CompletedProcess):
        self.rc, self.out, self.err = p.returncode, p.stdout, p.stderr

    def __repr__(self) -> str:
        return f"Result(rc={self.rc}, out={self.out[:400]!r}, err={self.err[:400]!r})"


class Runner:
    """Runs a CLI against the daemon under test, with a private config directory."""

    def __init__(self, argv0: list[str], daemon, config_dir: str):
        self.argv0, self.daemon, self.config_dir = argv0, daemon, config_dir

    def env(self, extra=None) -> dict:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("DOCKER_", "DOCKYARD_"))}
        env.update({"DOCKER_HOST": self.daemon.host, "DOCKER_CONFIG": self.config_dir,
                    "PYTHONPATH": REPO})
        env.update(extra or {})
        return env

    def __call__(self, *args, input=None, timeout: float = 60, env=None, binary: bool = False) -> Result:
        p = subprocess.run(self.argv0 + list(args), input=input, capture_output=True, timeout=timeout,
                           env=self.env(env), text=not binary)
        return Result(p)

    def popen(self, *args, env=None, **kw) -> subprocess.Popen:
        return subprocess.Popen(self.argv0 + list(args), env=self.env(env), **kw)


_ID64 = re.compile(r"\b[0-9a-f]{64}\b")
_ID12 = re.compile(r"\b[0-9a-f]{12}\b")
_AGO = re.compile(r"(Less than a second|About a minute|About an hour|\d+ (second|minute|hour|day|week|month|year)s?)")


def normalize(text: str, ids: bool = True) -> str:
    """Program names, IDs and human durations made comparable between the two CLIs."""
    t = text.replace("docker", "dockyard").replace("Docker", "Dockyard")
    if ids:
        t = _ID64.sub("<ID>", t)
        t = _ID12.sub("<id>", t)
    return _AGO.sub("<ago>", t)


def json_lines(text: str) -> list:
    return [json.loads(line) for line in text.splitlines() if line.strip()]
