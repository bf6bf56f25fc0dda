//! Fault injection: judge (CLI or library process) killed mid-run, a full box, bad host paths,
//! foreign binaries, stdio that misbehaves. Every test is bounded in time and checks that the
//! next run still works and nothing is left behind.
//!
//! Run inside a throwaway namespace:
//! `unshare -m -p -f --mount-proc cargo test --release --test faults -- --nocapture`.

mod common;

use std::fs;
use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use common::*;

/// Env var that turns `lib_child_holds_a_box` into a real run (it is the library "victim").
const LIB_CHILD_ENV: &str = "JUDGE_FAULTS_LIB_CHILD";

fn exit_code(run: &Run) -> Option<i32> {
    run.exit.code()
}

/// Polls until no process of `uid` exists; fails after `limit` showing what is left and whether
/// it still burns CPU.
fn assert_uid_gone_within(uid: u32, limit: Duration, context: &str) -> Duration {
    let start = Instant::now();
    loop {
        let left = processes_where(|u| u == uid);
        if left.is_empty() {
            return start.elapsed();
        }
        if start.elapsed() > limit {
            let burning: Vec<(i32, u64, u64)> = left
                .iter()
                .map(|p| {
                    let a = cpu_ticks(p.pid);
                    thread::sleep(Duration::from_millis(100));
                    (p.pid, a, cpu_ticks(p.pid))
                })
                .collect();
            kill_box_processes();
            panic!(
                "{context}: processes of box uid {uid} still alive {:?} after the kill: {left:#?}\n\
                 (pid, cpu ticks, cpu ticks 100 ms later): {burning:?}",
                start.elapsed()
            );
        }
        thread::sleep(Duration::from_millis(10));
    }
}

/// utime + stime of a process, in clock ticks (0 if it is gone).
fn cpu_ticks(pid: i32) -> u64 {
    let Ok(stat) = fs::read_to_string(format!("/proc/{pid}/stat")) else { return 0 };
    let Some(rest) = stat.rsplit_once(')').map(|(_, r)| r) else { return 0 };
    let f: Vec<&str> = rest.split_whitespace().collect();
    // After ")": state is field 3 -> index 0; utime is field 14 -> index 11, stime index 12.
    f.get(11).and_then(|x| x.parse::<u64>().ok()).unwrap_or(0)
        + f.get(12).and_then(|x| x.parse::<u64>().ok()).unwrap_or(0)
}

/// Waits until a box process named `name` has used some CPU (it really runs), returns it.
fn wait_for_burning(name: &str) -> ProcInfo {
    let p = wait_for_box_process(name, Duration::from_secs(10));
    let start = Instant::now();
    while cpu_ticks(p.pid) < 5 {
        assert!(start.elapsed() < Duration::from_secs(5), "{name} (pid {}) does not burn CPU", p.pid);
        thread::sleep(Duration::from_millis(10));
    }
    p
}

fn assert_swept(cgroups: &[PathBuf], context: &str) {
    assert!(!cgroups.is_empty(), "{context}: found no box cgroups of the killed run");
    let next = common::run(&[], &["whoami"]);
    next.expect_status("ok");
    let left: Vec<&PathBuf> = cgroups.iter().filter(|p| p.exists()).collect();
    assert!(left.is_empty(), "{context}: the next judge run did not sweep the killed run's cgroups: {left:?}");
}

// ---------------------------------------------------------------------------------------------
// Killed supervisors

#[test]
fn cli_sigkilled_mid_run_box_dies_and_next_run_sweeps() {
    let _serial = serial();
    let mounts_before = mounts();
    let running = Judge::new(&["--time", "30"], &["spin"]).spawn();
    let spin = wait_for_burning("spin");
    let uid = spin.uids[0];
    let cgroups = learn_cgroups_of(spin.pid);
    eprintln!("cli kill: box uid {uid}, cgroups {cgroups:?}");
    running.signal(libc::SIGKILL);
    let run = running.wait();
    assert!(!run.exit.success(), "judge survived SIGKILL?");
    let took = assert_uid_gone_within(uid, Duration::from_secs(2), "judge run SIGKILLed");
    eprintln!("cli kill: box gone {took:?} after judge was reaped");
    assert_swept(&cgroups, "judge run SIGKILLed");
    assert_nothing_left(&mounts_before, "after SIGKILL of judge run and one more run");
}

