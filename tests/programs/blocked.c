// Tries every syscall the box must deny, each in a fresh child, and prints "NAME ok|errno=N|signal=N".
// Arguments are chosen so that each call would succeed (or fail differently) if it were not filtered.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <linux/perf_event.h>
#include <linux/reboot.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/ptrace.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x80
#endif
enum { NR_io_uring_setup = 425, NR_io_uring_enter, NR_io_uring_register, NR_open_tree = 428,
       NR_move_mount, NR_fsopen, NR_fsconfig, NR_fsmount, NR_clone3 = 435 };

// A clone-like call that succeeded must not run on in the child.
static long child_exits(long r) {
    if (r == 0) _exit(0);
    if (r > 0) waitpid(r, NULL, __WALL);
    return r;
}

static long p_unshare(long flag) { return syscall(SYS_unshare, flag); }
static long p_clone(long flag) { return child_exits(syscall(SYS_clone, flag | SIGCHLD, 0, 0, 0, 0)); }
static long p_clone3(long _) {
    uint64_t args[8] = {0};
    args[4] = SIGCHLD; // exit_signal
    return child_exits(syscall(NR_clone3, args, sizeof args));
}
static long p_setns(long _) { return syscall(SYS_setns, open("/proc/self/ns/uts", O_RDONLY), CLONE_NEWUTS); }
static long p_mount(long _) { return syscall(SYS_mount, "none", "/tmp", "tmpfs", 0, NULL); }
static long p_umount2(long _) { return syscall(SYS_umount2, "/tmp", MNT_DETACH); }
static long p_pivot_root(long _) { return syscall(SYS_pivot_root, "/tmp", "/tmp"); }
static long p_chroot(long _) { return syscall(SYS_chroot, "/tmp"); }
static long p_ptrace_traceme(long _) { return syscall(SYS_ptrace, PTRACE_TRACEME, 0, 0, 0); }
static long p_ptrace_attach_init(long _) { return syscall(SYS_ptrace, PTRACE_ATTACH, 1, 0, 0); }
static long p_ptrace_attach_child(long _) {
    pid_t c = fork();
    if (c == 0) { pause(); _exit(0); }
    long r = syscall(SYS_ptrace, PTRACE_ATTACH, c, 0, 0);
    int e = errno;
    kill(c, SIGKILL);
    waitpid(c, NULL, __WALL);
    errno = e;
    return r;
}
static long p_process_vm(long nr) {
    char a[8] = "secret", b[8] = "";
    struct iovec local = {b, sizeof b}, remote = {a, sizeof a};
    return syscall(nr, getpid(), &local, 1, &remote, 1, 0);
}
static long p_add_key(long _) { return syscall(SYS_add_key, "user", "judge-probe", "v", 1, -2 /*process keyring*/); }
static long p_request_key(long _) { return syscall(SYS_request_key, "user", "judge-none", NULL, -2); }
static long p_keyctl(long _) { return syscall(SYS_keyctl, 0 /*GET_KEYRING_ID*/, -3 /*session*/, 0); }
static long p_bpf(long _) {
    union bpf_attr a;
    memset(&a, 0, sizeof a);
    a.map_type = BPF_MAP_TYPE_ARRAY, a.key_size = 4, a.value_size = 4, a.max_entries = 1;
    return syscall(SYS_bpf, BPF_MAP_CREATE, &a, sizeof a);
}
static long p_perf_event_open(long _) {
    struct perf_event_attr a;
    memset(&a, 0, sizeof a);
    a.type = PERF_TYPE_SOFTWARE, a.size = sizeof a, a.config = PERF_COUNT_SW_TASK_CLOCK;
    a.disabled = 1, a.exclude_kernel = 1, a.exclude_hv = 1;
    return syscall(SYS_perf_event_open, &a, 0, -1, -1, 0);
}
static long p_userfaultfd(long _) { return syscall(SYS_userfaultfd, O_CLOEXEC | 1 /*UFFD_USER_MODE_ONLY*/); }
static long p_io_uring_setup(long _) { char params[256] = {0}; return syscall(NR_io_uring_setup, 4, params); }
static long p_io_uring_enter(long _) { return syscall(NR_io_uring_enter, -1, 0, 0, 0, NULL, 0); }
static long p_io_uring_register(long _) { return syscall(NR_io_uring_register, -1, 0, NULL, 0); }
static long p_kexec_load(long _) { return syscall(SYS_kexec_load, 0, 0, NULL, 0); }
static long p_kexec_file_load(long _) { return syscall(SYS_kexec_file_load, -1, -1, 0, "", 0); }
static long p_init_module(long _) { return syscall(SYS_init_module, NULL, 0, ""); }
static long p_finit_module(long _) { return syscall(SYS_finit_module, -1, "", 0); }
static long p_delete_module(long _) { return syscall(SYS_delete_module, "judge_none", O_NONBLOCK); }
static long p_reboot(long _) { // CAD_OFF only toggles ctrl-alt-del handling: harmless even if it went through
    return syscall(SYS_reboot, LINUX_REBOOT_MAGIC1, LINUX_REBOOT_MAGIC2, LINUX_REBOOT_CMD_CAD_OFF, NULL);
}
static long p_swapon(long _) { return syscall(SYS_swapon, "/tmp/judge-swap", 0); }
static long p_swapoff(long _) { return syscall(SYS_swapoff, "/tmp/judge-swap"); }
static long p_syslog(long _) { return syscall(SYS_syslog, 10 /*SIZE_BUFFER*/, NULL, 0); }
static long p_settimeofday(long _) { return syscall(SYS_settimeofday, NULL, NULL); }
static long p_clock_settime(long _) { // unfiltered, this is EINVAL (the monotonic clock cannot be set)
    struct timespec ts = {1, 0};
    return syscall(SYS_clock_settime, CLOCK_MONOTONIC, &ts);
}
static long p_sethostname(long _) { return syscall(SYS_sethostname, "pwned", 5); }
static long p_setdomainname(long _) { return syscall(SYS_setdomainname, "pwned", 5); }
static long p_open_by_handle_at(long _) {
    struct { unsigned int bytes; int type; unsigned char h[8]; } fh = {8, 1, {0}};
    return syscall(SYS_open_by_handle_at, AT_FDCWD, &fh, O_RDONLY);
}
static long p_fsopen(long _) { return syscall(NR_fsopen, "tmpfs", 0); }
static long p_fsmount(long _) { return syscall(NR_fsmount, -1, 0, 0); }
static long p_move_mount(long _) { return syscall(NR_move_mount, -1, "", -1, "", 0); }
static long p_open_tree(long _) { return syscall(NR_open_tree, AT_FDCWD, "/tmp", O_CLOEXEC); } // no CLONE: allowed unprivileged
static long p_tiocsti(long _) { char c = 'x'; return syscall(SYS_ioctl, 0, TIOCSTI, &c); }
static long p_mknod_mem(long _) { return syscall(SYS_mknodat, AT_FDCWD, "/tmp/mem", S_IFCHR | 0666, makedev(1, 1)); }
static long p_x32_getpid(long _) { // x32 ABI: syscall number with bit 30 set
    long r = syscall(0x40000000 | SYS_getpid);
    if (r == getpid()) return 0;
    if (r >= 0) errno = 255;
    return -1;
}
static long p_int80_getpid(long _) { // i386 ABI through int 0x80: getpid is 20 there
    long r;
    __asm__ volatile("int $0x80" : "=a"(r) : "a"(20L) : "rbx", "rcx", "rdx", "r8", "r9", "r10", "r11", "memory");
    if ((int)r == getpid()) return 0;
    errno = (int)r < 0 ? -(int)r : 255;
    return -1;
}

