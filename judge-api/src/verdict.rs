//! Verdicts and results: what a submission got, per test and overall.

use serde::{Deserialize, Serialize};

/// The verdict of one test or of a whole submission.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, utoipa::ToSchema)]
pub enum Verdict {
    /// Accepted.
    AC,
    /// Wrong answer (a testlib "presentation error" is reported as WA).
    WA,
    /// Time limit exceeded (CPU time, or wall time).
    TLE,
    /// Memory limit exceeded (the box's cgroup OOM-killed something).
    MLE,
    /// Output limit exceeded.
    OLE,
    /// Run-time error: non-zero exit or a signal.
    RTE,
    /// Compilation error.
    CE,
    /// Judge error: the problem's validator or checker failed, or the sandbox did.
    JE,
}

impl Verdict {
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::AC => "AC",
            Verdict::WA => "WA",
            Verdict::TLE => "TLE",
            Verdict::MLE => "MLE",
            Verdict::OLE => "OLE",
            Verdict::RTE => "RTE",
            Verdict::CE => "CE",
            Verdict::JE => "JE",
        }
    }

    /// Parses "AC", "wrong_answer", "time_limit_exceeded", ... (the short names and the
    /// problem-package folder names).
    pub fn parse(s: &str) -> Option<Verdict> {
        Some(match s.to_ascii_lowercase().as_str() {
            "ac" | "accepted" => Verdict::AC,
            "wa" | "wrong_answer" => Verdict::WA,
            "tle" | "time_limit_exceeded" => Verdict::TLE,
            "mle" | "memory_limit_exceeded" => Verdict::MLE,
            "ole" | "output_limit_exceeded" => Verdict::OLE,
            "rte" | "re" | "run_time_error" | "runtime_error" => Verdict::RTE,
            "ce" | "compile_error" | "compilation_error" => Verdict::CE,
            "je" | "judge_error" => Verdict::JE,
            _ => return None,
        })
    }
}

impl std::fmt::Display for Verdict {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The result of one test case.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct TestResult {
    /// The test's name relative to `data/`, e.g. `secret/group1/003`.
    pub name: String,
    pub verdict: Verdict,
    pub cpu_time_ms: u64,
    pub wall_time_ms: u64,
    pub memory_bytes: u64,
    /// The checker's or validator's message (judgemessage.txt), or what the run did.
    pub message: String,
    /// Points from the validator (score.txt) on scoring problems.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub score: Option<f64>,
}

/// The result of judging one submission.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SubmissionResult {
    pub verdict: Verdict,
    /// Points on scoring problems; 1 or 0 on pass-fail problems.
    pub score: f64,
    pub max_cpu_time_ms: u64,
    pub max_memory_bytes: u64,
    /// The compiler's output (bounded), empty when there was nothing to compile.
    pub compile_message: String,
    pub language: String,
    /// The time limit the tests ran under.
    pub time_limit_ms: u64,
    pub tests: Vec<TestResult>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_accepts_folder_names_and_short_names() {
        assert_eq!(Verdict::parse("accepted"), Some(Verdict::AC));
        assert_eq!(Verdict::parse("wrong_answer"), Some(Verdict::WA));
        assert_eq!(Verdict::parse("time_limit_exceeded"), Some(Verdict::TLE));
        assert_eq!(Verdict::parse("run_time_error"), Some(Verdict::RTE));
        assert_eq!(Verdict::parse("MLE"), Some(Verdict::MLE));
        assert_eq!(Verdict::parse("nope"), None);
        assert_eq!(serde_json::to_string(&Verdict::TLE).unwrap(), "\"TLE\"");
    }
}
