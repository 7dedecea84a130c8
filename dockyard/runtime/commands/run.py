"""run: create + start, then (unless --detach) wait and exit with the container's status."""
import os

from ...spec.runtime import load_spec
from ..container import forward_signals, wait_child


def add(sub):
    p = sub.add_parser("run", help="create and start a container")
    p.add_argument("--bundle", "-b", default=".")
    p.add_argument("--detach", "-d", action="store_true")
    p.add_argument("--pid-file", dest="pid_file")
    p.add_argument("--console-socket", dest="console_socket")
    p.add_argument("--preserve-fds", dest="preserve_fds", type=int, default=0)
    p.add_argument("--no-pivot", dest="no_pivot", action="store_true")
    p.add_argument("--no-new-keyring", dest="no_new_keyring", action="store_true")
    p.add_argument("--keep", action="store_true")
    p.add_argument("id")


def run(ctx, a):
    rt = ctx.runtime
    bundle = a.bundle or os.getcwd()
    proxy = None
    if not a.detach and not a.console_socket:
        spec = load_spec(os.path.join(os.path.abspath(bundle), "config.json"))
        if spec.process and spec.process.terminal:
            from ..ttyproxy import TtyProxy
            proxy = TtyProxy()
    s = rt.create(a.id, bundle, pid_file=a.pid_file, console_socket=a.console_socket,
                  console_sock=proxy.theirs if proxy else None, preserve_fds=a.preserve_fds,
                  no_pivot=a.no_pivot, detached=a.detach)
    if proxy:
        proxy.receive()
    if not a.detach:
        forward_signals(s.pid)
    try:
        rt.start(a.id)
    except BaseException:
        rt.delete(a.id, force=True)
        raise
    if a.detach:
        return 0
    code = proxy.pump(s.pid) if proxy else wait_child(s.pid)
    if not a.keep:
        rt.delete(a.id, force=True)
    return code
