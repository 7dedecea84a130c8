/* Escape attempts from inside a container, each printed as "NAME ok" or "NAME ERRNO-NAME".
 *
 * Built statically by the security_defaults test fixtures and bind-mounted into containers.
 *   probe battery [SOCKET]  every attack once (see battery() below); SOCKET: the daemon's socket path
 *   probe exewatch SECS     scan /proc for other processes for SECS seconds: try to open each one's
 *                           /proc/PID/exe (O_PATH, for writing, and for writing through
 *                           /proc/self/fd/N as the CVE-2019-5736 exploit did) and to ptrace it;
 *                           print what was reachable
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/sysmacros.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/types.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static const char *ename(int e) {
    static char buf[32];
    switch (e) {
    case EPERM: return "EPERM";
    case ENOENT: return "ENOENT";
    case ESRCH: return "ESRCH";
    case EACCES: return "EACCES";
    case EFAULT: return "EFAULT";
    case EINVAL: return "EINVAL";
    case EROFS: return "EROFS";
    case ENOSYS: return "ENOSYS";
    case EBADF: return "EBADF";
    case ETXTBSY: return "ETXTBSY";
    case EAFNOSUPPORT: return "EAFNOSUPPORT";
    case ENODEV: return "ENODEV";
    case ENOEXEC: return "ENOEXEC";
    case ESTALE: return "ESTALE";
    case EOPNOTSUPP: return "EOPNOTSUPP";
    case ECONNREFUSED: return "ECONNREFUSED";
    case ENOTDIR: return "ENOTDIR";
    }
    snprintf(buf, sizeof buf, "E%d", e);
    return buf;
}

static void report(const char *name, long rc) {
    if (rc < 0)
        printf("%s %s\n", name, ename(errno));
    else
        printf("%s ok\n", name);
    fflush(stdout);
}

/* clone with flags; the child exits at once */
static long try_clone(unsigned long flags) {
    long pid = syscall(SYS_clone, flags | SIGCHLD, 0, 0, 0, 0);
    if (pid == 0)
        _exit(0);
    if (pid > 0)
        waitpid(pid, NULL, 0);
    return pid;
}

/* open_by_handle_at with a guessed handle of inode 2 (a file system's root directory) on the file
 * system of a bind-mounted host file: the "shocker" escape of 2014 */
static long shocker(void) {
    struct { unsigned int bytes; int type; unsigned char h[8]; } fh = {8, 1, {2, 0, 0, 0, 0, 0, 0, 0}};
    int mfd = open("/etc/hostname", O_RDONLY);
    if (mfd < 0)
        mfd = open("/", O_RDONLY);
    long rc = syscall(SYS_open_by_handle_at, mfd, &fh, O_RDONLY);
    int e = errno;
    if (rc >= 0)
        close((int)rc);
    close(mfd);
    errno = e;
    return rc;
}

static long write_file(const char *path, const char *text) {
    int fd = open(path, O_WRONLY);
    if (fd < 0)
        return -1;
    long rc = write(fd, text, strlen(text));
    int e = errno;
    close(fd);
    errno = e;
    return rc;
}

/* reading a masked file gives nothing (or it is missing) */
static long read_some(const char *path) {
    char buf[16];
    int fd = open(path, O_RDONLY);
    if (fd < 0)
        return -1;
    long rc = read(fd, buf, sizeof buf);
    int e = errno;
    close(fd);
    errno = e;
    if (rc == 0) {
        errno = ENOENT;
        return -1;
    }
    return rc;
}

/* any process outside the container that can be signalled? The container's own are the
 * lowest pids of its namespace; the host has hundreds of processes */
static long kill_outside(void) {
    int seen = 0;
    for (int pid = 1; pid < 32768; pid++)
        if (kill(pid, 0) == 0)
            seen++;
    if (seen > 20) {
        printf("kill-outside-visible %d\n", seen);
        return 0;
    }
    errno = ESRCH;
    return -1;
}

