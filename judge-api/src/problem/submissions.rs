//! Example submissions: the `submissions/<folder>/` conventions of both formats and the 2025-09
//! `submissions/submissions.yaml`.

use std::path::Path;

use serde_norway::Value;

use super::error::ProblemError;
use super::load::visible_entries;
use super::yaml::{self, invalid, warn, MapReader, Result};
use super::{FormatVersion, Problem, SubmissionSpec, TestGroup};
use crate::verdict::{SubmissionResult, Verdict};

/// How a rule takes part in determining the time limit (2025-09 `use_for_time_limit`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TimeLimitUse {
    /// `false`: not at all.
    No,
    /// `lower`: its run times bound the time limit from below.
    Lower,
    /// `upper`: it must time out, bounding the time limit from above.
    Upper,
}

/// One expectation on a submission (2025-09): a folder default or a `submissions.yaml` entry,
/// possibly restricted to some test data.
#[derive(Clone, Debug, PartialEq)]
pub struct ExpectationRule {
    /// Where the rule comes from: the `submissions.yaml` key (or the default folder name).
    pub source: String,
    /// A test data glob (`secret/group1`, `secret/*-easy`) the rule is restricted to; `None` for
    /// all test cases.
    pub scope: Option<String>,
    /// Every test case in scope must get one of these (RTE includes MLE and OLE).
    pub permitted: Option<Vec<Verdict>>,
    /// At least one test case in scope must get one of these (RTE includes MLE and OLE).
    pub required: Option<Vec<Verdict>>,
    /// Inclusive score range (of the submission, or of the scoped group).
    pub score: Option<(f64, f64)>,
    /// Must appear in the judge message of at least one test case in scope.
    pub message: Option<String>,
    /// `None`: as the spec infers it from `permitted` / `required`.
    pub use_for_time_limit: Option<TimeLimitUse>,
}

impl ExpectationRule {
    /// Whether the rule applies to the test case or group with this name (relative to `data/`):
    /// the scope glob matches it or one of its parent groups.
    pub fn applies_to(&self, name: &str) -> bool {
        match &self.scope {
            None => true,
            Some(scope) => glob_matches(scope, name),
        }
    }

    fn time_limit_role(&self) -> (bool, bool) {
        match self.use_for_time_limit {
            Some(TimeLimitUse::No) => (false, false),
            Some(TimeLimitUse::Lower) => (true, false),
            Some(TimeLimitUse::Upper) => (false, true),
            None => {
                let lower = self.permitted.as_ref().is_some_and(|p| !p.contains(&Verdict::TLE));
                let upper = self.required.as_ref().is_some_and(|r| r.as_slice() == [Verdict::TLE]);
                (lower, upper)
            }
        }
    }
}

/// The verdicts the format distinguishes for submissions; MLE and OLE count as RTE.
fn normalize(v: Verdict) -> Verdict {
    match v {
        Verdict::MLE | Verdict::OLE => Verdict::RTE,
        v => v,
    }
}

fn with_crashes(vs: &[Verdict]) -> Vec<Verdict> {
    let mut out: Vec<Verdict> = Vec::new();
    for &v in vs {
        out.push(v);
        if v == Verdict::RTE {
            out.extend([Verdict::MLE, Verdict::OLE]);
        }
    }
    out.sort();
    out.dedup();
    out
}

const ALL: [Verdict; 4] = [Verdict::AC, Verdict::WA, Verdict::TLE, Verdict::RTE];

