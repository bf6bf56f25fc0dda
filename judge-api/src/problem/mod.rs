//! Problem packages in the ICPC/Kattis format.
//!
//! [`load`] reads a problem package directory in either version of the format in use:
//!
//! * `legacy` (<https://www.kattis.com/problem-package-format/spec/legacy.html>; also
//!   `legacy-icpc`): the default when `problem.yaml` has no `problem_format_version`.
//!   `problem.yaml` keys `type`, `name`, `limits` (`time_multiplier`, `time_safety_margin`,
//!   `memory`, ...), `validation` (`default` | `custom [score] [interactive]`), `validator_flags`,
//!   `grading`; `data/**/testdata.yaml`; `output_validators/<one program>`; submission folders.
//! * `2025-09` (<https://www.kattis.com/problem-package-format/spec/2025-09.html>):
//!   `type` (`pass-fail`, `scoring`, `interactive`, `multi-pass`), `name` (string or map),
//!   `limits` (`time_limit`, `time_multipliers`, `time_resolution`, ...), `languages`,
//!   `allow_file_writing`, `constants`; `data/{sample,secret}/**/test_group.yaml` and per-test-case
//!   `<case>.yaml`; `output_validator/` (one program); `submissions/submissions.yaml`.
//!
//! # Defaults
//!
//! | setting | legacy | 2025-09 |
//! |---|---|---|
//! | time limit | `limits.time_limit` (a DOMjudge/BAPCtools extension), else a `.timelimit` file, else `domjudge-problem.ini` `timelimit`, else derived | `limits.time_limit`, else derived |
//! | derivation | `ceil(slowest AC × time_multiplier)` s, at least 1 s (problemtools) | smallest multiple of `time_resolution` (1 s) ≥ slowest AC × `ac_to_time_limit` |
//! | AC multiplier | `time_multiplier` 5 | `time_multipliers.ac_to_time_limit` 2.0 |
//! | TLE margin | `time_safety_margin` 2 | `time_multipliers.time_limit_to_tle` 1.5 |
//! | memory / output / code | 2048 MiB / 8 MiB / 128 KiB ("typical system default" column of both specs) | same |
//! | compilation | 60 s, 2048 MiB | same |
//! | validation | 60 s, 2048 MiB, 8 MiB output | same, and `validation_passes` 2 |
//!
//! # Test data
//!
//! The root group is `data` with the children `sample` (if present) and `secret` (required).
//! Groups and cases are ordered lexicographically by name within a group (both specs), so
//! [`Problem::test_cases`] yields `sample/...` then `secret/...`, depth first.
//!
//! * legacy: every directory is a group, nested arbitrarily. `testdata.yaml` settings are
//!   inherited key by key from the closest ancestor that sets them (what problemtools does; the
//!   spec words it per file, which only differs when a nested file omits a key an ancestor set).
//!   The per-case output validator arguments are `validator_flags` followed by the group's
//!   `output_validator_flags` (as problemtools does). `grading:` `accept_score`, `reject_score`,
//!   `range` and `on_reject` in `problem.yaml` (pre-legacy keys) act as defaults for the root.
//!   `ignore_sample` in `grader_flags` applies at the root only.
//! * 2025-09: groups are `sample`, `secret` and the direct subdirectories of `secret`; deeper
//!   directories are plain directories whose cases belong to the enclosing group (the spec
//!   forbids further groups). `args`, `output_validator_args` and `full_feedback` are inherited
//!   (from `data/test_group.yaml` too) and overridden by `<case>.yaml`; `max_score`,
//!   `score_aggregation` and `require_pass` are per group with the spec's defaults (`secret`:
//!   100 and `sum`; its groups: unbounded and `pass-fail`). `{{constant}}`s are substituted in
//!   `test_group.yaml` and `<case>.yaml`. `<case>.files/` directories are exposed on the case.
//!   `data/invalid_input`, `invalid_output` and `valid_output` are for validating the package and
//!   are not loaded.
//!
//! Files and directories whose names begin with `.` are ignored (2025-09 also ignores names
//! beginning with `-` or with characters outside `[a-zA-Z0-9_.-]`, with a warning; legacy keeps
//! such test data, with a warning).
//!
//! # Output validation, and testlib checkers (an extension)
//!
//! Kattis-style validators (`validator input answer feedback_dir [args] < output`, exit 42/43)
//! come from `output_validators/<the one program>` (legacy, only with `validation: custom ...`)
//! or `output_validator/` (2025-09). A *testlib* checker (Codeforces/Polygon:
//! `checker input output answer`, exit 0 OK, 1 WA, 2 PE, 3 FAIL, 7 points) is declared
//! explicitly with the extension key
//!
//! ```yaml
//! checker: testlib     # or `kattis`, the default
//! ```
//!
//! at the top level of `problem.yaml`, in either format; the checker program sits where the
//! format puts the output validator (`output_validators/<name>/` or `output_validator/`, e.g.
//! `checker.cpp` next to `testlib.h`). Nothing is inferred from file names, so a Kattis
//! validator that happens to be called `checker.cpp` keeps working. `checker: testlib`
//! cannot be combined with interactive or multi-pass problems (testlib interactors are a
//! different protocol).
//!
//! # Judging helpers
//!
//! [`Problem::grade`] turns per-test-case outcomes into the submission's verdict and score as
//! the package's format prescribes (legacy default grader: `on_reject`, `grader_flags`,
//! `accept_score`/`reject_score`, `score.txt`; 2025-09: `pass-fail`/`sum`/`min` aggregation,
//! `max_score`, `score.txt`/`score_multiplier.txt`, `require_pass`).
//! [`Problem::check_submission`] compares a judged example submission with its expectations,
//! and [`SubmissionSpec::time_limit_role`] says which of its runs bound the time limit.
//!
//! # Not supported
//!
//! Custom graders (legacy `grading: custom` / `graders/`), more than one legacy output
//! validator, static validators (`static_validation_score`), `submit-answer` problems, ZIP
//! packages, problem statements (only a legacy `\problemname{}` is read, for the name),
//! input validators and their arguments, visualizers. Unknown keys are warnings (the specs say
//! they "should" be errors; a judge is more useful lenient), collected in [`Problem::warnings`]
//! and logged with `tracing`.

