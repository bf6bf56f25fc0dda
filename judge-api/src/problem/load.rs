//! `problem.yaml`, limits and the output validator; assembles a [`Problem`].

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_norway::Value;

use super::error::ProblemError;
use super::yaml::{self, as_string_list, as_text, invalid, warn, MapReader, Result};
use super::{FormatVersion, Limits, Objective, OnReject, OutputValidation, Problem, VerdictMode, MIB};

/// Legacy `grading:` keys that predate the legacy version and act as root defaults for
/// `testdata.yaml`.
#[derive(Clone, Debug, Default)]
pub(crate) struct LegacyRootDefaults {
    pub accept_score: Option<f64>,
    pub reject_score: Option<f64>,
    pub range: Option<(f64, f64)>,
    pub on_reject: Option<OnReject>,
    pub verdict_mode: Option<VerdictMode>,
}

/// What `problem.yaml` says, both formats mapped onto one shape.
pub(crate) struct Meta {
    pub names: Vec<(String, String)>,
    pub scoring: bool,
    pub interactive: bool,
    pub multi_pass: bool,
    pub objective: Objective,
    pub limits: Limits,
    /// legacy `validation: custom ...`.
    pub legacy_custom: bool,
    pub validator_flags: Vec<String>,
    pub languages: Option<Vec<String>>,
    pub allow_file_writing: bool,
    pub constants: BTreeMap<String, String>,
    pub legacy_root: LegacyRootDefaults,
    pub testlib: bool,
}

const PY: &str = "problem.yaml";

pub(crate) fn load(dir: &Path) -> Result<Problem> {
    match std::fs::metadata(dir) {
        Ok(m) if m.is_dir() => {}
        Ok(_) => return Err(ProblemError::invalid(dir.display().to_string(), "not a directory")),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(ProblemError::Missing {
                path: dir.display().to_string(),
                what: "the problem package directory".into(),
            })
        }
        Err(e) => return Err(ProblemError::Io { path: dir.display().to_string(), source: e }),
    }
    let short_name = dir
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .or_else(|| dir.canonicalize().ok().and_then(|d| d.file_name().map(|n| n.to_string_lossy().into_owned())))
        .unwrap_or_default();
    let mut warnings = Vec::new();

    let doc = yaml::read_yaml(&dir.join(PY), PY)?.ok_or_else(|| ProblemError::Missing {
        path: PY.into(),
        what: "the problem metadata file (it may be empty for legacy packages)".into(),
    })?;
    let mut r = MapReader::new(PY, "", &doc)?;
    let format = match r.take("problem_format_version") {
        None => FormatVersion::Legacy,
        Some(Value::String(s)) => match s.as_str() {
            "legacy" | "legacy-icpc" => FormatVersion::Legacy,
            "2025-09" => FormatVersion::V2025_09,
            other => return Err(ProblemError::UnknownFormatVersion { file: PY.into(), got: format!("{other:?}") }),
        },
        Some(other) => return Err(invalid(PY, "problem_format_version", "a string such as \"2025-09\"", other)),
    };
    let mut meta = match format {
        FormatVersion::Legacy => parse_legacy(&mut r, &mut warnings)?,
        FormatVersion::V2025_09 => parse_2025(&mut r, &mut warnings)?,
    };
    meta.testlib = match r.take("checker") {
        None => false,
        Some(Value::String(s)) if s == "testlib" => true,
        Some(Value::String(s)) if s == "kattis" => false,
        Some(other) => return Err(invalid(PY, "checker", "\"testlib\" or \"kattis\"", other)),
    };
    r.finish(&mut warnings);

    // Explicit time limit from the side files of the legacy world.
    let timelimit_files = [".timelimit", "domjudge-problem.ini"];
    match format {
        FormatVersion::Legacy => {
            if meta.limits.time_limit.is_none() {
                meta.limits.time_limit = legacy_time_limit_file(dir)?;
            } else {
                for f in timelimit_files {
                    if dir.join(f).exists() {
                        warn(&mut warnings, format!("{f}: ignored, problem.yaml limits.time_limit is used"));
                    }
                }
            }
        }
        FormatVersion::V2025_09 => {
            for f in timelimit_files {
                if dir.join(f).exists() {
                    warn(&mut warnings, format!("{f}: ignored in 2025-09 packages (use limits.time_limit)"));
                }
            }
        }
    }

    let mut names = meta.names.clone();
    if names.is_empty() && format == FormatVersion::Legacy {
        if let Some(n) = legacy_statement_name(dir) {
            names.push((String::new(), n));
        }
    }
    let name = match names.first() {
        Some((_, n)) => n.clone(),
        None => {
            warn(&mut warnings, format!("{PY}: name: missing, using the directory name"));
            short_name.clone()
        }
    };

    let output_validation = output_validation(dir, format, &meta, &mut warnings)?;

    let data = super::testdata::load_data(dir, format, &meta, &mut warnings)?;
    let submissions = super::submissions::load_submissions(dir, format, meta.scoring, &data, &mut warnings)?;

    let include_dir = Some(dir.join("include")).filter(|p| p.is_dir());

    Ok(Problem {
        dir: dir.to_path_buf(),
        format,
        name,
        names,
        short_name,
        scoring: meta.scoring,
        interactive: meta.interactive,
        multi_pass: meta.multi_pass,
        objective: meta.objective,
        limits: meta.limits,
        output_validation,
        data,
        submissions,
        languages: meta.languages,
        allow_file_writing: meta.allow_file_writing,
        include_dir,
        constants: meta.constants,
        warnings,
    })
}