pub(crate) fn load_submissions(
    dir: &Path,
    format: FormatVersion,
    scoring: bool,
    data: &TestGroup,
    warnings: &mut Vec<String>,
) -> Result<Vec<SubmissionSpec>> {
    let sdir = dir.join("submissions");
    if !sdir.is_dir() {
        warn(warnings, "submissions/: missing (no example submissions)".to_string());
        return Ok(Vec::new());
    }
    let entries = visible_entries(&sdir, "submissions/")?;
    let mut subs: Vec<(String, std::path::PathBuf)> = Vec::new();
    for (folder, path) in &entries {
        if !path.is_dir() {
            if !(format == FormatVersion::V2025_09 && folder == "submissions.yaml") {
                warn(
                    warnings,
                    format!("submissions/{folder}: ignored (submissions go in a folder such as submissions/accepted/)"),
                );
            }
            continue;
        }
        for (name, p) in visible_entries(path, &format!("submissions/{folder}/"))? {
            subs.push((format!("{folder}/{name}"), p));
        }
    }
    match format {
        FormatVersion::Legacy => Ok(legacy(subs, scoring, warnings)),
        FormatVersion::V2025_09 => v2025(&sdir, subs, scoring, data, warnings),
    }
}

fn legacy(subs: Vec<(String, std::path::PathBuf)>, scoring: bool, warnings: &mut Vec<String>) -> Vec<SubmissionSpec> {
    let mut out = Vec::new();
    for (name, path) in subs {
        let folder = name.split('/').next().unwrap_or_default();
        let (expected, full_score, lower, upper) = match folder {
            "accepted" => (vec![Verdict::AC], scoring.then_some(true), true, false),
            "partially_accepted" => {
                if !scoring {
                    warn(warnings, format!("submissions/{name}: partially_accepted is only for scoring problems"));
                }
                (vec![Verdict::AC], scoring.then_some(false), false, false)
            }
            "wrong_answer" => (vec![Verdict::WA], None, false, false),
            "time_limit_exceeded" => (vec![Verdict::TLE], None, false, true),
            "run_time_error" => (with_crashes(&[Verdict::RTE]), None, false, false),
            _ => {
                warn(warnings, format!("submissions/{name}: not in a folder the legacy format knows, ignored"));
                continue;
            }
        };
        out.push(SubmissionSpec {
            path,
            name,
            expected,
            expected_score: None,
            full_score,
            rules: Vec::new(),
            lower_bounds_time_limit: lower,
            upper_bounds_time_limit: upper,
            language: None,
            entrypoint: None,
            model_solution: false,
        });
    }
    out
}

#[derive(Clone, Debug, Default)]
struct Fields {
    permitted: Option<Vec<Verdict>>,
    required: Option<Vec<Verdict>>,
    score: Option<(f64, f64)>,
    message: Option<String>,
    use_for_time_limit: Option<TimeLimitUse>,
}

impl Fields {
    fn overlay(mut self, o: &Fields) -> Fields {
        if o.permitted.is_some() {
            self.permitted = o.permitted.clone();
        }
        if o.required.is_some() {
            self.required = o.required.clone();
        }
        if o.score.is_some() {
            self.score = o.score;
        }
        if o.message.is_some() {
            self.message = o.message.clone();
        }
        if o.use_for_time_limit.is_some() {
            self.use_for_time_limit = o.use_for_time_limit;
        }
        self
    }

    fn rule(&self, source: &str, scope: Option<String>) -> ExpectationRule {
        ExpectationRule {
            source: source.to_string(),
            scope,
            permitted: self.permitted.clone(),
            required: self.required.clone(),
            score: self.score,
            message: self.message.clone(),
            use_for_time_limit: self.use_for_time_limit,
        }
    }
}

#[derive(Clone, Debug)]
struct Entry {
    key: String,
    patterns: Vec<String>,
    fields: Fields,
    groups: Vec<(String, Fields)>,
    language: Option<String>,
    entrypoint: Option<String>,
    model_solution: Option<bool>,
}

fn default_fields(folder: &str) -> Option<Fields> {
    use Verdict::*;
    let (permitted, required): (Option<&[Verdict]>, Option<&[Verdict]>) = match folder {
        "accepted" => (Some(&[AC]), None),
        "rejected" => (None, Some(&[RTE, TLE, WA])),
        "wrong_answer" => (Some(&[AC, WA]), Some(&[WA])),
        "time_limit_exceeded" => (Some(&[AC, TLE]), Some(&[TLE])),
        "run_time_error" => (Some(&[AC, RTE]), Some(&[RTE])),
        "brute_force" => (Some(&[AC, RTE, TLE]), Some(&[RTE, TLE])),
        _ => return None,
    };
    Some(Fields {
        permitted: permitted.map(|p| p.to_vec()),
        required: required.map(|r| r.to_vec()),
        ..Fields::default()
    })
}

