//! What a program inside the box can see and do: namespaces, identity, file system, devices,
//! network, signals, and the seccomp filter.
//!
//! Run inside a throwaway namespace: `unshare -m -p -f --mount-proc cargo test --test run_isolation`.

mod common;

use std::collections::BTreeMap;
use std::fs;
use std::io::ErrorKind;
use std::net::TcpListener;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::process::Command;
use std::thread;
use std::time::{Duration, Instant};

use common::*;

const EPERM: i32 = libc::EPERM;
const EROFS: i32 = libc::EROFS;
const ENOENT: i32 = libc::ENOENT;
const ENOSYS: i32 = libc::ENOSYS;

/// `fsprobe` output: "OP PATH ok" or "OP PATH errno=N" → {"OP PATH": Ok(()) | Err(N)}.
fn fs_results(run: &Run) -> BTreeMap<String, Result<(), i32>> {
    run.out()
        .lines()
        .filter_map(|l| {
            let (what, result) = l.rsplit_once(' ')?;
            let result = match result {
                "ok" => Ok(()),
                r => Err(r.strip_prefix("errno=")?.parse().ok()?),
            };
            Some((what.to_string(), result))
        })
        .collect()
}

fn fs_probe(opts: &[&str], probes: &[(&str, &str)]) -> (Run, BTreeMap<String, Result<(), i32>>) {
    let mut program = vec!["fsprobe"];
    for (op, path) in probes {
        program.extend([*op, *path]);
    }
    let run = run(opts, &program);
    run.expect_status("ok");
    let results = fs_results(&run);
    (run, results)
}

fn result_of<'a>(
    run: &Run,
    results: &'a BTreeMap<String, Result<(), i32>>,
    key: &str,
) -> &'a Result<(), i32> {
    results
        .get(key)
        .unwrap_or_else(|| run.fail(&format!("fsprobe printed nothing for `{key}`")))
}

#[test]
fn box_has_its_own_pid_namespace() {
    // Host processes with a recognisable name that the box must not see.
    let mut sleepers: Vec<_> = (0..3)
        .map(|_| {
            Command::new("sleep")
                .arg("30")
                .spawn()
                .expect("spawn host sleep")
        })
        .collect();
    let run = run(&[], &["ps"]);
    for s in &mut sleepers {
        let _ = s.kill();
        let _ = s.wait();
    }
    run.expect_status("ok");
    let self_pid: i32 = run.get("self").parse().unwrap();
    let procs: Vec<(i32, String)> = run
        .out()
        .lines()
        .filter_map(|l| {
            let mut f = l.strip_prefix("proc ")?.splitn(2, ' ');
            Some((f.next()?.parse().ok()?, f.next()?.to_string()))
        })
        .collect();
    if self_pid > 3 {
        run.fail(&format!(
            "getpid() in the box is {self_pid}; a fresh pid namespace numbers it 1..3"
        ));
    }
    if !procs.iter().any(|(pid, _)| *pid == self_pid) {
        run.fail("the box's /proc does not show the program itself: not the box's own procfs");
    }
    if procs
        .iter()
        .any(|(_, name)| name == "sleep" || name.starts_with("run_isolation"))
        || procs.len() > 3
    {
        run.fail(&format!(
            "the box's /proc shows processes outside the box: {procs:?}"
        ));
    }
}

#[test]
fn box_has_only_loopback_and_cannot_reach_host_listener() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let port = listener.local_addr().unwrap().port().to_string();
    let run = run(&[], &["net", &port]);
    run.expect_status("ok");
    let out = run.out();
    let ifaces: Vec<&str> = out
        .lines()
        .filter_map(|l| l.strip_prefix("iface "))
        .collect();
    if ifaces != ["lo"] {
        run.fail(&format!(
            "interfaces in the box: {ifaces:?}, expected only lo"
        ));
    }
    let connect = out
        .lines()
        .find_map(|l| l.strip_prefix("connect "))
        .unwrap_or_else(|| run.fail("no connect line"));
    if connect == "ok" {
        run.fail("connect() to the host's 127.0.0.1 listener succeeded from inside the box");
    }
    match listener.accept() {
        Err(e) if e.kind() == ErrorKind::WouldBlock => {}
        other => run.fail(&format!("the host listener saw a connection: {other:?}")),
    }
}

