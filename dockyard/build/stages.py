"""Stage lookup, ``--target`` resolution and which stages a build needs, in build order.

A stage depends on the stage it is built FROM (an earlier stage's name, after the global ARGs
are expanded), on the stages its ``COPY --from`` and ``RUN --mount=from=`` name (by name or by
index), and transitively on theirs. Stage names compare case-insensitively. A reference that
names no stage is an image reference.
"""
from __future__ import annotations

from dataclasses import dataclass

from .args import GlobalScope
from .commands import CopyInstruction, FromInstruction, RunInstruction
from .errors import DockerfileError
from .instructions import Dockerfile, Stage
from .mounts import parse_mount


def find_stage(dockerfile: Dockerfile, name: str, before: int | None = None) -> Stage | None:
    """The stage called ``name`` (case-insensitive), only among the first ``before`` stages if given."""
    wanted = name.lower()
    for st in dockerfile.stages[:before]:
        if st.name and st.name == wanted:
            return st
    return None


def target_stage(dockerfile: Dockerfile, target: str | None) -> Stage:
    """The stage ``--target`` names, or the last stage when no target is given."""
    if not target:
        return dockerfile.stages[-1]
    st = find_stage(dockerfile, target)
    if st is None:
        raise DockerfileError(f"target stage {target!r} could not be found", None, None, dockerfile.filename)
    return st


def stage_ref(dockerfile: Dockerfile, ref: str, line: int | None = None) -> Stage | None:
    """The stage a ``--from`` value names (a stage name or index), None for an image reference."""
    st = find_stage(dockerfile, ref)
    if st is not None:
        return st
    try:
        index = int(ref, 10)
    except ValueError:
        return None
    if not 0 <= index < len(dockerfile.stages):
        raise DockerfileError(f"invalid stage index {ref!r}", line, None, dockerfile.filename)
    return dockerfile.stages[index]


@dataclass
class StageInfo:
    """A stage with its FROM expanded and what it depends on."""
    stage: Stage
    from_: FromInstruction
    base_stage: Stage | None
    depends_on: list[Stage]

    @property
    def base_is_scratch(self) -> bool:
        return self.base_stage is None and self.from_.base_name.lower() == "scratch"


def stage_info(dockerfile: Dockerfile, stage: Stage, scope: GlobalScope) -> StageInfo:
    """Expand the stage's FROM and list the stages it needs directly."""
    f = scope.expand_from(stage)
    base = find_stage(dockerfile, f.base_name, before=stage.index)
    deps: list[Stage] = [base] if base is not None else []
    for ins in stage.commands:
        refs: list[str] = []
        if isinstance(ins, CopyInstruction) and ins.from_:
            ref = ins.from_
            if "$" in ref:
                try:
                    ref = dockerfile.lex().process_word(ref, scope.values)
                except DockerfileError as e:
                    raise DockerfileError(e.message, ins.line, ins.end_line, dockerfile.filename) from None
            refs.append(ref)
        elif isinstance(ins, RunInstruction):
            for spec in ins.mount_specs:
                m = parse_mount(spec, lambda w: w)
                if m.from_:
                    refs.append(m.from_)
        for ref in refs:
            st = stage_ref(dockerfile, ref, ins.line)
            if st is not None and st not in deps:
                deps.append(st)
    return StageInfo(stage, f, base, deps)


def build_order(dockerfile: Dockerfile, scope: GlobalScope, target: str | None = None) -> list[StageInfo]:
    """The stages the target needs, each after the stages it depends on, the target last.

    Stages the target does not need are left out. A dependency cycle is an error.
    """
    goal = target_stage(dockerfile, target)
    infos: dict[int, StageInfo] = {}
    order: list[StageInfo] = []
    state: dict[int, str] = {}

    def visit(st: Stage) -> None:
        mark = state.get(st.index)
        if mark == "done":
            return
        if mark == "active":
            raise DockerfileError(f"circular dependency detected on stage: {st.display_name()}",
                                  st.from_.line, None, dockerfile.filename)
        state[st.index] = "active"
        info = infos.get(st.index) or stage_info(dockerfile, st, scope)
        infos[st.index] = info
        for dep in info.depends_on:
            visit(dep)
        state[st.index] = "done"
        order.append(info)

    visit(goal)
    return order