/// Not a test on its own: the library "victim" of `library_process_sigkilled_mid_run...`,
/// started as a child process of the test binary. Without the env var it does nothing.
#[test]
#[ignore]
fn lib_child_holds_a_box() {
    let Ok(progs) = std::env::var(LIB_CHILD_ENV) else { return };
    let sandbox = Arc::new(runner::Sandbox::with_defaults().expect("sandbox"));
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    rt.block_on(async move {
        let mut s = runner::RunSpec::new(format!("{PROGS}/spin"));
        s.mounts.push(runner::BindMount { src: progs.into(), dest: PROGS.into(), writable: false });
        s.limits.cpu_time = Duration::from_secs(30);
        s.limits.wall_time = Duration::from_secs(60);
        // A second, concurrent box too, so that more than one supervisor thread is killed.
        let mut s2 = s.clone();
        s2.program = format!("{PROGS}/sleep_ms");
        s2.args = vec!["60000".into()];
        let (a, b) = tokio::join!(sandbox.run_async(s), sandbox.run_async(s2));
        eprintln!("lib child: runs ended?! {a:?} {b:?}");
    });
}

#[test]
fn library_process_sigkilled_mid_run_box_dies_and_next_run_sweeps() {
    let _serial = serial();
    let mounts_before = mounts();
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args(["lib_child_holds_a_box", "--exact", "--ignored", "--nocapture", "--test-threads=1"])
        .env(LIB_CHILD_ENV, programs_dir())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .spawn()
        .expect("start the library child");
    struct KillOnDrop(i32);
    impl Drop for KillOnDrop {
        fn drop(&mut self) {
            // Only on failure, i.e. possibly before the child was killed and reaped below.
            // SAFETY: kill(2) on the pid of our own child (at worst already dead: ESRCH).
            if std::thread::panicking() {
                unsafe { libc::kill(self.0, libc::SIGKILL) };
                kill_box_processes();
            }
        }
    }
    let _guard = KillOnDrop(child.id() as i32);
    let spin = wait_for_burning("spin");
    let sleeper = wait_for_box_process("sleep_ms", Duration::from_secs(10));
    let mut cgroups = learn_cgroups_of(spin.pid);
    cgroups.extend(learn_cgroups_of(sleeper.pid));
    eprintln!("lib kill: box uids {} and {}, cgroups {cgroups:?}", spin.uids[0], sleeper.uids[0]);
    // SAFETY: kill(2) on our own unreaped child.
    assert_eq!(unsafe { libc::kill(child.id() as i32, libc::SIGKILL) }, 0);
    let status = child.wait().unwrap();
    assert!(!status.success());
    let took = assert_uid_gone_within(spin.uids[0], Duration::from_secs(2), "library process SIGKILLed (spin)");
    assert_uid_gone_within(sleeper.uids[0], Duration::from_secs(2), "library process SIGKILLed (sleeper)");
    eprintln!("lib kill: boxes gone {took:?} after the process was reaped");
    assert_swept(&cgroups, "library process SIGKILLed");
    assert_nothing_left(&mounts_before, "after SIGKILL of a library process and one more run");
}

// ---------------------------------------------------------------------------------------------
// The box's writable space full

#[test]
fn full_tmp_and_box_give_a_clear_status_and_the_next_run_works() {
    let _serial = serial();
    let mounts_before = mounts();
    for path in ["/tmp/fill", "/box/fill"] {
        let run = Judge::new(&["--mem", "32M", "--output", "256M", "--time", "5"], &["fillfile", path, "100"])
            .deadline(Duration::from_secs(30))
            .run();
        let status = run.status().to_string();
        let out = run.out();
        eprintln!("fill {path}: status {status}, output {:?}, memory {}", out.trim(), run.num("memory_bytes"));
        match status.as_str() {
            "memory_limit" | "output_limit" => {}
            "nonzero_exit" => assert!(
                out.contains("errno=28"),
                "{path}: nonzero exit without ENOSPC\n{}",
                run.dump()
            ),
            _ => run.fail(&format!("{path}: filling the box's tmpfs gave status {status}")),
        }
        assert!(!out.contains("wrote 100 MiB"), "{path}: 100 MiB fit in a 32 MiB box\n{}", run.dump());
        let next = common::run(&["--mem", "32M"], &["fillfile", path, "8"]);
        next.expect_status("ok");
        assert!(next.out().contains("wrote 8 MiB"), "{}", next.dump());
    }
    assert_nothing_left(&mounts_before, "after filling the box");
}