#[test]
fn program_runs_unprivileged_as_the_box_uid() {
    let run = run(&[], &["whoami"]);
    run.expect_status("ok");
    let uid: u32 = run.get("uid").parse().unwrap();
    if !BOX_UIDS.contains(&uid) {
        run.fail(&format!("uid {uid} is not in {BOX_UIDS:?}"));
    }
    for key in ["euid", "gid", "egid"] {
        if run.get(key) != uid.to_string() {
            run.fail(&format!(
                "{key}={} but uid={uid} (expected uid = gid, no setuid)",
                run.get(key)
            ));
        }
    }
    if run.num("uid") != uid as u64 {
        run.fail("report `uid` differs from the uid the program saw");
    }
    let groups = run.get("groups");
    if groups.split(',').any(|g| g == "0") {
        run.fail(&format!(
            "the box keeps supplementary group 0: groups={groups}"
        ));
    }
    for cap in ["CapInh", "CapPrm", "CapEff", "CapAmb"] {
        let value = run.get(cap);
        if u64::from_str_radix(&value, 16) != Ok(0) {
            run.fail(&format!("{cap}={value}: the box must have no capabilities"));
        }
    }
    if run.get("NoNewPrivs") != "1" {
        run.fail("NoNewPrivs is not set");
    }
    if run.get("Seccomp") != "2" {
        run.fail("no seccomp filter is installed (Seccomp != 2)");
    }
}

#[test]
fn hostname_inside_is_judge() {
    let run = run(&[], &["whoami"]);
    run.expect_status("ok");
    if run.get("nodename") != "judge" {
        run.fail("hostname inside the box is not `judge`");
    }
}

#[test]
fn environment_is_clean_and_cwd_is_box() {
    let run = Judge::new(&["--env", "FOO=bar"], &["env"])
        .env("JUDGE_TEST_SECRET", "leaked")
        .run();
    run.expect_status("ok");
    if run.get("cwd") != "/box" {
        run.fail("default working directory is not /box");
    }
    let mut env: Vec<String> = run
        .out()
        .lines()
        .filter_map(|l| l.strip_prefix("env "))
        .map(String::from)
        .collect();
    env.sort();
    let expected = ["FOO=bar", "HOME=/box", "PATH=/usr/local/bin:/usr/bin:/bin"];
    if env != expected {
        run.fail(&format!(
            "environment is {env:?}, expected exactly {expected:?}"
        ));
    }
}

#[test]
fn file_system_is_read_only_except_tmp_and_box() {
    let (run, r) = fs_probe(
        &[],
        &[
            ("w", "/probe"),
            ("w", "/usr/probe"),
            ("w", "/etc/probe"),
            ("w", "/bin/probe"),
            ("m", "/newdir"),
            ("w", "/progs/probe"),
            ("w", "/dev/probe"),
            ("w", "/sys/fs/cgroup/probe"),
            ("w", "/tmp/probe"),
            ("r", "/tmp/probe"),
            ("w", "/box/probe"),
            ("r", "/box/probe"),
            ("m", "/box/dir"),
            ("r", "/etc/passwd"),
        ],
    );
    for key in [
        "w /probe",
        "w /usr/probe",
        "w /etc/probe",
        "w /bin/probe",
        "m /newdir",
        "w /progs/probe",
        "w /dev/probe",
        "w /sys/fs/cgroup/probe",
    ] {
        if result_of(&run, &r, key).is_ok() {
            run.fail(&format!(
                "`{key}` succeeded: that part of the box must not be writable"
            ));
        }
    }
    for key in [
        "w /tmp/probe",
        "r /tmp/probe",
        "w /box/probe",
        "r /box/probe",
        "m /box/dir",
        "r /etc/passwd",
    ] {
        if let Err(e) = result_of(&run, &r, key) {
            run.fail(&format!(
                "`{key}` failed with errno {e}; it must work in the box"
            ));
        }
    }
}

