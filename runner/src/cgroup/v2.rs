//! cgroup v2: one unified hierarchy; the box is one directory under a base whose parent
//! delegates the memory and pids controllers (and cpuset when a run is pinned). The base is
//! `<root>/judge` (root mode), or a cgroup handed to the judge (delegated mode: systemd
//! `Delegate=yes`, a container), where the boxes are its children beside the judge's own leaf
//! `supervisor`.
//!
//! Which mode, when no cgroup is named (`--cgroup`, `$JUDGE_CGROUP`, `SandboxConfig::cgroup`
//! always mean delegated mode on that cgroup), from the judge's own cgroup in /proc/self/cgroup
//! (see [`decide`]):
//! - the real root of the hierarchy (no `cgroup.type`): root mode;
//! - a cgroup namespace's root (`0::/`, yet the mount's top has `cgroup.type`: a container):
//!   delegated mode on it;
//! - a `supervisor` leaf an earlier judge made under a non-root cgroup: delegated mode on its
//!   parent;
//! - a cgroup carrying systemd's delegation mark, the extended attribute `trusted.delegate`
//!   (or `user.delegate`, a user manager's) set to a true value (systemd >= 251 sets "1" on
//!   the cgroups of units with `Delegate=yes`): delegated mode on it;
//! - any other cgroup (a login session's scope, which holds the shell too and is not the
//!   judge's to divide): root mode, the boxes under `<root>/judge`, which root may always make.

use std::path::{Path, PathBuf};

use super::{
    swap_active, BoxCgroup, CgroupError, CgroupLimits, CgroupVersion, Hierarchy, KillMethod, Result, BASE_NAME, CGROUP_ENV,
    PROCS_FILE, SUPERVISOR_NAME,
};

const CONTROLLERS: &str = "cgroup.controllers";
const SUBTREE_CONTROL: &str = "cgroup.subtree_control";
const MEMORY_MAX: &str = "memory.max";
const SWAP_MAX: &str = "memory.swap.max";
const MEMORY_PEAK: &str = "memory.peak";
const MEMORY_EVENTS: &str = "memory.events";
pub(super) const OOM_GROUP: &str = "memory.oom.group";
const CPU_STAT: &str = "cpu.stat";
pub(super) const CPU_USAGE_KEY: &str = "usage_usec";
const PIDS_MAX: &str = "pids.max";
const PIDS_PEAK: &str = "pids.peak";
const KILL: &str = "cgroup.kill";
const FREEZE: &str = "cgroup.freeze";
const CPUSET_CPUS: &str = "cpuset.cpus";
/// Only on non-root cgroups: its absence marks the real root of the hierarchy.
const TYPE: &str = "cgroup.type";
/// What a box cannot run without.
const REQUIRED: [&str; 2] = ["memory", "pids"];

/// Finds where the boxes go on a cgroup2 mount: the explicitly delegated cgroup, or what
/// [`implicit`] decides from the judge's own cgroup.
pub(super) fn detect(mount: &Path, explicit: Option<PathBuf>) -> Result<Hierarchy> {
    let text = std::fs::read_to_string("/proc/self/cgroup")
        .map_err(|source| CgroupError::Read { path: "/proc/self/cgroup".into(), source })?;
    let own = own_cgroup(mount, &text).ok_or_else(|| CgroupError::BadDelegation {
        what: "the judge's own cgroup",
        path: "/proc/self/cgroup".into(),
        why: format!("no cgroup v2 entry (\"0::/path\") under the cgroup2 mount {} in {text:?}; name the delegated cgroup with {CGROUP_ENV}", mount.display()),
    })?;
    if let Some(base) = explicit {
        return delegated(&base, &own, false);
    }
    match implicit(mount, &own)? {
        Mode::Root => hierarchy(mount, false),
        Mode::Delegated => delegated(&own, &own, false),
        Mode::DelegatedParent => delegated(own.parent().expect("a supervisor leaf has a parent"), &own, false),
    }
}