// ---------------------------------------------------------------------------------------------
// Host paths

fn expect_exit_2(run: &Run, needle: &str, context: &str) {
    if exit_code(run) != Some(2) {
        run.fail(&format!("{context}: expected exit 2"));
    }
    if !run.stderr.contains(needle) {
        run.fail(&format!("{context}: message does not name {needle:?}"));
    }
    eprintln!("{context}: exit 2, stderr: {}", run.stderr.trim());
}

fn next_run_works() {
    common::run(&[], &["whoami"]).expect_status("ok");
}

#[test]
fn stdio_paths_in_missing_directories_exit_2_naming_the_path() {
    let _serial = serial();
    let mounts_before = mounts();
    let missing = "/var/tmp/judge-faults-no-such-dir/sub/out.txt";
    for opt in ["--stdout", "--stderr"] {
        let run = Judge::new(&[opt, missing], &["whoami"]).deadline(Duration::from_secs(10)).spawn().wait();
        expect_exit_2(&run, missing, opt);
        assert!(!Path::new(missing).exists());
        next_run_works();
    }
    let missing_in = "/var/tmp/judge-faults-no-such-input.txt";
    let run = Judge::new(&["--stdin", missing_in], &["cat"]).deadline(Duration::from_secs(10)).spawn().wait();
    expect_exit_2(&run, missing_in, "--stdin");
    next_run_works();
    // A bind source that does not exist.
    let run = Judge::new(&["--ro-bind", "/var/tmp/judge-faults-no-such-src", "/data"], &["whoami"])
        .deadline(Duration::from_secs(10))
        .spawn()
        .wait();
    expect_exit_2(&run, "/var/tmp/judge-faults-no-such-src", "--ro-bind missing src");
    next_run_works();
    assert_nothing_left(&mounts_before, "after bad stdio paths");
}

#[test]
fn unusable_state_dir_is_an_error_naming_it_and_defaults_still_work() {
    let _serial = serial();
    programs_dir();
    let dir = shared_dir(0o755);
    let file = dir.path().join("plain-file");
    fs::write(&file, "not a dir").unwrap();
    let state = file.join("state");
    let config = runner::SandboxConfig { state_dir: state.clone(), ..Default::default() };
    match runner::Sandbox::new(config) {
        Ok(_) => panic!("a sandbox with state dir {} (under a regular file) was created", state.display()),
        Err(e) => {
            let msg = e.to_string();
            eprintln!("state dir under a file: {msg}");
            assert!(msg.contains(&*file.to_string_lossy()), "error does not name the path: {msg}");
        }
    }
    let sb = runner::Sandbox::with_defaults().expect("default sandbox after a failed one");
    let mut s = runner::RunSpec::new(format!("{PROGS}/whoami"));
    s.mounts.push(runner::BindMount { src: programs_dir().into(), dest: PROGS.into(), writable: false });
    let r = sb.run(&s).expect("run");
    assert_eq!(r.status, runner::Status::Ok, "{r:#?}");
}

/// `judge ARGS` in a mount namespace of its own where `setup` (sh) first breaks a host path;
/// the rest of the host (and the next run) sees nothing of it.
fn judge_with_broken_host(setup: &str, args: &[&str]) -> (Option<i32>, String, String) {
    let script = format!("set -e; {setup}; exec \"$0\" \"$@\"");
    let mut cmd = Command::new("unshare");
    cmd.args(["--mount", "--propagation", "private", "sh", "-c", &script, JUDGE]).args(args);
    let out = cmd.stdin(Stdio::null()).output().expect("run unshare");
    (out.status.code(), String::from_utf8_lossy(&out.stdout).into_owned(), String::from_utf8_lossy(&out.stderr).into_owned())
}