mod error;
mod grading;
mod load;
mod submissions;
mod testdata;
mod yaml;

#[cfg(test)]
mod tests;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::verdict::Verdict;

pub use error::ProblemError;
pub use grading::{CaseOutcome, Grade, GroupGrade};
pub use submissions::{ExpectationRule, TimeLimitUse};

/// The version of the problem package format (`problem_format_version`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum FormatVersion {
    /// `legacy` or `legacy-icpc`, or no `problem_format_version`.
    Legacy,
    /// `2025-09`.
    V2025_09,
}

impl FormatVersion {
    pub fn as_str(self) -> &'static str {
        match self {
            FormatVersion::Legacy => "legacy",
            FormatVersion::V2025_09 => "2025-09",
        }
    }
}

/// Whether scores are to be maximized or minimized (legacy `grading.objective`; 2025-09 always
/// maximizes).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Objective {
    Max,
    Min,
}

/// A loaded problem package.
#[derive(Clone, Debug)]
pub struct Problem {
    /// The package directory.
    pub dir: PathBuf,
    pub format: FormatVersion,
    /// Display name: `name` (the first entry when it is a map of languages); legacy falls back to
    /// the statement's `\problemname{}`, and both to `short_name`.
    pub name: String,
    /// All names by language (`("en", "Hello")`); a plain string name is `en` (2025-09) or `""`
    /// (legacy, whose `name` has no language).
    pub names: Vec<(String, String)>,
    /// The directory name.
    pub short_name: String,
    /// legacy: `type: scoring` (or `validation: custom score`); 2025-09: `type` includes `scoring`.
    pub scoring: bool,
    /// legacy: `validation: custom interactive`; 2025-09: `type` includes `interactive`.
    pub interactive: bool,
    /// 2025-09: `type` includes `multi-pass` (the validator may ask for another pass with
    /// `nextpass.in`, at most `limits.validation_passes` passes).
    pub multi_pass: bool,
    pub objective: Objective,
    pub limits: Limits,
    pub output_validation: OutputValidation,
    /// The root group `data`, with the children `sample` (when present) and `secret`.
    pub data: TestGroup,
    pub submissions: Vec<SubmissionSpec>,
    /// 2025-09 `languages`: `None` is `all`.
    pub languages: Option<Vec<String>>,
    /// 2025-09 `allow_file_writing` (default false); legacy: true (what problemtools assumes).
    pub allow_file_writing: bool,
    /// `include/` (files to add to submissions: `include/<language>/`, 2025-09 also
    /// `include/default/`), when present.
    pub include_dir: Option<PathBuf>,
    /// 2025-09 `constants` (values as text), for substitution in validators and submissions.
    pub constants: BTreeMap<String, String>,
    /// Things that did not stop loading but look wrong (unknown keys, ignored files, ...).
    pub warnings: Vec<String>,
}

