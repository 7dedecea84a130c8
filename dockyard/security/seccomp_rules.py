"""Dockyard's default seccomp allowlist, as data: which system calls a container may make.

Everything not listed here fails with EPERM. The list is grouped by what the calls do, so a
reader can check each group; ``seccomp_default.profile`` turns it into a ``linux.seccomp``.

Principles:

* A call that the kernel already guards with a capability the container may hold (``mknod``
  with CAP_MKNOD, ``setuid`` with CAP_SETUID, ``adjtimex`` that only changes the clock with
  CAP_SYS_TIME) is allowed: the kernel decides.
* A call that reaches global kernel state, or whose capability check has been the road of a
  container escape, is allowed only when the container was granted the capability it needs
  (``GATED``): module loading, kexec, mounts, namespaces, BPF, perf, open-by-handle, keyrings,
  userfaultfd, raw I/O ports, the clock, accounting, swap, io_uring.
* Namespace creation is filtered by argument: ``clone`` and ``unshare`` are allowed without
  the CLONE_NEW* flags; ``clone3`` (whose flags live in memory a filter cannot read) answers
  ENOSYS so that C libraries fall back to ``clone``.
* ``socket``: every address family but AF_ALG (the kernel crypto API, a frequent source of
  kernel bugs) and AF_VSOCK (host-guest sockets). The 32-bit ``socketcall`` multiplexer is
  not allowed at all: a filter cannot see its arguments, so it would bypass the family check
  (Docker allows it; 32-bit C libraries use the direct calls since Linux 4.3).
* ``personality``: only the values programs use (Linux, UNAME26, LINUX32, query).
* ``ptrace``, ``process_vm_readv/writev``: allowed, as in Docker on kernels >= 4.8 (before
  4.8 ptrace could bypass seccomp). The kernel's ptrace access check still applies: only
  same-uid, dumpable processes of the container's own pid namespace can be traced, and the
  runtime makes itself non-dumpable before it joins a container, so the runtime cannot be
  traced from inside. ``kcmp``, ``pidfd_getfd`` and ``process_madvise`` need CAP_SYS_PTRACE.
"""
from __future__ import annotations

from typing import NamedTuple

EPERM = 1
ENOSYS = 38

# CLONE_NEWNS | CLONE_NEWCGROUP | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNET
CLONE_NAMESPACE_FLAGS = 0x00020000 | 0x02000000 | 0x04000000 | 0x08000000 | 0x10000000 | 0x20000000 | 0x40000000
CLONE_NEWTIME = 0x00000080  # unshare only: in clone()'s flags this bit is part of the exit signal
AF_ALG, AF_VSOCK = 38, 40
PERSONALITIES = (0x0, 0x0008, 0x20000, 0x20008, 0xFFFFFFFF)  # PER_LINUX, UNAME26, LINUX32, both, query


class Arg(NamedTuple):
    index: int
    op: str       # SCMP_CMP_*
    value: int
    value_two: int = 0


class Rule(NamedTuple):
    names: tuple[str, ...]
    caps: tuple[str, ...] = ()      # allowed only when the container holds one of these
    args: tuple[Arg, ...] = ()      # all must hold
    action: str = "SCMP_ACT_ALLOW"
    errno: int | None = None
    arches: tuple[str, ...] = ()    # only on these machine architectures (Go names: amd64, arm64)
    unless_caps: tuple[str, ...] = ()  # left out when the container holds one of these
    min_kernel: tuple[int, ...] = ()   # only on kernels at least this recent


def _n(text: str) -> tuple[str, ...]:
    return tuple(text.split())


FILES = _n("""
    open openat openat2 creat close close_range read write readv writev pread64 pwrite64 preadv preadv2
    pwritev pwritev2 lseek _llseek dup dup2 dup3 fcntl fcntl64 flock fsync fdatasync sync syncfs
    sync_file_range truncate truncate64 ftruncate ftruncate64 fallocate fadvise64 fadvise64_64 readahead
    sendfile sendfile64 copy_file_range splice tee vmsplice
    stat stat64 lstat lstat64 fstat fstat64 newfstatat fstatat64 statx statfs statfs64 fstatfs fstatfs64
    access faccessat faccessat2 readlink readlinkat getdents getdents64 getcwd chdir fchdir
    mkdir mkdirat rmdir rename renameat renameat2 link linkat symlink symlinkat unlink unlinkat
    mknod mknodat chmod fchmod fchmodat fchmodat2 chown chown32 fchown fchown32 fchownat lchown lchown32
    umask utime utimes utimensat utimensat_time64 futimesat name_to_handle_at
    getxattr lgetxattr fgetxattr getxattrat setxattr lsetxattr fsetxattr setxattrat listxattr llistxattr
    flistxattr listxattrat removexattr lremovexattr fremovexattr removexattrat
    inotify_init inotify_init1 inotify_add_watch inotify_rm_watch fanotify_mark
    statmount listmount cachestat
""")