#[test]
fn unwritable_or_misplaced_host_dirs_exit_2_naming_them_and_the_next_run_works() {
    let _serial = serial();
    programs_dir();
    let report_dir = tempfile::tempdir().unwrap();
    let report = report_dir.path().join("report.json");
    let report_s = report.to_string_lossy().into_owned();
    let run_args = ["run", "--report", &report_s, "--", "/bin/true"];
    // The state dir (slot locks, the /etc snapshot): made once, then read-only; then a file
    // where the directory should be.
    fs::create_dir_all(format!("{}/slots", runner::STATE_DIR)).unwrap();
    let state = runner::STATE_DIR;
    let cases = [
        (format!("mount --bind {state} {state}; mount -o remount,bind,ro {state}"), format!("{state}/slots/"), "Read-only file system"),
        (format!("mount -t tmpfs tmpfs {state}/..; touch {state}"), format!("{state}/slots"), "Not a directory"),
    ];
    for (setup, path, why) in &cases {
        let _ = fs::remove_file(&report);
        let (code, _, stderr) = judge_with_broken_host(setup, &run_args);
        eprintln!("{setup}: exit {code:?}: {}", stderr.trim());
        assert_eq!(code, Some(2), "{setup}: judge run must exit 2; stderr: {stderr}");
        assert!(stderr.contains(path.as_str()) && stderr.contains(why), "{setup}: stderr does not name {path} ({why}): {stderr}");
        let r: serde_json::Value = serde_json::from_slice(&fs::read(&report).expect("a sandbox_error report")).unwrap();
        assert_eq!(r["status"], "sandbox_error", "{r}");
        assert!(r["message"].as_str().unwrap_or("").contains(path.as_str()), "{r}");
        next_run_works();
    }
    // The judging commands' work root: read-only, then a file in its place.
    let work = "/var/tmp/judge-work";
    fs::create_dir_all(work).unwrap();
    let problem = format!("{}/problems/hello-ab", env!("CARGO_MANIFEST_DIR"));
    let source = format!("{problem}/submissions/accepted/hello.c");
    let submit = ["submit", "--json", &problem, &source];
    let cases = [
        (format!("mount --bind {work} {work}; mount -o remount,bind,ro {work}"), "Read-only file system"),
        (format!("mount -t tmpfs tmpfs {work}/..; touch {work}"), "File exists"),
    ];
    for (setup, why) in &cases {
        let (code, stdout, stderr) = judge_with_broken_host(setup, &submit);
        eprintln!("{setup}: exit {code:?}: {}", stderr.trim());
        assert_eq!(code, Some(2), "{setup}: judge submit must exit 2 (a judge error, not a verdict); stdout {stdout}, stderr {stderr}");
        assert!(stderr.contains(work) && stderr.contains(why), "{setup}: stderr does not name {work} ({why}): {stderr}");
        assert!(!stdout.contains("\"verdict\""), "{setup}: a verdict was printed although nothing could be judged: {stdout}");
    }
    // Restored (the namespaces are gone): both work again.
    next_run_works();
    let out = Command::new(JUDGE).args(submit).stdin(Stdio::null()).output().unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("judge submit --json after the faults: {e}; stderr {}", String::from_utf8_lossy(&out.stderr)));
    assert_eq!(v["verdict"], "AC", "{v}");
}

/// On a cgroup v1 host a delegated cgroup (a v2 feature) is refused, not ignored.
#[test]
fn delegated_cgroup_on_a_v1_host_is_refused() {
    let _serial = serial();
    if runner::cgroup::Hierarchy::detect().map(|h| h.version()).ok() != Some(runner::cgroup::CgroupVersion::V1) {
        eprintln!("SKIPPED: this host is not driven through cgroup v1 (tests/vm_cgroup_v2.rs covers v2)");
        return;
    }
    let run = Judge::new(&["--cgroup", "/sys/fs/cgroup/unified/some.scope"], &["whoami"]).deadline(Duration::from_secs(10)).spawn().wait();
    expect_exit_2(&run, "/sys/fs/cgroup/unified/some.scope", "--cgroup on v1");
    let run = Judge::new(&[], &["whoami"]).env("JUDGE_CGROUP", "/sys/fs/cgroup/x.scope").deadline(Duration::from_secs(10)).spawn().wait();
    expect_exit_2(&run, "cgroup v1", "JUDGE_CGROUP on v1");
    next_run_works();
}

#[test]
fn missing_program_exits_2_naming_it() {
    let _serial = serial();
    let mounts_before = mounts();
    let run = Judge::new(&[], &["no-such-program"]).deadline(Duration::from_secs(10)).spawn().wait();
    expect_exit_2(&run, "/progs/no-such-program", "missing program");
    if let Some(r) = &run.report {
        assert_eq!(r["status"], "sandbox_error", "report of a missing program: {r}");
    }
    next_run_works();
    assert_nothing_left(&mounts_before, "after a missing program");
}

