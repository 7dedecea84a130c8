"""The build engine (daemon side): ``POST /build`` turns a context tar and a Dockerfile into an image.

Modules, one concern each:

- ``options`` the request's parameters; ``messages`` the classic builder's output stream;
- ``context`` the context tar unpacked (and hashed); ``sources`` + ``gomatch`` what a COPY names;
  ``copyplan`` where it goes; ``copier`` writing it into a rootfs; ``chown``; ``fetch`` (ADD URLs);
- ``runner`` RUN through the daemon's container path; ``runmounts`` RUN ``--mount``s;
- ``layers`` step snapshots, views and diffs; ``cache`` keys and the cache table;
- ``imageconfig`` + ``stagestate`` the image each step makes; ``steps_*`` the instructions;
  ``builder`` the flow; ``backend`` what it needs from the daemon.

Nothing here is imported by the CLI.
"""
from .backend import Backend, for_daemon
from .builder import Build
from .errors import BuildError, Cancelled, ContextError, CopyError, RunError
from .messages import Reporter
from .options import BuildOptions, from_query

__all__ = ["Backend", "Build", "BuildError", "BuildOptions", "Cancelled", "ContextError", "CopyError", "Reporter",
           "RunError", "for_daemon", "from_query"]
