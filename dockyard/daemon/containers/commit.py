"""POST /commit: a new image from a container's writable layer (docker commit)."""
from __future__ import annotations

import asyncio
import tempfile
import time

from ..http import ApiError


def _commit(svc, doc: dict, repo: str, tag: str, comment: str, author: str, changes: list[str],
            config_override: dict | None) -> str:
    from ...images import changes as changes_mod
    from ...images.compose import LayerBlob, host_platform_fields, store_layer_tar, write_image
    from ...snapshots.diff import write_diff

    store = svc.d.images.store
    image = store.get(doc["Image"])
    base_cfg = dict(image.config)
    run_cfg = dict(base_cfg.get("config") or {})
    # the container's settings become the image's defaults, as docker commit does
    c = doc["Config"]
    for k in ("Env", "Cmd", "Entrypoint", "WorkingDir", "User", "Labels", "ExposedPorts", "Volumes", "StopSignal",
              "Healthcheck", "OnBuild"):
        if c.get(k) not in (None, "", [], {}):
            run_cfg[k] = c[k]
    if config_override:
        run_cfg.update({k: v for k, v in config_override.items() if v not in (None, "", [], {})})
    if changes:
        try:
            run_cfg = changes_mod.apply(run_cfg, changes)
        except ValueError as e:
            raise ApiError(400, str(e)) from None
    layers_info = svc.d.snapshotter.layers(doc["Id"])
    with tempfile.TemporaryFile(dir=svc.cfg.data_root) as tmp:
        write_diff(layers_info, tmp)
        tmp.seek(0)
        blob = store_layer_tar(store.content, tmp, name="commit")
    old_layers = [LayerBlob(x.digest, x.media_type, x.size, x.diff_id, x.unpacked_size or 0) for x in image.layers]
    now = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime()) + ".000000000Z"
    cmd = " ".join([doc["Path"], *doc["Args"]])
    history = list(base_cfg.get("history") or [])
    history.append({"created": now, "created_by": cmd, **({"comment": comment} if comment else {}),
                    **({"author": author} if author else {})})
    config = dict(base_cfg)
    config.update(host_platform_fields())
    config.update({"config": run_cfg, "created": now, "history": history, "container": doc["Id"],
                   "container_config": {"Cmd": [doc["Path"], *doc["Args"]], "Image": doc["Image"]}})
    if author:
        config["author"] = author
    if comment:
        config["comment"] = comment
    tags = [f"{repo}:{tag or 'latest'}"] if repo else []
    img = write_image(store, config, old_layers + [blob], tags=tags, parent=image.id)
    return img.id


async def commit(svc, req) -> str:
    ref = req.q("container") or ""
    doc = svc.get(ref)
    body = req.json() if req.body.strip() else None
    changes = req.query.get("changes", [])
    pause = req.q("pause") in (None, "", "1", "true", "True")
    paused_here = False
    if pause and doc["State"]["Running"] and not doc["State"]["Paused"]:
        await svc.shim.pause(doc["Id"])
        paused_here = True
    try:
        image_id = await asyncio.to_thread(_commit, svc, doc, req.q("repo") or "", req.q("tag") or "",
                                           req.q("comment") or "", req.q("author") or "", changes,
                                           body if isinstance(body, dict) else None)
    except ApiError:
        raise
    except Exception as e:
        raise ApiError(500, f"committing container {ref}: {e}") from None
    finally:
        if paused_here:
            await svc.shim.resume(doc["Id"])
    svc.emit(doc, "commit", {"comment": req.q("comment") or ""})
    return image_id


