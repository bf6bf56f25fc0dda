//! The judge layer's cost (see BENCHMARKS.md), side by side in one run:
//! - `judge/ab_100_tests`: a compiled C submission judged on a 100-test A+B package (every
//!   test: a fresh box, the run, the default output validator). Divide by 100 for the cost of
//!   one test; `judge/sandbox_true` is one bare sandboxed run of /bin/true for comparison, so
//!   the difference is the judging overhead beyond the sandbox cycle.
//! - `compare/default_validator_100MB` vs `compare/read_100MB`: the default output validator on
//!   a 100 MB output against reading the same two files (from the page cache).
//!
//! Needs root. Run: `cargo bench --bench judge`.

use std::fs;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use judge_api::checker::default::{compare_files, DefaultFlags};
use judge_api::judge::{Judge, JudgeOptions};
use judge_api::language::LanguageTable;
use judge_api::verdict::Verdict;

/// A 2025-09 A+B package with `n` secret tests.
fn ab_package(dir: &Path, n: usize) {
    fs::write(
        dir.join("problem.yaml"),
        "problem_format_version: 2025-09\nname: A plus B\ntype: pass-fail\nlimits:\n  time_limit: 1\n  memory: 256\n",
    )
    .unwrap();
    let secret = dir.join("data/secret");
    fs::create_dir_all(&secret).unwrap();
    fs::create_dir_all(dir.join("data/sample")).unwrap();
    let mut x: i64 = 12345;
    for i in 0..n {
        x = x.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        let (a, b) = ((x >> 20) % 1_000_000_000, (x >> 40) % 1_000_000);
        fs::write(secret.join(format!("{i:03}.in")), format!("{a} {b}\n")).unwrap();
        fs::write(secret.join(format!("{i:03}.ans")), format!("{}\n", a + b)).unwrap();
    }
    let s = dir.join("submissions/accepted");
    fs::create_dir_all(&s).unwrap();
    fs::write(s.join("ab.c"), "#include <stdio.h>\nint main(){long long a,b;scanf(\"%lld %lld\",&a,&b);printf(\"%lld\\n\",a+b);}\n").unwrap();
}

fn judge_bench(c: &mut Criterion) {
    let work = tempfile::tempdir_in("/var/tmp").unwrap();
    let pkg = work.path().join("ab");
    fs::create_dir_all(&pkg).unwrap();
    ab_package(&pkg, 100);
    let sandbox = Arc::new(runner::Sandbox::with_defaults().expect("the judge bench needs root and cgroups"));
    let judge = Judge::new(sandbox.clone(), LanguageTable::builtin(), work.path().join("work"));
    let problem = judge.prepare(judge_api::problem::load(&pkg).unwrap()).unwrap();
    let opts = JudgeOptions::default();
    let compiled = judge.compile(&pkg.join("submissions/accepted/ab.c"), &opts).unwrap();
    assert!(compiled.ok(), "{}", compiled.compile_message);

    let mut g = c.benchmark_group("judge");
    g.sample_size(10);
    g.bench_function("ab_100_tests", |b| {
        b.iter(|| {
            let r = judge.run_tests(&problem, &compiled, &opts, &mut |_| {}).unwrap();
            assert_eq!(r.verdict, Verdict::AC);
            assert_eq!(r.tests.len(), 100);
        })
    });
    let spec = runner::RunSpec::new("/bin/true");
    g.bench_function("sandbox_true", |b| b.iter(|| assert_eq!(sandbox.run(&spec).unwrap().status, runner::Status::Ok)));
    g.finish();
}

/// Writes `bytes` of "<number> <number>\n" lines.
fn write_output(path: &PathBuf, bytes: usize) {
    let mut f = std::io::BufWriter::new(fs::File::create(path).unwrap());
    let mut written = 0;
    let mut i: u64 = 0;
    while written < bytes {
        let line = format!("{} {}.{:06}\n", i, i * 7, i % 1_000_000);
        f.write_all(line.as_bytes()).unwrap();
        written += line.len();
        i += 1;
    }
    f.flush().unwrap();
}

fn compare_bench(c: &mut Criterion) {
    const SIZE: usize = 100 << 20;
    let dir = tempfile::tempdir_in("/var/tmp").unwrap();
    let (ans, out) = (dir.path().join("ans"), dir.path().join("out"));
    write_output(&ans, SIZE);
    fs::copy(&ans, &out).unwrap();
    let mut g = c.benchmark_group("compare");
    g.sample_size(10);
    g.throughput(Throughput::Bytes(2 * SIZE as u64));
    let flags = DefaultFlags::default();
    g.bench_function("default_validator_100MB", |b| {
        b.iter(|| assert!(compare_files(&ans, &out, &flags).unwrap().accepted))
    });
    g.bench_function("read_100MB", |b| {
        b.iter(|| {
            let mut buf = vec![0u8; 64 * 1024];
            for p in [&ans, &out] {
                let mut f = fs::File::open(p).unwrap();
                while f.read(&mut buf).unwrap() > 0 {}
            }
        })
    });
    g.finish();
}

criterion_group!(benches, judge_bench, compare_bench);
criterion_main!(benches);
