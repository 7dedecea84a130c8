"""Volume endpoints: /volumes (list, create, inspect, remove, prune)."""
from __future__ import annotations

from ...volumes.store import VolumeError, VolumeStore
from ..http import ApiError, json_response, no_content
from .common import parse_filters


def _err(e: VolumeError) -> ApiError:
    return ApiError(e.status, str(e))


def register(app, volumes: VolumeStore, events) -> None:
    @app.route("GET", "/volumes")
    async def list_volumes(req):
        try:
            vols = volumes.list(parse_filters(req))
        except VolumeError as e:
            raise _err(e) from None
        return json_response({"Volumes": vols, "Warnings": []})

    @app.route("POST", "/volumes/create")
    async def create_volume(req):
        body = req.json() or {}
        if not isinstance(body, dict):
            raise ApiError(400, "invalid JSON: the body must be an object")
        try:
            v = volumes.create(body.get("Name") or "", body.get("Driver") or "local", body.get("Labels") or {},
                               body.get("DriverOpts") or {})
        except VolumeError as e:
            raise _err(e) from None
        events("volume", "create", v["Name"], {"driver": v["Driver"]})
        out = dict(v)
        out.pop("Status", None)
        return json_response(out, status=201)

    @app.route("GET", "/volumes/{name}")
    async def inspect_volume(req):
        try:
            return json_response(volumes.inspect(req.params["name"]))
        except VolumeError as e:
            raise _err(e) from None

    @app.route("DELETE", "/volumes/{name}")
    async def remove_volume(req):
        name = req.params["name"]
        try:
            volumes.remove(name, force=req.qbool("force"))
        except VolumeError as e:
            raise _err(e) from None
        events("volume", "destroy", name, {"driver": "local"})
        return no_content()

    @app.route("POST", "/volumes/prune")
    async def prune_volumes(req):
        try:
            res = volumes.prune(parse_filters(req))
        except VolumeError as e:
            raise _err(e) from None
        for name in res["VolumesDeleted"]:
            events("volume", "destroy", name, {"driver": "local"})
        events("volume", "prune", "", {"reclaimed": str(res["SpaceReclaimed"])})
        return json_response(res)
