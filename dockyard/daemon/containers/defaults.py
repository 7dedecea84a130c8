"""Docker's defaults for a container's OCI runtime config (what dockerd 20.10 writes).

Data only: the lists and values here are copied by ``specgen*`` into each config.json, in
Docker's order, so a config made for ``docker run busybox`` matches dockerd's field by field.
"""
from __future__ import annotations

OCI_VERSION = "1.0.2-dev"

# The 14 capabilities every non-privileged container gets, in Docker's order.
DEFAULT_CAPABILITIES = (
    "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FSETID", "CAP_FOWNER", "CAP_MKNOD", "CAP_NET_RAW",
    "CAP_SETGID", "CAP_SETUID", "CAP_SETFCAP", "CAP_SETPCAP", "CAP_NET_BIND_SERVICE",
    "CAP_SYS_CHROOT", "CAP_KILL", "CAP_AUDIT_WRITE",
)

MASKED_PATHS = (
    "/proc/asound", "/proc/acpi", "/proc/kcore", "/proc/keys", "/proc/latency_stats",
    "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug", "/proc/scsi", "/sys/firmware",
)
READONLY_PATHS = ("/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger")

DEFAULT_PATH_ENV = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

DEFAULT_SHM_SIZE = 64 << 20

# The namespaces of a default container, in Docker's order (cgroup is added for cgroupns=private).
NAMESPACE_ORDER = ("mount", "network", "uts", "pid", "ipc", "user", "cgroup")

# Sysctls Docker sets in a container with its own network namespace (unless the user set them).
NETNS_SYSCTLS = (
    ("net.ipv4.ip_unprivileged_port_start", "0"),
    ("net.ipv4.ping_group_range", "0 2147483647"),
)

# Where --init's binary appears in the container, and the host binaries tried for it.
INIT_PATH_IN_CONTAINER = "/sbin/docker-init"
INIT_CANDIDATES = ("/usr/bin/tini-static", "/usr/bin/catatonit", "/usr/libexec/podman/catatonit",
                   "/usr/bin/docker-init", "/usr/bin/tini")

# Docker's device cgroup rules: deny all, then the standard nodes, and keep /dev/fuse out.
DEFAULT_DEVICE_RULES = (
    {"allow": False, "access": "rwm"},
    {"allow": True, "type": "c", "major": 1, "minor": 5, "access": "rwm"},    # /dev/zero
    {"allow": True, "type": "c", "major": 1, "minor": 3, "access": "rwm"},    # /dev/null
    {"allow": True, "type": "c", "major": 1, "minor": 9, "access": "rwm"},    # /dev/urandom
    {"allow": True, "type": "c", "major": 1, "minor": 8, "access": "rwm"},    # /dev/random
    {"allow": True, "type": "c", "major": 5, "minor": 0, "access": "rwm"},    # /dev/tty
    {"allow": True, "type": "c", "major": 5, "minor": 1, "access": "rwm"},    # /dev/console
    {"allow": False, "type": "c", "major": 10, "minor": 229, "access": "rwm"},  # /dev/fuse
)
PRIVILEGED_DEVICE_RULES = ({"allow": True, "access": "rwm"},)

# Directories of the host's /dev that a privileged container does not get nodes from (runc's list).
HOST_DEVICE_SKIP_DIRS = ("pts", "shm", "fd", "mqueue", ".lxc", ".lxd-mounts", ".udev")


def default_mounts() -> list[dict]:
    """The filesystem mounts every container starts with (/dev/shm is added apart, by IPC mode)."""
    return [
        {"destination": "/proc", "type": "proc", "source": "proc", "options": ["nosuid", "noexec", "nodev"]},
        {"destination": "/dev", "type": "tmpfs", "source": "tmpfs",
         "options": ["nosuid", "strictatime", "mode=755", "size=65536k"]},
        {"destination": "/dev/pts", "type": "devpts", "source": "devpts",
         "options": ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"]},
        {"destination": "/sys", "type": "sysfs", "source": "sysfs", "options": ["nosuid", "noexec", "nodev", "ro"]},
        {"destination": "/sys/fs/cgroup", "type": "cgroup", "source": "cgroup",
         "options": ["ro", "nosuid", "noexec", "nodev"]},
        {"destination": "/dev/mqueue", "type": "mqueue", "source": "mqueue", "options": ["nosuid", "noexec", "nodev"]},
    ]


def shm_mount(size: int) -> dict:
    return {"destination": "/dev/shm", "type": "tmpfs", "source": "shm",
            "options": ["nosuid", "noexec", "nodev", "mode=1777", f"size={size}"]}


# ulimit names Docker accepts (go-units), as RLIMIT_<NAME> in the spec.
ULIMIT_NAMES = ("as", "core", "cpu", "data", "fsize", "locks", "memlock", "msgqueue", "nice", "nofile",
                "nproc", "rss", "rtprio", "rttime", "sigpending", "stack")
RLIM_INFINITY = (1 << 64) - 1

# Sysctls a container may set (Docker CLI's list), and the prefixes of namespaced families.
SYSCTLS_IPC = ("kernel.msgmax", "kernel.msgmnb", "kernel.msgmni", "kernel.sem", "kernel.shmall",
               "kernel.shmmax", "kernel.shmmni", "kernel.shm_rmid_forced")
SYSCTL_PREFIX_IPC = "fs.mqueue."
SYSCTL_PREFIX_NET = "net."

# Docker's resource limits.
MIN_MEMORY = 6 << 20
MIN_KERNEL_MEMORY = 4 << 20
MIN_CPU_SHARES, MAX_CPU_SHARES = 2, 262144
CPU_PERIOD_DEFAULT = 100000
