//! The judge layer, black-box: `judge verify`, `judge submit` and `judge batch` on the example
//! packages of problems/ and on small packages built here in temporary directories.
//!
//! Every judge invocation is bounded by a deadline (the child is killed and the test fails);
//! the deadlines are generous, since the machine is shared: nothing here asserts a timing.
//! Run inside a throwaway namespace (needs root):
//! `unshare -m -p -f --mount-proc cargo test --test judge_cli`.

mod judge_common;

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::thread;
use std::time::Duration;

use judge_common::*;
use serde_json::Value;

// ---------------------------------------------------------------------------------------------
// 1. verify

/// The example submission files of a package (what `judge verify` must check, one by one).
fn example_submissions(pkg: &Path) -> Vec<String> {
    let mut out = Vec::new();
    let sdir = pkg.join("submissions");
    for folder in fs::read_dir(&sdir).unwrap().map(|e| e.unwrap().path()).filter(|p| p.is_dir()) {
        for s in fs::read_dir(&folder).unwrap() {
            let s = s.unwrap().path();
            out.push(s.strip_prefix(pkg).unwrap().display().to_string());
        }
    }
    out.sort();
    out
}

/// `judge verify` exits 0 on every example package and its JSON says ok for every one of its
/// submissions (none skipped). One `judge verify` process per package, two at a time.
#[test]
fn verify_every_example_package() {
    let mut pkgs: Vec<PathBuf> = fs::read_dir(problems_dir()).unwrap().map(|e| e.unwrap().path()).filter(|p| p.is_dir()).collect();
    pkgs.sort();
    assert!(pkgs.len() >= 7, "expected the seven example packages, found {pkgs:?}");
    let queue = Mutex::new(pkgs.clone());
    let failures = Mutex::new(Vec::<String>::new());
    thread::scope(|s| {
        for _ in 0..SLOTS {
            s.spawn(|| loop {
                let Some(pkg) = queue.lock().unwrap().pop() else { return };
                let result = std::panic::catch_unwind(|| check_verify(&pkg));
                if let Err(e) = result {
                    let msg = e.downcast_ref::<String>().cloned().or_else(|| e.downcast_ref::<&str>().map(|s| s.to_string()));
                    failures.lock().unwrap().push(format!("{}: {}", pkg.display(), msg.unwrap_or_default()));
                }
            });
        }
    });
    let failures = failures.into_inner().unwrap();
    assert!(failures.is_empty(), "judge verify failed on {} package(s):\n\n{}", failures.len(), failures.join("\n\n"));
}

fn check_verify(pkg: &Path) {
    let out = judge(&[OsArg::from("verify"), pkg.into(), "--json".into()], Duration::from_secs(900));
    out.assert_no_panic();
    let v = out.json();
    let problems = v["problems"].as_array().unwrap_or_else(|| out.fail("no `problems` array"));
    if problems.len() != 1 {
        out.fail("expected one problem report");
    }
    let p = &problems[0];
    if !p["error"].is_null() {
        out.fail("the package failed to load");
    }
    let subs = p["submissions"].as_array().unwrap_or_else(|| out.fail("no `submissions` array"));
    let bad: Vec<&Value> = subs.iter().filter(|s| s["ok"] != Value::Bool(true)).collect();
    if !bad.is_empty() {
        out.fail(&format!("submissions not ok: {bad:#?}"));
    }
    let mut checked: Vec<String> = subs.iter().map(|s| s["submission"].as_str().unwrap_or("?").to_owned()).collect();
    checked.sort();
    if checked != example_submissions(pkg) {
        out.fail(&format!("verify checked {checked:?}, the package has {:?}", example_submissions(pkg)));
    }
    if v["ok"] != Value::Bool(true) || !out.status.success() {
        out.fail("verify did not report success (ok: true, exit 0)");
    }
}

