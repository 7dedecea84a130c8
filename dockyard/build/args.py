"""Build arguments and environment: which variables each instruction sees.

The rules, as in BuildKit:

- ARGs before the first FROM form the *global scope*: their defaults are expanded in order
  (each may use the ones before it), ``--build-arg`` overrides them, and they are visible to
  FROM lines (image name and ``--platform``) only. The automatic platform ARGs (TARGETPLATFORM,
  BUILDARCH, ...) belong to the global scope too.
- Inside a stage an ARG is visible from its declaration on. Its value is the ``--build-arg``
  if given, else its default (expanded with the stage's variables at that point), else -- when
  declared without a default -- the global ARG of the same name. An ARG with none of these is
  declared but unset (``${X-default}`` gives ``default``).
- ENV and ARG values share the stage's variable set, later declarations replacing earlier
  ones; only ENV values go into the image config.
- A stage built FROM another stage starts with that stage's variables and ARGs.
- The proxy variables (HTTP_PROXY, https_proxy, NO_PROXY, ...) given as ``--build-arg`` reach
  RUN without being declared, and are not recorded in the image.
"""
from __future__ import annotations

from typing import Iterable, Mapping

from .commands import ArgDef, ArgInstruction, EnvInstruction, FromInstruction, Instruction
from .errors import DockerfileError
from .instructions import Dockerfile, Stage
from .shell_lex import Lex, build_envs

PROXY_ARGS = ("HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy", "FTP_PROXY", "ftp_proxy",
              "NO_PROXY", "no_proxy", "ALL_PROXY", "all_proxy")


def _split_platform(p: str) -> tuple[str, str, str]:
    parts = p.split("/")
    if not 2 <= len(parts) <= 3 or not all(parts):
        raise ValueError(f"invalid platform {p!r}: want os/arch[/variant]")
    return parts[0], parts[1], parts[2] if len(parts) == 3 else ""


def platform_args(target: str, build: str | None = None) -> dict[str, str]:
    """BuildKit's automatic ARGs for a target platform ("linux/arm64/v8") and build platform."""
    build = build or target
    out: dict[str, str] = {}
    for prefix, plat in (("BUILD", build), ("TARGET", target)):
        os_, arch, variant = _split_platform(plat)
        out[prefix + "PLATFORM"] = plat
        out[prefix + "OS"] = os_
        out[prefix + "ARCH"] = arch
        out[prefix + "VARIANT"] = variant
    return out


class GlobalScope:
    """The global ARGs of a Dockerfile for one build, and the record of consumed build args."""

    def __init__(self, dockerfile: Dockerfile, build_args: Mapping[str, str] | None = None,
                 automatic: Mapping[str, str] | None = None):
        self.dockerfile = dockerfile
        self.lex: Lex = dockerfile.lex()
        # a build arg given without a value (None) counts as not given, as in Docker
        self.build_args: dict[str, str] = {k: v for k, v in (build_args or {}).items() if v is not None}
        self.values: dict[str, str] = dict(automatic or {})
        self.consumed: set[str] = set()
        self.warnings: list[str] = []
        for ins in dockerfile.meta_args:
            for a in ins.args:
                value = a.value
                if value is not None:
                    value = self._expand(value, self.values, ins)
                if a.key in self.build_args:
                    value = self.build_args[a.key]
                self.consumed.add(a.key)
                if value is not None:
                    self.values[a.key] = value

    def _expand(self, word: str, env: Mapping[str, str], ins: Instruction) -> str:
        try:
            return self.lex.process_word(word, env)
        except DockerfileError as e:
            raise DockerfileError(e.message, ins.line, ins.end_line, self.dockerfile.filename) from None

    def get(self, key: str) -> tuple[str, bool]:
        if key in self.values:
            return self.values[key], True
        return "", False

    def expand_from(self, stage: Stage) -> FromInstruction:
        """The stage's FROM with its image name and platform expanded from the global ARGs.

        Variables that are not global ARGs expand to nothing and are noted in ``warnings``.
        """
        f = stage.from_
        for word in (f.base_name, f.platform):
            if word:
                try:
                    missing = self.lex.process(word, self.values).unmatched
                except DockerfileError:
                    missing = set()
                for name in sorted(missing):
                    self.warnings.append(f"{self.dockerfile.filename}:{f.line}: FROM uses undefined ARG {name!r}")
        try:
            return f.expand(self.values, self.lex)
        except DockerfileError as e:
            raise e.named(self.dockerfile.filename) from None

    def unused_build_args(self) -> list[str]:
        """``--build-arg`` names no ARG consumed (Docker warns about these)."""
        return sorted(k for k in self.build_args if k not in self.consumed and k not in PROXY_ARGS)


