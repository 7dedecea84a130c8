"""run: create + start, then (unless --detach) wait and exit with the container's status."""
import os

from ..args import Command
from ..container import forward_signals, wait_child


def command():
    c = Command('run', 'create and start a container', positionals=['id'])
    c.flag('--bundle', '-b', default='.')
    c.flag('--detach', '-d', kind="bool")
    c.flag('--pid-file', dest='pid_file')
    c.flag('--console-socket', dest='console_socket')
    c.flag('--preserve-fds', dest='preserve_fds', kind="int", default=0)
    c.flag('--no-pivot', dest='no_pivot', kind="bool")
    c.flag('--no-new-keyring', dest='no_new_keyring', kind="bool")
    c.flag('--keep', kind="bool")
    return c


def run(ctx, a):
    rt = ctx.runtime
    bundle = a.bundle or os.getcwd()
    proxy = None
    if not a.detach and not a.console_socket:
        spec = rt.load_spec(os.path.join(os.path.abspath(bundle), "config.json"))
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