fn base_meta() -> Meta {
    Meta {
        names: Vec::new(),
        scoring: false,
        interactive: false,
        multi_pass: false,
        objective: Objective::Max,
        limits: Limits::default(),
        legacy_custom: false,
        validator_flags: Vec::new(),
        languages: None,
        allow_file_writing: false,
        constants: BTreeMap::new(),
        legacy_root: LegacyRootDefaults::default(),
        testlib: false,
    }
}

/// Keys both formats have but this judge does not use; they are only checked to exist.
const METADATA_ONLY_LEGACY: &[&str] =
    &["uuid", "author", "source", "source_url", "license", "rights_owner", "keywords"];
const METADATA_ONLY_2025: &[&str] =
    &["uuid", "version", "credits", "source", "license", "rights_owner", "embargo_until", "keywords"];

fn parse_legacy(r: &mut MapReader<'_>, warnings: &mut Vec<String>) -> Result<Meta> {
    let mut m = base_meta();
    m.allow_file_writing = true;
    for k in METADATA_ONLY_LEGACY {
        r.take(k);
    }
    m.scoring = match r.take("type") {
        None => false,
        Some(Value::String(s)) if s == "pass-fail" => false,
        Some(Value::String(s)) if s == "scoring" => true,
        Some(other) => return Err(invalid(PY, "type", "\"pass-fail\" or \"scoring\"", other)),
    };
    if let Some(v) = r.take("name") {
        m.names.push((String::new(), as_text(PY, "name", v)?));
    }

    if let Some(v) = r.take("validation") {
        let s = yaml::as_string(PY, "validation", v)?;
        let mut words = s.split_whitespace();
        match words.next() {
            Some("default") => {
                if words.next().is_some() {
                    return Err(invalid(PY, "validation", "\"default\" alone (score and interactive need custom)", v));
                }
            }
            Some("custom") => {
                m.legacy_custom = true;
                for w in words {
                    match w {
                        "score" => {
                            if !m.scoring {
                                warn(warnings, format!("{PY}: validation: \"score\" on a problem without type: scoring; treating the problem as scoring"));
                            }
                            m.scoring = true;
                        }
                        "interactive" => m.interactive = true,
                        _ => {
                            return Err(invalid(
                                PY,
                                "validation",
                                "\"default\" or \"custom\" followed by \"score\" and/or \"interactive\"",
                                v,
                            ))
                        }
                    }
                }
            }
            _ => return Err(invalid(PY, "validation", "\"default\" or \"custom [score] [interactive]\"", v)),
        }
    }
    if let Some(v) = r.take("validator_flags") {
        m.validator_flags = match v {
            Value::String(s) => s.split_whitespace().map(str::to_string).collect(),
            Value::Sequence(_) => as_string_list(PY, "validator_flags", v)?,
            Value::Number(n) => vec![n.to_string()],
            other => return Err(invalid(PY, "validator_flags", "a string of flags", other)),
        };
    }

    if let Some(v) = r.take("limits") {
        let mut l = MapReader::new(PY, "limits", v)?;
        if let Some(x) = l.number("time_multiplier", "a positive number", |x| x > 0.0)? {
            m.limits.time_multiplier = x;
        }
        if let Some(x) = l.number("time_safety_margin", "a positive number", |x| x > 0.0)? {
            m.limits.time_safety_margin = x;
        }
        if let Some(x) = l.number("time_limit", "a positive number of seconds", |x| x > 0.0)? {
            m.limits.time_limit = Some(seconds(&l.field("time_limit"), x, l.take("time_limit"))?);
        }
        common_limits(&mut l, &mut m.limits)?;
        l.finish(warnings);
    }

    if let Some(v) = r.take("grading") {
        if !m.scoring {
            warn(warnings, format!("{PY}: grading: only meaningful for scoring problems"));
        }
        let mut g = MapReader::new(PY, "grading", v)?;
        m.objective = match g.take("objective") {
            None => Objective::Max,
            Some(Value::String(s)) if s == "max" => Objective::Max,
            Some(Value::String(s)) if s == "min" => Objective::Min,
            Some(other) => return Err(invalid(PY, "grading.objective", "\"min\" or \"max\"", other)),
        };
        g.bool("show_test_data_groups")?;
        m.legacy_root.accept_score = g.number("accept_score", "a number", |_| true)?;
        m.legacy_root.reject_score = g.number("reject_score", "a number", |_| true)?;
        if let Some(v) = g.take("range") {
            m.legacy_root.range = Some(parse_range(PY, "grading.range", v)?);
        }
        match g.take("on_reject") {
            None => {}
            Some(Value::String(s)) if s == "first_error" => {
                m.legacy_root.on_reject = Some(OnReject::Break);
                m.legacy_root.verdict_mode = Some(VerdictMode::FirstError);
            }
            Some(Value::String(s)) if s == "worst_error" => {
                m.legacy_root.on_reject = Some(OnReject::Continue);
                m.legacy_root.verdict_mode = Some(VerdictMode::WorstError);
            }
            Some(Value::String(s)) if s == "grade" => m.legacy_root.on_reject = Some(OnReject::Continue),
            Some(other) => {
                return Err(invalid(PY, "grading.on_reject", "\"first_error\", \"worst_error\" or \"grade\"", other))
            }
        }
        g.finish(warnings);
    }
    Ok(m)
}

