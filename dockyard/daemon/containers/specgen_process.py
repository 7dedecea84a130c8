"""The container's process: command, environment, working directory, stop signal.

The request's ``Config`` is merged with the image's run defaults as dockerd's ``merge`` does:

* Entrypoint/Cmd: without a user entrypoint the image's is kept, and the image's Cmd too when the
  user gave none; a user entrypoint drops the image's Cmd; ``--entrypoint ""`` (``[""]``) clears the
  entrypoint and does not bring back the image's Cmd. Nothing left: "No command specified".
* Env: the user's variables, then the image's ones the user did not name; a bare ``NAME`` unsets.
  The process environment is ``PATH`` (default), ``HOSTNAME``, ``TERM=xterm`` with a tty, then that
  list replacing or appending by name (the last one wins).
* WorkingDir: the user's (must be absolute), else the image's, else ``/``. Creating it in the rootfs
  when missing is the daemon's job before start (``specgen_rootfs.prepare_rootfs``).
"""
from __future__ import annotations

import posixpath
import signal

from . import defaults as D
from .specgen_errors import SpecGenError
from .specgen_request import CreateRequest


class ImageDefaults:
    """The run defaults an image carries (``config`` of its image configuration)."""

    __slots__ = ("env", "entrypoint", "cmd", "working_dir", "user", "volumes", "stop_signal")

    def __init__(self, env=None, entrypoint=None, cmd=None, working_dir="", user="", volumes=(), stop_signal=""):
        self.env, self.entrypoint, self.cmd = list(env or []), entrypoint, cmd
        self.working_dir, self.user, self.volumes, self.stop_signal = working_dir or "", user or "", \
            list(volumes or ()), stop_signal or ""

    @classmethod
    def of(cls, image) -> "ImageDefaults":
        """From a ``spec.image.ImageConfig``, its ``ContainerConfig``, an ``ImageDefaults`` or None."""
        if image is None:
            return cls()
        if isinstance(image, cls):
            return image
        cfg = image.config if hasattr(image, "rootfs") else image  # ImageConfig -> its ContainerConfig
        if cfg is None:
            return cls()
        return cls(cfg.env, cfg.entrypoint, cfg.cmd, cfg.working_dir, cfg.user,
                   list(cfg.volumes or {}), cfg.stop_signal)


def _key(entry: str) -> str:
    return entry.split("=", 1)[0]


def check_env(env: list[str], where: str) -> None:
    for e in env:
        if not e or e.startswith("="):
            raise SpecGenError(f"invalid environment variable: {e}")
        if "\x00" in e:
            raise SpecGenError(f"{where}: environment variable {_key(e)!r} contains a NUL byte")


def merge_env(user: list[str] | None, image: list[str]) -> list[str]:
    """Config.Env after the merge with the image (what ``inspect`` shows)."""
    if not user:
        return list(image)
    names = {_key(e) for e in user}
    return list(user) + [e for e in image if _key(e) not in names]


def process_env(config_env: list[str], hostname: str, tty: bool) -> list[str]:
    """The environment the process starts with (dockerd's CreateDaemonEnvironment)."""
    env = [D.DEFAULT_PATH_ENV, f"HOSTNAME={hostname}"] + (["TERM=xterm"] if tty else [])
    index = {_key(e): i for i, e in enumerate(env)}
    for e in config_env:
        key = _key(e)
        if "=" not in e:
            if key in index:
                env[index[key]] = None
            continue
        if key in index and env[index[key]] is not None:
            env[index[key]] = e
        else:
            index[key] = len(env)
            env.append(e)
    return [e for e in env if e is not None]


def command(req: CreateRequest, image: ImageDefaults) -> tuple[list[str], list[str]]:
    """(Entrypoint, Cmd) after the merge with the image."""
    entry, cmd = req.entrypoint, req.cmd
    if not entry:
        if not cmd:
            cmd = image.cmd
        if entry is None:
            entry = image.entrypoint
    entry = [] if entry == [""] else list(entry or [])
    cmd = list(cmd or [])
    if not entry and not cmd:
        raise SpecGenError("No command specified")
    return entry, cmd


def working_dir(req: CreateRequest, image: ImageDefaults) -> str:
    if req.working_dir:
        if not req.working_dir.startswith("/"):
            raise SpecGenError(f"the working directory '{req.working_dir}' is invalid, it needs to be an "
                               "absolute path")
        return "/" + posixpath.normpath(req.working_dir).lstrip("/")
    if image.working_dir:
        return "/" + posixpath.normpath("/" + image.working_dir).lstrip("/")
    return "/"


def parse_signal(text: str) -> int:
    """``SIGTERM`` / ``TERM`` / ``15`` / ``SIGRTMIN+3`` -> the signal number (Docker's ParseSignal)."""
    if text.isdigit():
        num = int(text)
        if 0 < num < signal.NSIG:
            return num
        raise SpecGenError(f"Invalid signal: {text}")
    name = text.upper()
    if not name.startswith("SIG"):
        name = "SIG" + name
    for base, value in (("SIGRTMIN", signal.SIGRTMIN), ("SIGRTMAX", signal.SIGRTMAX)):
        if name.startswith(base):
            rest = name[len(base):]
            try:
                off = int(rest) if rest else 0
            except ValueError:
                raise SpecGenError(f"Invalid signal: {text}") from None
            num = value + off
            if signal.SIGRTMIN <= num <= signal.SIGRTMAX:
                return num
            raise SpecGenError(f"Invalid signal: {text}")
    sig = getattr(signal.Signals, name, None) if name in signal.Signals.__members__ else None
    if sig is None:
        raise SpecGenError(f"Invalid signal: {text}")
    return int(sig)
