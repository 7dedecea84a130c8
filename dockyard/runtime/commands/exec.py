"""exec: run another process inside a running container."""
import json

from ...spec.runtime import SpecError, load_spec, parse_process
from ..args import Command
from ..container import wait_child
from ..errors import RuntimeFailure


def command():
    c = Command('exec', 'execute a new process inside the container', positionals=['id'], rest='command')
    c.flag('--process', '-p')
    c.flag('--tty', '-t', kind="bool")
    c.flag('--console-socket', dest='console_socket')
    c.flag('--detach', '-d', kind="bool")
    c.flag('--pid-file', dest='pid_file')
    c.flag('--env', '-e', kind="list")
    c.flag('--cwd')
    c.flag('--user', '-u')
    c.flag('--additional-gids', '-g', dest='additional_gids', kind="list")
    c.flag('--cap', '-c', kind="list")
    c.flag('--no-new-privs', dest='no_new_privs', kind="bool")
    c.flag('--apparmor', default='')
    c.flag('--process-label', dest='process_label', default='')
    c.flag('--preserve-fds', dest='preserve_fds', kind="int", default=0)
    c.flag('--ignore-paused', dest='ignore_paused', kind="bool")
    return c


def build_process(ctx, a):
    if a.process:
        try:
            with open(a.process, "rb") as f:
                return parse_process(json.load(f))
        except OSError as e:
            raise RuntimeFailure(f"reading process file {a.process}: {e.strerror}") from None
        except ValueError as e:
            raise RuntimeFailure(f"invalid process file {a.process}: {e}") from None
    if not a.command:
        raise RuntimeFailure("exec: a process file (--process) or a command is required")
    s = ctx.runtime.load(a.id)
    try:
        base = load_spec(s.config).process
    except SpecError as e:
        raise RuntimeFailure(str(e)) from None
    proc = base
    proc.args = list(a.command)
    proc.env = proc.env + list(a.env)
    proc.terminal = a.tty
    if a.cwd:
        proc.cwd = a.cwd
    if a.user:
        uid, _, gid = a.user.partition(":")
        if not uid.isdigit() or (gid and not gid.isdigit()):
            raise RuntimeFailure(f"invalid --user {a.user!r}: use UID[:GID]")
        proc.user.uid, proc.user.gid = int(uid), int(gid or 0)
    if a.additional_gids:
        proc.user.additional_gids = [int(g) for g in a.additional_gids]
    if a.cap and proc.capabilities is not None:
        for c in a.cap:
            for lst in (proc.capabilities.bounding, proc.capabilities.effective, proc.capabilities.permitted):
                if c not in lst:
                    lst.append(c)
    if a.no_new_privs:
        proc.no_new_privileges = True
    return proc


def run(ctx, a):
    proc = build_process(ctx, a)
    proxy = None
    if proc.terminal and not a.console_socket and not a.detach:
        from ..ttyproxy import TtyProxy
        proxy = TtyProxy()
    pid = ctx.runtime.exec(a.id, proc, pid_file=a.pid_file, console_socket=a.console_socket,
                           console_sock=proxy.theirs if proxy else None, preserve_fds=a.preserve_fds)
    if a.detach:
        return 0
    if proxy:
        proxy.receive()
        return proxy.pump(pid)
    return wait_child(pid)


