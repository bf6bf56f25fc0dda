//! The code between clone and exec. Nothing here allocates, locks, logs or panics: every
//! string, argv/envp array, mount step and BPF program was prepared by the parent in a
//! [`ChildPlan`], and failures are reported as `(step, index, errno)` over a CLOEXEC pipe.
//!
//! Two processes run this code:
//! - the box's **init** (pid 1 of the new pid namespace): enters its fresh network and IPC
//!   namespaces (made ahead by [`crate::netns`]), builds the mount tree, sets the hostname, resets every
//!   signal disposition, waits for the supervisor's go (sent once the supervisor has made the
//!   box's cgroup, which overlaps with the mount work; EOF means the supervisor failed or died),
//!   starts the program, then reaps every process of the box until the program exits, writes
//!   the program's wait status and end time to the status pipe and exits (which kills whatever
//!   else is left in the namespace). Init stays outside the box's cgroup: it shares the
//!   supervisor's memory, and the kernel's OOM killer kills every process sharing its victim's
//!   memory;
//! - the **program**: starts in the box's cgroup (cgroup v2 on Linux 5.7+: init clones it there
//!   with `CLONE_INTO_CGROUP`) or joins it first thing (before it can run anything of its own;
//!   until it execs it is a vfork child, which the OOM killer never picks), enters a new cgroup
//!   namespace, new session, stdio, rlimits, working directory, no capabilities, the box
//!   uid/gid, `no_new_privs`, seccomp, exec.
//!
//! Both run in the supervisor's memory, the way `posix_spawn` runs its child: init is cloned
//! with `CLONE_VM` onto a stack of its own ([`ChildStacks`]), and starts the program with
//! `CLONE_VM | CLONE_VFORK` onto another one (init is suspended until the program execs). No
//! page table is copied and no page is ever copied on write: with a fork, every page the
//! supervisor or init touched afterwards was a copy-on-write fault, each with a TLB shootdown
//! across the supervisor's CPUs, and that was the largest cost of starting a box. The price is
//! discipline, which this module keeps:
//! - init runs while the supervisor thread that cloned it runs too, with that thread's TLS: the
//!   code here makes raw system calls ([`sys`]) that return the errno instead of storing it in
//!   the thread's `errno`, and calls nothing of libc;
//! - no signal handler of the supervisor may ever run here: the supervisor clones init with
//!   every signal blocked, init resets every disposition to the default before the program
//!   exists, and the program unblocks signals only then;
//! - the supervisor keeps the plan and the stacks, unchanged, until init has been reaped.

use std::ffi::CString;
use std::io;
use std::os::fd::RawFd;
use std::sync::atomic::{AtomicU8, Ordering};

use crate::mount;

#[cfg(not(target_arch = "x86_64"))]
compile_error!("the box's raw system calls (child::sys) and its seccomp filter are written for x86_64");

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
    JoinCgroup,
    Affinity,
}

impl Step {
    pub fn from_u32(v: u32) -> Option<Step> {
        use Step::*;
        const ALL: [Step; 22] = [
            CloseFds, ParentDeathSignal, SupervisorGone, Mount, Hostname, NetNamespace, CgroupNamespace,
            ForkProgram, Setsid, Signals, Stdio, Rlimit, Chdir, DropCapabilities, Setgroups, Setgid, Setuid,
            NoNewPrivs, Seccomp, Exec, JoinCgroup, Affinity,
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
            Step::NetNamespace => "enter the network (#0) or IPC (#1) namespace",
            Step::CgroupNamespace => "enter a cgroup namespace",
            Step::ForkProgram => "start the program",
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
            Step::JoinCgroup => "join the box's cgroup",
            Step::Affinity => "restore the CPU affinity",
        }
    }
}

