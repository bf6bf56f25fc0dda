//! The language table and sandboxed compilation.
//!
//! A [`LanguageTable`] maps language ids (`c`, `cpp`, `python`, `rust`, `java`, ...) to
//! [`Language`]s: how to compile a submission and how to run the result. The built-in table is
//! `languages.toml` next to this file (embedded; its comments document the format, the
//! placeholders and the limits); a user's TOML file with the same layout extends or overrides it
//! ([`LanguageTable::with_file`]), merging by id.
//!
//! [`compile`] copies a submission (one file, or a directory of sources) into
//! `work_dir/sub` on the host and runs the compiler in a box where that directory is mounted
//! read-write at `/sub`; the result is an [`Executable`]: the same directory, which is then
//! mounted read-only at `/sub` in every run box, plus the run command. Everything a run needs is
//! in that directory (or in the language's own read-only mounts): C and C++ are linked
//! statically, Rust links only against libc, Java runs its `.class` files, Python its sources.
//!
//! Compilation never runs on the host: the compiler is as untrusted as the source it reads.
//! The host only runs the trusted probes of `vars` (e.g. `rustc --print sysroot`) when a table
//! is loaded.

use std::collections::{BTreeMap, HashMap};
use std::fs;
use std::io::{self, Read};
use std::os::fd::AsRawFd;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use runner::{BindMount, Input, Limits, Output, Report, RunSpec, Sandbox, Status};
use toml::{Table, Value};

/// The built-in table.
pub const BUILTIN_TOML: &str = include_str!("languages.toml");
/// Where the submission directory is mounted in compile and run boxes (`{dir}`).
pub const SUBMISSION_DIR: &str = "/sub";
/// File name of `{exe}` in the submission directory.
pub const EXE_NAME: &str = "a.out";
/// Upper bound of [`CompileOutcome::message`], in bytes.
pub const MESSAGE_LIMIT: usize = 64 * 1024;
/// Name of the submission directory under `work_dir`.
const SUB_NAME: &str = "sub";
/// Name of the compiler's log (stdout and stderr, interleaved) under `work_dir`.
const LOG_NAME: &str = "compile.log";
/// How long a host-side probe (`vars`) may take.
const PROBE_TIMEOUT: Duration = Duration::from_secs(10);
/// Placeholders filled in per submission.
const SUBMISSION_PLACEHOLDERS: &[&str] = &["dir", "src", "srcs", "main", "exe", "memory_mb"];
/// A submission directory deeper or larger than this is refused (not a compilation error: the
/// judge, not the contestant, lays out submissions).
const MAX_SOURCE_DEPTH: usize = 16;
const MAX_SOURCE_FILES: usize = 10_000;

/// Default compile limits of a language whose table gives none.
const DEFAULT_COMPILE_TIME_S: f64 = 30.0;
const DEFAULT_COMPILE_MEMORY_MB: u64 = 1024;
const DEFAULT_COMPILE_PIDS: u32 = 32;
const DEFAULT_COMPILE_OUTPUT_MB: u64 = 128;

