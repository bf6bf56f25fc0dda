//! Bearer-token auth: `Authorization: Bearer TOKEN`, the token's role looked up in the store
//! and cached briefly in memory (so `POST /v1/run` at hundreds of requests a second does not
//! query the database each time). Missing or unknown token: 401 with `WWW-Authenticate:
//! Bearer`; a role that may not do this: 403.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{header, StatusCode};

use super::error::ApiError;
use super::Ctx;
use crate::service::model::Role;
use crate::service::settings;
use crate::service::store::Store;

/// How long a known token's role is trusted without asking the store.
const KNOWN_TTL: Duration = Duration::from_secs(10);
/// How long an unknown token stays unknown (short: a token added a moment ago should work).
const UNKNOWN_TTL: Duration = Duration::from_secs(2);
/// How long the worker secret is trusted without asking the store.
const SECRET_TTL: Duration = Duration::from_secs(10);
/// Entries kept at most (random tokens must not grow the cache without bound).
const MAX_ENTRIES: usize = 10_000;

/// Token lookups cached for a few seconds.
#[derive(Default)]
pub struct TokenCache {
    roles: Mutex<HashMap<String, (Option<Role>, Instant)>>,
    worker_secret: Mutex<Option<(Option<String>, Instant)>>,
}

impl TokenCache {
    /// The role of `token`, from the cache or the store.
    pub async fn role(&self, store: &Store, token: &str) -> Result<Option<Role>, ApiError> {
        let now = Instant::now();
        if let Some((role, at)) = self.roles.lock().unwrap_or_else(|e| e.into_inner()).get(token) {
            let ttl = if role.is_some() { KNOWN_TTL } else { UNKNOWN_TTL };
            if now.duration_since(*at) < ttl {
                return Ok(*role);
            }
        }
        let role = store.token_role(token).await?;
        let mut roles = self.roles.lock().unwrap_or_else(|e| e.into_inner());
        if roles.len() >= MAX_ENTRIES {
            roles.retain(|_, (role, at)| {
                let ttl = if role.is_some() { KNOWN_TTL } else { UNKNOWN_TTL };
                now.duration_since(*at) < ttl
            });
            if roles.len() >= MAX_ENTRIES {
                roles.clear();
            }
        }
        roles.insert(token.to_string(), (role, now));
        Ok(role)
    }

    /// The worker secret (settings `worker_secret`), from the cache or the store.
    pub async fn worker_secret(&self, store: &Store) -> Result<Option<String>, ApiError> {
        let now = Instant::now();
        if let Some((secret, at)) = self.worker_secret.lock().unwrap_or_else(|e| e.into_inner()).as_ref() {
            if now.duration_since(*at) < SECRET_TTL {
                return Ok(secret.clone());
            }
        }
        let secret = store.setting(settings::WORKER_SECRET).await?;
        *self.worker_secret.lock().unwrap_or_else(|e| e.into_inner()) = Some((secret.clone(), now));
        Ok(secret)
    }
}

/// The bearer token of a request.
fn bearer(parts: &Parts) -> Result<&str, ApiError> {
    let value = parts
        .headers
        .get(header::AUTHORIZATION)
        .ok_or_else(|| unauthorized("missing Authorization header (use `Authorization: Bearer TOKEN`)"))?;
    let value = value.to_str().map_err(|_| unauthorized("Authorization header is not ASCII"))?;
    let (scheme, token) = value.split_once(' ').ok_or_else(|| unauthorized("Authorization header is not `Bearer TOKEN`"))?;
    let token = token.trim();
    if !scheme.eq_ignore_ascii_case("bearer") || token.is_empty() {
        return Err(unauthorized("Authorization header is not `Bearer TOKEN`"));
    }
    Ok(token)
}

fn unauthorized(message: &str) -> ApiError {
    ApiError::new(StatusCode::UNAUTHORIZED, "unauthorized", message)
}

fn forbidden(message: &str) -> ApiError {
    ApiError::new(StatusCode::FORBIDDEN, "forbidden", message)
}

async fn role_of(parts: &Parts, ctx: &Ctx) -> Result<Role, ApiError> {
    let token = bearer(parts)?;
    ctx.tokens.role(&ctx.app.store, token).await?.ok_or_else(|| unauthorized("unknown token"))
}

/// A request with a submitter or admin token.
pub struct Submitter(pub Role);

/// A request with an admin token.
pub struct Admin;

/// A request with an admin token or the worker secret (workers on other machines fetching
/// packages).
pub struct PackageReader;

impl FromRequestParts<Arc<Ctx>> for Submitter {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, ctx: &Arc<Ctx>) -> Result<Self, ApiError> {
        role_of(parts, ctx).await.map(Submitter)
    }
}

impl FromRequestParts<Arc<Ctx>> for Admin {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, ctx: &Arc<Ctx>) -> Result<Self, ApiError> {
        match role_of(parts, ctx).await? {
            Role::Admin => Ok(Admin),
            Role::Submitter => Err(forbidden("this needs an admin token")),
        }
    }
}

impl FromRequestParts<Arc<Ctx>> for PackageReader {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, ctx: &Arc<Ctx>) -> Result<Self, ApiError> {
        let token = bearer(parts)?;
        if let Some(secret) = ctx.tokens.worker_secret(&ctx.app.store).await? {
            if constant_time_eq(secret.as_bytes(), token.as_bytes()) {
                return Ok(PackageReader);
            }
        }
        match ctx.tokens.role(&ctx.app.store, token).await? {
            Some(Role::Admin) => Ok(PackageReader),
            Some(Role::Submitter) => Err(forbidden("packages are for admin tokens and workers")),
            None => Err(unauthorized("unknown token")),
        }
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parts(auth: Option<&str>) -> Parts {
        let mut b = axum::http::Request::builder().uri("/v1/problems");
        if let Some(a) = auth {
            b = b.header(header::AUTHORIZATION, a);
        }
        b.body(()).unwrap().into_parts().0
    }

    #[test]
    fn bearer_parsing() {
        assert_eq!(bearer(&parts(Some("Bearer abc"))).unwrap(), "abc");
        assert_eq!(bearer(&parts(Some("bearer  abc "))).unwrap(), "abc");
        for bad in [None, Some("Basic abc"), Some("Bearer"), Some("Bearer   "), Some("abc")] {
            let e = bearer(&parts(bad)).unwrap_err();
            assert_eq!(e.status, StatusCode::UNAUTHORIZED, "{bad:?}");
        }
    }

    #[test]
    fn constant_time_compare() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"abcd"));
    }
}