/// hello-ab with a wrong-answer submission moved into accepted/: verify exits non-zero and
/// names that submission (and only that one) as failing.
#[test]
fn verify_fails_on_a_wrong_expectation() {
    let tmp = scratch();
    let pkg = tmp.path().join("hello-ab");
    copy_dir(&problem("hello-ab"), &pkg);
    // Keep it quick: one real accepted submission, and the impostor.
    for folder in ["run_time_error", "time_limit_exceeded", "wrong_answer"] {
        let d = pkg.join("submissions").join(folder);
        let keep = pkg.join("submissions/wrong_answer/int32.c");
        for f in fs::read_dir(&d).unwrap().map(|e| e.unwrap().path()) {
            if f != keep {
                fs::remove_file(f).unwrap();
            }
        }
    }
    for f in ["HelloAB.java", "hello.cpp", "hello.py", "hello.rs"] {
        fs::remove_file(pkg.join("submissions/accepted").join(f)).unwrap();
    }
    fs::rename(pkg.join("submissions/wrong_answer/int32.c"), pkg.join("submissions/accepted/int32.c")).unwrap();

    let out = judge(&[OsArg::from("verify"), pkg.clone().into()], Duration::from_secs(300));
    out.assert_no_panic();
    if out.status.success() {
        out.fail("verify exited 0 although accepted/int32.c gets WA");
    }
    let fail_lines: Vec<&str> = out.stdout.lines().filter(|l| l.contains("FAIL")).collect();
    if fail_lines.len() != 1 || !fail_lines[0].contains("accepted/int32.c") || !fail_lines[0].contains("WA") {
        out.fail("expected exactly one FAIL line, naming accepted/int32.c and its WA");
    }
    if !out.stdout.lines().any(|l| l.contains("accepted/hello.c") && l.trim_start().starts_with("ok")) {
        out.fail("accepted/hello.c should still be ok");
    }

    let out = judge(&[OsArg::from("verify"), pkg.into(), "--json".into()], Duration::from_secs(300));
    out.assert_no_panic();
    let v = out.json();
    if out.status.success() || v["ok"] != Value::Bool(false) {
        out.fail("verify --json: expected ok: false and a non-zero exit");
    }
    let subs = v["problems"][0]["submissions"].as_array().unwrap_or_else(|| out.fail("no submissions"));
    let bad: Vec<&str> = subs.iter().filter(|s| s["ok"] == Value::Bool(false)).map(|s| s["submission"].as_str().unwrap_or("?")).collect();
    if bad != ["submissions/accepted/int32.c"] {
        out.fail(&format!("failing submissions: {bad:?}"));
    }
}

// ---------------------------------------------------------------------------------------------
// 2. submit

fn field<'a>(v: &'a Value, key: &str, out: &Out) -> &'a Value {
    match v.get(key) {
        Some(x) => x,
        None => out.fail(&format!("no field `{key}` in {v:#}")),
    }
}

/// An accepted C submission: the JSON result has every documented field with the right
/// types, one entry per test case (in order), all AC.
#[test]
fn submit_json_of_an_accepted_submission() {
    let pkg = problem("hello-ab");
    let (v, out) = submit_json(&pkg, &pkg.join("submissions/accepted/hello.c"), &[]);
    assert_eq!(verdict(&v), "AC", "{}", out.dump());
    assert_eq!(score(&v), 1.0, "{}", out.dump());
    for key in ["max_cpu_time_ms", "max_memory_bytes"] {
        if !field(&v, key, &out).is_u64() {
            out.fail(&format!("`{key}` is not a non-negative integer"));
        }
    }
    if !field(&v, "compile_message", &out).is_string() {
        out.fail("`compile_message` is not a string");
    }
    let names: Vec<&str> = tests(&v).iter().map(|t| field(t, "name", &out).as_str().unwrap_or("?")).collect();
    if names != case_names(&pkg) {
        out.fail(&format!("tests {names:?}, expected the package's cases {:?}", case_names(&pkg)));
    }
    for t in tests(&v) {
        if field(t, "verdict", &out) != "AC"
            || !field(t, "cpu_time_ms", &out).is_u64()
            || !field(t, "memory_bytes", &out).is_u64()
            || !field(t, "message", &out).is_string()
        {
            out.fail(&format!("bad test entry {t:#}"));
        }
    }
    let max_mem = tests(&v).iter().map(|t| t["memory_bytes"].as_u64().unwrap()).max().unwrap();
    assert_eq!(v["max_memory_bytes"].as_u64(), Some(max_mem), "max_memory_bytes is not the tests' maximum\n{}", out.dump());
}

