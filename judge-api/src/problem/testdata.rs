//! The `data/` tree: groups, test cases, `testdata.yaml` (legacy) and `test_group.yaml` /
//! `<case>.yaml` (2025-09).

use std::path::{Path, PathBuf};

use serde_norway::Value;

use super::error::ProblemError;
use super::load::{parse_range, visible_entries, Meta};
use super::yaml::{self, as_string_list, as_string_or_list, invalid, warn, MapReader, Result};
use super::{Aggregation, FormatVersion, GroupSettings, OnReject, TestCase, TestGroup, VerdictMode};

/// Deeper than this is certainly a symlink loop.
const MAX_DEPTH: usize = 24;

struct Ctx<'a> {
    canon_root: PathBuf,
    meta: &'a Meta,
    warnings: &'a mut Vec<String>,
}

pub(crate) fn load_data(
    dir: &Path,
    format: FormatVersion,
    meta: &Meta,
    warnings: &mut Vec<String>,
) -> Result<TestGroup> {
    let data = dir.join("data");
    if !data.is_dir() {
        return Err(ProblemError::Missing { path: "data/".into(), what: "the test data directory".into() });
    }
    if !data.join("secret").is_dir() {
        return Err(ProblemError::Missing { path: "data/secret/".into(), what: "the secret test data".into() });
    }
    let canon_root = dir.canonicalize().map_err(|e| ProblemError::Io { path: ".".into(), source: e })?;
    let mut ctx = Ctx { canon_root, meta, warnings };
    let root = match format {
        FormatVersion::Legacy => legacy::load_root(&mut ctx, &data)?,
        FormatVersion::V2025_09 => v2025::load_root(&mut ctx, &data)?,
    };
    let secret = root.groups.iter().find(|g| g.name == "secret");
    let has_secret_cases = matches!(secret, Some(s) if !s.all_cases().is_empty());
    if !has_secret_cases {
        return Err(ProblemError::Missing {
            path: "data/secret/".into(),
            what: "secret test cases (no .in files)".into(),
        });
    }
    Ok(root)
}

/// `data/<rel>` as shown in messages.
fn shown(rel: &str) -> String {
    if rel.is_empty() || rel == "data" {
        "data/".to_string()
    } else {
        format!("data/{rel}")
    }
}

fn join_rel(rel: &str, name: &str) -> String {
    if rel.is_empty() || rel == "data" {
        name.to_string()
    } else {
        format!("{rel}/{name}")
    }
}

/// Errors if `path` resolves outside the package (a symlink out of it).
fn check_inside(ctx: &Ctx<'_>, path: &Path, shown: &str) -> Result<()> {
    let canon = path.canonicalize().map_err(|e| ProblemError::Io { path: shown.to_string(), source: e })?;
    if !canon.starts_with(&ctx.canon_root) {
        return Err(ProblemError::invalid(shown, "resolves outside the problem package (symlink)"));
    }
    Ok(())
}

/// The 2025-09 file-name rule: `^[a-zA-Z0-9_][a-zA-Z0-9_.-]{0,254}$`.
fn valid_2025_name(name: &str) -> bool {
    let b = name.as_bytes();
    !b.is_empty()
        && b.len() <= 255
        && (b[0].is_ascii_alphanumeric() || b[0] == b'_')
        && b.iter().all(|c| c.is_ascii_alphanumeric() || matches!(c, b'_' | b'.' | b'-'))
}

fn valid_legacy_name(name: &str) -> bool {
    let b = name.as_bytes();
    b.len() >= 2
        && b[0].is_ascii_alphanumeric()
        && b[b.len() - 1].is_ascii_alphanumeric()
        && b.iter().all(|c| c.is_ascii_alphanumeric() || matches!(c, b'_' | b'.' | b'-'))
}

/// Makes a test case from `<stem>.in` in `abs_dir`, requiring `<stem>.ans`.
fn make_case(ctx: &Ctx<'_>, abs_dir: &Path, rel_dir: &str, stem: &str, sample: bool) -> Result<TestCase> {
    let name = join_rel(rel_dir, stem);
    let input = abs_dir.join(format!("{stem}.in"));
    let answer = abs_dir.join(format!("{stem}.ans"));
    let in_shown = format!("data/{name}.in");
    let ans_shown = format!("data/{name}.ans");
    if !input.is_file() {
        return Err(ProblemError::invalid(in_shown, "expected a regular file"));
    }
    if !answer.is_file() {
        return Err(ProblemError::MissingAnswer { input: in_shown, answer: ans_shown });
    }
    check_inside(ctx, &input, &in_shown)?;
    check_inside(ctx, &answer, &ans_shown)?;
    Ok(TestCase {
        name,
        input,
        answer,
        sample,
        args: Vec::new(),
        submission_args: Vec::new(),
        files: None,
        full_feedback: sample,
    })
}

