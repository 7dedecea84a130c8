"""The builder's front end: Dockerfile parsing, typed instructions, variable expansion, .dockerignore.

The pipeline follows BuildKit's design:

1. :func:`parser.parse` -- text to a parse tree of :class:`node.Node` with line numbers
   (directives, continuations, comments, heredocs, JSON/shell forms, ``--flags``);
2. :func:`instructions.parse_dockerfile` -- the tree to typed instructions grouped into
   :class:`instructions.Stage` objects (plus the ARGs before the first FROM);
3. :class:`shell_lex.Lex` -- Docker's shell-word expansion, applied per instruction by
   ``instruction.expand(env)``; :mod:`args` decides which variables each instruction sees and
   :mod:`stages` which stages a ``--target`` needs.

Only the standard library is used.
"""
from .args import PROXY_ARGS, GlobalScope, StageScope, platform_args
from .commands import (AddInstruction, ArgDef, ArgInstruction, CmdInstruction, CopyInstruction,
                       EntrypointInstruction, EnvInstruction, ExposeInstruction, FromInstruction,
                       HealthcheckInstruction, InlineFile, Instruction, KeyValue, LabelInstruction,
                       MaintainerInstruction, OnbuildInstruction, RunInstruction, RunPlan, ShellInstruction,
                       SourceContent, StopSignalInstruction, UserInstruction, VolumeInstruction,
                       WorkdirInstruction)
from .dockerignore import (DockerignoreError, PatternMatcher, keep_build_files, read_dockerignore,
                           walk_context)
from .errors import DockerfileError
from .instructions import Dockerfile, Stage, parse_dockerfile, parse_instruction, parse_onbuild_triggers
from .mounts import Mount, parse_mount
from .node import Node, dump
from .parser import ParseResult, parse
from .shell_lex import Lex, ShellLexError
from .stages import StageInfo, build_order, find_stage, stage_ref, target_stage

__all__ = [
    "AddInstruction", "ArgDef", "ArgInstruction", "CmdInstruction", "CopyInstruction", "Dockerfile",
    "DockerfileError", "DockerignoreError", "EntrypointInstruction", "EnvInstruction", "ExposeInstruction",
    "FromInstruction", "GlobalScope", "HealthcheckInstruction", "InlineFile", "Instruction", "KeyValue",
    "LabelInstruction", "Lex", "MaintainerInstruction", "Mount", "Node", "OnbuildInstruction", "PROXY_ARGS",
    "ParseResult", "PatternMatcher", "RunInstruction", "RunPlan", "ShellInstruction", "ShellLexError",
    "SourceContent", "Stage", "StageInfo", "StageScope", "StopSignalInstruction", "UserInstruction",
    "VolumeInstruction", "WorkdirInstruction", "build_order", "dump", "find_stage", "keep_build_files",
    "parse", "parse_dockerfile", "parse_instruction", "parse_mount", "parse_onbuild_triggers", "platform_args",
    "read_dockerignore", "stage_ref", "target_stage", "walk_context",
]