/// Without --json: one line per test case with its verdict, then the overall verdict.
#[test]
fn submit_table_lists_every_test_and_the_verdict() {
    let pkg = problem("hello-ab");
    let out = judge(&[OsArg::from("submit"), pkg.clone().into(), pkg.join("submissions/accepted/hello.py").into()], SUBMIT_DEADLINE);
    out.assert_success();
    for name in case_names(&pkg) {
        let listed = out.stdout.lines().any(|l| {
            let mut w = l.split_whitespace();
            w.next() == Some(name.as_str()) && w.next() == Some("AC")
        });
        if !listed {
            out.fail(&format!("test {name} is not listed as AC"));
        }
    }
    let last = out.stdout.lines().rev().find(|l| !l.trim().is_empty()).unwrap_or("");
    if !last.starts_with("AC score 1") {
        out.fail("the last line should give the overall verdict (AC score 1 ...)");
    }
}

/// A C file that does not compile: CE, the compiler's message, no test run.
#[test]
fn compile_error_is_ce_with_the_compilers_message() {
    let tmp = scratch();
    let src = write(tmp.path(), "broken.c", "int main(void) { return undeclared_thing; }\n");
    let (v, out) = submit_json(&problem("hello-ab"), &src, &[]);
    assert_eq!(verdict(&v), "CE", "{}", out.dump());
    assert_eq!(score(&v), 0.0, "{}", out.dump());
    let msg = v["compile_message"].as_str().unwrap_or("");
    if !(msg.contains("undeclared_thing") && msg.contains("error")) {
        out.fail("compile_message does not hold gcc's error");
    }
    if !tests(&v).is_empty() {
        out.fail("no test may run after a compilation error");
    }
}

/// Megabytes of compiler errors: still CE, and the message is bounded (64 KiB + a note).
#[test]
fn compile_error_message_is_bounded() {
    let tmp = scratch();
    let body: String = (0..10_000).map(|i| format!("#error {}{i}\n", "E".repeat(100))).collect();
    let src = write(tmp.path(), "errors.c", &(body + "int main(void) { return 0; }\n"));
    let (v, out) = submit_json(&problem("hello-ab"), &src, &[]);
    assert_eq!(verdict(&v), "CE", "{}", out.dump());
    let msg = v["compile_message"].as_str().unwrap_or("");
    if msg.len() > 64 * 1024 + 1024 {
        out.fail(&format!("compile_message is {} bytes, more than 64 KiB + a little", msg.len()));
    }
    if msg.len() < 32 * 1024 || !msg.contains("#error") {
        out.fail(&format!("compile_message ({} bytes) should hold the start of gcc's (megabytes of) errors", msg.len()));
    }
}

/// `--lang cpp` judges a C++ source whatever its file name; without it, a `.txt` file is
/// refused with a message naming the file and pointing at --lang.
#[test]
fn lang_option_overrides_the_extension() {
    let tmp = scratch();
    let src = write(tmp.path(), "solution.txt", AB_CPP);
    let pkg = problem("hello-ab");

    let out = judge(&[OsArg::from("submit"), pkg.clone().into(), src.clone().into(), "--json".into()], SUBMIT_DEADLINE);
    out.assert_no_panic();
    if out.status.success() || !out.stderr.contains("solution.txt") || !out.stderr.contains("--lang") {
        out.fail("an unknown extension should be refused, naming the file and --lang");
    }

    let (v, out) = submit_json(&pkg, &src, &["--lang", "cpp"]);
    if verdict(&v) != "AC" || v["language"] != "cpp" {
        out.fail("solution.txt with --lang cpp should be judged as C++ and accepted");
    }
}

