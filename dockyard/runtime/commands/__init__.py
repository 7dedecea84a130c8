"""One module per runtime verb (runc's layout): each has ``add(subparsers)`` and ``run(ctx, args)``."""

VERBS = ["create", "start", "run", "state", "kill", "delete", "exec", "pause", "resume", "ps", "list",
         "spec", "features", "update"]
