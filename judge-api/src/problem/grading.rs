//! Computing a submission's verdict and score from its test case results, as each format
//! specifies (legacy: the default grader over `testdata.yaml` settings; 2025-09: result
//! aggregation with `max_score`, `score_aggregation`, `require_pass`).

use super::{Aggregation, FormatVersion, GroupItem, OnReject, Problem, TestCase, TestGroup, VerdictMode};
use crate::verdict::Verdict;

/// What the judge found on one test case.
#[derive(Clone, Debug, PartialEq)]
pub struct CaseOutcome {
    pub verdict: Verdict,
    /// The validator's `score.txt` (or testlib points), if it wrote one.
    pub score: Option<f64>,
    /// The validator's `score_multiplier.txt` (2025-09), if it wrote one.
    pub score_multiplier: Option<f64>,
}

impl CaseOutcome {
    pub fn new(verdict: Verdict) -> Self {
        CaseOutcome { verdict, score: None, score_multiplier: None }
    }

    pub fn with_score(verdict: Verdict, score: f64) -> Self {
        CaseOutcome { verdict, score: Some(score), score_multiplier: None }
    }
}

/// The result of one test data group.
#[derive(Clone, Debug, PartialEq)]
pub struct GroupGrade {
    pub name: String,
    pub verdict: Verdict,
    pub score: f64,
    pub max_score: Option<f64>,
}

/// A submission's overall result.
#[derive(Clone, Debug, PartialEq)]
pub struct Grade {
    /// AC, the deciding rejection (legacy: per the grader's verdict mode; 2025-09: the first
    /// rejected test case in order), or JE when the results break the format's rules (a
    /// validator's score out of range, a needed test case not judged, ...).
    pub verdict: Verdict,
    /// Scoring problems: the score (0 when a legacy submission is not accepted, as the spec
    /// ignores scores of rejected results). Pass-fail problems: 1 or 0.
    pub score: f64,
    /// Every group's result, children before parents, the root (`data`) last for legacy;
    /// `sample`, the groups of `secret`, then `secret` for 2025-09.
    pub groups: Vec<GroupGrade>,
    /// Why the verdict is JE.
    pub error: Option<String>,
}

const EPS: f64 = 1e-9;

fn close_le(a: f64, b: f64) -> bool {
    a <= b + EPS * b.abs().max(1.0)
}

impl Problem {
    /// Grades a submission. `outcome` gives each test case's result, or `None` for test cases
    /// that were not run. Cases may be skipped only where the result is already settled
    /// (after a rejection in a group with [`OnReject::Break`], in groups whose `require_pass`
    /// failed); otherwise a missing result makes the grade JE.
    pub fn grade<F>(&self, outcome: F) -> Grade
    where
        F: Fn(&TestCase) -> Option<CaseOutcome>,
    {
        let mut groups = Vec::new();
        let res = match self.format {
            FormatVersion::Legacy => self.grade_legacy(&outcome, &mut groups),
            FormatVersion::V2025_09 => self.grade_2025(&outcome, &mut groups),
        };
        match res {
            Ok((verdict, score)) => {
                let score = if !self.scoring {
                    if verdict == Verdict::AC {
                        1.0
                    } else {
                        0.0
                    }
                } else {
                    score
                };
                Grade { verdict, score, groups, error: None }
            }
            Err(e) => Grade { verdict: Verdict::JE, score: 0.0, groups, error: Some(e) },
        }
    }

    fn grade_legacy<F>(&self, outcome: &F, groups: &mut Vec<GroupGrade>) -> Result<(Verdict, f64), String>
    where
        F: Fn(&TestCase) -> Option<CaseOutcome>,
    {
        let (verdict, score) = legacy_group(&self.data, true, outcome, groups)?.unwrap_or((Verdict::AC, 0.0));
        Ok((verdict, if verdict == Verdict::AC { score } else { 0.0 }))
    }