/// A minimal static aarch64 ELF executable: header + one PT_LOAD (never runs on x86-64).
fn aarch64_elf() -> Vec<u8> {
    let mut b = Vec::new();
    b.extend_from_slice(&[0x7f, b'E', b'L', b'F', 2, 1, 1, 0]);
    b.extend_from_slice(&[0; 8]);
    b.extend_from_slice(&2u16.to_le_bytes()); // ET_EXEC
    b.extend_from_slice(&183u16.to_le_bytes()); // EM_AARCH64
    b.extend_from_slice(&1u32.to_le_bytes()); // EV_CURRENT
    b.extend_from_slice(&0x400078u64.to_le_bytes()); // e_entry
    b.extend_from_slice(&64u64.to_le_bytes()); // e_phoff
    b.extend_from_slice(&0u64.to_le_bytes()); // e_shoff
    b.extend_from_slice(&0u32.to_le_bytes()); // e_flags
    b.extend_from_slice(&64u16.to_le_bytes()); // e_ehsize
    b.extend_from_slice(&56u16.to_le_bytes()); // e_phentsize
    b.extend_from_slice(&1u16.to_le_bytes()); // e_phnum
    b.extend_from_slice(&[0; 6]); // shentsize, shnum, shstrndx
    assert_eq!(b.len(), 64);
    b.extend_from_slice(&1u32.to_le_bytes()); // PT_LOAD
    b.extend_from_slice(&5u32.to_le_bytes()); // R+X
    b.extend_from_slice(&0u64.to_le_bytes()); // p_offset
    b.extend_from_slice(&0x400000u64.to_le_bytes()); // p_vaddr
    b.extend_from_slice(&0x400000u64.to_le_bytes()); // p_paddr
    b.extend_from_slice(&0x80u64.to_le_bytes()); // p_filesz
    b.extend_from_slice(&0x80u64.to_le_bytes()); // p_memsz
    b.extend_from_slice(&0x1000u64.to_le_bytes()); // p_align
    // mov x0, #0; mov x8, #93; svc #0  (exit(0))
    b.extend_from_slice(&[0x00, 0x00, 0x80, 0xd2, 0xa8, 0x0b, 0x80, 0xd2, 0x01, 0x00, 0x00, 0xd4]);
    b.resize(0x80, 0);
    b
}

#[test]
fn foreign_architecture_binary_is_exec_format_error() {
    let _serial = serial();
    let mounts_before = mounts();
    let dir = shared_dir(0o755);
    let bin = dir.path().join("a64");
    fs::write(&bin, aarch64_elf()).unwrap();
    fs::set_permissions(&bin, fs::Permissions::from_mode(0o755)).unwrap();
    let src = dir.path().to_string_lossy().into_owned();
    let run = Judge::raw(&["--ro-bind", &src, "/foreign", "--", "/foreign/a64"])
        .deadline(Duration::from_secs(10))
        .spawn()
        .wait();
    expect_exit_2(&run, "Exec format error", "aarch64 binary");
    assert!(run.stderr.contains("/foreign/a64"), "message does not name the program: {}", run.stderr);
    // A file that is not an executable at all, but has the x bit (no #! line, garbage).
    let junk = dir.path().join("junk");
    fs::write(&junk, b"\x00\x01\x02 not a program").unwrap();
    fs::set_permissions(&junk, fs::Permissions::from_mode(0o755)).unwrap();
    let run = Judge::raw(&["--ro-bind", &src, "/foreign", "--", "/foreign/junk"])
        .deadline(Duration::from_secs(10))
        .spawn()
        .wait();
    expect_exit_2(&run, "Exec format error", "junk executable");
    next_run_works();
    assert_nothing_left(&mounts_before, "after a foreign binary");
}

// ---------------------------------------------------------------------------------------------
// Stdio that misbehaves

