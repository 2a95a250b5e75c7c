//! What every handler can reach. No in-memory state that a second instance would miss:
//! everything that changes lives in the database.

use std::sync::Arc;

use tsunagu_core::clock::Clock;

use crate::db::Db;

#[derive(Clone)]
pub struct AppState {
    pub db: Db,
    pub clock: Arc<dyn Clock>,
    pub settings: Arc<Settings>,
}

/// Settings that shape the pages, fixed at start-up.
#[derive(Debug, Clone, Default)]
pub struct Settings {
    /// Demo mode shows a 「デモ環境」 banner on every page.
    pub demo: bool,
}
