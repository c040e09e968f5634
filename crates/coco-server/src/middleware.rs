//! The authentication and CSRF gate every request passes (see `auth` for the rules).

use axum::body::{Body, to_bytes};
use axum::extract::{Request, State};
use axum::http::{Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};

use crate::auth::{Credential, Principal, SESSION_COOKIE, cookie, digest, same_secret};
use crate::error::AppError;
use crate::params::percent_encode;
use crate::state::AppState;

/// Form bodies larger than this are not buffered for a CSRF field (uploads carry the
/// token in the query string instead).
const FORM_LIMIT: usize = 256 * 1024;

fn is_public(path: &str) -> bool {
    path == "/login" || path == "/healthz" || path == "/favicon.ico" || path.starts_with("/static/")
}

/// Resolves the request's principal from a bearer token or the session cookie.
pub async fn principal_of(
    state: &AppState,
    headers: &axum::http::HeaderMap,
) -> Result<Option<Principal>, AppError> {
    if let Some(value) = headers.get(header::AUTHORIZATION) {
        let token = value
            .to_str()
            .ok()
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(str::trim)
            .ok_or_else(AppError::unauthorized)?;
        let token_digest = digest(token);
        if let Some(principal) = state.inner.credentials.get(&token_digest) {
            return Ok(Some(principal));
        }
        let lookup = token_digest.clone();
        let found = state
            .pool()
            .run(move |store| Ok(store.token_user(&lookup)?))
            .await?;
        // A presented but unknown token is an error, not an anonymous request.
        let (user, name) = found.ok_or_else(AppError::unauthorized)?;
        let principal = Principal {
            user,
            via: Credential::Token { name },
        };
        state.inner.credentials.put(token_digest, principal.clone());
        return Ok(Some(principal));
    }
    let Some(session) = headers
        .get(header::COOKIE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| cookie(v, SESSION_COOKIE))
    else {
        return Ok(None);
    };
    let session_digest = digest(session);
    if let Some(principal) = state.inner.credentials.get(&session_digest) {
        return Ok(Some(principal));
    }
    let lookup = session_digest.clone();
    let found = state
        .pool()
        .run(move |store| Ok(store.session(&lookup)?))
        .await?;
    Ok(found.map(|session| {
        let principal = Principal {
            user: session.user,
            via: Credential::Session {
                csrf_token: session.csrf_token,
            },
        };
        state
            .inner
            .credentials
            .put(session_digest, principal.clone());
        principal
    }))
}

fn form_field(body: &[u8], name: &str) -> Option<String> {
    let text = std::str::from_utf8(body).ok()?;
    text.split('&').find_map(|pair| {
        let (key, value) = pair.split_once('=')?;
        (key == name).then(|| percent_decode(value))
    })
}

/// Decodes `application/x-www-form-urlencoded` text.
pub fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut index = 0;
    while index < bytes.len() {
        match bytes[index] {
            b'+' => out.push(b' '),
            b'%' if index + 2 < bytes.len() => {
                let hex = |b: u8| (b as char).to_digit(16);
                match (hex(bytes[index + 1]), hex(bytes[index + 2])) {
                    (Some(high), Some(low)) => {
                        out.push((high * 16 + low) as u8);
                        index += 2;
                    }
                    _ => out.push(b'%'),
                }
            }
            byte => out.push(byte),
        }
        index += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn rejection(is_api: bool, error: AppError) -> Response {
    if is_api {
        error.into_response()
    } else {
        crate::pages::error_page(&error)
    }
}

pub async fn authenticate(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let path = request.uri().path().to_string();
    if is_public(&path) {
        return next.run(request).await;
    }
    let is_api = path.starts_with("/api/");
    let principal = match principal_of(&state, request.headers()).await {
        Ok(principal) => principal,
        Err(error) => return rejection(is_api, error),
    };
    let Some(principal) = principal else {
        if is_api {
            return AppError::unauthorized().into_response();
        }
        let target = request
            .uri()
            .path_and_query()
            .map(|pq| pq.as_str().to_string())
            .unwrap_or_else(|| "/".into());
        return Redirect::to(&format!("/login?next={}", percent_encode(&target))).into_response();
    };
    let mut request = request;
    let changes_state = !matches!(
        *request.method(),
        Method::GET | Method::HEAD | Method::OPTIONS
    );
    if changes_state && let Credential::Session { csrf_token } = &principal.via {
        let (parts, body) = request.into_parts();
        let from_header = parts
            .headers
            .get("x-csrf-token")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        let from_query = parts
            .uri
            .query()
            .and_then(|q| form_field(q.as_bytes(), "csrf"));
        let is_form = parts
            .headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
        let (presented, body) = match (from_header.or(from_query), is_form) {
            (Some(token), _) => (Some(token), body),
            (None, true) => match to_bytes(body, FORM_LIMIT).await {
                Ok(bytes) => (form_field(&bytes, "csrf"), Body::from(bytes)),
                Err(_) => {
                    return rejection(
                        is_api,
                        AppError::new(StatusCode::PAYLOAD_TOO_LARGE, "too_large", "form too large"),
                    );
                }
            },
            (None, false) => (None, body),
        };
        if !presented.is_some_and(|token| same_secret(&token, csrf_token)) {
            return rejection(
                is_api,
                AppError::forbidden(
                    "the form's CSRF token is missing or stale; reload the page and try again",
                ),
            );
        }
        request = Request::from_parts(parts, body);
    }
    // A one-time password must be replaced before anything else.
    if principal.user.must_change_password
        && matches!(principal.via, Credential::Session { .. })
        && path != "/password"
        && path != "/logout"
    {
        return if is_api {
            AppError::forbidden("change your one-time password first (/password)").into_response()
        } else {
            Redirect::to("/password").into_response()
        };
    }
    request.extensions_mut().insert(principal);
    next.run(request).await
}
