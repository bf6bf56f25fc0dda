//! The code between clone and exec. Nothing here allocates, locks, logs or panics: every
//! string, argv/envp array, mount step and BPF program was prepared by the parent in a
//! [`ChildPlan`], and failures are reported as `(step, index, errno)` over a CLOEXEC pipe.
//!
//! Two processes run this code:
//! - the box's **init** (pid 1 of the new pid namespace): enters its fresh network namespace
//!   (made ahead by [`crate::netns`]), builds the mount tree, sets the hostname, waits for the supervisor's go (sent once the supervisor has moved
//!   init into the box's cgroup, which overlaps with the mount work; EOF means the supervisor
//!   failed or died), enters a new cgroup namespace, forks the program, then reaps every process of the box until the
//!   program exits, writes the program's wait status to the status pipe and exits (which kills
//!   whatever else is left in the namespace);
//! - the **program**: new session, stdio, rlimits, working directory, no capabilities, the box
//!   uid/gid, `no_new_privs`, seccomp, exec.

use std::ffi::CString;
use std::os::fd::RawFd;

use crate::mount::{self, errno, MountPlan};

/// Where the child failed. Sent to the parent with the step's index and the errno.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u32)]
pub enum Step {
    CloseFds = 1,
    ParentDeathSignal,
    SupervisorGone,
    Mount,
    Hostname,
    NetNamespace,
    CgroupNamespace,
    ForkProgram,
    Setsid,
    Signals,
    Stdio,
    Rlimit,
    Chdir,
    DropCapabilities,
    Setgroups,
    Setgid,
    Setuid,
    NoNewPrivs,
    Seccomp,
    Exec,
}

impl Step {
    pub fn from_u32(v: u32) -> Option<Step> {
        use Step::*;
        const ALL: [Step; 20] = [
            CloseFds, ParentDeathSignal, SupervisorGone, Mount, Hostname, NetNamespace, CgroupNamespace,
            ForkProgram, Setsid, Signals, Stdio, Rlimit, Chdir, DropCapabilities, Setgroups, Setgid, Setuid,
            NoNewPrivs, Seccomp, Exec,
        ];
        ALL.into_iter().find(|s| *s as u32 == v)
    }

    pub fn describe(self) -> &'static str {
        match self {
            Step::CloseFds => "close inherited descriptors",
            Step::ParentDeathSignal => "set the parent-death signal",
            Step::SupervisorGone => "wait for the supervisor's go",
            Step::Mount => "build the mount tree",
            Step::Hostname => "set the hostname",
            Step::NetNamespace => "enter the network namespace",
            Step::CgroupNamespace => "enter a cgroup namespace",
            Step::ForkProgram => "fork the program",
            Step::Setsid => "start a session",
            Step::Signals => "reset signal handling",
            Step::Stdio => "set up stdin/stdout/stderr",
            Step::Rlimit => "set a resource limit",
            Step::Chdir => "enter the working directory",
            Step::DropCapabilities => "drop capabilities",
            Step::Setgroups => "clear supplementary groups",
            Step::Setgid => "set the box gid",
            Step::Setuid => "set the box uid",
            Step::NoNewPrivs => "set no_new_privs",
            Step::Seccomp => "install the seccomp filter",
            Step::Exec => "execute the program",
        }
    }
}

/// Size of one failure message on the error pipe: step, index, errno.
pub const FAILURE_LEN: usize = 12;

/// Everything the child needs, prepared by the parent.
pub struct ChildPlan {
    /// Sorted descriptors init keeps after clone; every other one is closed at once.
    pub keep_fds: Vec<RawFd>,
    /// Read end of the go pipe: one byte once init is in the box's cgroup; EOF if the
    /// supervisor failed or died.
    pub go_fd: RawFd,
    /// Write end of the failure pipe (CLOEXEC: EOF at the parent means exec succeeded).
    pub err_fd: RawFd,
    /// Write end of the status pipe: init writes the program's wait status there.
    pub status_fd: RawFd,
    pub mounts: MountPlan,
    pub hostname: CString,
    /// The box's fresh network namespace (lo up).
    pub netns_fd: RawFd,
    /// Descriptors that become the program's 0, 1, 2 (all above 2).
    pub stdio: [RawFd; 3],
    pub rlimits: Vec<(libc::__rlimit_resource_t, libc::rlimit)>,
    /// Signals whose disposition is "ignore" in the supervisor: that survives exec (Rust
    /// ignores SIGPIPE), so the program resets them.
    pub ignored_signals: Vec<libc::c_int>,
    /// The program's stack until it execs (it shares init's memory, see `init_main`).
    pub program_stack: Vec<u8>,
    pub uid: libc::uid_t,
    pub gid: libc::gid_t,
    pub workdir: CString,
    /// Highest capability number of the running kernel.
    pub cap_last: u32,
    /// Paths to try in order (PATH lookup done by the parent); the first that is not ENOENT wins.
    pub exec_paths: Vec<CString>,
    /// NULL-terminated pointer arrays into `_strings`.
    pub argv: Vec<*const libc::c_char>,
    pub envp: Vec<*const libc::c_char>,
    pub _strings: Vec<CString>,
    pub seccomp: Vec<libc::sock_fprog>,
    pub _seccomp_programs: Vec<Vec<libc::sock_filter>>,
}