mod legacy {
    use super::*;

    /// `testdata.yaml` settings, inherited key by key.
    #[derive(Clone, Debug)]
    pub(super) struct Cfg {
        on_reject: OnReject,
        verdict_mode: VerdictMode,
        aggregation: Aggregation,
        accept_if_any: bool,
        ignore_sample: bool,
        accept_score: f64,
        reject_score: f64,
        range: (f64, f64),
        flags: Vec<String>,
    }

    pub(super) fn load_root(ctx: &mut Ctx<'_>, data: &Path) -> Result<TestGroup> {
        let d = GroupSettings::default();
        let lr = &ctx.meta.legacy_root;
        let cfg = Cfg {
            on_reject: lr.on_reject.unwrap_or(OnReject::Break),
            verdict_mode: lr.verdict_mode.unwrap_or(VerdictMode::WorstError),
            aggregation: Aggregation::Sum,
            accept_if_any: false,
            ignore_sample: false,
            accept_score: lr.accept_score.unwrap_or(d.accept_score),
            reject_score: lr.reject_score.unwrap_or(d.reject_score),
            range: lr.range.unwrap_or(d.range),
            flags: Vec::new(),
        };
        load_group(ctx, data, "data", cfg, 0)
    }

    fn load_group(ctx: &mut Ctx<'_>, abs: &Path, rel: &str, parent: Cfg, depth: usize) -> Result<TestGroup> {
        if depth > MAX_DEPTH {
            return Err(ProblemError::invalid(shown(rel), "test data nested too deeply (a symlink loop?)"));
        }
        let is_root = rel == "data";
        let is_sample = rel == "sample" || rel.starts_with("sample/");
        let cfg_file = format!("{}/testdata.yaml", shown(rel).trim_end_matches('/'));
        let cfg = match yaml::read_yaml(&abs.join("testdata.yaml"), &cfg_file)? {
            Some(v) => apply(ctx, &cfg_file, &v, parent)?,
            None => parent,
        };

        let entries = visible_entries(abs, &shown(rel))?;
        let mut cases = Vec::new();
        let mut groups = Vec::new();
        for (name, path) in &entries {
            let entry_shown = format!("{}/{name}", shown(rel).trim_end_matches('/'));
            if path.is_dir() {
                if is_root && name != "sample" && name != "secret" {
                    warn(
                        ctx.warnings,
                        format!("{entry_shown}: ignored (the test data groups are data/sample and data/secret)"),
                    );
                    continue;
                }
                if !valid_legacy_name(name) {
                    warn(ctx.warnings, format!("{entry_shown}: invalid file name for the legacy format"));
                }
                let child_rel = join_rel(rel, name);
                groups.push(load_group(ctx, path, &child_rel, cfg.clone(), depth + 1)?);
            } else if let Some(stem) = name.strip_suffix(".in") {
                if is_root {
                    warn(
                        ctx.warnings,
                        format!("{entry_shown}: ignored (test cases belong in data/sample or data/secret)"),
                    );
                    continue;
                }
                if !valid_legacy_name(name) {
                    warn(ctx.warnings, format!("{entry_shown}: invalid file name for the legacy format"));
                }
                cases.push(make_case(ctx, abs, rel, stem, is_sample)?);
            } else if let Some(stem) = name.strip_suffix(".ans") {
                if !abs.join(format!("{stem}.in")).exists() {
                    warn(ctx.warnings, format!("{entry_shown}: answer file without an input file, ignored"));
                }
            }
        }
        cases.sort_by(|a, b| a.name.cmp(&b.name));
        groups.sort_by(|a, b| a.name.cmp(&b.name));
        if !is_root && cases.is_empty() && groups.is_empty() {
            warn(ctx.warnings, format!("{}: empty test data group", shown(rel)));
        }

        let mut args = ctx.meta.validator_flags.clone();
        args.extend(cfg.flags.iter().cloned());
        for c in &mut cases {
            c.args = args.clone();
        }
        let score = if ctx.meta.scoring && cfg.range.1.is_finite() { Some(cfg.range.1) } else { None };
        let settings = GroupSettings {
            output_validator_args: args,
            submission_args: Vec::new(),
            full_feedback: is_sample,
            score,
            aggregation: cfg.aggregation,
            require_pass: Vec::new(),
            on_reject: cfg.on_reject,
            verdict_mode: cfg.verdict_mode,
            accept_if_any_accepted: cfg.accept_if_any,
            ignore_sample: is_root && cfg.ignore_sample,
            accept_score: cfg.accept_score,
            reject_score: cfg.reject_score,
            range: cfg.range,
        };
        Ok(TestGroup { name: rel.to_string(), dir: abs.to_path_buf(), cases, groups, settings })
    }

