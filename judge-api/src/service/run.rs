//! `POST /v1/run`: one command, or two connected by pipes, with limits, input files and the
//! output files the caller wants back — for CI plugins and callers that bring their own
//! checking (the shape go-judge users know: `cmd` list, `files`, `copyOut`).

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// The request body of `POST /v1/run`.
#[derive(Clone, Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RunRequest {}

/// The response of `POST /v1/run`.
#[derive(Clone, Debug, Deserialize, Serialize, ToSchema)]
pub struct RunResponse {}

#[derive(Debug, thiserror::Error)]
pub enum RunRequestError {
    /// The request asks for something invalid (names the field and value): a 400/422.
    #[error("{0}")]
    Invalid(String),
    /// The sandbox failed: a 500 with the sandbox's message.
    #[error("sandbox: {0}")]
    Sandbox(#[from] runner::Error),
    #[error("{op} {path}: {source}")]
    Io { op: &'static str, path: std::path::PathBuf, source: std::io::Error },
}

/// Runs a request in the sandbox (blocking; call from `spawn_blocking`). `scratch` is a host
/// directory for the request's files.
pub fn run(sandbox: &runner::Sandbox, req: &RunRequest, scratch: &std::path::Path) -> Result<RunResponse, RunRequestError> {
    todo!("{:?} {req:?} {scratch:?}", std::ptr::from_ref(sandbox))
}
