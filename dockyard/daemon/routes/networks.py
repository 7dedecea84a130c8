"""Network endpoints (moby's router/network): list, inspect, create, remove, connect, disconnect, prune."""
from __future__ import annotations

import re

from ..http import ApiError, Response, json_response, no_content
from .common import parse_filters

LIST_FILTERS = ("dangling", "driver", "id", "label", "name", "scope", "type")
PRUNE_FILTERS = ("label", "label!", "until")
_TRUE, _FALSE = ("true", "1"), ("false", "0")


def _match(pattern: str, value: str) -> bool:
    """moby's filters.Match: equal, or the value matches the term as a regular expression."""
    if pattern == value:
        return True
    try:
        return re.search(pattern, value) is not None
    except re.error:
        return False


def _labels_match(wanted, labels: dict) -> bool:
    """MatchKVList: every ``key`` or ``key=value`` is among the labels."""
    for w in wanted:
        k, eq, v = w.partition("=")
        if k not in labels or (eq and labels[k] != v):
            return False
    return True


def _check(filters: dict, accepted) -> None:
    for key in filters:
        if key not in accepted:
            raise ApiError(400, f"invalid filter '{key}'")


def go_order(n: dict) -> dict:
    """dockerd's field order (its Go structs'), which the docker CLI's ``--format`` shows: IPAM configs
    as Subnet, IPRange, Gateway, AuxiliaryAddresses."""
    keys = ("Subnet", "IPRange", "Gateway", "AuxiliaryAddresses")
    ipam = n.get("IPAM") or {}
    ipam["Config"] = [{k: c[k] for k in keys if k in c} | {k: v for k, v in c.items() if k not in keys}
                      for c in ipam.get("Config") or []]
    return n


def filter_networks(nets: list[dict], f: dict) -> list[dict]:
    _check(f, LIST_FILTERS)
    out = []
    for n in nets:
        if "driver" in f and n["Driver"] not in f["driver"]:
            continue
        if "name" in f and not any(_match(p, n["Name"]) for p in f["name"]):
            continue
        if "id" in f and not any(_match(p, n["Id"]) for p in f["id"]):
            continue
        if "label" in f and not _labels_match(f["label"], n.get("Labels") or {}):
            continue
        if "scope" in f and n["Scope"] not in f["scope"]:
            continue
        out.append(n)
    for v in f.get("dangling", []):
        if v.lower() not in _TRUE + _FALSE:
            raise ApiError(400, f"invalid filter 'dangling={v}'")
    if f.get("dangling"):
        want = f["dangling"][-1].lower() in _TRUE
        out = [n for n in out if (n["Name"] not in ("bridge", "host", "none") and not n["Containers"]) == want]
    types = f.get("type") or []
    for t in types:
        if t not in ("custom", "builtin"):
            raise ApiError(400, f"invalid filter: 'type'='{t}'")
    if types:
        out = [n for n in out if ("builtin" if n["Name"] in ("bridge", "host", "none") else "custom") in types]
    return out


def _until(value: str) -> float:
    from ..containers.service import _until_seconds
    try:
        return _until_seconds(value)
    except (ValueError, IndexError):
        raise ApiError(400, f"invalid filter 'until={value}'") from None


def _created_seconds(created: str) -> float:
    from ..containers.logs import parse_time
    return parse_time(created) / 1e9


def register(app, daemon) -> None:
    nets = daemon.networks
    emit = daemon.events.emit

    @app.route("GET", "/networks")
    async def list_networks(req):
        f = parse_filters(req)
        out = filter_networks(await nets.call(lambda: nets.service.list()), f)
        for n in out:   # the list shows no containers (as dockerd's), only inspect does
            n["Containers"] = {}
        return json_response([go_order(n) for n in out])

    @app.route("GET", "/networks/{id}")
    async def inspect_network(req):
        if (req.q("scope") or "local") not in ("local", ""):
            raise ApiError(404, f"network {req.params['id']} not found")
        return json_response(go_order(await nets.call(lambda: nets.service.inspect(req.params["id"]))))

    @app.route("POST", "/networks/create")
    async def create_network(req):
        body = req.json()
        res = await nets.create(body)
        info = await nets.call(lambda: nets.service.inspect(res["Id"]))
        emit("network", "create", res["Id"], {"name": info["Name"], "type": info["Driver"]})
        return json_response(res, status=201)

    @app.route("DELETE", "/networks/{id}")
    async def remove_network(req):
        info = await nets.call(lambda: nets.service.inspect(req.params["id"]))
        await nets.call(lambda: nets.service.remove(info["Id"]))
        emit("network", "destroy", info["Id"], {"name": info["Name"], "type": info["Driver"]})
        return no_content()

    @app.route("POST", "/networks/{id}/connect")
    async def connect(req):
        body = req.json() or {}
        if not isinstance(body, dict) or not isinstance(body.get("Container"), str) or not body["Container"]:
            raise ApiError(400, "network connect: Container is required")
        net, doc = await nets.connect_container(req.params["id"], body["Container"], body.get("EndpointConfig") or {})
        emit("network", "connect", net["Id"], {"container": doc["Id"], "name": net["Name"], "type": net["Driver"]})
        return _ok()

    @app.route("POST", "/networks/{id}/disconnect")
    async def disconnect(req):
        body = req.json() or {}
        if not isinstance(body, dict) or not isinstance(body.get("Container"), str) or not body["Container"]:
            raise ApiError(400, "network disconnect: Container is required")
        net, doc = await nets.disconnect_container(req.params["id"], body["Container"], bool(body.get("Force")))
        emit("network", "disconnect", net["Id"], {"container": doc["Id"], "name": net["Name"],
                                                  "type": net["Driver"]})
        return _ok()

    @app.route("POST", "/networks/prune")
    async def prune(req):
        f = parse_filters(req)
        _check(f, PRUNE_FILTERS)
        until = _until(f["until"][-1]) if f.get("until") else None
        keep_labels, drop_labels = f.get("label") or [], f.get("label!") or []

        def keep(info: dict) -> bool:
            labels = info.get("Labels") or {}
            if until is not None and _created_seconds(info["Created"]) > until:
                return True
            if keep_labels and not _labels_match(keep_labels, labels):
                return True
            if drop_labels and any(_labels_match([w], labels) for w in drop_labels):
                return True
            return False
        before = {n["Name"]: n for n in await nets.call(lambda: nets.service.list())}
        removed = await nets.call(lambda: nets.service.prune(keep))
        for name in removed:
            info = before.get(name) or {}
            emit("network", "destroy", info.get("Id", ""), {"name": name, "type": info.get("Driver", "bridge")})
        emit("network", "prune", "", {})
        return json_response({"NetworksDeleted": removed})


def _ok() -> Response:
    return Response(200)