#[derive(Debug, thiserror::Error)]
pub enum LanguageError {
    #[error("read language file {path}: {source}")]
    Read { path: PathBuf, source: io::Error },
    #[error("{file}: {message}")]
    Syntax { file: String, message: String },
    /// A field of a language file has a bad value (or is missing, or unknown).
    #[error("{file}: {field}: {message}")]
    Field { file: String, field: String, message: String },
    #[error("language {id} is not available on this host: {reason}")]
    Unavailable { id: String, reason: String },
    #[error("{op} {path}: {source}")]
    Io { op: &'static str, path: PathBuf, source: io::Error },
    #[error("source {path}: {message}")]
    Source { path: PathBuf, message: String },
    #[error(transparent)]
    Sandbox(#[from] runner::Error),
    #[error("the sandbox failed while compiling: {0}")]
    SandboxFailed(String),
}

fn io_err<'a>(op: &'static str, path: &'a Path) -> impl FnOnce(io::Error) -> LanguageError + 'a {
    move |source| LanguageError::Io { op, path: path.to_owned(), source }
}

/// One language.
#[derive(Clone, Debug, PartialEq)]
pub struct Language {
    pub id: String,
    /// For people: "C++ (GCC 12, gnu++20)".
    pub name: String,
    /// Without the dot, lower case.
    pub extensions: Vec<String>,
    /// `None`: the sources are only copied (interpreted languages without a check step).
    pub compile: Option<CompileStep>,
    pub run: RunStep,
    /// The resolved host-side variables (`{sysroot}`, ...), already substituted into the
    /// commands and mounts.
    pub vars: BTreeMap<String, String>,
    /// Why the language cannot be used on this host (a variable could not be resolved).
    pub unavailable: Option<String>,
}

/// How to compile a submission.
#[derive(Clone, Debug, PartialEq)]
pub struct CompileStep {
    /// argv in the box, with the submission placeholders still in it.
    pub command: Vec<String>,
    pub limits: Limits,
    /// Read-only mounts of the compile box (e.g. a toolchain).
    pub mounts: Vec<BindMount>,
    pub env: Vec<(String, String)>,
    /// Box paths (under `/sub`) that must exist as regular files after a successful compile.
    pub expect: Vec<String>,
}

/// How to run a compiled submission.
#[derive(Clone, Debug, PartialEq)]
pub struct RunStep {
    pub command: Vec<String>,
    /// Read-only mounts of the run box, besides the submission directory.
    pub mounts: Vec<BindMount>,
    pub env: Vec<(String, String)>,
    /// Added to the caller's pids limit (runtimes with threads of their own: the JVM).
    pub extra_pids: u32,
}

/// The language table: built-in defaults, possibly extended by user files.
#[derive(Clone, Debug)]
pub struct LanguageTable {
    /// The merged `languages` table of every file loaded so far.
    raw: Table,
    /// Built from `raw`, in id order.
    languages: Vec<Language>,
}

impl LanguageTable {
    /// The built-in languages (`languages.toml`), with their host variables resolved.
    pub fn builtin() -> Self {
        static BUILTIN: OnceLock<LanguageTable> = OnceLock::new();
        BUILTIN
            .get_or_init(|| {
                LanguageTable { raw: Table::new(), languages: Vec::new() }
                    .with_toml(BUILTIN_TOML, "built-in languages.toml")
                    .unwrap_or_else(|e| panic!("the built-in language table is invalid: {e}"))
            })
            .clone()
    }

    /// This table extended and overridden by the TOML file at `path` (see the module docs).
    /// Errors name the file and the field.
    pub fn with_file(self, path: &Path) -> Result<Self, LanguageError> {
        let text = fs::read_to_string(path).map_err(|source| LanguageError::Read { path: path.to_owned(), source })?;
        self.with_toml(&text, &path.display().to_string())
    }

    /// Like [`LanguageTable::with_file`], from text; `origin` names it in errors.
    pub fn with_toml(self, text: &str, origin: &str) -> Result<Self, LanguageError> {
        let doc: Table = text
            .parse()
            .map_err(|e: toml::de::Error| LanguageError::Syntax { file: origin.to_owned(), message: e.to_string() })?;
        let cx = Cx { file: origin };
        check_keys(&doc, &["languages"], "", &cx)?;
        let mut raw = self.raw;
        match doc.get("languages") {
            None => {}
            Some(Value::Table(langs)) => {
                for (id, v) in langs {
                    if !matches!(v, Value::Table(_)) {
                        return Err(cx.err(format!("languages.{id}"), format!("expected a table, found {}", type_name(v))));
                    }
                }
                merge(&mut raw, langs);
            }
            Some(v) => return Err(cx.err("languages", format!("expected a table, found {}", type_name(v)))),
        }
        let mut languages = Vec::new();
        for (id, v) in &raw {
            let Value::Table(t) = v else { unreachable!("checked above") };
            if let Some(lang) = parse_language(id, t, &cx)? {
                languages.push(lang);
            }
        }
        Ok(LanguageTable { raw, languages })
    }

    pub fn get(&self, id: &str) -> Option<&Language> {
        self.languages.iter().find(|l| l.id == id)
    }

    /// The language of a source file, by extension (case-insensitive); of a directory, the
    /// language most of its files (recursively) are in, ties going to the first id. When
    /// languages share an extension, the first id wins.
    pub fn detect(&self, source: &Path) -> Option<&Language> {
        if source.is_dir() {
            let mut files = Vec::new();
            walk(source, Path::new(""), 0, &mut files).ok()?;
            let mut best: Option<(&Language, usize)> = None;
            for lang in &self.languages {
                let n = files.iter().filter(|(rel, _)| has_extension(rel, &lang.extensions)).count();
                if n > 0 && !matches!(best, Some((_, m)) if m >= n) {
                    best = Some((lang, n));
                }
            }
            return best.map(|(l, _)| l);
        }
        self.languages.iter().find(|l| has_extension(source, &l.extensions))
    }

    /// Every id, in order.
    pub fn ids(&self) -> Vec<&str> {
        self.languages.iter().map(|l| l.id.as_str()).collect()
    }

    pub fn languages(&self) -> &[Language] {
        &self.languages
    }
}

fn has_extension(path: &Path, extensions: &[String]) -> bool {
    let Some(ext) = path.extension().and_then(|e| e.to_str()) else { return false };
    extensions.iter().any(|e| e.eq_ignore_ascii_case(ext))
}

/// Merges `over` into `base`: tables recursively, anything else replaces.
fn merge(base: &mut Table, over: &Table) {
    for (k, v) in over {
        match (base.get_mut(k), v) {
            (Some(Value::Table(b)), Value::Table(o)) => merge(b, o),
            _ => {
                base.insert(k.clone(), v.clone());
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Parsing and validation of one language

/// Error context: the file being loaded.
struct Cx<'a> {
    file: &'a str,
}

impl Cx<'_> {
    fn err(&self, field: impl Into<String>, message: impl Into<String>) -> LanguageError {
        LanguageError::Field { file: self.file.to_owned(), field: field.into(), message: message.into() }
    }
}

fn type_name(v: &Value) -> &'static str {
    match v {
        Value::String(_) => "a string",
        Value::Integer(_) => "an integer",
        Value::Float(_) => "a float",
        Value::Boolean(_) => "a boolean",
        Value::Datetime(_) => "a datetime",
        Value::Array(_) => "an array",
        Value::Table(_) => "a table",
    }
}

fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_owned()
    } else {
        format!("{path}.{key}")
    }
}

fn check_keys(t: &Table, allowed: &[&str], path: &str, cx: &Cx) -> Result<(), LanguageError> {
    for k in t.keys() {
        if !allowed.contains(&k.as_str()) {
            return Err(cx.err(join(path, k), format!("unknown field (expected one of: {})", allowed.join(", "))));
        }
    }
    Ok(())
}

fn get_string(t: &Table, key: &str, path: &str, cx: &Cx) -> Result<Option<String>, LanguageError> {
    match t.get(key) {
        None => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(v) => Err(cx.err(join(path, key), format!("expected a string, found {}", type_name(v)))),
    }
}

fn get_strings(t: &Table, key: &str, path: &str, cx: &Cx) -> Result<Option<Vec<String>>, LanguageError> {
    match t.get(key) {
        None => Ok(None),
        Some(Value::Array(a)) => a
            .iter()
            .enumerate()
            .map(|(i, v)| match v {
                Value::String(s) => Ok(s.clone()),
                v => Err(cx.err(format!("{}[{i}]", join(path, key)), format!("expected a string, found {}", type_name(v)))),
            })
            .collect::<Result<Vec<_>, _>>()
            .map(Some),
        Some(v) => Err(cx.err(join(path, key), format!("expected an array of strings, found {}", type_name(v)))),
    }
}

fn get_table<'t>(t: &'t Table, key: &str, path: &str, cx: &Cx) -> Result<Option<&'t Table>, LanguageError> {
    match t.get(key) {
        None => Ok(None),
        Some(Value::Table(t)) => Ok(Some(t)),
        Some(v) => Err(cx.err(join(path, key), format!("expected a table, found {}", type_name(v)))),
    }
}

