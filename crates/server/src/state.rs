//! What every handler can reach. No in-memory state that a second instance would miss:
//! everything that changes lives in the database; a copy held in memory (the directory's)
//! is derived from it and checked against it before each use.

use std::sync::Arc;

use tsunagu_core::clock::Clock;

use crate::db::Db;

#[derive(Clone)]
pub struct AppState {
    pub db: Db,
    pub clock: Arc<dyn Clock>,
    pub settings: Arc<Settings>,
    /// Copies derived from the database that features keep between requests, one per type.
    pub copies: Arc<Copies>,
}

/// Copies derived from the database, one per type, made on first use; each feature checks
/// its own against the database before using it. Held by type so that this layer knows no
/// feature.
#[derive(Default)]
pub struct Copies {
    by_type: std::sync::Mutex<
        std::collections::HashMap<std::any::TypeId, Arc<dyn std::any::Any + Send + Sync>>,
    >,
}

impl Copies {
    /// The copy of type `T`, made empty the first time.
    pub fn of<T: Default + Send + Sync + 'static>(&self) -> Arc<T> {
        let mut by_type = self
            .by_type
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let held = by_type
            .entry(std::any::TypeId::of::<T>())
            .or_insert_with(|| Arc::new(T::default()))
            .clone();
        // Stored under T's own TypeId, so the downcast always succeeds.
        held.downcast::<T>().unwrap_or_default()
    }
}

/// Settings fixed at start-up.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Demo mode shows a 「デモ環境」 banner on every page and the current code of demo accounts.
    pub demo: bool,
    /// The public URL (e.g. `https://tsunagu.example.lg.jp`): cookies are `Secure` when it is https,
    /// and it is an accepted `Origin`.
    pub public_url: Option<String>,
    pub session_idle_minutes: i64,
    pub session_absolute_hours: i64,
    pub break_glass_hours: i64,
    /// Days after which a directory entry not confirmed by its facility shows
    /// 「情報が古い可能性があります」.
    pub directory_stale_days: i64,
    /// The bearer token `/metrics` requires; without one, `/metrics` answers 404 (off).
    pub metrics_token: Option<String>,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            demo: false,
            public_url: None,
            session_idle_minutes: 30,
            session_absolute_hours: 12,
            break_glass_hours: 3,
            directory_stale_days: 90,
            metrics_token: None,
        }
    }
}

/// How long a session lasts: idle and absolute limits, from the settings.
#[derive(Debug, Clone, Copy)]
pub struct Lifetimes {
    pub idle: chrono::Duration,
    pub absolute: chrono::Duration,
}

impl Settings {
    pub fn lifetimes(&self) -> Lifetimes {
        Lifetimes {
            idle: chrono::Duration::minutes(self.session_idle_minutes),
            absolute: chrono::Duration::hours(self.session_absolute_hours),
        }
    }

    pub fn secure_cookies(&self) -> bool {
        self.public_url
            .as_deref()
            .is_some_and(|u| u.starts_with("https://"))
    }
}
