"""``-e``, ``--env-file``, ``-l`` and ``--label-file``: docker's validation and file format."""
from __future__ import annotations

import os


def validate_env(value: str, environ=os.environ) -> str:
    """opts.ValidateEnv: "K=v" as is; a bare "K" takes the local value when it is set."""
    key, eq, _ = value.partition("=")
    if key == "":
        raise ValueError(f"invalid environment variable: {value}")
    if eq:
        return value
    if key in environ:
        return f"{key}={environ[key]}"
    return value


def validate_label(value: str) -> str:
    key = value.partition("=")[0]
    if not key.strip():
        raise ValueError(f"invalid label '{value}': empty name")
    return value


def parse_env_file(path: str, environ=os.environ, lookup: bool = True) -> list[str]:
    """opts.ParseEnvFile: KEY=value lines, '#' comments, bare names taken from the environment."""
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError as e:
        raise ValueError(f"open {path}: {e.strerror.lower() if e.strerror else e}") from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise ValueError(f"env file {path} contains invalid utf8 bytes") from None
    if text.startswith("\ufeff"):
        text = text[1:]
    out = []
    for n, raw in enumerate(text.splitlines(), 1):
        line = raw.lstrip()
        if not line or line.startswith("#"):
            continue
        key, eq, value = line.partition("=")
        if not key:
            raise ValueError(f"no variable name on line '{line}'")
        if any(c.isspace() for c in key):
            raise ValueError(f"variable '{key}' contains whitespaces")
        if eq:
            out.append(f"{key}={value}")
        elif lookup and key in environ:
            out.append(f"{key}={environ[key]}")
        # a bare name that is not looked up (labels) or not set is dropped, as docker does
    return out


def read_kv(files: list[str], values: list[str], environ=os.environ, env: bool = True) -> list[str]:
    """Values from files first, then the flags (opts.ReadKVEnvStrings / ReadKVStrings)."""
    out = []
    for f in files:
        out += parse_env_file(f, environ, lookup=env)
    return out + list(values)


def kv_map(items: list[str]) -> dict[str, str]:
    """["a=b", "c"] → {"a": "b", "c": ""} (opts.ConvertKVStringsToMap)."""
    out: dict[str, str] = {}
    for it in items:
        k, _, v = it.partition("=")
        out[k] = v
    return out
