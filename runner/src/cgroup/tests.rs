//! The cgroup module against a fake cgroupfs: plain directories in a tempdir. What is checked
//! is what the module writes (limits, delegation, kill) and how it reads the kernel's figures.

use std::fs;
use std::path::Path;

use super::*;

fn read(p: &Path) -> String {
    fs::read_to_string(p).unwrap_or_else(|e| panic!("read {}: {e}", p.display()))
}

fn limits() -> CgroupLimits {
    CgroupLimits { memory_bytes: 64 << 20, pids_max: 17, cpus: None }
}

#[test]
fn v2_create_writes_limits_and_delegates_controllers() {
    let root = tempfile::tempdir().unwrap();
    let h = Hierarchy::v2_at(root.path(), true).unwrap();
    assert_eq!(h.version(), CgroupVersion::V2);
    let cg = h.create_box("box-7", &limits()).unwrap();
    let dir = root.path().join("judge/box-7");
    assert_eq!(cg.dirs(), &[dir.clone()]);
    assert_eq!(read(&dir.join("memory.max")), (64u64 << 20).to_string());
    assert_eq!(read(&dir.join("memory.swap.max")), "0");
    assert!(!dir.join("memory.oom.group").exists(), "group OOM kill is armed only after exec");
    cg.arm_group_oom_kill().unwrap();
    assert_eq!(read(&dir.join("memory.oom.group")), "1");
    assert_eq!(read(&dir.join("pids.max")), "17");
    assert!(read(&root.path().join("cgroup.subtree_control")).contains("+memory +pids"));
    assert!(read(&root.path().join("judge/cgroup.subtree_control")).contains("+memory +pids"));
    assert!(!dir.join("cpuset.cpus").exists());
}

#[test]
fn v2_reads_the_kernels_figures() {
    let root = tempfile::tempdir().unwrap();
    let h = Hierarchy::v2_at(root.path(), true).unwrap();
    let cg = h.create_box("box-1", &limits()).unwrap();
    let dir = root.path().join("judge/box-1");
    fs::write(dir.join("cpu.stat"), "usage_usec 1500\nuser_usec 1000\nsystem_usec 500\n").unwrap();
    fs::write(dir.join("memory.peak"), "50331648\n").unwrap();
    fs::write(dir.join("memory.events"), "low 0\nhigh 0\nmax 3\noom 1\noom_kill 2\noom_group_kill 1\n").unwrap();
    fs::write(dir.join("pids.peak"), "5\n").unwrap();
    assert_eq!(cg.cpu_usage_ns().unwrap(), 1_500_000);
    assert_eq!(cg.memory_peak_bytes().unwrap(), 48 << 20);
    // oom_kill counts the victim of a group kill twice on v2 (6.1): 2 - 1.
    assert_eq!(cg.oom_kills().unwrap(), 1);
    assert_eq!(cg.pids_peak(), Some(5));
}

#[test]
fn v2_missing_key_is_an_error_naming_the_file() {
    let root = tempfile::tempdir().unwrap();
    let h = Hierarchy::v2_at(root.path(), true).unwrap();
    let cg = h.create_box("box-2", &limits()).unwrap();
    fs::write(root.path().join("judge/box-2/memory.events"), "low 0\n").unwrap();
    let err = cg.oom_kills().unwrap_err().to_string();
    assert!(err.contains("memory.events") && err.contains("oom_kill"), "{err}");
}

#[test]
fn v2_pinning_writes_cpuset_and_delegates_it() {
    let root = tempfile::tempdir().unwrap();
    let h = Hierarchy::v2_at(root.path(), true).unwrap();
    let l = CgroupLimits { cpus: Some("1".into()), ..limits() };
    let _cg = h.create_box("box-3", &l).unwrap();
    assert_eq!(read(&root.path().join("judge/box-3/cpuset.cpus")), "1");
    assert!(read(&root.path().join("judge/cgroup.subtree_control")).contains("+cpuset"));
}

#[test]
fn v2_attach_writes_the_pid_and_drop_removes_the_box() {
    let root = tempfile::tempdir().unwrap();
    let h = Hierarchy::v2_at(root.path(), true).unwrap();
    let cg = h.create_box("box-4", &limits()).unwrap();
    cg.attach(4242).unwrap();
    let dir = root.path().join("judge/box-4");
    assert_eq!(read(&dir.join("cgroup.procs")), "4242");
    drop(cg);
    assert!(!dir.exists(), "the guard removes the box on drop");
}

#[test]
fn v2_sweep_removes_leftovers_and_lists_boxes() {
    let root = tempfile::tempdir().unwrap();
    let h = Hierarchy::v2_at(root.path(), true).unwrap();
    let cg = h.create_box("box-5", &limits()).unwrap();
    std::mem::forget(cg); // a supervisor that died: nothing cleaned up
    assert_eq!(h.existing_boxes(), vec!["box-5".to_string()]);
    h.sweep("box-5").unwrap();
    assert!(h.existing_boxes().is_empty());
    assert!(!root.path().join("judge/box-5").exists());
}

