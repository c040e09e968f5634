//! Authentication: passwords (argon2id), sessions (random cookie, SHA-256 at rest),
//! API tokens (random, SHA-256 at rest), CSRF, login rate limiting, and the request
//! principal every handler receives.
//!
//! Rules:
//! - No route except `/login`, `/healthz` and `/static/*` answers without a principal:
//!   pages redirect to the login page, `/api/*` answers 401.
//! - A cookie-authenticated request that changes state (POST, PUT, PATCH, DELETE) must
//!   echo the session's CSRF token (form field `csrf`, header `X-CSRF-Token`, or for
//!   file uploads the `csrf` query parameter); otherwise 403. Bearer-token requests carry
//!   no ambient credential and need no CSRF token.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use coco_core::{Permission, Role};
use coco_store::auth::UserRow;
use rand::RngCore;
use sha2::{Digest, Sha256};

use crate::error::AppError;

/// The session cookie's name.
pub const SESSION_COOKIE: &str = "coco_session";
/// The pre-login CSRF cookie (double-submit) guarding the login form itself.
pub const LOGIN_CSRF_COOKIE: &str = "coco_login_csrf";
/// How long a session lives.
pub const SESSION_HOURS: i64 = 12;
/// API tokens start with this, so they are recognisable (and greppable in leaks).
pub const TOKEN_PREFIX: &str = "coco_";

/// Who is asking, and how they proved it.
#[derive(Debug, Clone)]
pub struct Principal {
    pub user: UserRow,
    pub via: Credential,
}

#[derive(Debug, Clone)]
pub enum Credential {
    /// A browser session; state-changing requests must echo this CSRF token.
    Session { csrf_token: String },
    /// An API token (its name).
    Token { name: String },
}

impl Principal {
    pub fn role(&self) -> Role {
        self.user.role
    }

    pub fn can(&self, permission: Permission) -> bool {
        self.user.role.can(permission)
    }

    pub fn require(&self, permission: Permission) -> Result<(), AppError> {
        if self.can(permission) {
            Ok(())
        } else {
            Err(AppError::forbidden(format!(
                "the {} role may not {}",
                self.user.role,
                permission.describe()
            )))
        }
    }

    /// The audit log's actor for this principal.
    pub fn actor(&self) -> String {
        match &self.via {
            Credential::Session { .. } => self.user.username.clone(),
            Credential::Token { name } => format!("{} (token {name})", self.user.username),
        }
    }

    pub fn csrf_token(&self) -> &str {
        match &self.via {
            Credential::Session { csrf_token } => csrf_token,
            Credential::Token { .. } => "",
        }
    }
}

/// Random bytes as lower-case hex.
pub fn random_hex(bytes: usize) -> String {
    let mut buffer = vec![0u8; bytes];
    rand::rng().fill_bytes(&mut buffer);
    hex(&buffer)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}

/// The digest stored for a session cookie or API token.
pub fn digest(secret: &str) -> String {
    hex(&Sha256::digest(secret.as_bytes()))
}

/// An argon2id PHC string for a password.
pub fn hash_password(password: &str) -> Result<String, AppError> {
    let mut salt = [0u8; 16];
    rand::rng().fill_bytes(&mut salt);
    let salt = SaltString::encode_b64(&salt)
        .map_err(|error| AppError::internal(format!("salt: {error}")))?;
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|hash| hash.to_string())
        .map_err(|error| AppError::internal(format!("hashing a password: {error}")))
}

/// Whether `password` matches a stored PHC string. A malformed hash never matches.
pub fn verify_password(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash)
        .map(|parsed| {
            Argon2::default()
                .verify_password(password.as_bytes(), &parsed)
                .is_ok()
        })
        .unwrap_or(false)
}

/// Checks a new password against the minimum rules; says what is wrong.
pub fn check_password_rules(password: &str) -> Result<(), String> {
    if password.chars().count() < 12 {
        return Err("a password needs at least 12 characters".into());
    }
    Ok(())
}

/// A one-time password for a new user: 16 characters, unambiguous alphabet.
pub fn generate_password() -> String {
    const ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let mut bytes = [0u8; 16];
    rand::rng().fill_bytes(&mut bytes);
    bytes
        .iter()
        .map(|byte| ALPHABET[usize::from(*byte) % ALPHABET.len()] as char)
        .collect()
}

/// A new API token: the secret (shown once) and the prefix listed afterwards.
pub fn generate_token() -> (String, String) {
    let secret = format!("{TOKEN_PREFIX}{}", random_hex(24));
    let prefix = secret.chars().take(TOKEN_PREFIX.len() + 6).collect();
    (secret, prefix)
}

/// Failed logins per key (client address, and username) in a sliding window.
/// Five failures in fifteen minutes lock the key until the oldest failure ages out.
pub struct LoginLimiter {
    failures: Mutex<HashMap<String, Vec<Instant>>>,
    max_failures: usize,
    window: Duration,
}