// Runs fn(arg) in a fresh child so that one success cannot change the next probe's result.
static void probe(const char *name, long (*fn)(long), long arg) {
    fflush(stdout);
    pid_t pid = fork();
    if (pid < 0) { printf("%s fork-failed errno=%d\n", name, errno); return; }
    if (pid == 0) {
        alarm(5);
        errno = 0;
        long r = fn(arg);
        _exit(r >= 0 ? 0 : errno > 0 && errno < 255 ? errno : 255);
    }
    int st;
    waitpid(pid, &st, 0);
    if (WIFSIGNALED(st)) printf("%s signal=%d\n", name, WTERMSIG(st));
    else if (WEXITSTATUS(st) == 0) printf("%s ok\n", name);
    else printf("%s errno=%d\n", name, WEXITSTATUS(st));
}

#define P(fn) probe(#fn, p_##fn, 0)
int main(void) {
    probe("unshare_newuser", p_unshare, CLONE_NEWUSER);
    probe("unshare_newns", p_unshare, CLONE_NEWNS);
    probe("unshare_newpid", p_unshare, CLONE_NEWPID);
    probe("unshare_newnet", p_unshare, CLONE_NEWNET);
    probe("unshare_newuts", p_unshare, CLONE_NEWUTS);
    probe("unshare_newipc", p_unshare, CLONE_NEWIPC);
    probe("unshare_newcgroup", p_unshare, CLONE_NEWCGROUP);
    probe("unshare_newtime", p_unshare, CLONE_NEWTIME);
    probe("clone_newuser", p_clone, CLONE_NEWUSER);
    probe("clone_newns", p_clone, CLONE_NEWNS);
    probe("clone_newpid", p_clone, CLONE_NEWPID);
    probe("clone_newnet", p_clone, CLONE_NEWNET);
    probe("clone_newuts", p_clone, CLONE_NEWUTS);
    probe("clone_newipc", p_clone, CLONE_NEWIPC);
    probe("clone_newcgroup", p_clone, CLONE_NEWCGROUP);
    P(clone3); P(setns); P(mount); P(umount2); P(pivot_root); P(chroot);
    P(ptrace_traceme); P(ptrace_attach_init); P(ptrace_attach_child);
    probe("process_vm_readv", p_process_vm, SYS_process_vm_readv);
    probe("process_vm_writev", p_process_vm, SYS_process_vm_writev);
    P(add_key); P(request_key); P(keyctl); P(bpf); P(perf_event_open); P(userfaultfd);
    P(io_uring_setup); P(io_uring_enter); P(io_uring_register);
    P(kexec_load); P(kexec_file_load); P(init_module); P(finit_module); P(delete_module);
    P(reboot); P(swapon); P(swapoff); P(syslog); P(settimeofday); P(clock_settime);
    P(sethostname); P(setdomainname); P(open_by_handle_at);
    P(fsopen); P(fsmount); P(move_mount); P(open_tree); P(tiocsti); P(mknod_mem);
    P(x32_getpid); P(int80_getpid);
    printf("done\n");
    return 0;
}