    fn apply(ctx: &mut Ctx<'_>, file: &str, v: &Value, mut cfg: Cfg) -> Result<Cfg> {
        let mut r = MapReader::new(file, "", v)?;
        if let Some(v) = r.take("on_reject") {
            match v.as_str() {
                Some("break" | "first_error") => cfg.on_reject = OnReject::Break,
                Some("continue" | "grade" | "worst_error") => cfg.on_reject = OnReject::Continue,
                _ => return Err(invalid(file, "on_reject", "\"break\" or \"continue\"", v)),
            }
        }
        match r.take("grading") {
            None => {}
            Some(Value::String(s)) if s == "default" => {}
            Some(Value::String(s)) if s == "custom" => {
                return Err(ProblemError::unsupported(file, "grading: custom (custom graders)"));
            }
            Some(other) => return Err(invalid(file, "grading", "\"default\" or \"custom\"", other)),
        }
        if let Some(v) = r.take("grader_flags") {
            let s = match v {
                Value::String(s) => s.clone(),
                other => return Err(invalid(file, "grader_flags", "a string of flags", other)),
            };
            cfg.verdict_mode = VerdictMode::WorstError;
            cfg.aggregation = Aggregation::Sum;
            cfg.accept_if_any = false;
            cfg.ignore_sample = false;
            for w in s.split_whitespace() {
                match w {
                    "worst_error" | "no_errors" => cfg.verdict_mode = VerdictMode::WorstError,
                    "first_error" => cfg.verdict_mode = VerdictMode::FirstError,
                    "always_accept" => cfg.verdict_mode = VerdictMode::AlwaysAccept,
                    "sum" => cfg.aggregation = Aggregation::Sum,
                    "avg" => cfg.aggregation = Aggregation::Avg,
                    "min" => cfg.aggregation = Aggregation::Min,
                    "max" => cfg.aggregation = Aggregation::Max,
                    "ignore_sample" => cfg.ignore_sample = true,
                    "accept_if_any_accepted" => cfg.accept_if_any = true,
                    _ => {
                        return Err(invalid(
                            file,
                            "grader_flags",
                            "flags among worst_error, first_error, always_accept, sum, avg, min, max, ignore_sample, accept_if_any_accepted",
                            v,
                        ))
                    }
                }
            }
        }
        if let Some(v) = r.take("input_validator_flags") {
            match v {
                Value::String(_) | Value::Mapping(_) => {}
                other => return Err(invalid(file, "input_validator_flags", "a string or a map", other)),
            }
        }
        if let Some(v) = r.take("output_validator_flags") {
            cfg.flags = match v {
                Value::String(s) => s.split_whitespace().map(str::to_string).collect(),
                Value::Mapping(_) => {
                    let mut m = MapReader::new(file, "output_validator_flags", v)?;
                    m.take("name");
                    let flags = m.string("flags")?.unwrap_or_default();
                    m.finish(ctx.warnings);
                    flags.split_whitespace().map(str::to_string).collect()
                }
                Value::Sequence(_) => as_string_list(file, "output_validator_flags", v)?,
                other => return Err(invalid(file, "output_validator_flags", "a string of flags", other)),
            };
        }
        let scoring_keys_present = r.has("accept_score") || r.has("reject_score") || r.has("range");
        if let Some(x) = r.number("accept_score", "a number", |_| true)? {
            cfg.accept_score = x;
        }
        if let Some(x) = r.number("reject_score", "a number", |_| true)? {
            cfg.reject_score = x;
        }
        if let Some(v) = r.take("range") {
            cfg.range = parse_range(file, "range", v)?;
        }
        if scoring_keys_present && !ctx.meta.scoring {
            warn(ctx.warnings, format!("{file}: accept_score, reject_score and range only apply to scoring problems"));
        }
        r.finish(ctx.warnings);
        Ok(cfg)
    }
}