/// A positive integer.
fn get_count(t: &Table, key: &str, path: &str, cx: &Cx, allow_zero: bool) -> Result<Option<u64>, LanguageError> {
    match t.get(key) {
        None => Ok(None),
        Some(Value::Integer(n)) if *n > 0 || (allow_zero && *n == 0) => Ok(Some(*n as u64)),
        Some(Value::Integer(n)) => {
            let what = if allow_zero { "must not be negative" } else { "must be positive" };
            Err(cx.err(join(path, key), format!("{what}, found {n}")))
        }
        Some(v) => Err(cx.err(join(path, key), format!("expected an integer, found {}", type_name(v)))),
    }
}

/// A positive number of seconds.
fn get_seconds(t: &Table, key: &str, path: &str, cx: &Cx) -> Result<Option<Duration>, LanguageError> {
    let s = match t.get(key) {
        None => return Ok(None),
        Some(Value::Integer(n)) => *n as f64,
        Some(Value::Float(f)) => *f,
        Some(v) => {
            return Err(cx.err(join(path, key), format!("expected a number of seconds, found {}", type_name(v))));
        }
    };
    if !(s > 0.0 && s <= 86_400.0) {
        return Err(cx.err(join(path, key), format!("must be between 0 and 86400 seconds, found {s}")));
    }
    Ok(Some(Duration::from_secs_f64(s)))
}