const SY: &str = "submissions/submissions.yaml";

fn v2025(
    sdir: &Path,
    subs: Vec<(String, std::path::PathBuf)>,
    scoring: bool,
    data: &TestGroup,
    warnings: &mut Vec<String>,
) -> Result<Vec<SubmissionSpec>> {
    let entries = match yaml::read_yaml(&sdir.join("submissions.yaml"), SY)? {
        Some(v) => parse_submissions_yaml(&v, scoring, data, warnings)?,
        None => Vec::new(),
    };
    let mut out = Vec::new();
    for (name, path) in subs {
        let folder = name.split('/').next().unwrap_or_default().to_string();
        let mut rules = Vec::new();
        let (mut language, mut entrypoint, mut model_solution) = (None, None, false);
        let exact = entries.iter().find(|e| e.key == folder);
        let mut base = default_fields(&folder);
        if let Some(e) = exact {
            base = Some(base.unwrap_or_default().overlay(&e.fields));
        }
        if let Some(b) = &base {
            rules.push(b.rule(&folder, None));
        }
        for e in &entries {
            let is_exact = e.key == folder;
            if !is_exact && !e.patterns.iter().any(|p| glob_matches(p, &name)) {
                continue;
            }
            if !is_exact
                && (e.fields.permitted.is_some()
                    || e.fields.required.is_some()
                    || e.fields.score.is_some()
                    || e.fields.message.is_some()
                    || e.fields.use_for_time_limit.is_some())
            {
                rules.push(e.fields.rule(&e.key, None));
            }
            for (scope, f) in &e.groups {
                rules.push(f.rule(&e.key, Some(scope.clone())));
            }
            if e.language.is_some() {
                language = e.language.clone();
            }
            if e.entrypoint.is_some() {
                entrypoint = e.entrypoint.clone();
            }
            if let Some(m) = e.model_solution {
                model_solution = m;
            }
        }
        if rules.is_empty() {
            warn(warnings, format!("submissions/{name}: no expectations (not in a default folder, and no submissions.yaml entry matches)"));
        }

        // The final verdict is the first rejection (or AC): anything permitted by every global
        // rule, AC only when no rule requires a rejection.
        let mut permitted: Vec<Verdict> = ALL.to_vec();
        let mut score: Option<(f64, f64)> = None;
        for r in rules.iter().filter(|r| r.scope.is_none()) {
            if let Some(p) = &r.permitted {
                permitted.retain(|v| p.contains(v));
            }
            if let Some((lo, hi)) = r.score {
                score = Some(match score {
                    None => (lo, hi),
                    Some((a, b)) => (a.max(lo), b.min(hi)),
                });
            }
        }
        let ac_possible = permitted.contains(&Verdict::AC)
            && !rules.iter().any(|r| r.required.as_ref().is_some_and(|req| !req.contains(&Verdict::AC)));
        let mut expected: Vec<Verdict> = permitted.iter().copied().filter(|v| *v != Verdict::AC).collect();
        if ac_possible {
            expected.push(Verdict::AC);
        }
        let expected = with_crashes(&expected);
        if expected.is_empty() {
            return Err(ProblemError::invalid(
                SY,
                format!("the expectations for submissions/{name} contradict each other (no verdict satisfies them)"),
            ));
        }
        if let Some((lo, hi)) = score {
            if lo > hi {
                return Err(ProblemError::invalid(
                    SY,
                    format!("the score ranges for submissions/{name} do not overlap"),
                ));
            }
        }
        let (mut lower, mut upper) = (false, false);
        for r in &rules {
            let (l, u) = r.time_limit_role();
            lower |= l;
            upper |= u;
        }
        out.push(SubmissionSpec {
            path,
            name,
            expected,
            expected_score: score,
            full_score: None,
            rules,
            lower_bounds_time_limit: lower,
            upper_bounds_time_limit: upper,
            language,
            entrypoint,
            model_solution,
        });
    }
    Ok(out)
}

