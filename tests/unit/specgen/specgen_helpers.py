"""Helpers for the spec generation tests: a rootfs with /etc/passwd and /etc/group, the dockerd 20.10
golden cases (golden/dockerd-20.10-cases.json, see golden/README.md) and their delta encoding."""
from __future__ import annotations

import copy
import json
import os

HERE = os.path.dirname(os.path.abspath(__file__))
GOLDEN = os.path.join(HERE, "golden", "dockerd-20.10-cases.json")
REFERENCE_CONFIG = "/work/shared/reference/oci-bundle-examples/dockerd-20.10.24-busybox-sleep-config.json"
if not os.path.exists(REFERENCE_CONFIG):
    REFERENCE_CONFIG = os.path.join(HERE, "../../../../shared/reference/oci-bundle-examples/"
                                          "dockerd-20.10.24-busybox-sleep-config.json")

CID = "0123456789ab" + "cdef" * 13  # 64 hex digits

PASSWD = ("root:x:0:0:root:/root:/bin/sh\n"
          "daemon:x:1:1:daemon:/usr/sbin:/bin/false\n"
          "bob:x:1000:100:bob:/home/bob:/bin/sh\n"
          "nobody:x:65534:65534:nobody:/home:/bin/false\n")
GROUP = ("root:x:0:root\ndaemon:x:1:root,bin,daemon\nbin:x:2:root,bin,daemon\nsys:x:3:root,bin,adm\n"
         "adm:x:4:root,adm,daemon\ntty:x:5:\ndisk:x:6:root,adm\nwheel:x:10:root\nfloppy:x:11:root\n"
         "tape:x:26:root\nvideo:x:27:root\nusers:x:100:games,bob\nnogroup:x:65534:\n")


def apply_delta(base, delta):
    """Rebuild a document stored as a delta of another: objects merge key by key, {"$deleted": true}
    removes a key, anything else replaces."""
    if not isinstance(delta, dict) or not isinstance(base, dict):
        return copy.deepcopy(delta)
    out = copy.deepcopy(base)
    for k, v in delta.items():
        if v == {"$deleted": True}:
            out.pop(k, None)
        elif isinstance(v, dict) and isinstance(out.get(k), dict):
            out[k] = apply_delta(out[k], v)
        else:
            out[k] = copy.deepcopy(v)
    return out


def make_rootfs(root: str, passwd: str = PASSWD, group: str = GROUP) -> str:
    os.makedirs(os.path.join(root, "etc"), exist_ok=True)
    with open(os.path.join(root, "etc", "passwd"), "w") as f:
        f.write(passwd)
    with open(os.path.join(root, "etc", "group"), "w") as f:
        f.write(group)
    return root


def base_request(**changes) -> dict:
    """What the Docker CLI 28 sends for ``docker run busybox sleep 30`` (golden base), with changes:
    top-level keys for Config fields, ``HostConfig`` a dict merged into the HostConfig."""
    with open(GOLDEN) as f:
        req = copy.deepcopy(json.load(f)["base"]["request"])
    hc = changes.pop("HostConfig", {})
    req.update(changes)
    req["HostConfig"].update(hc)
    return req