fn parse_2025(r: &mut MapReader<'_>, warnings: &mut Vec<String>) -> Result<Meta> {
    let mut m = base_meta();
    m.limits.time_multiplier = 2.0;
    m.limits.time_safety_margin = 1.5;
    for k in METADATA_ONLY_2025 {
        r.take(k);
    }
    if r.has("validation") {
        return Err(ProblemError::invalid(
            PY,
            "validation: a legacy key; 2025-09 uses type (e.g. type: [scoring, interactive]) and output_validator/",
        ));
    }
    if r.has("validator_flags") {
        return Err(ProblemError::invalid(
            PY,
            "validator_flags: a legacy key; 2025-09 uses output_validator_args in data/**/test_group.yaml",
        ));
    }

    // type
    if let Some(v) = r.take("type") {
        let types: Vec<String> = match v {
            Value::String(s) => s.split_whitespace().map(str::to_string).collect(),
            Value::Sequence(_) => as_string_list(PY, "type", v)?,
            other => return Err(invalid(PY, "type", "a string or a non-empty list of strings", other)),
        };
        if types.is_empty() {
            return Err(invalid(PY, "type", "a string or a non-empty list of strings", v));
        }
        let mut seen: Vec<&str> = Vec::new();
        for t in &types {
            match t.as_str() {
                "pass-fail" | "scoring" | "multi-pass" | "interactive" | "submit-answer" => {}
                _ => {
                    return Err(invalid(
                        PY,
                        "type",
                        "pass-fail, scoring, multi-pass, interactive or submit-answer",
                        &Value::String(t.clone()),
                    ))
                }
            }
            if seen.contains(&t.as_str()) {
                return Err(invalid(PY, "type", "no repeated values", v));
            }
            seen.push(t);
        }
        let has = |x: &str| seen.contains(&x);
        for (a, b) in [("pass-fail", "scoring"), ("submit-answer", "multi-pass"), ("submit-answer", "interactive")] {
            if has(a) && has(b) {
                return Err(invalid(
                    PY,
                    "type",
                    &format!("a type without both {a} and {b} (they are incompatible)"),
                    v,
                ));
            }
        }
        if has("submit-answer") {
            return Err(ProblemError::unsupported(PY, "type: submit-answer"));
        }
        m.scoring = has("scoring");
        m.interactive = has("interactive");
        m.multi_pass = has("multi-pass");
    }

    // name
    if let Some(v) = r.take("name") {
        match v {
            Value::Mapping(_) => {
                let mut n = MapReader::new(PY, "name", v)?;
                for (lang, value) in n.take_rest() {
                    let text = as_text(PY, &format!("name.{lang}"), value)?;
                    m.names.push((lang, text));
                }
                if m.names.is_empty() {
                    return Err(invalid(PY, "name", "a string or a non-empty map of language to name", v));
                }
            }
            _ => m.names.push(("en".into(), as_text(PY, "name", v)?)),
        }
    }

    // limits
    if let Some(v) = r.take("limits") {
        let mut l = MapReader::new(PY, "limits", v)?;
        let mut have_multipliers = false;
        if let Some(tm) = l.take("time_multipliers") {
            have_multipliers = true;
            let mut t = MapReader::new(PY, "limits.time_multipliers", tm)?;
            if let Some(x) = t.number("ac_to_time_limit", "a number >= 1", |x| x >= 1.0)? {
                m.limits.time_multiplier = x;
            }
            if let Some(x) = t.number("time_limit_to_tle", "a number >= 1", |x| x >= 1.0)? {
                m.limits.time_safety_margin = x;
            }
            t.finish(warnings);
        }
        for (old, new) in [("time_multiplier", "ac_to_time_limit"), ("time_safety_margin", "time_limit_to_tle")] {
            if let Some(x) = l.number(old, "a number >= 1", |x| x >= 1.0)? {
                if have_multipliers {
                    warn(warnings, format!("{PY}: limits.{old}: legacy key ignored, limits.time_multipliers is used"));
                } else {
                    warn(warnings, format!("{PY}: limits.{old}: legacy key, read as limits.time_multipliers.{new}"));
                    if old == "time_multiplier" {
                        m.limits.time_multiplier = x;
                    } else {
                        m.limits.time_safety_margin = x;
                    }
                }
            }
        }
        if let Some(x) = l.number("time_limit", "a positive number of seconds", |x| x > 0.0)? {
            m.limits.time_limit = Some(seconds(&l.field("time_limit"), x, l.take("time_limit"))?);
        }
        if let Some(x) = l.number("time_resolution", "a positive number of seconds", |x| x > 0.0)? {
            m.limits.time_resolution = x;
        }
        common_limits(&mut l, &mut m.limits)?;
        match l.take("validation_passes") {
            None => {}
            Some(v) => {
                let n = yaml::as_number(PY, "limits.validation_passes", v, "an integer >= 2", |x| {
                    x >= 2.0 && x.fract() == 0.0 && x <= u32::MAX as f64
                })?;
                if m.multi_pass {
                    m.limits.validation_passes = n as u32;
                } else {
                    warn(
                        warnings,
                        format!("{PY}: limits.validation_passes: only used for multi-pass problems, ignored"),
                    );
                }
            }
        }
        l.finish(warnings);
    }

    // languages
    if let Some(v) = r.take("languages") {
        m.languages = match v {
            Value::String(s) if s == "all" => None,
            Value::String(s) => Some(vec![s.clone()]),
            Value::Sequence(items) if !items.is_empty() => Some(as_string_list(PY, "languages", v)?),
            other => return Err(invalid(PY, "languages", "\"all\" or a non-empty list of language codes", other)),
        };
    }
    m.allow_file_writing = r.bool("allow_file_writing")?.unwrap_or(false);

    if let Some(v) = r.take("constants") {
        let mut c = MapReader::new(PY, "constants", v)?;
        for (name, value) in c.take_rest() {
            let field = format!("constants.{name}");
            let valid_name = name.chars().next().is_some_and(|ch| ch.is_ascii_alphabetic() || ch == '_')
                && name.chars().all(|ch| ch.is_ascii_alphanumeric() || ch == '_');
            if !valid_name {
                return Err(invalid(
                    PY,
                    &field,
                    "a name matching [a-zA-Z_][a-zA-Z0-9_]*",
                    &Value::String(name.clone()),
                ));
            }
            let text = match value {
                Value::String(s) => s.clone(),
                Value::Number(n) => n.to_string(),
                other => return Err(invalid(PY, &field, "an integer, a float or a string", other)),
            };
            m.constants.insert(name, text);
        }
    }
    Ok(m)
}

