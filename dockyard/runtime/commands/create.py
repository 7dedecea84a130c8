"""create: set a container up and leave its init waiting for `start`."""
import os

from ..args import Command


def command():
    c = Command('create', 'create a container', positionals=['id'])
    c.flag('--bundle', '-b', default='.')
    c.flag('--pid-file', dest='pid_file')
    c.flag('--console-socket', dest='console_socket')
    c.flag('--preserve-fds', dest='preserve_fds', kind="int", default=0)
    c.flag('--no-pivot', dest='no_pivot', kind="bool")
    c.flag('--no-new-keyring', dest='no_new_keyring', kind="bool")
    return c


def run(ctx, a):
    ctx.runtime.create(a.id, a.bundle or os.getcwd(), pid_file=a.pid_file, console_socket=a.console_socket,
                       preserve_fds=a.preserve_fds, no_pivot=a.no_pivot)
    return 0
