//! Small helpers to read YAML files into `serde_norway::Value`s and to pull typed fields out of
//! them with errors that name the file, the field and the offending value.

use std::collections::BTreeMap;
use std::path::Path;

use serde_norway::{Mapping, Value};

use super::error::ProblemError;

/// YAML configuration files larger than this are refused (they are a few hundred bytes in
/// practice; this keeps a hostile package from making the loader allocate without bound).
const MAX_YAML_BYTES: u64 = 1 << 20;

pub(crate) type Result<T> = std::result::Result<T, ProblemError>;

/// Reads and parses `path` (shown as `file` in errors). `Ok(None)` if the file does not exist.
/// An empty (or comment-only) document is `Value::Null`.
pub(crate) fn read_yaml(path: &Path, file: &str) -> Result<Option<Value>> {
    read_yaml_with(path, file, |s| s.to_string())
}

/// Like [`read_yaml`], with a text substitution applied before parsing (2025-09 constants).
pub(crate) fn read_yaml_with(path: &Path, file: &str, substitute: impl Fn(&str) -> String) -> Result<Option<Value>> {
    let meta = match std::fs::metadata(path) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(ProblemError::Io { path: file.to_string(), source: e }),
    };
    if !meta.is_file() {
        return Err(ProblemError::invalid(file, "expected a regular file, found a directory or special file"));
    }
    if meta.len() > MAX_YAML_BYTES {
        return Err(ProblemError::Yaml {
            file: file.to_string(),
            message: format!("file is {} bytes, larger than the {} byte limit", meta.len(), MAX_YAML_BYTES),
        });
    }
    let bytes = std::fs::read(path).map_err(|e| ProblemError::Io { path: file.to_string(), source: e })?;
    let text = String::from_utf8(bytes).map_err(|e| ProblemError::Yaml {
        file: file.to_string(),
        message: format!("not valid UTF-8 (at byte {})", e.utf8_error().valid_up_to()),
    })?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(&text);
    Ok(Some(parse_yaml(&substitute(text), file)?))
}

pub(crate) fn parse_yaml(text: &str, file: &str) -> Result<Value> {
    let only_comments = text.lines().all(|l| {
        let t = l.trim();
        t.is_empty() || t.starts_with('#') || t == "---" || t == "..."
    });
    if only_comments {
        return Ok(Value::Null);
    }
    serde_norway::from_str::<Value>(text)
        .map_err(|e| ProblemError::Yaml { file: file.to_string(), message: e.to_string() })
}

/// A compact rendering of a value for error messages: strings quoted, collections as JSON,
/// truncated.
pub(crate) fn describe(v: &Value) -> String {
    let s = match v {
        Value::Null => "nothing (null)".to_string(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::String(s) => format!("{s:?}"),
        Value::Sequence(_) => format!("a list {}", serde_json::to_string(v).unwrap_or_default()),
        Value::Mapping(_) => format!("a map {}", serde_json::to_string(v).unwrap_or_default()),
        Value::Tagged(t) => format!("a tagged value {}", t.tag),
    };
    truncate(s, 100)
}

pub(crate) fn truncate(mut s: String, max: usize) -> String {
    if s.len() > max {
        let mut cut = max;
        while !s.is_char_boundary(cut) {
            cut -= 1;
        }
        s.truncate(cut);
        s.push_str("...");
    }
    s
}

pub(crate) fn invalid(file: &str, field: &str, expected: &str, got: &Value) -> ProblemError {
    ProblemError::InvalidValue {
        file: file.to_string(),
        field: field.to_string(),
        expected: expected.to_string(),
        got: describe(got),
    }
}

/// Reads the keys of one YAML map, remembering which ones were used so that the rest can be
/// reported as unknown.
pub(crate) struct MapReader<'v> {
    pub file: String,
    /// Dotted path of this map (`""` for the document, `"limits"`, ...).
    pub path: String,
    entries: Vec<(String, &'v Value)>,
    used: Vec<bool>,
}

impl<'v> MapReader<'v> {
    /// `Null` (an empty document or `key:` with nothing after it) reads as an empty map.
    pub fn new(file: &str, path: &str, value: &'v Value) -> Result<Self> {
        let map: Option<&Mapping> = match value {
            Value::Null => None,
            Value::Mapping(m) => Some(m),
            other => {
                return Err(invalid(file, path, "a map (key: value lines)", other));
            }
        };
        let mut entries = Vec::new();
        if let Some(m) = map {
            for (k, v) in m.iter() {
                let key = match k {
                    Value::String(s) => s.clone(),
                    // `1: x` or `true: x`: keys that YAML typed as something else.
                    Value::Number(n) => n.to_string(),
                    Value::Bool(b) => b.to_string(),
                    other => return Err(invalid(file, path, "string keys", other)),
                };
                entries.push((key, v));
            }
        }
        let used = vec![false; entries.len()];
        Ok(MapReader { file: file.to_string(), path: path.to_string(), entries, used })
    }

    pub fn field(&self, key: &str) -> String {
        if self.path.is_empty() {
            key.to_string()
        } else {
            format!("{}.{key}", self.path)
        }
    }

    /// The value of `key`, marking it used. `key:` with an empty value counts as absent.
    pub fn take(&mut self, key: &str) -> Option<&'v Value> {
        let i = self.entries.iter().position(|(k, _)| k == key)?;
        self.used[i] = true;
        match self.entries[i].1 {
            Value::Null => None,
            v => Some(v),
        }
    }

    pub fn has(&self, key: &str) -> bool {
        self.entries.iter().any(|(k, v)| k == key && !v.is_null())
    }

    /// The entries not taken yet (marking them used).
    pub fn take_rest(&mut self) -> Vec<(String, &'v Value)> {
        let mut out = Vec::new();
        for (i, (k, v)) in self.entries.iter().enumerate() {
            if !self.used[i] {
                self.used[i] = true;
                out.push((k.clone(), *v));
            }
        }
        out
    }

    /// Warns about the keys nobody took.
    pub fn finish(self, warnings: &mut Vec<String>) {
        for (i, (k, _)) in self.entries.iter().enumerate() {
            if !self.used[i] {
                warn(warnings, format!("{}: {}: unknown key, ignored", self.file, self.field(k)));
            }
        }
    }

    pub fn string(&mut self, key: &str) -> Result<Option<String>> {
        let field = self.field(key);
        self.take(key).map(|v| as_string(&self.file, &field, v)).transpose()
    }

    pub fn bool(&mut self, key: &str) -> Result<Option<bool>> {
        let field = self.field(key);
        match self.take(key) {
            None => Ok(None),
            Some(Value::Bool(b)) => Ok(Some(*b)),
            Some(v) => Err(invalid(&self.file, &field, "true or false", v)),
        }
    }

    /// A number satisfying `check` (described by `expected` in the error).
    pub fn number(&mut self, key: &str, expected: &str, check: impl Fn(f64) -> bool) -> Result<Option<f64>> {
        let field = self.field(key);
        match self.take(key) {
            None => Ok(None),
            Some(v) => as_number(&self.file, &field, v, expected, check).map(Some),
        }
    }

    /// A list of strings (numbers and booleans are accepted and written back as text).
    pub fn string_list(&mut self, key: &str) -> Result<Option<Vec<String>>> {
        let field = self.field(key);
        self.take(key).map(|v| as_string_list(&self.file, &field, v)).transpose()
    }
}

