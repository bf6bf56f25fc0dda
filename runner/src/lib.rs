//! The judge's sandbox: runs one untrusted program in fresh namespaces, a read-only mount tree,
//! an unprivileged uid, a seccomp filter and a strict cgroup; measures its CPU time and peak
//! memory from cgroup accounting; always cleans up.
//!
//! ```no_run
//! use runner::{RunSpec, Sandbox, Output};
//! let sandbox = Sandbox::with_defaults()?;
//! let mut spec = RunSpec::new("/bin/echo").arg("hello");
//! spec.stdout = Output::File("/var/tmp/out.txt".into());
//! let report = sandbox.run(&spec)?;
//! println!("{:?} in {} ms", report.status, report.cpu_time_ms);
//! # Ok::<(), runner::Error>(())
//! ```

pub mod cgroup;
mod child;
pub mod mount;
pub mod netns;
pub mod report;
mod rlimit;
pub mod seccomp;
pub mod slot;
pub mod spec;
mod supervisor;

pub use report::{CgroupEntry, KillMethod, Report, ReportLimits, Status};
pub use spec::{BindMount, HandedFd, Input, Limits, Output, RunSpec};
pub use supervisor::{signal_name, CancelToken, Error, Sandbox, SandboxConfig, HOSTNAME, SLOTS, STATE_DIR, UID_BASE};