static long connect_unix(const char *path) {
    int s = socket(AF_UNIX, SOCK_STREAM, 0);
    struct sockaddr_un a;
    memset(&a, 0, sizeof a);
    a.sun_family = AF_UNIX;
    strncpy(a.sun_path, path, sizeof a.sun_path - 1);
    long rc = connect(s, (struct sockaddr *)&a, sizeof a);
    int e = errno;
    close(s);
    errno = e;
    return rc;
}

static int battery(const char *daemon_sock) {
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    struct timeval tv = {now.tv_sec, 0};
    mkdir("/tmp/probe-mnt", 0755);
    report("mount-tmpfs", mount("none", "/tmp/probe-mnt", "tmpfs", 0, NULL));
    report("mount-proc-again", mount("proc", "/tmp/probe-mnt", "proc", 0, NULL));
    report("remount-root-rw", mount(NULL, "/", NULL, MS_REMOUNT | MS_BIND, NULL));
    report("umount-proc", umount2("/proc", MNT_DETACH));
    report("pivot_root", syscall(SYS_pivot_root, "/", "/"));
    report("init_module", syscall(SYS_init_module, "\177ELF", 4, ""));
    report("finit_module", syscall(SYS_finit_module, 0, "", 0));
    report("delete_module", syscall(SYS_delete_module, "ext4", O_NONBLOCK));
    report("kexec_load", syscall(SYS_kexec_load, 0, 0, NULL, 0));
    report("kexec_file_load", syscall(SYS_kexec_file_load, -1, -1, 0, "", 0));
    report("reboot", syscall(SYS_reboot, 0xfee1dead, 672274793, 0x0badc0de /* no such command */, NULL));
    report("open_by_handle_at", shocker());
    report("read-kcore", read_some("/proc/kcore"));
    report("read-keys", read_some("/proc/keys"));
    report("read-timer_list", read_some("/proc/timer_list"));
    report("read-sched_debug", read_some("/proc/sched_debug"));
    report("write-proc-sys", write_file("/proc/sys/kernel/domainname", "x"));
    report("write-core_pattern", write_file("/proc/sys/kernel/core_pattern", "|/bin/sh"));
    report("write-sysrq-trigger", write_file("/proc/sysrq-trigger", "h"));
    report("write-sys-kernel", write_file("/sys/kernel/uevent_helper", "/x"));
    report("unshare-user", unshare(CLONE_NEWUSER));
    report("unshare-mount", unshare(CLONE_NEWNS));
    report("unshare-net", unshare(CLONE_NEWNET));
    report("clone-newuser", try_clone(CLONE_NEWUSER));
    report("clone-newns", try_clone(CLONE_NEWNS));
    report("clone3", syscall(SYS_clone3, NULL, 0));
    report("setns", syscall(SYS_setns, 0, 0));
    report("keyctl", syscall(SYS_keyctl, 0 /* KEYCTL_GET_KEYRING_ID */, -3, 0));
    report("add_key", syscall(SYS_add_key, "user", "dockyard", "x", 1, -3));
    report("request_key", syscall(SYS_request_key, "user", "dockyard", NULL, 0));
    report("bpf", syscall(SYS_bpf, 0 /* BPF_MAP_CREATE */, NULL, 0));
    report("perf_event_open", syscall(SYS_perf_event_open, NULL, 0, -1, -1, 0));
    report("userfaultfd", syscall(SYS_userfaultfd, 0));
    report("settimeofday", settimeofday(&tv, NULL));
    report("clock_settime", clock_settime(CLOCK_REALTIME, &now));
    report("sethostname", sethostname("escaped", 7));
    report("setdomainname", setdomainname("escaped", 7));
    report("iopl", syscall(SYS_iopl, 3));
    report("ioperm", syscall(SYS_ioperm, 0x80, 1, 1));
    report("swapon", syscall(SYS_swapon, "/dev/null", 0));
    report("acct", syscall(SYS_acct, "/tmp/acct"));
    report("syslog", syscall(SYS_syslog, 10 /* SIZE_BUFFER */, NULL, 0));
    report("personality-addr-no-randomize", syscall(SYS_personality, 0x0040000));
    report("socket-alg", socket(38, SOCK_SEQPACKET, 0));
    report("socket-vsock", socket(40, SOCK_STREAM, 0));
    report("io_uring_setup", syscall(SYS_io_uring_setup, 1, NULL));
    /* mknod may be allowed (CAP_MKNOD); the device cgroup must refuse opening the node */
    mknod("/tmp/probe-sda", S_IFBLK | 0600, makedev(8, 0));
    report("open-block-device", open("/tmp/probe-sda", O_RDONLY));
    mknod("/tmp/probe-mem", S_IFCHR | 0600, makedev(1, 1));
    report("open-dev-mem", open("/tmp/probe-mem", O_RDONLY));
    report("kill-outside", kill_outside());
    report("connect-daemon-socket", daemon_sock ? connect_unix(daemon_sock) : -1);
    report("connect-run-dockyard-sock", connect_unix("/run/dockyard.sock"));
    report("connect-docker-sock", connect_unix("/var/run/docker.sock"));
    return 0;
}