MEMORY = _n("""
    brk mmap mmap2 munmap mremap mprotect madvise mincore msync mlock mlock2 munlock mlockall munlockall
    remap_file_pages memfd_create memfd_secret membarrier pkey_alloc pkey_free pkey_mprotect mseal
    map_shadow_stack process_mrelease
""")

PROCESSES = _n("""
    fork vfork execve execveat exit exit_group wait4 waitid waitpid kill tkill tgkill
    pidfd_open pidfd_send_signal getpid getppid gettid getpgid setpgid getpgrp getsid setsid
    getuid getuid32 geteuid geteuid32 getgid getgid32 getegid getegid32 getresuid getresuid32
    getresgid getresgid32 getgroups getgroups32 setuid setuid32 setgid setgid32 setreuid setreuid32
    setregid setregid32 setresuid setresuid32 setresgid setresgid32 setfsuid setfsuid32 setfsgid setfsgid32
    setgroups setgroups32 capget capset prctl seccomp getrlimit ugetrlimit setrlimit prlimit64 getrusage
    getpriority setpriority ioprio_get ioprio_set sched_yield sched_getaffinity sched_setaffinity
    sched_getattr sched_setattr sched_getparam sched_setparam sched_getscheduler sched_setscheduler
    sched_get_priority_max sched_get_priority_min sched_rr_get_interval sched_rr_get_interval_time64
    getrandom set_tid_address set_robust_list get_robust_list rseq restart_syscall getcpu uname sysinfo times
    get_thread_area set_thread_area sigaltstack landlock_create_ruleset landlock_add_rule
    landlock_restrict_self uretprobe
""")

SIGNALS = _n("""
    rt_sigaction rt_sigprocmask rt_sigreturn rt_sigsuspend rt_sigpending rt_sigtimedwait
    rt_sigtimedwait_time64 rt_sigqueueinfo rt_tgsigqueueinfo sigreturn sigprocmask signalfd signalfd4
    pause alarm
""")

TIME = _n("""
    time gettimeofday clock_gettime clock_gettime64 clock_getres clock_getres_time64 clock_nanosleep
    clock_nanosleep_time64 nanosleep adjtimex clock_adjtime clock_adjtime64 getitimer setitimer
    timer_create timer_delete timer_getoverrun timer_gettime timer_gettime64 timer_settime timer_settime64
    timerfd_create timerfd_gettime timerfd_gettime64 timerfd_settime timerfd_settime64
""")

WAITING = _n("""
    poll ppoll ppoll_time64 select _newselect pselect6 pselect6_time64 epoll_create epoll_create1 epoll_ctl
    epoll_ctl_old epoll_wait epoll_wait_old epoll_pwait epoll_pwait2 eventfd eventfd2
    futex futex_time64 futex_waitv futex_wait futex_wake futex_requeue
""")

NETWORK = _n("""
    socketpair bind connect listen accept accept4 getsockname getpeername getsockopt setsockopt shutdown
    send sendto sendmsg sendmmsg recv recvfrom recvmsg recvmmsg recvmmsg_time64
""")

IPC = _n("""
    pipe pipe2 ioctl ipc msgget msgsnd msgrcv msgctl semget semop semtimedop semtimedop_time64 semctl
    shmget shmat shmdt shmctl mq_open mq_unlink mq_timedsend mq_timedsend_time64 mq_timedreceive
    mq_timedreceive_time64 mq_notify mq_getsetattr
    io_setup io_destroy io_submit io_cancel io_getevents io_pgetevents io_pgetevents_time64
""")

ALWAYS = FILES + MEMORY + PROCESSES + SIGNALS + TIME + WAITING + NETWORK + IPC

