"""Parse-tree nodes to typed instructions, and a whole Dockerfile to its build stages.

:func:`parse_dockerfile` is the front end's entry point: text in, a :class:`Dockerfile` out
(global ARGs, stages with their instructions, the escape token), or a :class:`DockerfileError`
naming the file, the line and the problem, worded like BuildKit's.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from .bflags import BFlags
from .commands import (AddInstruction, ArgDef, ArgInstruction, CmdInstruction, CopyInstruction,
                       EntrypointInstruction, EnvInstruction, ExposeInstruction, FromInstruction,
                       HealthcheckInstruction, InlineFile, Instruction, KeyValue, LabelInstruction,
                       MaintainerInstruction, OnbuildInstruction, RunInstruction, ShellInstruction,
                       SourceContent, StopSignalInstruction, UserInstruction, VolumeInstruction,
                       WorkdirInstruction)
from .directives import Directive
from .errors import DockerfileError
from .gocompat import parse_duration, parse_int32, quote, suggest, trim_space
from .heredoc import chomp, parse_heredoc
from .mounts import parse_mount
from .node import Node
from .parser import ParseResult, parse
from .shell_lex import Lex

INSTRUCTION_NAMES = ("ADD", "ARG", "CMD", "COPY", "ENTRYPOINT", "ENV", "EXPOSE", "FROM", "HEALTHCHECK",
                     "LABEL", "MAINTAINER", "ONBUILD", "RUN", "SHELL", "STOPSIGNAL", "USER", "VOLUME", "WORKDIR")

_STAGE_NAME = re.compile(r"[a-z][a-z0-9._-]*\Z")
_ONBUILD_PREFIX = re.compile(r"^[\t\n\f\r ]*ONBUILD[\t\n\f\r ]*", re.IGNORECASE)
_MIN_DURATION = 1_000_000  # 1ms, Docker's minimum healthcheck interval
_NETWORK_MODES = ("default", "none", "host")
_SECURITY_MODES = ("sandbox", "insecure")


class _Req:
    """What every instruction parser needs from a node."""

    def __init__(self, node: Node):
        self.node = node
        self.command = node.value
        self.args = node.args()
        self.attributes = node.attributes
        self.heredocs = node.heredocs
        self.flags = BFlags(node.flags)
        self.original = node.original
        self.comments = node.prev_comment

    def base(self) -> dict:
        return dict(original=trim_space(self.original), line=self.node.start_line,
                    end_line=self.node.end_line, flags=tuple(self.node.flags))

    @property
    def is_json(self) -> bool:
        return bool(self.attributes.get("json"))


def _at_least_one(cmd: str) -> DockerfileError:
    return DockerfileError(f"{cmd} requires at least one argument")


def _exactly_one(cmd: str) -> DockerfileError:
    return DockerfileError(f"{cmd} requires exactly one argument")


def _no_destination(cmd: str) -> DockerfileError:
    return DockerfileError(f"{cmd} requires at least two arguments, but only one was provided. "
                           "Destination could not be determined")


def _json_args(args: list[str], is_json: bool) -> list[str]:
    if not args:
        return []
    if is_json:
        return list(args)
    return [" ".join(args)]


def _kvps(args: list[str], cmd: str) -> tuple[KeyValue, ...]:
    if not args:
        raise _at_least_one(cmd)
    if len(args) % 3:
        raise DockerfileError(f"Bad input to {cmd}, too many arguments")
    out = []
    for i in range(0, len(args), 3):
        if not args[i]:
            raise DockerfileError(f"{cmd} names can not be blank")
        out.append(KeyValue(args[i], args[i + 1], args[i + 2] == ""))
    return tuple(out)


def _comment_for(comments: list[str], name: str) -> str:
    if not name:
        return ""
    for line in comments:
        if line.startswith(name + " "):
            return line[len(name) + 1:]
    return ""


def _parse_env(req: _Req) -> EnvInstruction:
    req.flags.parse()
    return EnvInstruction(pairs=_kvps(req.args, "ENV"), **req.base())


def _parse_label(req: _Req) -> LabelInstruction:
    req.flags.parse()
    return LabelInstruction(pairs=_kvps(req.args, "LABEL"), **req.base())


def _parse_maintainer(req: _Req) -> MaintainerInstruction:
    if len(req.args) != 1:
        raise _exactly_one("MAINTAINER")
    req.flags.parse()
    return MaintainerInstruction(maintainer=req.args[0], **req.base())


def _sources_and_dest(req: _Req, cmd: str) -> dict:
    srcs, dest = req.args[:-1], req.args[-1]
    if parse_heredoc(dest) is not None:
        raise DockerfileError(f"{cmd} cannot accept a heredoc as a destination")
    bodies = {h.name: h for h in req.heredocs}
    paths: list[str] = []
    contents: list[SourceContent] = []
    for src in srcs:
        doc = parse_heredoc(src)
        if doc is None:
            paths.append(src)
            continue
        body = bodies.get(doc.name)
        data = body.content if body is not None else ""
        if doc.chomp:
            data = chomp(data)
        contents.append(SourceContent(doc.name, data, doc.expand))
    return dict(sources=tuple(paths), contents=tuple(contents), dest=dest)


def _parse_add(req: _Req) -> AddInstruction:
    if len(req.args) < 2:
        raise _no_destination("ADD")
    excludes = req.flags.add_strings("exclude")
    chown = req.flags.add_string("chown")
    chmod = req.flags.add_string("chmod")
    link = req.flags.add_bool("link")
    keep = req.flags.add_bool("keep-git-dir")
    checksum = req.flags.add_string("checksum")
    req.flags.parse()
    return AddInstruction(chown=chown.value, chmod=chmod.value, link=link.is_true, keep_git_dir=keep.is_true,
                          checksum=checksum.value, excludes=tuple(excludes.values),
                          **_sources_and_dest(req, "ADD"), **req.base())


def _parse_copy(req: _Req) -> CopyInstruction:
    if len(req.args) < 2:
        raise _no_destination("COPY")
    excludes = req.flags.add_strings("exclude")
    parents = req.flags.add_bool("parents")
    chown = req.flags.add_string("chown")
    from_ = req.flags.add_string("from")
    chmod = req.flags.add_string("chmod")
    link = req.flags.add_bool("link")
    req.flags.parse()
    return CopyInstruction(from_=from_.value, chown=chown.value, chmod=chmod.value, link=link.is_true,
                           parents=parents.is_true, excludes=tuple(excludes.values),
                           **_sources_and_dest(req, "COPY"), **req.base())


def _parse_from(req: _Req) -> FromInstruction:
    args = req.args
    name = ""
    if len(args) == 3 and args[1].lower() == "as":
        name = args[2].lower()
        if not _STAGE_NAME.match(name):
            raise DockerfileError(f"invalid name for build stage: {quote(args[2])}, "
                                  "name can't start with a number or contain symbols")
    elif len(args) != 1:
        raise DockerfileError("FROM requires either one or three arguments")
    platform = req.flags.add_string("platform")
    req.flags.parse()
    return FromInstruction(base_name=args[0], stage_name=name, platform=platform.value, **req.base())


def _parse_onbuild(req: _Req) -> OnbuildInstruction:
    if not req.args:
        raise _at_least_one("ONBUILD")
    req.flags.parse()
    trigger = trim_space(req.args[0]).upper()
    if trigger == "ONBUILD":
        raise DockerfileError("Chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed")
    if trigger in ("MAINTAINER", "FROM"):
        raise DockerfileError(f"{trigger} isn't allowed as an ONBUILD trigger")
    expression = _ONBUILD_PREFIX.sub("", req.original, count=1)
    for doc in req.heredocs:
        expression += "\n" + doc.content + doc.name
    return OnbuildInstruction(expression=expression, **req.base())


def _parse_workdir(req: _Req) -> WorkdirInstruction:
    if len(req.args) != 1:
        raise _exactly_one("WORKDIR")
    req.flags.parse()
    return WorkdirInstruction(path=req.args[0], **req.base())


def _files(req: _Req) -> tuple[InlineFile, ...]:
    return tuple(InlineFile(h.name, h.content, h.chomp) for h in req.heredocs)


def _parse_run(req: _Req) -> RunInstruction:
    mount = req.flags.add_strings("mount")
    network = req.flags.add_string("network", "default")
    security = req.flags.add_string("security", "sandbox")
    req.flags.parse()
    if network.value not in _NETWORK_MODES:
        raise DockerfileError(f"unsupported network mode {quote(network.value)}")
    if security.value not in _SECURITY_MODES:
        raise DockerfileError(f"unsupported security mode {quote(security.value)}")
    for spec in mount.values:
        # Check what can be checked now; values with variables are checked again when expanded.
        parse_mount(spec, None if "$" in spec else Lex("\\").process_word)
    command = _json_args(req.args, req.is_json)
    if not command:
        raise _at_least_one("RUN")
    return RunInstruction(command=tuple(command), prepend_shell=not req.is_json, files=_files(req),
                          mount_specs=tuple(mount.values), network=network.value, security=security.value,
                          flags_used=tuple(req.flags.used()), **req.base())


def _parse_cmd(req: _Req) -> CmdInstruction:
    req.flags.parse()
    return CmdInstruction(command=tuple(_json_args(req.args, req.is_json)), prepend_shell=not req.is_json,
                          **req.base())


def _parse_entrypoint(req: _Req) -> EntrypointInstruction:
    req.flags.parse()
    command = _json_args(req.args, req.is_json)
    return EntrypointInstruction(command=tuple(command) if command else None, prepend_shell=not req.is_json,
                                 **req.base())


def _interval(value: str, name: str) -> int:
    if value == "":
        return 0
    try:
        d = parse_duration(value)
    except ValueError as e:
        raise DockerfileError(str(e)) from None
    if d == 0:
        return 0
    if d < _MIN_DURATION:
        raise DockerfileError(f"Interval {quote(name)} cannot be less than 1ms")
    return d


def _parse_healthcheck(req: _Req) -> HealthcheckInstruction:
    if not req.args:
        raise _at_least_one("HEALTHCHECK")
    typ = req.args[0].upper()
    args = req.args[1:]
    if typ == "NONE":
        if args:
            raise DockerfileError("HEALTHCHECK NONE takes no arguments")
        return HealthcheckInstruction(test=("NONE",), **req.base())
    interval = req.flags.add_string("interval")
    timeout = req.flags.add_string("timeout")
    start_period = req.flags.add_string("start-period")
    start_interval = req.flags.add_string("start-interval")
    retries = req.flags.add_string("retries")
    req.flags.parse()
    if typ != "CMD":
        raise DockerfileError(f"Unknown type {quote(typ)} in HEALTHCHECK (try CMD)")
    cmd = _json_args(args, req.is_json)
    if not cmd:
        raise DockerfileError("Missing command after HEALTHCHECK CMD")
    test = ("CMD" if req.is_json else "CMD-SHELL",) + tuple(cmd)
    n_retries = 0
    if retries.value:
        try:
            n_retries = parse_int32(retries.value)
        except ValueError as e:
            raise DockerfileError(str(e)) from None
        if n_retries < 0:
            raise DockerfileError(f"--retries cannot be negative ({n_retries})")
    return HealthcheckInstruction(
        test=test, interval=_interval(interval.value, "interval"), timeout=_interval(timeout.value, "timeout"),
        start_period=_interval(start_period.value, "start-period"),
        start_interval=_interval(start_interval.value, "start-interval"), retries=n_retries, **req.base())


def _parse_expose(req: _Req) -> ExposeInstruction:
    if not req.args:
        raise _at_least_one("EXPOSE")
    req.flags.parse()
    return ExposeInstruction(ports=tuple(sorted(req.args)), **req.base())


def _parse_user(req: _Req) -> UserInstruction:
    if len(req.args) != 1:
        raise _exactly_one("USER")
    req.flags.parse()
    return UserInstruction(user=req.args[0], **req.base())


def _parse_volume(req: _Req) -> VolumeInstruction:
    if not req.args:
        raise _at_least_one("VOLUME")
    req.flags.parse()
    volumes = []
    for v in req.args:
        v = trim_space(v)
        if v == "":
            raise DockerfileError("VOLUME specified can not be an empty string")
        volumes.append(v)
    return VolumeInstruction(volumes=tuple(volumes), **req.base())


def _parse_stopsignal(req: _Req) -> StopSignalInstruction:
    if len(req.args) != 1:
        raise _exactly_one("STOPSIGNAL")
    req.flags.parse()
    return StopSignalInstruction(signal=req.args[0], **req.base())


def _parse_arg(req: _Req) -> ArgInstruction:
    if not req.args:
        raise _at_least_one("ARG")
    req.flags.parse()
    defs = []
    for arg in req.args:
        if "=" in arg:
            key, _, value = arg.partition("=")
            if not key:
                raise DockerfileError("ARG names can not be blank")
            defs.append(ArgDef(key, value, _comment_for(req.comments, key)))
        else:
            defs.append(ArgDef(arg, None, _comment_for(req.comments, arg)))
    return ArgInstruction(args=tuple(defs), **req.base())


def _parse_shell(req: _Req) -> ShellInstruction:
    req.flags.parse()
    shell = _json_args(req.args, req.is_json)
    if not shell:
        raise _at_least_one("SHELL")
    if not req.is_json:
        raise DockerfileError("SHELL requires the arguments to be in JSON form")
    return ShellInstruction(shell=tuple(shell), **req.base())


_PARSERS = {
    "add": _parse_add, "arg": _parse_arg, "cmd": _parse_cmd, "copy": _parse_copy,
    "entrypoint": _parse_entrypoint, "env": _parse_env, "expose": _parse_expose, "from": _parse_from,
    "healthcheck": _parse_healthcheck, "label": _parse_label, "maintainer": _parse_maintainer,
    "onbuild": _parse_onbuild, "run": _parse_run, "shell": _parse_shell, "stopsignal": _parse_stopsignal,
    "user": _parse_user, "volume": _parse_volume, "workdir": _parse_workdir,
}


def parse_instruction(node: Node) -> Instruction:
    """The typed instruction for one node of the parse tree; errors carry the node's lines."""
    fn = _PARSERS.get(node.value.lower())
    try:
        if fn is None:
            hint = suggest(node.value, INSTRUCTION_NAMES)
            raise DockerfileError(f"unknown instruction: {node.value}" + (f" (did you mean {hint}?)" if hint else ""))
        return fn(_Req(node))
    except DockerfileError as e:
        raise e.located(node.start_line, node.end_line) from None


