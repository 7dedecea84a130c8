"""Give decoded inspect JSON the shape Go's typed structs have for templates.

docker runs ``inspect --format`` on typed API structs: a struct prints as ``{v1 v2}`` and
a missing field is an error, a map prints as ``map[k:v]``, a nil slice as ``[]``, a nil
map as ``map[]``. JSON objects become ``GoStruct`` unless their key names a Go map; nulls
become typed nils when their key names a slice or a map.
"""
from __future__ import annotations

from .template.values import NIL_MAP, NIL_PTR, NIL_SLICE, GoStruct

# keys whose values are Go maps (any key allowed, missing keys print <no value>)
MAP_KEYS = {
    "Labels", "Options", "DriverOpts", "Networks", "Ports", "ExposedPorts", "Volumes", "Data", "Sysctls",
    "StorageOpt", "Tmpfs", "PortBindings", "Status", "Annotations", "Config:LogConfig", "ContainerConfig:Volumes",
    "Metadata",
}
# keys whose null values are nil slices
SLICE_KEYS = {
    "Cmd", "Entrypoint", "Env", "OnBuild", "Binds", "Links", "VolumesFrom", "CapAdd", "CapDrop", "Dns",
    "DnsOptions", "DnsSearch", "ExtraHosts", "GroupAdd", "SecurityOpt", "Devices", "DeviceCgroupRules",
    "DeviceRequests", "Ulimits", "Mounts", "MaskedPaths", "ReadonlyPaths", "Aliases", "RepoTags", "RepoDigests",
    "Layers", "Args", "ExecIDs", "Shell", "Warnings", "SecondaryIPAddresses", "SecondaryIPv6Addresses",
    "BlkioWeightDevice", "BlkioDeviceReadBps", "BlkioDeviceWriteBps", "BlkioDeviceReadIOps",
    "BlkioDeviceWriteIOps", "ConsoleSize", "DNSNames",
}


# struct fields Go always has but the daemon's JSON may leave out (omitempty pointers)
OMITTED = {"State": ("Health",), "Config": ("Healthcheck",)}


def typed(v, key: str = "", parent: str = ""):
    if isinstance(v, dict):
        is_map = key in MAP_KEYS or f"{key}:{parent}" in MAP_KEYS
        if key == "Config" and parent == "LogConfig":
            is_map = True
        if is_map:
            return {k: typed(x, k, key) for k, x in v.items()}
        st = GoStruct((k, typed(x, k, key)) for k, x in v.items())
        added = []
        for field in OMITTED.get(key, ()):
            if field not in st and (key != "Config" or "Image" in st):
                st[field] = NIL_PTR
                added.append(field)
        st.omit = tuple(added)
        return st
    if isinstance(v, list):
        return [typed(x, "", key) for x in v]
    if v is None and key:
        if key in SLICE_KEYS:
            return NIL_SLICE
        if key in MAP_KEYS:
            return NIL_MAP
        return NIL_PTR
    return v
