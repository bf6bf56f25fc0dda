//! The box's cgroup: limits, accounting, kill and removal, on cgroup v1 and v2 behind one type.
//!
//! Why not cgroups-rs: it creates a cgroup in every mounted v1 subsystem (cpuset included,
//! which then needs extra writes before a task may join), it cannot be pointed at a fake
//! cgroupfs for the unit tests, and on v2 it cannot report OOM kills (`memory.events`) or the
//! memory peak (`memory.peak`), which are exactly the numbers a judge needs. What we need is a
//! handful of file writes and reads, so this module does them directly: one table of file names
//! per version (`v1.rs`, `v2.rs`) and the shared logic here.

mod v1;
mod v2;

use std::ffi::CString;
use std::fs::{self, File, OpenOptions};
use std::io;
use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use std::os::unix::fs::{FileExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

pub use crate::report::KillMethod;

/// Name of the directory, in each hierarchy, under which the boxes' cgroups live.
pub const BASE_NAME: &str = "judge";
/// Prefix of a box's cgroup name; the rest is the slot number.
pub const BOX_PREFIX: &str = "box-";
/// cgroup v2, delegated mode: the leaf under the delegated cgroup that a judge started in that
/// cgroup itself moves into (a cgroup with processes can enable no controllers for children).
pub const SUPERVISOR_NAME: &str = "supervisor";
/// Environment variable naming the delegated cgroup v2 directory the boxes go under.
pub const CGROUP_ENV: &str = "JUDGE_CGROUP";
pub(crate) const PROCS_FILE: &str = "cgroup.procs";

/// Which cgroup interface the host offers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CgroupVersion {
    V1,
    V2,
}

