//! The supervisor: prepares a box, starts it, watches its limits, measures it, tears it down.
//!
//! The order of a run, written once in [`Sandbox::run_with_cancel`]:
//! slot → sweep leftovers of the slot → stdio → mount plan (on the sandbox's template tree when
//! it can serve the run) → cgroup join points → child plan → clone3 of init in this process's
//! memory, on this CPU (new pid and uts namespaces, and a new mount namespace unless init enters
//! the template's; init enters a fresh network and IPC namespace made ahead by the netns
//! factory) → while init builds its mount tree: create the cgroup with its limits → send init
//! the go (its program joins the cgroup first thing) → watch (failure pipe, wall clock, CPU
//! usage, output pumps, cancel) until the program's status has come and nothing else of the box
//! is left, or init has died → measure → kill leftovers → remove the cgroup → reap init →
//! report.

use std::ffi::CString;
use std::fs::{File, OpenOptions};
use std::io::{self, Read};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{FileTypeExt, MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::cgroup::{BoxCgroup, CgroupError, CgroupLimits, Hierarchy, JoinPoints, BOX_PREFIX};
use crate::child::{self, ChildPlan, ChildStacks, Step, FAILURE_LEN, STATUS_LEN};
use crate::mount::{self, DefaultTree, MountError, PendingTemplate, Template, TreeSettings};
use crate::netns::{NetnsError, NetnsPool};
use crate::report::{CgroupEntry, KillMethod, Report, ReportLimits, Status};
use crate::seccomp::{self, SeccompError, SeccompPrograms};
use crate::slot::{SlotError, SlotPool};
use crate::spec::{Input, Output, RunSpec, DEFAULT_PATH};
use crate::rlimit;

/// Hostname inside every box.
pub const HOSTNAME: &str = "judge";
/// First uid (and gid) of the box users: slot `n` runs as `UID_BASE + n`.
pub const UID_BASE: u32 = 60000;
/// Number of slots, i.e. boxes alive at once on this host.
pub const SLOTS: u32 = 1000;
/// Where slot locks live.
pub const STATE_DIR: &str = "/run/judge";
/// How long a box may take to start (mount tree, cgroup join, exec) before it is a sandbox error.
const SETUP_TIMEOUT: Duration = Duration::from_secs(10);

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("the sandbox must run as root (it creates namespaces, cgroups and mounts); effective uid is {0}")]
    NotRoot(u32),
    #[error(transparent)]
    Cgroup(#[from] CgroupError),
    #[error(transparent)]
    Slot(#[from] SlotError),
    #[error(transparent)]
    Mount(#[from] MountError),
    #[error(transparent)]
    Seccomp(#[from] SeccompError),
    #[error(transparent)]
    Netns(#[from] NetnsError),
    #[error("invalid run: {0}")]
    Spec(String),
    #[error("open {what} {path}: {source}")]
    Stdio { what: &'static str, path: PathBuf, source: io::Error },
    #[error("{what} {path} is not a regular file (a symlink, FIFO, socket, directory or device); refusing to use it")]
    NotRegular { what: &'static str, path: PathBuf },
    #[error("{op}: {source}")]
    Os { op: &'static str, source: io::Error },
    #[error("program {program:?} not found in the box (tried {tried})")]
    ProgramNotFound { program: String, tried: String },
    #[error("execute {program:?} in the box: {source}")]
    Exec { program: String, source: io::Error },
    #[error("set up the box: {step}{detail}: {source}")]
    Setup { step: &'static str, detail: String, source: io::Error },
    #[error("the box did not start within {0:?}")]
    SetupTimeout(Duration),
    #[error("the run was cancelled; the box was killed")]
    Cancelled,
}

fn os(op: &'static str) -> impl FnOnce(io::Error) -> Error {
    move |source| Error::Os { op, source }
}

/// Where the sandbox keeps its state and which ids it uses.
#[derive(Clone, Debug)]
pub struct SandboxConfig {
    pub state_dir: PathBuf,
    pub uid_base: u32,
    pub slots: u32,
    /// `None`: detect from /proc/self/mountinfo.
    pub hierarchy: Option<Hierarchy>,
    /// cgroup v2: the delegated cgroup the boxes go under, before `$JUDGE_CGROUP` and the
    /// judge's own cgroup (see `Hierarchy::detect`); unused when `hierarchy` is given.
    pub cgroup: Option<PathBuf>,
    /// How many runs this sandbox will do, when known (the CLI: 1). Resources made ahead of
    /// demand (network namespaces) stop there; more runs still work, they just wait for them.
    pub runs_hint: Option<usize>,
}

impl Default for SandboxConfig {
    fn default() -> Self {
        SandboxConfig {
            state_dir: PathBuf::from(STATE_DIR),
            uid_base: UID_BASE,
            slots: SLOTS,
            hierarchy: None,
            cgroup: None,
            runs_hint: None,
        }
    }
}

/// A cancellation handle for a run in progress: `cancel()` kills the box and the run returns
/// [`Error::Cancelled`]. Backed by an eventfd the supervisor polls.
#[derive(Debug, Clone)]
pub struct CancelToken(Arc<OwnedFd>);

impl CancelToken {
    pub fn new() -> io::Result<Self> {
        // SAFETY: eventfd(2) returns a new descriptor we take ownership of.
        let fd = unsafe { libc::eventfd(0, libc::EFD_CLOEXEC | libc::EFD_NONBLOCK) };
        if fd < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: fd is a fresh descriptor owned by nobody else.
        Ok(CancelToken(Arc::new(unsafe { OwnedFd::from_raw_fd(fd) })))
    }

    /// Async-signal-safe: may be called from a signal handler thread.
    pub fn cancel(&self) {
        let one: u64 = 1;
        // SAFETY: write(2) of 8 bytes from a stack value to our eventfd.
        unsafe { libc::write(self.0.as_raw_fd(), (&one as *const u64).cast(), 8) };
    }

    fn fd(&self) -> RawFd {
        self.0.as_raw_fd()
    }
}

/// The sandbox of one host: shared by every run of a process (it is `Send + Sync`).
#[derive(Debug)]
pub struct Sandbox {
    hierarchy: Hierarchy,
    slots: SlotPool,
    uid_base: u32,
    seccomp: SeccompPrograms,
    tree: DefaultTree,
    /// The default tree, built once (in the background, from `Sandbox::new` on): each box
    /// starts from a copy of it (see [`mount`]). Not for a sandbox of one run (the CLI): that
    /// run builds its tree itself, which costs less than a template and a copy of it.
    template: Option<PendingTemplate>,
    cap_last: u32,
    online_cpus: u32,
    netns: NetnsPool,
    /// Stacks for the boxes' init and program, reused (see [`ChildStacks`]).
    stacks: Mutex<Vec<ChildStacks>>,
}

impl Sandbox {
    /// Checks privileges, finds the cgroup hierarchy, prepares the seccomp filter, and sweeps
    /// what dead supervisors left behind.
    pub fn new(config: SandboxConfig) -> Result<Self, Error> {
        // SAFETY: geteuid(2) has no failure mode.
        let euid = unsafe { libc::geteuid() };
        if euid != 0 {
            return Err(Error::NotRoot(euid));
        }
        ensure_std_fds_open()?;
        // The boxes' init runs in this process's memory (see `child`), and the program's change
        // of uid makes that memory non-dumpable anyway (the kernel does so on every credential
        // change): make it so from the start, so that nothing depends on whether a box ran yet.
        // SAFETY: prctl(2) on this process's own flag.
        if unsafe { libc::prctl(libc::PR_SET_DUMPABLE, 0, 0, 0, 0) } < 0 {
            return Err(Error::Os { op: "make the supervisor non-dumpable", source: io::Error::last_os_error() });
        }
        // Started first: the first namespace is made while the rest is set up.
        let netns = NetnsPool::start(config.runs_hint).map_err(os("start the network namespace factory thread"))?;
        let hierarchy = match config.hierarchy {
            Some(h) => h,
            None => Hierarchy::detect_with(config.cgroup.as_deref())?,
        };
        let slots = SlotPool::new(&config.state_dir, config.slots)?;
        let cap_last = std::fs::read_to_string("/proc/sys/kernel/cap_last_cap")
            .ok()
            .and_then(|s| s.trim().parse().ok())
            .unwrap_or(63);
        // SAFETY: sysconf(3) has no memory effects.
        let online_cpus = unsafe { libc::sysconf(libc::_SC_NPROCESSORS_ONLN) }.max(1) as u32;
        let tree = DefaultTree::scan(&config.state_dir)?;
        let sb = Sandbox {
            hierarchy,
            slots,
            uid_base: config.uid_base,
            seccomp: seccomp::build()?,
            template: match config.runs_hint {
                Some(1) => None,
                _ => Some(Template::build_in_background(tree.clone()).map_err(os("start the template mount tree's thread"))?),
            },
            tree,
            cap_last,
            online_cpus,
            netns,
            stacks: Mutex::new(Vec::new()),
        };
        sb.sweep()?;
        Ok(sb)
    }

    /// With the default configuration.
    pub fn with_defaults() -> Result<Self, Error> {
        Sandbox::new(SandboxConfig::default())
    }

    pub fn hierarchy(&self) -> &Hierarchy {
        &self.hierarchy
    }

    /// Removes the cgroups of every slot that no live supervisor holds.
    pub fn sweep(&self) -> Result<(), Error> {
        for name in self.hierarchy.existing_boxes() {
            let Some(index) = name.strip_prefix(BOX_PREFIX).and_then(|n| n.parse::<u32>().ok()) else { continue };
            if index >= self.slots.count() {
                continue;
            }
            if let Some(_slot) = self.slots.try_acquire(index)? {
                self.hierarchy.sweep(&name)?;
            }
        }
        Ok(())
    }

    /// Runs one program in a fresh box.
    pub fn run(&self, spec: &RunSpec) -> Result<Report, Error> {
        self.run_with_cancel(spec, None)
    }

    /// Runs one program in a fresh box from async code: the blocking part runs on tokio's
    /// blocking pool; dropping the future cancels the run (the box is killed).
    pub async fn run_async(self: &Arc<Self>, spec: RunSpec) -> Result<Report, Error> {
        struct CancelOnDrop(Option<CancelToken>);
        impl Drop for CancelOnDrop {
            fn drop(&mut self) {
                if let Some(t) = self.0.take() {
                    t.cancel();
                }
            }
        }
        let token = CancelToken::new().map_err(os("create an eventfd"))?;
        let mut guard = CancelOnDrop(Some(token.clone()));
        let sb = Arc::clone(self);
        let res = tokio::task::spawn_blocking(move || sb.run_with_cancel(&spec, Some(&token)))
            .await
            .map_err(|e| Error::Os { op: "join the run's thread", source: io::Error::other(e.to_string()) })?;
        guard.0 = None;
        res
    }

    /// Runs one program; `cancel` kills the box from another thread.
    pub fn run_with_cancel(&self, spec: &RunSpec, cancel: Option<&CancelToken>) -> Result<Report, Error> {
        validate(spec)?;
        let limits = &spec.limits;
        let slot = self.slots.acquire()?;
        let box_id = format!("{BOX_PREFIX}{}", slot.index);
        self.hierarchy.sweep(&box_id)?;
        let uid = self.uid_base + slot.index;
        let gid = uid;
        let stdio = Stdio::open(spec)?;
        let mounts = mount::plan(
            &self.tree,
            self.template.as_ref().and_then(PendingTemplate::get),
            &TreeSettings {
                uid,
                gid,
                tmp_bytes: limits.memory_bytes,
                workdir_bytes: limits.memory_bytes,
                workdir: &spec.workdir,
                mounts: &spec.mounts,
            },
        )?;
        let tree_fds = mounts.fds();
        let new_mount_ns = mounts.needs_new_namespace();
        let (mount_ops, mount_steps, mount_trees) = mounts.split();
        let join = self.hierarchy.join_points(&box_id, spec.cpus.is_some())?;
        let netns = self.netns.take()?;
        let (go_r, go_w) = pipe()?;
        let (err_r, err_w) = pipe()?;
        let (status_r, status_w) = pipe()?;
        let (exec_paths, tried) = exec_paths(spec);
        let stacks = self.take_stacks()?;
        let plan = self.child_plan(
            spec,
            &stdio,
            mount_ops,
            &tree_fds,
            uid,
            gid,
            exec_paths,
            [&go_r, &err_w, &status_w],
            &netns,
            &stacks,
            &join,
            !new_mount_ns,
        )?;

        let clone_time = Instant::now();
        let mut running = clone_box(Box::new(plan), new_mount_ns, stacks, &self.stacks)?;
        // The cgroup is made while init builds its mount tree; init waits for the go, and its
        // program joins the cgroup first thing (init itself never does, see `child`).
        let cpus = spec.cpus.as_ref().map(|c| c.iter().map(u32::to_string).collect::<Vec<_>>().join(","));
        let cgroup_limits = CgroupLimits { memory_bytes: limits.memory_bytes, pids_max: limits.pids, cpus };
        let cg = match self.hierarchy.create_box(&box_id, &cgroup_limits) {
            Ok(cg) => cg,
            Err(e) => {
                running.kill_and_reap();
                return Err(e.into());
            }
        };
        if let Err(e) = write_go(&go_w) {
            running.kill_and_reap();
            return Err(e);
        }
        // The child has its copies; ours would hide EOF on the pipes.
        drop((go_r, go_w, err_w, status_w, netns, mount_trees, join));
        let Stdio { child_fds, files, pumps } = stdio;
        drop(child_fds);

        let mut w = Watch {
            sb: self,
            spec,
            cg: &cg,
            running,
            err_r,
            failure: Vec::with_capacity(FAILURE_LEN),
            pumps,
            status_r: File::from(status_r),
            status_open: true,
            wait_status: None,
            ended_ns: None,
            cancel,
            clone_time,
            exec_time: None,
            end_time: None,
            init_exiting: false,
            kill_reason: None,
            kill_method: None,
        };
        let outcome = w.watch();
        let failure = std::mem::take(&mut w.failure);
        let Watch { mut running, pumps, exec_time, end_time, kill_reason, kill_method, wait_status, ended_ns, init_exiting, .. } =
            w;
        if outcome.is_err() || !init_exiting {
            running.kill_and_reap();
        }
        outcome?;
        if failure.len() >= FAILURE_LEN {
            return Err(failure_error(spec, &failure, &tried, &mount_steps));
        }

        let exec_time = exec_time.unwrap_or(clone_time);
        let end_time = end_time.unwrap_or_else(Instant::now);
        let wall = end_time.saturating_duration_since(exec_time);
        let ended_monotonic_ns =
            ended_ns.unwrap_or_else(|| monotonic_ns().saturating_sub(end_time.elapsed().as_nanos() as u64));
        let cgroup_entry = running.cgroup_entry();
        let measured = measure(&cg);
        let leftovers_killed = cg.kill_all().unwrap_or_else(|e| {
            tracing::error!(error = %e, box_id, "kill leftovers");
            None
        });
        let kill_method = kill_method.or(leftovers_killed);
        let cgroup_paths: Vec<String> = cg.dirs().iter().map(|d| d.display().to_string()).collect();
        cg.remove()?;
        // Nothing of the box outlives the run (see `Watch::init_exiting`).
        running.kill_and_reap();

        let mut output_exceeded = pumps.iter().any(|p| p.exceeded);
        let mut stdout_bytes = pumps.iter().find(|p| p.stream == 1).map(|p| p.bytes);
        for (stream, f) in &files {
            let len = f.metadata().map(|m| m.len()).unwrap_or(0);
            if len > limits.output_bytes {
                output_exceeded = true;
                f.set_len(limits.output_bytes).map_err(os("truncate an output file to the output limit"))?;
            }
            if *stream == 1 {
                stdout_bytes = Some(len.min(limits.output_bytes));
            }
        }
        let verdict = Verdict { wait_status, kill_reason, output_exceeded, measured: &measured, limits };
        let (status, mut message) = verdict.decide();
        for p in pumps.iter().filter(|p| !p.sink_alive) {
            let stream = if p.stream == 1 { "stdout" } else { "stderr" };
            message.push_str(&format!("; the program's {stream} could not be delivered (its reader went away or stayed full)"));
        }
        let (cpu_ns, memory_bytes, pids_peak) = match &measured {
            // Only the program and what it started are in the box's cgroup (not its init).
            Ok(m) => (m.cpu_ns, m.memory_bytes, m.pids_peak),
            Err(_) => (0, 0, None),
        };
        Ok(Report {
            status,
            exit_code: wait_status.filter(|s| libc::WIFEXITED(*s)).map(|s| libc::WEXITSTATUS(s)),
            signal: wait_status.filter(|s| libc::WIFSIGNALED(*s)).map(|s| libc::WTERMSIG(s)),
            cpu_time_ms: cpu_ns / 1_000_000,
            cpu_time_us: cpu_ns / 1_000,
            wall_time_ms: wall.as_millis() as u64,
            memory_bytes,
            pids_peak,
            stdout_bytes,
            ended_monotonic_ns,
            message,
            uid,
            box_id,
            cgroup_paths,
            cgroup_entry,
            kill_method,
            limits: ReportLimits {
                cpu_time_ms: limits.cpu_time.as_millis() as u64,
                wall_time_ms: limits.wall_time.as_millis() as u64,
                memory_bytes: limits.memory_bytes,
                pids: limits.pids,
                output_bytes: limits.output_bytes,
            },
        })
    }

    #[allow(clippy::too_many_arguments)]
    fn child_plan(
        &self,
        spec: &RunSpec,
        stdio: &Stdio,
        mounts: Vec<mount::Op>,
        tree_fds: &[RawFd],
        uid: u32,
        gid: u32,
        exec_paths: Vec<CString>,
        [go_r, err_w, status_w]: [&OwnedFd; 3],
        netns: &crate::netns::BoxNamespaces,
        stacks: &ChildStacks,
        join: &JoinPoints,
        pin: bool,
    ) -> Result<ChildPlan, Error> {
        let cstr = |s: &str, what: &str| CString::new(s).map_err(|_| Error::Spec(format!("{what} {s:?} contains a NUL byte")));
        let mut strings = Vec::new();
        let argv0 = spec.argv0.as_deref().unwrap_or(&spec.program);
        let mut argv_idx = vec![strings.len()];
        strings.push(cstr(argv0, "argv[0]")?);
        for a in &spec.args {
            argv_idx.push(strings.len());
            strings.push(cstr(a, "argument")?);
        }
        let mut env_idx = Vec::new();
        for (k, v) in env_of(spec) {
            env_idx.push(strings.len());
            strings.push(cstr(&format!("{k}={v}"), "environment entry")?);
        }
        let ptrs = |idx: &[usize]| -> Vec<*const libc::c_char> {
            idx.iter().map(|&i| strings[i].as_ptr()).chain(std::iter::once(std::ptr::null())).collect()
        };
        let argv = ptrs(&argv_idx);
        let envp = ptrs(&env_idx);
        // The filters themselves stay in the sandbox, which outlives the run.
        let seccomp = self
            .seccomp
            .programs
            .iter()
            .map(|p| libc::sock_fprog { len: p.len() as u16, filter: p.as_ptr() as *mut _ })
            .collect();
        let mut keep: Vec<RawFd> =
            vec![go_r.as_raw_fd(), err_w.as_raw_fd(), status_w.as_raw_fd(), netns.net.as_raw_fd(), netns.ipc.as_raw_fd()];
        keep.extend(stdio.child_fds.iter().map(|f| f.as_raw_fd()));
        keep.extend_from_slice(tree_fds);
        keep.extend(join.dirs());
        keep.sort_unstable();
        keep.dedup();
        let workdir = CString::new(spec.workdir.as_os_str().as_bytes())
            .map_err(|_| Error::Spec(format!("working directory {:?} contains a NUL byte", spec.workdir)))?;
        Ok(ChildPlan {
            keep_fds: keep,
            go_fd: go_r.as_raw_fd(),
            cgroup_dirs: join.dirs(),
            cgroup_procs: join.procs().clone(),
            cgroup_box: join.clone_into().cloned(),
            cgroup_entry: AtomicU8::new(0),
            err_fd: err_w.as_raw_fd(),
            status_fd: status_w.as_raw_fd(),
            mounts,
            hostname: CString::new(HOSTNAME).expect("no NUL"),
            netns_fd: netns.net.as_raw_fd(),
            ipcns_fd: netns.ipc.as_raw_fd(),
            stdio: [stdio.child_fds[0].as_raw_fd(), stdio.child_fds[1].as_raw_fd(), stdio.child_fds[2].as_raw_fd()],
            rlimits: rlimit::plan(&spec.limits),
            program_stack_top: stacks.program_top(),
            uid,
            gid,
            workdir,
            cap_last: self.cap_last,
            exec_paths,
            argv,
            envp,
            _strings: strings,
            seccomp,
            // Init starts on this CPU when it has little to do before the go (on the template;
            // building the whole tree, it had better run beside the cgroup's creation). A run
            // pinned to CPUs gets its affinity from the cpuset when it joins the cgroup.
            affinity: if pin && spec.cpus.is_none() { current_affinity() } else { None },
        })
    }

    /// Stacks for a box's init and program: a free pair of the pool, or a new one.
    fn take_stacks(&self) -> Result<ChildStacks, Error> {
        let free = self.stacks.lock().unwrap_or_else(|p| p.into_inner()).pop();
        match free {
            Some(s) => Ok(s),
            None => ChildStacks::new().map_err(os("map the stacks of a box's init and program")),
        }
    }

}

/// The error for a failure message of the child.
fn failure_error(spec: &RunSpec, msg: &[u8], tried: &str, mount_steps: &[String]) -> Error {
    {
        let step = u32::from_ne_bytes(msg[0..4].try_into().unwrap());
        let index = u32::from_ne_bytes(msg[4..8].try_into().unwrap());
        let errno = i32::from_ne_bytes(msg[8..12].try_into().unwrap());
        let source = io::Error::from_raw_os_error(errno);
        match Step::from_u32(step) {
            Some(Step::Exec) if errno == libc::ENOENT || errno == libc::ENOTDIR => {
                Error::ProgramNotFound { program: spec.program.clone(), tried: tried.to_owned() }
            }
            Some(Step::Exec) => Error::Exec { program: spec.program.clone(), source },
            Some(Step::Chdir) => Error::Setup {
                step: Step::Chdir.describe(),
                detail: format!(" {}", spec.workdir.display()),
                source,
            },
            Some(Step::Mount) => Error::Setup {
                step: Step::Mount.describe(),
                detail: format!(": {}", mount_steps.get(index as usize).map(String::as_str).unwrap_or("?")),
                source,
            },
            Some(s) => Error::Setup { step: s.describe(), detail: format!(" (#{index})"), source },
            None => Error::Setup { step: "unknown step", detail: format!(" {step}/{index}"), source },
        }
    }
}

fn validate(spec: &RunSpec) -> Result<(), Error> {
    let l = &spec.limits;
    if spec.program.is_empty() {
        return Err(Error::Spec("no program given".into()));
    }
    if l.cpu_time.is_zero() || l.wall_time.is_zero() {
        return Err(Error::Spec("time limits must be positive".into()));
    }
    if l.memory_bytes < (1 << 20) {
        return Err(Error::Spec(format!("memory limit {} bytes is below the minimum of 1 MiB", l.memory_bytes)));
    }
    if l.pids == 0 {
        return Err(Error::Spec("the pids limit must be at least 1".into()));
    }
    if !spec.workdir.is_absolute() {
        return Err(Error::Spec(format!("working directory {:?} must be an absolute path in the box", spec.workdir)));
    }
    if let Some(c) = &spec.cpus {
        if c.is_empty() {
            return Err(Error::Spec("the CPU list is empty".into()));
        }
    }
    Ok(())
}

fn env_of(spec: &RunSpec) -> Vec<(String, String)> {
    let mut env: Vec<(String, String)> = vec![
        ("PATH".into(), DEFAULT_PATH.into()),
        ("HOME".into(), spec.workdir.display().to_string()),
    ];
    for (k, v) in &spec.env {
        env.retain(|(ek, _)| ek != k);
        env.push((k.clone(), v.clone()));
    }
    env
}

/// The paths the child tries, and a description of them for "not found".
fn exec_paths(spec: &RunSpec) -> (Vec<CString>, String) {
    let to_c = |s: &str| CString::new(s).unwrap_or_default();
    if spec.program.contains('/') {
        return (vec![to_c(&spec.program)], spec.program.clone());
    }
    let env = env_of(spec);
    let path = env.iter().find(|(k, _)| k == "PATH").map(|(_, v)| v.clone()).unwrap_or_default();
    let candidates: Vec<String> =
        path.split(':').filter(|d| !d.is_empty()).map(|d| format!("{}/{}", d.trim_end_matches('/'), spec.program)).collect();
    let tried = candidates.join(", ");
    (candidates.iter().map(|c| to_c(c)).collect(), tried)
}

/// CLOCK_MONOTONIC now, in nanoseconds.
fn monotonic_ns() -> u64 {
    // SAFETY: clock_gettime(2) fills a plain struct.
    let mut ts: libc::timespec = unsafe { std::mem::zeroed() };
    unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut ts) };
    ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64
}

/// Tells init it is in the box's cgroup and may start the program.
fn write_go(go: &OwnedFd) -> Result<(), Error> {
    // SAFETY: write(2) of one byte from a static.
    if unsafe { libc::write(go.as_raw_fd(), c"g".as_ptr().cast(), 1) } != 1 {
        return Err(Error::Os { op: "send the box its go", source: io::Error::last_os_error() });
    }
    Ok(())
}

fn pipe() -> Result<(OwnedFd, OwnedFd), Error> {
    let mut fds = [0 as RawFd; 2];
    // SAFETY: pipe2(2) fills the two-element array.
    if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) } < 0 {
        return Err(Error::Os { op: "create a pipe", source: io::Error::last_os_error() });
    }
    // SAFETY: both descriptors are fresh and owned by nobody else.
    Ok(unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) })
}

/// A library in a process whose 0, 1 or 2 is closed would hand those numbers to pipes, which
/// the child then overwrites with dup2: fill the holes with /dev/null first.
fn ensure_std_fds_open() -> Result<(), Error> {
    for fd in 0..3 {
        // SAFETY: fcntl(F_GETFD) only queries.
        if unsafe { libc::fcntl(fd, libc::F_GETFD) } < 0 {
            // SAFETY: open(2) of a constant path; the result is the lowest free number, i.e. fd.
            let n = unsafe { libc::open(c"/dev/null".as_ptr(), libc::O_RDWR) };
            if n < 0 {
                return Err(Error::Os { op: "open /dev/null for a closed standard descriptor", source: io::Error::last_os_error() });
            }
        }
    }
    Ok(())
}

/// Duplicates a descriptor of the caller above 2, close-on-exec.
fn dup_high(fd: RawFd, what: &'static str) -> Result<OwnedFd, Error> {
    // SAFETY: fcntl(F_DUPFD_CLOEXEC) returns a new descriptor or -1.
    let n = unsafe { libc::fcntl(fd, libc::F_DUPFD_CLOEXEC, 3) };
    if n < 0 {
        return Err(Error::Stdio { what, path: PathBuf::from(format!("fd {fd}")), source: io::Error::last_os_error() });
    }
    // SAFETY: n is fresh and ours.
    Ok(unsafe { OwnedFd::from_raw_fd(n) })
}

/// An output pump: the box writes into a pipe, the supervisor copies to the caller's sink.
struct Pump {
    stream: u8,
    read: File,
    sink: RawFd,
    bytes: u64,
    exceeded: bool,
    open: bool,
    /// False once the sink failed or stayed full past the wall deadline: output is then
    /// still read and counted, but dropped.
    sink_alive: bool,
}

/// Writes `data` to the caller's sink without ever blocking past `deadline`: in pieces no
/// larger than PIPE_BUF, each after poll says the sink has room. Returns whether the sink
/// took everything.
fn write_sink(sink: RawFd, data: &[u8], deadline: Instant) -> bool {
    let mut off = 0;
    while off < data.len() {
        let left = deadline.saturating_duration_since(Instant::now());
        let mut pfd = libc::pollfd { fd: sink, events: libc::POLLOUT, revents: 0 };
        // SAFETY: poll(2) on one pollfd on the stack.
        let n = unsafe { libc::poll(&mut pfd, 1, left.as_millis().min(i32::MAX as u128) as libc::c_int) };
        if n <= 0 || pfd.revents & (libc::POLLERR | libc::POLLHUP | libc::POLLNVAL) != 0 {
            if n < 0 && io::Error::last_os_error().raw_os_error() == Some(libc::EINTR) {
                continue;
            }
            return false;
        }
        let piece = (data.len() - off).min(libc::PIPE_BUF);
        // SAFETY: write(2) from our buffer to the caller's descriptor.
        let w = unsafe { libc::write(sink, data[off..].as_ptr().cast(), piece) };
        if w <= 0 {
            return false;
        }
        off += w as usize;
    }
    true
}

struct Stdio {
    /// What becomes the program's 0, 1, 2.
    child_fds: Vec<OwnedFd>,
    /// Output files on the host, checked against the output limit after the run.
    files: Vec<(u8, File)>,
    pumps: Vec<Pump>,
}

impl Stdio {
    fn open(spec: &RunSpec) -> Result<Self, Error> {
        let null = || {
            OpenOptions::new()
                .read(true)
                .write(true)
                .custom_flags(libc::O_CLOEXEC)
                .open("/dev/null")
                .map(OwnedFd::from)
                .map_err(|source| Error::Stdio { what: "/dev/null", path: "/dev/null".into(), source })
        };
        let mut child_fds = Vec::with_capacity(3);
        let mut files: Vec<(u8, File, PathBuf)> = Vec::new();
        let mut pumps = Vec::new();
        child_fds.push(match &spec.stdin {
            Input::Null => null()?,
            Input::File(p) => OwnedFd::from(open_input(p)?),
            Input::Fd(fd) => dup_high(*fd, "stdin")?,
            Input::Handed(h) => take_handed(h, "stdin")?,
        });
        for (stream, out, what) in [(1u8, &spec.stdout, "stdout file"), (2u8, &spec.stderr, "stderr file")] {
            child_fds.push(match out {
                Output::Null => null()?,
                Output::Fd(fd) => dup_high(*fd, what)?,
                Output::Handed(h) => take_handed(h, what)?,
                Output::File(p) => {
                    let id = std::fs::metadata(p).ok().map(|m| (m.dev(), m.ino()));
                    if let Some((_, f, _)) = files.iter().find(|(_, f, _)| id.is_some() && file_id(f) == id) {
                        // stdout and stderr to the same file (however spelled) share one offset.
                        f.try_clone().map(OwnedFd::from).map_err(os("duplicate an output file"))?
                    } else {
                        let f = open_output(p, what)?;
                        let fd = f.try_clone().map(OwnedFd::from).map_err(os("duplicate an output file"))?;
                        files.push((stream, f, p.clone()));
                        fd
                    }
                }
                Output::Pump(sink) => {
                    let (r, w) = pipe()?;
                    pumps.push(Pump {
                        stream,
                        read: File::from(r),
                        sink: *sink,
                        bytes: 0,
                        exceeded: false,
                        open: true,
                        sink_alive: true,
                    });
                    w
                }
            });
        }
        Ok(Stdio { child_fds, files: files.into_iter().map(|(s, f, _)| (s, f)).collect(), pumps })
    }
}

/// Takes a handed-over descriptor, moved above 2 (the child dup2s onto 0-2).
fn take_handed(h: &crate::spec::HandedFd, what: &'static str) -> Result<OwnedFd, Error> {
    let fd = h.take().ok_or_else(|| Error::Spec(format!("the {what} descriptor handed to this run was already used")))?;
    if fd.as_raw_fd() > 2 {
        return Ok(fd);
    }
    dup_high(fd.as_raw_fd(), what)
}

/// (device, inode) of an open file.
fn file_id(f: &File) -> Option<(u64, u64)> {
    f.metadata().ok().map(|m| (m.dev(), m.ino()))
}

/// Opens a stdin file without blocking on a FIFO (which would hang the run before any limit
/// is armed): only regular files and character devices are accepted.
fn open_input(p: &Path) -> Result<File, Error> {
    let what = "stdin file";
    let f = OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_CLOEXEC | libc::O_NONBLOCK)
        .open(p)
        .map_err(|source| Error::Stdio { what, path: p.to_owned(), source })?;
    let meta = f.metadata().map_err(|source| Error::Stdio { what, path: p.to_owned(), source })?;
    if !(meta.is_file() || meta.file_type().is_char_device()) {
        return Err(Error::NotRegular { what, path: p.to_owned() });
    }
    clear_nonblock(&f);
    Ok(f)
}

fn clear_nonblock(f: &File) {
    // SAFETY: fcntl on our own descriptor.
    unsafe {
        let fl = libc::fcntl(f.as_raw_fd(), libc::F_GETFL);
        libc::fcntl(f.as_raw_fd(), libc::F_SETFL, fl & !libc::O_NONBLOCK);
    }
}

/// Opens an output file without following a symlink and without blocking on a FIFO, and
/// refuses anything but a regular file.
fn open_output(p: &Path, what: &'static str) -> Result<File, Error> {
    let f = OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(false)
        .mode(0o644)
        .custom_flags(libc::O_CLOEXEC | libc::O_NOFOLLOW | libc::O_NONBLOCK)
        .open(p)
        .map_err(|source| match source.raw_os_error() {
            // O_NOFOLLOW on a symlink; O_NONBLOCK on a FIFO nobody reads.
            Some(libc::ELOOP) | Some(libc::ENXIO) => Error::NotRegular { what, path: p.to_owned() },
            _ => Error::Stdio { what, path: p.to_owned(), source },
        })?;
    let meta = f.metadata().map_err(|source| Error::Stdio { what, path: p.to_owned(), source })?;
    if !meta.is_file() {
        return Err(Error::NotRegular { what, path: p.to_owned() });
    }
    f.set_len(0).map_err(|source| Error::Stdio { what, path: p.to_owned(), source })?;
    clear_nonblock(&f);
    Ok(f)
}

/// Starts the box's init with clone3 in new pid and uts namespaces (and a new mount
/// namespace with `new_mount_ns`; otherwise init enters the template's), in this process's
/// memory (`CLONE_VM`, see [`crate::child`]) on its own stack. The returned box owns the plan
/// and the stacks until init has been reaped.
fn clone_box<'a>(
    plan: Box<ChildPlan>,
    new_mount_ns: bool,
    stacks: ChildStacks,
    pool: &'a Mutex<Vec<ChildStacks>>,
) -> Result<RunningBox<'a>, Error> {
    let mut pidfd: libc::c_int = -1;
    // SAFETY: clone_args is plain data; zero is valid for every field.
    let mut args: libc::clone_args = unsafe { std::mem::zeroed() };
    // The IPC namespace comes made, with the network namespace (see `netns`).
    args.flags = (libc::CLONE_NEWPID | libc::CLONE_NEWUTS | libc::CLONE_PIDFD | libc::CLONE_VM) as u64;
    if new_mount_ns {
        args.flags |= libc::CLONE_NEWNS as u64;
    }
    args.pidfd = &mut pidfd as *mut libc::c_int as u64;
    args.exit_signal = libc::SIGCHLD as u64;
    let (stack, stack_size) = stacks.init_stack();
    args.stack = stack as u64;
    args.stack_size = stack_size as u64;
    // With `plan.affinity`, init starts on this CPU (the child inherits this thread's affinity),
    // where it runs as soon as this thread waits: a new task goes to an idle CPU, and waking an
    // idle virtual CPU costs hundreds of microseconds on a VM, more than init's part of the
    // start on the template. The program starts there too and restores the affinity right
    // before exec; init restores it once the program runs. This thread's own affinity is back
    // as soon as clone3 returns.
    let pinned = plan.affinity.as_ref().and_then(PinnedHere::pin);
    // Init starts with every signal blocked, so that no handler of this process ever runs in
    // it (raw calls: glibc's wrappers would leave its internal signals unblocked).
    let all: u64 = !0;
    let mut old: u64 = 0;
    // SAFETY: rt_sigprocmask(2) of this thread with 8-byte masks on the stack.
    unsafe { libc::syscall(libc::SYS_rt_sigprocmask, libc::SIG_SETMASK, &all as *const u64, &mut old as *mut u64, 8) };
    // SAFETY: the child runs `init_entry` on the stacks' init stack, in this memory; it reads
    // only the plan, which this function moves into the returned box unchanged (a Box: the
    // address stays), and the box keeps plan and stacks until init is reaped.
    let res = unsafe {
        child::sys::clone3_on_stack(&mut args, child::init_entry, &*plan as *const ChildPlan as *const libc::c_void)
    };
    // SAFETY: as above, restoring the saved mask.
    unsafe { libc::syscall(libc::SYS_rt_sigprocmask, libc::SIG_SETMASK, &old as *const u64, std::ptr::null_mut::<u64>(), 8) };
    drop(pinned);
    if let Err(errno) = res {
        pool.lock().unwrap_or_else(|p| p.into_inner()).push(stacks);
        return Err(Error::Os {
            op: "clone3 the box's init into new namespaces",
            source: io::Error::from_raw_os_error(errno),
        });
    }
    Ok(RunningBox {
        // SAFETY: the kernel stored a fresh pidfd for us.
        pidfd: unsafe { OwnedFd::from_raw_fd(pidfd) },
        reaped: false,
        plan,
        stacks: Some(stacks),
        pool,
    })
}

