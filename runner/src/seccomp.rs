//! The seccomp filter of the box: a deny-list of what a judged program never needs and what
//! widens the kernel's attack surface. Built once, in the parent, with seccompiler; the child
//! only installs the prepared programs.
//!
//! One classic BPF program, built once in the parent, checks in order:
//! 1. the architecture: anything but x86_64 (i.e. the 32-bit `int 0x80` ABI) kills the process;
//! 2. x32 syscall numbers (bit 0x40000000) kill the process;
//! 3. `clone` with any namespace flag, `ioctl` with `TIOCSTI`/`TIOCLINUX`: `EPERM`;
//! 4. the `ENOSYS` list (clone3, io_uring): so that libc and runtimes fall back to what the
//!    filter can inspect (clone) or do without;
//! 5. the `EPERM` list; everything else is allowed.
//!
//! Why hand-written rather than seccompiler: seccompiler emits a chain of several instructions
//! per syscall and per argument rule (364 for this policy), and the kernel converts and JITs a
//! filter at every run, at about 1 µs per instruction on this class of machine: the filter was
//! the largest single cost of starting a box. Merged into ranges of syscall numbers the same
//! policy takes under 100 instructions. The program is checked instruction by instruction by an
//! interpreter in the tests below, and against the real kernel by the hostile programs in
//! `tests/`.

#[derive(Debug, thiserror::Error)]
pub enum SeccompError {
    #[error("the seccomp filter has {0} instructions, more than a jump can span")]
    TooLong(usize),
}

/// Syscalls answered with `EPERM`, whatever their arguments.
pub const DENIED_EPERM: &[(&str, i64)] = &[
    ("mount", libc::SYS_mount),
    ("umount2", libc::SYS_umount2),
    ("pivot_root", libc::SYS_pivot_root),
    ("chroot", libc::SYS_chroot),
    ("unshare", libc::SYS_unshare),
    ("setns", libc::SYS_setns),
    ("ptrace", libc::SYS_ptrace),
    ("process_vm_readv", libc::SYS_process_vm_readv),
    ("process_vm_writev", libc::SYS_process_vm_writev),
    ("kcmp", libc::SYS_kcmp),
    ("add_key", libc::SYS_add_key),
    ("request_key", libc::SYS_request_key),
    ("keyctl", libc::SYS_keyctl),
    ("bpf", libc::SYS_bpf),
    ("perf_event_open", libc::SYS_perf_event_open),
    ("userfaultfd", libc::SYS_userfaultfd),
    ("kexec_load", libc::SYS_kexec_load),
    ("kexec_file_load", libc::SYS_kexec_file_load),
    ("init_module", libc::SYS_init_module),
    ("finit_module", libc::SYS_finit_module),
    ("delete_module", libc::SYS_delete_module),
    ("reboot", libc::SYS_reboot),
    ("swapon", libc::SYS_swapon),
    ("swapoff", libc::SYS_swapoff),
    ("acct", libc::SYS_acct),
    ("quotactl", libc::SYS_quotactl),
    ("syslog", libc::SYS_syslog),
    ("settimeofday", libc::SYS_settimeofday),
    ("clock_settime", libc::SYS_clock_settime),
    ("clock_adjtime", libc::SYS_clock_adjtime),
    ("adjtimex", libc::SYS_adjtimex),
    ("sethostname", libc::SYS_sethostname),
    ("setdomainname", libc::SYS_setdomainname),
    ("open_by_handle_at", libc::SYS_open_by_handle_at),
    ("name_to_handle_at", libc::SYS_name_to_handle_at),
    ("fsopen", libc::SYS_fsopen),
    ("fsconfig", libc::SYS_fsconfig),
    ("fsmount", libc::SYS_fsmount),
    ("fspick", libc::SYS_fspick),
    ("move_mount", libc::SYS_move_mount),
    ("open_tree", libc::SYS_open_tree),
    ("mount_setattr", libc::SYS_mount_setattr),
    ("iopl", libc::SYS_iopl),
    ("ioperm", libc::SYS_ioperm),
    ("lookup_dcookie", libc::SYS_lookup_dcookie),
    ("fanotify_init", libc::SYS_fanotify_init),
    ("vhangup", libc::SYS_vhangup),
    ("uselib", libc::SYS_uselib),
    ("ustat", libc::SYS_ustat),
    ("sysfs", libc::SYS_sysfs),
    ("_sysctl", libc::SYS__sysctl),
    ("personality", libc::SYS_personality),
];