#[derive(Debug, thiserror::Error)]
pub enum CgroupError {
    #[error("no usable cgroup hierarchy: {0} (the sandbox needs the memory, cpuacct and pids controllers on cgroup v1, or memory and pids on a cgroup2 mount; it never runs a program without them)")]
    Unavailable(String),
    #[error("read /proc/self/mountinfo: {0}")]
    MountInfo(io::Error),
    #[error("create cgroup {path}: {source}")]
    Create { path: PathBuf, source: io::Error },
    #[error("write {value:?} to {path}: {source}")]
    Write { path: PathBuf, value: String, source: io::Error },
    #[error("read {path}: {source}")]
    Read { path: PathBuf, source: io::Error },
    #[error("read {path}: no {key:?} in {content:?}")]
    Parse { path: PathBuf, key: String, content: String },
    #[error("remove cgroup {path}: {source}")]
    Remove { path: PathBuf, source: io::Error },
    #[error("kill the processes of cgroup {path}: still busy after {waited:?}")]
    KillTimeout { path: PathBuf, waited: Duration },
    #[error("the delegated cgroup {path} lacks the {missing} controller(s) (its cgroup.controllers: {available:?}), and the sandbox never runs a program without them: delegate them to it (systemd: Delegate=yes or Delegate=memory pids on the unit; by hand: echo '+memory +pids' > {parent}/cgroup.subtree_control)")]
    NotDelegated { path: PathBuf, missing: String, available: String, parent: PathBuf },
    #[error("the delegated cgroup {path} holds other processes ({pids}) besides this judge (pid {own}): cgroup v2 lets a cgroup with processes enable no controllers for its children; start judge in a cgroup of its own (systemd-run --scope -p Delegate=yes judge ...), or name an empty one with {env}=PATH")]
    Occupied { path: PathBuf, pids: String, own: u32, env: &'static str },
    #[error("read the extended attribute {name} of cgroup {path}: {source}")]
    Xattr { path: PathBuf, name: &'static str, source: io::Error },
    #[error("{what} {path}: {why}")]
    BadDelegation { what: &'static str, path: PathBuf, why: String },
    #[error("swap is active on this host and {path} is missing (kernel booted without swap accounting): swap could extend the memory limit, so the sandbox refuses to run")]
    SwapUncontrolled { path: PathBuf },
}

type Result<T> = std::result::Result<T, CgroupError>;

/// What the box's cgroup enforces.
#[derive(Clone, Debug, PartialEq)]
pub struct CgroupLimits {
    pub memory_bytes: u64,
    /// `pids.max`: every process and thread in the box's cgroup (the program and what it
    /// starts; the box's init stays outside).
    pub pids_max: u32,
    /// `cpuset.cpus` in the kernel's list format ("0", "0-1,3"), or `None` for no cpuset.
    pub cpus: Option<String>,
}

/// The cgroup hierarchies of this host and where the boxes go in them.
#[derive(Clone, Debug)]
pub struct Hierarchy {
    version: CgroupVersion,
    /// v1: (controller, base directory) for each controller used; v2: one entry ("", base).
    bases: Vec<(&'static str, PathBuf)>,
    /// v1 only: the cpuset hierarchy's base, used when a run is pinned.
    cpuset_base: Option<PathBuf>,
    /// Unit tests run against plain directories: files are created on write and removing a
    /// box removes its files too.
    fake: bool,
    /// v2: the base is a cgroup handed to the judge (delegated mode), not `<root>/judge`: its
    /// parent is not ours to write.
    delegated: bool,
}

impl Hierarchy {
    /// Finds the cgroup hierarchies from /proc/self/mountinfo. A host with the v1 memory
    /// controller mounted is driven as v1 (hybrid hosts included); otherwise the cgroup2 mount
    /// must offer memory and pids.
    ///
    /// On cgroup v2 the boxes go under a delegated cgroup (see [`Hierarchy::v2_delegated`])
    /// when one is named (`$JUDGE_CGROUP`), else by the judge's own cgroup from
    /// /proc/self/cgroup: a cgroup namespace's root (a container) or a cgroup with systemd's
    /// delegation mark (`trusted.delegate`, `Delegate=yes`) is used as the delegated cgroup, a
    /// `supervisor` leaf made by an earlier judge means its parent, and anything else (the real
    /// root, a login session's scope) means `<root>/judge`.
    pub fn detect() -> Result<Self> {
        Self::detect_with(None)
    }

    /// As [`Hierarchy::detect`], with the delegated cgroup given explicitly (before
    /// `$JUDGE_CGROUP`).
    pub fn detect_with(delegated: Option<&Path>) -> Result<Self> {
        let explicit = delegated
            .map(Path::to_path_buf)
            .or_else(|| std::env::var_os(CGROUP_ENV).filter(|v| !v.is_empty()).map(PathBuf::from));
        let mountinfo = fs::read_to_string("/proc/self/mountinfo").map_err(CgroupError::MountInfo)?;
        let mounts = parse_cgroup_mounts(&mountinfo);
        if mounts.iter().any(|m| m.v1_controllers.iter().any(|c| c == "memory")) {
            if let Some(p) = explicit {
                return Err(CgroupError::BadDelegation {
                    what: "delegated cgroup",
                    path: p,
                    why: "this host drives the boxes through cgroup v1 controllers; a delegated cgroup is a cgroup v2 feature".into(),
                });
            }
            return v1::hierarchy(&mounts);
        }
        match mounts.iter().find(|m| m.is_v2) {
            Some(m) => v2::detect(&m.mount_point, explicit),
            None => Err(CgroupError::Unavailable("no cgroup or cgroup2 filesystem is mounted".into())),
        }
    }

    /// cgroup v2, delegated mode: the boxes go directly under `base` (`base/box-N`), a cgroup
    /// handed to the judge (systemd `Delegate=yes`, a container's cgroup). `base` must offer
    /// the memory and pids controllers. `own` is the judge's own cgroup: when it is `base`
    /// itself, the judge moves into the leaf `base/supervisor` (it must be the only process
    /// there), so that `base` may enable controllers for its children.
    pub fn v2_delegated(base: &Path, own: &Path, fake: bool) -> Result<Self> {
        v2::delegated(base, own, fake)
    }

    /// The directory the boxes' cgroups are made in (v1: the memory hierarchy's).
    pub fn base(&self) -> &Path {
        &self.bases[0].1
    }

    /// A v2 hierarchy rooted at `root` (a cgroup2 mount or a delegated subtree of one), or, with
    /// `fake`, at a plain directory for tests.
    pub fn v2_at(root: &Path, fake: bool) -> Result<Self> {
        v2::hierarchy(root, fake)
    }

    /// A v1 hierarchy with the given controller mount points (tests and unusual layouts).
    pub fn v1_at(mounts: &[(&'static str, PathBuf)], fake: bool) -> Result<Self> {
        let mut h = v1::from_mount_points(mounts)?;
        h.fake = fake;
        Ok(h)
    }

    pub fn version(&self) -> CgroupVersion {
        self.version
    }

    /// The directories a box of this name has (or would have).
    pub fn box_dirs(&self, name: &str) -> Vec<PathBuf> {
        self.bases.iter().map(|(_, b)| b.join(name)).collect()
    }

    /// Names of the box cgroups that exist now (live or left over). Only the first hierarchy
    /// (v1: memory) is listed: a box's directory there is made first and removed last, so every
    /// box that has any directory has that one.
    pub fn existing_boxes(&self) -> Vec<String> {
        let mut names: Vec<String> = Vec::new();
        for (_, base) in self.bases.iter().take(1) {
            let Ok(entries) = fs::read_dir(base) else { continue };
            for e in entries.flatten() {
                let n = e.file_name().to_string_lossy().into_owned();
                // The entry's type from the directory listing itself (no stat per entry).
                let is_dir = e.file_type().map(|t| t.is_dir()).unwrap_or(false);
                if n.starts_with(BOX_PREFIX) && is_dir && !names.contains(&n) {
                    names.push(n);
                }
            }
        }
        names
    }

    /// Kills whatever is left in the box cgroup `name` and removes it: for cgroups left behind by
    /// a supervisor that was SIGKILLed. The caller must own the box's slot.
    pub fn sweep(&self, name: &str) -> Result<()> {
        let mut dirs = self.box_dirs(name);
        if let Some(c) = &self.cpuset_base {
            dirs.push(c.join(name));
        }
        let dirs: Vec<PathBuf> = dirs.into_iter().filter(|d| d.is_dir()).collect();
        if dirs.is_empty() {
            return Ok(());
        }
        tracing::info!(box_name = name, "sweeping a leftover box cgroup");
        let cg = BoxCgroup::adopt(self, name, dirs);
        cg.kill_all()?;
        cg.remove()
    }

    /// Where the program of box `name` joins the box's cgroup: the base directory of every
    /// hierarchy the box will have a directory in (made if missing), opened before the box
    /// exists. The program, cloned by the box's init after [`Hierarchy::create_box`], opens
    /// [`JoinPoints::procs`] relative to each and writes `0` there: it joins by itself, and the
    /// box's init is never in the box's cgroup (it shares the supervisor's memory, and an OOM
    /// kill of a process kills every process that shares its memory).
    pub fn join_points(&self, name: &str, cpuset: bool) -> Result<JoinPoints> {
        let mut bases: Vec<&Path> = self.bases.iter().map(|(_, b)| b.as_path()).collect();
        if cpuset {
            if let Some(c) = &self.cpuset_base {
                bases.push(c);
            }
        }
        let mut dirs = Vec::with_capacity(bases.len());
        for base in bases {
            let open = || {
                OpenOptions::new()
                    .read(true)
                    .custom_flags(libc::O_PATH | libc::O_DIRECTORY | libc::O_CLOEXEC)
                    .open(base)
            };
            let dir = match open() {
                Err(e) if e.kind() == io::ErrorKind::NotFound => {
                    self.make_base(base)?;
                    open()
                }
                other => other,
            };
            dirs.push(OwnedFd::from(dir.map_err(|source| CgroupError::Read { path: base.to_owned(), source })?));
        }
        let procs = CString::new(format!("{name}/{PROCS_FILE}"))
            .map_err(|_| CgroupError::Unavailable(format!("box name {name:?} contains a NUL byte")))?;
        // Not for a pinned run: before Linux 6.3 (and its stable backports), a task cloned into
        // a cpuset cgroup kept its parent's CPUs; the write applies the cpuset everywhere.
        let clone_into = match self.version {
            CgroupVersion::V2 if !cpuset => CString::new(name).ok(),
            _ => None,
        };
        Ok(JoinPoints { dirs, procs, clone_into })
    }

    /// Creates a base directory (`judge`) of the boxes (delegated v2: enables the controllers
    /// in the delegated cgroup).
    fn make_base(&self, base: &Path) -> Result<()> {
        match self.version {
            CgroupVersion::V1 => self.mkdir(base),
            CgroupVersion::V2 => v2::make_base(self, false),
        }
    }

    /// Creates the box's cgroup with its limits, ready for its program to join (see
    /// [`Hierarchy::join_points`]).
    pub fn create_box(&self, name: &str, limits: &CgroupLimits) -> Result<BoxCgroup> {
        match self.version {
            CgroupVersion::V1 => v1::create_box(self, name, limits),
            CgroupVersion::V2 => v2::create_box(self, name, limits),
        }
    }

    fn write(&self, path: &Path, value: &str) -> Result<()> {
        write_file(path, value, self.fake)
    }

    /// Opens a figure file of a box (in fake mode, creating it empty when missing).
    fn stat(&self, path: PathBuf) -> Result<StatFile> {
        if self.fake && !path.exists() {
            self.write(&path, "")?;
        }
        StatFile::open(path)
    }

    fn mkdir(&self, path: &Path) -> Result<()> {
        match fs::create_dir(path) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => Ok(()),
            Err(source) => Err(CgroupError::Create { path: path.to_owned(), source }),
        }
    }

    /// Creates a box's directory under `base`, and `base` first only when it is missing (it
    /// is there for every run but the first).
    fn mkdir_under(&self, base: &Path, dir: &Path) -> Result<()> {
        match fs::create_dir(dir) {
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                self.make_base(base)?;
                self.mkdir(dir)
            }
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => Ok(()),
            Err(source) => Err(CgroupError::Create { path: dir.to_owned(), source }),
            Ok(()) => Ok(()),
        }
    }

    /// Writes a limit file that only some kernels have (swap limits): `Ok(false)` if it is
    /// not there.
    fn write_if_present(&self, path: &Path, value: &str) -> Result<bool> {
        if self.fake {
            return self.write(path, value).map(|()| true);
        }
        match OpenOptions::new().write(true).open(path) {
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(false),
            res => res
                .and_then(|f| f.write_at(value.as_bytes(), 0))
                .map(|_| true)
                .map_err(|source| CgroupError::Write { path: path.to_owned(), value: value.to_owned(), source }),
        }
    }
}

fn write_file(path: &Path, value: &str, create: bool) -> Result<()> {
    let res = OpenOptions::new().write(true).create(create).truncate(create).open(path).and_then(|f| {
        f.write_at(value.as_bytes(), 0)?;
        Ok(())
    });
    res.map_err(|source| CgroupError::Write { path: path.to_owned(), value: value.to_owned(), source })
}

fn open_read(path: &Path) -> Result<File> {
    File::open(path).map_err(|source| CgroupError::Read { path: path.to_owned(), source })
}

/// The base directories a box's program joins the box's cgroup through, and the path of the
/// box's `cgroup.procs` relative to each (see [`Hierarchy::join_points`]).
#[derive(Debug)]
pub struct JoinPoints {
    dirs: Vec<OwnedFd>,
    procs: CString,
    clone_into: Option<CString>,
}

impl JoinPoints {
    /// The base directories (`O_PATH`, close-on-exec).
    pub fn dirs(&self) -> Vec<RawFd> {
        self.dirs.iter().map(|d| d.as_raw_fd()).collect()
    }

    /// `box-N/cgroup.procs`, relative to each directory.
    pub fn procs(&self) -> &CString {
        &self.procs
    }

    /// cgroup v2: the box's directory (`box-N`) relative to the one base directory, for
    /// starting the program in it with `clone3(CLONE_INTO_CGROUP)`; `None` where the program
    /// must join by writing its `cgroup.procs` (v1, or a run pinned to CPUs).
    pub fn clone_into(&self) -> Option<&CString> {
        self.clone_into.as_ref()
    }
}

/// A cgroup file kept open and re-read with `pread` (kernfs regenerates it at offset 0).
#[derive(Debug)]
struct StatFile {
    path: PathBuf,
    file: File,
}

impl StatFile {
    fn open(path: PathBuf) -> Result<Self> {
        let file = open_read(&path)?;
        Ok(StatFile { path, file })
    }

    /// Reads the whole file into `buf` without allocating; returns the text.
    fn read<'a>(&self, buf: &'a mut [u8; 512]) -> Result<&'a str> {
        let n = self
            .file
            .read_at(buf, 0)
            .map_err(|source| CgroupError::Read { path: self.path.clone(), source })?;
        Ok(std::str::from_utf8(&buf[..n]).unwrap_or(""))
    }

    /// The file holds one number.
    fn read_u64(&self) -> Result<u64> {
        let mut buf = [0u8; 512];
        let text = self.read(&mut buf)?;
        text.trim().parse().map_err(|_| self.parse_error("a number", text))
    }

    /// The file holds "key value" lines; returns the value of `key`.
    fn read_key(&self, key: &str) -> Result<u64> {
        let mut buf = [0u8; 512];
        let text = self.read(&mut buf)?;
        parse_key(text, key).ok_or_else(|| self.parse_error(key, text))
    }

    fn parse_error(&self, key: &str, content: &str) -> CgroupError {
        CgroupError::Parse { path: self.path.clone(), key: key.to_owned(), content: content.to_owned() }
    }
}

fn parse_key(text: &str, key: &str) -> Option<u64> {
    text.lines().find_map(|l| {
        let mut it = l.split_whitespace();
        (it.next() == Some(key)).then(|| it.next()?.parse().ok()).flatten()
    })
}

/// The cgroup of one box. Dropping it kills what is left in it and removes it.
#[derive(Debug)]
pub struct BoxCgroup {
    version: CgroupVersion,
    fake: bool,
    /// Every directory of the box, one per v1 hierarchy (memory first) or the one v2 directory.
    /// The first is made first and removed last.
    dirs: Vec<PathBuf>,
    /// v1: the box's directory in the freezer hierarchy, where mounted.
    freezer_dir: Option<PathBuf>,
    cpu: Option<StatFile>,
    memory_peak: Option<StatFile>,
    oom: Option<StatFile>,
    pids_peak: Option<StatFile>,
    removed: bool,
}

impl BoxCgroup {
    /// A handle on existing directories, for sweeping: no stat files.
    fn adopt(h: &Hierarchy, name: &str, dirs: Vec<PathBuf>) -> Self {
        let freezer_dir = h.bases.iter().find(|(c, _)| *c == "freezer").map(|(_, b)| b.join(name));
        BoxCgroup {
            version: h.version,
            fake: h.fake,
            dirs,
            freezer_dir,
            cpu: None,
            memory_peak: None,
            oom: None,
            pids_peak: None,
            removed: false,
        }
    }

    pub fn version(&self) -> CgroupVersion {
        self.version
    }

    pub fn dirs(&self) -> &[PathBuf] {
        &self.dirs
    }

    /// Moves process `pid` into every hierarchy of the box. (A box's program joins by itself,
    /// see [`Hierarchy::join_points`]; this is for processes the caller starts otherwise.)
    pub fn attach(&self, pid: libc::pid_t) -> Result<()> {
        let mut buf = [0u8; 16];
        let text = format_pid(pid, &mut buf);
        for d in &self.dirs {
            let path = d.join(PROCS_FILE);
            let write = OpenOptions::new()
                .write(true)
                .create(self.fake)
                .truncate(self.fake)
                .open(&path)
                .and_then(|f| f.write_at(text, 0));
            write.map_err(|source| CgroupError::Write { path, value: pid.to_string(), source })?;
        }
        Ok(())
    }

    /// v2: from now on an OOM kill in the box kills every process of the box (no half-killed
    /// program keeps running). Armed by the supervisor once the program has exec'd: until then
    /// the program shares the supervisor's memory, and the group kill would take the supervisor
    /// with it. v1 has no group kill (the supervisor kills the rest of the box).
    pub fn arm_group_oom_kill(&self) -> Result<()> {
        match self.version {
            CgroupVersion::V1 => Ok(()),
            CgroupVersion::V2 => write_file(&self.dirs[0].join(v2::OOM_GROUP), "1", self.fake),
        }
    }

    /// CPU time of every task that ever ran in the box, in nanoseconds.
    pub fn cpu_usage_ns(&self) -> Result<u64> {
        let f = self.cpu.as_ref().expect("stat files are open on created boxes");
        match self.version {
            CgroupVersion::V1 => f.read_u64(),
            CgroupVersion::V2 => Ok(f.read_key(v2::CPU_USAGE_KEY)? * 1000),
        }
    }

    /// Peak memory of the box, in bytes.
    pub fn memory_peak_bytes(&self) -> Result<u64> {
        self.memory_peak.as_ref().expect("stat files are open on created boxes").read_u64()
    }

    /// How many processes the memory cgroup's OOM killer killed in the box.
    pub fn oom_kills(&self) -> Result<u64> {
        let f = self.oom.as_ref().expect("stat files are open on created boxes");
        let kills = f.read_key(OOM_KILL_KEY)?;
        // v2 with memory.oom.group: the kernel counts the victim once more in `oom_kill` for
        // each group kill (seen on 6.1), so those are taken back out.
        let group_kills = match self.version {
            CgroupVersion::V2 => f.read_key(OOM_GROUP_KILL_KEY).unwrap_or(0),
            CgroupVersion::V1 => 0,
        };
        Ok(kills.saturating_sub(group_kills).max(u64::from(kills > 0)))
    }

    /// Peak number of tasks, where the kernel has `pids.peak`.
    pub fn pids_peak(&self) -> Option<u64> {
        self.pids_peak.as_ref().and_then(|f| f.read_u64().ok())
    }

    fn procs_path(&self) -> PathBuf {
        self.dirs[0].join(PROCS_FILE)
    }

    /// Whether no task is left in the box.
    pub fn is_empty(&self) -> Result<bool> {
        let path = self.procs_path();
        match fs::read_to_string(&path) {
            Ok(s) => Ok(s.trim().is_empty()),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(true),
            Err(source) => Err(CgroupError::Read { path, source }),
        }
    }

    /// Kills every process in the box, without waiting for them to be gone; returns how, or
    /// `None` when the box had no process. v2: `cgroup.kill` (Linux 5.14+); v1 (or older v2):
    /// freeze, SIGKILL each task, thaw.
    pub fn kill(&self) -> Result<Option<KillMethod>> {
        if self.fake || self.is_empty()? {
            return Ok(None);
        }
        match self.version {
            CgroupVersion::V2 => v2::kill(self).map(Some),
            CgroupVersion::V1 => v1::kill(self).map(Some),
        }
    }

    /// Kills every process in the box and waits until the cgroup is empty; returns how it
    /// killed them, or `None` when the box had no process left.
    pub fn kill_all(&self) -> Result<Option<KillMethod>> {
        let Some(method) = self.kill()? else { return Ok(None) };
        let start = Instant::now();
        let limit = Duration::from_secs(5);
        while !self.is_empty()? {
            if start.elapsed() > limit {
                return Err(CgroupError::KillTimeout { path: self.dirs[0].clone(), waited: limit });
            }
            std::thread::sleep(Duration::from_micros(200));
        }
        Ok(Some(method))
    }

    /// Removes every directory of the box (it must be empty of tasks).
    pub fn remove(mut self) -> Result<()> {
        self.remove_dirs()
    }

    fn remove_dirs(&mut self) -> Result<()> {
        self.removed = true;
        self.cpu = None;
        self.memory_peak = None;
        self.oom = None;
        self.pids_peak = None;
        let mut first_err = None;
        // The first directory last, and only once the others are gone: a box with any directory
        // left has that one (see `Hierarchy::existing_boxes`).
        for (i, d) in self.dirs.iter().enumerate().rev() {
            if i == 0 && first_err.is_some() {
                break;
            }
            let res = if self.fake { fs::remove_dir_all(d) } else { rmdir_retry(d) };
            match res {
                Ok(()) => {}
                Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                Err(source) => {
                    first_err.get_or_insert(CgroupError::Remove { path: d.clone(), source });
                }
            }
        }
        first_err.map_or(Ok(()), Err)
    }
}

fn format_pid(pid: libc::pid_t, buf: &mut [u8; 16]) -> &[u8] {
    let mut n = pid.max(0) as u32;
    let mut i = buf.len();
    loop {
        i -= 1;
        buf[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    &buf[i..]
}

/// `rmdir` of a cgroup whose last task has just been reaped can briefly fail with EBUSY.
fn rmdir_retry(d: &Path) -> io::Result<()> {
    let start = Instant::now();
    loop {
        match fs::remove_dir(d) {
            Err(e) if e.raw_os_error() == Some(libc::EBUSY) && start.elapsed() < Duration::from_secs(2) => {
                std::thread::sleep(Duration::from_micros(100));
            }
            other => return other,
        }
    }
}

const OOM_KILL_KEY: &str = "oom_kill";
const OOM_GROUP_KILL_KEY: &str = "oom_group_kill";

impl Drop for BoxCgroup {
    fn drop(&mut self) {
        if self.removed {
            return;
        }
        if let Err(e) = self.kill_all() {
            tracing::error!(error = %e, "box cgroup cleanup: kill");
        }
        if let Err(e) = self.remove_dirs() {
            tracing::error!(error = %e, "box cgroup cleanup: remove");
        }
    }
}

/// One cgroup filesystem mount from /proc/self/mountinfo.
#[derive(Clone, Debug)]
struct CgroupMount {
    mount_point: PathBuf,
    is_v2: bool,
    v1_controllers: Vec<String>,
}

fn parse_cgroup_mounts(mountinfo: &str) -> Vec<CgroupMount> {
    let mut out = Vec::new();
    for line in mountinfo.lines() {
        // id parent major:minor root mount_point options [optional...] - fstype source super_options
        let Some((left, right)) = line.split_once(" - ") else { continue };
        let left: Vec<&str> = left.split(' ').collect();
        let right: Vec<&str> = right.split(' ').collect();
        if left.len() < 5 || right.len() < 3 {
            continue;
        }
        let mount_point = PathBuf::from(unescape_mountinfo(left[4]));
        match right[0] {
            "cgroup2" => out.push(CgroupMount { mount_point, is_v2: true, v1_controllers: Vec::new() }),
            "cgroup" => {
                let controllers = right[2]
                    .split(',')
                    .filter(|o| !matches!(*o, "rw" | "ro") && !o.contains('='))
                    .map(str::to_owned)
                    .collect();
                out.push(CgroupMount { mount_point, is_v2: false, v1_controllers: controllers })
            }
            _ => {}
        }
    }
    out
}

/// mountinfo escapes space, tab, newline and backslash as octal.
fn unescape_mountinfo(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'\\' && i + 3 < b.len() && b[i + 1..i + 4].iter().all(|c| (b'0'..=b'7').contains(c)) {
            out.push((b[i + 1] - b'0') * 64 + (b[i + 2] - b'0') * 8 + (b[i + 3] - b'0'));
            i += 4;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Whether any swap area is active (then the memory limit must cover swap explicitly).
fn swap_active() -> bool {
    fs::read_to_string("/proc/swaps").map(|s| s.lines().count() > 1).unwrap_or(false)
}

#[cfg(test)]
mod tests;
