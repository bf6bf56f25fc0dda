//! cgroup v2: one unified hierarchy; the box is one directory under `<root>/judge`, whose parent
//! delegates the memory and pids controllers (and cpuset when a run is pinned).

use std::path::{Path, PathBuf};

use super::{swap_active, BoxCgroup, CgroupError, CgroupLimits, CgroupVersion, Hierarchy, KillMethod, Result, BASE_NAME};

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
    Ok(Hierarchy { version: CgroupVersion::V2, bases: vec![("", root.join(BASE_NAME))], cpuset_base: None, fake })
}

/// Enables `controllers` for the children of `dir`.
fn delegate(h: &Hierarchy, dir: &Path, controllers: &str) -> Result<()> {
    h.write(&dir.join(SUBTREE_CONTROL), controllers)
}

/// Whether `base` exists and enables memory and pids for its children.
fn delegated(base: &Path) -> bool {
    std::fs::read_to_string(base.join(SUBTREE_CONTROL))
        .map(|s| ["memory", "pids"].iter().all(|c| s.split_whitespace().any(|x| x == *c)))
        .unwrap_or(false)
}

/// Creates the boxes' base directory, delegating the controllers to it and to its children.
pub(super) fn make_base(h: &Hierarchy, cpuset: bool) -> Result<()> {
    let base = &h.bases[0].1;
    let root = base.parent().expect("base has a parent");
    let controllers = if cpuset { "+memory +pids +cpuset" } else { "+memory +pids" };
    delegate(h, root, controllers)?;
    h.mkdir(base)?;
    delegate(h, base, controllers)
}

pub(super) fn create_box(h: &Hierarchy, name: &str, limits: &CgroupLimits) -> Result<BoxCgroup> {
    let base = &h.bases[0].1;
    // Whether the base's children get the controllers, not whether the base exists, decides:
    // another judge may have just made the base and not yet delegated to it.
    if h.fake || limits.cpus.is_some() || !delegated(base) {
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
