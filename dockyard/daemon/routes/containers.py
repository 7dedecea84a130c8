"""Container and exec endpoints (moby's router/container and router/exec)."""
from __future__ import annotations

import asyncio
import json

from ..containers import logs as logsmod
from ..http import ApiError, ClientGone, Response, json_response, no_content
from .common import parse_filters


def _not_modified() -> Response:
    return Response(304)


def register(app, daemon) -> None:
    svc = daemon.containers
    execs = daemon.execs

    @app.route("POST", "/containers/create")
    async def create(req):
        res = await svc.create(req.json(), req.q("name"), req.q("platform"))
        return json_response(res, status=201)

    @app.route("GET", "/containers/json")
    async def list_(req):
        from ..containers.filters import check
        filters = parse_filters(req)
        check(filters)
        limit = req.qint("limit", -1)
        return json_response(svc.list(req.qbool("all"), limit, req.qbool("size"), filters))

    @app.route("GET", "/containers/{id}/json")
    async def inspect(req):
        return json_response(svc.inspect(req.params["id"], req.qbool("size")))

    @app.route("POST", "/containers/{id}/start")
    async def start(req):
        if req.q("checkpoint"):
            raise ApiError(400, "checkpoints are not supported")
        return no_content() if await svc.start(req.params["id"]) else _not_modified()

    @app.route("POST", "/containers/{id}/stop")
    async def stop(req):
        t = req.q("t")
        stopped = await svc.stop(req.params["id"], int(t) if t not in (None, "") else None, req.q("signal"))
        return no_content() if stopped else _not_modified()

    @app.route("POST", "/containers/{id}/restart")
    async def restart(req):
        t = req.q("t")
        await svc.restart(req.params["id"], int(t) if t not in (None, "") else None)
        return no_content()

    @app.route("POST", "/containers/{id}/kill")
    async def kill(req):
        await svc.kill(req.params["id"], req.q("signal") or "SIGKILL")
        return no_content()

    @app.route("POST", "/containers/{id}/pause")
    async def pause(req):
        await svc.pause(req.params["id"])
        return no_content()

    @app.route("POST", "/containers/{id}/unpause")
    async def unpause(req):
        await svc.unpause(req.params["id"])
        return no_content()

    @app.route("DELETE", "/containers/{id}")
    async def remove(req):
        if req.qbool("link"):
            raise ApiError(400, "links are not supported")
        await svc.remove(req.params["id"], req.qbool("force"), req.qbool("v"))
        return no_content()

    @app.route("POST", "/containers/{id}/wait")
    async def wait(req):
        cond = req.q("condition") or "not-running"
        doc = svc.get(req.params["id"])
        waiter = asyncio.ensure_future(svc.wait(doc["Id"], cond))
        # docker answers the headers at once and the body when the container stops
        stream = await req.stream(200, "application/json")
        gone = asyncio.ensure_future(req.wait_disconnected())
        try:
            done, _ = await asyncio.wait({waiter, gone}, return_when=asyncio.FIRST_COMPLETED)
            if waiter in done:
                code = waiter.result()
                err = svc.get(doc["Id"])["State"].get("Error") if cond != "removed" else ""
                body = {"StatusCode": code, "Error": {"Message": err} if err else None}
                try:
                    await stream.write(json.dumps(body).encode() + b"\n")
                except ClientGone:
                    pass
        except ApiError as e:
            try:
                await stream.write(json.dumps({"StatusCode": -1, "Error": {"Message": e.message}}).encode() + b"\n")
            except ClientGone:
                pass
        finally:
            for f in (waiter, gone):
                if not f.done():
                    f.cancel()
        return stream

    @app.route("POST", "/containers/{id}/rename")
    async def rename(req):
        name = req.q("name")
        if not name:
            raise ApiError(400, "Neither old nor new names may be empty")
        await svc.rename(req.params["id"], name)
        return no_content()

    @app.route("POST", "/containers/{id}/update")
    async def update(req):
        warnings = await svc.update(req.params["id"], req.json() or {})
        return json_response({"Warnings": warnings})

    @app.route("POST", "/containers/prune")
    async def prune(req):
        return json_response(await svc.prune(parse_filters(req)))

    @app.route("POST", "/containers/{id}/resize")
    async def resize(req):
        doc = svc.get(req.params["id"])
        if not doc["State"]["Running"]:
            raise ApiError(409, f"Container {doc['Id']} is not running")
        await svc.shim.resize(doc["Id"], height=req.qint("h"), width=req.qint("w"))
        return Response(200)

    @app.route("GET", "/containers/{id}/logs")
    async def logs(req):
        doc = svc.get(req.params["id"])
        if doc["HostConfig"]["LogConfig"]["Type"] == "none":
            raise ApiError(501, "configured logging driver does not support reading")
        stdout, stderr = req.qbool("stdout"), req.qbool("stderr")
        if not (stdout or stderr):
            raise ApiError(400, "Bad parameters: you must choose at least one stream")
        try:
            since = logsmod.parse_api_time(req.q("since"))
            until = logsmod.parse_api_time(req.q("until"))
        except ValueError as e:
            raise ApiError(400, str(e)) from None
        tail_q = req.q("tail") or "all"
        tail = None if tail_q == "all" else (int(tail_q) if tail_q.lstrip("-").isdigit() else None)
        if tail is not None and tail < 0:
            tail = None
        ts = req.qbool("timestamps")
        mux = not doc["Config"].get("Tty")
        path = doc["LogPath"]
        start_size = logsmod.current_size(path)
        entries = await asyncio.to_thread(lambda: logsmod.select(
            logsmod.read_entries(path), stdout=stdout, stderr=stderr, since=since, until=until, tail=tail))
        stream = await req.stream(200, "application/vnd.docker.multiplexed-stream" if mux
                                  else "application/vnd.docker.raw-stream")
        try:
            buf = b"".join(logsmod.render(e, timestamps=ts, multiplexed=mux) for e in entries)
            if buf:
                await stream.write(buf)
            if req.qbool("follow") and (until is None):
                cid = doc["Id"]

                def running():
                    d = svc.db.get("containers", cid)
                    return d is not None and (d["State"]["Running"] or d["State"].get("Restarting"))
                async for e in logsmod.follow(path, start_size, running):
                    if (e[1] == "stdout" and not stdout) or (e[1] == "stderr" and not stderr):
                        continue
                    await stream.write(logsmod.render(e, timestamps=ts, multiplexed=mux))
        except ClientGone:
            pass
        return stream

    @app.route("POST", "/containers/{id}/attach")
    async def attach(req):
        from ..containers.streams import pump
        doc = svc.get(req.params["id"])
        stdin, stdout, stderr = req.qbool("stdin"), req.qbool("stdout"), req.qbool("stderr")
        tty = bool(doc["Config"].get("Tty"))
        if req.qbool("logs") and doc["LogPath"]:
            entries = await asyncio.to_thread(lambda: logsmod.select(
                logsmod.read_entries(doc["LogPath"]), stdout=stdout, stderr=stderr))
        else:
            entries = []
        if not req.qbool("stream"):
            conn = await req.hijack("application/vnd.docker.raw-stream" if tty
                                    else "application/vnd.docker.multiplexed-stream")
            for e in entries:
                await conn.write(logsmod.render(e, timestamps=False, multiplexed=not tty))
            await conn.close()
            return None
        params = {"stdin": stdin and bool(doc["Config"].get("OpenStdin")), "stdout": stdout, "stderr": stderr}
        if doc["State"]["Running"]:
            try:
                reader, writer = await svc.shim.attach(doc["Id"], **params)
            except Exception as e:
                raise ApiError(500, f"attach: {e}") from None
            conn = await req.hijack("application/vnd.docker.raw-stream" if tty
                                    else "application/vnd.docker.multiplexed-stream")
        else:
            # docker run attaches before it starts the container: wait for the start
            fut = asyncio.get_running_loop().create_future()
            svc.pending_attaches.setdefault(doc["Id"], []).append((fut, params))
            conn = await req.hijack("application/vnd.docker.raw-stream" if tty
                                    else "application/vnd.docker.multiplexed-stream")
            gone = asyncio.ensure_future(req.wait_disconnected())
            try:
                await asyncio.wait({fut, gone}, return_when=asyncio.FIRST_COMPLETED)
            finally:
                gone.cancel()
            if not fut.done():
                fut.cancel()
                await conn.close()
                return None
            try:
                reader, writer = fut.result()
            except Exception:
                await conn.close()
                return None
        for e in entries:
            await conn.write(logsmod.render(e, timestamps=False, multiplexed=not tty))
        outcome = await pump(conn, reader, writer, stdin=stdin, detach_keys=req.q("detachKeys") or "")
        if outcome == "detached":
            svc.emit(svc.get(doc["Id"]), "detach")
        return None

    @app.route("GET", "/containers/{id}/top")
    async def top(req):
        from ..containers.inspecting import top as top_fn
        return json_response(await top_fn(svc, req.params["id"], req.q("ps_args") or "-ef"))

    @app.route("GET", "/containers/{id}/stats")
    async def stats(req):
        from ..containers.inspecting import stats_stream
        return await stats_stream(svc, req, req.params["id"],
                                  stream=req.q("stream") in (None, "", "1", "true", "True"),
                                  one_shot=req.qbool("one-shot"))

    @app.route("GET", "/containers/{id}/changes")
    async def changes(req):
        from ..containers.inspecting import changes as changes_fn
        return json_response(await changes_fn(svc, req.params["id"]))

    @app.route("GET", "/containers/{id}/export")
    async def export(req):
        from ..containers.archive import export_stream
        return await export_stream(svc, req, req.params["id"])

    @app.route("GET", "/containers/{id}/archive")
    async def archive_get(req):
        from ..containers.archive import get_archive
        return await get_archive(svc, req, req.params["id"], req.q("path") or "")

    @app.route("HEAD", "/containers/{id}/archive")
    async def archive_head(req):
        from ..containers.archive import stat_archive
        return await stat_archive(svc, req.params["id"], req.q("path") or "")

    @app.route("PUT", "/containers/{id}/archive", stream=True)
    async def archive_put(req):
        from ..containers.archive import put_archive
        return await put_archive(svc, req, req.params["id"], req.q("path") or "",
                                 no_overwrite=req.qbool("noOverwriteDirNonDir"), copy_uidgid=req.qbool("copyUIDGID"))

    @app.route("POST", "/commit")
    async def commit(req):
        from ..containers.commit import commit as commit_fn
        return json_response({"Id": await commit_fn(svc, req)}, status=201)

    # ---- exec -----------------------------------------------------------------------------------
    @app.route("POST", "/containers/{id}/exec")
    async def exec_create(req):
        return json_response({"Id": execs.create(req.params["id"], req.json() or {})}, status=201)

    @app.route("POST", "/exec/{id}/start")
    async def exec_start(req):
        body = req.json() or {}
        await execs.start(req.params["id"], body, req)
        return no_content() if body.get("Detach") else None

    @app.route("POST", "/exec/{id}/resize")
    async def exec_resize(req):
        await execs.resize(req.params["id"], req.qint("h"), req.qint("w"))
        return Response(200)

    @app.route("GET", "/exec/{id}/json")
    async def exec_inspect(req):
        return json_response(execs.inspect(req.params["id"]))