fn fail(fd: RawFd, step: Step, index: u32, err: i32) -> ! {
    let mut msg = [0u8; FAILURE_LEN];
    msg[0..4].copy_from_slice(&(step as u32).to_ne_bytes());
    msg[4..8].copy_from_slice(&index.to_ne_bytes());
    msg[8..12].copy_from_slice(&err.to_ne_bytes());
    // SAFETY: write(2) of a stack buffer, then _exit(2); both async-signal-safe.
    unsafe {
        libc::write(fd, msg.as_ptr().cast(), FAILURE_LEN);
        libc::_exit(127)
    }
}

fn check(fd: RawFd, step: Step, index: u32, rc: libc::c_long) {
    if rc < 0 {
        fail(fd, step, index, errno());
    }
}

/// Closes every descriptor except the sorted `keep` list, with `close_range` over the gaps.
fn close_all_except(keep: &[RawFd]) -> Result<(), i32> {
    let mut from: u32 = 0;
    for &k in keep {
        let k = k as u32;
        if k > from {
            close_range(from, k - 1)?;
        }
        from = k + 1;
    }
    close_range(from, u32::MAX)
}

fn close_range(first: u32, last: u32) -> Result<(), i32> {
    // SAFETY: close_range(2) only closes descriptors.
    let rc = unsafe { libc::syscall(libc::SYS_close_range, first, last, 0) };
    if rc < 0 {
        Err(errno())
    } else {
        Ok(())
    }
}

/// The box's init. Never returns.
///
/// # Safety
/// Must only be called in a freshly cloned child; `plan` must outlive the call (it does: the
/// child has its own copy of the parent's memory).
pub unsafe fn init_main(plan: &ChildPlan) -> ! {
    let e = plan.err_fd;
    if let Err(err) = close_all_except(&plan.keep_fds) {
        fail(e, Step::CloseFds, 0, err);
    }
    // Modes of created directories, files and device nodes are exactly the ones asked for.
    libc::umask(0);
    // From here on init dies with the thread that cloned it; if that thread died before this
    // prctl, the go pipe below reads EOF.
    check(e, Step::ParentDeathSignal, 0, libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) as libc::c_long);
    check(e, Step::NetNamespace, 0, libc::setns(plan.netns_fd, libc::CLONE_NEWNET) as libc::c_long);
    libc::close(plan.netns_fd);

    for (i, op) in plan.mounts.ops.iter().enumerate() {
        if let Err(err) = mount::apply(op) {
            fail(e, Step::Mount, i as u32, err);
        }
    }
    let name = plan.hostname.as_bytes();
    check(e, Step::Hostname, 0, libc::sethostname(name.as_ptr().cast(), name.len()) as libc::c_long);
    let mut go = [0u8; 1];
    loop {
        let n = libc::read(plan.go_fd, go.as_mut_ptr().cast(), 1);
        if n == 1 {
            break;
        }
        if n == 0 || errno() != libc::EINTR {
            // No go: the supervisor could not move us into the cgroup, or is gone.
            libc::_exit(126);
        }
    }
    libc::close(plan.go_fd);
    check(e, Step::CgroupNamespace, 0, libc::unshare(libc::CLONE_NEWCGROUP) as libc::c_long);

    // The program starts the way posix_spawn does: sharing init's memory on a stack of its own
    // (prepared by the parent), with init suspended until it execs or exits (CLONE_VFORK), so no
    // address space is copied. glibc's clone() is a bare wrapper: no atfork handlers, no locks.
    let stack_top = plan.program_stack.as_ptr().add(plan.program_stack.len()) as usize & !0xf;
    let pid = libc::clone(
        program_entry,
        stack_top as *mut libc::c_void,
        libc::CLONE_VM | libc::CLONE_VFORK | libc::SIGCHLD,
        plan as *const ChildPlan as *mut libc::c_void,
    );
    if pid < 0 {
        fail(e, Step::ForkProgram, 0, errno());
    }
    let program = pid as libc::pid_t;
    // Only the program keeps the failure pipe and stdio open; init keeps the status pipe.
    for &fd in plan.stdio.iter().chain([plan.err_fd].iter()) {
        libc::close(fd);
    }
    loop {
        let mut status: libc::c_int = 0;
        let r = libc::wait4(-1, &mut status, libc::__WALL, std::ptr::null_mut());
        if r == program {
            let bytes = status.to_ne_bytes();
            libc::write(plan.status_fd, bytes.as_ptr().cast(), bytes.len());
            libc::_exit(0);
        }
        if r < 0 && errno() != libc::EINTR {
            libc::_exit(1);
        }
    }
}

