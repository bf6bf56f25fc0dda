//! The sandbox's cost, side by side in one run (see BENCHMARKS.md):
//! - `bare`: fork+exec+wait of /bin/true, no sandbox;
//! - `bwrap`: Debian's bubblewrap with `--unshare-all` (namespaces and mounts, no cgroups, no
//!   seccomp) running /bin/true;
//! - `judge_cli`: `judge run -- /bin/true` (a whole process: start-up, cgroup, namespaces,
//!   mounts, seccomp, measurement, cleanup);
//! - `library`: one sandboxed run of /bin/true through `runner::Sandbox::run` in a long-lived
//!   process.
//!
//! Needs root. Run: `cargo bench --bench runner`.

use std::process::{Command, Stdio};
use std::time::Instant;

use criterion::{criterion_group, Criterion};

fn quiet(cmd: &mut Command) -> &mut Command {
    cmd.stdin(Stdio::null()).stdout(Stdio::null()).stderr(Stdio::null())
}

fn run_ok(cmd: &mut Command) {
    let st = quiet(cmd).status().expect("spawn");
    assert!(st.success(), "{cmd:?} failed: {st}");
}

fn bwrap_cmd() -> Command {
    let mut c = Command::new("bwrap");
    c.args(["--unshare-all", "--die-with-parent", "--ro-bind", "/usr", "/usr"]);
    for (link, target) in [("/bin", "usr/bin"), ("/lib", "usr/lib"), ("/lib64", "usr/lib64"), ("/sbin", "usr/sbin")] {
        if std::fs::symlink_metadata(link).map(|m| m.file_type().is_symlink()).unwrap_or(false) {
            c.args(["--symlink", target, link]);
        } else if std::path::Path::new(link).exists() {
            c.args(["--ro-bind", link, link]);
        }
    }
    c.args(["--proc", "/proc", "--dev", "/dev", "--tmpfs", "/tmp", "/bin/true"]);
    c
}

fn cycle(c: &mut Criterion) {
    let mut g = c.benchmark_group("cycle");
    g.sample_size(100);
    g.bench_function("bare", |b| b.iter(|| run_ok(&mut Command::new("/bin/true"))));
    if quiet(&mut bwrap_cmd()).status().map(|s| s.success()).unwrap_or(false) {
        g.bench_function("bwrap", |b| b.iter(|| run_ok(&mut bwrap_cmd())));
    } else {
        eprintln!("bwrap is missing or fails here: install Debian's bubblewrap to compare");
    }
    let judge = env!("CARGO_BIN_EXE_judge");
    g.bench_function("judge_cli", |b| b.iter(|| run_ok(Command::new(judge).args(["run", "--", "/bin/true"]))));
    let sandbox = runner::Sandbox::with_defaults().expect("the library bench needs root and cgroups");
    let spec = runner::RunSpec::new("/bin/true");
    g.bench_function("library", |b| {
        b.iter(|| {
            let r = sandbox.run(&spec).expect("run");
            assert_eq!(r.status, runner::Status::Ok);
        })
    });
    g.finish();
}

criterion_group!(benches, cycle);

/// The same four cycles interleaved round by round (the machine is shared and noisy, so
/// criterion's one-after-another groups can land in different load): medians and the two
/// ratios the targets are about, printed before criterion's own figures.
fn interleaved(rounds: usize) {
    let judge = env!("CARGO_BIN_EXE_judge");
    let sandbox = runner::Sandbox::with_defaults().expect("needs root and cgroups");
    let spec = runner::RunSpec::new("/bin/true");
    let have_bwrap = quiet(&mut bwrap_cmd()).status().map(|s| s.success()).unwrap_or(false);
    let mut t: [Vec<f64>; 4] = Default::default();
    for r in 0..rounds {
        for k in 0..4 {
            let which = (k + r) % 4;
            let start = Instant::now();
            match which {
                0 => run_ok(&mut Command::new("/bin/true")),
                1 if have_bwrap => run_ok(&mut bwrap_cmd()),
                1 => continue,
                2 => run_ok(Command::new(judge).args(["run", "--", "/bin/true"])),
                _ => assert_eq!(sandbox.run(&spec).expect("run").status, runner::Status::Ok),
            }
            t[which].push(start.elapsed().as_secs_f64() * 1000.0);
        }
    }
    let med = |v: &mut Vec<f64>| {
        v.sort_by(|a, b| a.partial_cmp(b).unwrap());
        if v.is_empty() { f64::NAN } else { v[v.len() / 2] }
    };
    let [bare, bwrap, cli, lib] = t.map(|mut v| med(&mut v));
    println!("interleaved, {rounds} rounds, median ms: bare {bare:.3}  bwrap {bwrap:.3}  judge_cli {cli:.3}  library {lib:.3}");
    println!("judge_cli / bwrap = {:.2}   library = {lib:.3} ms (target < 2)", cli / bwrap);
}

fn main() {
    interleaved(300);
    benches();
    Criterion::default().configure_from_args().final_summary();
}