#[test]
fn host_secrets_and_trees_are_absent() {
    let (run, r) = fs_probe(
        &[],
        &[
            ("s", "/etc/shadow"),
            ("r", "/etc/shadow"),
            ("s", "/work"),
            ("s", "/root"),
            ("s", "/var/tmp"),
            ("s", "/home"),
        ],
    );
    if result_of(&run, &r, "r /etc/shadow").is_ok() {
        run.fail("/etc/shadow is readable in the box");
    }
    for key in [
        "s /etc/shadow",
        "s /work",
        "s /root",
        "s /var/tmp",
        "s /home",
    ] {
        if result_of(&run, &r, key) != &Err(ENOENT) {
            run.fail(&format!(
                "`{key}`: expected ENOENT (not part of the box tree), got {:?}",
                r[key]
            ));
        }
    }
}

#[test]
fn bind_is_writable_and_ro_bind_is_read_only() {
    let rw = shared_dir(0o777);
    let ro = shared_dir(0o777); // world-writable on the host: only the mount can make it read-only
    fs::write(ro.path().join("existing"), "host data\n").unwrap();
    fs::set_permissions(
        ro.path().join("existing"),
        fs::Permissions::from_mode(0o666),
    )
    .unwrap();
    let (run, r) = fs_probe(
        &[
            "--bind",
            rw.path().to_str().unwrap(),
            "/out",
            "--ro-bind",
            ro.path().to_str().unwrap(),
            "/in",
        ],
        &[
            ("w", "/out/written"),
            ("r", "/in/existing"),
            ("w", "/in/new"),
            ("w", "/in/existing"),
        ],
    );
    if let Err(e) = result_of(&run, &r, "w /out/written") {
        run.fail(&format!("writing into the --bind dir failed: errno {e}"));
    }
    if fs::read_to_string(rw.path().join("written"))
        .ok()
        .as_deref()
        != Some("probe\n")
    {
        run.fail("the file written through --bind is not on the host");
    }
    if let Err(e) = result_of(&run, &r, "r /in/existing") {
        run.fail(&format!("reading from the --ro-bind dir failed: errno {e}"));
    }
    for key in ["w /in/new", "w /in/existing"] {
        if result_of(&run, &r, key) != &Err(EROFS) {
            run.fail(&format!(
                "`{key}` in the --ro-bind dir: expected EROFS, got {:?}",
                r[key]
            ));
        }
    }
    assert_eq!(
        fs::read_to_string(ro.path().join("existing")).unwrap(),
        "host data\n"
    );
    assert!(
        !ro.path().join("new").exists(),
        "a file appeared in the host's --ro-bind dir"
    );
}

#[test]
fn dev_holds_only_the_harmless_devices() {
    let run = run(&[], &["lsdev"]);
    run.expect_status("ok");
    let allowed: BTreeMap<&str, &str> = [
        ("null", "1:3"),
        ("zero", "1:5"),
        ("full", "1:7"),
        ("random", "1:8"),
        ("urandom", "1:9"),
    ]
    .into();
    let mut seen = Vec::new();
    let out = run.out();
    for line in out.lines() {
        let fields: Vec<&str> = line.split(' ').collect();
        let [kind, path, dev] = fields[..] else {
            run.fail(&format!("bad lsdev line `{line}`"))
        };
        let name = path.rsplit('/').next().unwrap();
        match kind {
            "b" => run.fail(&format!("block device {path} ({dev}) in the box")),
            "c" if allowed.get(name) == Some(&dev) && path == format!("/dev/{name}") => {
                seen.push(name)
            }
            "c" => run.fail(&format!(
                "char device {path} ({dev}) is not one of {allowed:?}"
            )),
            _ => {}
        }
        if ["mem", "kmem", "port", "kmsg"].contains(&name) {
            run.fail(&format!("{path} exists in the box"));
        }
    }
    seen.sort();
    if seen != ["full", "null", "random", "urandom", "zero"] {
        run.fail(&format!(
            "the box's /dev has {seen:?}; expected null, zero, full, random, urandom"
        ));
    }
}

