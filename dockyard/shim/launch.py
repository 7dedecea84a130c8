"""Starting a process through the runtime with the stdio the shim owns (create and exec alike).

    RUNTIME ... VERB [verb args] --pid-file P [--console-socket S] ID

No tty: stdout/stderr are fifos (container inits, see stdio.py) or pipes (execs), stdin a pipe
when asked for, else /dev/null; the runtime's own stderr is then the process's, so on a failure
without a json log line its error is read back from there. tty: the runtime's stdio is /dev/null
and the pty master arrives on the console socket.
"""
from __future__ import annotations

import os
import tempfile

from . import records, runner, stdio
from .process import Process


class LaunchError(Exception):
    """The runtime failed (``launched`` False: nothing to undo) or the shim could not take the
    process over afterwards (``launched`` True: the runtime made it, someone must remove it)."""

    def __init__(self, message: str, launched: bool = False):
        super().__init__(message)
        self.launched = launched


def console_socket(directory: str, name: str) -> tuple[stdio.ConsoleSocket, str]:
    path = os.path.join(directory, name)
    if len(path.encode()) <= stdio.MAX_SOCKET_PATH:
        return stdio.ConsoleSocket(path), path
    tmp = tempfile.mkdtemp(prefix="dockyard-shim-")  # a long exec root: socket paths have 107 bytes
    path = os.path.join(tmp, "c.sock")
    try:
        return stdio.ConsoleSocket(path, remove_dir=True), path
    except OSError:
        records.remove_dir(tmp)
        raise


async def launch(reaper, runtime, verb_args: list[str], cid: str, proc: Process, *, pid_file: str,
                 console_dir: str, console_name: str, console_size, fifo_dir: str | None,
                 log_path: str) -> list[tuple[int, str]]:
    """Run the runtime; on success ``proc`` has its pid (and master or stdin fd) and the returned
    (fd, stream) pairs are its output, not yet read."""
    child: list[int] = []
    ours: list[int] = []
    console = None
    launched = False
    try:
        extra: list[str] = []
        if proc.tty:
            console, sock_path = console_socket(console_dir, console_name)
            extra = ["--console-socket", sock_path]
            stdin = stdout = stderr = stdio.devnull()
            child.append(stdin)
        else:
            for stream in ("stdout", "stderr"):
                r, w = stdio.output_fifo(os.path.join(fifo_dir, stream)) if fifo_dir else stdio.output_pipe()
                ours.append(r)
                child.append(w)
            stdout, stderr = child
            if proc.open_stdin:
                stdin, proc.stdin_fd = stdio.input_pipe()
            else:
                stdin = stdio.devnull(os.O_RDONLY)
            child.append(stdin)
        argv = runtime.argv(*verb_args, "--pid-file", pid_file, *extra, cid)
        res = await runner.run(reaper, argv, stdin=stdin, stdout=stdout, stderr=None if proc.tty else stderr,
                               log_path=log_path)
        for fd in child:
            os.close(fd)
        child.clear()
        if not res.ok:
            err = res.error
            if not proc.tty and err.endswith(f"exited with status {res.rc}"):
                err = runner.last_line(_drain(ours[1])) or err
            raise LaunchError(err)
        launched = True
        proc.pid = read_pid(pid_file)
        if proc.tty:
            proc.master_fd = await console.receive()
            if console_size:
                stdio.set_winsize(proc.master_fd, *console_size)
            outputs = [(proc.master_fd, "stdout")]
        else:
            outputs = list(zip(ours, ("stdout", "stderr")))
        ours.clear()
        return outputs
    except OSError as e:
        raise LaunchError(e.strerror or str(e), launched) from None
    except LaunchError as e:
        e.launched = e.launched or launched
        raise
    finally:
        for fd in child + ours:
            os.close(fd)
        if console is not None:
            console.close()
        try:
            os.unlink(pid_file)
        except FileNotFoundError:
            pass


def read_pid(path: str) -> int:
    try:
        with open(path) as f:
            text = f.read().strip()
    except OSError as e:
        raise LaunchError(f"reading the pid file {path}: {e.strerror}") from None
    if not text.isdigit() or int(text) <= 0:
        raise LaunchError(f"the pid file {path} holds no pid: {text[:40]!r}")
    return int(text)


def _drain(fd: int) -> bytes:
    """Whatever is waiting in a non-blocking fd (the runtime's error output on a failed start)."""
    chunks, size = [], 0
    while size <= 1 << 20:
        try:
            b = os.read(fd, 65536)
        except OSError:
            break
        if not b:
            break
        chunks.append(b)
        size += len(b)
    return b"".join(chunks)
