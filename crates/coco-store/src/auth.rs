//! Users, sessions, API tokens and the audit log.
//!
//! The store keeps only hashes: the server hashes passwords (argon2id) and digests
//! session cookies and tokens (SHA-256) before they reach these functions. Every
//! change to users or tokens writes its audit entry in the same transaction.
//!
//! Sign-in users live in `auth_users` (named `users` until migration 0007 gave that
//! name to the contract's product users).

use chrono::NaiveDateTime;
use coco_core::Role;
use duckdb::{OptionalExt, params};
use serde::Serialize;

use crate::error::StoreError;
use crate::store::Store;

/// A user as surfaces see it (never the password hash).
#[derive(Debug, Clone, Serialize, PartialEq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UserRow {
    pub user_id: i64,
    pub username: String,
    pub display_name: String,
    pub role: Role,
    pub csm_id: Option<String>,
    pub must_change_password: bool,
    pub disabled: bool,
    pub created_at: NaiveDateTime,
}

/// What `add_user` needs.
#[derive(Debug, Clone)]
pub struct NewUser<'a> {
    pub username: &'a str,
    pub display_name: &'a str,
    pub role: Role,
    pub csm_id: Option<&'a str>,
    pub password_hash: &'a str,
    pub must_change_password: bool,
}

/// A live session: its user (enabled) and the session's CSRF token.
#[derive(Debug, Clone)]
pub struct SessionRow {
    pub user: UserRow,
    pub csrf_token: String,
    pub expires_at: NaiveDateTime,
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TokenRow {
    pub token_id: i64,
    pub username: String,
    pub name: String,
    pub token_prefix: String,
    pub created_at: NaiveDateTime,
    pub expires_at: Option<NaiveDateTime>,
    pub revoked_at: Option<NaiveDateTime>,
}

/// One audit entry to write.
#[derive(Debug, Clone)]
pub struct AuditEntry<'a> {
    pub actor: &'a str,
    pub action: &'a str,
    pub target: Option<&'a str>,
    pub detail: serde_json::Value,
    pub ip: Option<&'a str>,
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AuditRow {
    pub audit_id: i64,
    pub at: NaiveDateTime,
    pub actor: String,
    pub action: String,
    pub target: Option<String>,
    pub detail: Option<String>,
    pub ip: Option<String>,
}

const USER_COLUMNS: &str = "u.user_id, u.username, u.display_name, u.role, u.csm_id, \
    u.must_change_password, u.disabled_at IS NOT NULL, u.created_at";

fn user_row(row: &duckdb::Row<'_>, offset: usize) -> Result<UserRow, duckdb::Error> {
    let role: String = row.get(offset + 3)?;
    Ok(UserRow {
        user_id: row.get(offset)?,
        username: row.get(offset + 1)?,
        display_name: row.get(offset + 2)?,
        // The column's CHECK constraint admits only the four role names.
        role: role.parse().unwrap_or(Role::Viewer),
        csm_id: row.get(offset + 4)?,
        must_change_password: row.get(offset + 5)?,
        disabled: row.get(offset + 6)?,
        created_at: row.get(offset + 7)?,
    })
}

fn write_audit(conn: &duckdb::Connection, entry: &AuditEntry<'_>) -> Result<(), StoreError> {
    conn.execute(
        "INSERT INTO audit_log SELECT coalesce(max(audit_id), 0) + 1, now()::TIMESTAMP, ?, ?, ?, ?, ? \
         FROM audit_log",
        params![
            entry.actor,
            entry.action,
            entry.target,
            entry.detail.to_string(),
            entry.ip
        ],
    )?;
    Ok(())
}

impl Store {
    /// Adds a user; the username must be new.
    pub fn add_user(
        &self,
        user: &NewUser<'_>,
        audit: &AuditEntry<'_>,
    ) -> Result<UserRow, StoreError> {
        let username = user.username.trim().to_lowercase();
        if username.is_empty() {
            return Err(StoreError::Invalid("a username must not be empty".into()));
        }
        let tx = self.conn.unchecked_transaction()?;
        let exists: bool = tx.query_row(
            "SELECT count(*) > 0 FROM auth_users WHERE username = ?",
            [&username],
            |row| row.get(0),
        )?;
        if exists {
            return Err(StoreError::Invalid(format!(
                "a user named `{username}` already exists"
            )));
        }
        tx.execute(
            "INSERT INTO auth_users SELECT coalesce(max(user_id), 0) + 1, ?, ?, ?, ?, ?, ?, NULL, \
             now()::TIMESTAMP, now()::TIMESTAMP FROM auth_users",
            params![
                username,
                user.display_name,
                user.role.as_str(),
                user.csm_id,
                user.password_hash,
                user.must_change_password
            ],
        )?;
        write_audit(&tx, audit)?;
        tx.commit()?;
        self.user_by_username(&username)?
            .map(|(row, _)| row)
            .ok_or_else(|| StoreError::Internal("a user just added is missing".into()))
    }