/// Limits for submissions and the problem's own programs.
#[derive(Clone, Debug, PartialEq)]
pub struct Limits {
    /// An explicit time limit (2025-09 `limits.time_limit`; legacy `limits.time_limit`,
    /// `.timelimit` or `domjudge-problem.ini`). `None`: derive it with
    /// [`Limits::derive_time_limit`] from the slowest accepted submission.
    pub time_limit: Option<Duration>,
    /// legacy `time_multiplier` (default 5); 2025-09 `time_multipliers.ac_to_time_limit`
    /// (default 2).
    pub time_multiplier: f64,
    /// legacy `time_safety_margin` (default 2); 2025-09 `time_multipliers.time_limit_to_tle`
    /// (default 1.5): time-limit-exceeded submissions must still time out at
    /// `time_limit × time_safety_margin`.
    pub time_safety_margin: f64,
    /// 2025-09 `time_resolution` in seconds (default 1); legacy: 1 (whole seconds, as
    /// problemtools rounds).
    pub time_resolution: f64,
    /// `memory` (MiB), default 2048 MiB.
    pub memory_bytes: u64,
    /// `output` (MiB), default 8 MiB.
    pub output_bytes: u64,
    /// `code` (KiB), default 128 KiB.
    pub code_bytes: u64,
    /// `compilation_time` (s), default 60 s.
    pub compilation_time: Duration,
    /// `compilation_memory` (MiB), default 2048 MiB.
    pub compilation_memory_bytes: u64,
    /// `validation_time` (s), default 60 s.
    pub validation_time: Duration,
    /// `validation_memory` (MiB), default 2048 MiB.
    pub validation_memory_bytes: u64,
    /// `validation_output` (MiB), default 8 MiB.
    pub validation_output_bytes: u64,
    /// 2025-09 `validation_passes` for multi-pass problems, default 2.
    pub validation_passes: u32,
}

const MIB: u64 = 1 << 20;

impl Default for Limits {
    fn default() -> Self {
        Limits {
            time_limit: None,
            time_multiplier: 5.0,
            time_safety_margin: 2.0,
            time_resolution: 1.0,
            memory_bytes: 2048 * MIB,
            output_bytes: 8 * MIB,
            code_bytes: 128 * 1024,
            compilation_time: Duration::from_secs(60),
            compilation_memory_bytes: 2048 * MIB,
            validation_time: Duration::from_secs(60),
            validation_memory_bytes: 2048 * MIB,
            validation_output_bytes: 8 * MIB,
            validation_passes: 2,
        }
    }
}