/// Pass-fail problems stop at the first failing test; --all-tests runs them all.
#[test]
fn pass_fail_stops_at_the_first_failure_unless_all_tests() {
    let pkg = problem("hello-ab");
    let wa = pkg.join("submissions/wrong_answer/int32.c");
    let n = case_names(&pkg).len();

    let (v, out) = submit_json(&pkg, &wa, &[]);
    let vs = test_verdicts(&v);
    assert_eq!(verdict(&v), "WA", "{}", out.dump());
    if !(vs.len() < n && vs.last().map(String::as_str) == Some("WA") && vs[..vs.len() - 1].iter().all(|x| x == "AC")) {
        out.fail(&format!("expected ACs then one WA, fewer than {n} tests; got {vs:?}"));
    }

    let (v, out) = submit_json(&pkg, &wa, &["--all-tests"]);
    assert_eq!(verdict(&v), "WA", "{}", out.dump());
    let names: Vec<&str> = tests(&v).iter().map(|t| t["name"].as_str().unwrap_or("?")).collect();
    if names != case_names(&pkg) {
        out.fail(&format!("--all-tests should run all {n} tests, ran {names:?}"));
    }
    let vs = test_verdicts(&v);
    if !(vs.iter().filter(|x| *x == "WA").count() >= 2 && vs.iter().all(|x| x == "AC" || x == "WA")) {
        out.fail(&format!("int32.c fails several tests (all of them WA): {vs:?}"));
    }
}

// ---------------------------------------------------------------------------------------------
// 3. validators and checkers that fail

/// An output validator that crashes, hangs, exits 1, or exits 0 after writing garbage is a
/// judge error on the test, never an accepted (or a wrong) answer.
#[test]
fn failing_output_validators_are_judge_errors() {
    let tmp = scratch();
    let root = tmp.path();
    // The control: the same package with a correct validator accepts the submission.
    let good = custom_validator_package(
        root,
        "good",
        "#include <stdio.h>\nint main(int argc, char **argv) {\n  FILE *a = fopen(argv[2], \"r\"); long long want, got;\n  if (!a || fscanf(a, \"%lld\", &want) != 1) return 1;\n  if (scanf(\"%lld\", &got) != 1) return 43;\n  return got == want ? 42 : 43;\n}\n",
        "",
    );
    let broken = [
        ("abort", "#include <stdlib.h>\nint main(void) { abort(); }\n"),
        ("exit1", "int main(void) { return 1; }\n"),
        ("garbage0", "#include <stdio.h>\nint main(void) { puts(\"42 accepted (not really)\"); return 0; }\n"),
        ("hang", "int main(void) { volatile unsigned long x = 0; for (;;) x++; }\n"),
    ];
    let sub = write(root, "ab.c", AB_C);
    let (v, out) = submit_json(&good, &sub, &[]);
    if verdict(&v) != "AC" || tests(&v).len() != 3 {
        out.fail("control: a correct validator should accept on all 3 tests");
    }
    for (name, code) in broken {
        let pkg = custom_validator_package(root, name, code, "");
        let (v, out) = submit_json(&pkg, &sub, &["--all-tests"]);
        let vs = test_verdicts(&v);
        if verdict(&v) != "JE" || vs.is_empty() || vs.iter().any(|x| x != "JE") {
            out.fail(&format!("validator `{name}`: expected JE on every test, got {} {vs:?}", verdict(&v)));
        }
        if name == "hang" && !out.stdout.contains("time_limit") {
            out.fail("a hanging validator's message should say it hit its time limit");
        }
    }
}

/// A testlib checker's exit codes: 0 AC, 1 WA, 2 (PE) WA, 3 (FAIL) JE.
#[test]
fn testlib_checker_exit_codes() {
    let tmp = scratch();
    let sub = write(tmp.path(), "ab.c", AB_C);
    for (code, want) in [(0, "AC"), (1, "WA"), (2, "WA"), (3, "JE")] {
        let pkg = custom_validator_package(
            tmp.path(),
            &format!("exit{code}"),
            &format!("#include <stdio.h>\nint main(void) {{ fprintf(stderr, \"checker says {code}\\n\"); return {code}; }}\n"),
            "checker: testlib\n",
        );
        let (v, out) = submit_json(&pkg, &sub, &[]);
        let vs = test_verdicts(&v);
        if verdict(&v) != want || vs.is_empty() || vs.iter().any(|x| x != want) {
            out.fail(&format!("checker exiting {code}: expected {want} on every test run, got {} {vs:?}", verdict(&v)));
        }
        if code != 0 && !tests(&v)[0]["message"].as_str().unwrap_or("").contains(&format!("checker says {code}")) {
            out.fail("the checker's message should be kept");
        }
    }
}