/// `ChildPlan::cgroup_entry`: the program was cloned into the box's cgroup.
pub const ENTRY_CLONE_INTO_CGROUP: u8 = 1;
/// `ChildPlan::cgroup_entry`: the program wrote itself into the box's `cgroup.procs`.
pub const ENTRY_CGROUP_PROCS: u8 = 2;
/// clone3's flag (Linux 5.7+): start the child in the cgroup `clone_args.cgroup` refers to.
/// (libc's constant is an `i32`, too small for it.)
const CLONE_INTO_CGROUP: u64 = 0x2_0000_0000;

/// Size of one failure message on the error pipe: step, index, errno.
pub const FAILURE_LEN: usize = 12;
/// Size of the message on the status pipe: the program's wait status (4 bytes), then when init
/// reaped it (CLOCK_MONOTONIC, nanoseconds, 8 bytes).
pub const STATUS_LEN: usize = 12;

/// Everything the child needs, prepared by the parent. Init and the program read it in the
/// supervisor's memory: the supervisor must neither change nor free it before init is reaped.
pub struct ChildPlan {
    /// Sorted descriptors init keeps after clone; every other one is closed at once.
    pub keep_fds: Vec<RawFd>,
    /// Read end of the go pipe: one byte once the box's cgroup exists with its limits; EOF if
    /// the supervisor failed or died.
    pub go_fd: RawFd,
    /// Where the program joins the box's cgroup: base directories of the hierarchies, and the
    /// box's `cgroup.procs` relative to them (see `Hierarchy::join_points`).
    pub cgroup_dirs: Vec<RawFd>,
    pub cgroup_procs: CString,
    /// cgroup v2: the box's directory relative to `cgroup_dirs[0]`, which init opens to start
    /// the program in it (`CLONE_INTO_CGROUP`); `None` where the program joins by writing.
    pub cgroup_box: Option<CString>,
    /// How the program entered its cgroup ([`ENTRY_CLONE_INTO_CGROUP`] or
    /// [`ENTRY_CGROUP_PROCS`]): stored by init before it starts the program, which reads it to
    /// know whether it must still join; read by the supervisor once the program has exec'd.
    pub cgroup_entry: AtomicU8,
    /// Write end of the failure pipe (CLOEXEC: EOF at the parent means exec succeeded).
    pub err_fd: RawFd,
    /// Write end of the status pipe: init writes the program's wait status and end time there.
    pub status_fd: RawFd,
    pub mounts: Vec<mount::Op>,
    pub hostname: CString,
    /// The box's fresh network namespace (lo up) and IPC namespace.
    pub netns_fd: RawFd,
    pub ipcns_fd: RawFd,
    /// Descriptors that become the program's 0, 1, 2 (all above 2).
    pub stdio: [RawFd; 3],
    pub rlimits: Vec<(libc::__rlimit_resource_t, libc::rlimit)>,
    /// Top of the program's stack until it execs (16-byte aligned, see [`ChildStacks`]).
    pub program_stack_top: usize,
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
    /// Point into the sandbox's prepared filters, which outlive every run.
    pub seccomp: Vec<libc::sock_fprog>,
    /// The CPU affinity to restore when the supervisor started init on its own CPU (see
    /// `supervisor::clone_box`): the program restores it right before exec, init once the
    /// program runs.
    pub affinity: Option<libc::cpu_set_t>,
}

/// Raw system calls for the code between clone and exec: they return the errno instead of
/// writing it to `errno`, which lives in the TLS of the supervisor thread that cloned init
/// (see the module's documentation), and touch no memory but what their arguments point to.
pub(crate) mod sys {
    use std::arch::asm;

    /// `Ok(return value)` or `Err(errno)`.
    pub(crate) type SysResult = Result<usize, i32>;

    fn result(rc: isize) -> SysResult {
        if (-4095..0).contains(&rc) {
            Err(-rc as i32)
        } else {
            Ok(rc as usize)
        }
    }