#[test]
fn v1_create_uses_one_directory_per_controller() {
    let root = tempfile::tempdir().unwrap();
    let m = |c: &'static str| (c, root.path().join(c));
    for c in ["memory", "cpuacct", "pids", "freezer"] {
        fs::create_dir(root.path().join(c)).unwrap();
    }
    let h = Hierarchy::v1_at(&[m("memory"), m("cpuacct"), m("pids"), m("freezer")], true).unwrap();
    let cg = h.create_box("box-9", &limits()).unwrap();
    assert_eq!(cg.dirs().len(), 4);
    let mem = root.path().join("memory/judge/box-9");
    assert_eq!(read(&mem.join("memory.limit_in_bytes")), (64u64 << 20).to_string());
    assert_eq!(read(&mem.join("memory.memsw.limit_in_bytes")), (64u64 << 20).to_string());
    assert_eq!(read(&root.path().join("pids/judge/box-9/pids.max")), "17");
    fs::write(root.path().join("cpuacct/judge/box-9/cpuacct.usage"), "123456789\n").unwrap();
    fs::write(mem.join("memory.max_usage_in_bytes"), "1048576\n").unwrap();
    fs::write(mem.join("memory.oom_control"), "oom_kill_disable 0\nunder_oom 0\noom_kill 1\n").unwrap();
    assert_eq!(cg.cpu_usage_ns().unwrap(), 123_456_789);
    assert_eq!(cg.memory_peak_bytes().unwrap(), 1 << 20);
    assert_eq!(cg.oom_kills().unwrap(), 1);
}

#[test]
fn join_points_open_every_base_and_name_the_boxs_procs_file() {
    let root = tempfile::tempdir().unwrap();
    let h = Hierarchy::v2_at(root.path(), true).unwrap();
    let j = h.join_points("box-6", false).unwrap();
    assert_eq!(j.dirs().len(), 1);
    assert!(root.path().join("judge").is_dir(), "the base is made when missing");
    assert_eq!(j.procs().to_str().unwrap(), "box-6/cgroup.procs");
    assert_eq!(j.clone_into().map(|c| c.to_str().unwrap()), Some("box-6"), "v2: the program is cloned into box-6");
    assert_eq!(h.join_points("box-6", true).unwrap().clone_into(), None, "a pinned run joins by writing (cpuset)");

    let m = |c: &'static str| (c, root.path().join(c));
    for c in ["memory", "cpuacct", "pids", "freezer", "cpuset"] {
        fs::create_dir(root.path().join(c)).unwrap();
    }
    let h = Hierarchy::v1_at(&[m("memory"), m("cpuacct"), m("pids"), m("freezer"), m("cpuset")], true).unwrap();
    assert_eq!(h.join_points("box-6", false).unwrap().dirs().len(), 4);
    assert_eq!(h.join_points("box-6", false).unwrap().clone_into(), None, "v1 has no CLONE_INTO_CGROUP");
    assert_eq!(h.join_points("box-6", true).unwrap().dirs().len(), 5, "the cpuset hierarchy when pinned");
}

#[test]
fn v1_without_a_required_controller_refuses() {
    let root = tempfile::tempdir().unwrap();
    let err = Hierarchy::v1_at(&[("memory", root.path().join("memory"))], true).unwrap_err();
    assert!(err.to_string().contains("cpuacct"), "{err}");
}

#[test]
fn mountinfo_parsing_finds_v1_controllers_and_cgroup2() {
    let mi = "31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755\n\
              32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu\n\
              35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory\n\
              36 31 0:33 / /sys/fs/cgroup/cpu,cpuacct rw,relatime shared:9 - cgroup cgroup rw,cpu,cpuacct\n\
              41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw,nsdelegate\n\
              42 31 0:39 / /sys/fs/cgroup/systemd rw - cgroup cgroup rw,xattr,name=systemd\n";
    let m = parse_cgroup_mounts(mi);
    assert_eq!(m.len(), 5);
    assert_eq!(m[1].v1_controllers, vec!["memory"]);
    assert_eq!(m[2].v1_controllers, vec!["cpu", "cpuacct"]);
    assert_eq!(m[2].mount_point, Path::new("/sys/fs/cgroup/cpu,cpuacct"));
    assert!(m[3].is_v2);
    assert_eq!(m[4].v1_controllers, vec!["xattr"]);
    assert_eq!(unescape_mountinfo("/a\\040b"), "/a b");
}