    /// The user and their password hash, disabled or not.
    pub fn user_by_username(
        &self,
        username: &str,
    ) -> Result<Option<(UserRow, String)>, StoreError> {
        Ok(self
            .conn
            .query_row(
                &format!(
                    "SELECT {USER_COLUMNS}, u.password_hash FROM auth_users u WHERE u.username = ?"
                ),
                [username.trim().to_lowercase()],
                |row| Ok((user_row(row, 0)?, row.get(8)?)),
            )
            .optional()?)
    }

    pub fn list_users(&self) -> Result<Vec<UserRow>, StoreError> {
        let mut statement = self.conn.prepare(&format!(
            "SELECT {USER_COLUMNS} FROM auth_users u ORDER BY u.username"
        ))?;
        let rows = statement.query_map([], |row| user_row(row, 0))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Changes one user: role, disabled flag, password. A disabled user's sessions
    /// and tokens stop working at once (the lookups below join enabled users only), and
    /// their sessions are deleted.
    pub fn update_user(
        &self,
        username: &str,
        change: &UserChange<'_>,
        audit: &AuditEntry<'_>,
    ) -> Result<UserRow, StoreError> {
        let (user, _) = self
            .user_by_username(username)?
            .ok_or_else(|| StoreError::NotFound(format!("no user named `{username}`")))?;
        let tx = self.conn.unchecked_transaction()?;
        if let Some(role) = change.role {
            tx.execute(
                "UPDATE auth_users SET role = ?, updated_at = now()::TIMESTAMP WHERE user_id = ?",
                params![role.as_str(), user.user_id],
            )?;
        }
        if let Some(disabled) = change.disabled {
            tx.execute(
                "UPDATE auth_users SET disabled_at = CASE WHEN ? THEN now()::TIMESTAMP END, \
                 updated_at = now()::TIMESTAMP WHERE user_id = ?",
                params![disabled, user.user_id],
            )?;
            if disabled {
                tx.execute("DELETE FROM sessions WHERE user_id = ?", [user.user_id])?;
            }
        }
        if let Some((hash, must_change)) = change.password_hash {
            tx.execute(
                "UPDATE auth_users SET password_hash = ?, must_change_password = ?, \
                 updated_at = now()::TIMESTAMP WHERE user_id = ?",
                params![hash, must_change, user.user_id],
            )?;
        }
        write_audit(&tx, audit)?;
        tx.commit()?;
        self.user_by_username(username)?
            .map(|(row, _)| row)
            .ok_or_else(|| StoreError::Internal("a user just changed is missing".into()))
    }

    pub fn create_session(
        &self,
        session_hash: &str,
        user_id: i64,
        csrf_token: &str,
        expires_at: NaiveDateTime,
        audit: &AuditEntry<'_>,
    ) -> Result<(), StoreError> {
        let tx = self.conn.unchecked_transaction()?;
        // Expired sessions are cleared as new ones start, so the table stays small.
        tx.execute(
            "DELETE FROM sessions WHERE expires_at < now()::TIMESTAMP",
            [],
        )?;
        tx.execute(
            "INSERT INTO sessions VALUES (?, ?, ?, now()::TIMESTAMP, ?, ?)",
            params![session_hash, user_id, csrf_token, expires_at, audit.ip],
        )?;
        write_audit(&tx, audit)?;
        tx.commit()?;
        Ok(())
    }

    /// The session behind a cookie digest, if it is live and its user enabled.
    pub fn session(&self, session_hash: &str) -> Result<Option<SessionRow>, StoreError> {
        Ok(self
            .conn
            .query_row(
                &format!(
                    "SELECT {USER_COLUMNS}, s.csrf_token, s.expires_at FROM sessions s \
                     JOIN auth_users u USING (user_id) \
                     WHERE s.session_hash = ? AND s.expires_at > now()::TIMESTAMP \
                     AND u.disabled_at IS NULL"
                ),
                [session_hash],
                |row| {
                    Ok(SessionRow {
                        user: user_row(row, 0)?,
                        csrf_token: row.get(8)?,
                        expires_at: row.get(9)?,
                    })
                },
            )
            .optional()?)
    }

    pub fn delete_session(
        &self,
        session_hash: &str,
        audit: &AuditEntry<'_>,
    ) -> Result<(), StoreError> {
        let tx = self.conn.unchecked_transaction()?;
        tx.execute(
            "DELETE FROM sessions WHERE session_hash = ?",
            [session_hash],
        )?;
        write_audit(&tx, audit)?;
        tx.commit()?;
        Ok(())
    }

    /// Stores a new API token (its digest) for a user; names are unique per user.
    pub fn create_token(
        &self,
        username: &str,
        name: &str,
        token_prefix: &str,
        token_hash: &str,
        expires_at: Option<NaiveDateTime>,
        audit: &AuditEntry<'_>,
    ) -> Result<TokenRow, StoreError> {
        let (user, _) = self
            .user_by_username(username)?
            .ok_or_else(|| StoreError::NotFound(format!("no user named `{username}`")))?;
        let tx = self.conn.unchecked_transaction()?;
        let taken: bool = tx.query_row(
            "SELECT count(*) > 0 FROM api_tokens WHERE user_id = ? AND name = ? AND revoked_at IS NULL",
            params![user.user_id, name],
            |row| row.get(0),
        )?;
        if taken {
            return Err(StoreError::Invalid(format!(
                "`{username}` already has a live token named `{name}`; revoke it or pick another name"
            )));
        }
        let token_id: i64 = tx.query_row(
            "SELECT coalesce(max(token_id), 0) + 1 FROM api_tokens",
            [],
            |row| row.get(0),
        )?;
        tx.execute(
            "INSERT INTO api_tokens VALUES (?, ?, ?, ?, ?, now()::TIMESTAMP, ?, NULL)",
            params![
                token_id,
                user.user_id,
                name,
                token_prefix,
                token_hash,
                expires_at
            ],
        )?;
        write_audit(&tx, audit)?;
        tx.commit()?;
        self.list_tokens(Some(username))?
            .into_iter()
            .find(|token| token.token_id == token_id)
            .ok_or_else(|| StoreError::Internal("a token just created is missing".into()))
    }

    /// The user a token digest acts for, if the token is live and the user enabled.
    pub fn token_user(&self, token_hash: &str) -> Result<Option<(UserRow, String)>, StoreError> {
        Ok(self
            .conn
            .query_row(
                &format!(
                    "SELECT {USER_COLUMNS}, t.name FROM api_tokens t JOIN auth_users u USING (user_id) \
                     WHERE t.token_hash = ? AND t.revoked_at IS NULL \
                     AND (t.expires_at IS NULL OR t.expires_at > now()::TIMESTAMP) \
                     AND u.disabled_at IS NULL"
                ),
                [token_hash],
                |row| Ok((user_row(row, 0)?, row.get(8)?)),
            )
            .optional()?)
    }

    /// Tokens, newest first; one user's when `username` is given.
    pub fn list_tokens(&self, username: Option<&str>) -> Result<Vec<TokenRow>, StoreError> {
        let mut statement = self.conn.prepare(
            "SELECT t.token_id, u.username, t.name, t.token_prefix, t.created_at, t.expires_at, \
             t.revoked_at FROM api_tokens t JOIN auth_users u USING (user_id) \
             WHERE ? IS NULL OR u.username = ? ORDER BY t.token_id DESC",
        )?;
        let username = username.map(|name| name.trim().to_lowercase());
        let rows = statement.query_map(params![username, username], |row| {
            Ok(TokenRow {
                token_id: row.get(0)?,
                username: row.get(1)?,
                name: row.get(2)?,
                token_prefix: row.get(3)?,
                created_at: row.get(4)?,
                expires_at: row.get(5)?,
                revoked_at: row.get(6)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Revokes a token by id; revoking twice is an error that says so.
    pub fn revoke_token(
        &self,
        token_id: i64,
        audit: &AuditEntry<'_>,
    ) -> Result<TokenRow, StoreError> {
        let token = self
            .list_tokens(None)?
            .into_iter()
            .find(|token| token.token_id == token_id)
            .ok_or_else(|| StoreError::NotFound(format!("no API token with id {token_id}")))?;
        if token.revoked_at.is_some() {
            return Err(StoreError::Invalid(format!(
                "API token {token_id} (`{}`) is already revoked",
                token.name
            )));
        }
        let tx = self.conn.unchecked_transaction()?;
        tx.execute(
            "UPDATE api_tokens SET revoked_at = now()::TIMESTAMP WHERE token_id = ?",
            [token_id],
        )?;
        write_audit(&tx, audit)?;
        tx.commit()?;
        self.list_tokens(None)?
            .into_iter()
            .find(|token| token.token_id == token_id)
            .ok_or_else(|| StoreError::Internal("a token just revoked is missing".into()))
    }

    /// Writes an audit entry on its own (for writes whose own transaction lives
    /// elsewhere, e.g. an ingest, and for failed logins).
    pub fn audit(&self, entry: &AuditEntry<'_>) -> Result<(), StoreError> {
        write_audit(&self.conn, entry)
    }

    /// The audit log, newest first.
    pub fn audit_log(&self, limit: usize, offset: usize) -> Result<Vec<AuditRow>, StoreError> {
        let mut statement = self.conn.prepare(
            "SELECT audit_id, occurred_at, actor, action, target, detail, ip FROM audit_log \
             ORDER BY audit_id DESC LIMIT ? OFFSET ?",
        )?;
        let rows = statement.query_map(params![limit as i64, offset as i64], |row| {
            Ok(AuditRow {
                audit_id: row.get(0)?,
                at: row.get(1)?,
                actor: row.get(2)?,
                action: row.get(3)?,
                target: row.get(4)?,
                detail: row.get(5)?,
                ip: row.get(6)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }
}

/// A change to one user; `None` fields stay as they are.
#[derive(Debug, Clone, Default)]
pub struct UserChange<'a> {
    pub role: Option<Role>,
    pub disabled: Option<bool>,
    /// New password hash, and whether it must be changed at next login.
    pub password_hash: Option<(&'a str, bool)>,
}