#[test]
fn large_stdin_never_read_ends_normally() {
    let _serial = serial();
    let mounts_before = mounts();
    let dir = shared_dir(0o755);
    let input = dir.path().join("big.in");
    {
        let mut f = fs::File::create(&input).unwrap();
        let chunk = vec![b'7'; 1 << 20];
        for _ in 0..50 {
            f.write_all(&chunk).unwrap();
        }
    }
    let input_s = input.to_string_lossy().into_owned();
    // A file as stdin, never read.
    let run = Judge::new(&["--stdin", &input_s], &["whoami"]).deadline(Duration::from_secs(20)).run();
    run.expect_status("ok");
    eprintln!("50 MB stdin file, unread: {:?}", run.elapsed);
    // The same file read to the end (cat to a file): all 50 MB arrive.
    let out = dir.path().join("big.out");
    let out_s = out.to_string_lossy().into_owned();
    let run = Judge::new(&["--stdin", &input_s, "--stdout", &out_s], &["cat"]).deadline(Duration::from_secs(30)).run();
    run.expect_status("ok");
    assert_eq!(fs::metadata(&out).unwrap().len(), 50 << 20, "{}", run.dump());
    eprintln!("50 MB stdin file through cat: {:?}", run.elapsed);
    // judge's own stdin (`--stdin -`), a pipe we keep feeding 50 MB, never read by the box.
    let report = dir.path().join("report.json");
    let mut child = Command::new(JUDGE)
        .args(["run", "--report"])
        .arg(&report)
        .args(["--stdin", "-", "--ro-bind"])
        .arg(programs_dir())
        .args([PROGS, "--", "/progs/whoami", "300"])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let writer = thread::spawn(move || {
        let chunk = vec![b'8'; 1 << 20];
        let mut sent = 0usize;
        for _ in 0..50 {
            if stdin.write_all(&chunk).is_err() {
                break;
            }
            sent += chunk.len();
        }
        sent
    });
    let start = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if start.elapsed() > Duration::from_secs(20) {
            let _ = child.kill();
            let _ = child.wait();
            kill_box_processes();
            panic!("judge --stdin - with 50 MB unread on a pipe hung for 20 s");
        }
        thread::sleep(Duration::from_millis(10));
    };
    let sent = writer.join().unwrap();
    let report: serde_json::Value = serde_json::from_str(&fs::read_to_string(&report).unwrap()).unwrap();
    eprintln!("--stdin - pipe: judge {status:?} after {:?}, writer got {sent} bytes in, status {}", start.elapsed(), report["status"]);
    assert!(status.success());
    assert_eq!(report["status"], "ok", "{report}");
    assert_nothing_left(&mounts_before, "after large stdin");
}

#[test]
fn program_closing_stdout_early_while_pumped() {
    let _serial = serial();
    let mounts_before = mounts();
    let run = Judge::new(&["--time", "2"], &["closeout", "300"]).deadline(Duration::from_secs(10)).run();
    run.expect_status("ok");
    assert_eq!(run.out(), "before-close\n", "{}", run.dump());
    let run = Judge::new(&["--time", "2"], &["closeout", "300", "both"]).deadline(Duration::from_secs(10)).run();
    run.expect_status("ok");
    assert_eq!(run.out(), "before-close\n", "{}", run.dump());
    assert!(run.elapsed < Duration::from_secs(5));
    assert_nothing_left(&mounts_before, "after a program closed its stdout");
}