static int exewatch(int secs) {
    time_t end = time(NULL) + secs;
    pid_t me = getpid();
    long scans = 0;
    int seen[65536] = {0};  /* 1 = reported non-dumpable, 2 = reported reachable */
    while (time(NULL) < end) {
        DIR *d = opendir("/proc");
        if (!d)
            return 1;
        struct dirent *e;
        while ((e = readdir(d)) != NULL) {
            int pid = atoi(e->d_name);
            if (pid <= 1 || pid == me || pid >= 65536)
                continue;
            char p[64];
            snprintf(p, sizeof p, "/proc/%d/exe", pid);
            int fd = open(p, O_PATH | O_CLOEXEC);
            if (fd < 0) {
                if ((errno == EACCES || errno == EPERM) && seen[pid] != 1) {
                    seen[pid] = 1;
                    /* a successful attach means the process was dumpable by then: it must
                     * already be the container's own program (the runtime exec'd meanwhile) */
                    long pr = ptrace(PTRACE_SEIZE, pid, 0, 0);
                    int pe = errno;
                    char after[256] = "-";
                    if (pr == 0) {
                        ssize_t n = readlink(p, after, sizeof after - 1);
                        after[n > 0 ? n : 0] = 0;
                        ptrace(PTRACE_DETACH, pid, 0, 0);
                    }
                    printf("NONDUMPABLE %d open=EACCES ptrace=%s attached-to=%s\n", pid, pr < 0 ? ename(pe) : "ok",
                           after);
                    fflush(stdout);
                }
                continue;
            }
            struct stat st;
            char target[256] = "";
            fstat(fd, &st);
            if (readlink(p, target, sizeof target - 1) < 0)
                strcpy(target, "?");
            if (seen[pid] != 2) {
                seen[pid] = 2;
                /* opening for writing: the file is being executed, and must also not be the runtime's */
                int w = open(p, O_WRONLY | O_APPEND | O_CLOEXEC);
                int we = errno;
                if (w >= 0)
                    close(w);
                char via[64];
                snprintf(via, sizeof via, "/proc/self/fd/%d", fd);
                int w2 = open(via, O_WRONLY | O_APPEND | O_CLOEXEC);
                int we2 = errno;
                if (w2 >= 0)
                    close(w2);
                printf("REACHABLE %d dev=%lu ino=%lu target=%s write=%s write-via-fd=%s\n", pid,
                       (unsigned long)st.st_dev, (unsigned long)st.st_ino, target,
                       w >= 0 ? "ok" : ename(we), w2 >= 0 ? "ok" : ename(we2));
                fflush(stdout);
            }
            close(fd);
        }
        closedir(d);
        scans++;
        struct timespec pause = {0, 50000};  /* leave the other core to the runtime */
        nanosleep(&pause, NULL);
    }
    printf("SCANS %ld\n", scans);
    return 0;
}

int main(int argc, char **argv) {
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (argc >= 2 && strcmp(argv[1], "battery") == 0)
        return battery(argc >= 3 ? argv[2] : NULL);
    if (argc >= 3 && strcmp(argv[1], "exewatch") == 0)
        return exewatch(atoi(argv[2]));
    fprintf(stderr, "usage: probe battery [SOCKET] | probe exewatch SECONDS\n");
    return 2;
}
