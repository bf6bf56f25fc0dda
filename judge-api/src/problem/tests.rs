//! Problem packages built in temporary directories: both formats, and malformed ones.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::*;
use crate::verdict::{SubmissionResult, TestResult, Verdict};

struct Pkg {
    _tmp: tempfile::TempDir,
    root: PathBuf,
}

impl Pkg {
    fn new() -> Pkg {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path().join("hello");
        std::fs::create_dir(&root).unwrap();
        Pkg { _tmp: tmp, root }
    }

    fn file(&self, rel: &str, content: &str) -> &Pkg {
        self.bytes(rel, content.as_bytes())
    }

    fn bytes(&self, rel: &str, content: &[u8]) -> &Pkg {
        let p = self.root.join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, content).unwrap();
        self
    }

    fn dir(&self, rel: &str) -> &Pkg {
        std::fs::create_dir_all(self.root.join(rel)).unwrap();
        self
    }

    /// `<rel>.in` and `<rel>.ans`.
    fn case(&self, rel: &str) -> &Pkg {
        self.file(&format!("{rel}.in"), "1 2\n").file(&format!("{rel}.ans"), "3\n")
    }

    fn remove(&self, rel: &str) -> &Pkg {
        let p = self.root.join(rel);
        if p.is_dir() {
            std::fs::remove_dir_all(p).unwrap();
        } else {
            std::fs::remove_file(p).unwrap();
        }
        self
    }

    fn load(&self) -> Problem {
        match load(&self.root) {
            Ok(p) => p,
            Err(e) => panic!("load failed: {e}"),
        }
    }

    fn err(&self) -> String {
        match load(&self.root) {
            Ok(_) => panic!("expected an error"),
            Err(e) => e.to_string(),
        }
    }
}

/// A minimal valid package of either format.
fn minimal(yaml: &str) -> Pkg {
    let p = Pkg::new();
    p.file("problem.yaml", yaml).case("data/sample/1").case("data/secret/1");
    p
}

fn names(p: &Problem) -> Vec<String> {
    p.test_cases().iter().map(|c| c.name.clone()).collect()
}