fn valid_name(s: &str) -> bool {
    let mut chars = s.chars();
    chars.next().is_some_and(|c| c.is_ascii_lowercase()) && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

/// The `{name}` placeholders of `s` (lower-case names only: `${HOME}` or `{}` stay literal).
fn placeholders(s: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut rest = s;
    while let Some(open) = rest.find('{') {
        let after = &rest[open + 1..];
        match after.find('}') {
            Some(close) if valid_name(&after[..close]) => {
                out.push(&after[..close]);
                rest = &after[close + 1..];
            }
            _ => rest = after,
        }
    }
    out
}

/// Replaces the placeholders `value` knows; the others stay as they are.
fn expand(s: &str, value: &dyn Fn(&str) -> Option<String>) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        match after.find('}') {
            Some(close) if valid_name(&after[..close]) => {
                match value(&after[..close]) {
                    Some(v) => out.push_str(&v),
                    None => out.push_str(&rest[open..open + close + 2]),
                }
                rest = &after[close + 1..];
            }
            _ => {
                out.push('{');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

/// Where a template is used: which placeholders it may name.
#[derive(Clone, Copy, PartialEq)]
enum Use {
    /// An argument of a command (`{srcs}` allowed, as a whole argument).
    Arg,
    /// An environment value or an `expect` path.
    Value,
    /// A host path of a mount: variables only.
    Host,
}

/// The templating context of one language: its variables, resolved or not.
struct Templates<'a> {
    cx: &'a Cx<'a>,
    /// name → value, or why it could not be resolved.
    vars: BTreeMap<String, Result<String, String>>,
}

impl Templates<'_> {
    /// Checks the placeholders of `s` and substitutes the resolved variables.
    fn apply(&self, s: &str, field: &str, usage: Use) -> Result<String, LanguageError> {
        for name in placeholders(s) {
            let known = self.vars.contains_key(name) || (usage != Use::Host && SUBMISSION_PLACEHOLDERS.contains(&name));
            if !known {
                let mut names: Vec<&str> = if usage == Use::Host { Vec::new() } else { SUBMISSION_PLACEHOLDERS.to_vec() };
                names.extend(self.vars.keys().map(String::as_str));
                let expected = if names.is_empty() { "none here".to_owned() } else { names.join(", ") };
                return Err(self.cx.err(field, format!("unknown placeholder {{{name}}} (known: {expected})")));
            }
            if name == "srcs" && (usage != Use::Arg || s != "{srcs}") {
                return Err(self.cx.err(field, "{srcs} expands to several arguments: it must be a whole command argument"));
            }
        }
        Ok(expand(s, &|name| self.vars.get(name).and_then(|v| v.as_ref().ok().cloned())))
    }

    fn command(&self, t: &Table, key: &str, path: &str) -> Result<Option<Vec<String>>, LanguageError> {
        let Some(argv) = get_strings(t, key, path, self.cx)? else { return Ok(None) };
        let field = join(path, key);
        if argv.is_empty() || argv[0].is_empty() {
            return Err(self.cx.err(field, "the command is empty"));
        }
        argv.iter().enumerate().map(|(i, a)| self.apply(a, &format!("{field}[{i}]"), Use::Arg)).collect::<Result<_, _>>().map(Some)
    }

    fn env(&self, t: &Table, path: &str) -> Result<Vec<(String, String)>, LanguageError> {
        let Some(env) = get_table(t, "env", path, self.cx)? else { return Ok(Vec::new()) };
        let path = join(path, "env");
        let mut out = Vec::new();
        for (k, v) in env {
            let field = join(&path, k);
            if k.is_empty() || k.contains('=') || k.contains('\0') {
                return Err(self.cx.err(field, "not a valid environment variable name"));
            }
            let Value::String(v) = v else {
                return Err(self.cx.err(field, format!("expected a string, found {}", type_name(v))));
            };
            out.push((k.clone(), self.apply(v, &field, Use::Value)?));
        }
        Ok(out)
    }

    /// Read-only mounts; sources must be absolute host paths once the variables are in.
    fn mounts(&self, t: &Table, path: &str) -> Result<Vec<BindMount>, LanguageError> {
        let field = join(path, "mounts");
        let list = match t.get("mounts") {
            None => return Ok(Vec::new()),
            Some(Value::Array(a)) => a,
            Some(v) => return Err(self.cx.err(field, format!("expected an array of tables, found {}", type_name(v)))),
        };
        let mut out = Vec::new();
        for (i, m) in list.iter().enumerate() {
            let field = format!("{field}[{i}]");
            let Value::Table(m) = m else {
                return Err(self.cx.err(field, format!("expected a table {{ src = ..., dest = ... }}, found {}", type_name(m))));
            };
            check_keys(m, &["src", "dest"], &field, self.cx)?;
            let src = get_string(m, "src", &field, self.cx)?.ok_or_else(|| self.cx.err(join(&field, "src"), "missing"))?;
            let dest = get_string(m, "dest", &field, self.cx)?.ok_or_else(|| self.cx.err(join(&field, "dest"), "missing"))?;
            let src = self.apply(&src, &join(&field, "src"), Use::Host)?;
            let resolved = placeholders(&src).is_empty();
            if resolved && !src.starts_with('/') {
                return Err(self.cx.err(join(&field, "src"), format!("must be an absolute host path, found {src:?}")));
            }
            let d = Path::new(&dest);
            if !d.is_absolute()
                || d.components().any(|c| matches!(c, std::path::Component::ParentDir))
                || d == Path::new("/")
                || d.starts_with(SUBMISSION_DIR)
            {
                return Err(self.cx.err(
                    join(&field, "dest"),
                    format!("must be an absolute path in the box, without '..', not / and not under {SUBMISSION_DIR}; found {dest:?}"),
                ));
            }
            out.push(BindMount { src: PathBuf::from(src), dest: PathBuf::from(dest), writable: false });
        }
        Ok(out)
    }
}

/// Resolves one `vars` entry on the host.
fn resolve_var(v: &Value, field: &str, cx: &Cx) -> Result<Result<String, String>, LanguageError> {
    let t = match v {
        Value::String(s) => return Ok(Ok(s.clone())),
        Value::Table(t) => t,
        v => return Err(cx.err(field, format!("expected a string or a table {{ probe, paths, require }}, found {}", type_name(v)))),
    };
    check_keys(t, &["probe", "paths", "require"], field, cx)?;
    let mut probes = Vec::new();
    match t.get("probe") {
        None => {}
        Some(Value::Array(a)) => {
            for (i, p) in a.iter().enumerate() {
                let pf = format!("{field}.probe[{i}]");
                let argv = match p {
                    Value::Array(args) => args
                        .iter()
                        .map(|a| match a {
                            Value::String(s) => Ok(s.clone()),
                            v => Err(cx.err(pf.clone(), format!("expected strings, found {}", type_name(v)))),
                        })
                        .collect::<Result<Vec<_>, _>>()?,
                    v => return Err(cx.err(pf, format!("expected an array (a command), found {}", type_name(v)))),
                };
                if argv.is_empty() {
                    return Err(cx.err(pf, "the command is empty"));
                }
                probes.push(argv);
            }
        }
        Some(v) => return Err(cx.err(format!("{field}.probe"), format!("expected an array of commands, found {}", type_name(v)))),
    }
    let paths = get_strings(t, "paths", field, cx)?.unwrap_or_default();
    let require = get_string(t, "require", field, cx)?;
    if probes.is_empty() && paths.is_empty() {
        return Err(cx.err(field, "give `probe` commands or candidate `paths`"));
    }
    let fits = |dir: &str| {
        let p = Path::new(dir);
        p.is_absolute() && p.is_dir() && require.as_ref().into_iter().all(|r| p.join(r).exists())
    };
    for argv in &probes {
        if let Some(out) = probe(argv) {
            if fits(&out) {
                return Ok(Ok(out));
            }
        }
    }
    if let Some(p) = paths.iter().find(|p| fits(p)) {
        return Ok(Ok(p.clone()));
    }
    let tried: Vec<String> =
        probes.iter().map(|p| format!("`{}`", p.join(" "))).chain(paths.iter().map(|p| p.to_string())).collect();
    let req = require.map(|r| format!(" containing {r}")).unwrap_or_default();
    Ok(Err(format!("{field}: no directory{req} found (tried {})", tried.join(", "))))
}

/// Runs a trusted host command and returns its trimmed stdout (cached per process).
fn probe(argv: &[String]) -> Option<String> {
    static CACHE: OnceLock<Mutex<HashMap<Vec<String>, Option<String>>>> = OnceLock::new();
    let cache = CACHE.get_or_init(Default::default);
    if let Some(v) = cache.lock().unwrap_or_else(|e| e.into_inner()).get(argv) {
        return v.clone();
    }
    let out = run_probe(argv);
    tracing::debug!(?argv, ?out, "language variable probe");
    cache.lock().unwrap_or_else(|e| e.into_inner()).insert(argv.to_vec(), out.clone());
    out
}

fn run_probe(argv: &[String]) -> Option<String> {
    let mut child = Command::new(&argv[0])
        .args(&argv[1..])
        .current_dir("/")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .ok()?;
    let deadline = Instant::now() + PROBE_TIMEOUT;
    let status = loop {
        match child.try_wait() {
            Ok(Some(st)) => break st,
            Ok(None) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(5)),
            _ => {
                let _ = child.kill();
                let _ = child.wait();
                return None;
            }
        }
    };
    let mut s = String::new();
    child.stdout.take()?.take(64 * 1024).read_to_string(&mut s).ok()?;
    let s = s.trim();
    (status.success() && !s.is_empty()).then(|| s.to_owned())
}