pub(crate) fn warn(warnings: &mut Vec<String>, message: String) {
    tracing::warn!("{message}");
    warnings.push(message);
}

pub(crate) fn as_string(file: &str, field: &str, v: &Value) -> Result<String> {
    match v {
        Value::String(s) => Ok(s.clone()),
        other => Err(invalid(file, field, "a string", other)),
    }
}

/// Strings, and scalars YAML typed as numbers or booleans (`name: 1984`), as text.
pub(crate) fn as_text(file: &str, field: &str, v: &Value) -> Result<String> {
    match v {
        Value::String(s) => Ok(s.clone()),
        Value::Number(n) => Ok(n.to_string()),
        Value::Bool(b) => Ok(b.to_string()),
        other => Err(invalid(file, field, "a string", other)),
    }
}

pub(crate) fn as_number(
    file: &str,
    field: &str,
    v: &Value,
    expected: &str,
    check: impl Fn(f64) -> bool,
) -> Result<f64> {
    match v {
        Value::Number(n) => match n.as_f64() {
            Some(x) if x.is_finite() && check(x) => Ok(x),
            _ => Err(invalid(file, field, expected, v)),
        },
        other => Err(invalid(file, field, expected, other)),
    }
}

pub(crate) fn as_string_list(file: &str, field: &str, v: &Value) -> Result<Vec<String>> {
    match v {
        Value::Sequence(items) => items
            .iter()
            .enumerate()
            .map(|(i, item)| match item {
                Value::String(s) => Ok(s.clone()),
                Value::Number(n) => Ok(n.to_string()),
                Value::Bool(b) => Ok(b.to_string()),
                other => Err(invalid(file, &format!("{field}[{i}]"), "a string", other)),
            })
            .collect(),
        other => Err(invalid(file, field, "a list of strings", other)),
    }
}

/// A string or a list of strings.
pub(crate) fn as_string_or_list(file: &str, field: &str, v: &Value) -> Result<Vec<String>> {
    match v {
        Value::String(s) => Ok(vec![s.clone()]),
        Value::Sequence(_) => as_string_list(file, field, v),
        other => Err(invalid(file, field, "a string or a list of strings", other)),
    }
}

/// Replaces `{{name}}` for the names in `constants`; other `{{...}}` stay as they are.
pub(crate) fn substitute_constants(text: &str, constants: &BTreeMap<String, String>) -> String {
    if constants.is_empty() || !text.contains("{{") {
        return text.to_string();
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find("{{") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        match after.find("}}") {
            Some(end) if constants.contains_key(&after[..end]) => {
                out.push_str(&constants[&after[..end]]);
                rest = &after[end + 2..];
            }
            _ => {
                out.push_str("{{");
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}
