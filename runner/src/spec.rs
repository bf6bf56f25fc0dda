//! What to run and under which limits: the input of [`crate::Sandbox::run`].

use std::os::fd::{OwnedFd, RawFd};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Default CPU time limit (all processes and threads of the box together).
pub const DEFAULT_CPU_TIME: Duration = Duration::from_secs(10);
/// Default memory limit of the whole box (RAM, tmpfs and kernel memory; swap never extends it).
pub const DEFAULT_MEMORY_BYTES: u64 = 512 << 20;
/// Default limit on processes plus threads, not counting the box's own init.
pub const DEFAULT_PIDS: u32 = 64;
/// Default size of the largest file the box may write (its stdout and stderr included).
pub const DEFAULT_OUTPUT_BYTES: u64 = 64 << 20;
/// Default working directory inside the box: a writable tmpfs owned by the box user.
pub const DEFAULT_WORKDIR: &str = "/box";
/// `PATH` inside the box unless the spec sets one.
pub const DEFAULT_PATH: &str = "/usr/local/bin:/usr/bin:/bin";

/// Resource limits of one run. Every field is always enforced; there is no "unlimited".
#[derive(Clone, Debug, PartialEq)]
pub struct Limits {
    /// CPU time of every process and thread in the box, summed (cgroup accounting).
    pub cpu_time: Duration,
    /// Wall-clock time from the program's exec to its end.
    pub wall_time: Duration,
    /// Memory of the whole box: anonymous memory, page cache, tmpfs files, kernel memory.
    pub memory_bytes: u64,
    /// Processes plus threads the program may have alive at once.
    pub pids: u32,
    /// The largest file the box may write, stdout and stderr included.
    pub output_bytes: u64,
}

impl Limits {
    /// The wall limit that goes with a CPU limit when none is given: twice the CPU time plus 1 s.
    pub fn default_wall_for(cpu_time: Duration) -> Duration {
        cpu_time * 2 + Duration::from_secs(1)
    }
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            cpu_time: DEFAULT_CPU_TIME,
            wall_time: Limits::default_wall_for(DEFAULT_CPU_TIME),
            memory_bytes: DEFAULT_MEMORY_BYTES,
            pids: DEFAULT_PIDS,
            output_bytes: DEFAULT_OUTPUT_BYTES,
        }
    }
}

/// A host path mounted into the box, with bubblewrap's `--ro-bind` / `--bind` meaning
/// (recursive bind, `nosuid`, `nodev`; read-only unless `writable`).
#[derive(Clone, Debug, PartialEq)]
pub struct BindMount {
    pub src: PathBuf,
    pub dest: PathBuf,
    pub writable: bool,
}

/// A descriptor handed over to one run: the supervisor takes it out when it starts the box and
/// closes it once the box has its copy, so the caller holds no end of a pipe that must see EOF
/// (interactive problems: each box's ends of the pipes between them). Taking it twice is an
/// error.
#[derive(Clone, Debug)]
pub struct HandedFd(Arc<Mutex<Option<OwnedFd>>>);

impl HandedFd {
    pub fn new(fd: OwnedFd) -> Self {
        HandedFd(Arc::new(Mutex::new(Some(fd))))
    }

    /// Takes the descriptor out (None if it was taken already).
    pub fn take(&self) -> Option<OwnedFd> {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).take()
    }
}

impl PartialEq for HandedFd {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}

/// Where the program's stdin comes from.
#[derive(Clone, Debug, Default, PartialEq)]
pub enum Input {
    /// `/dev/null`.
    #[default]
    Null,
    /// A host file, opened read-only by the supervisor.
    File(PathBuf),
    /// A descriptor of the calling process (e.g. a pipe end); it is duplicated, not consumed.
    Fd(RawFd),
    /// A descriptor handed over to the run (consumed).
    Handed(HandedFd),
}

/// Where the program's stdout or stderr goes.
#[derive(Clone, Debug, Default, PartialEq)]
pub enum Output {
    /// `/dev/null`.
    #[default]
    Null,
    /// A host file, created or truncated by the supervisor. Symlinks and non-regular files are
    /// refused. It is never left larger than the output limit.
    File(PathBuf),
    /// A descriptor of the calling process that the box writes to directly (e.g. a pipe to
    /// another box). The output limit is not enforced on it: use `Pump` for untrusted sinks.
    Fd(RawFd),
    /// A descriptor handed over to the run (consumed); like `Fd`, not limited by the supervisor.
    Handed(HandedFd),
    /// A descriptor of the calling process that the supervisor copies the output to, counting
    /// bytes: the run ends with `output_limit` when the box writes more than the limit.
    Pump(RawFd),
}

/// One program to run in a fresh box.
#[derive(Clone, Debug, PartialEq)]
pub struct RunSpec {
    /// A path inside the box, or a name looked up in the box's `PATH`.
    pub program: String,
    /// Arguments after `argv[0]`.
    pub args: Vec<String>,
    /// `argv[0]`; defaults to `program`.
    pub argv0: Option<String>,
    /// Environment of the program, on top of `PATH` and `HOME` (which these may override).
    pub env: Vec<(String, String)>,
    pub limits: Limits,
    /// Host paths mounted into the box, after the default tree (a mount on the same
    /// destination as a default one replaces it).
    pub mounts: Vec<BindMount>,
    /// Working directory inside the box.
    pub workdir: PathBuf,
    pub stdin: Input,
    pub stdout: Output,
    pub stderr: Output,
    /// CPUs the box may run on (cpuset); `None` for all of the host's.
    pub cpus: Option<Vec<u32>>,
}

impl RunSpec {
    /// A spec with the default limits, tree and stdio (`/dev/null` everywhere).
    pub fn new(program: impl Into<String>) -> Self {
        RunSpec {
            program: program.into(),
            args: Vec::new(),
            argv0: None,
            env: Vec::new(),
            limits: Limits::default(),
            mounts: Vec::new(),
            workdir: PathBuf::from(DEFAULT_WORKDIR),
            stdin: Input::Null,
            stdout: Output::Null,
            stderr: Output::Null,
            cpus: None,
        }
    }

    pub fn arg(mut self, arg: impl Into<String>) -> Self {
        self.args.push(arg.into());
        self
    }
}