const SUBMISSION_KEYS: &[&str] = &[
    "language",
    "entrypoint",
    "authors",
    "model_solution",
    "permitted",
    "required",
    "score",
    "message",
    "use_for_time_limit",
];

fn parse_submissions_yaml(
    v: &Value,
    scoring: bool,
    data: &TestGroup,
    warnings: &mut Vec<String>,
) -> Result<Vec<Entry>> {
    let mut top = MapReader::new(SY, "", v)?;
    let mut out = Vec::new();
    for (key, value) in top.take_rest() {
        let patterns = expand_braces(&key).ok_or_else(|| {
            invalid(SY, &key, "a glob with balanced braces and at most 1000 alternatives", &Value::String(key.clone()))
        })?;
        let mut r = MapReader::new(SY, &key, value)?;
        let fields = parse_fields(&mut r, scoring)?;
        let language = r.string("language")?;
        let entrypoint = r.string("entrypoint")?;
        let model_solution = r.bool("model_solution")?;
        r.take("authors");
        let mut groups = Vec::new();
        for (gkey, gvalue) in r.take_rest() {
            let field = format!("{key}.{gkey}");
            let looks_like_data = expand_braces(&gkey).is_some_and(|ps| {
                ps.iter().any(|p| {
                    let first = p.split('/').next().unwrap_or_default();
                    glob_component(first, "sample") || glob_component(first, "secret")
                })
            });
            if !looks_like_data {
                warn(
                    warnings,
                    format!("{SY}: {field}: unknown key, ignored (test data scopes start with sample or secret)"),
                );
                continue;
            }
            let mut g = MapReader::new(SY, &field, gvalue)?;
            let f = parse_fields(&mut g, scoring)?;
            g.finish(warnings);
            let scopes = expand_braces(&gkey)
                .ok_or_else(|| invalid(SY, &field, "a glob with balanced braces", &Value::String(gkey.clone())))?;
            let known: Vec<String> = data.all_cases().iter().map(|c| c.name.clone()).collect();
            for scope in scopes {
                if !known.iter().any(|n| glob_matches(&scope, n)) {
                    warn(warnings, format!("{SY}: {field}: matches no test case"));
                }
                groups.push((scope, f.clone()));
            }
        }
        r.finish(warnings);
        out.push(Entry { key, patterns, fields, groups, language, entrypoint, model_solution });
    }
    Ok(out)
}

fn parse_fields(r: &mut MapReader<'_>, scoring: bool) -> Result<Fields> {
    let mut f = Fields::default();
    for key in ["permitted", "required"] {
        if let Some(v) = r.take(key) {
            let field = r.field(key);
            let list: Vec<Verdict> = match v {
                Value::Sequence(items) if !items.is_empty() => {
                    let mut out = Vec::new();
                    for (i, item) in items.iter().enumerate() {
                        let verdict = match item.as_str() {
                            Some("AC") => Verdict::AC,
                            Some("WA") => Verdict::WA,
                            Some("TLE") => Verdict::TLE,
                            Some("RTE") => Verdict::RTE,
                            _ => {
                                return Err(invalid(&r.file, &format!("{field}[{i}]"), "one of AC, WA, TLE, RTE", item))
                            }
                        };
                        if !out.contains(&verdict) {
                            out.push(verdict);
                        }
                    }
                    out
                }
                other => return Err(invalid(&r.file, &field, "a non-empty list of AC, WA, TLE, RTE", other)),
            };
            if key == "permitted" {
                f.permitted = Some(list);
            } else {
                f.required = Some(list);
            }
        }
    }
    if let Some(v) = r.take("score") {
        let field = r.field("score");
        let expected = "a number or a list of two numbers [low, high]";
        f.score = Some(match v {
            Value::Number(_) => {
                let x = yaml::as_number(&r.file, &field, v, expected, |_| true)?;
                (x, x)
            }
            Value::Sequence(items) => match &items[..] {
                [a, b] => match (a.as_f64(), b.as_f64()) {
                    (Some(a), Some(b)) if a.is_finite() && b.is_finite() && a <= b => (a, b),
                    _ => return Err(invalid(&r.file, &field, expected, v)),
                },
                _ => return Err(invalid(&r.file, &field, expected, v)),
            },
            other => return Err(invalid(&r.file, &field, expected, other)),
        });
        if !scoring {
            return Err(ProblemError::invalid(&r.file, format!("{field}: only for scoring problems")));
        }
    }
    f.message = r.string("message")?;
    match r.take("use_for_time_limit") {
        None => {}
        Some(Value::Bool(false)) => f.use_for_time_limit = Some(TimeLimitUse::No),
        Some(Value::Bool(true)) => f.use_for_time_limit = None,
        Some(Value::String(s)) if s == "lower" => f.use_for_time_limit = Some(TimeLimitUse::Lower),
        Some(Value::String(s)) if s == "upper" => f.use_for_time_limit = Some(TimeLimitUse::Upper),
        Some(other) => {
            let field = r.field("use_for_time_limit");
            return Err(invalid(&r.file, &field, "false, \"lower\" or \"upper\"", other));
        }
    }
    let _ = SUBMISSION_KEYS;
    Ok(f)
}