/// This thread's CPU affinity, if it can be read (at most 1024 CPUs).
fn current_affinity() -> Option<libc::cpu_set_t> {
    // SAFETY: cpu_set_t is plain data; sched_getaffinity(2) fills it.
    let mut mask: libc::cpu_set_t = unsafe { std::mem::zeroed() };
    let rc = unsafe { libc::sched_getaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &mut mask) };
    (rc == 0).then_some(mask)
}

/// This thread, pinned to the CPU it runs on until dropped (then back to `saved`).
struct PinnedHere<'a> {
    saved: &'a libc::cpu_set_t,
}

impl<'a> PinnedHere<'a> {
    fn pin(saved: &'a libc::cpu_set_t) -> Option<Self> {
        // SAFETY: sched_getcpu(3) has no memory effects.
        let cpu = unsafe { libc::sched_getcpu() };
        if cpu < 0 || cpu as usize >= libc::CPU_SETSIZE as usize {
            return None;
        }
        // SAFETY: cpu_set_t is plain data; CPU_SET within its size (checked above);
        // sched_setaffinity(2) of this thread.
        let rc = unsafe {
            let mut one: libc::cpu_set_t = std::mem::zeroed();
            libc::CPU_SET(cpu as usize, &mut one);
            libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &one)
        };
        (rc == 0).then_some(PinnedHere { saved })
    }
}