// ---------------------------------------------------------------------------------------------
// 4. interactive problems: no deadlock

/// guess: a submission that never flushes (deadlock) is TLE, one that aborts is RTE; both end.
#[test]
fn interactive_guess_deadlock_and_crash_end() {
    let pkg = problem("guess");
    let deadline = Duration::from_secs(120);
    let (v, out) = submit_json_within(&pkg, &pkg.join("submissions/time_limit_exceeded/no_flush.c"), &[], deadline);
    assert_eq!(verdict(&v), "TLE", "{}", out.dump());
    let (v, out) = submit_json_within(&pkg, &pkg.join("submissions/run_time_error/abort.c"), &["--all-tests"], deadline);
    assert_eq!(verdict(&v), "RTE", "{}", out.dump());
    if tests(&v).len() != case_names(&pkg).len() {
        out.fail("abort.c with --all-tests: every test should have run");
    }
}

/// The validator decides WA and exits without reading while the submission keeps writing:
/// WA (the validator was first), no hang.
///
/// The submission dies of SIGPIPE *because* the validator exited, so WA is the only right
/// verdict; a judge that orders the two ends by when each box's init saw its program exit can
/// see the submission "first" under load and say RTE (seen ~4% of runs on 2 loaded cores).
#[test]
fn interactive_validator_that_quits_early_gives_wa() {
    let tmp = scratch();
    let pkg = interactive_package(tmp.path(), "quits", "int main(void) { return 43; }\n");
    let sub = write(tmp.path(), "chatty.c", "#include <stdio.h>\nint main(void) { for (;;) { puts(\"1\"); fflush(stdout); } }\n");
    let (v, out) = submit_json_within(&pkg, &sub, &[], Duration::from_secs(60));
    assert_eq!(verdict(&v), "WA", "{}", out.dump());
}

/// The submission stops reading (exits at once) while the validator keeps writing: the
/// validator sees EPIPE and says WA; nothing blocks.
#[test]
fn interactive_submission_that_stops_reading_ends() {
    let tmp = scratch();
    let pkg = interactive_package(
        tmp.path(),
        "talker",
        "#include <signal.h>\n#include <stdio.h>\nint main(void) {\n  signal(SIGPIPE, SIG_IGN);\n  for (;;) { if (puts(\"higher\") < 0 || fflush(stdout) != 0) return 43; }\n}\n",
    );
    let sub = write(tmp.path(), "quiet.c", "int main(void) { return 0; }\n");
    let (v, out) = submit_json_within(&pkg, &sub, &[], Duration::from_secs(60));
    assert_eq!(verdict(&v), "WA", "{}", out.dump());
}

/// A validator that never writes and never exits (sleeping, or spinning) while the
/// submission waits for it: the run ends at the limits, TLE or JE.
#[test]
fn interactive_silent_validator_ends_at_the_limits() {
    let tmp = scratch();
    let sub = write(
        tmp.path(),
        "waiter.c",
        "#include <stdio.h>\nint main(void) { char s[64]; puts(\"500\"); fflush(stdout); if (scanf(\"%63s\", s) != 1) return 0; puts(s); return 0; }\n",
    );
    for (name, code) in [
        ("sleeper", "#include <unistd.h>\nint main(void) { for (;;) pause(); }\n"),
        ("spinner", "int main(void) { volatile unsigned long x = 0; for (;;) x++; }\n"),
    ] {
        let pkg = interactive_package(tmp.path(), name, code);
        let (v, out) = submit_json_within(&pkg, &sub, &[], Duration::from_secs(90));
        if !matches!(verdict(&v), "TLE" | "JE") {
            out.fail(&format!("validator `{name}`: expected TLE or JE"));
        }
    }
}

// ---------------------------------------------------------------------------------------------
// 5. batch

