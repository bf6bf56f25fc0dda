//! Errors from loading a problem package.

/// Why a problem package could not be loaded.
///
/// Every variant names the file (relative to the package directory, e.g.
/// `data/secret/testdata.yaml`), and where it applies the field and the offending value:
/// `problem.yaml: limits.time_limit: expected a positive number of seconds, got "abc"`.
#[derive(Debug, thiserror::Error)]
pub enum ProblemError {
    /// A file or directory could not be read.
    #[error("{path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    /// A YAML file is not valid YAML (or not UTF-8, or too large).
    #[error("{file}: YAML syntax error: {message}")]
    Yaml { file: String, message: String },
    /// A field has a value of the wrong type or out of range.
    #[error("{file}: {}expected {expected}, got {got}", field_prefix(.field))]
    InvalidValue {
        file: String,
        /// Dotted path of the field (`limits.time_limit`); empty for the whole document.
        field: String,
        expected: String,
        /// The offending value, rendered compactly (strings quoted).
        got: String,
    },
    /// `problem_format_version` names a version this loader does not implement.
    #[error("{file}: problem_format_version: unknown version {got} (supported: legacy, legacy-icpc, 2025-09)")]
    UnknownFormatVersion { file: String, got: String },
    /// A required file or directory is missing.
    #[error("{path}: missing: {what}")]
    Missing { path: String, what: String },
    /// A test case input (`.in`) without its answer file (`.ans`).
    #[error("{input}: test case has no answer file (expected {answer})")]
    MissingAnswer { input: String, answer: String },
    /// The package is structurally inconsistent (both `output_validators/` and `output_validator/`,
    /// a group with both test cases and groups where the format forbids it, ...).
    #[error("{path}: {message}")]
    Invalid { path: String, message: String },
    /// The package uses a part of the format this judge does not implement.
    #[error("{path}: not supported: {feature}")]
    Unsupported { path: String, feature: String },
}

fn field_prefix(field: &str) -> String {
    if field.is_empty() {
        String::new()
    } else {
        format!("{field}: ")
    }
}

impl ProblemError {
    pub(crate) fn invalid(path: impl Into<String>, message: impl Into<String>) -> Self {
        ProblemError::Invalid { path: path.into(), message: message.into() }
    }

    pub(crate) fn unsupported(path: impl Into<String>, feature: impl Into<String>) -> Self {
        ProblemError::Unsupported { path: path.into(), feature: feature.into() }
    }
}