impl Drop for PinnedHere<'_> {
    fn drop(&mut self) {
        // SAFETY: sched_setaffinity(2) of this thread back to the mask it had.
        unsafe { libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), self.saved) };
    }
}

/// The box's init, tracked by pidfd. Dropping it kills and reaps the box, then gives the
/// stacks back (and frees the plan) that init and the program ran on.
struct RunningBox<'a> {
    pidfd: OwnedFd,
    reaped: bool,
    /// Read by init and the program in place: never changed until they are gone (only its
    /// atomic `cgroup_entry` is read meanwhile).
    plan: Box<ChildPlan>,
    stacks: Option<ChildStacks>,
    pool: &'a Mutex<Vec<ChildStacks>>,
}

impl RunningBox<'_> {
    /// How the program entered the box's cgroup (known once it has exec'd).
    fn cgroup_entry(&self) -> CgroupEntry {
        match self.plan.cgroup_entry.load(Ordering::Acquire) {
            child::ENTRY_CLONE_INTO_CGROUP => CgroupEntry::CloneIntoCgroup,
            _ => CgroupEntry::CgroupProcs,
        }
    }

    fn kill(&self) {
        if !self.reaped {
            // SAFETY: pidfd_send_signal(2) on our pidfd; killing a pid namespace's init kills
            // every process in the namespace.
            unsafe { libc::syscall(libc::SYS_pidfd_send_signal, self.pidfd.as_raw_fd(), libc::SIGKILL, 0usize, 0u32) };
        }
    }

    /// Waits for init, which has exited or been killed.
    fn reap(&mut self) {
        if self.reaped {
            return;
        }
        // SAFETY: siginfo_t is plain data; waitid(P_PIDFD) on our own child.
        let mut info: libc::siginfo_t = unsafe { std::mem::zeroed() };
        loop {
            let rc = unsafe {
                libc::waitid(libc::P_PIDFD, self.pidfd.as_raw_fd() as libc::id_t, &mut info, libc::WEXITED | libc::__WALL)
            };
            if rc == 0 || io::Error::last_os_error().raw_os_error() != Some(libc::EINTR) {
                break;
            }
        }
        self.reaped = true;
    }

    fn kill_and_reap(&mut self) {
        self.kill();
        self.reap();
    }
}