/// Brace expansion (`{a,b}.py`, nested allowed). `None` if braces are unbalanced or the
/// expansion would exceed 1000 alternatives.
pub(crate) fn expand_braces(p: &str) -> Option<Vec<String>> {
    let mut out = Vec::new();
    expand_into(p, &mut out)?;
    Some(out)
}

fn expand_into(p: &str, out: &mut Vec<String>) -> Option<()> {
    let Some(open) = p.find('{') else {
        if p.contains('}') {
            return None;
        }
        out.push(p.to_string());
        return (out.len() <= 1000).then_some(());
    };
    if p[..open].contains('}') {
        return None;
    }
    let mut depth = 0usize;
    let mut close = None;
    let mut splits = Vec::new();
    for (i, ch) in p[open..].char_indices() {
        match ch {
            '{' => depth += 1,
            '}' => {
                depth -= 1;
                if depth == 0 {
                    close = Some(open + i);
                    break;
                }
            }
            ',' if depth == 1 => splits.push(open + i),
            _ => {}
        }
    }
    let close = close?;
    let (prefix, suffix) = (&p[..open], &p[close + 1..]);
    let mut start = open + 1;
    let mut alternatives = Vec::new();
    for s in splits.into_iter().chain(std::iter::once(close)) {
        alternatives.push(&p[start..s]);
        start = s + 1;
    }
    for alt in alternatives {
        expand_into(&format!("{prefix}{alt}{suffix}"), out)?;
        if out.len() > 1000 {
            return None;
        }
    }
    Some(())
}

/// `*` matches any run of characters within one path component.
fn glob_component(pat: &str, s: &str) -> bool {
    let (p, s) = (pat.as_bytes(), s.as_bytes());
    let (mut pi, mut si) = (0, 0);
    let (mut star, mut mark) = (None, 0);
    while si < s.len() {
        if pi < p.len() && p[pi] == b'*' {
            star = Some(pi);
            mark = si;
            pi += 1;
        } else if pi < p.len() && p[pi] == s[si] {
            pi += 1;
            si += 1;
        } else if let Some(st) = star {
            pi = st + 1;
            mark += 1;
            si = mark;
        } else {
            return false;
        }
    }
    while pi < p.len() && p[pi] == b'*' {
        pi += 1;
    }
    pi == p.len()
}

/// The glob (braces expanded) matches `path` or one of its ancestors (`secret` matches
/// `secret/group1/003`; `accepted` matches `accepted/sol.py`).
pub(crate) fn glob_matches(pattern: &str, path: &str) -> bool {
    let pats = expand_braces(pattern).unwrap_or_else(|| vec![pattern.to_string()]);
    let comps: Vec<&str> = path.split('/').collect();
    pats.iter().any(|p| {
        let pc: Vec<&str> = p.trim_end_matches('/').split('/').collect();
        pc.len() <= comps.len() && pc.iter().zip(&comps).all(|(a, b)| glob_component(a, b))
    })
}