mod v2025 {
    use super::*;

    /// Settings that are inherited down the tree (and into `<case>.yaml`).
    #[derive(Clone, Debug, Default)]
    struct Inherit {
        args: Vec<String>,
        output_validator_args: Vec<String>,
        full_feedback: Option<bool>,
    }

    /// The per-group scoring keys of one `test_group.yaml`.
    #[derive(Clone, Debug, Default)]
    struct Scoring {
        /// `None`: not given; `Some(None)`: `unbounded`.
        max_score: Option<Option<f64>>,
        aggregation: Option<Aggregation>,
        require_pass: Vec<String>,
        present: Vec<&'static str>,
    }

    #[derive(Clone, Copy, PartialEq, Eq, Debug)]
    enum Kind {
        Root,
        Sample,
        Secret,
        SecretGroup,
    }

    pub(super) fn load_root(ctx: &mut Ctx<'_>, data: &Path) -> Result<TestGroup> {
        let file = "data/test_group.yaml";
        let (inherit, scoring) = read_group_yaml(ctx, &data.join("test_group.yaml"), file, Inherit::default())?;
        check_scoring_allowed(ctx, file, &scoring, Kind::Root)?;
        let mut groups = Vec::new();
        for (name, path) in visible_entries(data, "data/")? {
            let entry_shown = format!("data/{name}");
            match name.as_str() {
                "sample" | "secret" if path.is_dir() => {
                    let kind = if name == "sample" { Kind::Sample } else { Kind::Secret };
                    groups.push(load_group(ctx, &path, &name, kind, inherit.clone())?);
                }
                "invalid_input" | "invalid_output" | "valid_output" | "test_group.yaml" => {}
                _ => {
                    if name.ends_with(".in") {
                        warn(
                            ctx.warnings,
                            format!("{entry_shown}: ignored (test cases belong in data/sample or data/secret)"),
                        );
                    } else {
                        warn(ctx.warnings, format!("{entry_shown}: ignored"));
                    }
                }
            }
        }
        let pass_fail_problem = !ctx.meta.scoring;
        let settings = GroupSettings {
            output_validator_args: inherit.output_validator_args.clone(),
            submission_args: inherit.args.clone(),
            full_feedback: inherit.full_feedback.unwrap_or(false),
            score: None,
            aggregation: Aggregation::PassFail,
            require_pass: Vec::new(),
            on_reject: if pass_fail_problem { OnReject::Break } else { OnReject::Continue },
            verdict_mode: VerdictMode::FirstError,
            ..GroupSettings::default()
        };
        let mut root = TestGroup { name: "data".into(), dir: data.to_path_buf(), cases: Vec::new(), groups, settings };
        if ctx.meta.scoring {
            check_scoring_tree(ctx, &root)?;
        }
        root.groups.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(root)
    }

    fn load_group(ctx: &mut Ctx<'_>, abs: &Path, rel: &str, kind: Kind, parent: Inherit) -> Result<TestGroup> {
        let file = format!("data/{rel}/test_group.yaml");
        let (inherit, scoring) = read_group_yaml(ctx, &abs.join("test_group.yaml"), &file, parent)?;
        check_scoring_allowed(ctx, &file, &scoring, kind)?;
        let is_sample = kind == Kind::Sample;

        let mut cases = Vec::new();
        let mut groups = Vec::new();
        let mut subdirs = Vec::new();
        collect(ctx, abs, rel, is_sample, &inherit, &mut cases, &mut subdirs, 0)?;
        if kind == Kind::Secret {
            for (name, path) in subdirs {
                let child_rel = format!("{rel}/{name}");
                groups.push(load_group(ctx, &path, &child_rel, Kind::SecretGroup, inherit.clone())?);
            }
            if !cases.is_empty() && !groups.is_empty() {
                return Err(ProblemError::invalid(
                    "data/secret/",
                    "contains both test cases and test data groups (2025-09 allows one or the other)",
                ));
            }
        } else {
            // Sample and the groups of secret have no subgroups: their directories just hold
            // more of their test cases.
            for (name, path) in subdirs {
                flatten(ctx, &path, &format!("{rel}/{name}"), is_sample, &inherit, &mut cases, 1)?;
            }
        }
        cases.sort_by(|a, b| a.name.cmp(&b.name));
        groups.sort_by(|a, b| a.name.cmp(&b.name));
        if kind == Kind::SecretGroup && cases.is_empty() {
            return Err(ProblemError::invalid(format!("data/{rel}/"), "test data group without test cases"));
        }

        let scoring_problem = ctx.meta.scoring;
        let (score, aggregation) = if !scoring_problem || kind == Kind::Sample {
            (None, Aggregation::PassFail)
        } else {
            let default_max = if kind == Kind::Secret { Some(100.0) } else { None };
            let default_agg = if kind == Kind::Secret { Aggregation::Sum } else { Aggregation::PassFail };
            (scoring.max_score.unwrap_or(default_max), scoring.aggregation.unwrap_or(default_agg))
        };
        let on_reject = if !scoring_problem || matches!(aggregation, Aggregation::PassFail | Aggregation::Min) {
            OnReject::Break
        } else {
            OnReject::Continue
        };
        let settings = GroupSettings {
            output_validator_args: inherit.output_validator_args.clone(),
            submission_args: inherit.args.clone(),
            full_feedback: inherit.full_feedback.unwrap_or(is_sample),
            score,
            aggregation,
            require_pass: scoring.require_pass.clone(),
            on_reject,
            verdict_mode: VerdictMode::FirstError,
            ..GroupSettings::default()
        };
        Ok(TestGroup { name: rel.to_string(), dir: abs.to_path_buf(), cases, groups, settings })
    }