impl Drop for RunningBox<'_> {
    fn drop(&mut self) {
        self.kill_and_reap();
        // Init is reaped: nothing runs on the stacks any more (the program, in init's pid
        // namespace, died or exec'd before init could be reaped).
        if let Some(s) = self.stacks.take() {
            self.pool.lock().unwrap_or_else(|p| p.into_inner()).push(s);
        }
    }
}

/// Why the supervisor killed the box.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum KillReason {
    CpuTime,
    WallTime,
    Output,
}

struct Watch<'a, 'p> {
    sb: &'a Sandbox,
    spec: &'a RunSpec,
    cg: &'a BoxCgroup,
    running: RunningBox<'p>,
    err_r: OwnedFd,
    failure: Vec<u8>,
    pumps: Vec<Pump>,
    cancel: Option<&'a CancelToken>,
    /// Init writes the program's wait status here the moment the program is reaped.
    status_r: File,
    status_open: bool,
    wait_status: Option<i32>,
    /// When init reaped the program (CLOCK_MONOTONIC ns), from the status message.
    ended_ns: Option<u64>,
    clone_time: Instant,
    exec_time: Option<Instant>,
    /// When the program ended (its status arrived), or when init did if it never came.
    end_time: Option<Instant>,
    /// The watch ended while the box's init was still exiting (all else of the box gone).
    init_exiting: bool,
    kill_reason: Option<KillReason>,
    /// How the box's processes were killed, if the watch killed them.
    kill_method: Option<KillMethod>,
}