@dataclass
class Stage:
    """One build stage: its FROM and the instructions that follow, in order."""
    index: int
    from_: FromInstruction
    commands: list[Instruction] = field(default_factory=list)

    @property
    def name(self) -> str:
        """The lower-cased ``AS`` name, "" when the stage has none."""
        return self.from_.stage_name

    @property
    def base_name(self) -> str:
        return self.from_.base_name

    @property
    def platform(self) -> str:
        return self.from_.platform

    def display_name(self) -> str:
        """How messages refer to the stage: its name, else its index."""
        return self.name or str(self.index)


@dataclass
class Dockerfile:
    """A parsed Dockerfile: the ARGs before the first FROM, the stages, and parse metadata."""
    stages: list[Stage]
    meta_args: list[ArgInstruction]
    escape_token: str = "\\"
    directives: list[Directive] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    filename: str = "Dockerfile"
    ast: Node | None = None

    def lex(self) -> Lex:
        """A lexer using this Dockerfile's escape token."""
        return Lex(self.escape_token)

    def instructions(self) -> list[Instruction]:
        """Every instruction in file order (meta ARGs, then each stage's FROM and commands)."""
        out: list[Instruction] = list(self.meta_args)
        for st in self.stages:
            out.append(st.from_)
            out.extend(st.commands)
        return sorted(out, key=lambda i: i.line)