/// A fake delegated cgroup: `cgroup.controllers` as given, `cgroup.procs` with `procs`.
fn fake_delegated(controllers: &str, procs: &str) -> tempfile::TempDir {
    let d = tempfile::tempdir().unwrap();
    fs::write(d.path().join("cgroup.controllers"), controllers).unwrap();
    fs::write(d.path().join("cgroup.procs"), procs).unwrap();
    d
}

#[test]
fn v2_delegated_moves_the_judge_to_a_leaf_and_puts_the_boxes_beside_it() {
    let me = std::process::id();
    let d = fake_delegated("cpuset cpu io memory pids\n", &format!("{me}\n"));
    let base = d.path();
    let h = Hierarchy::v2_delegated(base, base, true).unwrap();
    assert_eq!(h.base(), base);
    // The judge left the delegated cgroup for its leaf; then the base enabled the controllers.
    assert_eq!(read(&base.join("supervisor/cgroup.procs")), "0");
    assert!(read(&base.join("cgroup.subtree_control")).contains("+memory +pids"));
    let cg = h.create_box("box-8", &limits()).unwrap();
    assert_eq!(cg.dirs(), &[base.join("box-8")]);
    assert_eq!(read(&base.join("box-8/memory.max")), (64u64 << 20).to_string());
    assert_eq!(h.existing_boxes(), vec!["box-8".to_string()], "the supervisor leaf is not a box");
    assert!(h.join_points("box-8", false).unwrap().clone_into().is_some());
    // Nothing is written above the delegated cgroup.
    assert!(!base.parent().unwrap().join("cgroup.subtree_control").exists());
    drop(cg);
    assert!(!base.join("box-8").exists());
}

#[test]
fn v2_delegated_leaves_a_judge_started_elsewhere_where_it_is() {
    let d = fake_delegated("memory pids", "");
    let elsewhere = tempfile::tempdir().unwrap();
    let h = Hierarchy::v2_delegated(d.path(), elsewhere.path(), true).unwrap();
    assert!(!d.path().join("supervisor").exists());
    assert!(read(&d.path().join("cgroup.subtree_control")).contains("+memory +pids"));
    let _cg = h.create_box("box-1", &limits()).unwrap();
    assert!(d.path().join("box-1").is_dir());
}

#[test]
fn v2_delegated_without_memory_or_pids_fails_closed_naming_path_and_remedy() {
    let me = std::process::id();
    let d = fake_delegated("cpu io pids\n", &format!("{me}\n"));
    let err = Hierarchy::v2_delegated(d.path(), d.path(), true).unwrap_err().to_string();
    let parent = d.path().parent().unwrap().join("cgroup.subtree_control");
    for needle in [&*d.path().to_string_lossy(), "memory", "Delegate=", "+memory +pids", &*parent.to_string_lossy()] {
        assert!(err.contains(needle), "{needle:?} missing in: {err}");
    }
    assert!(!err.contains("lacks the memory, pids"), "pids is there: {err}");
    assert!(!d.path().join("supervisor").exists(), "the judge must not move before the checks pass");
    let d = fake_delegated("", "");
    let err = Hierarchy::v2_delegated(d.path(), d.path(), true).unwrap_err().to_string();
    assert!(err.contains("lacks the memory, pids controller(s)"), "{err}");
}

#[test]
fn v2_delegated_with_other_processes_refuses_and_says_how_to_start() {
    let me = std::process::id();
    let d = fake_delegated("memory pids", &format!("1\n{me}\n"));
    let err = Hierarchy::v2_delegated(d.path(), d.path(), true).unwrap_err().to_string();
    assert!(err.contains("other processes (1)") && err.contains("systemd-run --scope") && err.contains("JUDGE_CGROUP"), "{err}");
    assert!(!d.path().join("supervisor").exists());
    assert!(!d.path().join("cgroup.subtree_control").exists());
}

#[test]
fn v2_delegated_refuses_what_is_not_a_cgroup() {
    let d = tempfile::tempdir().unwrap();
    let err = Hierarchy::v2_delegated(d.path(), d.path(), true).unwrap_err().to_string();
    assert!(err.contains(&*d.path().to_string_lossy()) && err.contains("not a cgroup v2 directory"), "{err}");
    let err = Hierarchy::v2_delegated(Path::new("relative/x"), d.path(), true).unwrap_err().to_string();
    assert!(err.contains("relative/x"), "{err}");
}

#[test]
fn own_cgroup_comes_from_the_v2_line() {
    let m = Path::new("/sys/fs/cgroup");
    assert_eq!(v2::own_cgroup(m, "0::/system.slice/judge.service\n"), Some(m.join("system.slice/judge.service")));
    assert_eq!(v2::own_cgroup(m, "9:name=systemd:/\n4:memory:/x\n0::/\n"), Some(m.to_path_buf()));
    assert_eq!(v2::own_cgroup(m, "0::/../../elsewhere\n"), None, "outside our cgroup namespace");
    assert_eq!(v2::own_cgroup(m, "4:memory:/x\n"), None);
}

