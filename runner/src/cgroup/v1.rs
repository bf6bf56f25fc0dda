//! cgroup v1: one hierarchy per controller (memory, cpuacct, pids, and freezer and cpuset where
//! mounted). The box has one directory in each.

use std::fs;
use std::path::{Path, PathBuf};

use super::{swap_active, BoxCgroup, CgroupError, CgroupLimits, CgroupMount, CgroupVersion, Hierarchy, KillMethod, Result, BASE_NAME};

const MEMORY_LIMIT: &str = "memory.limit_in_bytes";
const MEMSW_LIMIT: &str = "memory.memsw.limit_in_bytes";
const MEMORY_PEAK: &str = "memory.max_usage_in_bytes";
const MEMORY_OOM: &str = "memory.oom_control";
const CPU_USAGE: &str = "cpuacct.usage";
const PIDS_MAX: &str = "pids.max";
const PIDS_PEAK: &str = "pids.peak";
const FREEZER_STATE: &str = "freezer.state";
const CPUSET_CPUS: &str = "cpuset.cpus";
const CPUSET_MEMS: &str = "cpuset.mems";

/// Controllers the box cannot run without, in the order of `Hierarchy::bases`.
const REQUIRED: [&str; 3] = ["memory", "cpuacct", "pids"];

pub(super) fn hierarchy(mounts: &[CgroupMount]) -> Result<Hierarchy> {
    let mut points: Vec<(&'static str, PathBuf)> = Vec::new();
    for c in REQUIRED.iter().chain(["freezer", "cpuset"].iter()) {
        if let Some(m) = mounts.iter().find(|m| m.v1_controllers.iter().any(|x| x == c)) {
            points.push((c, m.mount_point.clone()));
        }
    }
    from_mount_points(&points)
}

pub(super) fn from_mount_points(points: &[(&'static str, PathBuf)]) -> Result<Hierarchy> {
    let mut bases = Vec::new();
    for c in REQUIRED {
        let Some((_, p)) = points.iter().find(|(n, _)| *n == c) else {
            return Err(CgroupError::Unavailable(format!("the cgroup v1 {c} controller is not mounted")));
        };
        bases.push((c, p.join(BASE_NAME)));
    }
    if let Some((_, p)) = points.iter().find(|(n, _)| *n == "freezer") {
        bases.push(("freezer", p.join(BASE_NAME)));
    }
    let cpuset_base = points.iter().find(|(n, _)| *n == "cpuset").map(|(_, p)| p.join(BASE_NAME));
    Ok(Hierarchy { version: CgroupVersion::V1, bases, cpuset_base, fake: false, delegated: false })
}

fn dir_of(h: &Hierarchy, controller: &str, name: &str) -> PathBuf {
    h.bases.iter().find(|(c, _)| *c == controller).expect("required controller").1.join(name)
}

pub(super) fn create_box(h: &Hierarchy, name: &str, limits: &CgroupLimits) -> Result<BoxCgroup> {
    let mut dirs = Vec::new();
    for (_, base) in &h.bases {
        let d = base.join(name);
        h.mkdir_under(base, &d)?;
        dirs.push(d);
    }
    if let Some(cpus) = &limits.cpus {
        let base = h.cpuset_base.as_ref().ok_or_else(|| {
            CgroupError::Unavailable("pinning to CPUs needs the cgroup v1 cpuset controller, which is not mounted".into())
        })?;
        ensure_cpuset_base(h, base)?;
        let d = base.join(name);
        h.mkdir(&d)?;
        dirs.push(d.clone());
        h.write(&d.join(CPUSET_MEMS), &read_trim(&base.join(CPUSET_MEMS), h.fake)?)?;
        h.write(&d.join(CPUSET_CPUS), cpus)?;
    }
    // From here on the guard removes the directories if anything fails.
    let mut cg = BoxCgroup::adopt(h, name, dirs);
    let mem = dir_of(h, "memory", name);
    h.write(&mem.join(MEMORY_LIMIT), &limits.memory_bytes.to_string())?;
    let memsw = mem.join(MEMSW_LIMIT);
    if !h.write_if_present(&memsw, &limits.memory_bytes.to_string())? && swap_active() {
        return Err(CgroupError::SwapUncontrolled { path: memsw });
    }
    let pids = dir_of(h, "pids", name);
    h.write(&pids.join(PIDS_MAX), &limits.pids_max.to_string())?;
    cg.cpu = Some(h.stat(dir_of(h, "cpuacct", name).join(CPU_USAGE))?);
    cg.memory_peak = Some(h.stat(mem.join(MEMORY_PEAK))?);
    cg.oom = Some(h.stat(mem.join(MEMORY_OOM))?);
    cg.pids_peak = h.stat(pids.join(PIDS_PEAK)).ok();
    Ok(cg)
}

/// A new v1 cpuset cgroup starts with empty `cpus` and `mems`: the base copies the root's.
fn ensure_cpuset_base(h: &Hierarchy, base: &Path) -> Result<()> {
    let root = base.parent().expect("base has a parent");
    h.mkdir(base)?;
    for f in [CPUSET_CPUS, CPUSET_MEMS] {
        let cur = read_trim(&base.join(f), h.fake).unwrap_or_default();
        if cur.is_empty() {
            h.write(&base.join(f), &read_trim(&root.join(f), h.fake)?)?;
        }
    }
    Ok(())
}

fn read_trim(path: &Path, fake: bool) -> Result<String> {
    match fs::read_to_string(path) {
        Ok(s) => Ok(s.trim().to_owned()),
        Err(_) if fake => Ok(String::new()),
        Err(source) => Err(CgroupError::Read { path: path.to_owned(), source }),
    }
}

/// Freeze (where the freezer is mounted) so nothing forks while we kill, SIGKILL every task,
/// thaw so the kills are delivered.
pub(super) fn kill(cg: &BoxCgroup) -> Result<KillMethod> {
    let freezer = &cg.freezer_dir;
    if let Some(f) = &freezer {
        let _ = super::write_file(&f.join(FREEZER_STATE), "FROZEN", false);
    }
    let procs = cg.procs_path();
    for _ in 0..100 {
        let text = fs::read_to_string(&procs).unwrap_or_default();
        let pids: Vec<i32> = text.split_whitespace().filter_map(|p| p.parse().ok()).collect();
        if pids.is_empty() {
            break;
        }
        for pid in pids {
            // SAFETY: kill(2) with a pid read from the box's own cgroup; no memory is touched.
            unsafe { libc::kill(pid, libc::SIGKILL) };
        }
        if freezer.is_none() {
            std::thread::sleep(std::time::Duration::from_micros(200));
        } else {
            break;
        }
    }
    if let Some(f) = &freezer {
        super::write_file(&f.join(FREEZER_STATE), "THAWED", false)?;
    }
    Ok(KillMethod::FreezeSigkill)
}