#[test]
fn batch_grades_a_class_and_never_stops() {
    let tmp = scratch();
    let class = tmp.path().join("class");
    write(&class, "alice.c", AB_C);
    write(&class, "bob.py", AB_PY);
    write(&class, "carol/main.cpp", AB_CPP);
    write(&class, "dave.c", "int main(void) { return not_declared; }\n");
    write(&class, "erin.py", "a, b = map(int, input().split())\nprint(a - b)\n");
    write(&class, "frank.c", "int main(void) { volatile unsigned long x = 0; for (;;) x++; }\n");
    write(&class, "grace.txt", AB_C);
    fs::create_dir_all(class.join("heidi")).unwrap();
    let expected = [
        ("alice", "AC"),
        ("bob", "AC"),
        ("carol", "AC"),
        ("dave", "CE"),
        ("erin", "WA"),
        ("frank", "TLE"),
        ("grace", "JE"),
        ("heidi", "JE"),
    ];
    let base = tmp.path().join("report");
    let out = judge_with(
        &[OsArg::from("batch"), problem("hello-ab").into(), class.into(), "--jobs".into(), "2".into(), "--out".into(), base.clone().into()],
        Duration::from_secs(600),
        2,
    );
    out.assert_success();
    if !out.stdout.contains("8 submissions, 3 accepted") {
        out.fail("the summary line should say 8 submissions, 3 accepted");
    }
    // Not a terminal: no progress-bar redraws (carriage returns, escape sequences) in the output.
    if (out.stdout.clone() + &out.stderr).contains(['\r', '\x1b']) {
        out.fail("progress-bar control characters in the output although it is not a terminal");
    }

    let json_text = fs::read_to_string(base.with_extension("json")).unwrap_or_else(|e| out.fail(&format!("no report.json: {e}")));
    let rows: Vec<Value> = serde_json::from_str(&json_text).unwrap_or_else(|e| out.fail(&format!("report.json is not a JSON array: {e}")));
    let got: Vec<(&str, &str)> = rows.iter().map(|r| (r["student"].as_str().unwrap_or("?"), r["verdict"].as_str().unwrap_or("?"))).collect();
    if got != expected {
        out.fail(&format!("report.json rows {got:?}, expected {expected:?}\n{json_text}"));
    }
    for r in &rows {
        for key in ["score", "max_cpu_time_ms", "max_memory_bytes"] {
            if !r[key].is_number() {
                out.fail(&format!("row {r} has no number `{key}`"));
            }
        }
        let ac = r["verdict"] == "AC";
        if r["score"].as_f64() != Some(if ac { 1.0 } else { 0.0 }) {
            out.fail(&format!("row {r}: wrong score"));
        }
        if r["verdict"] == "JE" && r["message"].as_str().unwrap_or("").is_empty() {
            out.fail(&format!("JE row without a message: {r}"));
        }
    }

    let csv_text = fs::read_to_string(base.with_extension("csv")).unwrap_or_else(|e| out.fail(&format!("no report.csv: {e}")));
    let mut lines = csv_text.lines();
    let header: Vec<&str> = lines.next().unwrap_or("").split(',').collect();
    for col in ["student", "verdict", "score", "max_cpu_time_ms", "max_memory_bytes"] {
        if !header.contains(&col) {
            out.fail(&format!("report.csv has no `{col}` column: {header:?}"));
        }
    }
    // One record per student (messages may span lines inside quotes: count record starts).
    for (student, v) in expected {
        let prefix = format!("{student},{v},");
        if csv_text.lines().filter(|l| l.starts_with(&prefix)).count() != 1 {
            out.fail(&format!("report.csv should have one row starting {prefix:?}:\n{csv_text}"));
        }
    }
}

// ---------------------------------------------------------------------------------------------
// 6. malformed packages