    fn grade_2025<F>(&self, outcome: &F, groups: &mut Vec<GroupGrade>) -> Result<(Verdict, f64), String>
    where
        F: Fn(&TestCase) -> Option<CaseOutcome>,
    {
        // The verdict: the first rejection in order.
        let mut first_fail = None;
        let mut missing = None;
        for c in self.test_cases() {
            match outcome(c) {
                Some(o) if o.verdict == Verdict::JE => return Err(format!("judge error on {}", c.name)),
                Some(o) if o.verdict != Verdict::AC => {
                    if first_fail.is_none() {
                        first_fail = Some(o.verdict);
                    }
                }
                Some(_) => {}
                None => {
                    if missing.is_none() {
                        missing = Some(c.name.clone());
                    }
                }
            }
        }

        let sample = self.data.groups.iter().find(|g| g.name == "sample");
        let secret = self.data.groups.iter().find(|g| g.name == "secret").ok_or("no secret group")?;
        let passes = |g: &TestGroup| g.all_cases().iter().all(|c| outcome(c).is_some_and(|o| o.verdict == Verdict::AC));
        let first_rejection = |g: &TestGroup| {
            g.all_cases().iter().find_map(|c| outcome(c).map(|o| o.verdict).filter(|v| *v != Verdict::AC))
        };

        if let Some(s) = sample {
            let v = first_rejection(s).unwrap_or(Verdict::AC);
            groups.push(GroupGrade { name: s.name.clone(), verdict: v, score: 0.0, max_score: None });
        }

        if !self.scoring {
            for g in &secret.groups {
                let v = first_rejection(g).unwrap_or(Verdict::AC);
                groups.push(GroupGrade { name: g.name.clone(), verdict: v, score: 0.0, max_score: None });
            }
            let v = first_rejection(secret).unwrap_or(Verdict::AC);
            groups.push(GroupGrade { name: secret.name.clone(), verdict: v, score: 0.0, max_score: None });
            return match (first_fail, missing) {
                (Some(v), _) => Ok((v, 0.0)),
                (None, Some(m)) => Err(format!("test case {m} was not judged")),
                (None, None) => Ok((Verdict::AC, 0.0)),
            };
        }

        let requirement_failed = |g: &TestGroup| -> Option<String> {
            g.settings.require_pass.iter().find_map(|req| {
                let target = if req == "sample" { sample } else { secret.groups.iter().find(|o| &o.name == req) };
                match target {
                    Some(t) if passes(t) => None,
                    None if req == "sample" => None, // no samples: nothing to fail
                    _ => Some(req.clone()),
                }
            })
        };

        let secret_score = if requirement_failed(secret).is_some() {
            0.0
        } else if secret.groups.is_empty() {
            score_cases(secret, &secret.cases, outcome)?.1
        } else {
            let mut parts = Vec::new();
            for g in &secret.groups {
                let (ok, score) =
                    if requirement_failed(g).is_some() { (false, 0.0) } else { score_cases(g, &g.cases, outcome)? };
                let v = if ok { Verdict::AC } else { first_rejection(g).unwrap_or(Verdict::WA) };
                groups.push(GroupGrade { name: g.name.clone(), verdict: v, score, max_score: g.settings.score });
                parts.push((ok, score));
            }
            let max = secret.settings.score;
            let s = match secret.settings.aggregation {
                Aggregation::PassFail => {
                    if parts.iter().all(|(ok, _)| *ok) {
                        max.unwrap_or(0.0)
                    } else {
                        0.0
                    }
                }
                Aggregation::Min => parts.iter().map(|p| p.1).fold(f64::INFINITY, f64::min),
                _ => parts.iter().map(|p| p.1).sum(),
            };
            if let Some(m) = max {
                if !close_le(s, m) {
                    return Err(format!("the score of secret ({s}) exceeds its max_score {m}"));
                }
            }
            s
        };
        let secret_verdict = first_rejection(secret).unwrap_or(Verdict::AC);
        groups.push(GroupGrade {
            name: secret.name.clone(),
            verdict: secret_verdict,
            score: secret_score,
            max_score: secret.settings.score,
        });
        match (first_fail, missing) {
            (Some(v), _) => Ok((v, secret_score)),
            (None, Some(m)) => Err(format!("test case {m} was not judged")),
            (None, None) => Ok((Verdict::AC, secret_score)),
        }
    }
}

