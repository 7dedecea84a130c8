"""One build, from the context stream to a tagged image: the classic builder's flow.

1. Unpack the context, read the Dockerfile (``-f``), parse it, drop ignored build files.
2. Resolve the global ARGs and the stages the target needs (``--target``), in build order.
3. For each stage: FROM (a stage, ``scratch``, or an image — pulled when missing or with ``--pull``),
   the base image's ONBUILD triggers, then each instruction: expanded, looked up in the cache by its
   key, else executed (``steps_config``, ``steps_run``, ``steps_files``); every step ends in an image.
4. ``--label``s on the last image, then the tags, then "Successfully built".

A failing step leaves the images of the steps before it (the cache), but no image for itself and no
tag: tags are only set once the whole build succeeded.
"""
from __future__ import annotations

import os
import shutil
import tempfile
import threading

from .. import commands as c
from ..args import GlobalScope, StageScope, platform_args
from ..errors import DockerfileError
from ..instructions import parse_dockerfile, parse_onbuild_triggers
from ..stages import build_order, stage_ref
from . import imageconfig, steps_config, steps_files, steps_run
from .backend import Backend
from .cache import cache_key
from .context import BuildContext
from .errors import BuildError, Cancelled
from .layers import View, Workspace
from .messages import Reporter
from .options import BuildOptions
from .stagestate import StageState


def dockerfile_error(e: DockerfileError) -> BuildError:
    if e.line:
        return BuildError(f"dockerfile parse error on line {e.line} of {e.filename}: {e.message}")
    return BuildError(f"{e.filename}: {e.message}")