    /// Test cases directly in `abs`; subdirectories (other than `<case>.files`) go to `subdirs`.
    #[allow(clippy::too_many_arguments)]
    fn collect(
        ctx: &mut Ctx<'_>,
        abs: &Path,
        rel: &str,
        sample: bool,
        inherit: &Inherit,
        cases: &mut Vec<TestCase>,
        subdirs: &mut Vec<(String, PathBuf)>,
        depth: usize,
    ) -> Result<()> {
        if depth > MAX_DEPTH {
            return Err(ProblemError::invalid(format!("data/{rel}/"), "test data nested too deeply (a symlink loop?)"));
        }
        let entries = visible_entries(abs, &format!("data/{rel}/"))?;
        let has = |n: &str| entries.iter().any(|(e, _)| e == n);
        for (name, path) in &entries {
            let entry_shown = format!("data/{rel}/{name}");
            if !valid_2025_name(name) {
                warn(
                    ctx.warnings,
                    format!("{entry_shown}: ignored (file names must match [a-zA-Z0-9_][a-zA-Z0-9_.-]*)"),
                );
                continue;
            }
            if path.is_dir() {
                if let Some(stem) = name.strip_suffix(".files") {
                    if has(&format!("{stem}.in")) {
                        continue; // attached to the case below
                    }
                }
                if has(&format!("{name}.in")) {
                    return Err(ProblemError::invalid(
                        entry_shown,
                        "a directory must not have the name of a test case next to it",
                    ));
                }
                subdirs.push((name.clone(), path.clone()));
            } else if let Some(stem) = name.strip_suffix(".in") {
                if stem == "test_group" {
                    return Err(ProblemError::invalid(entry_shown, "a test case must not be named test_group"));
                }
                let mut case = make_case(ctx, abs, rel, stem, sample)?;
                case.args = inherit.output_validator_args.clone();
                case.submission_args = inherit.args.clone();
                case.full_feedback = inherit.full_feedback.unwrap_or(sample);
                let files = abs.join(format!("{stem}.files"));
                if files.is_dir() {
                    check_inside(ctx, &files, &format!("data/{rel}/{stem}.files"))?;
                    case.files = Some(files);
                }
                if has(&format!("{stem}.yaml")) {
                    let file = format!("data/{rel}/{stem}.yaml");
                    apply_case_yaml(ctx, &abs.join(format!("{stem}.yaml")), &file, &mut case)?;
                }
                cases.push(case);
            } else if let Some(stem) = name.strip_suffix(".ans") {
                if !has(&format!("{stem}.in")) {
                    return Err(ProblemError::invalid(
                        entry_shown,
                        format!("answer file without a test case input data/{rel}/{stem}.in"),
                    ));
                }
            } else if name == "testdata.yaml" {
                return Err(ProblemError::invalid(
                    entry_shown,
                    "testdata.yaml is the legacy name; 2025-09 uses test_group.yaml (with output_validator_args as a list)",
                ));
            }
        }
        Ok(())
    }