/// Where the boxes go when no cgroup is named (see the module docs).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Mode {
    /// Under `<mount>/judge`.
    Root,
    /// Under the judge's own cgroup.
    Delegated,
    /// Under the parent of the judge's own cgroup (a `supervisor` leaf).
    DelegatedParent,
}

/// What decides the mode, read from the judge's own cgroup.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(super) struct OwnFacts {
    /// It has no `cgroup.type`: the real root of the hierarchy.
    pub real_root: bool,
    /// It is the top of the mount, yet has `cgroup.type`: a cgroup namespace's root.
    pub ns_root: bool,
    /// It carries systemd's delegation mark (`trusted.delegate` or `user.delegate`).
    pub delegate_mark: bool,
    /// It is named `supervisor` and its parent is not the real root.
    pub supervisor_leaf: bool,
}

/// The implicit rule, on the facts alone. A `supervisor` leaf is checked before the mark:
/// systemd marks the unit's cgroup, never the leaf judge made in it.
pub(super) fn decide(f: OwnFacts) -> Mode {
    if f.real_root {
        Mode::Root
    } else if f.ns_root {
        Mode::Delegated
    } else if f.supervisor_leaf {
        Mode::DelegatedParent
    } else if f.delegate_mark {
        Mode::Delegated
    } else {
        Mode::Root
    }
}

/// Reads the facts about `own` (under the cgroup2 mount `mount`) and decides.
pub(super) fn implicit(mount: &Path, own: &Path) -> Result<Mode> {
    let real_root = !own.join(TYPE).exists();
    let facts = OwnFacts {
        real_root,
        ns_root: !real_root && own == mount,
        delegate_mark: !real_root && delegate_mark(own)?,
        supervisor_leaf: match (own.file_name(), own.parent()) {
            (Some(n), Some(parent)) => n == SUPERVISOR_NAME && parent.join(TYPE).exists(),
            _ => false,
        },
    };
    Ok(decide(facts))
}

/// Extended attributes by which systemd marks a cgroup it delegated (the system manager's
/// first; a user manager cannot write trusted.*).
pub(super) const DELEGATE_XATTRS: [&str; 2] = ["trusted.delegate", "user.delegate"];

/// Whether `dir` carries systemd's delegation mark: one of [`DELEGATE_XATTRS`] set to a true
/// boolean in systemd's spelling ("1", what it writes; "yes", "true", "on", ...). A missing
/// attribute (ENODATA; also what an unprivileged reader of trusted.* gets) or a filesystem
/// without such attributes (ENOTSUP: user.* on a cgroup2 mount without `user_xattr`) is no mark;
/// any other failure is an error naming the cgroup and the attribute.
pub(super) fn delegate_mark(dir: &Path) -> Result<bool> {
    use std::os::unix::ffi::OsStrExt;
    let path = std::ffi::CString::new(dir.as_os_str().as_bytes()).map_err(|_| CgroupError::BadDelegation {
        what: "the judge's own cgroup",
        path: dir.to_owned(),
        why: "the path contains a NUL byte".into(),
    })?;
    for name in DELEGATE_XATTRS {
        let cname = std::ffi::CString::new(name).expect("no NUL in the attribute names");
        let mut buf = [0u8; 64];
        // SAFETY: both strings are NUL-terminated and live across the call; the kernel writes at
        // most `buf.len()` bytes into `buf`, which outlives the call.
        let n = unsafe { libc::getxattr(path.as_ptr(), cname.as_ptr(), buf.as_mut_ptr().cast(), buf.len()) };
        if n < 0 {
            let e = std::io::Error::last_os_error();
            match e.raw_os_error() {
                // ERANGE: longer than any boolean, so not one.
                Some(libc::ENODATA | libc::ENOTSUP | libc::ERANGE) => continue,
                _ => return Err(CgroupError::Xattr { path: dir.to_owned(), name, source: e }),
            }
        }
        let value = String::from_utf8_lossy(&buf[..n as usize]);
        let value = value.trim_matches(|c: char| c == '\0' || c.is_whitespace()).to_ascii_lowercase();
        if matches!(value.as_str(), "1" | "yes" | "y" | "true" | "t" | "on") {
            return Ok(true);
        }
    }
    Ok(false)
}