    /// One system call with up to six arguments (unused ones are zero; the kernel ignores them).
    ///
    /// # Safety
    /// As for the system call `nr` with these arguments.
    #[inline(always)]
    pub(crate) unsafe fn call(nr: libc::c_long, a: [usize; 6]) -> SysResult {
        let rc: isize;
        // SAFETY: the x86_64 system call convention: number in rax, arguments in rdi, rsi, rdx,
        // r10, r8, r9; the kernel clobbers rcx and r11 and returns in rax. Memory effects are
        // those of the call, which the caller vouches for.
        unsafe {
            asm!(
                "syscall",
                inlateout("rax") nr as isize => rc,
                in("rdi") a[0], in("rsi") a[1], in("rdx") a[2], in("r10") a[3], in("r8") a[4], in("r9") a[5],
                lateout("rcx") _, lateout("r11") _,
                options(nostack),
            );
        }
        result(rc)
    }

    /// `sys!(SYS_x, a, b)`: a raw call with its arguments converted to machine words.
    macro_rules! sys {
        ($nr:expr $(, $a:expr)* $(,)?) => {{
            #[allow(unused_mut, unused_assignments)]
            let mut args = [0usize; 6];
            #[allow(unused_mut, unused_assignments)]
            let mut _i = 0;
            $( args[_i] = $a as usize; _i += 1; )*
            $crate::child::sys::call($nr, args)
        }};
    }
    pub(crate) use sys;

    /// `clone3` onto a new stack: the child starts in `entry(arg)` on the stack the arguments
    /// describe (`CLONE_VM` requires one) and never comes back here; the caller gets the child's
    /// pid or the errno.
    ///
    /// # Safety
    /// `args` must describe a valid stack whose top is 16-byte aligned, owned by the child for
    /// its lifetime; `entry` must not return and may only touch what stays valid (see the
    /// module's documentation).
    pub(crate) unsafe fn clone3_on_stack(
        args: &mut libc::clone_args,
        entry: extern "C" fn(*mut libc::c_void) -> !,
        arg: *const libc::c_void,
    ) -> SysResult {
        let rc: isize;
        // SAFETY: in the parent this is a plain clone3 (only rax, rcx, r11 change). In the child
        // (rax == 0) the kernel has set rsp to the top of the new stack; the child clears the
        // frame pointer and calls `entry(arg)` (r12 and r13 survive the system call), which
        // never returns; `ud2` traps if it ever did.
        unsafe {
            asm!(
                "syscall",
                "test rax, rax",
                "jnz 2f",
                "xor ebp, ebp",
                "mov rdi, r12",
                "call r13",
                "ud2",
                "2:",
                inlateout("rax") libc::SYS_clone3 as isize => rc,
                in("rdi") args as *mut libc::clone_args,
                in("rsi") std::mem::size_of::<libc::clone_args>(),
                in("r12") arg,
                in("r13") entry,
                lateout("rcx") _, lateout("r11") _,
                options(nostack),
            );
        }
        result(rc)
    }

    /// Ends the calling process.
    pub(crate) fn exit(code: i32) -> ! {
        loop {
            // SAFETY: exit_group(2) does not return.
            let _ = unsafe { sys!(libc::SYS_exit_group, code) };
        }
    }
}

use sys::sys;

/// The stacks of a box's init and program, which run in the supervisor's memory: one mapping,
/// each stack above a guard page (`[guard][init][guard][program]`). Kept by the sandbox and
/// reused, never shared by two boxes at once.
#[derive(Debug)]
pub struct ChildStacks {
    base: *mut libc::c_void,
    page: usize,
}

// SAFETY: the mapping is owned by this value alone; the pointer is only an address.
unsafe impl Send for ChildStacks {}

impl ChildStacks {
    /// Size of each stack. They need a few KiB (no recursion, small frames).
    const STACK_BYTES: usize = 64 * 1024;
    const COUNT: usize = 2;