/// Builds one language from its merged table; `None` when it is disabled.
fn parse_language(id: &str, t: &Table, cx: &Cx) -> Result<Option<Language>, LanguageError> {
    let path = format!("languages.{id}");
    if id.is_empty() || !id.chars().all(|c| c.is_ascii_alphanumeric() || "_-+.".contains(c)) {
        return Err(cx.err(path, "a language id may only contain letters, digits and _ - + ."));
    }
    check_keys(t, &["name", "extensions", "compile", "run", "vars", "disabled"], &path, cx)?;
    match t.get("disabled") {
        None | Some(Value::Boolean(false)) => {}
        Some(Value::Boolean(true)) => return Ok(None),
        Some(v) => return Err(cx.err(join(&path, "disabled"), format!("expected a boolean, found {}", type_name(v)))),
    }
    let name = get_string(t, "name", &path, cx)?.ok_or_else(|| cx.err(join(&path, "name"), "missing (required)"))?;
    let extensions = get_strings(t, "extensions", &path, cx)?
        .ok_or_else(|| cx.err(join(&path, "extensions"), "missing (required; [] for none)"))?
        .into_iter()
        .enumerate()
        .map(|(i, e)| {
            let e = e.strip_prefix('.').unwrap_or(&e).to_ascii_lowercase();
            if e.is_empty() || e.contains('/') || e.contains('.') {
                Err(cx.err(format!("{path}.extensions[{i}]"), format!("not a file extension: {e:?}")))
            } else {
                Ok(e)
            }
        })
        .collect::<Result<Vec<_>, _>>()?;

    let mut vars = BTreeMap::new();
    if let Some(vt) = get_table(t, "vars", &path, cx)? {
        for (k, v) in vt {
            let field = format!("{path}.vars.{k}");
            if !valid_name(k) || SUBMISSION_PLACEHOLDERS.contains(&k.as_str()) {
                return Err(cx.err(
                    field,
                    format!("a variable name is lower-case letters, digits and _, and not one of {}", SUBMISSION_PLACEHOLDERS.join(", ")),
                ));
            }
            vars.insert(k.clone(), resolve_var(v, &field, cx)?);
        }
    }
    let tpl = Templates { cx, vars };

    let compile = match t.get("compile") {
        None | Some(Value::Boolean(false)) => None,
        Some(Value::Table(ct)) => Some(parse_compile(ct, &join(&path, "compile"), &tpl)?),
        Some(v) => {
            return Err(cx.err(join(&path, "compile"), format!("expected a table (or false), found {}", type_name(v))));
        }
    };
    let rpath = join(&path, "run");
    let rt = get_table(t, "run", &path, cx)?.ok_or_else(|| cx.err(&rpath, "missing (a language needs run.command)"))?;
    check_keys(rt, &["command", "env", "mounts", "extra_pids"], &rpath, cx)?;
    let run = RunStep {
        command: tpl.command(rt, "command", &rpath)?.ok_or_else(|| cx.err(join(&rpath, "command"), "missing"))?,
        mounts: tpl.mounts(rt, &rpath)?,
        env: tpl.env(rt, &rpath)?,
        extra_pids: get_count(rt, "extra_pids", &rpath, cx, true)?.unwrap_or(0).min(u32::MAX as u64 / 2) as u32,
    };

    let unavailable = tpl.vars.values().find_map(|v| v.as_ref().err().cloned());
    if let Some(reason) = &unavailable {
        tracing::warn!(language = id, reason, "language unavailable");
    }
    let vars = tpl.vars.into_iter().filter_map(|(k, v)| v.ok().map(|v| (k, v))).collect();
    Ok(Some(Language { id: id.to_owned(), name, extensions, compile, run, vars, unavailable }))
}

fn parse_compile(t: &Table, path: &str, tpl: &Templates) -> Result<CompileStep, LanguageError> {
    let cx = tpl.cx;
    check_keys(t, &["command", "expect", "env", "mounts", "limits"], path, cx)?;
    let command = tpl.command(t, "command", path)?.ok_or_else(|| cx.err(join(path, "command"), "missing"))?;
    let mut expect = Vec::new();
    for (i, e) in get_strings(t, "expect", path, cx)?.unwrap_or_default().iter().enumerate() {
        let field = format!("{}[{i}]", join(path, "expect"));
        let e = tpl.apply(e, &field, Use::Value)?;
        if !(e.starts_with("{dir}/") || e.starts_with("{exe}") || e.starts_with(&format!("{SUBMISSION_DIR}/"))) {
            return Err(cx.err(field, format!("must be a path under {{dir}} ({SUBMISSION_DIR}), found {e:?}")));
        }
        expect.push(e);
    }
    let lpath = join(path, "limits");
    let empty = Table::new();
    let lt = get_table(t, "limits", path, cx)?.unwrap_or(&empty);
    check_keys(lt, &["time", "wall_time", "memory_mb", "pids", "output_mb"], &lpath, cx)?;
    let cpu_time = get_seconds(lt, "time", &lpath, cx)?.unwrap_or(Duration::from_secs_f64(DEFAULT_COMPILE_TIME_S));
    let wall_time = get_seconds(lt, "wall_time", &lpath, cx)?.unwrap_or_else(|| Limits::default_wall_for(cpu_time));
    let mb = |key: &str, default: u64| -> Result<u64, LanguageError> {
        let v = get_count(lt, key, &lpath, cx, false)?.unwrap_or(default);
        if v > (1 << 30) {
            return Err(cx.err(join(&lpath, key), format!("{v} MiB is not a sensible limit")));
        }
        Ok(v << 20)
    };
    let limits = Limits {
        cpu_time,
        wall_time,
        memory_bytes: mb("memory_mb", DEFAULT_COMPILE_MEMORY_MB)?,
        pids: get_count(lt, "pids", &lpath, cx, false)?.unwrap_or(DEFAULT_COMPILE_PIDS as u64).min(1 << 20) as u32,
        output_bytes: mb("output_mb", DEFAULT_COMPILE_OUTPUT_MB)?,
    };
    Ok(CompileStep { command, limits, mounts: tpl.mounts(t, path)?, env: tpl.env(t, path)?, expect })
}