/// The judge's own cgroup directory from /proc/self/cgroup's v2 line (`0::/path`).
pub(super) fn own_cgroup(mount: &Path, proc_self_cgroup: &str) -> Option<PathBuf> {
    let rel = proc_self_cgroup.lines().find_map(|l| l.strip_prefix("0::"))?;
    // A cgroup outside our cgroup namespace shows as "/../..": not reachable under the mount.
    if rel.split('/').any(|c| c == "..") {
        return None;
    }
    Some(mount.join(rel.trim_start_matches('/')))
}

/// Delegated mode (see `Hierarchy::v2_delegated`).
pub(super) fn delegated(base: &Path, own: &Path, fake: bool) -> Result<Hierarchy> {
    if !base.is_absolute() || !base.join(CONTROLLERS).is_file() {
        return Err(CgroupError::BadDelegation {
            what: "delegated cgroup",
            path: base.to_owned(),
            why: "not a cgroup v2 directory (an absolute path with a cgroup.controllers file, e.g. /sys/fs/cgroup/judge.service)".into(),
        });
    }
    let available = std::fs::read_to_string(base.join(CONTROLLERS))
        .map_err(|source| CgroupError::Read { path: base.join(CONTROLLERS), source })?;
    let missing: Vec<&str> = REQUIRED.into_iter().filter(|c| !available.split_whitespace().any(|x| x == *c)).collect();
    if !missing.is_empty() {
        return Err(CgroupError::NotDelegated {
            path: base.to_owned(),
            missing: missing.join(", "),
            available: available.trim().to_owned(),
            parent: base.parent().unwrap_or(base).to_owned(),
        });
    }
    let h = Hierarchy {
        version: CgroupVersion::V2,
        bases: vec![("", base.to_owned())],
        cpuset_base: None,
        fake,
        delegated: true,
    };
    if own == base {
        move_to_leaf(&h, base)?;
    }
    // Now, not at the first run: a cgroup that cannot delegate is an error at start.
    if !delegated_to_children(base) {
        make_base(&h, false)?;
    }
    Ok(h)
}

/// Moves the judge out of `base` into `base/supervisor`; refuses when `base` holds other
/// processes (they would keep `base` from delegating, and moving them is not ours to do).
fn move_to_leaf(h: &Hierarchy, base: &Path) -> Result<()> {
    let procs = base.join(PROCS_FILE);
    let text = std::fs::read_to_string(&procs).map_err(|source| CgroupError::Read { path: procs.clone(), source })?;
    let me = std::process::id();
    let others: Vec<&str> = text.split_whitespace().filter(|p| p.parse::<u32>().ok() != Some(me)).collect();
    if !others.is_empty() {
        return Err(CgroupError::Occupied { path: base.to_owned(), pids: others.join(" "), own: me, env: CGROUP_ENV });
    }
    let leaf = base.join(SUPERVISOR_NAME);
    h.mkdir(&leaf)?;
    // "0": the writing process, with all its threads.
    h.write(&leaf.join(PROCS_FILE), "0")
}

pub(super) fn hierarchy(root: &Path, fake: bool) -> Result<Hierarchy> {
    if !fake {
        let available = std::fs::read_to_string(root.join(CONTROLLERS))
            .map_err(|source| CgroupError::Read { path: root.join(CONTROLLERS), source })?;
        for c in ["memory", "pids"] {
            if !available.split_whitespace().any(|x| x == c) {
                return Err(CgroupError::Unavailable(format!(
                    "the cgroup2 controller {c} is not available in {} (cgroup.controllers: {:?}); on a delegated subtree ask for it to be delegated",
                    root.display(),
                    available.trim()
                )));
            }
        }
    }
    Ok(Hierarchy {
        version: CgroupVersion::V2,
        bases: vec![("", root.join(BASE_NAME))],
        cpuset_base: None,
        fake,
        delegated: false,
    })
}