    pub fn new() -> io::Result<Self> {
        // SAFETY: sysconf(3) has no memory effects.
        let page = (unsafe { libc::sysconf(libc::_SC_PAGESIZE) }).max(4096) as usize;
        let len = Self::COUNT * (page + Self::STACK_BYTES);
        // SAFETY: a fresh anonymous mapping; no existing memory is affected.
        let base = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                len,
                libc::PROT_NONE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_STACK,
                -1,
                0,
            )
        };
        if base == libc::MAP_FAILED {
            return Err(io::Error::last_os_error());
        }
        let stacks = ChildStacks { base, page };
        for i in 0..Self::COUNT {
            // SAFETY: the range lies inside our mapping (below each top, above its guard page).
            let rc = unsafe {
                libc::mprotect(
                    (stacks.top(i) - Self::STACK_BYTES) as *mut libc::c_void,
                    Self::STACK_BYTES,
                    libc::PROT_READ | libc::PROT_WRITE,
                )
            };
            if rc < 0 {
                return Err(io::Error::last_os_error());
            }
        }
        Ok(stacks)
    }

    fn len(&self) -> usize {
        Self::COUNT * (self.page + Self::STACK_BYTES)
    }

    /// Top of stack `i` (page aligned).
    fn top(&self, i: usize) -> usize {
        self.base as usize + (i + 1) * (self.page + Self::STACK_BYTES)
    }

    /// Lowest address and size of init's stack, for `clone_args`.
    pub fn init_stack(&self) -> (usize, usize) {
        (self.top(0) - Self::STACK_BYTES, Self::STACK_BYTES)
    }

    /// Top of the program's stack.
    pub fn program_top(&self) -> usize {
        self.top(1)
    }
}

impl Drop for ChildStacks {
    fn drop(&mut self) {
        // SAFETY: our own mapping, no longer used by any process (see `ChildPlan`).
        unsafe { libc::munmap(self.base, self.len()) };
    }
}

fn fail(fd: RawFd, step: Step, index: u32, err: i32) -> ! {
    let mut msg = [0u8; FAILURE_LEN];
    msg[0..4].copy_from_slice(&(step as u32).to_ne_bytes());
    msg[4..8].copy_from_slice(&index.to_ne_bytes());
    msg[8..12].copy_from_slice(&err.to_ne_bytes());
    // SAFETY: write(2) of a stack buffer.
    let _ = unsafe { sys!(libc::SYS_write, fd, msg.as_ptr(), FAILURE_LEN) };
    sys::exit(127)
}

