//! A copy of each prefecture's directory in memory, derived from the database and checked
//! against the prefecture's generation (bumped in every change's transaction) before each
//! use: matching a child and searching a prefecture weigh thousands of services without
//! reading them all again, and a second server instance simply builds its own copy.

use std::collections::HashMap;
use std::sync::Arc;

use super::repo::{self, ServiceDetail};
use crate::db::Db;

/// One prefecture's copy and the generation it was read at.
type Copy = (i64, Arc<Vec<ServiceDetail>>);

/// The copies, by two-digit prefecture code.
#[derive(Default)]
pub struct Cache {
    prefectures: tokio::sync::Mutex<HashMap<String, Copy>>,
}

impl Cache {
    /// The active services located in a prefecture, in kana order, as the database holds
    /// them now. A change committed while a copy is read makes the next call read again.
    pub async fn prefecture(
        &self,
        db: &Db,
        prefecture: &str,
    ) -> Result<Arc<Vec<ServiceDetail>>, sqlx::Error> {
        let generation = repo::generation(db, prefecture).await?;
        // Held while a stale copy is read again: one reader does it, the others wait.
        let mut copies = self.prefectures.lock().await;
        if let Some((held, copy)) = copies.get(prefecture)
            && *held == generation
        {
            return Ok(copy.clone());
        }
        let copy = Arc::new(repo::in_prefecture(db, prefecture).await?);
        copies.insert(prefecture.to_string(), (generation, copy.clone()));
        Ok(copy)
    }
}
