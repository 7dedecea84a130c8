"""Running a runtime command: exit codes, error lines from the json log or stderr, timeouts, reaping."""
import asyncio
import os
import signal

from dockyard.kernel import real
from dockyard.shim import runner
from dockyard.shim.reaper import PR_SET_CHILD_SUBREAPER, Reaper, exit_code
from dockyard.shim.runner import RuntimeCommand, last_log_error


def with_reaper(body):
    async def main():
        reaper = Reaper()
        reaper.install(asyncio.get_running_loop())
        try:
            return await body(reaper)
        finally:
            asyncio.get_running_loop().remove_signal_handler(signal.SIGCHLD)
            real().prctl(PR_SET_CHILD_SUBREAPER, 0)  # the test process must not stay a subreaper
    return asyncio.run(main())


def sh(script):
    return ["/bin/sh", "-c", script]


def test_argv_puts_global_flags_first():
    rc = RuntimeCommand("/usr/sbin/runc", "/run/r", ("--systemd-cgroup",), "/x/runtime.log")
    assert rc.argv("kill", "c1", "9") == ["/usr/sbin/runc", "--systemd-cgroup", "--root", "/run/r", "--log",
                                          "/x/runtime.log", "--log-format", "json", "kill", "c1", "9"]
    assert RuntimeCommand("/r", "/root").argv("state", "c") == ["/r", "--root", "/root", "state", "c"]


def test_success_captures_stdout():
    async def body(reaper):
        return await runner.run(reaper, sh('echo \'{"status":"running"}\'; echo noise >&2'))
    res = with_reaper(body)
    assert res.ok and res.stdout == b'{"status":"running"}\n' and res.error == ""


def test_error_comes_from_the_new_json_log_lines(tmp_path):
    log = tmp_path / "runtime.log"
    log.write_text('{"level":"error","msg":"an old failure","time":"t"}\n')
    script = (f"echo '{{\"level\":\"info\",\"msg\":\"hello\"}}' >> {log}; "
              f"echo '{{\"level\":\"error\",\"msg\":\"container does not exist\\\\nreally\"}}' >> {log}; "
              "echo 'stderr words' >&2; exit 1")

    async def body(reaper):
        return await runner.run(reaper, sh(script), log_path=str(log))
    res = with_reaper(body)
    assert res.rc == 1 and res.error == "container does not exist really"


def test_error_falls_back_to_stderr_then_status(tmp_path):
    async def body(reaper):
        a = await runner.run(reaper, sh("echo first >&2; echo 'last line' >&2; echo >&2; exit 2"),
                             log_path=str(tmp_path / "missing.log"))
        b = await runner.run(reaper, sh("exit 3"))
        return a, b
    a, b = with_reaper(body)
    assert a.error == "last line"
    assert b.rc == 3 and b.error == "sh exited with status 3"


def test_timeout_kills_the_command():
    async def body(reaper):
        return await runner.run(reaper, sh("sleep 30"), timeout=0.2)
    res = with_reaper(body)
    assert not res.ok and "did not finish within 0.2s" in res.error


def test_missing_binary():
    async def body(reaper):
        return await runner.run(reaper, ["/no/such/runtime", "state", "x"])
    res = with_reaper(body)
    assert res.rc == 127 and res.error.startswith("cannot run /no/such/runtime")


def test_reaper_keeps_exits_nobody_watched_yet():
    async def body(reaper):
        pid = runner.spawn(sh("exit 4"), 0, 1, 2)
        for _ in range(200):
            await asyncio.sleep(0.01)
            if pid in reaper._unclaimed:
                break
        return await reaper.wait(pid)
    assert with_reaper(body) == 4


def test_exit_codes_follow_docker():
    assert exit_code(3 << 8) == 3
    assert exit_code(9) == 137  # killed by SIGKILL
    assert exit_code(15) == 143


def test_last_log_error_ignores_garbage(tmp_path):
    p = tmp_path / "l"
    p.write_bytes(b'not json\n{"level":"error"}\n[1]\n{"level":"fatal","msg":"boom"}\n')
    assert last_log_error(str(p), 0) == "boom"
    assert last_log_error(str(p), os.path.getsize(p)) == ""
    assert last_log_error(None, 0) == ""
