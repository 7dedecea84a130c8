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
# Names load their module on first use: the CLI imports dockyard.build.dockerignore for `build`, and
# loading the whole front end eagerly cost it ~25 ms of start-up.
_LAZY = {
    'AddInstruction': 'commands',
    'ArgDef': 'commands',
    'ArgInstruction': 'commands',
    'CmdInstruction': 'commands',
    'CopyInstruction': 'commands',
    'Dockerfile': 'instructions',
    'DockerfileError': 'errors',
    'DockerignoreError': 'dockerignore',
    'EntrypointInstruction': 'commands',
    'EnvInstruction': 'commands',
    'ExposeInstruction': 'commands',
    'FromInstruction': 'commands',
    'GlobalScope': 'args',
    'HealthcheckInstruction': 'commands',
    'InlineFile': 'commands',
    'Instruction': 'commands',
    'KeyValue': 'commands',
    'LabelInstruction': 'commands',
    'Lex': 'shell_lex',
    'MaintainerInstruction': 'commands',
    'Mount': 'mounts',
    'Node': 'node',
    'OnbuildInstruction': 'commands',
    'PROXY_ARGS': 'args',
    'ParseResult': 'parser',
    'PatternMatcher': 'dockerignore',
    'RunInstruction': 'commands',
    'RunPlan': 'commands',
    'ShellInstruction': 'commands',
    'ShellLexError': 'shell_lex',
    'SourceContent': 'commands',
    'Stage': 'instructions',
    'StageInfo': 'stages',
    'StageScope': 'args',
    'StopSignalInstruction': 'commands',
    'UserInstruction': 'commands',
    'VolumeInstruction': 'commands',
    'WorkdirInstruction': 'commands',
    'build_order': 'stages',
    'dump': 'node',
    'find_stage': 'stages',
    'keep_build_files': 'dockerignore',
    'parse': 'parser',
    'parse_dockerfile': 'instructions',
    'parse_instruction': 'instructions',
    'parse_mount': 'mounts',
    'parse_onbuild_triggers': 'instructions',
    'platform_args': 'args',
    'read_dockerignore': 'dockerignore',
    'stage_ref': 'stages',
    'target_stage': 'stages',
    'walk_context': 'dockerignore',
}


def __getattr__(name):
    mod = _LAZY.get(name)
    if mod is None:
        raise AttributeError(f"module 'dockyard.build' has no attribute {name!r}")
    import importlib
    value = getattr(importlib.import_module(f".{mod}", __name__), name)
    globals()[name] = value
    return value


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