impl Limits {
    /// For packages without an explicit time limit: the format's derivation from the slowest
    /// accepted run time, `slowest × time_multiplier` rounded up to a whole multiple of
    /// `time_resolution` (legacy: whole seconds), and at least one such unit.
    pub fn derive_time_limit(&self, slowest_accepted: Duration) -> Duration {
        let exact = slowest_accepted.as_secs_f64() * self.time_multiplier;
        let res =
            if self.time_resolution.is_finite() && self.time_resolution > 0.0 { self.time_resolution } else { 1.0 };
        // The epsilon keeps 0.5 s × 2 from becoming 2 s through floating-point noise.
        let units = ((exact / res) - 1e-9).ceil().max(1.0);
        Duration::try_from_secs_f64(units * res).unwrap_or(Duration::from_secs(u32::MAX as u64))
    }

    /// The time limit to use: the explicit one, else derived from `slowest_accepted`.
    pub fn effective_time_limit(&self, slowest_accepted: Duration) -> Duration {
        self.time_limit.unwrap_or_else(|| self.derive_time_limit(slowest_accepted))
    }

    /// `time_limit × time_safety_margin`: time-limit-exceeded submissions must still be too slow
    /// with this limit (and a judge may let runs go this long to tell "slightly" from "far" over).
    pub fn tle_threshold(&self, time_limit: Duration) -> Duration {
        Duration::try_from_secs_f64(time_limit.as_secs_f64() * self.time_safety_margin).unwrap_or(time_limit)
    }
}

/// How a submission's output is checked.
#[derive(Clone, Debug, PartialEq)]
pub enum OutputValidation {
    /// The default output validator, with these problem-wide flags (legacy `validator_flags`
    /// split on whitespace; empty for 2025-09, whose arguments are per test group). The
    /// arguments to use for a test case are [`TestCase::args`].
    Default { args: Vec<String> },
    /// A Kattis-style output validator program: `dir` is the program, a single source file or a
    /// directory of sources (possibly with `build`/`run` scripts) — legacy
    /// `output_validators/<name>`, 2025-09 `output_validator/`. `args` as for `Default`.
    Custom { dir: PathBuf, args: Vec<String> },
    /// Extension: a testlib checker (`checker: testlib` in `problem.yaml`), at the same
    /// place as a custom validator. Invoked `checker input output answer [args]`; exit 0 OK, 1 WA,
    /// 2 PE, 3 FAIL, 7 points.
    Testlib { dir: PathBuf, args: Vec<String> },
}

/// A test data group: a directory under `data/`.
#[derive(Clone, Debug, PartialEq)]
pub struct TestGroup {
    /// `data` for the root, else the path relative to `data/`: `sample`, `secret/group1`.
    pub name: String,
    pub dir: PathBuf,
    /// The group's own test cases, sorted by name.
    pub cases: Vec<TestCase>,
    /// Subgroups, sorted by name.
    pub groups: Vec<TestGroup>,
    pub settings: GroupSettings,
}

/// How a group's result is computed from its test cases and subgroups.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Aggregation {
    /// All-or-nothing: the group's `score` if everything is accepted, else 0 (2025-09
    /// `pass-fail`; always the case on pass-fail problems).
    PassFail,
    /// Sum of the parts' scores (2025-09 `sum`; legacy grader default).
    Sum,
    /// Minimum of the parts' scores (2025-09 `min`; legacy grader flag `min`).
    Min,
    /// Legacy grader flag `max`.
    Max,
    /// Legacy grader flag `avg`.
    Avg,
}

/// Whether to keep judging a group after a part of it is rejected.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OnReject {
    /// Stop at the first rejected part: the group's result is then known.
    Break,
    /// Judge everything.
    Continue,
}

/// How the legacy default grader picks a group's verdict.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum VerdictMode {
    /// The worst verdict among the parts (JE, RTE, MLE, TLE, OLE, WA in that order).
    WorstError,
    /// The first non-accepted verdict.
    FirstError,
    /// Always accepted (the score carries the result).
    AlwaysAccept,
}

