"""Instructions that change only the image config: ENV, LABEL, CMD, ENTRYPOINT, EXPOSE, VOLUME, USER,
WORKDIR (its directory is made by the step, see ``steps_files``), STOPSIGNAL, HEALTHCHECK, SHELL,
ONBUILD, MAINTAINER and ARG (which changes nothing but is a step with a history entry, as in the
classic builder).

``change`` works on copies: it returns the new config section, author and CMD flag with the comment
for the history (``/bin/sh -c #(nop)  ENV A=1``), so the step's cache key can be computed before
anything is written.
"""
from __future__ import annotations

import copy
from dataclasses import dataclass, field

from .. import commands as c
from . import imageconfig as ic
from .errors import BuildError


@dataclass
class ConfigChange:
    run_config: dict
    author: str
    cmd_set: bool
    comment: str
    notes: list[str] = field(default_factory=list)   # lines for the output (dockerd's "Note: ...")


def _pairs(ins) -> list[tuple[str, str]]:
    return [(p.key, p.value) for p in ins.pairs]


def change(state, ins) -> ConfigChange:
    """The config after the (expanded) instruction ``ins`` on top of ``state``."""
    cfg = copy.deepcopy(state.run_config)
    author, cmd_set, notes = state.author, state.cmd_set, []
    shell = state.shell
    if isinstance(ins, c.EnvInstruction):
        ic.set_env(cfg, _pairs(ins))
        comment = "ENV " + " ".join(f"{k}={v}" for k, v in _pairs(ins))
    elif isinstance(ins, c.LabelInstruction):
        ic.set_labels(cfg, _pairs(ins))
        comment = "LABEL " + " ".join(f"{k}={v}" for k, v in _pairs(ins))
    elif isinstance(ins, c.CmdInstruction):
        cfg["Cmd"] = ins.with_shell(shell)
        cmd_set = True
        comment = "CMD " + ic.go_list(cfg["Cmd"] or [])
    elif isinstance(ins, c.EntrypointInstruction):
        cfg["Entrypoint"] = ins.with_shell(shell)
        if not cmd_set:
            cfg["Cmd"] = None
        comment = "ENTRYPOINT " + ic.go_list(cfg["Entrypoint"] or [])
    elif isinstance(ins, c.ExposeInstruction):
        ports = ic.expose(cfg, list(ins.ports))
        comment = "EXPOSE " + " ".join(ports)
    elif isinstance(ins, c.VolumeInstruction):
        ic.add_volumes(cfg, list(ins.volumes))
        comment = "VOLUME [" + " ".join(ins.volumes) + "]"
    elif isinstance(ins, c.UserInstruction):
        if not ins.user:
            raise BuildError("USER requires a user name or ID")
        cfg["User"] = ins.user
        comment = "USER " + ins.user
    elif isinstance(ins, c.WorkdirInstruction):
        cfg["WorkingDir"] = ic.workdir(cfg.get("WorkingDir") or "", ins.path)
        comment = "WORKDIR " + cfg["WorkingDir"]
    elif isinstance(ins, c.StopSignalInstruction):
        cfg["StopSignal"] = ic.stop_signal(ins.signal)
        comment = "STOPSIGNAL " + ins.signal
    elif isinstance(ins, c.HealthcheckInstruction):
        old = (cfg.get("Healthcheck") or {}).get("Test") or []
        if old and old[0] != "NONE":
            notes.append(f"Note: overriding previous HEALTHCHECK: [{' '.join(old)}]\n")
        cfg["Healthcheck"] = ic.healthcheck(ins)
        comment = "HEALTHCHECK " + " ".join(ins.test)
    elif isinstance(ins, c.ShellInstruction):
        cfg["Shell"] = list(ins.shell)
        comment = "SHELL [" + " ".join(ins.shell) + "]"
    elif isinstance(ins, c.OnbuildInstruction):
        cfg["OnBuild"] = list(cfg.get("OnBuild") or []) + [ins.expression]
        comment = "ONBUILD " + ins.expression
    elif isinstance(ins, c.MaintainerInstruction):
        author = ins.maintainer
        comment = "MAINTAINER " + ins.maintainer
    elif isinstance(ins, c.ArgInstruction):
        comment = "ARG " + " ".join(a.key if a.value is None else f"{a.key}={a.value}" for a in ins.args)
    else:
        raise BuildError(f"{ins.keyword} does not change the image config")
    return ConfigChange(ic.normalize(cfg), author, cmd_set, comment, notes)


def key_payload(ch: ConfigChange) -> list:
    return [ch.comment, ch.run_config, ch.author]
