"""create: set a container up and leave its init waiting for `start`."""
import os


def add(sub):
    p = sub.add_parser("create", help="create a container")
    p.add_argument("--bundle", "-b", default=".")
    p.add_argument("--pid-file", dest="pid_file")
    p.add_argument("--console-socket", dest="console_socket")
    p.add_argument("--preserve-fds", dest="preserve_fds", type=int, default=0)
    p.add_argument("--no-pivot", dest="no_pivot", action="store_true")
    p.add_argument("--no-new-keyring", dest="no_new_keyring", action="store_true")
    p.add_argument("id")


def run(ctx, a):
    ctx.runtime.create(a.id, a.bundle or os.getcwd(), pid_file=a.pid_file, console_socket=a.console_socket,
                       preserve_fds=a.preserve_fds, no_pivot=a.no_pivot)
    return 0