/// Expected outcome of each probe of `blocked`: Some(errno), or None for "must not succeed".
const BLOCKED: &[(&str, Option<i32>)] = &[
    ("unshare_newuser", Some(EPERM)),
    ("unshare_newns", Some(EPERM)),
    ("unshare_newpid", Some(EPERM)),
    ("unshare_newnet", Some(EPERM)),
    ("unshare_newuts", Some(EPERM)),
    ("unshare_newipc", Some(EPERM)),
    ("unshare_newcgroup", Some(EPERM)),
    ("unshare_newtime", Some(EPERM)),
    ("clone_newuser", Some(EPERM)),
    ("clone_newns", Some(EPERM)),
    ("clone_newpid", Some(EPERM)),
    ("clone_newnet", Some(EPERM)),
    ("clone_newuts", Some(EPERM)),
    ("clone_newipc", Some(EPERM)),
    ("clone_newcgroup", Some(EPERM)),
    ("clone3", Some(ENOSYS)),
    ("setns", Some(EPERM)),
    ("mount", Some(EPERM)),
    ("umount2", Some(EPERM)),
    ("pivot_root", Some(EPERM)),
    ("chroot", Some(EPERM)),
    ("ptrace_traceme", Some(EPERM)),
    ("ptrace_attach_init", Some(EPERM)),
    ("ptrace_attach_child", Some(EPERM)),
    ("process_vm_readv", Some(EPERM)),
    ("process_vm_writev", Some(EPERM)),
    ("add_key", Some(EPERM)),
    ("request_key", Some(EPERM)),
    ("keyctl", Some(EPERM)),
    ("bpf", Some(EPERM)),
    ("perf_event_open", Some(EPERM)),
    ("userfaultfd", Some(EPERM)),
    ("io_uring_setup", Some(ENOSYS)),
    ("io_uring_enter", Some(ENOSYS)),
    ("io_uring_register", Some(ENOSYS)),
    ("kexec_load", Some(EPERM)),
    ("kexec_file_load", Some(EPERM)),
    ("init_module", Some(EPERM)),
    ("finit_module", Some(EPERM)),
    ("delete_module", Some(EPERM)),
    ("reboot", Some(EPERM)),
    ("swapon", Some(EPERM)),
    ("swapoff", Some(EPERM)),
    ("syslog", Some(EPERM)),
    ("settimeofday", Some(EPERM)),
    ("clock_settime", Some(EPERM)),
    ("sethostname", Some(EPERM)),
    ("setdomainname", Some(EPERM)),
    ("open_by_handle_at", Some(EPERM)),
    ("fsopen", Some(EPERM)),
    ("fsmount", Some(EPERM)),
    ("move_mount", Some(EPERM)),
    ("open_tree", Some(EPERM)),
    ("tiocsti", Some(EPERM)),
    ("mknod_mem", Some(EPERM)),
    // The kernel may kill (SIGSYS) or fail these; they must just not work.
    ("x32_getpid", None),
    ("int80_getpid", None),
];

#[test]
fn denied_syscalls_fail() {
    let hostname_before = fs::read_to_string("/proc/sys/kernel/hostname").unwrap();
    let domain_before = fs::read_to_string("/proc/sys/kernel/domainname").unwrap();
    let run = run(&[], &["blocked"]);
    assert_eq!(
        fs::read_to_string("/proc/sys/kernel/hostname").unwrap(),
        hostname_before,
        "host hostname changed"
    );
    assert_eq!(
        fs::read_to_string("/proc/sys/kernel/domainname").unwrap(),
        domain_before,
        "host domainname changed"
    );
    run.expect_status("ok");
    let out = run.out();
    let results: BTreeMap<&str, &str> = out.lines().filter_map(|l| l.split_once(' ')).collect();
    let mut wrong = Vec::new();
    for (name, expected) in BLOCKED {
        let got = results.get(name).copied().unwrap_or("<missing>");
        let good = match expected {
            Some(errno) => got == format!("errno={errno}"),
            None => got != "ok" && got != "<missing>",
        };
        if !good {
            let want = expected.map_or("anything but ok".to_string(), |e| format!("errno={e}"));
            wrong.push(format!("{name}: got {got}, want {want}"));
        }
    }
    if !out.lines().any(|l| l == "done") {
        wrong.push("the probe program did not finish (no `done` line)".into());
    }
    if !wrong.is_empty() {
        run.fail(&format!(
            "{} syscall probe(s) wrong:\n  {}",
            wrong.len(),
            wrong.join("\n  ")
        ));
    }
}

