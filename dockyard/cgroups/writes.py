"""A planned control-file write, and the executor that performs a plan.

Resource application is two-phase: a planner turns ``Resources`` into a list
of ``Write``s, refusing bad input before anything is written; ``execute``
then writes them in order. Kernel refusals surface as ``CgroupError`` naming
the controller, value and file.
"""
from __future__ import annotations

from ..util import lazylog as logging
from ..util.record import record as dataclass

from .files import CgroupFiles, parse_int
from .errors import CgroupError

log = logging.getLogger("dockyard.cgroups")


@dataclass(frozen=True)
class Write:
    controller: str
    directory: str
    file: str
    value: str
    # skip quietly when the file does not exist (knob absent on this kernel)
    optional: bool = False
    # errnos the kernel may answer that mean "ignored" (e.g. deprecated knobs)
    ignore: tuple[int, ...] = ()
    # on EINVAL, retry once right after the next write (interdependent pairs
    # such as cfs_period_us/cfs_quota_us, rt_period_us/rt_runtime_us)
    retry_after_next: bool = False
    # read the value back and fail if the kernel clamped it (cpu.shares)
    verify: bool = False


def execute(writes: list[Write], fs: CgroupFiles) -> None:
    deferred: Write | None = None
    for w in writes:
        if w.optional and not fs.exists(w.directory, w.file):
            log.debug("cgroup %s: %s absent, not setting %r", w.controller, w.file, w.value)
            continue
        try:
            fs.write(w.directory, w.file, w.value, w.controller)
        except CgroupError as e:
            if e.errno in w.ignore:
                log.debug("cgroup %s: kernel ignored %s: %s", w.controller, w.file, e)
                continue
            if w.retry_after_next and deferred is None and e.errno == 22:
                deferred = w
                continue
            raise
        if w.verify:
            got = parse_int(fs.read(w.directory, w.file, w.controller), w.file)
            if got != int(w.value):
                raise CgroupError(f"cgroup {w.controller}: the kernel set {w.file} to {got} "
                                  f"instead of {w.value} (allowed range exceeded)")
        if deferred is not None and deferred is not w:
            fs.write(deferred.directory, deferred.file, deferred.value, deferred.controller)
            deferred = None
    if deferred is not None:
        fs.write(deferred.directory, deferred.file, deferred.value, deferred.controller)