/// Settings of a test data group (legacy `testdata.yaml`, 2025-09 `test_group.yaml`), with
/// inheritance resolved.
#[derive(Clone, Debug, PartialEq)]
pub struct GroupSettings {
    /// Output validator arguments for the group's test cases (legacy: `validator_flags` +
    /// `output_validator_flags`; 2025-09 `output_validator_args`).
    pub output_validator_args: Vec<String>,
    /// 2025-09 `args`: command-line arguments for the submission.
    pub submission_args: Vec<String>,
    /// 2025-09 `full_feedback` (default true in `sample`, false elsewhere); legacy: true in
    /// `sample`.
    pub full_feedback: bool,
    /// Maximum points of the group on scoring problems: 2025-09 `max_score` (`None` =
    /// `unbounded`; `secret` defaults to 100); legacy: the upper end of `range` when finite.
    /// `None` on pass-fail problems and for `sample` (which does not count).
    pub score: Option<f64>,
    pub aggregation: Aggregation,
    /// 2025-09 `require_pass`: groups (names relative to `data/`, or `sample`) whose test cases
    /// must all be accepted for this group to score.
    pub require_pass: Vec<String>,
    /// legacy `on_reject` (default `break`); 2025-09: `Break` where the result is settled by the
    /// first rejection (pass-fail problems, `pass-fail` and `min` groups), else `Continue`.
    pub on_reject: OnReject,
    /// legacy `grader_flags` verdict mode (default `worst_error`); 2025-09: `FirstError`.
    pub verdict_mode: VerdictMode,
    /// legacy `grader_flags` `accept_if_any_accepted`.
    pub accept_if_any_accepted: bool,
    /// legacy `grader_flags` `ignore_sample` (root group only): the root's result is `secret`'s.
    pub ignore_sample: bool,
    /// legacy `accept_score` (default 1): score of an accepted case without `score.txt`.
    pub accept_score: f64,
    /// legacy `reject_score` (default 0): score of a rejected case.
    pub reject_score: f64,
    /// legacy `range` (default `-inf +inf`): the possible scores of the group.
    pub range: (f64, f64),
}

impl Default for GroupSettings {
    fn default() -> Self {
        GroupSettings {
            output_validator_args: Vec::new(),
            submission_args: Vec::new(),
            full_feedback: false,
            score: None,
            aggregation: Aggregation::Sum,
            require_pass: Vec::new(),
            on_reject: OnReject::Break,
            verdict_mode: VerdictMode::WorstError,
            accept_if_any_accepted: false,
            ignore_sample: false,
            accept_score: 1.0,
            reject_score: 0.0,
            range: (f64::NEG_INFINITY, f64::INFINITY),
        }
    }
}

/// One test case: `<name>.in` and `<name>.ans`.
#[derive(Clone, Debug, PartialEq)]
pub struct TestCase {
    /// Relative to `data/`, without extension: `secret/group1/003`.
    pub name: String,
    pub input: PathBuf,
    pub answer: PathBuf,
    /// Under `data/sample/`.
    pub sample: bool,
    /// The output validator arguments for this case (group settings, 2025-09 `<case>.yaml`).
    pub args: Vec<String>,
    /// 2025-09 `args`: command-line arguments for the submission.
    pub submission_args: Vec<String>,
    /// 2025-09 `<name>.files/`: files to copy into the submission's working directory.
    pub files: Option<PathBuf>,
    pub full_feedback: bool,
}

