//! Managing users and API tokens: one implementation behind `coco users`, `coco tokens`,
//! the quickstart and the admin pages. Secrets are generated here, shown once, and
//! stored only as hashes.

use chrono::NaiveDateTime;
use coco_core::Role;
use coco_store::Store;
use coco_store::auth::{AuditEntry, NewUser, TokenRow, UserChange, UserRow};
use serde_json::json;

use crate::auth::{digest, generate_password, generate_token, hash_password};
use crate::error::AppError;

/// A user just created and their one-time password (they must change it at first login).
pub struct CreatedUser {
    pub user: UserRow,
    pub one_time_password: String,
}

pub struct NewUserRequest<'a> {
    pub username: &'a str,
    pub display_name: Option<&'a str>,
    pub role: Role,
    pub csm_id: Option<&'a str>,
}

fn entry<'a>(
    actor: &'a str,
    action: &'a str,
    target: &'a str,
    detail: serde_json::Value,
) -> AuditEntry<'a> {
    AuditEntry {
        actor,
        action,
        target: Some(target),
        detail,
        ip: None,
    }
}

fn valid_username(username: &str) -> Result<String, AppError> {
    let username = username.trim().to_lowercase();
    let allowed = |c: char| c.is_ascii_alphanumeric() || "._@+-".contains(c);
    if username.is_empty() || username.len() > 120 || !username.chars().all(allowed) {
        return Err(AppError::invalid(
            "username",
            "a username is 1–120 characters of letters, digits and . _ @ + -",
        ));
    }
    Ok(username)
}

pub fn add_user(
    store: &Store,
    request: &NewUserRequest<'_>,
    actor: &str,
) -> Result<CreatedUser, AppError> {
    let username = valid_username(request.username)?;
    let one_time_password = generate_password();
    let password_hash = hash_password(&one_time_password)?;
    let display_name = request
        .display_name
        .map(str::trim)
        .filter(|name| !name.is_empty())
        .unwrap_or(&username);
    let user = store.add_user(
        &NewUser {
            username: &username,
            display_name,
            role: request.role,
            csm_id: request.csm_id.filter(|id| !id.trim().is_empty()),
            password_hash: &password_hash,
            must_change_password: true,
        },
        &entry(
            actor,
            "user.add",
            &username,
            json!({"role": request.role, "csm_id": request.csm_id}),
        ),
    )?;
    Ok(CreatedUser {
        user,
        one_time_password,
    })
}

pub fn set_role(
    store: &Store,
    username: &str,
    role: Role,
    actor: &str,
) -> Result<UserRow, AppError> {
    Ok(store.update_user(
        username,
        &UserChange {
            role: Some(role),
            ..UserChange::default()
        },
        &entry(actor, "user.set_role", username, json!({"role": role})),
    )?)
}

pub fn set_disabled(
    store: &Store,
    username: &str,
    disabled: bool,
    actor: &str,
) -> Result<UserRow, AppError> {
    let action = if disabled {
        "user.disable"
    } else {
        "user.enable"
    };
    Ok(store.update_user(
        username,
        &UserChange {
            disabled: Some(disabled),
            ..UserChange::default()
        },
        &entry(actor, action, username, json!({})),
    )?)
}

/// Sets a new one-time password (the user must change it at next login).
pub fn reset_password(store: &Store, username: &str, actor: &str) -> Result<CreatedUser, AppError> {
    let one_time_password = generate_password();
    let hash = hash_password(&one_time_password)?;
    let user = store.update_user(
        username,
        &UserChange {
            password_hash: Some((&hash, true)),
            ..UserChange::default()
        },
        &entry(actor, "user.reset_password", username, json!({})),
    )?;
    Ok(CreatedUser {
        user,
        one_time_password,
    })
}

/// A user's own password change (checked against the rules by the caller).
pub fn change_password(
    store: &Store,
    username: &str,
    new_password: &str,
) -> Result<UserRow, AppError> {
    let hash = hash_password(new_password)?;
    Ok(store.update_user(
        username,
        &UserChange {
            password_hash: Some((&hash, false)),
            ..UserChange::default()
        },
        &entry(username, "user.change_password", username, json!({})),
    )?)
}

/// A new API token for `username`; the secret is returned once and never again.
pub fn create_token(
    store: &Store,
    username: &str,
    name: &str,
    expires_at: Option<NaiveDateTime>,
    actor: &str,
) -> Result<(TokenRow, String), AppError> {
    let name = name.trim();
    if name.is_empty() || name.len() > 80 {
        return Err(AppError::invalid("name", "a token name is 1–80 characters"));
    }
    let (secret, prefix) = generate_token();
    let token = store.create_token(
        username,
        name,
        &prefix,
        &digest(&secret),
        expires_at,
        &entry(
            actor,
            "token.create",
            username,
            json!({"name": name, "prefix": prefix}),
        ),
    )?;
    Ok((token, secret))
}

pub fn revoke_token(store: &Store, token_id: i64, actor: &str) -> Result<TokenRow, AppError> {
    Ok(store.revoke_token(
        token_id,
        &entry(
            actor,
            "token.revoke",
            &token_id.to_string(),
            json!({"token_id": token_id}),
        ),
    )?)
}