class Build:
    def __init__(self, backend: Backend, opts: BuildOptions, reporter: Reporter,
                 cancel: threading.Event | None = None):
        self.backend = backend
        self.opts = opts
        self.reporter = reporter
        self.cancel = cancel or threading.Event()
        self.epoch = opts.source_date_epoch
        self.stages: dict[int, StageState] = {}
        self.views: dict[str, View] = {}
        self.ctx: BuildContext | None = None
        self.work = ""
        self.dockerfile = None
        self._n = 0

    # -- entry ---------------------------------------------------------------------------------------------
    def run(self, context_stream) -> str:
        """Build from the tar stream ``context_stream``; returns the image ID."""
        os.makedirs(self.backend.work_root, mode=0o700, exist_ok=True)
        self.work = tempfile.mkdtemp(prefix=f"{os.getpid()}-", dir=self.backend.work_root)
        try:
            self.ctx = BuildContext.receive(context_stream, os.path.join(self.work, "context"))
            rel, data = self.ctx.dockerfile(self.opts.dockerfile)
            try:
                self.dockerfile = parse_dockerfile(data, self.opts.dockerfile)
            except DockerfileError as e:
                raise dockerfile_error(e) from None
            self.ctx.drop_build_files(rel)
            try:
                return self._build()
            except DockerfileError as e:
                raise dockerfile_error(e) from None
        finally:
            for v in self.views.values():
                try:
                    v.close()
                except Exception:
                    pass
            self.views.clear()
            if self.ctx is not None:
                self.ctx.close()
            shutil.rmtree(self.work, ignore_errors=True)

    @property
    def scratch(self) -> str:
        path = os.path.join(self.work, "scratch")
        os.makedirs(path, mode=0o700, exist_ok=True)
        return path

    def created(self) -> str:
        return imageconfig.rfc3339(self.epoch)

    def check_cancel(self) -> None:
        if self.cancel.is_set():
            raise Cancelled("the build was cancelled: the client went away")

    # -- the build -------------------------------------------------------------------------------------------
    def _build(self) -> str:
        df = self.dockerfile
        from ...images.platform import host
        h = host()
        plat = f"{h.os}/{h.architecture}" + (f"/{h.variant}" if h.variant else "")
        gscope = GlobalScope(df, self.opts.build_args, automatic=platform_args(plat))
        try:
            order = build_order(df, gscope, self.opts.target or None)
        except DockerfileError as e:
            if self.opts.target and "could not be found" in e.message:
                raise BuildError(f"failed to reach build target {self.opts.target} in Dockerfile") from None
            raise
        total = len(df.meta_args) + sum(1 + len(info.stage.commands) for info in order)
        for meta in df.meta_args:
            self._next(total, meta.original)
        for info in order:
            self._stage(info, gscope, total)
        final = self.stages[order[-1].stage.index]
        if self.opts.labels:
            pairs = tuple(c.KeyValue(k, v) for k, v in sorted(self.opts.labels.items()))
            self.config_step(final, c.LabelInstruction(pairs=pairs, original="LABEL"), quiet=True)
        if not final.image_id:
            raise BuildError("No image was generated. Is your Dockerfile empty?")
        unused = [a for a in gscope.unused_build_args() if a != "SOURCE_DATE_EPOCH"]
        if unused:
            self.reporter.warning(f"One or more build-args [{' '.join(unused)}] were not consumed")
        for t in self.opts.tags:
            self.backend.images.tag(final.image_id, t)
        self.reporter.success(final.image_id, self.opts.tags)
        return final.image_id

    def _next(self, total: int, text: str) -> None:
        self._n += 1
        self.reporter.step(self._n, total, text)

    def _stage(self, info, gscope: GlobalScope, total: int) -> None:
        self.check_cancel()
        st = info.stage
        self._next(total, st.from_.original)
        if info.base_stage is not None:
            parent = self.stages[info.base_stage.index]
            state = StageState(st.name, StageScope(gscope, parent=parent.scope))
            if parent.image_id:
                state.load(self.backend.images.get(parent.image_id))
            else:
                state.start_scratch()
        elif info.base_is_scratch:
            state = StageState(st.name, StageScope(gscope, [imageconfig.DEFAULT_PATH]))
            state.start_scratch()
        else:
            img = self.image(info.from_.base_name, info.from_.platform or self.opts.platform)
            state = StageState(st.name, StageScope(gscope, img.run_config.get("Env") or []))
            state.load(img)
        if state.image_id:
            self.reporter.image(state.image_id)
        self.stages[st.index] = state
        triggers = list(state.run_config.get("OnBuild") or [])
        if triggers:
            state.run_config["OnBuild"] = None
            self.reporter.text(f"# Executing {len(triggers)} build trigger{'s' if len(triggers) > 1 else ''}\n")
            try:
                instructions = parse_onbuild_triggers(triggers, self.dockerfile.escape_token)
            except DockerfileError as e:
                raise BuildError(f"invalid ONBUILD trigger in the base image: {e.message}") from None
            for ins in instructions:
                self.step(state, ins)
        for ins in st.commands:
            self.check_cancel()
            self._next(total, ins.original)
            self.step(state, ins)

    def step(self, state: StageState, ins: c.Instruction) -> None:
        expanded = state.scope.step(ins)
        if isinstance(expanded, c.RunInstruction):
            steps_run.run(self, state, expanded)
        elif isinstance(expanded, (c.CopyInstruction, c.AddInstruction)):
            steps_files.copy(self, state, expanded)
        elif isinstance(expanded, c.WorkdirInstruction):
            steps_files.workdir(self, state, expanded)
        elif isinstance(expanded, c.FromInstruction):
            raise BuildError("FROM cannot be used here")
        else:
            self.config_step(state, expanded)

    def config_step(self, state: StageState, ins, quiet: bool = False) -> None:
        ch = steps_config.change(state, ins)
        for note in ch.notes:
            self.reporter.text(note)
        state.cmd_set = ch.cmd_set
        key = cache_key(state.image_id, "config", [ins.keyword, steps_config.key_payload(ch), self.epoch])
        if self.cached(state, key, quiet):
            return
        state.run_config, state.author = ch.run_config, ch.author
        image_id = state.commit(self.backend.images.store, self.created(), imageconfig.nop(state.shell, ch.comment))
        self.remember(key, image_id, quiet)

    # -- cache -----------------------------------------------------------------------------------------------
    def cached(self, state: StageState, key: str, quiet: bool = False) -> bool:
        if self.opts.no_cache:
            return False
        image_id = self.backend.cache.get(key)
        if not image_id:
            return False
        try:
            img = self.backend.images.get(image_id)
        except Exception:
            return False
        cmd_set = state.cmd_set
        state.load(img)
        state.cmd_set = cmd_set
        if not quiet:
            self.reporter.using_cache()
            self.reporter.image(image_id)
        return True

    def remember(self, key: str, image_id: str, quiet: bool = False) -> None:
        self.backend.cache.put(key, image_id)
        if not quiet:
            self.reporter.image(image_id)

    # -- images, trees, workspaces ----------------------------------------------------------------------------
    def image(self, ref: str, platform: str = ""):
        """A base image: pulled when missing, or always with ``--pull``."""
        from ...images import reference as refs
        from ...images.errors import ImageNotFound
        images = self.backend.images
        is_id = refs.is_id(ref) or ref.startswith("sha256:")
        if self.opts.pull and not is_id:
            self._pull(ref, platform)
        try:
            return images.get(ref)
        except ImageNotFound:
            if is_id:
                raise BuildError(f"No such image: {ref}") from None
        except Exception as e:
            raise BuildError(f"{ref}: {e}") from None
        self._pull(ref, platform)
        return images.get(ref)

    def _pull(self, ref: str, platform: str) -> None:
        from ...daemon.images import errors as imgerrors
        try:
            self.backend.images.pull(ref, platform=platform or None, auth=self._auth(ref),
                                     progress=self.reporter.progress, cancel=self.cancel)
        except Exception as e:
            if self.cancel.is_set():
                raise Cancelled("the build was cancelled: the client went away") from None
            raise BuildError(imgerrors.message(e)) from None

    def _auth(self, ref: str):
        from ...daemon.images import auth as authmod
        from ...images import reference as refs
        from ...registry import credentials as regcreds
        try:
            domain = refs.parse(ref).domain
        except refs.ReferenceError:
            return None
        want = regcreds.server_key(domain)
        for server, doc in self.opts.registry_auth.items():
            if isinstance(doc, dict) and regcreds.server_key(server) == want:
                a = authmod.from_dict(doc)
                a.server = a.server or server
                return a
        return None

    def image_id_for(self, ref: str) -> str:
        """The image a ``--from`` names: a stage's result (by name or index) or an image."""
        st = stage_ref(self.dockerfile, ref)
        if st is not None:
            state = self.stages.get(st.index)
            if state is None:
                raise BuildError(f"stage {ref!r} is not built before it is used")
            return state.image_id
        return self.image(ref, self.opts.platform).id

    def tree_for(self, ref: str) -> str:
        """The host directory with the files of what ``--from=ref`` names (mounted read-only)."""
        return self.view(self.image_id_for(ref)).root

    def view(self, image_id: str) -> View:
        v = self.views.get(image_id)
        if v is None:
            chain = self.backend.images.unpack(image_id) if image_id else None
            v = View(self.backend.snapshotter, chain, os.path.join(self.work, "views", os.urandom(6).hex()))
            self.views[image_id] = v
        return v

    def workspace(self, state: StageState) -> Workspace:
        chain = self.backend.images.unpack(state.image_id) if state.image_id else None
        return Workspace(self.backend.snapshotter, chain, os.path.join(self.work, "mnt-" + os.urandom(6).hex()))