// ---------------------------------------------------------------------------------------------
// Compilation

/// A compiled (or copied) submission ready to run: a host directory + how to run it.
#[derive(Clone, Debug, PartialEq)]
pub struct Executable {
    /// Host directory, mounted read-only at `/sub` in the box.
    pub dir: PathBuf,
    /// The language id.
    pub language: String,
    /// The run command in the box, placeholders resolved except `{memory_mb}`.
    pub argv: Vec<String>,
    /// The language's read-only mounts, besides `dir`.
    pub mounts: Vec<BindMount>,
    pub env: Vec<(String, String)>,
    /// Added to the run's pids limit.
    pub extra_pids: u32,
}

impl Executable {
    /// A RunSpec for running it: `limits` from the caller (pids raised by `extra_pids`), `dir`
    /// read-only at `/sub`, the language's mounts and environment, working directory `/box` (a
    /// writable tmpfs), `{memory_mb}` resolved from `limits`. The caller sets stdin and stdout
    /// (stderr stays `/dev/null` unless the caller sets it).
    pub fn run_spec(&self, limits: Limits) -> RunSpec {
        let memory_mb = (limits.memory_bytes >> 20).max(1).to_string();
        let fill = |s: &String| expand(s, &|name| (name == "memory_mb").then(|| memory_mb.clone()));
        let mut argv = self.argv.iter().map(fill);
        let mut spec = RunSpec::new(argv.next().unwrap_or_default());
        spec.args = argv.collect();
        spec.env = self.env.iter().map(|(k, v)| (k.clone(), fill(v))).collect();
        let mut limits = limits;
        limits.pids = limits.pids.saturating_add(self.extra_pids);
        spec.limits = limits;
        spec.mounts.push(BindMount { src: self.dir.clone(), dest: SUBMISSION_DIR.into(), writable: false });
        spec.mounts.extend(self.mounts.iter().cloned());
        spec
    }
}

/// The result of [`compile`].
#[derive(Clone, Debug, PartialEq)]
pub struct CompileOutcome {
    /// The submission compiled and can run.
    pub ok: bool,
    /// The compiler's stdout and stderr (interleaved as written), then a line on how the
    /// compile ended when that is not plain; at most [`MESSAGE_LIMIT`] bytes.
    pub message: String,
    /// The compile box's report; `None` for languages without a compile step (or when no box
    /// ran because the submission has no source file of the language).
    pub report: Option<Report>,
    /// Set when `ok`.
    pub executable: Option<Executable>,
}

impl CompileOutcome {
    fn failed(message: String) -> Self {
        CompileOutcome { ok: false, message: bound_message(message, MESSAGE_LIMIT), report: None, executable: None }
    }
}