/// `memory`, `output`, `code`, `compilation_*`, `validation_*`: the keys both formats share.
fn common_limits(l: &mut MapReader<'_>, limits: &mut Limits) -> Result<()> {
    for (key, unit, target) in [
        ("memory", MIB, &mut limits.memory_bytes),
        ("output", MIB, &mut limits.output_bytes),
        ("code", 1024, &mut limits.code_bytes),
        ("compilation_memory", MIB, &mut limits.compilation_memory_bytes),
        ("validation_memory", MIB, &mut limits.validation_memory_bytes),
        ("validation_output", MIB, &mut limits.validation_output_bytes),
    ] {
        let unit_name = if unit == MIB { "MiB" } else { "KiB" };
        let expected = format!("a positive whole number of {unit_name}");
        if let Some(v) = l.take(key) {
            let field = l.field(key);
            let x = yaml::as_number(&l.file, &field, v, &expected, |x| x > 0.0 && x.fract() == 0.0)?;
            *target = (x as u64)
                .checked_mul(unit)
                .filter(|b| *b < (1u64 << 60))
                .ok_or_else(|| invalid(&l.file, &field, &format!("{expected} (this is too large)"), v))?;
        }
    }
    for key in ["compilation_time", "validation_time"] {
        if let Some(x) = l.number(key, "a positive number of seconds", |x| x > 0.0)? {
            let d = seconds(&l.field(key), x, l.take(key))?;
            match key {
                "compilation_time" => limits.compilation_time = d,
                _ => limits.validation_time = d,
            }
        }
    }
    Ok(())
}