/// Syscalls answered with `ENOSYS`, so that callers fall back to something the filter governs.
pub const DENIED_ENOSYS: &[(&str, i64)] = &[
    ("clone3", libc::SYS_clone3),
    ("io_uring_setup", libc::SYS_io_uring_setup),
    ("io_uring_enter", libc::SYS_io_uring_enter),
    ("io_uring_register", libc::SYS_io_uring_register),
];

/// `clone` flags that create namespaces: a clone with any of them is answered with `EPERM`.
pub const DENIED_CLONE_FLAGS: &[u64] = &[
    libc::CLONE_NEWUSER as u64,
    libc::CLONE_NEWNS as u64,
    libc::CLONE_NEWPID as u64,
    libc::CLONE_NEWNET as u64,
    libc::CLONE_NEWUTS as u64,
    libc::CLONE_NEWIPC as u64,
    libc::CLONE_NEWCGROUP as u64,
];

/// `ioctl` requests answered with `EPERM`: pushing input into a terminal, console tricks.
pub const DENIED_IOCTLS: &[u64] = &[libc::TIOCSTI as u64, libc::TIOCLINUX as u64];

const X32_SYSCALL_BIT: u32 = 0x4000_0000;

/// The prepared programs, in the order the child installs them.
#[derive(Clone, Debug)]
pub struct SeccompPrograms {
    pub programs: Vec<Vec<libc::sock_filter>>,
}

/// Byte offsets in `struct seccomp_data`.
const DATA_NR: u32 = 0;
const DATA_ARCH: u32 = 4;
/// Low 32 bits of args[0] and args[1] (little endian). `clone`'s namespace flags and `ioctl`'s
/// request (an `unsigned int` for the kernel) live there.
const DATA_ARG0_LO: u32 = 16;
const DATA_ARG1_LO: u32 = 24;
const AUDIT_ARCH_X86_64: u32 = 0xc000_003e;

/// Syscall numbers merged into inclusive ranges.
fn ranges(list: &[(&str, i64)]) -> Vec<(u32, u32)> {
    let mut nrs: Vec<u32> = list.iter().map(|(_, nr)| *nr as u32).collect();
    nrs.sort_unstable();
    nrs.dedup();
    let mut out: Vec<(u32, u32)> = Vec::new();
    for nr in nrs {
        match out.last_mut() {
            Some((_, hi)) if *hi + 1 == nr => *hi = nr,
            _ => out.push((nr, nr)),
        }
    }
    out
}