    /// The test cases of a plain directory inside a group, recursively.
    fn flatten(
        ctx: &mut Ctx<'_>,
        abs: &Path,
        rel: &str,
        sample: bool,
        inherit: &Inherit,
        cases: &mut Vec<TestCase>,
        depth: usize,
    ) -> Result<()> {
        if abs.join("test_group.yaml").exists() {
            return Err(ProblemError::invalid(
                format!("data/{rel}/test_group.yaml"),
                "test groups cannot be nested in 2025-09 (only data/sample, data/secret and data/secret/<group> have test_group.yaml)",
            ));
        }
        let mut subdirs = Vec::new();
        collect(ctx, abs, rel, sample, inherit, cases, &mut subdirs, depth)?;
        for (name, path) in subdirs {
            flatten(ctx, &path, &format!("{rel}/{name}"), sample, inherit, cases, depth + 1)?;
        }
        Ok(())
    }

    fn read_group_yaml(ctx: &mut Ctx<'_>, path: &Path, file: &str, mut inherit: Inherit) -> Result<(Inherit, Scoring)> {
        let constants = ctx.meta.constants.clone();
        let Some(v) = yaml::read_yaml_with(path, file, |t| yaml::substitute_constants(t, &constants))? else {
            return Ok((inherit, Scoring::default()));
        };
        let mut r = MapReader::new(file, "", &v)?;
        read_inheritable(ctx, &mut r, &mut inherit)?;
        let mut scoring = Scoring::default();
        if let Some(v) = r.take("max_score") {
            scoring.present.push("max_score");
            scoring.max_score = Some(match v {
                Value::String(s) if s == "unbounded" => None,
                _ => Some(yaml::as_number(file, "max_score", v, "a non-negative integer or \"unbounded\"", |x| {
                    x >= 0.0
                })?),
            });
        }
        match r.take("score_aggregation") {
            None => {}
            Some(Value::String(s)) if s == "pass-fail" => scoring.aggregation = Some(Aggregation::PassFail),
            Some(Value::String(s)) if s == "sum" => scoring.aggregation = Some(Aggregation::Sum),
            Some(Value::String(s)) if s == "min" => scoring.aggregation = Some(Aggregation::Min),
            Some(other) => return Err(invalid(file, "score_aggregation", "\"pass-fail\", \"sum\" or \"min\"", other)),
        }
        if scoring.aggregation.is_some() {
            scoring.present.push("score_aggregation");
        }
        if let Some(v) = r.take("require_pass") {
            scoring.present.push("require_pass");
            scoring.require_pass = as_string_or_list(file, "require_pass", v)?;
        }
        if r.has("static_validation_score") || r.has("static_validator_args") {
            return Err(ProblemError::unsupported(
                file,
                "static validation (static_validation_score, static_validator_args)",
            ));
        }
        for legacy_key in [
            "output_validator_flags",
            "input_validator_flags",
            "grader_flags",
            "accept_score",
            "reject_score",
            "range",
            "on_reject",
            "grading",
        ] {
            if r.has(legacy_key) {
                return Err(ProblemError::invalid(
                    file,
                    format!("{legacy_key}: a legacy testdata.yaml key; 2025-09 uses output_validator_args, max_score, score_aggregation"),
                ));
            }
        }
        r.finish(ctx.warnings);
        Ok((inherit, scoring))
    }

    /// `args`, `output_validator_args`, `full_feedback`, and the keys only checked for type.
    fn read_inheritable(ctx: &mut Ctx<'_>, r: &mut MapReader<'_>, inherit: &mut Inherit) -> Result<()> {
        let _ = &ctx;
        if let Some(a) = r.string_list("args")? {
            inherit.args = a;
        }
        if let Some(a) = r.string_list("output_validator_args")? {
            inherit.output_validator_args = a;
        }
        if let Some(b) = r.bool("full_feedback")? {
            inherit.full_feedback = Some(b);
        }
        for key in ["input_visualizer_args", "output_visualizer_args"] {
            r.string_list(key)?;
        }
        if let Some(v) = r.take("input_validator_args") {
            match v {
                Value::Sequence(_) => {
                    as_string_list(&r.file, "input_validator_args", v)?;
                }
                Value::Mapping(_) => {}
                other => return Err(invalid(&r.file, "input_validator_args", "a list of strings or a map", other)),
            }
        }
        r.string("hint")?;
        r.string("description")?;
        Ok(())
    }