/// At most this many seconds for any limit (a day): larger values are certainly mistakes, and
/// `Duration` conversions must not overflow.
const MAX_SECONDS: f64 = 86_400.0;

fn seconds(field: &str, x: f64, v: Option<&Value>) -> Result<Duration> {
    if !(x > 0.0 && x <= MAX_SECONDS) {
        let got = v.map(yaml::describe).unwrap_or_else(|| x.to_string());
        return Err(ProblemError::InvalidValue {
            file: PY.into(),
            field: field.into(),
            expected: format!("a positive number of seconds, at most {MAX_SECONDS}"),
            got,
        });
    }
    Duration::try_from_secs_f64(x).map_err(|_| ProblemError::InvalidValue {
        file: PY.into(),
        field: field.into(),
        expected: "a positive number of seconds".into(),
        got: x.to_string(),
    })
}

/// `"A B"` with `inf`, `-inf`, `+inf` allowed (legacy `range`); a two-number list is accepted too.
pub(crate) fn parse_range(file: &str, field: &str, v: &Value) -> Result<(f64, f64)> {
    let expected = "two numbers \"low high\" (inf, -inf allowed) with low <= high";
    let parts: Vec<f64> = match v {
        Value::String(s) => {
            let mut out = Vec::new();
            for w in s.split_whitespace() {
                let x = match w {
                    "inf" | "+inf" => f64::INFINITY,
                    "-inf" => f64::NEG_INFINITY,
                    _ => match w.parse::<f64>() {
                        Ok(x) if !x.is_nan() => x,
                        _ => return Err(invalid(file, field, expected, v)),
                    },
                };
                out.push(x);
            }
            out
        }
        Value::Sequence(items) => {
            let mut out = Vec::new();
            for item in items {
                match item.as_f64() {
                    Some(x) if !x.is_nan() => out.push(x),
                    _ => return Err(invalid(file, field, expected, v)),
                }
            }
            out
        }
        other => return Err(invalid(file, field, expected, other)),
    };
    match parts[..] {
        [a, b] if a <= b => Ok((a, b)),
        _ => Err(invalid(file, field, expected, v)),
    }
}

