//! What a run produced: a verdict-free account of how the program ended and what it used.

use serde::{Deserialize, Serialize};

/// How the run ended. Limits take precedence over how the program died: a program killed
/// because it hit its CPU limit is `TimeLimit`, not `Signaled`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
// Named apart from other `Status` types in an OpenAPI document.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(as = RunStatus))]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Exited with code 0 within every limit.
    Ok,
    /// Exited with a non-zero code within every limit.
    NonzeroExit,
    /// Killed by a signal that no limit explains.
    Signaled,
    /// Used its CPU time limit.
    TimeLimit,
    /// Used its wall-clock limit.
    WallTimeLimit,
    /// The box's memory cgroup OOM-killed something.
    MemoryLimit,
    /// Wrote more than the output limit.
    OutputLimit,
    /// The sandbox failed after the program started; the figures may be incomplete.
    SandboxError,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Ok => "ok",
            Status::NonzeroExit => "nonzero_exit",
            Status::Signaled => "signaled",
            Status::TimeLimit => "time_limit",
            Status::WallTimeLimit => "wall_time_limit",
            Status::MemoryLimit => "memory_limit",
            Status::OutputLimit => "output_limit",
            Status::SandboxError => "sandbox_error",
        }
    }
}

/// How the program entered the box's cgroup.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum CgroupEntry {
    /// The box's init started it directly in the box's cgroup (`clone3` with
    /// `CLONE_INTO_CGROUP`: cgroup v2, Linux 5.7+): it never ran anywhere else.
    #[serde(rename = "clone_into_cgroup")]
    CloneIntoCgroup,
    /// It wrote itself into the box's `cgroup.procs` first thing (cgroup v1, older kernels).
    #[serde(rename = "cgroup.procs")]
    CgroupProcs,
}

/// How the supervisor killed the processes of a box, when it had to (a limit, or processes
/// left once the program had ended).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum KillMethod {
    /// One write to the box's `cgroup.kill` (cgroup v2, Linux 5.14+): the kernel kills every
    /// process of the cgroup, including ones being forked meanwhile.
    #[serde(rename = "cgroup.kill")]
    CgroupKill,
    /// Freeze the box's cgroup, SIGKILL each of its processes, thaw (cgroup v1, older v2).
    #[serde(rename = "freeze+sigkill")]
    FreezeSigkill,
}

impl KillMethod {
    pub fn as_str(self) -> &'static str {
        match self {
            KillMethod::CgroupKill => "cgroup.kill",
            KillMethod::FreezeSigkill => "freeze+sigkill",
        }
    }
}

/// The limits a run was given, in the report's units.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(as = RunReportLimits))]
pub struct ReportLimits {
    pub cpu_time_ms: u64,
    pub wall_time_ms: u64,
    pub memory_bytes: u64,
    pub pids: u32,
    pub output_bytes: u64,
}

/// The account of one run. Figures come from the box's cgroup: CPU time and memory of every
/// process that ever ran in the box.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(as = RunReport))]
pub struct Report {
    pub status: Status,
    /// Exit code of the program, if it exited.
    pub exit_code: Option<i32>,
    /// Signal that ended the program, if one did.
    pub signal: Option<i32>,
    /// CPU time of the whole box (user + system), in milliseconds.
    pub cpu_time_ms: u64,
    /// Same, in microseconds, for callers that compare close to a limit.
    pub cpu_time_us: u64,
    /// Wall-clock time from exec to the end of the program, in milliseconds.
    pub wall_time_ms: u64,
    /// Peak memory of the whole box, in bytes.
    pub memory_bytes: u64,
    /// Peak number of the program's processes plus threads (the box's own init not counted),
    /// where the kernel reports it (`pids.peak`).
    pub pids_peak: Option<u64>,
    /// Bytes the program wrote to stdout (for file and pumped outputs).
    pub stdout_bytes: Option<u64>,
    /// A sentence for people.
    pub message: String,
    /// The unprivileged uid (and gid) the program ran as.
    pub uid: u32,
    /// Name of the box: unique among the runs alive on this host.
    pub box_id: String,
    /// Host cgroup directories of the run (removed when the run returns).
    pub cgroup_paths: Vec<String>,
    /// How the program entered the box's cgroup.
    pub cgroup_entry: CgroupEntry,
    /// How the supervisor killed the box's processes; `None` when it killed none (the program
    /// ended by itself and the end of the box's pid namespace took whatever was left).
    pub kill_method: Option<KillMethod>,
    pub limits: ReportLimits,
    /// CLOCK_MONOTONIC (ns) when the program ended: orders runs of one host against each other
    /// (who of an interactive pair finished first). Not part of the JSON report.
    #[serde(skip)]
    pub ended_monotonic_ns: u64,
}
