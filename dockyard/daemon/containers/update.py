"""POST /containers/{id}/update: resources and restart policy of an existing container."""
from __future__ import annotations

from ..http import ApiError

RESOURCE_KEYS = ("CpuShares", "Memory", "CgroupParent", "BlkioWeight", "CpuPeriod", "CpuQuota", "CpuRealtimePeriod",
                 "CpuRealtimeRuntime", "CpusetCpus", "CpusetMems", "MemoryReservation", "MemorySwap",
                 "NanoCpus", "PidsLimit", "KernelMemory", "OomKillDisable", "MemorySwappiness")


async def update_container(svc, ref: str, body: dict) -> list[str]:
    if not isinstance(body, dict):
        raise ApiError(400, "invalid JSON: the request body must be an object")
    doc = svc.get(ref)
    hc = dict(doc["HostConfig"])
    changed = False
    for k in RESOURCE_KEYS:
        if k in body and body[k] not in (None,):
            if k == "CgroupParent" and body[k] != hc.get(k):
                raise ApiError(400, "Cannot update CgroupParent")
            hc[k] = body[k]
            changed = True
    if body.get("RestartPolicy") and body["RestartPolicy"].get("Name"):
        pol = body["RestartPolicy"]
        if hc.get("AutoRemove") and pol["Name"] != "no":
            raise ApiError(400, "Restart policy cannot be updated because AutoRemove is enabled for the container")
        hc["RestartPolicy"] = {"Name": pol["Name"], "MaximumRetryCount": pol.get("MaximumRetryCount") or 0}
    if changed and hc.get("Memory") and hc.get("MemorySwap") and 0 < hc["MemorySwap"] < hc["Memory"]:
        raise ApiError(400, "Minimum memoryswap limit should be larger than memory limit, see usage")
    if changed and doc["State"]["Running"]:
        from .specgen_glue import resources_for
        try:
            await svc.shim.update(doc["Id"], resources_for(svc, doc, hc))
        except Exception as e:
            raise ApiError(500, f"Cannot update container {doc['Id']}: {e}") from None
    async with svc.lock(doc["Id"]):
        doc = svc.get(doc["Id"])
        doc["HostConfig"] = hc
        svc.save(doc)
    svc.emit(doc, "update")
    return []