    fn apply_case_yaml(ctx: &mut Ctx<'_>, path: &Path, file: &str, case: &mut TestCase) -> Result<()> {
        let constants = ctx.meta.constants.clone();
        let Some(v) = yaml::read_yaml_with(path, file, |t| yaml::substitute_constants(t, &constants))? else {
            return Ok(());
        };
        let mut r = MapReader::new(file, "", &v)?;
        let mut inherit = Inherit {
            args: case.submission_args.clone(),
            output_validator_args: case.args.clone(),
            full_feedback: Some(case.full_feedback),
        };
        read_inheritable(ctx, &mut r, &mut inherit)?;
        r.finish(ctx.warnings);
        case.submission_args = inherit.args;
        case.args = inherit.output_validator_args;
        case.full_feedback = inherit.full_feedback.unwrap_or(case.full_feedback);
        Ok(())
    }

    fn check_scoring_allowed(ctx: &mut Ctx<'_>, file: &str, s: &Scoring, kind: Kind) -> Result<()> {
        if s.present.is_empty() {
            return Ok(());
        }
        let keys = s.present.join(", ");
        if !ctx.meta.scoring {
            return Err(ProblemError::invalid(
                file,
                format!("{keys}: only allowed on scoring problems (type: scoring)"),
            ));
        }
        if matches!(kind, Kind::Root | Kind::Sample) {
            return Err(ProblemError::invalid(
                file,
                format!("{keys}: not allowed here (only in data/secret and its groups)"),
            ));
        }
        Ok(())
    }

    /// The spec's consistency rules for scoring problems.
    fn check_scoring_tree(ctx: &mut Ctx<'_>, root: &TestGroup) -> Result<()> {
        let Some(secret) = root.groups.iter().find(|g| g.name == "secret") else { return Ok(()) };
        let file = |g: &TestGroup| format!("data/{}/test_group.yaml", g.name);
        let all: Vec<&TestGroup> = std::iter::once(secret).chain(secret.groups.iter()).collect();
        for g in &all {
            if g.settings.aggregation == Aggregation::PassFail && g.settings.score.is_none() {
                return Err(ProblemError::InvalidValue {
                    file: file(g),
                    field: "max_score".into(),
                    expected:
                        "a number (a pass-fail group needs a bounded max_score; groups of secret default to unbounded)"
                            .into(),
                    got: "unbounded".into(),
                });
            }
        }
        for g in &secret.groups {
            if secret.settings.score.is_some() && g.settings.score.is_none() {
                return Err(ProblemError::InvalidValue {
                    file: file(g),
                    field: "max_score".into(),
                    expected: "a number (groups may only be unbounded when data/secret is)".into(),
                    got: "unbounded".into(),
                });
            }
            if secret.settings.aggregation == Aggregation::PassFail && g.settings.aggregation != Aggregation::PassFail {
                return Err(ProblemError::invalid(
                    file(g),
                    "score_aggregation: must be pass-fail because data/secret has pass-fail aggregation",
                ));
            }
        }
        for g in &all {
            for req in &g.settings.require_pass {
                let target_ok = req == "sample"
                    || secret.groups.iter().any(|o| &o.name == req && o.settings.aggregation == Aggregation::PassFail);
                if !target_ok {
                    return Err(ProblemError::invalid(
                        file(g),
                        format!("require_pass: {req:?} is not sample or a test data group with pass-fail aggregation"),
                    ));
                }
                if g.name == "secret" && req != "sample" {
                    return Err(ProblemError::invalid(
                        file(g),
                        format!("require_pass: secret may only depend on sample, not {req:?}"),
                    ));
                }
                if req.as_str() >= g.name.as_str() && req != "sample" {
                    return Err(ProblemError::invalid(
                        file(g),
                        format!("require_pass: {req:?} must come lexicographically before {:?}", g.name),
                    ));
                }
            }
        }
        if secret.settings.aggregation == Aggregation::Sum && !secret.groups.is_empty() {
            if let (Some(max), Some(sum)) =
                (secret.settings.score, secret.groups.iter().map(|g| g.settings.score).sum::<Option<f64>>())
            {
                if (sum - max).abs() > 1e-9 * max.max(1.0) {
                    warn(
                        ctx.warnings,
                        format!("data/secret/: the groups' max_score add up to {sum}, but secret's max_score is {max}"),
                    );
                }
            }
        }
        Ok(())
    }
}