/// Compiles `source` (a file, or a directory of sources) in a box.
///
/// The sources are copied into `work_dir/sub` (replaced if it exists; a directory is copied
/// recursively, regular files only), which the compiler sees read-write at `/sub`; the
/// compiler runs under the language's compile limits with `/box` (a tmpfs) as its working
/// directory and its stdout and stderr going to `work_dir/compile.log`. A failed compile
/// (non-zero exit, time, memory or output limit, a missing `expect`ed file, no source file of
/// the language) is `ok: false` with the message; `Err` is only for sandbox and I/O failures
/// and unavailable languages.
///
/// The main source (`{src}`, `{main}`): the only file with one of the language's extensions,
/// else the top-level one whose stem is `main` (any case), else the first top-level one in
/// name order.
pub fn compile(sandbox: &Sandbox, lang: &Language, source: &Path, work_dir: &Path) -> Result<CompileOutcome, LanguageError> {
    if let Some(reason) = &lang.unavailable {
        return Err(LanguageError::Unavailable { id: lang.id.clone(), reason: reason.clone() });
    }
    fs::create_dir_all(work_dir).map_err(io_err("create the work directory", work_dir))?;
    let dir = work_dir.join(SUB_NAME);
    // The submission directory is replaced below: it must not hold the source, nor the
    // source the work directory.
    let canon_src = fs::canonicalize(source).map_err(io_err("read the source", source))?;
    let canon_work = fs::canonicalize(work_dir).map_err(io_err("resolve", work_dir))?;
    if canon_src.starts_with(canon_work.join(SUB_NAME)) || (canon_src.is_dir() && canon_work.starts_with(&canon_src)) {
        return Err(LanguageError::Source {
            path: source.to_owned(),
            message: format!("overlaps the work directory {}", work_dir.display()),
        });
    }
    remove_any(&dir)?;
    fs::create_dir(&dir).map_err(io_err("create", &dir))?;
    // The box user (an unprivileged uid that depends on the slot) writes the compiler's output.
    fs::set_permissions(&dir, fs::Permissions::from_mode(0o777)).map_err(io_err("chmod", &dir))?;
    let files = copy_sources(source, &dir)?;

    let mut srcs: Vec<&PathBuf> = files.iter().filter(|f| has_extension(f, &lang.extensions)).collect();
    srcs.sort();
    if srcs.is_empty() {
        let exts: Vec<String> = lang.extensions.iter().map(|e| format!(".{e}")).collect();
        return Ok(CompileOutcome::failed(format!(
            "no {} source file (with extension {}) in the submission",
            lang.name,
            exts.join(", ")
        )));
    }
    let mut box_paths = Vec::new();
    for s in &srcs {
        match s.to_str() {
            Some(p) => box_paths.push(format!("{SUBMISSION_DIR}/{p}")),
            None => return Ok(CompileOutcome::failed(format!("source file name {s:?} is not valid UTF-8"))),
        }
    }
    let top: Vec<usize> = (0..srcs.len()).filter(|&i| srcs[i].components().count() == 1).collect();
    let main_idx = if srcs.len() == 1 {
        0
    } else {
        top.iter()
            .copied()
            .find(|&i| srcs[i].file_stem().and_then(|s| s.to_str()).is_some_and(|s| s.eq_ignore_ascii_case("main")))
            .or(top.first().copied())
            .unwrap_or(0)
    };
    let main_src = box_paths[main_idx].clone();
    let main_stem = srcs[main_idx].file_stem().and_then(|s| s.to_str()).unwrap_or_default().to_owned();
    let exe = format!("{SUBMISSION_DIR}/{EXE_NAME}");
    let value = |name: &str, memory_mb: Option<u64>| -> Option<String> {
        match name {
            "dir" => Some(SUBMISSION_DIR.to_owned()),
            "src" => Some(main_src.clone()),
            "srcs" => Some(box_paths.join(" ")),
            "main" => Some(main_stem.clone()),
            "exe" => Some(exe.clone()),
            "memory_mb" => memory_mb.map(|m| m.to_string()),
            _ => None,
        }
    };
    let command = |argv: &[String], memory_mb: Option<u64>| -> Vec<String> {
        let mut out = Vec::new();
        for a in argv {
            if a == "{srcs}" {
                out.extend(box_paths.iter().cloned());
            } else {
                out.push(expand(a, &|n| value(n, memory_mb)));
            }
        }
        out
    };

    let mut report = None;
    let mut log_text = String::new();
    let mut notes: Vec<String> = Vec::new();
    let mut ok = true;
    if let Some(c) = &lang.compile {
        let memory_mb = Some(c.limits.memory_bytes >> 20);
        let argv = command(&c.command, memory_mb);
        let mut spec = RunSpec::new(argv[0].clone());
        spec.args = argv[1..].to_vec();
        spec.env = c.env.iter().map(|(k, v)| (k.clone(), expand(v, &|n| value(n, memory_mb)))).collect();
        spec.limits = c.limits.clone();
        spec.mounts.push(BindMount { src: dir.clone(), dest: SUBMISSION_DIR.into(), writable: true });
        spec.mounts.extend(c.mounts.iter().cloned());
        spec.stdin = Input::Null;
        let log_path = work_dir.join(LOG_NAME);
        remove_any(&log_path)?;
        let log = fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&log_path)
            .map_err(io_err("create", &log_path))?;
        // One open file for both streams: they interleave as written. The box's file-size
        // limit (the compile output limit) bounds it.
        spec.stdout = Output::Fd(log.as_raw_fd());
        spec.stderr = Output::Fd(log.as_raw_fd());
        tracing::debug!(language = %lang.id, ?argv, "compile");
        let r = sandbox.run(&spec)?;
        drop(log);
        if r.status == Status::SandboxError {
            return Err(LanguageError::SandboxFailed(r.message));
        }
        log_text = read_bounded(&log_path)?;
        let note = match r.status {
            Status::Ok => None,
            Status::NonzeroExit if !log_text.trim().is_empty() => None,
            Status::NonzeroExit => Some(format!("the compiler exited with code {}", r.exit_code.unwrap_or(-1))),
            Status::TimeLimit | Status::WallTimeLimit => {
                Some(format!("compilation exceeded its time limit ({} s): {}", c.limits.cpu_time.as_secs_f64(), r.message))
            }
            Status::MemoryLimit => Some(format!("compilation exceeded its memory limit ({} MiB)", c.limits.memory_bytes >> 20)),
            Status::OutputLimit => Some(format!("the compiler wrote more than {} MiB", c.limits.output_bytes >> 20)),
            _ => Some(format!("the compiler failed: {}", r.message)),
        };
        ok = r.status == Status::Ok;
        if ok {
            for e in &c.expect {
                let p = expand(e, &|n| value(n, memory_mb));
                let rel = p.strip_prefix(SUBMISSION_DIR).map(|r| r.trim_start_matches('/')).unwrap_or("");
                let host = dir.join(rel);
                let is_file = !rel.is_empty() && fs::symlink_metadata(&host).map(|m| m.is_file()).unwrap_or(false);
                if !is_file {
                    ok = false;
                    let hint = if lang.id == "java" || p.ends_with(".class") {
                        format!(" (the main class must be named {main_stem}, after its file)")
                    } else {
                        String::new()
                    };
                    notes.push(format!("compilation produced no {p}{hint}"));
                }
            }
        }
        notes.extend(note);
        report = Some(r);
    }
    // Nothing writes the directory from now on.
    fs::set_permissions(&dir, fs::Permissions::from_mode(0o755)).map_err(io_err("chmod", &dir))?;
    let executable = ok.then(|| Executable {
        dir: dir.clone(),
        language: lang.id.clone(),
        argv: command(&lang.run.command, None),
        mounts: lang.run.mounts.clone(),
        env: lang.run.env.iter().map(|(k, v)| (k.clone(), expand(v, &|n| value(n, None)))).collect(),
        extra_pids: lang.run.extra_pids,
    });
    Ok(CompileOutcome { ok, message: compose_message(log_text, &notes), report, executable })
}

/// Removes a file, symlink or directory tree (without following symlinks), if present.
fn remove_any(p: &Path) -> Result<(), LanguageError> {
    match fs::symlink_metadata(p) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(io_err("stat", p)(e)),
        Ok(m) if m.is_dir() => fs::remove_dir_all(p).map_err(io_err("remove", p)),
        Ok(_) => fs::remove_file(p).map_err(io_err("remove", p)),
    }
}