const PUMP_CHUNK: usize = 64 * 1024;

impl Watch<'_, '_> {
    fn ncpus(&self) -> u32 {
        self.spec.cpus.as_ref().map(|c| c.len() as u32).unwrap_or(self.sb.online_cpus).max(1)
    }

    fn kill(&mut self, reason: KillReason) {
        self.kill_reason.get_or_insert(reason);
        self.kill_box();
    }

    /// Kills the box through its cgroup (every process of the program, forking or not), then
    /// its init (which ends the pid namespace).
    fn kill_box(&mut self) {
        match self.cg.kill() {
            Ok(Some(m)) => {
                self.kill_method.get_or_insert(m);
            }
            Ok(None) => {}
            Err(e) => tracing::error!(error = %e, "kill the box through its cgroup"),
        }
        self.running.kill();
    }

    /// Watches the box until init has exited (and has been reaped).
    fn watch(&mut self) -> Result<(), Error> {
        let limits = self.spec.limits.clone();
        let cpu_limit_ns = limits.cpu_time.as_nanos() as u64;
        let mut err_open = true;
        let mut buf = vec![0u8; PUMP_CHUNK];
        let mut next_cpu_check = self.clone_time;
        loop {
            let now = Instant::now();
            // Deadlines: setup before exec; wall and CPU after.
            let mut timeout = match self.exec_time {
                None => (self.clone_time + SETUP_TIMEOUT).saturating_duration_since(now),
                Some(t) if self.kill_reason.is_none() && self.wait_status.is_none() => {
                    let wall_left = (t + limits.wall_time).saturating_duration_since(now);
                    wall_left.min(next_cpu_check.saturating_duration_since(now))
                }
                Some(_) => Duration::from_millis(100),
            };
            if self.exec_time.is_some() && self.kill_reason.is_none() && self.wait_status.is_none() {
                if now >= next_cpu_check {
                    let used = self.cg.cpu_usage_ns()?;
                    if used >= cpu_limit_ns {
                        self.kill(KillReason::CpuTime);
                        continue;
                    }
                    // The box cannot burn more than ncpus × wall time: sleep until it could
                    // have reached the limit, but look at least every 1 ms near the end.
                    let left = Duration::from_nanos((cpu_limit_ns - used) / self.ncpus() as u64);
                    next_cpu_check = now + left.max(Duration::from_millis(1));
                    continue;
                }
                if timeout.is_zero() {
                    self.kill(KillReason::WallTime);
                    continue;
                }
            } else if self.exec_time.is_none() && timeout.is_zero() {
                self.running.kill_and_reap();
                return Err(Error::SetupTimeout(SETUP_TIMEOUT));
            }
            timeout = timeout.max(Duration::from_micros(100));

            let mut fds: Vec<libc::pollfd> = Vec::with_capacity(4 + self.pumps.len());
            let pfd = |fd: RawFd| libc::pollfd { fd, events: libc::POLLIN, revents: 0 };
            fds.push(pfd(self.running.pidfd.as_raw_fd()));
            fds.push(pfd(if err_open { self.err_r.as_raw_fd() } else { -1 }));
            fds.push(pfd(self.cancel.map(|c| c.fd()).unwrap_or(-1)));
            fds.push(pfd(if self.status_open { self.status_r.as_raw_fd() } else { -1 }));
            for p in &self.pumps {
                fds.push(pfd(if p.open { p.read.as_raw_fd() } else { -1 }));
            }
            let ms = timeout.as_micros().div_ceil(1000).min(i32::MAX as u128) as libc::c_int;
            // SAFETY: poll(2) on a correctly sized array of pollfd.
            let n = unsafe { libc::poll(fds.as_mut_ptr(), fds.len() as libc::nfds_t, ms) };
            if n < 0 {
                let e = io::Error::last_os_error();
                if e.raw_os_error() == Some(libc::EINTR) {
                    continue;
                }
                return Err(Error::Os { op: "poll the box", source: e });
            }
            if fds[1].revents != 0 {
                err_open = self.read_failure()?;
                if !err_open && self.failure.is_empty() {
                    self.exec_time = Some(Instant::now());
                    next_cpu_check = Instant::now();
                    self.cg.arm_group_oom_kill()?;
                }
                if self.failure.len() >= FAILURE_LEN {
                    self.running.kill_and_reap();
                    return Ok(());
                }
            }
            if fds[3].revents != 0 {
                self.read_status()?;
            }
            for i in 0..self.pumps.len() {
                if fds[4 + i].revents != 0 {
                    self.pump(i, &mut buf)?;
                }
            }
            if fds[2].revents != 0 {
                self.kill_box();
                self.running.reap();
                return Err(Error::Cancelled);
            }
            if fds[0].revents == 0 && self.wait_status.is_some() && self.exec_time.is_some() && self.cg.is_empty()? {
                // The program has ended and nothing else of the box is left (everything the
                // program started is in the box's cgroup, and only it can start anything there):
                // the box's init is only exiting, tearing down the namespaces. The run measures
                // and removes the cgroup meanwhile, and reaps init before it returns. The pipes'
                // writers are all gone: drain what is left.
                self.init_exiting = true;
                for i in 0..self.pumps.len() {
                    while self.pumps[i].open {
                        self.pump(i, &mut buf)?;
                    }
                }
                return Ok(());
            }
            if fds[0].revents != 0 {
                self.end_time.get_or_insert_with(Instant::now);
                self.running.reap();
                while self.status_open {
                    self.read_status()?;
                }
                // Every writer is dead now: drain what is left.
                if err_open {
                    while self.read_failure()? {}
                }
                if self.exec_time.is_none() && self.failure.is_empty() {
                    self.exec_time = self.end_time;
                }
                for i in 0..self.pumps.len() {
                    while self.pumps[i].open {
                        self.pump(i, &mut buf)?;
                    }
                }
                return Ok(());
            }
        }
    }