impl Default for LoginLimiter {
    fn default() -> Self {
        LoginLimiter {
            failures: Mutex::new(HashMap::new()),
            max_failures: 5,
            window: Duration::from_secs(15 * 60),
        }
    }
}

impl LoginLimiter {
    fn keys(ip: Option<IpAddr>, username: &str) -> Vec<String> {
        let mut keys = vec![format!("user:{}", username.trim().to_lowercase())];
        if let Some(ip) = ip {
            keys.push(format!("ip:{ip}"));
        }
        keys
    }

    /// `Some(wait)` when this client or username must wait before trying again.
    pub fn blocked(&self, ip: Option<IpAddr>, username: &str) -> Option<Duration> {
        let now = Instant::now();
        let mut failures = self.failures.lock().ok()?;
        let mut wait = None;
        for key in Self::keys(ip, username) {
            if let Some(times) = failures.get_mut(&key) {
                times.retain(|at| now.duration_since(*at) < self.window);
                if times.len() >= self.max_failures {
                    let oldest = times.iter().min().copied().unwrap_or(now);
                    let remaining = self.window.saturating_sub(now.duration_since(oldest));
                    wait = Some(wait.map_or(remaining, |w: Duration| w.max(remaining)));
                }
            }
        }
        wait
    }

    pub fn record_failure(&self, ip: Option<IpAddr>, username: &str) {
        if let Ok(mut failures) = self.failures.lock() {
            for key in Self::keys(ip, username) {
                failures.entry(key).or_default().push(Instant::now());
            }
        }
    }

    pub fn record_success(&self, ip: Option<IpAddr>, username: &str) {
        if let Ok(mut failures) = self.failures.lock() {
            for key in Self::keys(ip, username) {
                failures.remove(&key);
            }
        }
    }
}

/// Reads one cookie from a `Cookie` header.
pub fn cookie<'a>(header: &'a str, name: &str) -> Option<&'a str> {
    header.split(';').find_map(|pair| {
        let (key, value) = pair.trim().split_once('=')?;
        (key == name).then_some(value)
    })
}

/// A `Set-Cookie` value with the attributes every COCO cookie carries.
pub fn set_cookie(name: &str, value: &str, max_age_seconds: i64, secure: bool) -> String {
    format!(
        "{name}={value}; Path=/; HttpOnly; SameSite=Strict; Max-Age={max_age_seconds}{}",
        if secure { "; Secure" } else { "" }
    )
}

/// Constant-time comparison for secrets.
pub fn same_secret(left: &str, right: &str) -> bool {
    left.len() == right.len()
        && left
            .bytes()
            .zip(right.bytes())
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_verify_only_against_their_own_hash() {
        let hash = hash_password("correct horse battery").unwrap();
        assert!(hash.starts_with("$argon2id$"));
        assert!(verify_password("correct horse battery", &hash));
        assert!(!verify_password("correct horse batterz", &hash));
        assert!(!verify_password("anything", "not a hash"));
    }

    #[test]
    fn tokens_are_prefixed_random_and_digested() {
        let (secret, prefix) = generate_token();
        let (other, _) = generate_token();
        assert!(secret.starts_with(TOKEN_PREFIX) && secret.starts_with(&prefix));
        assert_ne!(secret, other);
        assert_eq!(digest(&secret).len(), 64);
        assert_ne!(digest(&secret), digest(&other));
    }

    #[test]
    fn five_failures_block_the_user_and_the_address_until_success() {
        let limiter = LoginLimiter::default();
        let ip: IpAddr = "10.0.0.1".parse().unwrap();
        for _ in 0..4 {
            limiter.record_failure(Some(ip), "Ana");
            assert!(limiter.blocked(Some(ip), "ana").is_none());
        }
        limiter.record_failure(Some(ip), "ana");
        assert!(limiter.blocked(Some(ip), "ana").is_some());
        // Another user from the same address is blocked too; the same user elsewhere as well.
        assert!(limiter.blocked(Some(ip), "bo").is_some());
        assert!(limiter.blocked(None, "ana").is_some());
        limiter.record_success(Some(ip), "ana");
        assert!(limiter.blocked(Some(ip), "ana").is_none());
    }

    #[test]
    fn cookies_parse_and_carry_strict_attributes() {
        assert_eq!(
            cookie("a=1; coco_session=xyz; b=2", SESSION_COOKIE),
            Some("xyz")
        );
        assert_eq!(cookie("a=1", SESSION_COOKIE), None);
        let set = set_cookie(SESSION_COOKIE, "v", 60, true);
        assert!(
            set.contains("HttpOnly") && set.contains("SameSite=Strict") && set.contains("Secure")
        );
        assert!(!set_cookie(SESSION_COOKIE, "v", 60, false).contains("Secure"));
    }

    #[test]
    fn secret_comparison() {
        assert!(same_secret("abc", "abc"));
        assert!(!same_secret("abc", "abd"));
        assert!(!same_secret("abc", "abcd"));
    }
}
