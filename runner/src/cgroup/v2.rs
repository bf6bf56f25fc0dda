//! cgroup v2: one unified hierarchy; the box is one directory under a base whose parent
//! delegates the memory and pids controllers (and cpuset when a run is pinned). The base is
//! `<root>/judge` when the judge runs in the root cgroup, or a cgroup handed to the judge
//! (delegated mode: systemd `Delegate=yes`, a container), where the boxes are its children
//! beside the judge's own leaf `supervisor`.

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

/// Finds where the boxes go on a cgroup2 mount: the explicitly delegated cgroup, or the judge's
/// own cgroup when that is not the root (see `Hierarchy::detect`), or `<root>/judge`.
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
    if !own.join(TYPE).exists() {
        // The real root (a cgroup namespace's root is not: it has cgroup.type).
        return hierarchy(mount, false);
    }
    let base = match (own.file_name(), own.parent()) {
        // A leaf an earlier judge of the same delegated cgroup made (and our parent left us in).
        (Some(n), Some(parent)) if n == SUPERVISOR_NAME && parent.join(TYPE).exists() => parent.to_path_buf(),
        _ => own.clone(),
    };
    delegated(&base, &own, false)
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
