//! What every handler shares: the store pool, configuration (metrics and health; alert
//! rules, playbooks and notifications; drafts), templates, the login limiter, and a short-lived
//! cache of authenticated credentials.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use coco_engine::Config;
use coco_engine::actions::ActionsConfig;
use coco_engine::drafts::Drafting;

use crate::auth::{LoginLimiter, Principal};
use crate::pool::StorePool;

#[derive(Clone)]
pub struct AppState {
    pub inner: Arc<Shared>,
}

pub struct Shared {
    pub pool: Arc<StorePool>,
    pub config: Arc<Config>,
    /// Alert rules, playbooks and notification settings (`alerts.toml`,
    /// `playbooks.toml`, `notifications.toml`), loaded and validated at start.
    pub actions: Arc<ActionsConfig>,
    /// `drafts.toml` and the draft templates (the user's under
    /// `<data dir>/templates/drafts/` over the shipped ones), loaded and checked at start.
    pub drafting: Arc<Drafting>,
    /// Held by every daily run and outbox delivery pass the server makes (API and
    /// scheduler), so two never write alerts or send the same message at once.
    pub actions_lock: tokio::sync::Mutex<()>,
    pub templates: minijinja::Environment<'static>,
    pub limiter: LoginLimiter,
    pub credentials: CredentialCache,
    /// Memoised page and API views (see `views`).
    pub views: crate::views::ViewCache,
    /// Set the `Secure` attribute on cookies (the server sits behind TLS).
    pub secure_cookies: bool,
    pub data_dir: PathBuf,
}

impl AppState {
    pub fn pool(&self) -> &Arc<StorePool> {
        &self.inner.pool
    }
}

/// Principals by credential digest, for a few seconds, so a burst of API calls does
/// not look the same token up in the store each time. Every change the server makes
/// to users, sessions or tokens clears it, and the CLI cannot change them while the
/// server holds the store (DuckDB's one-process rule), so it is never stale for longer
/// than the TTL even in principle.
pub struct CredentialCache {
    entries: Mutex<HashMap<String, (Principal, Instant)>>,
    ttl: Duration,
}

impl Default for CredentialCache {
    fn default() -> Self {
        CredentialCache {
            entries: Mutex::new(HashMap::new()),
            ttl: Duration::from_secs(30),
        }
    }
}

impl CredentialCache {
    pub fn get(&self, digest: &str) -> Option<Principal> {
        let entries = self.entries.lock().ok()?;
        entries
            .get(digest)
            .filter(|(_, at)| at.elapsed() < self.ttl)
            .map(|(principal, _)| principal.clone())
    }

    pub fn put(&self, digest: String, principal: Principal) {
        if let Ok(mut entries) = self.entries.lock() {
            if entries.len() > 10_000 {
                entries.clear();
            }
            entries.insert(digest, (principal, Instant::now()));
        }
    }

    pub fn clear(&self) {
        if let Ok(mut entries) = self.entries.lock() {
            entries.clear();
        }
    }
}
