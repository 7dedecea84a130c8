"""OCI hooks: each gets the container state as JSON on stdin."""
from __future__ import annotations

from ..util import fastjson as json
import os

from ..spec.runtime import Hook
from .errors import RuntimeFailure


def run_hooks(kind: str, hooks: list[Hook], state: dict, *, warn_only: bool = False, log=None) -> None:
    if not hooks:
        return
    import subprocess  # only containers with hooks pay for this import

    payload = json.dumps(state).encode()
    for i, h in enumerate(hooks):
        argv = h.args or [h.path]
        try:
            p = subprocess.run(argv, executable=h.path, input=payload, capture_output=True,
                               env=dict(e.split("=", 1) for e in h.env if "=" in e), timeout=h.timeout,
                               close_fds=True)
            err = None if p.returncode == 0 else (
                f"exit status {p.returncode}, stdout: {p.stdout.decode(errors='replace').strip()}, "
                f"stderr: {p.stderr.decode(errors='replace').strip()}")
        except subprocess.TimeoutExpired:
            err = f"timeout after {h.timeout}s"
        except OSError as e:
            err = f"{h.path}: {e.strerror}"
        if err:
            msg = f"error running {kind} hook #{i}: {err}"
            if warn_only:
                if log:
                    log.warning(msg)
                continue
            raise RuntimeFailure(msg)


def state_for_hooks(cid: str, status: str, pid: int, bundle: str, annotations: dict) -> dict:
    st = {"ociVersion": "1.0.2", "id": cid, "status": status, "bundle": bundle, "annotations": annotations}
    if pid:
        st["pid"] = pid
    return st


def hook_env_path() -> str:
    return os.environ.get("PATH", "/usr/sbin:/usr/bin:/sbin:/bin")