    /// Reads the program's wait status and end time (once) or EOF from the status pipe.
    fn read_status(&mut self) -> Result<(), Error> {
        let mut b = [0u8; STATUS_LEN];
        match self.status_r.read(&mut b) {
            Ok(STATUS_LEN) => {
                self.wait_status = Some(i32::from_ne_bytes(b[0..4].try_into().expect("4 bytes")));
                self.ended_ns = Some(u64::from_ne_bytes(b[4..12].try_into().expect("8 bytes")));
                self.end_time = Some(Instant::now());
            }
            Ok(0) => self.status_open = false,
            // A partial status cannot happen for a write of under PIPE_BUF bytes to a pipe.
            Ok(_) => self.status_open = false,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(Error::Os { op: "read the box's status pipe", source: e }),
        }
        Ok(())
    }

    /// Reads from the failure pipe; returns whether it is still open.
    fn read_failure(&mut self) -> Result<bool, Error> {
        let mut b = [0u8; FAILURE_LEN];
        loop {
            // SAFETY: read(2) into a stack buffer.
            let n = unsafe { libc::read(self.err_r.as_raw_fd(), b.as_mut_ptr().cast(), b.len()) };
            if n < 0 {
                let e = io::Error::last_os_error();
                if e.raw_os_error() == Some(libc::EINTR) {
                    continue;
                }
                return Err(Error::Os { op: "read the box's failure pipe", source: e });
            }
            if n == 0 {
                return Ok(false);
            }
            self.failure.extend_from_slice(&b[..n as usize]);
            return Ok(true);
        }
    }