/// 2025-09: the cases of one group (or of `secret` without groups) under its aggregation.
/// Returns (all accepted, score).
fn score_cases<F>(g: &TestGroup, cases: &[TestCase], outcome: &F) -> Result<(bool, f64), String>
where
    F: Fn(&TestCase) -> Option<CaseOutcome>,
{
    let agg = g.settings.aggregation;
    let max = g.settings.score;
    let n = cases.len().max(1) as f64;
    let case_max = max.map(|m| if agg == Aggregation::Sum { m / n } else { m });
    let outcomes: Vec<(&TestCase, Option<CaseOutcome>)> = cases.iter().map(|c| (c, outcome(c))).collect();
    let any_failed = outcomes.iter().any(|(_, o)| o.as_ref().is_some_and(|o| o.verdict != Verdict::AC));
    let mut scores = Vec::new();
    for (c, o) in &outcomes {
        let Some(o) = o else {
            if any_failed && agg != Aggregation::Sum {
                continue; // settled: this group already scores 0 (pass-fail) or its minimum 0
            }
            return Err(format!("test case {} was not judged", c.name));
        };
        let has_score = o.score.is_some() || o.score_multiplier.is_some();
        if o.verdict != Verdict::AC {
            if has_score {
                return Err(format!("{}: the validator rejected but wrote a score", c.name));
            }
            scores.push(0.0);
            continue;
        }
        if agg == Aggregation::PassFail {
            if has_score {
                return Err(format!("{}: the validator wrote a score in pass-fail group {}", c.name, g.name));
            }
            continue;
        }
        let s = match (o.score, o.score_multiplier, case_max) {
            (Some(_), Some(_), _) => return Err(format!("{}: both score.txt and score_multiplier.txt", c.name)),
            (None, Some(m), Some(cm)) => {
                if !(0.0..=1.0).contains(&m) {
                    return Err(format!("{}: score multiplier {m} outside [0, 1]", c.name));
                }
                m * cm
            }
            (None, Some(_), None) => {
                return Err(format!("{}: score_multiplier.txt in unbounded group {}", c.name, g.name));
            }
            (Some(s), None, cm) => {
                if !(s >= 0.0 && s.is_finite()) {
                    return Err(format!("{}: score {s} is not a non-negative number", c.name));
                }
                if let Some(cm) = cm {
                    if !close_le(s, cm) {
                        return Err(format!("{}: score {s} exceeds the test case's maximum {cm}", c.name));
                    }
                }
                s
            }
            (None, None, Some(cm)) => cm,
            (None, None, None) => {
                return Err(format!("{}: no score.txt in unbounded group {}", c.name, g.name));
            }
        };
        scores.push(s);
    }
    let all_ok = !any_failed && outcomes.iter().all(|(_, o)| o.is_some());
    let score = match agg {
        Aggregation::PassFail => {
            if all_ok {
                max.unwrap_or(0.0)
            } else {
                0.0
            }
        }
        Aggregation::Min => {
            if any_failed {
                0.0
            } else {
                scores.iter().copied().fold(f64::INFINITY, f64::min).min(max.unwrap_or(f64::INFINITY))
            }
        }
        _ => scores.iter().sum(),
    };
    let score = if score.is_finite() { score } else { 0.0 };
    if let Some(m) = max {
        if !close_le(score, m) {
            return Err(format!("the score of {} ({score}) exceeds its max_score {m}", g.name));
        }
    }
    Ok((all_ok, score))
}

/// The legacy verdict order for `worst_error` (JE first).
fn severity(v: Verdict) -> u8 {
    match v {
        Verdict::JE => 0,
        Verdict::CE => 1,
        Verdict::RTE => 2,
        Verdict::MLE => 3,
        Verdict::TLE => 4,
        Verdict::OLE => 5,
        Verdict::WA => 6,
        Verdict::AC => 7,
    }
}

/// Legacy default grader over one group. `None` for a group with nothing in it.
fn legacy_group<F>(
    g: &TestGroup,
    is_root: bool,
    outcome: &F,
    groups: &mut Vec<GroupGrade>,
) -> Result<Option<(Verdict, f64)>, String>
where
    F: Fn(&TestCase) -> Option<CaseOutcome>,
{
    let s = &g.settings;
    let mut results: Vec<(String, Verdict, f64)> = Vec::new();
    for item in g.items() {
        let (name, verdict, score) = match item {
            GroupItem::Case(c) => {
                let o = outcome(c).ok_or_else(|| format!("test case {} was not judged", c.name))?;
                let score = if o.verdict == Verdict::AC {
                    o.score.or(o.score_multiplier.map(|m| m * s.accept_score)).unwrap_or(s.accept_score)
                } else {
                    s.reject_score
                };
                if !score.is_finite() {
                    return Err(format!("{}: score {score} is not a number", c.name));
                }
                (c.name.clone(), o.verdict, score)
            }
            GroupItem::Group(sub) => match legacy_group(sub, false, outcome, groups)? {
                Some((v, sc)) => (sub.name.clone(), v, sc),
                None => continue,
            },
        };
        results.push((name, verdict, score));
        if verdict != Verdict::AC && s.on_reject == OnReject::Break {
            break;
        }
    }
    if results.is_empty() {
        return Ok(None);
    }
    if let Some(r) = results.iter().find(|r| r.1 == Verdict::JE) {
        return Err(format!("judge error in {}", r.0));
    }
    if is_root && s.ignore_sample && results.len() > 1 && results[0].0 == "sample" {
        results.remove(0);
    }
    let mut verdict = match s.verdict_mode {
        VerdictMode::AlwaysAccept => Verdict::AC,
        VerdictMode::FirstError => results.iter().map(|r| r.1).find(|v| *v != Verdict::AC).unwrap_or(Verdict::AC),
        VerdictMode::WorstError => results.iter().map(|r| r.1).min_by_key(|v| severity(*v)).unwrap_or(Verdict::AC),
    };
    if s.accept_if_any_accepted && results.iter().any(|r| r.1 == Verdict::AC) {
        verdict = Verdict::AC;
    }
    let scores = results.iter().map(|r| r.2);
    let score = match s.aggregation {
        Aggregation::Sum | Aggregation::PassFail => scores.sum(),
        Aggregation::Avg => scores.sum::<f64>() / results.len() as f64,
        Aggregation::Min => scores.fold(f64::INFINITY, f64::min),
        Aggregation::Max => scores.fold(f64::NEG_INFINITY, f64::max),
    };
    groups.push(GroupGrade { name: g.name.clone(), verdict, score, max_score: s.score });
    Ok(Some((verdict, score)))
}