/// A legacy package's time limit from `.timelimit` (DOMjudge: seconds) or
/// `domjudge-problem.ini` (`timelimit = '2'`).
fn legacy_time_limit_file(dir: &Path) -> Result<Option<Duration>> {
    let parse = |file: &str, text: &str| -> Result<Duration> {
        let t = text.trim().trim_matches(|c| c == '\'' || c == '"');
        match t.parse::<f64>() {
            Ok(x) if x.is_finite() && x > 0.0 && x <= MAX_SECONDS => {
                Duration::try_from_secs_f64(x).map_err(|_| ProblemError::invalid(file, "bad time limit"))
            }
            _ => Err(ProblemError::InvalidValue {
                file: file.into(),
                field: if file == ".timelimit" { String::new() } else { "timelimit".into() },
                expected: "a positive number of seconds".into(),
                got: yaml::truncate(format!("{:?}", text.trim()), 100),
            }),
        }
    };
    let read = |file: &str| -> Result<Option<String>> {
        let path = dir.join(file);
        match std::fs::metadata(&path) {
            Err(_) => Ok(None),
            Ok(m) if !m.is_file() || m.len() > 65536 => {
                Err(ProblemError::invalid(file, "expected a small regular file"))
            }
            Ok(_) => match std::fs::read(&path) {
                Ok(bytes) => Ok(Some(String::from_utf8_lossy(&bytes).into_owned())),
                Err(e) => Err(ProblemError::Io { path: file.into(), source: e }),
            },
        }
    };
    if let Some(text) = read(".timelimit")? {
        return parse(".timelimit", &text).map(Some);
    }
    if let Some(text) = read("domjudge-problem.ini")? {
        for line in text.lines() {
            if let Some((k, v)) = line.split_once('=') {
                if k.trim() == "timelimit" {
                    return parse("domjudge-problem.ini", v).map(Some);
                }
            }
        }
    }
    Ok(None)
}

/// The name in a legacy LaTeX statement: `%% plainproblemname: ...` or `\problemname{...}`.
fn legacy_statement_name(dir: &Path) -> Option<String> {
    let sdir = dir.join("problem_statement");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&sdir)
        .ok()?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            let n = p.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
            n.starts_with("problem") && n.ends_with(".tex")
        })
        .collect();
    files.sort_by_key(|p| {
        let n = p.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        (n != "problem.en.tex", n != "problem.tex", n)
    });
    for f in files {
        let Ok(meta) = std::fs::metadata(&f) else { continue };
        if meta.len() > (4 << 20) {
            continue;
        }
        let Ok(bytes) = std::fs::read(&f) else { continue };
        let text = String::from_utf8_lossy(&bytes);
        for line in text.lines() {
            if let Some(rest) = line.trim_start().strip_prefix("%% plainproblemname:") {
                let n = rest.trim();
                if !n.is_empty() {
                    return Some(n.to_string());
                }
            }
        }
        if let Some(pos) = text.find("\\problemname{") {
            let mut depth = 1usize;
            let start = pos + "\\problemname{".len();
            for (i, ch) in text[start..].char_indices() {
                match ch {
                    '{' => depth += 1,
                    '}' => {
                        depth -= 1;
                        if depth == 0 {
                            let n = text[start..start + i].trim();
                            if !n.is_empty() {
                                return Some(n.to_string());
                            }
                            break;
                        }
                    }
                    _ => {}
                }
            }
        }
    }
    None
}