/// The value of a raw call, or the failure report and exit.
fn check(fd: RawFd, step: Step, index: u32, res: sys::SysResult) -> usize {
    match res {
        Ok(v) => v,
        Err(err) => fail(fd, step, index, err),
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
    unsafe { sys!(libc::SYS_close_range, first, last, 0) }.map(drop)
}

/// Where init starts (see `sys::clone3_on_stack`): `arg` is the plan.
pub(crate) extern "C" fn init_entry(arg: *mut libc::c_void) -> ! {
    // SAFETY: the supervisor passes its plan, which it keeps unchanged until init is reaped.
    unsafe { init_main(&*(arg as *const ChildPlan)) }
}

/// The box's init. Never returns.
///
/// # Safety
/// Must only run in a process cloned with `CLONE_VM` onto its own stack and with every signal
/// blocked; `plan` must stay valid and unchanged until this process has been reaped.
unsafe fn init_main(plan: &ChildPlan) -> ! {
    let e = plan.err_fd;
    if let Err(err) = close_all_except(&plan.keep_fds) {
        fail(e, Step::CloseFds, 0, err);
    }
    // SAFETY (whole function): raw system calls on descriptors and strings of the plan, which
    // the supervisor keeps alive (see the function's contract).
    unsafe {
        // Modes of created directories, files and device nodes are exactly the ones asked for.
        let _ = sys!(libc::SYS_umask, 0);
        // From here on init dies with the thread that cloned it; if that thread died before this
        // prctl, the go pipe below reads EOF.
        check(e, Step::ParentDeathSignal, 0, sys!(libc::SYS_prctl, libc::PR_SET_PDEATHSIG, libc::SIGKILL));
        check(e, Step::NetNamespace, 0, sys!(libc::SYS_setns, plan.netns_fd, libc::CLONE_NEWNET));
        check(e, Step::NetNamespace, 1, sys!(libc::SYS_setns, plan.ipcns_fd, libc::CLONE_NEWIPC));
        let _ = sys!(libc::SYS_close, plan.netns_fd);
        let _ = sys!(libc::SYS_close, plan.ipcns_fd);

        for (i, op) in plan.mounts.iter().enumerate() {
            if let Err(err) = mount::apply(op) {
                fail(e, Step::Mount, i as u32, err);
            }
        }
        let name = plan.hostname.as_bytes();
        check(e, Step::Hostname, 0, sys!(libc::SYS_sethostname, name.as_ptr(), name.len()));
        // The supervisor's handlers and ignored signals are not the program's. Every signal is
        // blocked (since clone) and stays so in init; the program unblocks them once it exists.
        let dfl = KernelSigaction { handler: libc::SIG_DFL, flags: 0, restorer: 0, mask: 0 };
        for sig in 1..=64 {
            if sig != libc::SIGKILL && sig != libc::SIGSTOP {
                let rc = sys!(libc::SYS_rt_sigaction, sig, &dfl as *const KernelSigaction, 0, 8);
                check(e, Step::Signals, sig as u32, rc);
            }
        }
        let mut go = [0u8; 1];
        loop {
            match sys!(libc::SYS_read, plan.go_fd, go.as_mut_ptr(), 1) {
                Ok(1) => break,
                Err(libc::EINTR) => continue,
                // No go: the supervisor could not move us into the cgroup, or is gone.
                _ => sys::exit(126),
            }
        }
        let _ = sys!(libc::SYS_close, plan.go_fd);

        // The program starts the way posix_spawn does: in this memory, on a stack of its own,
        // with init suspended until it execs or exits (CLONE_VFORK).
        let mut args: libc::clone_args = std::mem::zeroed();
        args.flags = (libc::CLONE_VM | libc::CLONE_VFORK) as u64;
        args.exit_signal = libc::SIGCHLD as u64;
        args.stack = (plan.program_stack_top - ChildStacks::STACK_BYTES) as u64;
        args.stack_size = ChildStacks::STACK_BYTES as u64;
        let arg = plan as *const ChildPlan as *const libc::c_void;
        // cgroup v2: straight into the box's cgroup. Any failure (EINVAL or E2BIG before Linux
        // 5.7, and whatever else) falls back to the program writing itself there, which then
        // reports what the kernel says about that cgroup.
        let mut started = Err(libc::EINVAL);
        if let (Some(dir), Some(&base)) = (&plan.cgroup_box, plan.cgroup_dirs.first()) {
            let flags = libc::O_PATH | libc::O_DIRECTORY | libc::O_CLOEXEC;
            if let Ok(fd) = sys!(libc::SYS_openat, base, dir.as_ptr(), flags) {
                args.flags |= CLONE_INTO_CGROUP;
                args.cgroup = fd as u64;
                plan.cgroup_entry.store(ENTRY_CLONE_INTO_CGROUP, Ordering::Release);
                started = sys::clone3_on_stack(&mut args, program_entry, arg);
                args.flags &= !CLONE_INTO_CGROUP;
                args.cgroup = 0;
                let _ = sys!(libc::SYS_close, fd);
            }
        }
        if started.is_err() {
            plan.cgroup_entry.store(ENTRY_CGROUP_PROCS, Ordering::Release);
            started = sys::clone3_on_stack(&mut args, program_entry, arg);
        }
        let program = check(e, Step::ForkProgram, 0, started) as libc::pid_t;
        // Only the program keeps the failure pipe and stdio open; init keeps the status pipe.
        for &fd in plan.stdio.iter().chain([plan.err_fd].iter()) {
            let _ = sys!(libc::SYS_close, fd);
        }
        if let Some(mask) = &plan.affinity {
            // Init only waits from here on; where it runs matters to nobody.
            let _ = sys!(libc::SYS_sched_setaffinity, 0, std::mem::size_of::<libc::cpu_set_t>(), mask as *const libc::cpu_set_t);
        }
        let status_fd = plan.status_fd;
        loop {
            let mut status: libc::c_int = 0;
            match sys!(libc::SYS_wait4, -1i32, &mut status as *mut libc::c_int, libc::__WALL, 0) {
                Ok(r) if r as libc::pid_t == program => {
                    let mut now: libc::timespec = std::mem::zeroed();
                    let _ = sys!(libc::SYS_clock_gettime, libc::CLOCK_MONOTONIC, &mut now as *mut libc::timespec);
                    let ended_ns = now.tv_sec as u64 * 1_000_000_000 + now.tv_nsec as u64;
                    let mut msg = [0u8; STATUS_LEN];
                    msg[0..4].copy_from_slice(&status.to_ne_bytes());
                    msg[4..12].copy_from_slice(&ended_ns.to_ne_bytes());
                    let _ = sys!(libc::SYS_write, status_fd, msg.as_ptr(), STATUS_LEN);
                    sys::exit(0);
                }
                Ok(_) | Err(libc::EINTR) => {}
                Err(_) => sys::exit(1),
            }
        }
    }
}

/// The kernel's `struct sigaction` for `rt_sigaction(2)` on x86_64.
#[repr(C)]
struct KernelSigaction {
    handler: libc::sighandler_t,
    flags: libc::c_ulong,
    restorer: usize,
    mask: u64,
}

extern "C" fn program_entry(arg: *mut libc::c_void) -> ! {
    // SAFETY: `arg` is the plan init passed to clone3; init is suspended until we exec or exit,
    // and the supervisor keeps the plan until init is reaped.
    unsafe { program_main(&*(arg as *const ChildPlan)) }
}

/// The program: drops everything and execs. Never returns.
unsafe fn program_main(plan: &ChildPlan) -> ! {
    let e = plan.err_fd;
    // SAFETY (whole function): raw system calls on the plan's prepared descriptors, strings and
    // structures, all alive until init is reaped.
    unsafe {
        // Unless init started us in the box's cgroup already.
        let joined = plan.cgroup_entry.load(Ordering::Acquire) == ENTRY_CLONE_INTO_CGROUP;
        for (i, &dir) in plan.cgroup_dirs.iter().enumerate().filter(|_| !joined) {
            let flags = libc::O_WRONLY | libc::O_CLOEXEC;
            let fd = check(e, Step::JoinCgroup, i as u32, sys!(libc::SYS_openat, dir, plan.cgroup_procs.as_ptr(), flags));
            // "0": the writing process.
            check(e, Step::JoinCgroup, i as u32, sys!(libc::SYS_write, fd, c"0".as_ptr(), 1));
            let _ = sys!(libc::SYS_close, fd);
        }
        // The box's cgroup is the root of what the program sees.
        check(e, Step::CgroupNamespace, 0, sys!(libc::SYS_unshare, libc::CLONE_NEWCGROUP));
        check(e, Step::Setsid, 0, sys!(libc::SYS_setsid));
        // Init reset every disposition to the default; the blocked mask survives exec.
        let empty: u64 = 0;
        check(e, Step::Signals, 0, sys!(libc::SYS_rt_sigprocmask, libc::SIG_SETMASK, &empty as *const u64, 0, 8));
        for (i, &fd) in plan.stdio.iter().enumerate() {
            check(e, Step::Stdio, i as u32, sys!(libc::SYS_dup2, fd, i));
        }
        // Keep 0-2 and the failure pipe (CLOEXEC: closed by the exec itself).
        let keep = if e > 2 { [0, 1, 2, e] } else { [0, 1, 2, 3] };
        if let Err(err) = close_all_except(&keep) {
            fail(e, Step::CloseFds, 1, err);
        }
        for (i, (res, lim)) in plan.rlimits.iter().enumerate() {
            check(e, Step::Rlimit, i as u32, sys!(libc::SYS_setrlimit, *res, lim as *const libc::rlimit));
        }
        check(e, Step::Chdir, 0, sys!(libc::SYS_chdir, plan.workdir.as_ptr()));
        let _ = sys!(libc::SYS_umask, 0o022);
        for cap in 0..=plan.cap_last {
            check(e, Step::DropCapabilities, cap, sys!(libc::SYS_prctl, libc::PR_CAPBSET_DROP, cap));
        }
        let clear = sys!(libc::SYS_prctl, libc::PR_CAP_AMBIENT, libc::PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
        check(e, Step::DropCapabilities, u32::MAX, clear);
        check(e, Step::Setgroups, 0, sys!(libc::SYS_setgroups, 0, 0));
        check(e, Step::Setgid, 0, sys!(libc::SYS_setresgid, plan.gid, plan.gid, plan.gid));
        // Changing every uid away from 0 clears the permitted, effective and ambient sets.
        check(e, Step::Setuid, 0, sys!(libc::SYS_setresuid, plan.uid, plan.uid, plan.uid));
        check(e, Step::NoNewPrivs, 0, sys!(libc::SYS_prctl, libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0));
        for (i, prog) in plan.seccomp.iter().enumerate() {
            let rc = sys!(libc::SYS_seccomp, libc::SECCOMP_SET_MODE_FILTER, 0, prog as *const libc::sock_fprog);
            check(e, Step::Seccomp, i as u32, rc);
        }
        // Last: until here the program ran on the supervisor's CPU, where it started without
        // waking another one (see `supervisor::clone_box`); from exec on it runs anywhere it may.
        if let Some(mask) = &plan.affinity {
            let rc = sys!(libc::SYS_sched_setaffinity, 0, std::mem::size_of::<libc::cpu_set_t>(), mask as *const libc::cpu_set_t);
            check(e, Step::Affinity, 0, rc);
        }
        let mut last = libc::ENOENT;
        for p in &plan.exec_paths {
            // execve(2) returns only on failure.
            last = sys!(libc::SYS_execve, p.as_ptr(), plan.argv.as_ptr(), plan.envp.as_ptr()).err().unwrap_or(0);
            if last != libc::ENOENT && last != libc::ENOTDIR {
                break;
            }
        }
        fail(e, Step::Exec, 0, last)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn steps_round_trip() {
        for v in 1..=22 {
            let s = Step::from_u32(v).unwrap();
            assert_eq!(s as u32, v);
            assert!(!s.describe().is_empty());
        }
        assert!(Step::from_u32(0).is_none());
        assert!(Step::from_u32(23).is_none());
    }

    #[test]
    fn raw_calls_return_the_errno() {
        // SAFETY: close(2) of a descriptor that cannot be open, getpid(2).
        assert_eq!(unsafe { sys!(libc::SYS_close, -1i32) }, Err(libc::EBADF));
        assert_eq!(unsafe { sys!(libc::SYS_getpid) }, Ok(std::process::id() as usize));
    }

    #[test]
    fn stacks_are_aligned_and_apart() {
        let s = ChildStacks::new().unwrap();
        let (lo, len) = s.init_stack();
        assert_eq!((lo + len) % 16, 0);
        assert_eq!(s.program_top() % 16, 0);
        assert!(s.program_top() - ChildStacks::STACK_BYTES > lo + len, "a guard page between the stacks");
        // The stacks are writable.
        // SAFETY: the last byte below each top is inside its stack.
        unsafe {
            *((lo + len - 1) as *mut u8) = 1;
            *((s.program_top() - 1) as *mut u8) = 1;
        }
    }
}