impl SubmissionSpec {
    /// Whether this submission's run time on the test case `test` bounds the time limit from
    /// below (lower) and from above (upper). 2025-09 rules can be restricted to some test data
    /// (a time_limit_exceeded submission may be required to pass `secret/group1` in time), so
    /// the slowest run over the test cases with `lower` is what bounds the limit from below.
    pub fn time_limit_role(&self, test: &str) -> (bool, bool) {
        if self.rules.is_empty() {
            return (self.lower_bounds_time_limit, self.upper_bounds_time_limit);
        }
        let (mut lower, mut upper) = (false, false);
        for r in self.rules.iter().filter(|r| r.applies_to(test)) {
            let (l, u) = r.time_limit_role();
            lower |= l;
            upper |= u;
        }
        (lower, upper)
    }
}

impl Problem {
    /// Checks a judged example submission against its expectations; returns the violations
    /// (empty if it behaved as expected). Per-test rules need the results of every test case in
    /// their scope, so judge example submissions on all test cases. Scoped `score` rules are not
    /// checked here (the result has no per-group scores).
    pub fn check_submission(&self, spec: &SubmissionSpec, result: &SubmissionResult) -> Vec<String> {
        let mut v = Vec::new();
        if !spec.expected.contains(&result.verdict) {
            let exp: Vec<&str> = spec.expected.iter().map(|x| x.as_str()).collect();
            v.push(format!("got {}, expected {}", result.verdict, exp.join(" or ")));
        }
        if let Some((lo, hi)) = spec.expected_score {
            if !(result.score >= lo - 1e-9 && result.score <= hi + 1e-9) {
                v.push(format!("got score {}, expected [{lo}, {hi}]", result.score));
            }
        }
        if let Some(full) = spec.full_score {
            if let Some(max) = self.data.settings.score.filter(|m| m.is_finite()) {
                let is_full = (result.score - max).abs() <= 1e-9 * max.abs().max(1.0);
                if full && !is_full {
                    v.push(format!("got score {}, expected the full {max}", result.score));
                }
                if !full && (is_full || result.verdict != Verdict::AC) {
                    v.push(format!(
                        "got {} with score {}, expected accepted below the full {max}",
                        result.verdict, result.score
                    ));
                }
            }
        }
        for rule in &spec.rules {
            let tests: Vec<_> = result.tests.iter().filter(|t| rule.applies_to(&t.name)).collect();
            let scope = rule.scope.as_deref().map(|s| format!(" in {s}")).unwrap_or_default();
            if let Some(p) = &rule.permitted {
                for t in &tests {
                    if !p.contains(&normalize(t.verdict)) {
                        v.push(format!(
                            "{}: got {} on {}, not permitted by {} ({:?})",
                            spec.name, t.verdict, t.name, rule.source, p
                        ));
                    }
                }
            }
            if let Some(req) = &rule.required {
                if !tests.iter().any(|t| req.contains(&normalize(t.verdict))) {
                    v.push(format!(
                        "{}: no test case{scope} got one of {:?} required by {}",
                        spec.name, req, rule.source
                    ));
                }
            }
            if let Some(m) = &rule.message {
                if !tests.iter().any(|t| t.message.contains(m.as_str())) {
                    v.push(format!("{}: no judge message{scope} contains {m:?} ({})", spec.name, rule.source));
                }
            }
            if let (Some((lo, hi)), None) = (rule.score, &rule.scope) {
                if !(result.score >= lo - 1e-9 && result.score <= hi + 1e-9) {
                    v.push(format!(
                        "{}: got score {}, expected [{lo}, {hi}] ({})",
                        spec.name, result.score, rule.source
                    ));
                }
            }
        }
        v.dedup();
        v
    }
}