class StageScope:
    """The variables of one stage while its instructions are executed in order.

    ``base_env`` is the base image's config Env (``KEY=value`` strings); ``parent`` the scope
    of the stage this one is built FROM, when it is built from a stage.
    """

    def __init__(self, global_scope: GlobalScope, base_env: Iterable[str] | Mapping[str, str] = (),
                 parent: "StageScope | None" = None):
        self.global_scope = global_scope
        self.lex = global_scope.lex
        if parent is not None:
            self.config_env = dict(parent.config_env)
            self.vars = dict(parent.vars)
            self.args = dict(parent.args)
        else:
            self.config_env = build_envs(base_env)
            self.vars = dict(self.config_env)
            self.args = {}

    def env(self) -> dict[str, str]:
        """The variables instructions are expanded with."""
        return dict(self.vars)

    def expand(self, ins: Instruction) -> Instruction:
        """The instruction with variables expanded (ARGs are resolved, see :meth:`declare`)."""
        if isinstance(ins, ArgInstruction):
            return self.declare(ins)
        try:
            return ins.expand(self.vars, self.lex)
        except DockerfileError as e:
            raise e.named(self.global_scope.dockerfile.filename) from None

    def apply(self, ins: Instruction) -> None:
        """Record an executed (already expanded) instruction's effect on the variables."""
        if isinstance(ins, EnvInstruction):
            for p in ins.pairs:
                self.config_env[p.key] = p.value
                self.vars[p.key] = p.value

    def step(self, ins: Instruction) -> Instruction:
        """:meth:`expand` then :meth:`apply`: what an executor calls for each instruction."""
        out = self.expand(ins)
        self.apply(out)
        return out

    def declare(self, ins: ArgInstruction) -> ArgInstruction:
        """Resolve an ARG line; each ARG sees the ones before it on the same line."""
        g = self.global_scope
        resolved = []
        for a in ins.args:
            value: str | None = None
            if a.key in g.build_args:
                value = g.build_args[a.key]
            elif a.value is not None:
                try:
                    value = self.lex.process_word(a.value, self.vars)
                except DockerfileError as e:
                    raise DockerfileError(e.message, ins.line, ins.end_line, g.dockerfile.filename) from None
            else:
                gv, found = g.get(a.key)
                if found:
                    value = gv
            g.consumed.add(a.key)
            if value is not None:
                self.vars[a.key] = value
                self.args[a.key] = value
            resolved.append(ArgDef(a.key, value, a.comment))
        return ArgInstruction(args=tuple(resolved), original=ins.original, line=ins.line,
                              end_line=ins.end_line, flags=ins.flags)

    def config_env_list(self) -> list[str]:
        """The image config's Env (``KEY=value``), ENV instructions only."""
        return [f"{k}={v}" for k, v in self.config_env.items()]

    def run_env(self) -> list[str]:
        """The environment of a RUN: the stage's variables plus undeclared proxy build args."""
        env = dict(self.vars)
        for k in PROXY_ARGS:
            if k in self.global_scope.build_args and k not in env:
                env[k] = self.global_scope.build_args[k]
        return [f"{k}={v}" for k, v in env.items()]

    def run_args(self) -> list[tuple[str, str]]:
        """The declared ARGs with values, in declaration order (Docker records them in a RUN
        step's history as ``|N k=v ...``; proxy ARGs are left out)."""
        return [(k, v) for k, v in self.args.items() if k not in PROXY_ARGS]
