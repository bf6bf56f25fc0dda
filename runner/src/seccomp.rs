//! The seccomp filter of the box: a deny-list of what a judged program never needs and what
//! widens the kernel's attack surface. Built once, in the parent, with seccompiler; the child
//! only installs the prepared programs.
//!
//! One BPF program is installed:
//! - a hand-written prologue that kills the process on any other architecture (the 32-bit
//!   `int 0x80` ABI) and on any x32 syscall (numbers with bit 0x40000000, which seccompiler does
//!   not cover), and answers the `ENOSYS` list (clone3, io_uring) so that libc and runtimes fall
//!   back to what the filter can inspect (clone) or do without;
//! - then seccompiler's program for the `EPERM` list, with argument checks for `clone`
//!   (namespace flags) and `ioctl` (terminal injection).
//!
//! One program rather than one per action: the kernel JITs every filter at every run.

use std::collections::BTreeMap;

use seccompiler::{
    BpfProgram, SeccompAction, SeccompCmpArgLen, SeccompCmpOp, SeccompCondition, SeccompFilter, SeccompRule, TargetArch,
};

#[derive(Debug, thiserror::Error)]
pub enum SeccompError {
    #[error("build the seccomp filter ({what}): {source}")]
    Build { what: &'static str, source: seccompiler::BackendError },
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

fn to_libc(p: BpfProgram) -> Vec<libc::sock_filter> {
    p.into_iter().map(|i| libc::sock_filter { code: i.code, jt: i.jt, jf: i.jf, k: i.k }).collect()
}

fn cond(arg: u8, op: SeccompCmpOp, value: u64) -> SeccompCondition {
    SeccompCondition::new(arg, SeccompCmpArgLen::Qword, op, value).expect("argument index below 6")
}

fn rule(conds: Vec<SeccompCondition>) -> SeccompRule {
    SeccompRule::new(conds).expect("non-empty condition list")
}

fn compile(rules: BTreeMap<i64, Vec<SeccompRule>>, errno: i32, what: &'static str) -> Result<BpfProgram, SeccompError> {
    let filter = SeccompFilter::new(rules, SeccompAction::Allow, SeccompAction::Errno(errno as u32), TargetArch::x86_64)
        .map_err(|source| SeccompError::Build { what, source })?;
    filter.try_into().map_err(|source| SeccompError::Build { what, source })
}

/// The prologue: architecture, x32, and the `ENOSYS` list.
fn prologue() -> Vec<libc::sock_filter> {
    use libc::{sock_filter, BPF_ABS, BPF_JEQ, BPF_JGE, BPF_JMP, BPF_K, BPF_LD, BPF_RET, BPF_W};
    const AUDIT_ARCH_X86_64: u32 = 0xc000_003e;
    let stmt = |code: u32, k: u32| sock_filter { code: code as u16, jt: 0, jf: 0, k };
    let jump = |code: u32, k: u32, jt: u8, jf: u8| sock_filter { code: code as u16, jt, jf, k };
    let mut p = vec![
        // A = seccomp_data.arch; anything but x86_64 is killed.
        stmt(BPF_LD | BPF_W | BPF_ABS, 4),
        jump(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0),
        stmt(BPF_RET | BPF_K, libc::SECCOMP_RET_KILL_PROCESS),
        // A = seccomp_data.nr; x32 numbers are killed.
        stmt(BPF_LD | BPF_W | BPF_ABS, 0),
        jump(BPF_JMP | BPF_JGE | BPF_K, X32_SYSCALL_BIT, 0, 1),
        stmt(BPF_RET | BPF_K, libc::SECCOMP_RET_KILL_PROCESS),
    ];
    for (_, nr) in DENIED_ENOSYS {
        p.push(jump(BPF_JMP | BPF_JEQ | BPF_K, *nr as u32, 0, 1));
        p.push(stmt(BPF_RET | BPF_K, libc::SECCOMP_RET_ERRNO | libc::ENOSYS as u32));
    }
    p
}

/// Builds the box's filter.
pub fn build() -> Result<SeccompPrograms, SeccompError> {
    let mut eperm: BTreeMap<i64, Vec<SeccompRule>> = DENIED_EPERM.iter().map(|(_, nr)| (*nr, Vec::new())).collect();
    eperm.insert(
        libc::SYS_clone,
        DENIED_CLONE_FLAGS.iter().map(|f| rule(vec![cond(0, SeccompCmpOp::MaskedEq(*f), *f)])).collect(),
    );
    eperm.insert(libc::SYS_ioctl, DENIED_IOCTLS.iter().map(|r| rule(vec![cond(1, SeccompCmpOp::MaskedEq(0xffff_ffff), *r)])).collect());
    let mut program = prologue();
    program.extend(to_libc(compile(eperm, libc::EPERM, "EPERM list")?));
    Ok(SeccompPrograms { programs: vec![program] })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builds_and_fits_the_kernel_limit() {
        let p = build().unwrap();
        assert_eq!(p.programs.len(), 1);
        for prog in &p.programs {
            assert!(!prog.is_empty() && prog.len() < 4096);
        }
        // The architecture check comes first, then the x32 check.
        assert_eq!(p.programs[0][1].k, 0xc000_003e);
        assert_eq!(p.programs[0][4].k, X32_SYSCALL_BIT);
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
