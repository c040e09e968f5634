//! The admin page (`/admin`, permission ManageUsers): users, roles, API tokens and the
//! audit log — the same operations as `coco users` / `coco tokens` (one implementation,
//! `users.rs`), for when the server holds the store and the CLI cannot open it.

use axum::extract::{Query, State};
use axum::response::IntoResponse;
use axum::{Extension, Form, Json};
use coco_core::{Permission, Role};
use serde::Deserialize;
use serde_json::json;

use crate::auth::Principal;
use crate::error::AppError;
use crate::pages::{PageError, render_page};
use crate::state::AppState;
use crate::users;

/// Audit entries the page shows.
const AUDIT_ON_PAGE: usize = 100;

pub async fn admin_page(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
) -> Result<axum::response::Response, PageError> {
    principal.require(Permission::ManageUsers)?;
    admin_view(&state, &principal, None).await
}

/// What one form on the page asks for. `action` picks the operation; the other fields
/// are the ones it needs.
#[derive(Debug, Deserialize)]
pub struct AdminForm {
    pub action: String,
    pub username: Option<String>,
    pub display_name: Option<String>,
    pub role: Option<String>,
    pub csm_id: Option<String>,
    pub token_name: Option<String>,
    pub token_id: Option<i64>,
}

pub async fn admin_submit(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    Form(form): Form<AdminForm>,
) -> Result<axum::response::Response, PageError> {
    principal.require(Permission::ManageUsers)?;
    let actor = principal.actor();
    let me = principal.user.username.clone();
    let notice = state
        .pool()
        .run(move |store| apply(store, &form, &actor, &me))
        .await?;
    // Roles, disabled users and revoked tokens take effect on the next request.
    state.inner.credentials.clear();
    admin_view(&state, &principal, Some(notice)).await
}

fn required<'a>(value: &'a Option<String>, field: &str) -> Result<&'a str, AppError> {
    value
        .as_deref()
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .ok_or_else(|| AppError::invalid(field, format!("`{field}` is required")))
}

fn role(value: &Option<String>) -> Result<Role, AppError> {
    required(value, "role")?
        .parse()
        .map_err(|_| AppError::invalid("role", "a role is admin, leader, csm or viewer"))
}

/// Applies one operation; returns what to tell the admin (a one-time secret once).
fn apply(
    store: &coco_store::Store,
    form: &AdminForm,
    actor: &str,
    me: &str,
) -> Result<String, AppError> {
    // An admin cannot lock themselves out (the last admin would lock everyone out).
    let not_me = |username: &str| {
        if username.eq_ignore_ascii_case(me) {
            Err(AppError::invalid(
                "username",
                "you cannot disable or demote yourself; ask another admin",
            ))
        } else {
            Ok(())
        }
    };
    match form.action.as_str() {
        "add_user" => {
            let created = users::add_user(
                store,
                &users::NewUserRequest {
                    username: required(&form.username, "username")?,
                    display_name: form.display_name.as_deref(),
                    role: role(&form.role)?,
                    csm_id: form.csm_id.as_deref(),
                },
                actor,
            )?;
            Ok(format!(
                "User {} ({}) added. One-time password, shown once: {}",
                created.user.username, created.user.role, created.one_time_password
            ))
        }
        "set_role" => {
            let username = required(&form.username, "username")?;
            not_me(username)?;
            let user = users::set_role(store, username, role(&form.role)?, actor)?;
            Ok(format!("{} is now {}.", user.username, user.role))
        }
        "disable" | "enable" => {
            let username = required(&form.username, "username")?;
            not_me(username)?;
            let disabled = form.action == "disable";
            let user = users::set_disabled(store, username, disabled, actor)?;
            Ok(format!(
                "{} is {}.",
                user.username,
                if disabled { "disabled" } else { "enabled" }
            ))
        }
        "reset_password" => {
            let created =
                users::reset_password(store, required(&form.username, "username")?, actor)?;
            Ok(format!(
                "New one-time password for {}, shown once: {}",
                created.user.username, created.one_time_password
            ))
        }
        "create_token" => {
            let (token, secret) = users::create_token(
                store,
                required(&form.username, "username")?,
                required(&form.token_name, "token_name")?,
                None,
                actor,
            )?;
            Ok(format!(
                "Token \"{}\" for {} created. Secret, shown once: {secret}",
                token.name, token.username
            ))
        }
        "revoke_token" => {
            let token_id = form
                .token_id
                .ok_or_else(|| AppError::invalid("token_id", "`token_id` is required"))?;
            let token = users::revoke_token(store, token_id, actor)?;
            Ok(format!(
                "Token \"{}\" of {} revoked.",
                token.name, token.username
            ))
        }
        other => Err(AppError::invalid(
            "action",
            format!("unknown action {other:?}"),
        )),
    }
}

async fn admin_view(
    state: &AppState,
    principal: &Principal,
    notice: Option<String>,
) -> Result<axum::response::Response, PageError> {
    let (users, tokens, audit) = state
        .pool()
        .run(|store| {
            Ok((
                store.list_users()?,
                store.list_tokens(None)?,
                store.audit_log(AUDIT_ON_PAGE, 0)?,
            ))
        })
        .await?;
    render_page(
        state,
        principal,
        "admin.html",
        "admin",
        json!({
            "users": users,
            "tokens": tokens,
            "audit": audit,
            "notice": notice,
            "roles": ["admin", "leader", "csm", "viewer"],
        }),
    )
}

#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct AuditBody {
    pub entries: Vec<coco_store::auth::AuditRow>,
}

#[derive(Debug, Deserialize)]
pub struct AuditParams {
    pub limit: Option<usize>,
    pub offset: Option<usize>,
}

/// The audit log, newest first (admins).
#[utoipa::path(get, path = "/api/v1/audit",
    params(("limit" = Option<usize>, Query, description = "1–1000; default 100"), ("offset" = Option<usize>, Query)),
    responses((status = 200, body = AuditBody), (status = 403, body = crate::error::ErrorBody)))]
pub async fn audit_api(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    Query(params): Query<AuditParams>,
) -> Result<axum::response::Response, AppError> {
    principal.require(Permission::ManageUsers)?;
    let limit = params.limit.unwrap_or(100);
    if !(1..=1000).contains(&limit) {
        return Err(AppError::invalid("limit", "`limit` is 1–1000"));
    }
    let offset = params.offset.unwrap_or(0);
    let entries = state
        .pool()
        .run(move |store| Ok(store.audit_log(limit, offset)?))
        .await?;
    Ok(Json(AuditBody { entries }).into_response())
}