# Architecture-specific calls a C library needs.
ARCH_RULES = (
    Rule(_n("arch_prctl"), arches=("amd64",)),
    Rule(_n("modify_ldt"), arches=("amd64",)),
    Rule(_n("arm_fadvise64_64 arm_sync_file_range sync_file_range2 breakpoint cacheflush set_tls"),
         arches=("arm64",)),
)

# Before Linux 4.8 a traced process could skip its seccomp filter.
PTRACE = Rule(_n("ptrace process_vm_readv process_vm_writev"), min_kernel=(4, 8))

# Calls whose arguments decide.
FILTERED = (
    # socket: every family but AF_ALG (38) and AF_VSOCK (40)
    Rule(("socket",), args=(Arg(0, "SCMP_CMP_LT", AF_ALG),)),
    Rule(("socket",), args=(Arg(0, "SCMP_CMP_EQ", AF_ALG + 1),)),
    Rule(("socket",), args=(Arg(0, "SCMP_CMP_GT", AF_VSOCK),)),
    *(Rule(("personality",), args=(Arg(0, "SCMP_CMP_EQ", p),)) for p in PERSONALITIES),
    # threads and processes, never new namespaces (CAP_SYS_ADMIN holders get clone unfiltered)
    Rule(("clone",), args=(Arg(0, "SCMP_CMP_MASKED_EQ", CLONE_NAMESPACE_FLAGS, 0),), unless_caps=("CAP_SYS_ADMIN",)),
    Rule(("unshare",), args=(Arg(0, "SCMP_CMP_MASKED_EQ", CLONE_NAMESPACE_FLAGS | CLONE_NEWTIME, 0),),
         unless_caps=("CAP_SYS_ADMIN",)),
    # clone3's flags are in memory: ENOSYS makes glibc and musl fall back to clone
    Rule(("clone3",), action="SCMP_ACT_ERRNO", errno=ENOSYS, unless_caps=("CAP_SYS_ADMIN",)),
)

# Calls allowed only with a capability (any of ``caps``).
GATED = (
    Rule(_n("""mount umount umount2 pivot_root mount_setattr move_mount open_tree fsopen fsconfig fsmount
               fspick clone clone3 unshare setns sethostname setdomainname quotactl quotactl_fd
               fanotify_init lookup_dcookie swapon swapoff lsm_get_self_attr lsm_set_self_attr
               lsm_list_modules keyctl add_key request_key io_uring_setup io_uring_enter
               io_uring_register"""), caps=("CAP_SYS_ADMIN",)),
    Rule(_n("bpf"), caps=("CAP_SYS_ADMIN", "CAP_BPF")),
    Rule(_n("perf_event_open"), caps=("CAP_SYS_ADMIN", "CAP_PERFMON")),
    Rule(_n("syslog"), caps=("CAP_SYS_ADMIN", "CAP_SYSLOG")),
    Rule(_n("open_by_handle_at"), caps=("CAP_DAC_READ_SEARCH",)),
    Rule(_n("init_module finit_module delete_module"), caps=("CAP_SYS_MODULE",)),
    Rule(_n("reboot kexec_load kexec_file_load"), caps=("CAP_SYS_BOOT",)),
    Rule(_n("settimeofday stime clock_settime clock_settime64"), caps=("CAP_SYS_TIME",)),
    Rule(_n("iopl ioperm"), caps=("CAP_SYS_RAWIO",)),
    Rule(_n("acct"), caps=("CAP_SYS_PACCT",)),
    Rule(_n("vhangup"), caps=("CAP_SYS_TTY_CONFIG",)),
    Rule(_n("get_mempolicy set_mempolicy set_mempolicy_home_node mbind move_pages migrate_pages"),
         caps=("CAP_SYS_NICE",)),
    Rule(_n("kcmp pidfd_getfd process_madvise userfaultfd"), caps=("CAP_SYS_PTRACE",)),
    Rule(_n("chroot"), caps=("CAP_SYS_CHROOT",)),
)

# Never allowed by the default profile, whatever the capabilities (documentation, and the
# tests check that no rule above lets them through): obsolete or multiplexing calls.
NEVER = _n("""
    socketcall uselib _sysctl sysfs ustat create_module get_kernel_syms query_module nfsservctl vm86
    vm86old afs_syscall tuxcall security vserver putpmsg getpmsg
""")
