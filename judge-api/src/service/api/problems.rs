//! Problems: upload (a `.tar.gz`, `.tar` or `.zip` package), list, show, delete, and the
//! stored packages workers fetch.

use std::sync::Arc;

use axum::extract::State;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::auth::{Admin, PackageReader, Submitter};
use super::error::{ApiError, Body, ErrorBody, Path, Query};
use super::Ctx;
use crate::service::model::ProblemVersion;
use crate::service::package::{self, PackageError, PackageLimits};

/// `?name=` of an upload.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct UploadParams {
    /// The problem's name: `[a-z0-9][a-z0-9_-]{0,63}`.
    pub name: String,
}

/// The current version of every problem.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ProblemList {
    /// By name.
    pub problems: Vec<ProblemVersion>,
}

/// One problem: its current version (none once deleted) and every stored version.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ProblemDetail {
    pub name: String,
    pub current: Option<ProblemVersion>,
    /// Newest first.
    pub versions: Vec<ProblemVersion>,
}

/// Whether `name` is a problem name: `[a-z0-9][a-z0-9_-]{0,63}`.
pub fn valid_problem_name(name: &str) -> bool {
    let b = name.as_bytes();
    !b.is_empty()
        && b.len() <= 64
        && (b[0].is_ascii_lowercase() || b[0].is_ascii_digit())
        && b.iter().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'_' || *c == b'-')
}

fn check_name(name: &str) -> Result<(), ApiError> {
    if valid_problem_name(name) {
        Ok(())
    } else {
        Err(ApiError::bad_request("invalid_problem_name", format!("problem name {name:?} is not [a-z0-9][a-z0-9_-]{{0,63}}")))
    }
}

fn package_error(name: &str, e: PackageError) -> ApiError {
    let message = format!("problem {name:?}: {e}");
    match e {
        PackageError::Io { .. } | PackageError::HashMismatch { .. } => ApiError::internal("package_io", message),
        _ => ApiError::unprocessable("invalid_package", message),
    }
}

/// Uploads a problem package and makes it the problem's current version. The version is the
/// package's content hash: uploading the same package again changes nothing.
#[utoipa::path(
    post,
    path = "/v1/problems",
    tag = "problems",
    params(UploadParams),
    request_body(content = String, description = "The package: a .tar.gz, .tar or .zip of the problem directory", content_type = "application/octet-stream"),
    responses(
        (status = 201, description = "Stored (or already stored): the version", body = ProblemVersion),
        (status = 400, description = "Bad problem name", body = ErrorBody),
        (status = 401, description = "No or unknown token", body = ErrorBody),
        (status = 403, description = "Not an admin token", body = ErrorBody),
        (status = 413, description = "Package larger than the upload limit", body = ErrorBody),
        (status = 422, description = "Not a valid problem package (or too large, or too many files, unpacked)", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn upload_problem(
    State(ctx): State<Arc<Ctx>>,
    _: Admin,
    Query(params): Query<UploadParams>,
    Body(bytes): Body,
) -> Result<(StatusCode, axum::Json<ProblemVersion>), ApiError> {
    let name = params.name;
    check_name(&name)?;
    let scratch = ctx.app.config.data_dir.join("scratch");
    let unpack_name = name.clone();
    let unpacked = tokio::task::spawn_blocking(move || {
        std::fs::create_dir_all(&scratch)
            .map_err(|e| ApiError::internal("scratch_dir", format!("create {}: {e}", scratch.display())))?;
        let u = package::unpack_upload(&bytes, &scratch, PackageLimits::default()).map_err(|e| package_error(&unpack_name, e))?;
        // The unpacked tree is removed here, on the blocking pool.
        Ok::<_, ApiError>((u.version, u.normalized, u.title, u.test_count))
    })
    .await
    .map_err(|e| ApiError::internal("unpack_failed", format!("problem {name:?}: unpacking the package failed: {e}")))??;
    let (version, normalized, title, test_count) = unpacked;
    let stored = ctx.app.store.put_problem(&name, &version, title.as_deref(), test_count, &normalized).await?;
    tracing::info!(problem = %name, %version, "problem package stored");
    Ok((StatusCode::CREATED, axum::Json(stored)))
}

/// The current version of every problem.
#[utoipa::path(
    get,
    path = "/v1/problems",
    tag = "problems",
    responses(
        (status = 200, body = ProblemList),
        (status = 401, body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn list_problems(State(ctx): State<Arc<Ctx>>, _: Submitter) -> Result<axum::Json<ProblemList>, ApiError> {
    Ok(axum::Json(ProblemList { problems: ctx.app.store.problems().await? }))
}

/// A problem: its current version and every stored version.
#[utoipa::path(
    get,
    path = "/v1/problems/{name}",
    tag = "problems",
    params(("name" = String, Path, description = "Problem name")),
    responses(
        (status = 200, body = ProblemDetail),
        (status = 401, body = ErrorBody),
        (status = 404, description = "No such problem", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn get_problem(State(ctx): State<Arc<Ctx>>, _: Submitter, Path(name): Path<String>) -> Result<axum::Json<ProblemDetail>, ApiError> {
    let versions = ctx.app.store.problem_versions(&name).await?;
    if versions.is_empty() {
        return Err(unknown_problem(&name));
    }
    let current = versions.iter().find(|v| v.current).cloned();
    Ok(axum::Json(ProblemDetail { name, current, versions }))
}

pub fn unknown_problem(name: &str) -> ApiError {
    ApiError::not_found("unknown_problem", format!("no problem named {name:?}"))
}

/// Deletes a problem for new submissions; its stored versions and past submissions stay.
#[utoipa::path(
    delete,
    path = "/v1/problems/{name}",
    tag = "problems",
    params(("name" = String, Path, description = "Problem name")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 404, description = "No such problem", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn delete_problem(State(ctx): State<Arc<Ctx>>, _: Admin, Path(name): Path<String>) -> Result<StatusCode, ApiError> {
    if ctx.app.store.delete_problem(&name).await? {
        tracing::info!(problem = %name, "problem deleted");
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(unknown_problem(&name))
    }
}

/// A stored package version (normalized, gzipped tar), for admin tokens and for workers (the
/// bearer secret in settings `worker_secret`).
#[utoipa::path(
    get,
    path = "/v1/packages/{version}",
    tag = "problems",
    params(("version" = String, Path, description = "Package version (sha256 hex)")),
    responses(
        (status = 200, description = "The package", content_type = "application/gzip", body = String),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 404, description = "No such version", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn get_package(State(ctx): State<Arc<Ctx>>, _: PackageReader, Path(version): Path<String>) -> Result<Response, ApiError> {
    let Some(bytes) = ctx.app.store.package(&version).await? else {
        return Err(ApiError::not_found("unknown_package", format!("no package version {version:?}")));
    };
    let mut resp = bytes.into_response();
    resp.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/gzip"));
    Ok(resp)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn problem_names() {
        for ok in ["a", "hello-ab", "0", "a_b-c9", &"x".repeat(64)] {
            assert!(valid_problem_name(ok), "{ok}");
        }
        for bad in ["", "-a", "_a", "A", "a/b", "../x", "a b", "ä", &"x".repeat(65)] {
            assert!(!valid_problem_name(bad), "{bad}");
        }
    }
}
