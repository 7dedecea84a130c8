"""GET /containers/json filters (docker ps -f): id, name, label, status, exited, ancestor, before, since,
volume, health, network."""
from __future__ import annotations

from ..http import ApiError

STATUSES = ("created", "restarting", "running", "removing", "paused", "exited", "dead")
KNOWN = {"id", "name", "label", "status", "exited", "ancestor", "before", "since", "volume", "health", "network",
         "isolation", "publish", "expose", "is-task"}


def check(filters: dict) -> None:
    for k, values in filters.items():
        if k not in KNOWN:
            raise ApiError(400, f"invalid filter '{k}'")
        if k == "status":
            for v in values:
                if v not in STATUSES:
                    raise ApiError(400, f"invalid filter 'status={v}'")
        if k == "exited":
            for v in values:
                if not v.lstrip("-").isdigit():
                    raise ApiError(400, f"invalid filter 'exited={v}'")
        if k == "health":
            for v in values:
                if v not in ("starting", "healthy", "unhealthy", "none"):
                    raise ApiError(400, f"Unrecognised filter value for health: {v}")


def _image_matches(svc, doc: dict, wanted: str) -> bool:
    if doc["Config"].get("Image") == wanted or doc["Image"] == wanted or doc["Image"].split(":")[-1].startswith(wanted):
        return True
    try:
        return svc.d.images.get(wanted).id == doc["Image"]
    except Exception:
        return False


def match(svc, doc: dict, filters: dict) -> bool:
    st = doc["State"]
    for k, values in filters.items():
        if not values:
            continue
        if k == "id" and not any(doc["Id"].startswith(v) for v in values):
            return False
        if k == "name" and not any(v.lstrip("/") in doc["Name"].lstrip("/") for v in values):
            return False
        if k == "status" and st["Status"] not in values:
            return False
        if k == "exited" and (st["Running"] or st["StartedAt"].startswith("0001") or
                              str(st["ExitCode"]) not in values):
            return False
        if k == "label":
            labels = doc["Config"].get("Labels") or {}
            for lab in values:
                key, eq, val = lab.partition("=")
                if key not in labels or (eq and labels[key] != val):
                    return False
        if k == "ancestor" and not any(_image_matches(svc, doc, v) for v in values):
            return False
        if k in ("before", "since"):
            other = svc.get(values[-1])
            if k == "before" and not doc["Created"] < other["Created"]:
                return False
            if k == "since" and not doc["Created"] > other["Created"]:
                return False
        if k == "volume":
            ok = any(m.get("Name") in values or m.get("Destination") in values or m.get("Source") in values
                     for m in doc.get("Mounts") or [])
            if not ok:
                return False
        if k == "health":
            h = (st.get("Health") or {}).get("Status") or "none"
            if h not in values:
                return False
        if k == "network":
            nets = set((doc["NetworkSettings"].get("Networks") or {}).keys()) | {doc["HostConfig"].get("NetworkMode")}
            if not nets & set(values):
                return False
    return True