fn strs(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

fn has_warning(p: &Problem, needle: &str) -> bool {
    p.warnings.iter().any(|w| w.contains(needle))
}

// ---------------------------------------------------------------- legacy

#[test]
fn legacy_pass_fail() {
    let p = Pkg::new();
    p.file("problem.yaml", "name: Hello World\nvalidator_flags: float_tolerance 1e-6\nauthor: Someone\nsource: NCPC\n")
        .case("data/sample/1")
        .case("data/secret/b")
        .case("data/secret/a")
        .file("data/secret/a.desc", "what this tests\n")
        .file("submissions/accepted/sol.py", "print(3)\n")
        .dir("submissions/accepted/multi")
        .file("submissions/accepted/multi/main.cpp", "")
        .file("submissions/wrong_answer/wa.py", "")
        .file("submissions/time_limit_exceeded/slow.cpp", "")
        .file("submissions/run_time_error/crash.py", "")
        .file("submissions/odd/x.py", "")
        .file("submissions/.gitignore", "*.o\n");
    let pr = p.load();
    assert_eq!(pr.format, FormatVersion::Legacy);
    assert_eq!(pr.name, "Hello World");
    assert_eq!(pr.short_name, "hello");
    assert!(!pr.scoring && !pr.interactive && !pr.multi_pass);
    assert_eq!(pr.limits.time_limit, None);
    assert_eq!(pr.limits.time_multiplier, 5.0);
    assert_eq!(pr.limits.time_safety_margin, 2.0);
    assert_eq!(pr.limits.memory_bytes, 2048 << 20);
    assert_eq!(pr.limits.output_bytes, 8 << 20);
    assert_eq!(pr.limits.compilation_time, Duration::from_secs(60));
    assert_eq!(pr.output_validation, OutputValidation::Default { args: strs(&["float_tolerance", "1e-6"]) });
    assert_eq!(names(&pr), strs(&["sample/1", "secret/a", "secret/b"]));
    let cases = pr.test_cases();
    assert!(cases[0].sample && !cases[1].sample);
    assert_eq!(cases[1].args, strs(&["float_tolerance", "1e-6"]));
    assert_eq!(cases[1].input, p.root.join("data/secret/a.in"));
    assert_eq!(cases[1].answer, p.root.join("data/secret/a.ans"));
    assert_eq!(pr.data.name, "data");
    assert_eq!(pr.data.groups.iter().map(|g| g.name.as_str()).collect::<Vec<_>>(), ["sample", "secret"]);

    let subs: HashMap<&str, &SubmissionSpec> = pr.submissions.iter().map(|s| (s.name.as_str(), s)).collect();
    assert_eq!(subs.len(), 5, "{:?}", subs.keys());
    assert_eq!(subs["accepted/sol.py"].expected, [Verdict::AC]);
    assert!(subs["accepted/sol.py"].lower_bounds_time_limit);
    assert_eq!(subs["accepted/multi"].path, p.root.join("submissions/accepted/multi"));
    assert_eq!(subs["wrong_answer/wa.py"].expected, [Verdict::WA]);
    assert_eq!(subs["time_limit_exceeded/slow.cpp"].expected, [Verdict::TLE]);
    assert!(subs["time_limit_exceeded/slow.cpp"].upper_bounds_time_limit);
    assert_eq!(subs["run_time_error/crash.py"].expected, [Verdict::MLE, Verdict::OLE, Verdict::RTE]);
    assert!(has_warning(&pr, "submissions/odd/x.py"));
    assert!(!has_warning(&pr, "author"), "{:?}", pr.warnings);
}

#[test]
fn legacy_time_limit_derivation_and_files() {
    let p = minimal("");
    let pr = p.load();
    assert_eq!(pr.name, "hello", "falls back to the directory name");
    let l = &pr.limits;
    assert_eq!(l.derive_time_limit(Duration::from_millis(300)), Duration::from_secs(2)); // 1.5 -> 2
    assert_eq!(l.derive_time_limit(Duration::from_millis(100)), Duration::from_secs(1)); // 0.5 -> 1
    assert_eq!(l.derive_time_limit(Duration::from_millis(400)), Duration::from_secs(2)); // exactly 2
    assert_eq!(l.derive_time_limit(Duration::ZERO), Duration::from_secs(1));
    assert_eq!(l.tle_threshold(Duration::from_secs(2)), Duration::from_secs(4));

    p.file(".timelimit", "2.5\n");
    assert_eq!(p.load().limits.time_limit, Some(Duration::from_millis(2500)));
    p.file("problem.yaml", "limits:\n  time_limit: 3\n");
    let pr = p.load();
    assert_eq!(pr.limits.time_limit, Some(Duration::from_secs(3)));
    assert!(has_warning(&pr, ".timelimit"));
    p.remove(".timelimit").file("problem.yaml", "").file("domjudge-problem.ini", "name='x'\ntimelimit = '4'\n");
    assert_eq!(p.load().limits.time_limit, Some(Duration::from_secs(4)));
    p.file(".timelimit", "fast\n");
    assert_eq!(p.err(), ".timelimit: expected a positive number of seconds, got \"fast\"");
}

#[test]
fn legacy_name_from_statement() {
    let p = minimal("");
    p.file("problem_statement/problem.en.tex", "\\problemname{Counting {Sheep}}\nText\n");
    assert_eq!(p.load().name, "Counting {Sheep}");
    p.file("problem_statement/problem.en.tex", "%% plainproblemname: x^2\n\\problemname{$x^2$}\n");
    assert_eq!(p.load().name, "x^2");
}

#[test]
fn legacy_limits() {
    let p = minimal(
        "limits:\n  time_multiplier: 3\n  time_safety_margin: 1.5\n  memory: 512\n  output: 16\n  code: 64\n  compilation_time: 30\n  \
         compilation_memory: 1024\n  validation_time: 10\n  validation_memory: 256\n  validation_output: 4\n",
    );
    let l = p.load().limits;
    assert_eq!(l.time_multiplier, 3.0);
    assert_eq!(l.time_safety_margin, 1.5);
    assert_eq!(l.memory_bytes, 512 << 20);
    assert_eq!(l.output_bytes, 16 << 20);
    assert_eq!(l.code_bytes, 64 << 10);
    assert_eq!(l.compilation_time, Duration::from_secs(30));
    assert_eq!(l.compilation_memory_bytes, 1024 << 20);
    assert_eq!(l.validation_time, Duration::from_secs(10));
    assert_eq!(l.validation_memory_bytes, 256 << 20);
    assert_eq!(l.validation_output_bytes, 4 << 20);
    assert_eq!(l.derive_time_limit(Duration::from_millis(500)), Duration::from_secs(2));
}

/// The testdata_tools idiom: all-or-nothing subtasks (min of accept_score), summed in secret,
/// samples ignored.
fn legacy_scoring_pkg() -> Pkg {
    let p = Pkg::new();
    p.file("problem.yaml", "type: scoring\nvalidation: custom score\nvalidator_flags: strict\n")
        .file("output_validators/val/validate.cpp", "int main(){}\n")
        .file("output_validators/val/validate.h", "\n")
        .file(
            "data/testdata.yaml",
            "on_reject: continue\nrange: 0 100\naccept_score: 0\ngrader_flags: first_error ignore_sample\n",
        )
        .file(
            "data/secret/testdata.yaml",
            "on_reject: continue\nrange: 0 100\naccept_score: 0\ngrader_flags: first_error accept_if_any_accepted\n",
        )
        .file(
            "data/secret/g1/testdata.yaml",
            "on_reject: break\naccept_score: 30\nrange: 0 30\ngrader_flags: min\noutput_validator_flags: mode1\n",
        )
        .file("data/secret/g2/testdata.yaml", "on_reject: break\naccept_score: 70\nrange: 0 70\ngrader_flags: min\n")
        .case("data/sample/1")
        .case("data/secret/g1/1")
        .case("data/secret/g1/2")
        .case("data/secret/g2/1")
        .case("data/secret/g2/sub/1")
        .case("data/secret/g2/sub/2")
        .file("submissions/accepted/full.cpp", "")
        .file("submissions/partially_accepted/part.cpp", "");
    p
}

#[test]
fn legacy_scoring_nested_groups() {
    let p = legacy_scoring_pkg();
    let pr = p.load();
    assert!(pr.scoring);
    let dir = p.root.join("output_validators/val");
    assert_eq!(pr.output_validation, OutputValidation::Custom { dir, args: strs(&["strict"]) });
    assert_eq!(
        names(&pr),
        strs(&["sample/1", "secret/g1/1", "secret/g1/2", "secret/g2/1", "secret/g2/sub/1", "secret/g2/sub/2"])
    );
    let root = &pr.data.settings;
    assert!(root.ignore_sample);
    assert_eq!(root.on_reject, OnReject::Continue);
    assert_eq!(root.score, Some(100.0));
    let secret = pr.group("secret").unwrap();
    assert!(secret.settings.accept_if_any_accepted);
    assert!(!secret.settings.ignore_sample, "ignore_sample only applies at the root");
    assert_eq!(secret.settings.aggregation, Aggregation::Sum);
    let g1 = pr.group("secret/g1").unwrap();
    assert_eq!(g1.settings.score, Some(30.0));
    assert_eq!(g1.settings.aggregation, Aggregation::Min);
    assert_eq!(g1.settings.on_reject, OnReject::Break);
    assert_eq!(g1.settings.verdict_mode, VerdictMode::WorstError, "grader_flags replaced, not merged");
    assert_eq!(g1.cases[0].args, strs(&["strict", "mode1"]));
    let sub = pr.group("secret/g2/sub").unwrap();
    assert_eq!(sub.settings.accept_score, 70.0, "inherited from g2");
    assert_eq!(sub.settings.aggregation, Aggregation::Min);
    assert_eq!(sub.cases[0].args, strs(&["strict"]));
    assert_eq!(sub.cases[0].name, "secret/g2/sub/1");
    let subs: HashMap<&str, &SubmissionSpec> = pr.submissions.iter().map(|s| (s.name.as_str(), s)).collect();
    assert_eq!(subs["accepted/full.cpp"].full_score, Some(true));
    assert_eq!(subs["partially_accepted/part.cpp"].full_score, Some(false));
    assert_eq!(subs["partially_accepted/part.cpp"].expected, [Verdict::AC]);

    // Grading: everything accepted.
    let all_ac = pr.grade(|_| Some(CaseOutcome::new(Verdict::AC)));
    assert_eq!((all_ac.verdict, all_ac.score), (Verdict::AC, 100.0), "{all_ac:?}");
    // One wrong answer in g1: that subtask is lost, the rest counts; the sample is ignored.
    let part = pr.grade(|c| {
        Some(CaseOutcome::new(if c.name == "secret/g1/2" || c.name == "sample/1" { Verdict::WA } else { Verdict::AC }))
    });
    assert_eq!((part.verdict, part.score), (Verdict::AC, 70.0), "{part:?}");
    assert!(part.groups.iter().any(|g| g.name == "secret/g1" && g.verdict == Verdict::WA && g.score == 0.0));
    // After a rejection in a break group the rest need not be judged.
    let lazy = pr.grade(|c| match c.name.as_str() {
        "secret/g2/1" => Some(CaseOutcome::new(Verdict::TLE)),
        "secret/g2/sub/1" | "secret/g2/sub/2" => None,
        _ => Some(CaseOutcome::new(Verdict::AC)),
    });
    assert_eq!((lazy.verdict, lazy.score), (Verdict::AC, 30.0), "{lazy:?}");
    // Everything wrong: rejected.
    let none = pr.grade(|_| Some(CaseOutcome::new(Verdict::WA)));
    assert_eq!((none.verdict, none.score), (Verdict::WA, 0.0));
    // A missing result that matters is a judge error.
    let missing = pr.grade(|c| (c.name != "secret/g1/1").then(|| CaseOutcome::new(Verdict::AC)));
    assert_eq!(missing.verdict, Verdict::JE);
    assert!(missing.error.unwrap().contains("secret/g1/1"));

    // check_submission: the partially accepted one must not get full marks.
    let spec = subs["partially_accepted/part.cpp"];
    let result = |verdict, score| SubmissionResult {
        verdict,
        score,
        max_cpu_time_ms: 0,
        max_memory_bytes: 0,
        compile_message: String::new(),
        language: "cpp".into(),
        time_limit_ms: 1000,
        tests: vec![],
    };
    assert!(pr.check_submission(spec, &result(Verdict::AC, 70.0)).is_empty());
    assert_eq!(pr.check_submission(spec, &result(Verdict::AC, 100.0)).len(), 1);
    assert!(pr.check_submission(subs["accepted/full.cpp"], &result(Verdict::AC, 100.0)).is_empty());
}

#[test]
fn legacy_scoring_with_score_files_summed() {
    let p = Pkg::new();
    p.file("problem.yaml", "type: scoring\nvalidation: custom score\n")
        .file("output_validators/v.py", "")
        .file("data/secret/testdata.yaml", "on_reject: continue\n")
        .case("data/secret/a")
        .case("data/secret/b")
        .case("data/secret/c");
    let pr = p.load();
    let g = pr.grade(|c| {
        Some(match c.name.as_str() {
            "secret/a" => CaseOutcome::with_score(Verdict::AC, 2.5),
            "secret/b" => CaseOutcome::with_score(Verdict::AC, 4.0),
            _ => CaseOutcome::new(Verdict::AC), // accept_score 1
        })
    });
    assert_eq!((g.verdict, g.score), (Verdict::AC, 7.5));
    // Pass-fail legacy: first error with the default worst_error / break.
    let p = minimal("");
    p.case("data/secret/2");
    let pr = p.load();
    let g = pr.grade(|c| Some(CaseOutcome::new(if c.name == "secret/1" { Verdict::RTE } else { Verdict::AC })));
    assert_eq!((g.verdict, g.score), (Verdict::RTE, 0.0));
    let g = pr.grade(|c| {
        (c.name != "secret/2").then(|| CaseOutcome::new(if c.name == "secret/1" { Verdict::WA } else { Verdict::AC }))
    });
    assert_eq!(g.verdict, Verdict::WA, "secret/2 skipped after the break");
    let g = pr.grade(|_| Some(CaseOutcome::new(Verdict::AC)));
    assert_eq!((g.verdict, g.score), (Verdict::AC, 1.0));
}

#[test]
fn legacy_interactive() {
    let p = Pkg::new();
    p.file("problem.yaml", "validation: custom interactive\n")
        .file("output_validators/interactor/interactor.cpp", "")
        .file("data/sample/1.interaction", "<1\n>2\n")
        .case("data/sample/1")
        .file("data/sample/2.interaction", "<1\n>2\n")
        .case("data/secret/1");
    let pr = p.load();
    assert!(pr.interactive && !pr.scoring);
    assert!(matches!(pr.output_validation, OutputValidation::Custom { .. }));
    assert_eq!(names(&pr), strs(&["sample/1", "secret/1"]));

    p.remove("output_validators");
    assert_eq!(p.err(), "output_validators/: missing: the output validator required by validation: custom");
}

#[test]
fn legacy_ordering_interleaves_cases_and_groups() {
    let p = minimal("");
    p.case("data/secret/b").case("data/secret/a/1").case("data/secret/c/1").case("data/secret/0");
    let pr = p.load();
    assert_eq!(names(&pr), strs(&["sample/1", "secret/0", "secret/1", "secret/a/1", "secret/b", "secret/c/1"]));
}

#[test]
fn legacy_default_validation_ignores_validator_dir() {
    let p = minimal("");
    p.file("output_validators/v/v.cpp", "");
    let pr = p.load();
    assert_eq!(pr.output_validation, OutputValidation::Default { args: vec![] });
    assert!(has_warning(&pr, "output_validators/"));
}

// ---------------------------------------------------------------- 2025-09

fn v2025_pkg() -> Pkg {
    let p = Pkg::new();
    p.file(
        "problem.yaml",
        "problem_format_version: 2025-09\n\
         name:\n  en: Hello\n  sv: Hej\n\
         uuid: 8ee7605a-b4d1-4b0a-9d8b-3d4a2e8a2b2f\n\
         type: scoring\n\
         credits:\n  authors: A <a@example.com>\n\
         limits:\n  time_limit: 1.5\n  memory: 512\n  time_multipliers:\n    ac_to_time_limit: 3\n  time_resolution: 0.5\n\
         languages: [cpp, python3]\n\
         allow_file_writing: true\n\
         constants:\n  eps: 1e-6\n  max_n: 1000\n",
    )
    .file("data/test_group.yaml", "output_validator_args: [float_tolerance, \"{{eps}}\"]\n")
    .case("data/sample/1")
    .file("data/sample/1.interaction", "")
    .file("data/secret/test_group.yaml", "max_score: 100\nscore_aggregation: sum\n")
    .file("data/secret/g1/test_group.yaml", "max_score: 40\n")
    .case("data/secret/g1/01")
    .dir("data/secret/g1/01.files")
    .file("data/secret/g1/01.files/extra.txt", "x\n")
    .case("data/secret/g1/02")
    .file(
        "data/secret/g2/test_group.yaml",
        "max_score: 60\nscore_aggregation: sum\noutput_validator_args: [case_sensitive]\nargs: [--fast]\nrequire_pass: [sample, secret/g1]\n",
    )
    .case("data/secret/g2/03")
    .file("data/secret/g2/03.yaml", "output_validator_args: [space_change_sensitive]\ndescription: big\n")
    .case("data/secret/g2/sub/05")
    .case("data/secret/g2/04")
    .dir("data/invalid_input")
    .file("data/invalid_input/bad.in", "x\n")
    .file("output_validator/validator.py", "")
    .file("submissions/accepted/sol.py", "")
    .file("submissions/wrong_answer/partial.py", "")
    .file("submissions/time_limit_exceeded/slow.cpp", "")
    .file("submissions/run_time_error/crash.py", "")
    .file("submissions/brute_force/brute.py", "")
    .file("submissions/rejected/bad.py", "")
    .file("submissions/other/mystery.py", "")
    .file(
        "submissions/submissions.yaml",
        "accepted:\n  language: python3\n  model_solution: true\n\
         wrong_answer/partial.py:\n  score: [40, 40]\n  secret/g1:\n    permitted: [AC]\n  secret/g2:\n    required: [WA]\n\
         time_limit_exceeded:\n  permitted: [AC, WA, TLE]\n  secret/g1:\n    permitted: [AC]\n\
         \"{other,rejected}/*\":\n  use_for_time_limit: false\n\
         brute_force:\n  message: too slow\n",
    );
    p
}

#[test]
fn v2025_package() {
    let p = v2025_pkg();
    let pr = p.load();
    assert_eq!(pr.format, FormatVersion::V2025_09);
    assert_eq!(pr.name, "Hello");
    assert_eq!(pr.names, vec![("en".to_string(), "Hello".to_string()), ("sv".to_string(), "Hej".to_string())]);
    assert!(pr.scoring && !pr.interactive);
    assert_eq!(pr.limits.time_limit, Some(Duration::from_millis(1500)));
    assert_eq!(pr.limits.memory_bytes, 512 << 20);
    assert_eq!(pr.limits.time_multiplier, 3.0);
    assert_eq!(pr.limits.time_safety_margin, 1.5);
    assert_eq!(pr.limits.derive_time_limit(Duration::from_millis(400)), Duration::from_millis(1500)); // 1.2 -> 1.5
    assert_eq!(pr.languages, Some(strs(&["cpp", "python3"])));
    assert!(pr.allow_file_writing);
    assert_eq!(pr.constants.get("eps").map(String::as_str), Some("1e-6"));
    assert_eq!(pr.output_validation, OutputValidation::Custom { dir: p.root.join("output_validator"), args: vec![] });
    assert!(pr.warnings.is_empty(), "{:?}", pr.warnings);

    assert_eq!(
        names(&pr),
        strs(&["sample/1", "secret/g1/01", "secret/g1/02", "secret/g2/03", "secret/g2/04", "secret/g2/sub/05"])
    );
    let c = |n: &str| pr.test_case(n).unwrap();
    assert_eq!(c("sample/1").args, strs(&["float_tolerance", "1e-6"]), "inherited from data/, constant substituted");
    assert!(c("sample/1").full_feedback && !c("secret/g1/01").full_feedback);
    assert_eq!(c("secret/g1/01").args, strs(&["float_tolerance", "1e-6"]));
    assert_eq!(c("secret/g1/01").files, Some(p.root.join("data/secret/g1/01.files")));
    assert_eq!(c("secret/g2/03").args, strs(&["space_change_sensitive"]), "<case>.yaml overrides");
    assert_eq!(c("secret/g2/03").submission_args, strs(&["--fast"]));
    assert_eq!(c("secret/g2/04").args, strs(&["case_sensitive"]));
    assert_eq!(c("secret/g2/sub/05").args, strs(&["case_sensitive"]), "plain directory inside a group");
    let g2 = pr.group("secret/g2").unwrap();
    assert_eq!(g2.settings.score, Some(60.0));
    assert_eq!(g2.settings.aggregation, Aggregation::Sum);
    assert_eq!(g2.settings.require_pass, strs(&["sample", "secret/g1"]));
    let g1 = pr.group("secret/g1").unwrap();
    assert_eq!((g1.settings.score, g1.settings.aggregation), (Some(40.0), Aggregation::PassFail));
    assert_eq!(g1.settings.on_reject, OnReject::Break);
    assert_eq!(pr.group("secret").unwrap().settings.score, Some(100.0));
    assert!(pr.group("sample").unwrap().settings.score.is_none());
    assert!(pr.group("secret/g2/sub").is_none());

    let subs: HashMap<&str, &SubmissionSpec> = pr.submissions.iter().map(|s| (s.name.as_str(), s)).collect();
    let acc = subs["accepted/sol.py"];
    assert_eq!(acc.expected, [Verdict::AC]);
    assert_eq!(acc.language.as_deref(), Some("python3"));
    assert!(acc.model_solution && acc.lower_bounds_time_limit && !acc.upper_bounds_time_limit);
    let wa = subs["wrong_answer/partial.py"];
    assert_eq!(wa.expected, [Verdict::WA]);
    assert_eq!(wa.expected_score, Some((40.0, 40.0)));
    assert_eq!(wa.rules.len(), 4, "{:?}", wa.rules); // folder default, own score, two scoped
    assert!(wa.rules.iter().any(|r| r.scope.as_deref() == Some("secret/g1") && r.applies_to("secret/g1/02")));
    let tle = subs["time_limit_exceeded/slow.cpp"];
    assert_eq!(tle.expected, [Verdict::WA, Verdict::TLE], "permitted overridden, required kept");
    assert!(tle.upper_bounds_time_limit && tle.lower_bounds_time_limit);
    assert_eq!(tle.time_limit_role("secret/g1/01"), (true, true), "must pass g1 in time, TLE somewhere");
    assert_eq!(tle.time_limit_role("secret/g2/03"), (false, true));
    assert_eq!(acc.time_limit_role("secret/g2/03"), (true, false));
    assert_eq!(subs["run_time_error/crash.py"].expected, [Verdict::MLE, Verdict::OLE, Verdict::RTE]);
    assert!(subs["run_time_error/crash.py"].lower_bounds_time_limit);
    let brute = subs["brute_force/brute.py"];
    assert_eq!(brute.expected, [Verdict::TLE, Verdict::MLE, Verdict::OLE, Verdict::RTE]);
    assert!(!brute.lower_bounds_time_limit && !brute.upper_bounds_time_limit);
    assert_eq!(subs["rejected/bad.py"].expected, [Verdict::WA, Verdict::TLE, Verdict::MLE, Verdict::OLE, Verdict::RTE]);
    assert_eq!(subs["other/mystery.py"].expected.len(), 6, "no expectations: anything");

    // check_submission with per-test rules.
    let test = |name: &str, verdict| TestResult {
        name: name.into(),
        verdict,
        cpu_time_ms: 0,
        wall_time_ms: 0,
        memory_bytes: 0,
        message: String::new(),
        score: None,
    };
    let result = |tests: Vec<TestResult>, verdict, score| SubmissionResult {
        verdict,
        score,
        max_cpu_time_ms: 0,
        max_memory_bytes: 0,
        compile_message: String::new(),
        language: "python3".into(),
        time_limit_ms: 1500,
        tests,
    };
    let good = result(
        vec![
            test("sample/1", Verdict::AC),
            test("secret/g1/01", Verdict::AC),
            test("secret/g1/02", Verdict::AC),
            test("secret/g2/03", Verdict::WA),
        ],
        Verdict::WA,
        40.0,
    );
    assert_eq!(pr.check_submission(wa, &good), Vec::<String>::new());
    let bad = result(vec![test("secret/g1/01", Verdict::WA), test("secret/g2/03", Verdict::AC)], Verdict::WA, 0.0);
    let v = pr.check_submission(wa, &bad);
    assert!(v.iter().any(|m| m.contains("secret/g1/01")), "{v:?}");
    assert!(v.iter().any(|m| m.contains("score")), "{v:?}");
    assert!(v.iter().any(|m| m.contains("required")), "{v:?}");
}

#[test]
fn v2025_grading() {
    let p = v2025_pkg();
    let pr = p.load();
    let ac = |_: &TestCase| Some(CaseOutcome::new(Verdict::AC));
    let g = pr.grade(ac);
    assert_eq!((g.verdict, g.score), (Verdict::AC, 100.0), "{g:?}");

    // g1 is all or nothing; g2 sums 20 per case with partial scores.
    let g = pr.grade(|c| {
        Some(match c.name.as_str() {
            "secret/g2/03" => CaseOutcome { verdict: Verdict::AC, score: None, score_multiplier: Some(0.5) },
            "secret/g2/04" => CaseOutcome::with_score(Verdict::AC, 5.0),
            "secret/g2/sub/05" => CaseOutcome::new(Verdict::WA),
            _ => CaseOutcome::new(Verdict::AC),
        })
    });
    assert_eq!(g.verdict, Verdict::WA);
    assert!((g.score - (40.0 + 10.0 + 5.0)).abs() < 1e-9, "{g:?}");

    // g1 fails: g1 scores 0 and g2 (require_pass g1) too.
    let g = pr.grade(|c| Some(CaseOutcome::new(if c.name == "secret/g1/02" { Verdict::TLE } else { Verdict::AC })));
    assert_eq!((g.verdict, g.score), (Verdict::TLE, 0.0), "{g:?}");
    // The sample fails: g2 requires it.
    let g = pr.grade(|c| Some(CaseOutcome::new(if c.name == "sample/1" { Verdict::WA } else { Verdict::AC })));
    assert_eq!((g.verdict, g.score), (Verdict::WA, 40.0), "{g:?}");

    // Validator scores that break the rules are judge errors.
    let g = pr.grade(|c| {
        Some(if c.name == "secret/g2/04" {
            CaseOutcome::with_score(Verdict::AC, 25.0)
        } else {
            CaseOutcome::new(Verdict::AC)
        })
    });
    assert_eq!(g.verdict, Verdict::JE);
    assert!(g.error.unwrap().contains("exceeds"));
    let g = pr.grade(|c| {
        Some(if c.name == "secret/g1/01" {
            CaseOutcome::with_score(Verdict::AC, 1.0)
        } else {
            CaseOutcome::new(Verdict::AC)
        })
    });
    assert_eq!(g.verdict, Verdict::JE, "score in a pass-fail group");
    let g = pr.grade(|c| (c.name != "secret/g2/04").then(|| CaseOutcome::new(Verdict::AC)));
    assert_eq!(g.verdict, Verdict::JE, "a sum group needs every case");
}

#[test]
fn v2025_pass_fail_defaults_and_secret_without_groups() {
    let p = minimal("problem_format_version: 2025-09\nname: Hi\nuuid: x\n");
    p.case("data/secret/2");
    let pr = p.load();
    assert_eq!(pr.names, vec![("en".to_string(), "Hi".to_string())]);
    assert_eq!(pr.limits.time_multiplier, 2.0);
    assert_eq!(pr.limits.time_safety_margin, 1.5);
    assert_eq!(pr.limits.time_resolution, 1.0);
    assert_eq!(pr.limits.derive_time_limit(Duration::from_millis(600)), Duration::from_secs(2)); // 1.2 -> 2
    assert_eq!(pr.limits.derive_time_limit(Duration::from_millis(500)), Duration::from_secs(1));
    assert_eq!(pr.output_validation, OutputValidation::Default { args: vec![] });
    assert!(!pr.allow_file_writing);
    let secret = pr.group("secret").unwrap();
    assert_eq!((secret.settings.aggregation, secret.settings.score), (Aggregation::PassFail, None));
    let g = pr.grade(|c| {
        (c.name != "secret/2").then(|| CaseOutcome::new(if c.name == "secret/1" { Verdict::WA } else { Verdict::AC }))
    });
    assert_eq!((g.verdict, g.score), (Verdict::WA, 0.0));
    let g = pr.grade(|_| Some(CaseOutcome::new(Verdict::AC)));
    assert_eq!((g.verdict, g.score), (Verdict::AC, 1.0));

    // Scoring with secret holding cases directly: 100 split evenly.
    p.file("problem.yaml", "problem_format_version: 2025-09\nname: Hi\ntype: scoring\n");
    let pr = p.load();
    let g = pr.grade(|c| Some(CaseOutcome::new(if c.name == "secret/1" { Verdict::WA } else { Verdict::AC })));
    assert_eq!((g.verdict, g.score), (Verdict::WA, 50.0));
}

#[test]
fn v2025_interactive() {
    let p = minimal("problem_format_version: 2025-09\nname: I\ntype: [pass-fail, interactive]\n");
    p.file("output_validator/interactor.cpp", "");
    let pr = p.load();
    assert!(pr.interactive && !pr.scoring && !pr.multi_pass);
    assert!(matches!(pr.output_validation, OutputValidation::Custom { .. }));
    p.file(
        "problem.yaml",
        "problem_format_version: 2025-09\nname: I\ntype: interactive multi-pass\nlimits:\n  validation_passes: 3\n",
    );
    let pr = p.load();
    assert!(pr.interactive && pr.multi_pass);
    assert_eq!(pr.limits.validation_passes, 3);
    p.remove("output_validator");
    assert_eq!(
        p.err(),
        "output_validator/: missing: the output validator required by an interactive or multi-pass problem"
    );
}

// ---------------------------------------------------------------- testlib extension

#[test]
fn testlib_checker_declaration() {
    let p = minimal("checker: testlib\nvalidator_flags: x\n");
    p.file("output_validators/checker/checker.cpp", "").file("output_validators/checker/testlib.h", "");
    let pr = p.load();
    assert_eq!(
        pr.output_validation,
        OutputValidation::Testlib { dir: p.root.join("output_validators/checker"), args: strs(&["x"]) }
    );

    let p = minimal("problem_format_version: 2025-09\nname: T\nchecker: testlib\n");
    p.file("output_validator/checker.cpp", "");
    assert!(matches!(p.load().output_validation, OutputValidation::Testlib { .. }));
    p.file("problem.yaml", "problem_format_version: 2025-09\nname: T\nchecker: kattis\n");
    assert!(matches!(p.load().output_validation, OutputValidation::Custom { .. }));
    p.file("problem.yaml", "problem_format_version: 2025-09\nname: T\nchecker: polygon\n");
    assert_eq!(p.err(), "problem.yaml: checker: expected \"testlib\" or \"kattis\", got \"polygon\"");
    p.file("problem.yaml", "problem_format_version: 2025-09\nname: T\nchecker: testlib\ntype: interactive\n");
    assert!(p.err().contains("not supported"), "{}", p.err());

    // A Kattis validator named checker.cpp stays a Kattis validator.
    let p = minimal("validation: custom\n");
    p.file("output_validators/checker.cpp", "");
    assert_eq!(
        p.load().output_validation,
        OutputValidation::Custom { dir: p.root.join("output_validators/checker.cpp"), args: vec![] }
    );
    let p = minimal("checker: testlib\n");
    assert_eq!(p.err(), "output_validators/: missing: the testlib checker declared by checker: testlib");
}

// ---------------------------------------------------------------- malformed packages

#[test]
fn missing_things() {
    let tmp = tempfile::tempdir().unwrap();
    let e = load(&tmp.path().join("nope")).unwrap_err();
    assert!(matches!(e, ProblemError::Missing { .. }), "{e}");

    let p = Pkg::new();
    assert_eq!(p.err(), "problem.yaml: missing: the problem metadata file (it may be empty for legacy packages)");
    p.file("problem.yaml", "name: x\n");
    assert_eq!(p.err(), "data/: missing: the test data directory");
    p.case("data/sample/1");
    assert_eq!(p.err(), "data/secret/: missing: the secret test data");
    p.dir("data/secret");
    assert_eq!(p.err(), "data/secret/: missing: secret test cases (no .in files)");
    p.file("data/secret/1.in", "1\n");
    assert_eq!(p.err(), "data/secret/1.in: test case has no answer file (expected data/secret/1.ans)");
    p.file("data/secret/1.ans", "1\n");
    p.load();
    p.file("data/secret/g/2.in", "1\n");
    assert_eq!(p.err(), "data/secret/g/2.in: test case has no answer file (expected data/secret/g/2.ans)");

    let p = minimal("problem_format_version: 2025-09\nname: x\n");
    p.file("data/secret/2.ans", "x\n");
    assert!(p.err().contains("answer file without a test case input"), "{}", p.err());
    let p = minimal("");
    p.file("data/secret/2.ans", "x\n");
    assert!(has_warning(&p.load(), "data/secret/2.ans"));
}

#[test]
fn yaml_shapes() {
    let p = minimal("");
    p.file("problem.yaml", "# only a comment\n");
    p.load();
    p.file("problem.yaml", "- a\n- b\n");
    assert_eq!(p.err(), "problem.yaml: expected a map (key: value lines), got a list [\"a\",\"b\"]");
    p.file("problem.yaml", "just a string\n");
    assert!(p.err().starts_with("problem.yaml: expected a map"), "{}", p.err());
    p.file("problem.yaml", "name: [unclosed\n");
    assert!(p.err().starts_with("problem.yaml: YAML syntax error: "), "{}", p.err());
    p.file("problem.yaml", "name: a\nname: b\n");
    assert!(p.err().starts_with("problem.yaml: YAML syntax error: "), "{}", p.err());
    p.bytes("problem.yaml", b"name: \xff\xfe\n");
    assert!(p.err().contains("not valid UTF-8"), "{}", p.err());
    p.file("problem.yaml", "limits: 5\n");
    assert_eq!(p.err(), "problem.yaml: limits: expected a map (key: value lines), got 5");
    p.file("problem.yaml", "frobnicate: yes\nlimits:\n  speed: 9\n");
    let pr = p.load();
    assert!(has_warning(&pr, "problem.yaml: frobnicate: unknown key"), "{:?}", pr.warnings);
    assert!(has_warning(&pr, "problem.yaml: limits.speed: unknown key"), "{:?}", pr.warnings);
    p.file("problem.yaml", "name:\n");
    assert_eq!(p.load().name, "hello");
}

#[test]
fn wrong_values() {
    let cases: &[(&str, &str)] = &[
        ("limits:\n  time_limit: abc\n", "problem.yaml: limits.time_limit: expected a positive number of seconds, got \"abc\""),
        ("limits:\n  time_limit: -1\n", "problem.yaml: limits.time_limit: expected a positive number of seconds, got -1"),
        ("limits:\n  time_limit: .inf\n", "problem.yaml: limits.time_limit: expected a positive number of seconds, got .inf"),
        ("limits:\n  time_limit: 1000000\n", "problem.yaml: limits.time_limit: expected a positive number of seconds, at most 86400, got 1000000"),
        ("limits:\n  memory: -5\n", "problem.yaml: limits.memory: expected a positive whole number of MiB, got -5"),
        ("limits:\n  memory: 0\n", "problem.yaml: limits.memory: expected a positive whole number of MiB, got 0"),
        ("limits:\n  memory: 1.5\n", "problem.yaml: limits.memory: expected a positive whole number of MiB, got 1.5"),
        ("limits:\n  memory: 1e30\n", "problem.yaml: limits.memory: expected a positive whole number of MiB (this is too large), got 1e30"),
        ("limits:\n  output: \"8\"\n", "problem.yaml: limits.output: expected a positive whole number of MiB, got \"8\""),
        ("limits:\n  time_multiplier: 0\n", "problem.yaml: limits.time_multiplier: expected a positive number, got 0"),
        ("limits:\n  compilation_time: [1]\n", "problem.yaml: limits.compilation_time: expected a positive number of seconds, got a list [1]"),
        ("type: interactive\n", "problem.yaml: type: expected \"pass-fail\" or \"scoring\", got \"interactive\""),
        ("validation: custom bogus\n", "problem.yaml: validation: expected \"default\" or \"custom\" followed by \"score\" and/or \"interactive\", got \"custom bogus\""),
        ("validation: default score\n", "problem.yaml: validation: expected \"default\" alone (score and interactive need custom), got \"default score\""),
        ("validation: 3\n", "problem.yaml: validation: expected a string, got 3"),
        ("problem_format_version: 2023-07-draft\n", "problem.yaml: problem_format_version: unknown version \"2023-07-draft\" (supported: legacy, legacy-icpc, 2025-09)"),
        ("problem_format_version: 2025\n", "problem.yaml: problem_format_version: expected a string such as \"2025-09\", got 2025"),
        ("type: scoring\ngrading:\n  objective: best\n", "problem.yaml: grading.objective: expected \"min\" or \"max\", got \"best\""),
        ("type: scoring\ngrading:\n  range: 0\n", "problem.yaml: grading.range: expected two numbers \"low high\" (inf, -inf allowed) with low <= high, got 0"),
    ];
    for (yaml, want) in cases {
        let p = minimal(yaml);
        assert_eq!(&p.err(), want, "for {yaml:?}");
    }
    let v = "problem_format_version: 2025-09\nname: x\n";
    let cases: &[(&str, &str)] = &[
        ("type: [scoring, pass-fail]\n", "problem.yaml: type: expected a type without both pass-fail and scoring (they are incompatible), got a list [\"scoring\",\"pass-fail\"]"),
        ("type: [scoring, scoring]\n", "problem.yaml: type: expected no repeated values, got a list [\"scoring\",\"scoring\"]"),
        ("type: []\n", "problem.yaml: type: expected a string or a non-empty list of strings, got a list []"),
        ("type: fancy\n", "problem.yaml: type: expected pass-fail, scoring, multi-pass, interactive or submit-answer, got \"fancy\""),
        ("type: submit-answer\n", "problem.yaml: not supported: type: submit-answer"),
        ("limits:\n  time_multipliers:\n    ac_to_time_limit: 0.5\n", "problem.yaml: limits.time_multipliers.ac_to_time_limit: expected a number >= 1, got 0.5"),
        ("limits:\n  time_resolution: 0\n", "problem.yaml: limits.time_resolution: expected a positive number of seconds, got 0"),
        ("limits:\n  time_limit: \"2s\"\n", "problem.yaml: limits.time_limit: expected a positive number of seconds, got \"2s\""),
        ("validator_flags: x\n", "problem.yaml: validator_flags: a legacy key; 2025-09 uses output_validator_args in data/**/test_group.yaml"),
        ("validation: custom\n", "problem.yaml: validation: a legacy key; 2025-09 uses type (e.g. type: [scoring, interactive]) and output_validator/"),
        ("languages: []\n", "problem.yaml: languages: expected \"all\" or a non-empty list of language codes, got a list []"),
        ("allow_file_writing: yes\n", "problem.yaml: allow_file_writing: expected true or false, got \"yes\""),
        ("constants:\n  9x: 1\n", "problem.yaml: constants.9x: expected a name matching [a-zA-Z_][a-zA-Z0-9_]*, got \"9x\""),
        ("constants:\n  x: [1]\n", "problem.yaml: constants.x: expected an integer, a float or a string, got a list [1]"),
    ];
    for (yaml, want) in cases {
        let p = minimal(&format!("{v}{yaml}"));
        assert_eq!(&p.err(), want, "for {yaml:?}");
    }
    // name given twice (as a map) has no duplicate-key way out; an empty map is an error.
    let p = minimal("problem_format_version: 2025-09\nname: {}\n");
    assert_eq!(p.err(), "problem.yaml: name: expected a string or a non-empty map of language to name, got a map {}");
}

#[test]
fn bad_group_files() {
    let p = minimal("");
    p.file("data/secret/testdata.yaml", "- 1\n");
    assert_eq!(p.err(), "data/secret/testdata.yaml: expected a map (key: value lines), got a list [1]");
    p.file("data/secret/testdata.yaml", "on_reject: sometimes\n");
    assert_eq!(p.err(), "data/secret/testdata.yaml: on_reject: expected \"break\" or \"continue\", got \"sometimes\"");
    p.file("data/secret/testdata.yaml", "grader_flags: best\n");
    assert!(p.err().starts_with("data/secret/testdata.yaml: grader_flags: expected flags among"), "{}", p.err());
    p.file("data/secret/testdata.yaml", "grading: custom\n");
    assert_eq!(p.err(), "data/secret/testdata.yaml: not supported: grading: custom (custom graders)");
    p.file("data/secret/testdata.yaml", "range: 5 1\n");
    assert!(p.err().starts_with("data/secret/testdata.yaml: range: expected two numbers"), "{}", p.err());
    p.file("data/secret/testdata.yaml", "a: [\n");
    assert!(p.err().starts_with("data/secret/testdata.yaml: YAML syntax error"), "{}", p.err());
    p.file("data/secret/testdata.yaml", "accept_score: 5\n");
    assert!(has_warning(&p.load(), "only apply to scoring problems"));

    let v = "problem_format_version: 2025-09\nname: x\n";
    let p = minimal(v);
    p.file("data/secret/test_group.yaml", "output_validator_args: float_tolerance 1e-6\n");
    assert_eq!(
        p.err(),
        "data/secret/test_group.yaml: output_validator_args: expected a list of strings, got \"float_tolerance 1e-6\""
    );
    p.file("data/secret/test_group.yaml", "output_validator_flags: x\n");
    assert!(p.err().contains("legacy testdata.yaml key"), "{}", p.err());
    p.file("data/secret/test_group.yaml", "max_score: 10\n");
    assert_eq!(p.err(), "data/secret/test_group.yaml: max_score: only allowed on scoring problems (type: scoring)");
    p.file("data/secret/test_group.yaml", "").file("data/secret/testdata.yaml", "");
    assert!(p.err().contains("testdata.yaml is the legacy name"), "{}", p.err());
    p.remove("data/secret/testdata.yaml").file("data/secret/1.yaml", "args: 5\n");
    assert_eq!(p.err(), "data/secret/1.yaml: args: expected a list of strings, got 5");
    p.remove("data/secret/1.yaml");

    // Scoring rules of 2025-09.
    let p = minimal("problem_format_version: 2025-09\nname: x\ntype: scoring\n");
    p.remove("data/secret/1.in").remove("data/secret/1.ans").case("data/secret/g1/1").case("data/secret/g2/1");
    assert_eq!(
        p.err(),
        "data/secret/g1/test_group.yaml: max_score: expected a number (a pass-fail group needs a bounded max_score; groups of secret default to unbounded), got unbounded"
    );
    p.file("data/secret/g1/test_group.yaml", "max_score: 50\n")
        .file("data/secret/g2/test_group.yaml", "max_score: 50\nrequire_pass: secret/g3\n");
    assert!(p.err().contains("require_pass: \"secret/g3\""), "{}", p.err());
    p.file("data/secret/g2/test_group.yaml", "max_score: 50\nscore_aggregation: average\n");
    assert_eq!(p.err(), "data/secret/g2/test_group.yaml: score_aggregation: expected \"pass-fail\", \"sum\" or \"min\", got \"average\"");
    p.file("data/secret/g2/test_group.yaml", "max_score: 30\n");
    assert!(has_warning(&p.load(), "add up to 80"));
    p.file("data/sample/test_group.yaml", "max_score: 3\n");
    assert!(p.err().contains("not allowed here"), "{}", p.err());
    p.remove("data/sample/test_group.yaml").case("data/secret/loose");
    assert_eq!(
        p.err(),
        "data/secret/: contains both test cases and test data groups (2025-09 allows one or the other)"
    );
    p.remove("data/secret/loose.in").remove("data/secret/loose.ans");
    p.file("data/secret/g1/deeper/test_group.yaml", "").case("data/secret/g1/deeper/1");
    assert!(p.err().contains("cannot be nested"), "{}", p.err());
}

#[test]
fn validator_directories() {
    let p = minimal("validation: custom\n");
    p.file("output_validators/a/a.cpp", "").file("output_validator/b.cpp", "");
    assert!(p
        .err()
        .starts_with("output_validators/: both output_validators/ (legacy) and output_validator/ (2025-09) exist"));
    p.remove("output_validator");
    p.file("output_validators/b/b.cpp", "");
    assert!(p.err().contains("more than one output validator (a, b)"), "{}", p.err());
    p.remove("output_validators");
    p.file("output_validator/v.cpp", "");
    assert!(p.err().starts_with("output_validator/: the 2025-09 directory name"), "{}", p.err());

    let p = minimal("problem_format_version: 2025-09\nname: x\n");
    p.file("output_validators/v/v.cpp", "");
    assert!(p.err().starts_with("output_validators/: the legacy directory name"), "{}", p.err());
    p.remove("output_validators").dir("output_validator");
    assert_eq!(p.err(), "output_validator/: empty directory");
}

#[test]
fn bad_submissions_yaml() {
    let v = "problem_format_version: 2025-09\nname: x\n";
    let cases: &[(&str, &str)] = &[
        ("accepted:\n  permitted: [XYZ]\n", "submissions/submissions.yaml: accepted.permitted[0]: expected one of AC, WA, TLE, RTE, got \"XYZ\""),
        ("accepted:\n  required: []\n", "submissions/submissions.yaml: accepted.required: expected a non-empty list of AC, WA, TLE, RTE, got a list []"),
        ("accepted: 5\n", "submissions/submissions.yaml: accepted: expected a map (key: value lines), got 5"),
        ("accepted:\n  use_for_time_limit: maybe\n", "submissions/submissions.yaml: accepted.use_for_time_limit: expected false, \"lower\" or \"upper\", got \"maybe\""),
        ("accepted:\n  score: 5\n", "submissions/submissions.yaml: accepted.score: only for scoring problems"),
        ("accepted:\n  required: [WA]\n", "submissions/submissions.yaml: the expectations for submissions/accepted/a.py contradict each other (no verdict satisfies them)"),
        ("\"{accepted\":\n  permitted: [AC]\n", "submissions/submissions.yaml: {accepted: expected a glob with balanced braces and at most 1000 alternatives, got \"{accepted\""),
    ];
    for (yaml, want) in cases {
        let p = minimal(v);
        p.file("submissions/accepted/a.py", "").file("submissions/submissions.yaml", yaml);
        assert_eq!(&p.err(), want, "for {yaml:?}");
    }
    let p = minimal(v);
    p.file("submissions/accepted/a.py", "").file("submissions/submissions.yaml", "accepted:\n  colour: red\n");
    assert!(has_warning(&p.load(), "accepted.colour: unknown key"));
}

#[test]
fn globs() {
    use super::submissions::{expand_braces, glob_matches};
    assert_eq!(expand_braces("a.{py,cpp}").unwrap(), strs(&["a.py", "a.cpp"]));
    assert_eq!(expand_braces("{x,y{1,2}}z").unwrap(), strs(&["xz", "y1z", "y2z"]));
    assert!(expand_braces("a{b").is_none() && expand_braces("a}b").is_none());
    assert!(expand_braces(&"{a,b}".repeat(12)).is_none(), "4096 alternatives");
    assert!(glob_matches("secret", "secret/g1/01"));
    assert!(glob_matches("secret/*-easy", "secret/g-easy/1"));
    assert!(!glob_matches("secret/*-easy", "secret/g-hard/1"));
    assert!(!glob_matches("secret/*", "sample/1"));
    assert!(glob_matches("accepted/*", "accepted/x.py"));
    assert!(!glob_matches("accepted/x.py/extra", "accepted/x.py"));
    assert!(glob_matches("*", "anything/here"));
}

#[test]
fn hidden_and_odd_files() {
    let p = minimal("");
    p.case("data/secret/.hidden")
        .file("data/.DS_Store", "")
        .file("data/secret/notes.txt", "x\n")
        .case("data/extra/1")
        .case("data/0");
    let pr = p.load();
    assert_eq!(names(&pr), strs(&["sample/1", "secret/1"]));
    assert!(has_warning(&pr, "data/extra"));
    assert!(has_warning(&pr, "data/0.in"));

    let p = minimal("problem_format_version: 2025-09\nname: x\n");
    p.case("data/secret/-odd").case("data/secret/sp ace");
    let pr = p.load();
    assert_eq!(names(&pr), strs(&["sample/1", "secret/1"]));
    assert!(has_warning(&pr, "data/secret/sp ace.in"));
}

#[cfg(unix)]
#[test]
fn symlinks_out_of_the_package_and_loops() {
    let p = minimal("");
    let outside = p.root.parent().unwrap().join("secret.txt");
    std::fs::write(&outside, "secret\n").unwrap();
    std::os::unix::fs::symlink(&outside, p.root.join("data/secret/2.in")).unwrap();
    p.file("data/secret/2.ans", "x\n");
    assert_eq!(p.err(), "data/secret/2.in: resolves outside the problem package (symlink)");

    let p = minimal("");
    std::os::unix::fs::symlink(p.root.join("data/secret"), p.root.join("data/secret/loop")).unwrap();
    assert!(p.err().contains("nested too deeply"), "{}", p.err());
    let p = minimal("problem_format_version: 2025-09\nname: x\n");
    p.case("data/secret/g/1").remove("data/secret/1.in").remove("data/secret/1.ans");
    std::os::unix::fs::symlink(p.root.join("data/secret/g"), p.root.join("data/secret/g/loop")).unwrap();
    assert!(p.err().contains("nested too deeply"), "{}", p.err());
}

#[test]
fn garbage_never_panics() {
    let garbage: &[&[u8]] = &[
        b"",
        b"\x00\x01\x02",
        b"{{{{",
        b"!!binary AAAA",
        b"- - - -",
        b"&a [*a]",
        b"a: &x {b: *x}",
        b"? [a]\n: b\n",
        b"limits: {time_limit: !!float nan}",
        b"limits: {memory: 18446744073709551616}",
        b"limits: {time_limit: 1e400}",
        b"type: [1, 2]",
        b"name: {en: [x]}",
        b"problem_format_version: [2025-09]",
        b"problem_format_version: 2025-09\ntype: [null]",
        b"problem_format_version: 2025-09\nlimits: {time_multipliers: 3}",
        b"problem_format_version: 2025-09\nlimits: {validation_passes: 1.5}\ntype: multi-pass",
        b"---\na: 1\n---\nb: 2\n",
        b"grading: []",
        b"validator_flags: {a: b}",
        b"checker: [testlib]",
        b"\xef\xbb\xbfname: bom",
    ];
    for g in garbage {
        for target in
            ["problem.yaml", "data/testdata.yaml", "data/secret/test_group.yaml", "submissions/submissions.yaml"]
        {
            for version in ["", "problem_format_version: 2025-09\nname: x\n"] {
                let p = minimal(version);
                p.file("submissions/accepted/a.py", "");
                p.bytes(target, g);
                let _ = load(&p.root).map(|pr| {
                    // Also exercise grading on whatever loaded.
                    let _ = pr.grade(|_| Some(CaseOutcome::new(Verdict::AC)));
                    let _ = pr.grade(|_| None);
                });
            }
        }
    }
}

#[test]
fn test_cases_order_and_lookup() {
    let p = minimal("");
    p.case("data/sample/10").case("data/sample/02").case("data/secret/b/1").case("data/secret/a/2");
    let pr = p.load();
    assert_eq!(names(&pr), strs(&["sample/02", "sample/1", "sample/10", "secret/1", "secret/a/2", "secret/b/1"]));
    assert_eq!(pr.group("secret/a").unwrap().all_cases().len(), 1);
    assert!(pr.test_case("secret/a/2").is_some());
    assert!(Path::new(&pr.test_case("secret/a/2").unwrap().input).ends_with("data/secret/a/2.in"));
}