/// An example submission and what it must get.
#[derive(Clone, Debug, PartialEq)]
pub struct SubmissionSpec {
    /// The program: a file or a directory.
    pub path: PathBuf,
    /// Relative to `submissions/`: `accepted/sol.cpp`.
    pub name: String,
    /// The final verdicts it may get: `accepted` → AC, `wrong_answer` → WA,
    /// `time_limit_exceeded` → TLE, `run_time_error` → RTE, MLE, OLE (the format knows only
    /// "run time error" for crashes), 2025-09 from the `permitted`/`required` rules.
    pub expected: Vec<Verdict>,
    /// The score must lie in this inclusive range (2025-09 `score`).
    pub expected_score: Option<(f64, f64)>,
    /// legacy scoring problems: `Some(true)` for `accepted` (full score), `Some(false)` for
    /// `partially_accepted` (accepted, but below the maximum).
    pub full_score: Option<bool>,
    /// 2025-09: every rule from the folder defaults and `submissions.yaml` that applies; see
    /// [`Problem::check_submission`]. Empty for legacy packages.
    pub rules: Vec<ExpectationRule>,
    /// Its run times bound the time limit from below (legacy: `accepted`; 2025-09 per spec:
    /// some rule's `permitted` excludes TLE, or `use_for_time_limit: lower`) — possibly only on
    /// some test cases: see [`SubmissionSpec::time_limit_role`].
    pub lower_bounds_time_limit: bool,
    /// It must time out (legacy: `time_limit_exceeded`; 2025-09: a rule `required: [TLE]`, or
    /// `use_for_time_limit: upper`).
    pub upper_bounds_time_limit: bool,
    /// 2025-09 `language` and `entrypoint` from `submissions.yaml`.
    pub language: Option<String>,
    pub entrypoint: Option<String>,
    pub model_solution: bool,
}

/// Loads the problem package in `dir`.
pub fn load(dir: &Path) -> Result<Problem, ProblemError> {
    load::load(dir)
}

impl Problem {
    /// All test cases, depth first: `sample` then `secret`; within a group, cases and subgroups
    /// in lexicographic order of name.
    pub fn test_cases(&self) -> Vec<&TestCase> {
        let mut out = Vec::new();
        self.data.collect_cases(&mut out);
        out
    }

    /// The group with this name (`data`, `sample`, `secret/group1`).
    pub fn group(&self, name: &str) -> Option<&TestGroup> {
        self.data.find(name)
    }

    /// The test case with this name (`secret/group1/003`).
    pub fn test_case(&self, name: &str) -> Option<&TestCase> {
        self.test_cases().into_iter().find(|c| c.name == name)
    }
}

/// A part of a group, in judging order.
#[derive(Clone, Copy, Debug)]
pub enum GroupItem<'a> {
    Case(&'a TestCase),
    Group(&'a TestGroup),
}

impl TestGroup {
    /// Cases and subgroups interleaved in lexicographic order of their base names, which is the
    /// order both specs prescribe.
    pub fn items(&self) -> Vec<GroupItem<'_>> {
        let mut items: Vec<(&str, GroupItem<'_>)> = Vec::with_capacity(self.cases.len() + self.groups.len());
        for c in &self.cases {
            items.push((rel_to(&c.name, &self.name), GroupItem::Case(c)));
        }
        for g in &self.groups {
            items.push((rel_to(&g.name, &self.name), GroupItem::Group(g)));
        }
        items.sort_by(|a, b| a.0.cmp(b.0));
        items.into_iter().map(|(_, i)| i).collect()
    }

    /// All cases in this group and below, in judging order.
    pub fn all_cases(&self) -> Vec<&TestCase> {
        let mut out = Vec::new();
        self.collect_cases(&mut out);
        out
    }

    fn collect_cases<'a>(&'a self, out: &mut Vec<&'a TestCase>) {
        for item in self.items() {
            match item {
                GroupItem::Case(c) => out.push(c),
                GroupItem::Group(g) => g.collect_cases(out),
            }
        }
    }

    fn find(&self, name: &str) -> Option<&TestGroup> {
        if self.name == name {
            return Some(self);
        }
        self.groups.iter().find_map(|g| g.find(name))
    }
}

/// `name` relative to the group `group` (`secret/a/1` in `secret/a` → `1`; the root is `data`).
fn rel_to<'a>(name: &'a str, group: &str) -> &'a str {
    if group == "data" {
        return name;
    }
    name.strip_prefix(group).and_then(|r| r.strip_prefix('/')).unwrap_or(name)
}
