"""The daemon's seccomp hook for spec generation (``specgen_security.SeccompHook``).

``hook(None, spec)`` is Dockyard's default profile for the container's bounding capabilities;
``hook(json_text, spec)`` is the user's profile (``--security-opt seccomp=FILE``, whose contents
the CLI sends). ``--security-opt seccomp=unconfined`` and ``--privileged`` never reach the hook.
"""
from __future__ import annotations

from . import seccomp_default, seccomp_profile


def container_caps(spec: dict) -> list[str]:
    return list(((spec.get("process") or {}).get("capabilities") or {}).get("bounding") or [])


def hook(profile: str | None, spec: dict) -> dict | None:
    caps = container_caps(spec)
    if profile is None:
        return seccomp_default.profile(caps)
    return seccomp_profile.load(profile, caps)  # ProfileError is a ValueError: specgen makes it a 400
