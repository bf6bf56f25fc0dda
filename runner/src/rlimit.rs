//! Per-process resource limits set on the program before exec. The cgroup enforces the box's
//! totals; these close the gaps it leaves (file size, core dumps) and back up the CPU limit.

use crate::spec::Limits;

/// Descriptors a program may hold.
pub const NOFILE: u64 = 1024;

fn lim(cur: u64, max: u64) -> libc::rlimit {
    libc::rlimit { rlim_cur: cur, rlim_max: max }
}

/// The limits, in the order the child sets them.
pub fn plan(l: &Limits) -> Vec<(libc::__rlimit_resource_t, libc::rlimit)> {
    // Backstop only: the supervisor stops the box at the CPU limit itself. A single process that
    // somehow outlived that gets SIGKILL one second later.
    let cpu_s = l.cpu_time.as_secs() + 2;
    vec![
        // One byte over the limit: a file that reaches limit+1 bytes proves the program tried to
        // write more than allowed; the supervisor truncates it back.
        (libc::RLIMIT_FSIZE, lim(l.output_bytes + 1, l.output_bytes + 1)),
        (libc::RLIMIT_CORE, lim(0, 0)),
        (libc::RLIMIT_CPU, lim(cpu_s, cpu_s)),
        // Deep recursion is legitimate in judged programs: the stack may use all of the memory.
        (libc::RLIMIT_STACK, lim(l.memory_bytes, l.memory_bytes)),
        (libc::RLIMIT_NOFILE, lim(NOFILE, NOFILE)),
    ]
}