/// Brings up `lo` in the calling thread's network namespace.
///
/// # Safety
/// Only issues socket, ioctl and close syscalls on its own descriptor.
pub(crate) unsafe fn loopback_up() -> Result<(), i32> {
    let sock = libc::socket(libc::AF_INET, libc::SOCK_DGRAM | libc::SOCK_CLOEXEC, 0);
    if sock < 0 {
        return Err(errno());
    }
    let mut req: libc::ifreq = std::mem::zeroed();
    req.ifr_name[0] = b'l' as libc::c_char;
    req.ifr_name[1] = b'o' as libc::c_char;
    let mut rc = libc::ioctl(sock, libc::SIOCGIFFLAGS, &mut req);
    if rc == 0 {
        req.ifr_ifru.ifru_flags |= (libc::IFF_UP | libc::IFF_RUNNING) as libc::c_short;
        rc = libc::ioctl(sock, libc::SIOCSIFFLAGS, &req);
    }
    let err = errno();
    libc::close(sock);
    if rc < 0 {
        Err(err)
    } else {
        Ok(())
    }
}

extern "C" fn program_entry(arg: *mut libc::c_void) -> libc::c_int {
    // SAFETY: `arg` is the plan init passed to clone(); init is suspended until we exec or exit,
    // so the plan and everything we touch in its memory stay put.
    unsafe { program_main(&*(arg as *const ChildPlan)) }
}

/// The program: drops everything and execs. Never returns.
unsafe fn program_main(plan: &ChildPlan) -> ! {
    let e = plan.err_fd;
    check(e, Step::Setsid, 0, libc::setsid() as libc::c_long);
    // Ignored dispositions and the signal mask survive exec; handlers do not.
    let mut empty: libc::sigset_t = std::mem::zeroed();
    libc::sigemptyset(&mut empty);
    check(e, Step::Signals, 0, libc::sigprocmask(libc::SIG_SETMASK, &empty, std::ptr::null_mut()) as libc::c_long);
    for &sig in &plan.ignored_signals {
        libc::signal(sig, libc::SIG_DFL);
    }
    for (i, &fd) in plan.stdio.iter().enumerate() {
        check(e, Step::Stdio, i as u32, libc::dup2(fd, i as RawFd) as libc::c_long);
    }
    // Keep 0-2 and the failure pipe (CLOEXEC: closed by the exec itself).
    let keep = if e > 2 { [0, 1, 2, e] } else { [0, 1, 2, 3] };
    if let Err(err) = close_all_except(&keep) {
        fail(e, Step::CloseFds, 1, err);
    }
    for (i, (res, lim)) in plan.rlimits.iter().enumerate() {
        check(e, Step::Rlimit, i as u32, libc::setrlimit(*res, lim) as libc::c_long);
    }
    check(e, Step::Chdir, 0, libc::chdir(plan.workdir.as_ptr()) as libc::c_long);
    libc::umask(0o022);
    for cap in 0..=plan.cap_last {
        check(e, Step::DropCapabilities, cap, libc::prctl(libc::PR_CAPBSET_DROP, cap as libc::c_ulong) as libc::c_long);
    }
    check(
        e,
        Step::DropCapabilities,
        u32::MAX,
        libc::prctl(libc::PR_CAP_AMBIENT, libc::PR_CAP_AMBIENT_CLEAR_ALL as libc::c_ulong, 0, 0, 0) as libc::c_long,
    );
    // Raw syscalls, not glibc's wrappers: those broadcast the change to every thread glibc
    // believes exists (the supervisor's, copied into this child's memory) and take a lock that
    // another supervisor thread may have held at clone time.
    check(e, Step::Setgroups, 0, libc::syscall(libc::SYS_setgroups, 0usize, std::ptr::null::<libc::gid_t>()));
    check(e, Step::Setgid, 0, libc::syscall(libc::SYS_setresgid, plan.gid, plan.gid, plan.gid));
    // Changing every uid away from 0 clears the permitted, effective and ambient sets.
    check(e, Step::Setuid, 0, libc::syscall(libc::SYS_setresuid, plan.uid, plan.uid, plan.uid));
    check(e, Step::NoNewPrivs, 0, libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) as libc::c_long);
    for (i, prog) in plan.seccomp.iter().enumerate() {
        let rc = libc::syscall(libc::SYS_seccomp, libc::SECCOMP_SET_MODE_FILTER, 0, prog as *const libc::sock_fprog);
        check(e, Step::Seccomp, i as u32, rc);
    }
    let mut last = libc::ENOENT;
    for p in &plan.exec_paths {
        libc::execve(p.as_ptr(), plan.argv.as_ptr(), plan.envp.as_ptr());
        last = errno();
        if last != libc::ENOENT && last != libc::ENOTDIR {
            break;
        }
    }
    fail(e, Step::Exec, 0, last)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn steps_round_trip() {
        for v in 1..=20 {
            let s = Step::from_u32(v).unwrap();
            assert_eq!(s as u32, v);
            assert!(!s.describe().is_empty());
        }
        assert!(Step::from_u32(0).is_none());
        assert!(Step::from_u32(21).is_none());
    }
}