/// Enables `controllers` for the children of `dir`.
fn delegate(h: &Hierarchy, dir: &Path, controllers: &str) -> Result<()> {
    h.write(&dir.join(SUBTREE_CONTROL), controllers)
}

/// Whether `base` exists and enables memory and pids for its children.
fn delegated_to_children(base: &Path) -> bool {
    std::fs::read_to_string(base.join(SUBTREE_CONTROL))
        .map(|s| ["memory", "pids"].iter().all(|c| s.split_whitespace().any(|x| x == *c)))
        .unwrap_or(false)
}

/// Creates the boxes' base directory, delegating the controllers to it and to its children
/// (delegated mode: the base is there, and only it delegates to its children).
pub(super) fn make_base(h: &Hierarchy, cpuset: bool) -> Result<()> {
    let base = &h.bases[0].1;
    let controllers = if cpuset { "+memory +pids +cpuset" } else { "+memory +pids" };
    if h.delegated {
        return delegate(h, base, controllers);
    }
    let root = base.parent().expect("base has a parent");
    delegate(h, root, controllers)?;
    h.mkdir(base)?;
    delegate(h, base, controllers)
}

pub(super) fn create_box(h: &Hierarchy, name: &str, limits: &CgroupLimits) -> Result<BoxCgroup> {
    let base = &h.bases[0].1;
    // Whether the base's children get the controllers, not whether the base exists, decides:
    // another judge may have just made the base and not yet delegated to it.
    if h.fake || limits.cpus.is_some() || !delegated_to_children(base) {
        make_base(h, limits.cpus.is_some())?;
    }
    let dir: PathBuf = base.join(name);
    h.mkdir(&dir)?;
    let cg_dir = dir.clone();
    let mut cg = BoxCgroup::adopt(h, name, vec![dir]);
    let mem = limits.memory_bytes.to_string();
    h.write(&cg_dir.join(MEMORY_MAX), &mem)?;
    let swap = cg_dir.join(SWAP_MAX);
    if !h.write_if_present(&swap, "0")? && swap_active() {
        return Err(CgroupError::SwapUncontrolled { path: swap });
    }
    // memory.oom.group: armed once the program has exec'd (see BoxCgroup::arm_group_oom_kill).
    h.write(&cg_dir.join(PIDS_MAX), &limits.pids_max.to_string())?;
    if let Some(cpus) = &limits.cpus {
        h.write(&cg_dir.join(CPUSET_CPUS), cpus)?;
    }
    cg.cpu = Some(h.stat(cg_dir.join(CPU_STAT))?);
    cg.memory_peak = Some(h.stat(cg_dir.join(MEMORY_PEAK))?);
    cg.oom = Some(h.stat(cg_dir.join(MEMORY_EVENTS))?);
    cg.pids_peak = h.stat(cg_dir.join(PIDS_PEAK)).ok();
    Ok(cg)
}

/// `cgroup.kill` where the kernel has it (5.14+); otherwise freeze, SIGKILL each task, thaw.
pub(super) fn kill(cg: &BoxCgroup) -> Result<KillMethod> {
    let dir = &cg.dirs[0];
    if dir.join(KILL).exists() {
        return super::write_file(&dir.join(KILL), "1", false).map(|()| KillMethod::CgroupKill);
    }
    let _ = super::write_file(&dir.join(FREEZE), "1", false);
    let text = std::fs::read_to_string(dir.join(super::PROCS_FILE)).unwrap_or_default();
    for pid in text.split_whitespace().filter_map(|p| p.parse::<i32>().ok()) {
        // SAFETY: kill(2) with a pid read from the box's own cgroup; no memory is touched.
        unsafe { libc::kill(pid, libc::SIGKILL) };
    }
    super::write_file(&dir.join(FREEZE), "0", false).map(|()| KillMethod::FreezeSigkill)
}
