"""dockyard-shim: the one shared container supervisor of a daemon.

It is a child subreaper that holds every container's stdio, writes the json-file logs, relays
attach streams, records exits, and runs the OCI runtime on the daemon's behalf. The protocol is
described in docs/daemon.md ("The shim protocol"); ``client.ShimClient`` is the daemon's side.

Modules: ``protocol`` (request validation), ``frames`` (attach stream framing), ``jsonlog``
(json-file log writer), ``timefmt``, ``reaper`` (SIGCHLD), ``runner`` (running the runtime),
``stdio`` (fifos, pipes, console socket), ``launch`` (starting a process with that stdio),
``attach`` (one attached client), ``process`` (one supervised
process), ``container`` (a container and its execs), ``records`` (files under <exec-root>/shim),
``oom``, ``recover`` (rebuilding after a restart), ``events``, ``service`` (the ops), ``server``
(the socket), ``main`` (the command), ``client``.
"""