/// Builds the box's filter.
pub fn build() -> Result<SeccompPrograms, SeccompError> {
    use libc::{sock_filter, BPF_ABS, BPF_JEQ, BPF_JGE, BPF_JGT, BPF_JMP, BPF_JSET, BPF_K, BPF_LD, BPF_RET, BPF_W};
    let stmt = |code: u32, k: u32| sock_filter { code: code as u16, jt: 0, jf: 0, k };
    let jump = |code: u32, k: u32, jt: u8, jf: u8| sock_filter { code: code as u16, jt, jf, k };
    let load = |off: u32| stmt(BPF_LD | BPF_W | BPF_ABS, off);
    let ret = |v: u32| stmt(BPF_RET | BPF_K, v);
    let kill = ret(libc::SECCOMP_RET_KILL_PROCESS);
    let allow = ret(libc::SECCOMP_RET_ALLOW);
    let eperm = ret(libc::SECCOMP_RET_ERRNO | libc::EPERM as u32);
    let ns_flags = DENIED_CLONE_FLAGS.iter().fold(0u64, |m, f| m | f) as u32;
    let [tiocsti, tioclinux] = [DENIED_IOCTLS[0] as u32, DENIED_IOCTLS[1] as u32];

    let mut p = vec![
        load(DATA_ARCH),
        jump(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0),
        kill,
        load(DATA_NR),
        jump(BPF_JMP | BPF_JGE | BPF_K, X32_SYSCALL_BIT, 0, 1),
        kill,
        // clone: namespace flags → EPERM, otherwise allowed.
        jump(BPF_JMP | BPF_JEQ | BPF_K, libc::SYS_clone as u32, 0, 4),
        load(DATA_ARG0_LO),
        jump(BPF_JMP | BPF_JSET | BPF_K, ns_flags, 0, 1),
        eperm,
        allow,
        // ioctl: terminal injection → EPERM, otherwise allowed.
        jump(BPF_JMP | BPF_JEQ | BPF_K, libc::SYS_ioctl as u32, 0, 5),
        load(DATA_ARG1_LO),
        jump(BPF_JMP | BPF_JEQ | BPF_K, tiocsti, 1, 0),
        jump(BPF_JMP | BPF_JEQ | BPF_K, tioclinux, 0, 1),
        eperm,
        allow,
    ];
    for (list, errno) in [(DENIED_ENOSYS, libc::ENOSYS), (DENIED_EPERM, libc::EPERM)] {
        for (lo, hi) in ranges(list) {
            if lo == hi {
                // nr == lo ? return : skip the return
                p.push(jump(BPF_JMP | BPF_JEQ | BPF_K, lo, 0, 1));
            } else {
                // nr < lo ? skip two : (nr > hi ? skip the return : return)
                p.push(jump(BPF_JMP | BPF_JGE | BPF_K, lo, 0, 2));
                p.push(jump(BPF_JMP | BPF_JGT | BPF_K, hi, 1, 0));
            }
            p.push(ret(libc::SECCOMP_RET_ERRNO | errno as u32));
        }
    }
    p.push(allow);
    if p.len() > u16::MAX as usize {
        return Err(SeccompError::TooLong(p.len()));
    }
    Ok(SeccompPrograms { programs: vec![p] })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builds_and_fits_the_kernel_limit() {
        let p = build().unwrap();
        assert_eq!(p.programs.len(), 1);
        for prog in &p.programs {
            // Short: the kernel JITs it at every run (see the module's documentation).
            assert!(!prog.is_empty() && prog.len() < 100, "{} instructions", prog.len());
        }
        // The architecture check comes first, then the x32 check.
        assert_eq!(p.programs[0][1].k, AUDIT_ARCH_X86_64);
        assert_eq!(p.programs[0][4].k, X32_SYSCALL_BIT);
    }

    /// Runs a classic BPF program over (arch, nr) the way the kernel does, for the few
    /// instructions this filter uses (the argument rules are not reached for these syscalls).
    fn eval(prog: &[libc::sock_filter], arch: u32, nr: u32) -> u32 {
        eval_args(prog, arch, nr, [0; 2])
    }

    fn eval_args(prog: &[libc::sock_filter], arch: u32, nr: u32, args: [u32; 2]) -> u32 {
        let mut pc = 0usize;
        let mut a = 0u32;
        loop {
            let i = prog[pc];
            let code = i.code as u32;
            match code {
                c if c == libc::BPF_LD | libc::BPF_W | libc::BPF_ABS => {
                    a = match i.k {
                        DATA_NR => nr,
                        DATA_ARCH => arch,
                        DATA_ARG0_LO => args[0],
                        DATA_ARG1_LO => args[1],
                        k => panic!("unexpected load of offset {k} at {pc}"),
                    };
                    pc += 1;
                }
                c if c == libc::BPF_RET | libc::BPF_K => return i.k,
                c if c & 0x07 == libc::BPF_JMP => {
                    let taken = match code & 0xf0 {
                        0x10 => a == i.k,   // JEQ
                        0x20 => a > i.k,    // JGT
                        0x30 => a >= i.k,   // JGE
                        0x40 => a & i.k != 0, // JSET
                        0x00 => { pc += 1 + i.k as usize; continue; } // JA
                        op => panic!("unexpected jump {op:#x}"),
                    };
                    pc += 1 + if taken { i.jt as usize } else { i.jf as usize };
                }
                c => panic!("unexpected instruction {c:#x} at {pc}"),
            }
        }
    }

    #[test]
    fn filter_answers_each_listed_syscall_and_passes_others() {
        let prog = &build().unwrap().programs[0];
        let x86_64 = 0xc000_003e;
        for (name, nr) in DENIED_EPERM {
            assert_eq!(eval(prog, x86_64, *nr as u32), libc::SECCOMP_RET_ERRNO | libc::EPERM as u32, "{name}");
        }
        for (name, nr) in DENIED_ENOSYS {
            assert_eq!(eval(prog, x86_64, *nr as u32), libc::SECCOMP_RET_ERRNO | libc::ENOSYS as u32, "{name}");
        }
        for nr in [libc::SYS_read, libc::SYS_write, libc::SYS_mmap, libc::SYS_execve, libc::SYS_exit_group, libc::SYS_getpid] {
            assert_eq!(eval(prog, x86_64, nr as u32), libc::SECCOMP_RET_ALLOW, "syscall {nr}");
        }
        assert_eq!(eval(prog, x86_64, 0x4000_0000 | libc::SYS_getpid as u32), libc::SECCOMP_RET_KILL_PROCESS);
        assert_eq!(eval(prog, 0x4000_0003 /* i386 */, 20), libc::SECCOMP_RET_KILL_PROCESS);
    }

    #[test]
    fn filter_inspects_clone_flags_and_ioctl_requests() {
        let prog = &build().unwrap().programs[0];
        let x86_64 = 0xc000_003e;
        let eperm = libc::SECCOMP_RET_ERRNO | libc::EPERM as u32;
        let clone = libc::SYS_clone as u32;
        // What glibc passes for fork() and pthread_create().
        let fork_flags = (libc::CLONE_CHILD_SETTID | libc::CLONE_CHILD_CLEARTID) as u32 | libc::SIGCHLD as u32;
        let thread_flags = (libc::CLONE_VM | libc::CLONE_FS | libc::CLONE_FILES | libc::CLONE_SIGHAND | libc::CLONE_THREAD
            | libc::CLONE_SYSVSEM | libc::CLONE_SETTLS | libc::CLONE_PARENT_SETTID | libc::CLONE_CHILD_CLEARTID) as u32;
        assert_eq!(eval_args(prog, x86_64, clone, [fork_flags, 0]), libc::SECCOMP_RET_ALLOW);
        assert_eq!(eval_args(prog, x86_64, clone, [thread_flags, 0]), libc::SECCOMP_RET_ALLOW);
        for f in DENIED_CLONE_FLAGS {
            assert_eq!(eval_args(prog, x86_64, clone, [fork_flags | *f as u32, 0]), eperm, "flag {f:#x}");
        }
        let ioctl = libc::SYS_ioctl as u32;
        assert_eq!(eval_args(prog, x86_64, ioctl, [1, libc::TIOCSTI as u32]), eperm);
        assert_eq!(eval_args(prog, x86_64, ioctl, [1, libc::TIOCLINUX as u32]), eperm);
        assert_eq!(eval_args(prog, x86_64, ioctl, [1, libc::TCGETS as u32]), libc::SECCOMP_RET_ALLOW);
    }

    #[test]
    fn ranges_merge_neighbours() {
        assert_eq!(ranges(&[("a", 5), ("b", 3), ("c", 4), ("d", 9)]), vec![(3, 5), (9, 9)]);
    }

    #[test]
    fn deny_lists_cover_what_the_issue_names() {
        let names: Vec<&str> = DENIED_EPERM.iter().chain(DENIED_ENOSYS).map(|(n, _)| *n).collect();
        for n in [
            "mount", "unshare", "setns", "ptrace", "add_key", "keyctl", "bpf", "perf_event_open", "userfaultfd",
            "io_uring_setup", "kexec_load", "init_module", "finit_module", "reboot", "clone3",
        ] {
            assert!(names.contains(&n), "{n} is not denied");
        }
        assert!(DENIED_CLONE_FLAGS.contains(&(libc::CLONE_NEWUSER as u64)));
    }
}