/// Non-hidden entries of a directory, sorted.
pub(crate) fn visible_entries(dir: &Path, shown: &str) -> Result<Vec<(String, PathBuf)>> {
    let rd = std::fs::read_dir(dir).map_err(|e| ProblemError::Io { path: shown.to_string(), source: e })?;
    let mut out = Vec::new();
    for e in rd {
        let e = e.map_err(|e| ProblemError::Io { path: shown.to_string(), source: e })?;
        let name = e.file_name().to_string_lossy().into_owned();
        if name.starts_with('.') {
            continue;
        }
        out.push((name, e.path()));
    }
    out.sort();
    Ok(out)
}

fn output_validation(
    dir: &Path,
    format: FormatVersion,
    meta: &Meta,
    warnings: &mut Vec<String>,
) -> Result<OutputValidation> {
    let plural = dir.join("output_validators");
    let singular = dir.join("output_validator");
    let (has_plural, has_singular) = (plural.exists(), singular.exists());
    if has_plural && has_singular {
        return Err(ProblemError::invalid(
            "output_validators/",
            "both output_validators/ (legacy) and output_validator/ (2025-09) exist; keep only the one of this package's format",
        ));
    }
    let (program, shown): (Option<PathBuf>, &str) = match format {
        FormatVersion::Legacy => {
            if has_singular {
                return Err(ProblemError::invalid(
                    "output_validator/",
                    "the 2025-09 directory name; legacy packages put the validator in output_validators/<name>/ \
                     (or set problem_format_version: 2025-09)",
                ));
            }
            let program = if has_plural {
                if !plural.is_dir() {
                    return Err(ProblemError::invalid("output_validators", "expected a directory"));
                }
                let entries = visible_entries(&plural, "output_validators/")?;
                match entries.len() {
                    0 => None,
                    1 => Some(entries[0].1.clone()),
                    _ => {
                        let names: Vec<&str> = entries.iter().map(|(n, _)| n.as_str()).collect();
                        return Err(ProblemError::unsupported(
                            "output_validators/",
                            format!(
                                "more than one output validator ({}); put a multi-file validator in one subdirectory",
                                names.join(", ")
                            ),
                        ));
                    }
                }
            } else {
                None
            };
            (program, "output_validators/")
        }
        FormatVersion::V2025_09 => {
            if has_plural {
                return Err(ProblemError::invalid(
                    "output_validators/",
                    "the legacy directory name; 2025-09 packages use output_validator/ (one program)",
                ));
            }
            let program = if has_singular {
                if !singular.is_dir() {
                    return Err(ProblemError::invalid(
                        "output_validator",
                        "expected a directory holding the validator program",
                    ));
                }
                if visible_entries(&singular, "output_validator/")?.is_empty() {
                    return Err(ProblemError::invalid("output_validator/", "empty directory"));
                }
                Some(singular)
            } else {
                None
            };
            (program, "output_validator/")
        }
    };
    let args = meta.validator_flags.clone();

    if meta.testlib {
        if meta.interactive || meta.multi_pass {
            return Err(ProblemError::unsupported(
                PY,
                "checker: testlib on an interactive or multi-pass problem (testlib interactors are not supported)",
            ));
        }
        let Some(dir) = program else {
            return Err(ProblemError::Missing {
                path: shown.into(),
                what: "the testlib checker declared by checker: testlib".into(),
            });
        };
        return Ok(OutputValidation::Testlib { dir, args });
    }

    let needs_custom = match format {
        FormatVersion::Legacy => meta.legacy_custom,
        FormatVersion::V2025_09 => meta.interactive || meta.multi_pass,
    };
    match (program, needs_custom) {
        (Some(dir), true) => Ok(OutputValidation::Custom { dir, args }),
        (None, true) => {
            let why = match format {
                FormatVersion::Legacy => "the output validator required by validation: custom",
                FormatVersion::V2025_09 => "the output validator required by an interactive or multi-pass problem",
            };
            Err(ProblemError::Missing { path: shown.into(), what: why.into() })
        }
        (Some(_), false) if format == FormatVersion::Legacy => {
            warn(
                warnings,
                format!("{shown}: ignored because problem.yaml does not say validation: custom; the default validator is used"),
            );
            Ok(OutputValidation::Default { args })
        }
        (Some(dir), false) => Ok(OutputValidation::Custom { dir, args }),
        (None, false) => Ok(OutputValidation::Default { args }),
    }
}
