"""Typed Dockerfile instructions (the second of BuildKit's stages), ready for an executor.

Every instruction keeps the text it came from (``original``, continuations joined), its line
span and its raw ``--flags``; its fields are the parsed arguments *before* variable expansion
(quotes still in place where Docker keeps them until expansion). :meth:`Instruction.expand`
returns a copy with variables substituted the way Docker does for that instruction:

- expanded: ENV and LABEL (keys and values), ARG defaults, COPY/ADD (sources, destination,
  --chown, --chmod, --from, --checksum, --exclude; heredoc bodies unless their delimiter was
  quoted), WORKDIR, USER, VOLUME, STOPSIGNAL, EXPOSE (which may split into several ports),
  RUN --mount values, FROM (base image and --platform, with the global ARGs only);
- not expanded: RUN/CMD/ENTRYPOINT/SHELL/HEALTHCHECK commands (the shell does it at run time),
  MAINTAINER and ONBUILD.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Callable, ClassVar, Mapping

from .errors import DockerfileError
from .heredoc import chomp as _chomp
from .heredoc import parse_heredoc
from .mounts import Mount, parse_mount
from .shell_lex import Lex

Env = Mapping[str, str]

# Instructions whose expand() substitutes variables (Docker's "replaceEnvAllowed", plus ARG
# defaults, FROM with the global ARGs, and RUN's --mount values). The others return themselves.
EXPANDING_INSTRUCTIONS = frozenset({"add", "arg", "copy", "env", "expose", "from", "label", "run", "stopsignal",
                                    "user", "volume", "workdir"})


@dataclass(frozen=True)
class KeyValue:
    """An ENV or LABEL pair; ``no_delim`` when written in the legacy ``KEY value`` form."""
    key: str
    value: str
    no_delim: bool = False


@dataclass(frozen=True)
class ArgDef:
    """One ARG declaration: ``value`` is None for ``ARG name`` (no default)."""
    key: str
    value: str | None = None
    comment: str = ""


@dataclass(frozen=True)
class InlineFile:
    """A RUN heredoc: terminator ``name``, raw ``data``, ``chomp`` for ``<<-``."""
    name: str
    data: str
    chomp: bool = False

    @property
    def text(self) -> str:
        """The body as the command sees it (tabs chomped for ``<<-``)."""
        return _chomp(self.data) if self.chomp else self.data


@dataclass(frozen=True)
class SourceContent:
    """A COPY/ADD heredoc source: the file ``path`` it creates, its ``data``, and whether the
    data is subject to expansion (the delimiter was not quoted)."""
    path: str
    data: str
    expand: bool = True


@dataclass(frozen=True)
class RunPlan:
    """What to execute for a RUN: ``args`` (argv), and an optional ``script`` the executor must
    write (mode 0755) at ``/dev/pipes/<script.name>`` before running (a ``#!`` heredoc)."""
    args: tuple[str, ...]
    script: InlineFile | None = None

    SCRIPT_DIR: ClassVar[str] = "/dev/pipes"


def make_expander(env: Env, lex: Lex | None, line: int) -> Callable[[str], str]:
    """``word -> expanded word`` with ``env``; errors carry the instruction's line."""
    lex = lex or Lex("\\")

    def expand(word: str) -> str:
        try:
            return lex.process_word(word, env)
        except DockerfileError as e:
            raise DockerfileError(e.message, line) from None
    return expand


@dataclass(frozen=True, kw_only=True)
class Instruction:
    """Common fields of every instruction."""
    keyword: ClassVar[str] = ""
    original: str = ""
    line: int = 0
    end_line: int = 0
    flags: tuple[str, ...] = ()

    @property
    def name(self) -> str:
        """The lower-case instruction name ("run")."""
        return self.keyword.lower()

    def expand(self, env: Env, lex: Lex | None = None) -> "Instruction":
        """A copy with variables expanded from ``env``; instructions without expansion return self."""
        return self

    def __str__(self) -> str:
        return self.original


@dataclass(frozen=True, kw_only=True)
class FromInstruction(Instruction):
    """``FROM [--platform=p] image [AS name]``; ``stage_name`` is lower-cased, "" when unnamed."""
    keyword: ClassVar[str] = "FROM"
    base_name: str = ""
    stage_name: str = ""
    platform: str = ""

    def expand(self, env: Env, lex: Lex | None = None) -> "FromInstruction":
        ex = make_expander(env, lex, self.line)
        base = ex(self.base_name)
        if base == "":
            raise DockerfileError(f"base name ({self.base_name}) should not be blank", self.line)
        return dataclasses.replace(self, base_name=base, platform=ex(self.platform) if self.platform else "")


@dataclass(frozen=True, kw_only=True)
class ArgInstruction(Instruction):
    keyword: ClassVar[str] = "ARG"
    args: tuple[ArgDef, ...] = ()

    def expand(self, env: Env, lex: Lex | None = None) -> "ArgInstruction":
        ex = make_expander(env, lex, self.line)
        return dataclasses.replace(self, args=tuple(
            ArgDef(ex(a.key), None if a.value is None else ex(a.value), a.comment) for a in self.args))


@dataclass(frozen=True, kw_only=True)
class EnvInstruction(Instruction):
    keyword: ClassVar[str] = "ENV"
    pairs: tuple[KeyValue, ...] = ()

    def expand(self, env: Env, lex: Lex | None = None) -> "EnvInstruction":
        ex = make_expander(env, lex, self.line)
        return dataclasses.replace(self, pairs=tuple(KeyValue(ex(p.key), ex(p.value), p.no_delim)
                                                     for p in self.pairs))


@dataclass(frozen=True, kw_only=True)
class LabelInstruction(Instruction):
    keyword: ClassVar[str] = "LABEL"
    pairs: tuple[KeyValue, ...] = ()

    def expand(self, env: Env, lex: Lex | None = None) -> "LabelInstruction":
        ex = make_expander(env, lex, self.line)
        return dataclasses.replace(self, pairs=tuple(KeyValue(ex(p.key), ex(p.value), p.no_delim)
                                                     for p in self.pairs))


@dataclass(frozen=True, kw_only=True)
class MaintainerInstruction(Instruction):
    keyword: ClassVar[str] = "MAINTAINER"
    maintainer: str = ""


@dataclass(frozen=True, kw_only=True)
class _ShellDependent(Instruction):
    """RUN, CMD and ENTRYPOINT: an exec-form argv, or (``prepend_shell``) one shell string."""
    command: tuple[str, ...] | None = ()
    prepend_shell: bool = False

    def with_shell(self, shell: tuple[str, ...] | list[str]) -> list[str] | None:
        """The argv for the image config: shell form becomes ``shell + [command]``."""
        if self.command is None:
            return None
        if self.prepend_shell:
            return list(shell) + [" ".join(self.command)]
        return list(self.command)


@dataclass(frozen=True, kw_only=True)
class RunInstruction(_ShellDependent):
    """``RUN [--mount=...] [--network=...] [--security=...] cmd``; ``files`` are its heredocs.
    ``mounts`` is filled by :meth:`expand` (the specs may hold variables)."""
    keyword: ClassVar[str] = "RUN"
    files: tuple[InlineFile, ...] = ()
    mount_specs: tuple[str, ...] = ()
    mounts: tuple[Mount, ...] = ()
    network: str = ""
    security: str = ""
    flags_used: tuple[str, ...] = ()

    def expand(self, env: Env, lex: Lex | None = None) -> "RunInstruction":
        ex = make_expander(env, lex, self.line)
        mounts = []
        for spec in self.mount_specs:
            try:
                mounts.append(parse_mount(spec, ex))
            except DockerfileError as e:
                raise e.located(self.line, self.end_line) from None
        return dataclasses.replace(self, mounts=tuple(mounts))

    def plan(self, shell: tuple[str, ...] | list[str] = ("/bin/sh", "-c")) -> RunPlan:
        """The argv to run, with heredocs resolved as BuildKit does: a lone ``<<EOF`` body runs
        as the script (through ``/dev/pipes`` when it starts with ``#!``); otherwise the bodies
        are appended to the command for the shell to read."""
        args = list(self.command or ())
        script = None
        if self.files:
            if len(args) != 1 or not self.prepend_shell:
                raise DockerfileError(f"parsing produced an invalid run command: {args}", self.line)
            first = self.files[0]
            if parse_heredoc(args[0]) is not None:
                if first.text.startswith("#!"):
                    script = InlineFile(first.name, first.text)
                    args = [RunPlan.SCRIPT_DIR + "/" + first.name]
                else:
                    args = [first.text]
            else:
                full = args[0]
                for f in self.files:
                    full += "\n" + f.data + f.name
                args = [full]
        if self.prepend_shell:
            args = list(shell) + [" ".join(args)]
        return RunPlan(tuple(args), script)


@dataclass(frozen=True, kw_only=True)
class CmdInstruction(_ShellDependent):
    keyword: ClassVar[str] = "CMD"


@dataclass(frozen=True, kw_only=True)
class EntrypointInstruction(_ShellDependent):
    """``command`` is None for ``ENTRYPOINT []`` (which clears the entrypoint)."""
    keyword: ClassVar[str] = "ENTRYPOINT"


@dataclass(frozen=True, kw_only=True)
class ShellInstruction(Instruction):
    keyword: ClassVar[str] = "SHELL"
    shell: tuple[str, ...] = ()


@dataclass(frozen=True, kw_only=True)
class HealthcheckInstruction(Instruction):
    """``test`` is ``("NONE",)``, ``("CMD", argv...)`` or ``("CMD-SHELL", cmd)``; durations are
    nanoseconds (0 = inherit the default), as Docker's HealthConfig."""
    keyword: ClassVar[str] = "HEALTHCHECK"
    test: tuple[str, ...] = ()
    interval: int = 0
    timeout: int = 0
    start_period: int = 0
    start_interval: int = 0
    retries: int = 0


@dataclass(frozen=True, kw_only=True)
class ExposeInstruction(Instruction):
    keyword: ClassVar[str] = "EXPOSE"
    ports: tuple[str, ...] = ()

    def expand(self, env: Env, lex: Lex | None = None) -> "ExposeInstruction":
        lex = lex or Lex("\\")
        ports: list[str] = []
        for p in self.ports:
            try:
                ports.extend(lex.process_words(p, env))
            except DockerfileError as e:
                raise DockerfileError(e.message, self.line) from None
        return dataclasses.replace(self, ports=tuple(ports))


@dataclass(frozen=True, kw_only=True)
class UserInstruction(Instruction):
    keyword: ClassVar[str] = "USER"
    user: str = ""

    def expand(self, env: Env, lex: Lex | None = None) -> "UserInstruction":
        return dataclasses.replace(self, user=make_expander(env, lex, self.line)(self.user))


@dataclass(frozen=True, kw_only=True)
class VolumeInstruction(Instruction):
    keyword: ClassVar[str] = "VOLUME"
    volumes: tuple[str, ...] = ()

    def expand(self, env: Env, lex: Lex | None = None) -> "VolumeInstruction":
        ex = make_expander(env, lex, self.line)
        return dataclasses.replace(self, volumes=tuple(ex(v) for v in self.volumes))


@dataclass(frozen=True, kw_only=True)
class WorkdirInstruction(Instruction):
    keyword: ClassVar[str] = "WORKDIR"
    path: str = ""

    def expand(self, env: Env, lex: Lex | None = None) -> "WorkdirInstruction":
        return dataclasses.replace(self, path=make_expander(env, lex, self.line)(self.path))


@dataclass(frozen=True, kw_only=True)
class StopSignalInstruction(Instruction):
    keyword: ClassVar[str] = "STOPSIGNAL"
    signal: str = ""

    def expand(self, env: Env, lex: Lex | None = None) -> "StopSignalInstruction":
        return dataclasses.replace(self, signal=make_expander(env, lex, self.line)(self.signal))


@dataclass(frozen=True, kw_only=True)
class OnbuildInstruction(Instruction):
    """``expression`` is the trigger as stored in the image config (heredoc bodies appended)."""
    keyword: ClassVar[str] = "ONBUILD"
    expression: str = ""


def _expand_contents(contents, env: Env, line: int):
    raw = Lex("\\", skip_process_quotes=True)
    out = []
    for c in contents:
        if c.expand:
            try:
                c = SourceContent(c.path, raw.process_word(c.data, env), True)
            except DockerfileError as e:
                raise DockerfileError(e.message, line) from None
        out.append(c)
    return tuple(out)


@dataclass(frozen=True, kw_only=True)
class _CopyLike(Instruction):
    sources: tuple[str, ...] = ()
    contents: tuple[SourceContent, ...] = ()
    dest: str = ""
    chown: str = ""
    chmod: str = ""
    link: bool = False
    excludes: tuple[str, ...] = ()

    def _expanded(self, env: Env, lex: Lex | None, **extra) -> dict:
        ex = make_expander(env, lex, self.line)
        fields = dict(
            sources=tuple(ex(s) for s in self.sources),
            contents=_expand_contents(self.contents, env, self.line),
            dest=ex(self.dest),
            chown=ex(self.chown),
            chmod=ex(self.chmod),
            excludes=tuple(ex(e) for e in self.excludes),
        )
        fields.update({k: ex(v) for k, v in extra.items()})
        return fields

    def chmod_mode(self) -> int | None:
        """``--chmod`` as a mode (octal digits), None when not given."""
        if not self.chmod:
            return None
        if not self.chmod.isascii() or not self.chmod.isdigit() or any(c in "89" for c in self.chmod):
            raise DockerfileError(f"invalid chmod parameter: {self.chmod!r}: must be an octal mode", self.line)
        mode = int(self.chmod, 8)
        if mode > 0o7777:
            raise DockerfileError(f"invalid chmod parameter: {self.chmod!r}: out of range", self.line)
        return mode


@dataclass(frozen=True, kw_only=True)
class CopyInstruction(_CopyLike):
    """``COPY [--from=stage|image] [--chown] [--chmod] [--link] [--parents] [--exclude=p] src... dest``."""
    keyword: ClassVar[str] = "COPY"
    from_: str = ""
    parents: bool = False

    def expand(self, env: Env, lex: Lex | None = None) -> "CopyInstruction":
        return dataclasses.replace(self, **self._expanded(env, lex, from_=self.from_))


@dataclass(frozen=True, kw_only=True)
class AddInstruction(_CopyLike):
    """``ADD [--chown] [--chmod] [--link] [--keep-git-dir] [--checksum=d] [--exclude=p] src... dest``."""
    keyword: ClassVar[str] = "ADD"
    keep_git_dir: bool = False
    checksum: str = ""

    def expand(self, env: Env, lex: Lex | None = None) -> "AddInstruction":
        return dataclasses.replace(self, **self._expanded(env, lex, checksum=self.checksum))