    /// Copies one chunk of a pumped stream to its sink, enforcing the output limit.
    fn pump(&mut self, i: usize, buf: &mut [u8]) -> Result<(), Error> {
        let limit = self.spec.limits.output_bytes;
        let deadline = self.exec_time.unwrap_or(self.clone_time) + self.spec.limits.wall_time;
        let p = &mut self.pumps[i];
        let n = match p.read.read(buf) {
            Ok(0) => {
                p.open = false;
                return Ok(());
            }
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => return Ok(()),
            Err(e) => return Err(Error::Os { op: "read the box's output pipe", source: e }),
        };
        let room = limit.saturating_sub(p.bytes) as usize;
        let keep = n.min(room);
        if keep > 0 && p.sink_alive {
            p.sink_alive = write_sink(p.sink, &buf[..keep], deadline);
        }
        p.bytes += n as u64;
        if p.bytes > limit && !p.exceeded {
            p.exceeded = true;
            self.kill(KillReason::Output);
        }
        Ok(())
    }
}

/// What the cgroup says the box used.
struct Measured {
    cpu_ns: u64,
    memory_bytes: u64,
    oom_kills: u64,
    pids_peak: Option<u64>,
}

fn measure(cg: &BoxCgroup) -> Result<Measured, CgroupError> {
    Ok(Measured {
        cpu_ns: cg.cpu_usage_ns()?,
        memory_bytes: cg.memory_peak_bytes()?,
        oom_kills: cg.oom_kills()?,
        pids_peak: cg.pids_peak(),
    })
}