def from_parse_result(result: ParseResult, filename: str = "Dockerfile") -> Dockerfile:
    """Type every node of a parse tree and group the instructions into stages."""
    stages: list[Stage] = []
    meta: list[ArgInstruction] = []
    names: dict[str, int] = {}
    try:
        for node in result.ast.children:
            ins = parse_instruction(node)
            if isinstance(ins, FromInstruction):
                if ins.stage_name:
                    if ins.stage_name in names:
                        raise DockerfileError(f"duplicate stage name {quote(ins.stage_name)}", ins.line)
                    names[ins.stage_name] = len(stages)
                stages.append(Stage(len(stages), ins))
            elif not stages:
                if not isinstance(ins, ArgInstruction):
                    raise DockerfileError("no build stage in current context", ins.line, ins.end_line)
                meta.append(ins)
            else:
                stages[-1].commands.append(ins)
        if not stages:
            raise DockerfileError("dockerfile contains no stages to build")
    except DockerfileError as e:
        raise e.named(filename) from None
    return Dockerfile(stages=stages, meta_args=meta, escape_token=result.escape_token,
                      directives=list(result.directives), warnings=list(result.warnings), filename=filename,
                      ast=result.ast)


def parse_dockerfile(data: bytes | str, filename: str = "Dockerfile") -> Dockerfile:
    """Parse and type a Dockerfile. Raises :class:`DockerfileError` (``.line``, ``.filename``)."""
    return from_parse_result(parse(data, filename), filename)


def parse_onbuild_triggers(expressions: list[str], escape_token: str = "\\",
                           filename: str = "ONBUILD") -> list[Instruction]:
    """The typed instructions of a base image's ONBUILD triggers (its config's ``OnBuild`` list)."""
    out: list[Instruction] = []
    for expr in expressions:
        text = expr if escape_token == "\\" else f"# escape={escape_token}\n{expr}"
        result = parse(text, filename)
        for node in result.ast.children:
            try:
                ins = parse_instruction(node)
            except DockerfileError as e:
                raise e.named(filename) from None
            if isinstance(ins, (FromInstruction, OnbuildInstruction, MaintainerInstruction)):
                raise DockerfileError(f"{ins.keyword} isn't allowed as an ONBUILD trigger", None, None, filename)
            out.append(ins)
    return out