#[test]
fn malformed_packages_are_reported_not_panicked_on() {
    let tmp = scratch();
    let sub = write(tmp.path(), "ab.c", AB_C);

    let bad_limit = tmp.path().join("bad-limit");
    write(&bad_limit, "problem.yaml", "problem_format_version: 2025-09\ntype: pass-fail\nname: Bad limit\nlimits: {time_limit: abc}\n");
    write_ab_data(&bad_limit);
    let no_ans = tmp.path().join("no-ans");
    write(&no_ans, "problem.yaml", "problem_format_version: legacy\nname: No answer\nlimits:\n  time_limit: 1\n");
    write_ab_data(&no_ans);
    fs::remove_file(no_ans.join("data/secret/2.ans")).unwrap();

    let cases: [(&Path, &[&str]); 2] = [
        (&bad_limit, &["problem.yaml", "limits.time_limit", "abc"]),
        (&no_ans, &["data/secret/2.in", "2.ans"]),
    ];
    for (pkg, words) in cases {
        let out = judge(&[OsArg::from("submit"), pkg.into(), sub.clone().into()], Duration::from_secs(60));
        out.assert_no_panic();
        if out.status.success() {
            out.fail("submit on a malformed package exited 0");
        }
        for w in words {
            if !out.stderr.contains(w) {
                out.fail(&format!("the error should mention {w:?}"));
            }
        }
        let out = judge(&[OsArg::from("verify"), pkg.into(), "--json".into()], Duration::from_secs(60));
        out.assert_no_panic();
        let v = out.json();
        let err = v["problems"][0]["error"].as_str().unwrap_or("");
        if out.status.success() || v["ok"] != Value::Bool(false) || !words.iter().all(|w| err.contains(w)) {
            out.fail(&format!("verify --json should fail with an error mentioning {words:?}"));
        }
    }
}

// ---------------------------------------------------------------------------------------------
// 7. scoring

#[test]
fn scoring_groups_sum() {
    let pkg = problem("groups-sum");
    let (v, out) = submit_json(&pkg, &pkg.join("submissions/time_limit_exceeded/quadratic.py"), &[]);
    if score(&v) != 30.0 || verdict(&v) != "TLE" {
        out.fail("quadratic.py: expected TLE with score 30 (group1 only)");
    }
    // A scoring problem runs every test case, failures or not.
    if tests(&v).len() != case_names(&pkg).len() {
        out.fail("every test case of a scoring problem should run");
    }
    let (v, out) = submit_json(&pkg, &pkg.join("submissions/accepted/pairs.c"), &[]);
    if score(&v) != 100.0 || verdict(&v) != "AC" {
        out.fail("pairs.c: expected AC with score 100");
    }
}

// ---------------------------------------------------------------------------------------------

/// Arguments of mixed kinds (strings and paths).
struct OsArg(std::ffi::OsString);

impl AsRef<std::ffi::OsStr> for OsArg {
    fn as_ref(&self) -> &std::ffi::OsStr {
        &self.0
    }
}

impl From<&str> for OsArg {
    fn from(s: &str) -> Self {
        OsArg(s.into())
    }
}

impl From<PathBuf> for OsArg {
    fn from(p: PathBuf) -> Self {
        OsArg(p.into())
    }
}

impl From<&Path> for OsArg {
    fn from(p: &Path) -> Self {
        OsArg(p.into())
    }
}

impl From<&PathBuf> for OsArg {
    fn from(p: &PathBuf) -> Self {
        OsArg(p.into())
    }
}

/// `judge batch` pins each job to one core: a submission that prints its allowed CPUs instead
/// of the answer gets WA, and the validator's message shows what it printed — one CPU each.
#[test]
fn batch_pins_each_job_to_one_core() {
    let tmp = scratch();
    let class = tmp.path().join("class");
    let spy = "print(open('/proc/self/status').read().split('Cpus_allowed_list:')[1].split()[0])\n";
    for s in ["s1", "s2", "s3", "s4"] {
        write(&class, &format!("{s}.py"), spy);
    }
    let base = tmp.path().join("report");
    let out = judge_with(
        &[OsArg::from("batch"), problem("hello-ab").into(), class.into(), "--jobs".into(), "2".into(), "--out".into(), base.clone().into()],
        Duration::from_secs(600),
        2,
    );
    out.assert_success();
    let rows: Value = serde_json::from_str(&fs::read_to_string(base.with_extension("json")).unwrap()).unwrap();
    let rows = rows.as_array().unwrap();
    assert_eq!(rows.len(), 4, "{rows:?}");
    let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
    for r in rows {
        assert_eq!(r["verdict"], "WA", "{r}");
        let msg = r["message"].as_str().unwrap();
        // "User: "N"" with a single CPU number, never a list or range.
        let user = msg.split("User: \"").nth(1).and_then(|s| s.split('"').next()).unwrap_or_else(|| panic!("no User token in {msg}"));
        let cpu: usize = user.parse().unwrap_or_else(|_| panic!("a job ran on CPUs {user:?}, not one core: {msg}"));
        assert!(cpu < cores, "{msg}");
    }
}
