"""RUN: a container from the stage's image runs the command with the stage's shell, environment
(ENV, declared ARGs, proxy build args), user, working directory, network and ``--mount``s; what it
changed becomes the step's layer.

The cache key is the parent image and everything that decides what runs: the argv, a heredoc
script's text, the environment, user, working directory, network and the mounts (with the images
``from=`` names). A non-zero exit ends the build with dockerd's message ("The command '/bin/sh -c
false' returned a non-zero code: 1") and that code; the container goes away either way.
"""
from __future__ import annotations

import logging
import os

from .. import commands as c
from . import layers
from .cache import cache_key
from .errors import BuildError, RunError
from .runmounts import RunMounts
from .runner import RunSpec

log = logging.getLogger("dockyard.build")


def history_command(argv: list[str], args: list[tuple[str, str]]) -> str:
    """created_by of a RUN: the command, after ``|N k=v …`` when ARGs were in scope (dockerd's form)."""
    cmd = " ".join(argv)
    if args:
        return f"|{len(args)} " + " ".join(f"{k}={v}" for k, v in args) + " " + cmd
    return cmd


def run(b, state, ins: c.RunInstruction) -> None:
    if ins.security == "insecure":
        raise BuildError("RUN --security=insecure is not allowed by this builder")
    plan = ins.plan(state.shell)
    argv = list(plan.args)
    cfg = state.run_config
    user, workdir = cfg.get("User") or "", cfg.get("WorkingDir") or ""
    network = ins.network if ins.network not in ("", "default") else b.opts.network
    env = state.scope.run_env()
    from_ids = [b.image_id_for(m.from_) for m in ins.mounts if m.from_ and m.type == "bind"]
    mounts = RunMounts(ins.mounts, workdir, b.ctx.root, b.backend.cache_mounts, b.scratch, b.tree_for)
    script = [plan.script.name, plan.script.text] if plan.script else None
    key = cache_key(state.image_id, "run", {
        "argv": argv, "script": script, "env": env, "user": user, "workdir": workdir, "network": network,
        "mounts": mounts.key(), "from": from_ids, "hosts": b.opts.extra_hosts, "epoch": b.epoch})
    if b.cached(state, key):
        return
    if not state.image_id:
        raise BuildError(f"The command '{' '.join(argv)}' cannot run: the image has no files yet (FROM scratch)")
    api_mounts = mounts.prepare()
    stubs = list(layers.RUNTIME_STUBS) + mounts.targets
    runner = b.backend.runner
    cid = ""
    try:
        if plan.script is not None:
            target = f"{plan.SCRIPT_DIR}/{plan.script.name}"
            path = os.path.join(b.scratch, "script-" + os.urandom(6).hex())
            with open(path, "w") as f:
                f.write(plan.script.text)
            os.chmod(path, 0o755)
            api_mounts = api_mounts + [{"Type": "bind", "Source": path, "Target": target, "ReadOnly": True}]
        cid = runner.create(RunSpec(state.image_id, argv, env, user, workdir, network, api_mounts,
                                    b.opts.extra_hosts))
        b.reporter.running_in(cid)
        code = runner.run(cid, b.reporter.output, b.cancel)
        if code != 0:
            raise RunError(f"The command '{' '.join(argv)}' returned a non-zero code: {code}", code)
        snap = runner.snapshot_key(cid)
        blob = layers.diff_to_blob(b.backend.snapshotter, b.backend.images.store.content, snap, b.work, b.epoch,
                                   stubs)
        image_id = state.commit(b.backend.images.store, b.created(),
                                history_command(argv, state.scope.run_args()), blob)
        layers.adopt(b.backend.snapshotter, snap, state.diff_ids)
    except BaseException:
        mounts.release()
        if cid:
            try:
                runner.remove(cid)
            except Exception:   # the step's own error says more
                pass
        raise
    mounts.release()
    try:
        runner.remove(cid)
    except Exception as e:   # the step is done; the container is the daemon's to clean up now
        log.warning("removing build container %s: %s", cid[:12], e)
    b.reporter.removing(cid)
    b.remember(key, image_id)