/// Everything that decides the status.
struct Verdict<'a> {
    wait_status: Option<i32>,
    kill_reason: Option<KillReason>,
    output_exceeded: bool,
    measured: &'a Result<Measured, CgroupError>,
    limits: &'a crate::spec::Limits,
}

impl Verdict<'_> {
    fn decide(&self) -> (Status, String) {
        let m = match self.measured {
            Ok(m) => m,
            Err(e) => return (Status::SandboxError, format!("could not read the box's accounting: {e}")),
        };
        let secs = |ns: u64| ns as f64 / 1e9;
        let cpu_limit_ns = self.limits.cpu_time.as_nanos() as u64;
        if m.cpu_ns >= cpu_limit_ns || self.kill_reason == Some(KillReason::CpuTime) {
            return (
                Status::TimeLimit,
                format!("CPU time limit of {:.3} s exceeded (used {:.3} s)", secs(cpu_limit_ns), secs(m.cpu_ns)),
            );
        }
        if m.oom_kills > 0 {
            return (
                Status::MemoryLimit,
                format!("memory limit of {} bytes exceeded: the kernel OOM-killed {} process(es)", self.limits.memory_bytes, m.oom_kills),
            );
        }
        let sigxfsz = self.wait_status.is_some_and(|s| libc::WIFSIGNALED(s) && libc::WTERMSIG(s) == libc::SIGXFSZ);
        if self.output_exceeded || sigxfsz || self.kill_reason == Some(KillReason::Output) {
            return (Status::OutputLimit, format!("output limit of {} bytes exceeded", self.limits.output_bytes));
        }
        if self.kill_reason == Some(KillReason::WallTime) {
            return (
                Status::WallTimeLimit,
                format!("wall time limit of {:.3} s exceeded", self.limits.wall_time.as_secs_f64()),
            );
        }
        match self.wait_status {
            Some(s) if libc::WIFEXITED(s) && libc::WEXITSTATUS(s) == 0 => (Status::Ok, "exited with code 0".into()),
            Some(s) if libc::WIFEXITED(s) => (Status::NonzeroExit, format!("exited with code {}", libc::WEXITSTATUS(s))),
            Some(s) if libc::WIFSIGNALED(s) => {
                let sig = libc::WTERMSIG(s);
                (Status::Signaled, format!("killed by signal {sig} ({})", signal_name(sig)))
            }
            _ => (Status::SandboxError, "the box's init ended without reporting the program's status".into()),
        }
    }
}

pub fn signal_name(sig: i32) -> &'static str {
    match sig {
        libc::SIGHUP => "SIGHUP",
        libc::SIGINT => "SIGINT",
        libc::SIGQUIT => "SIGQUIT",
        libc::SIGILL => "SIGILL",
        libc::SIGTRAP => "SIGTRAP",
        libc::SIGABRT => "SIGABRT",
        libc::SIGBUS => "SIGBUS",
        libc::SIGFPE => "SIGFPE",
        libc::SIGKILL => "SIGKILL",
        libc::SIGUSR1 => "SIGUSR1",
        libc::SIGSEGV => "SIGSEGV",
        libc::SIGUSR2 => "SIGUSR2",
        libc::SIGPIPE => "SIGPIPE",
        libc::SIGALRM => "SIGALRM",
        libc::SIGTERM => "SIGTERM",
        libc::SIGXCPU => "SIGXCPU",
        libc::SIGXFSZ => "SIGXFSZ",
        libc::SIGSYS => "SIGSYS",
        _ => "signal",
    }
}