#[test]
fn kill_minus_one_only_kills_the_box() {
    let dir = shared_dir(0o777);
    let d = dir.path().to_str().unwrap().to_string();
    let mut running = Judge::new(
        &["--bind", &d, "/sync", "--wall", "30"],
        &["killall", "/sync"],
    )
    .spawn();
    let wait_file = |name: &str, running: &mut Running| -> String {
        let start = Instant::now();
        loop {
            if let Ok(text) = fs::read_to_string(dir.path().join(name)) {
                return text;
            }
            if running.has_exited() || start.elapsed() > Duration::from_secs(20) {
                panic!(
                    "the box never wrote {name} (judge exited: {})",
                    running.has_exited()
                );
            }
            thread::sleep(Duration::from_millis(10));
        }
    };
    // A host process with the box's own uid: kill(-1) from the box could signal it if the pid
    // namespace did not stand in the way.
    let uid: u32 = wait_file("uid", &mut running).trim().parse().unwrap();
    let mut sleeper = Command::new("sleep")
        .arg("30")
        .uid(uid)
        .gid(uid)
        .spawn()
        .unwrap();
    fs::write(dir.path().join("go"), "").unwrap();
    let killed = wait_file("killed", &mut running);
    thread::sleep(Duration::from_millis(200));
    let survived = sleeper.try_wait().unwrap().is_none();
    fs::write(dir.path().join("go2"), "").unwrap();
    let run = running.wait();
    let _ = sleeper.kill();
    let _ = sleeper.wait();
    assert!(
        survived,
        "kill(-1, SIGKILL) from the box (result `{killed}`) killed a host process of uid {uid}"
    );
    if !run.exit.success() || run.report.is_none() {
        run.fail("judge produced no report after the box ran kill(-1)");
    }
    run.expect_status("ok");
}

#[test]
fn setuid_root_binary_does_not_give_root() {
    let dir = shared_dir(0o755);
    let bin = dir.path().join("suid-whoami");
    fs::copy(host_program("whoami"), &bin).unwrap();
    // SAFETY: chown(2) on a path we own, with a valid NUL-terminated string.
    let path = std::ffi::CString::new(bin.to_str().unwrap()).unwrap();
    assert_eq!(unsafe { libc::chown(path.as_ptr(), 0, 0) }, 0);
    fs::set_permissions(&bin, fs::Permissions::from_mode(0o4755)).unwrap();
    assert_eq!(
        fs::metadata(&bin).unwrap().permissions().mode() & 0o7777,
        0o4755,
        "could not set up the setuid file"
    );
    let d = dir.path().to_str().unwrap();
    let run = Judge::raw(&["--ro-bind", d, "/suid", "--", "/suid/suid-whoami"]).run();
    run.expect_status("ok");
    if run.get("euid") == "0" || run.get("uid") == "0" {
        run.fail("a setuid-root binary ran with root ids inside the box");
    }
}

#[test]
fn cpus_pins_the_box_and_the_program_cannot_widen_it() {
    let _serial = serial();
    // --cpus puts the box in a cpuset: the program sees one CPU, and asking the kernel for
    // another (taskset) does not give it more.
    let run = Judge::raw(&[
        "--cpus",
        "0",
        "--",
        "/bin/sh",
        "-c",
        "grep Cpus_allowed_list /proc/self/status; taskset -c 1 grep Cpus_allowed_list /proc/self/status; true",
    ])
    .spawn()
    .wait();
    run.expect_status("ok");
    let out = run.out();
    if !out.lines().next().is_some_and(|l| l.split_whitespace().last() == Some("0")) {
        run.fail("the box was not pinned to CPU 0");
    }
    if out.lines().any(|l| l.contains("Cpus_allowed_list") && l.split_whitespace().last() != Some("0")) {
        run.fail("the program widened its CPUs beyond the box's cpuset");
    }
}