#[test]
fn reader_of_judges_stdout_goes_away_while_it_pumps() {
    let _serial = serial();
    let mounts_before = mounts();
    let dir = shared_dir(0o755);
    let report = dir.path().join("report.json");
    let mut child = Command::new(JUDGE)
        .args(["run", "--report"])
        .arg(&report)
        .args(["--time", "10", "--output", "1G", "--ro-bind"])
        .arg(programs_dir())
        .args([PROGS, "--", "/progs/flood", "536870912"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut out = child.stdout.take().unwrap();
    let mut buf = vec![0u8; 1 << 16];
    use std::io::Read;
    let mut got = 0;
    while got < (1 << 20) {
        got += out.read(&mut buf).unwrap();
    }
    drop(out); // the consumer of judge's stdout goes away mid-flood
    let start = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if start.elapsed() > Duration::from_secs(20) {
            let _ = child.kill();
            let _ = child.wait();
            kill_box_processes();
            panic!("judge kept running 20 s after its stdout reader went away");
        }
        thread::sleep(Duration::from_millis(10));
    };
    let mut err = String::new();
    let _ = child.stderr.take().unwrap().read_to_string(&mut err);
    let rep = fs::read_to_string(&report).unwrap_or_default();
    eprintln!("stdout reader gone: judge {status:?} after {:?}; report {rep}; stderr {}", start.elapsed(), err.trim());
    if let Ok(v) = serde_json::from_str::<serde_json::Value>(&rep) {
        remember_report(&v);
    }
    let left = box_processes();
    assert!(left.is_empty() || {
        thread::sleep(Duration::from_millis(500));
        box_processes().is_empty()
    }, "box left after judge's stdout reader went away: {left:#?}");
    next_run_works();
    assert_nothing_left(&mounts_before, "after judge's stdout reader went away");
}

fn remember_report(v: &serde_json::Value) {
    if let Some(paths) = v["cgroup_paths"].as_array() {
        for p in paths.iter().filter_map(|p| p.as_str()) {
            assert!(!Path::new(p).exists(), "cgroup {p} of the run still exists");
        }
    }
}

#[test]
fn fifo_or_symlink_as_stdout_is_refused_and_the_target_untouched() {
    let _serial = serial();
    let mounts_before = mounts();
    let dir = shared_dir(0o755);
    let fifo = dir.path().join("out.fifo");
    let c = std::ffi::CString::new(fifo.to_string_lossy().as_bytes()).unwrap();
    // SAFETY: mkfifo(3) with a valid C string.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o666) }, 0);
    let fifo_s = fifo.to_string_lossy().into_owned();
    for opt in ["--stdout", "--stderr"] {
        // Nobody opens the FIFO's read end: a judge that opened it blocking would hang here.
        let run = Judge::new(&[opt, &fifo_s], &["flood", "1000"]).deadline(Duration::from_secs(10)).spawn().wait();
        expect_exit_2(&run, &fifo_s, &format!("{opt} FIFO"));
        next_run_works();
    }
    // A FIFO that has a reader: the open succeeds, judge must still refuse it (and write nothing).
    let fifo_c = std::ffi::CString::new(fifo_s.as_bytes()).unwrap();
    // SAFETY: open(2) of our FIFO's read end, non-blocking; closed below.
    let reader = unsafe { libc::open(fifo_c.as_ptr(), libc::O_RDONLY | libc::O_NONBLOCK | libc::O_CLOEXEC) };
    assert!(reader >= 0, "open the FIFO's read end: {}", std::io::Error::last_os_error());
    for opt in ["--stdout", "--stderr"] {
        let run = Judge::new(&[opt, &fifo_s], &["flood", "1000"]).deadline(Duration::from_secs(10)).spawn().wait();
        expect_exit_2(&run, &fifo_s, &format!("{opt} FIFO with a reader"));
        let mut buf = [0u8; 4096];
        // SAFETY: read(2) into a stack buffer from our own descriptor.
        let n = unsafe { libc::read(reader, buf.as_mut_ptr().cast(), buf.len()) };
        assert!(n <= 0, "{opt}: {n} bytes arrived through the refused FIFO");
        next_run_works();
    }
    // SAFETY: closing our own descriptor.
    unsafe { libc::close(reader) };
    let target = dir.path().join("precious.txt");
    let content = "precious content, must survive\n";
    fs::write(&target, content).unwrap();
    let link = dir.path().join("out.lnk");
    std::os::unix::fs::symlink(&target, &link).unwrap();
    let link_s = link.to_string_lossy().into_owned();
    // A dangling symlink: judge must not create its target either.
    let dangling_target = dir.path().join("created-through-link.txt");
    let dangling = dir.path().join("dangling.lnk");
    std::os::unix::fs::symlink(&dangling_target, &dangling).unwrap();
    let dangling_s = dangling.to_string_lossy().into_owned();
    for opt in ["--stdout", "--stderr"] {
        let run = Judge::new(&[opt, &link_s], &["flood", "1000"]).deadline(Duration::from_secs(10)).spawn().wait();
        expect_exit_2(&run, &link_s, &format!("{opt} symlink"));
        assert_eq!(fs::read_to_string(&target).unwrap(), content, "{opt}: symlink target changed");
        assert!(fs::symlink_metadata(&link).unwrap().file_type().is_symlink());
        let run = Judge::new(&[opt, &dangling_s], &["flood", "1000"]).deadline(Duration::from_secs(10)).spawn().wait();
        expect_exit_2(&run, &dangling_s, &format!("{opt} dangling symlink"));
        assert!(!dangling_target.exists(), "{opt}: judge created the target of a dangling symlink");
        next_run_works();
    }
    assert_nothing_left(&mounts_before, "after FIFO/symlink outputs");
}