/// Regular files under `dir` (relative paths), recursively; symlinks and special files skipped.
fn walk(dir: &Path, rel: &Path, depth: usize, out: &mut Vec<(PathBuf, bool)>) -> io::Result<()> {
    if depth > MAX_SOURCE_DEPTH {
        return Err(io::Error::other(format!("directories nested deeper than {MAX_SOURCE_DEPTH}")));
    }
    let mut entries: Vec<_> = fs::read_dir(dir)?.collect::<Result<_, _>>()?;
    entries.sort_by_key(|e| e.file_name());
    for e in entries {
        let t = e.file_type()?;
        let r = rel.join(e.file_name());
        if t.is_dir() {
            out.push((r.clone(), true));
            walk(&e.path(), &r, depth + 1, out)?;
        } else if t.is_file() {
            out.push((r, false));
        }
        if out.len() > MAX_SOURCE_FILES {
            return Err(io::Error::other(format!("more than {MAX_SOURCE_FILES} files")));
        }
    }
    Ok(())
}

/// Copies the submission into `dest`; returns the relative paths of the files copied.
fn copy_sources(source: &Path, dest: &Path) -> Result<Vec<PathBuf>, LanguageError> {
    let meta = fs::metadata(source).map_err(io_err("read the source", source))?;
    let copy = |from: &Path, to: &Path| -> Result<(), LanguageError> {
        fs::copy(from, to).map_err(io_err("copy the source", from))?;
        fs::set_permissions(to, fs::Permissions::from_mode(0o644)).map_err(io_err("chmod", to))
    };
    if meta.is_file() {
        let name = source
            .file_name()
            .ok_or_else(|| LanguageError::Source { path: source.to_owned(), message: "no file name".into() })?;
        copy(source, &dest.join(name))?;
        return Ok(vec![PathBuf::from(name)]);
    }
    if !meta.is_dir() {
        return Err(LanguageError::Source { path: source.to_owned(), message: "neither a file nor a directory".into() });
    }
    let mut entries = Vec::new();
    walk(source, Path::new(""), 0, &mut entries)
        .map_err(|e| LanguageError::Source { path: source.to_owned(), message: e.to_string() })?;
    let mut files = Vec::new();
    for (rel, is_dir) in entries {
        let to = dest.join(&rel);
        if is_dir {
            fs::create_dir(&to).map_err(io_err("create", &to))?;
            fs::set_permissions(&to, fs::Permissions::from_mode(0o777)).map_err(io_err("chmod", &to))?;
        } else {
            copy(&source.join(&rel), &to)?;
            files.push(rel);
        }
    }
    Ok(files)
}

/// The log's first [`MESSAGE_LIMIT`] bytes, as text.
fn read_bounded(path: &Path) -> Result<String, LanguageError> {
    let mut buf = Vec::new();
    fs::File::open(path)
        .and_then(|f| f.take(MESSAGE_LIMIT as u64 + 1).read_to_end(&mut buf))
        .map_err(io_err("read the compiler's output", path))?;
    Ok(String::from_utf8_lossy(&buf).into_owned())
}

/// The compiler's output, cut so that it and the notes (each on a line of its own, at the end)
/// fit in [`MESSAGE_LIMIT`] bytes.
fn compose_message(log: String, notes: &[String]) -> String {
    let notes = bound_message(notes.join("\n"), MESSAGE_LIMIT / 2);
    let room = MESSAGE_LIMIT - notes.len() - usize::from(!notes.is_empty());
    let mut m = bound_message(log, room);
    if !notes.is_empty() {
        if !m.is_empty() && !m.ends_with('\n') {
            m.push('\n');
        }
        m.push_str(&notes);
    }
    m
}

/// Cuts a message to `limit` bytes (on a character boundary), saying so.
fn bound_message(mut m: String, limit: usize) -> String {
    if m.len() <= limit {
        return m;
    }
    const CUT: &str = "\n[... cut]";
    let mut end = limit.saturating_sub(CUT.len());
    while !m.is_char_boundary(end) {
        end -= 1;
    }
    m.truncate(end);
    m.push_str(CUT);
    m
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_and_expansion() {
        assert_eq!(placeholders("-Xmx{memory_mb}m ${HOME} {} {X} {src}"), vec!["memory_mb", "src"]);
        let v = |n: &str| (n == "src").then(|| "/sub/a.c".to_owned());
        assert_eq!(expand("{src}:{exe}:${HOME}:{", &v), "/sub/a.c:{exe}:${HOME}:{");
    }

    #[test]
    fn builtin_table_is_valid() {
        let t = LanguageTable::builtin();
        for id in ["c", "cpp", "python", "rust", "java"] {
            assert!(t.get(id).is_some(), "{id}");
        }
        assert_eq!(t.detect(Path::new("x.C++")).unwrap().id, "cpp");
    }

    #[test]
    fn message_bound() {
        let m = bound_message("é".repeat(MESSAGE_LIMIT), MESSAGE_LIMIT);
        assert!(m.len() <= MESSAGE_LIMIT);
        assert!(m.ends_with("[... cut]"));
        let m = compose_message("x".repeat(MESSAGE_LIMIT + 1), &["time limit".into()]);
        assert!(m.len() <= MESSAGE_LIMIT && m.ends_with("[... cut]\ntime limit"), "{}", &m[m.len() - 30..]);
        assert_eq!(compose_message("err\n".into(), &[]), "err\n");
        assert_eq!(compose_message("err".into(), &["a".into(), "b".into()]), "err\na\nb");
        assert_eq!(compose_message(String::new(), &["a".into()]), "a");
    }
}