#[test]
fn v2_implicit_rule_on_the_facts() {
    use v2::{decide, Mode, OwnFacts};
    let f = OwnFacts::default();
    assert_eq!(decide(OwnFacts { real_root: true, ..f }), Mode::Root);
    assert_eq!(decide(OwnFacts { ns_root: true, ..f }), Mode::Delegated, "a container's cgroup");
    assert_eq!(decide(OwnFacts { delegate_mark: true, ..f }), Mode::Delegated, "Delegate=yes");
    assert_eq!(decide(OwnFacts { supervisor_leaf: true, ..f }), Mode::DelegatedParent);
    assert_eq!(decide(OwnFacts { supervisor_leaf: true, delegate_mark: true, ..f }), Mode::DelegatedParent);
    assert_eq!(decide(OwnFacts { ns_root: true, supervisor_leaf: true, ..f }), Mode::Delegated);
    assert_eq!(decide(f), Mode::Root, "a session scope without the mark: boxes under <root>/judge");
}

/// A fake cgroup2 mount: `dirs` below it, and every directory on the way, are cgroups (they
/// have `cgroup.type`); the top has it
/// only when it stands for a cgroup namespace's root.
fn fake_mount(dirs: &[&str], ns_root: bool) -> tempfile::TempDir {
    let m = tempfile::tempdir().unwrap();
    fs::write(m.path().join("cgroup.controllers"), "memory pids\n").unwrap();
    if ns_root {
        fs::write(m.path().join("cgroup.type"), "domain\n").unwrap();
    }
    for d in dirs {
        let mut p = m.path().to_path_buf();
        for c in Path::new(d) {
            p.push(c);
            fs::create_dir_all(&p).unwrap();
            fs::write(p.join("cgroup.type"), "domain\n").unwrap();
        }
    }
    m
}

/// Sets an extended attribute on `path`; `false` where the filesystem has no such attributes.
fn set_xattr(path: &Path, name: &str, value: &str) -> bool {
    use std::os::unix::ffi::OsStrExt;
    let p = std::ffi::CString::new(path.as_os_str().as_bytes()).unwrap();
    let n = std::ffi::CString::new(name).unwrap();
    // SAFETY: NUL-terminated strings and a value buffer that all outlive the call.
    let r = unsafe { libc::setxattr(p.as_ptr(), n.as_ptr(), value.as_ptr().cast(), value.len(), 0) };
    if r == 0 {
        return true;
    }
    let e = io::Error::last_os_error();
    assert_eq!(e.raw_os_error(), Some(libc::ENOTSUP), "setxattr {name} on {}: {e}", path.display());
    false
}

#[test]
fn v2_implicit_rule_reads_the_facts_from_the_cgroupfs() {
    let session = "user.slice/user-0.slice/session-3.scope";
    let m = fake_mount(&[session, "system.slice/judge.service/supervisor"], false);
    let mount = m.path();
    assert_eq!(v2::implicit(mount, mount).unwrap(), v2::Mode::Root, "the real root");
    assert_eq!(v2::implicit(mount, &mount.join(session)).unwrap(), v2::Mode::Root, "a session scope without the mark");
    assert_eq!(v2::implicit(mount, &mount.join("system.slice/judge.service/supervisor")).unwrap(), v2::Mode::DelegatedParent);
    // A leaf named supervisor right under the real root is not an earlier judge's.
    let m2 = fake_mount(&["supervisor"], false);
    assert_eq!(v2::implicit(m2.path(), &m2.path().join("supervisor")).unwrap(), v2::Mode::Root);
    let ns = fake_mount(&[], true);
    assert_eq!(v2::implicit(ns.path(), ns.path()).unwrap(), v2::Mode::Delegated, "a cgroup namespace's root");

    // systemd's mark (user.delegate here: trusted.* on a plain filesystem needs CAP_SYS_ADMIN).
    let scope = mount.join(session);
    if !set_xattr(&scope, "user.delegate", "0") {
        eprintln!("v2_implicit_rule_reads_the_facts_from_the_cgroupfs: no user xattrs on {}, mark not checked", mount.display());
        return;
    }
    assert!(!v2::delegate_mark(&scope).unwrap(), "\"0\" is no mark");
    assert_eq!(v2::implicit(mount, &scope).unwrap(), v2::Mode::Root);
    set_xattr(&scope, "user.delegate", "1");
    assert!(v2::delegate_mark(&scope).unwrap());
    assert_eq!(v2::implicit(mount, &scope).unwrap(), v2::Mode::Delegated, "Delegate=yes");
    // The mark alone makes no delegated cgroup of the real root.
    set_xattr(mount, "user.delegate", "1");
    assert_eq!(v2::implicit(mount, mount).unwrap(), v2::Mode::Root);
}
