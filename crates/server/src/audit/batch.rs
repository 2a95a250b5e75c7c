//! Group commit for entries that have no change to commit with (reads, sign-ins, refusals).
//!
//! Every audited read used to be a write transaction of its own, and concurrent readers
//! queued on the chain's head one by one (docs/PERFORMANCE.md). Here each caller puts its
//! entry in a queue and waits for its turn; whoever gets the turn writes everything queued
//! so far in one transaction, and every caller returns only after the transaction that
//! holds its entry has committed. The chain order is the queue order.
//!
//! The write runs in a task of its own that holds the turn, so a request that is dropped
//! half-way (the client went away) cannot abandon other callers' entries.

use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};
use tokio::sync::oneshot;

use super::{Context, Event, append};
use crate::db::Db;

type Outcome = Result<i64, String>;

struct Pending {
    ctx: Context,
    event: Event,
    at: DateTime<Utc>,
    done: oneshot::Sender<Outcome>,
}

/// The entries waiting to be written and the turn to write them; one per [`Db`].
#[derive(Default)]
pub struct Queue {
    waiting: Mutex<Vec<Pending>>,
    turn: Arc<tokio::sync::Mutex<()>>,
    /// Transactions written so far (each holds one or more entries).
    transactions: std::sync::atomic::AtomicU64,
}

impl std::fmt::Debug for Queue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("audit::batch::Queue")
    }
}

impl Queue {
    fn push(&self, pending: Pending) {
        self.waiting
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .push(pending);
    }

    fn take_all(&self) -> Vec<Pending> {
        std::mem::take(
            &mut *self
                .waiting
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner()),
        )
    }
}

/// Queues the entry and returns its sequence number once it is committed.
pub async fn record(
    db: &Db,
    ctx: Context,
    event: Event,
    at: DateTime<Utc>,
) -> Result<i64, sqlx::Error> {
    let queue = db.shared::<Queue>();
    let (done, mut outcome) = oneshot::channel();
    queue.push(Pending {
        ctx,
        event,
        at,
        done,
    });
    let turn = queue.turn.clone().lock_owned().await;
    // The previous holder of the turn may have written this entry already; otherwise it is
    // still queued (only a holder of the turn empties the queue).
    let answer = match outcome.try_recv() {
        Ok(answer) => answer,
        Err(_) => {
            let batch = queue.take_all();
            let db = db.clone();
            let writer = tokio::spawn(async move {
                let _turn = turn;
                write(&db, batch).await;
            });
            // A panic in the writer drops the senders, which answers "not written".
            let _ = writer.await;
            outcome
                .try_recv()
                .unwrap_or_else(|_| Err("audit entry was not written".to_string()))
        }
    };
    answer.map_err(sqlx::Error::Protocol)
}

/// Writes a batch in one transaction and answers every caller in it.
async fn write(db: &Db, batch: Vec<Pending>) {
    if batch.is_empty() {
        return;
    }
    db.shared::<Queue>()
        .transactions
        .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let result = async {
        // On SQLite, writers queue here instead of in SQLite's busy handler.
        let _writer = db.sqlite_writer_turn().await;
        let entries: Vec<_> = batch.iter().map(|p| (&p.ctx, &p.event, p.at)).collect();
        let mut tx = db.pool().begin().await?;
        let seqs = append(&mut tx, &entries).await?;
        tx.commit().await?;
        Ok::<_, sqlx::Error>(seqs)
    }
    .await;
    match result {
        Ok(seqs) => {
            for (pending, seq) in batch.into_iter().zip(seqs) {
                let _ = pending.done.send(Ok(seq));
            }
        }
        Err(err) => {
            tracing::error!(error = %err, entries = batch.len(), "audit batch failed");
            let message = err.to_string();
            for pending in batch {
                let _ = pending.done.send(Err(message.clone()));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use chrono::TimeZone;

    use super::*;
    use crate::audit::{Action, Outcome, VerifyReport, verify};
    use crate::config::DatabaseUrl;

    /// Entries that queue while the turn is taken are written together by the next holder:
    /// 20 entries, more than one multi-row INSERT holds, in one append, in queue order.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn entries_queued_behind_a_writer_share_the_next_transaction()
    -> Result<(), Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        let url = DatabaseUrl::parse(&format!("sqlite://{}/a.db", dir.path().display()))?;
        let db = crate::open_database(&url, Some(2)).await?;
        let at = Utc.with_ymd_and_hms(2026, 11, 21, 3, 0, 0).unwrap();

        let held = db.shared::<Queue>().turn.clone().lock_owned().await;
        let mut tasks = Vec::new();
        for i in 0..20 {
            let db = db.clone();
            tasks.push(tokio::spawn(async move {
                let ctx = Context {
                    actor_account_id: Some(format!("a-{i}")),
                    ..Context::default()
                };
                let event = Event::new(Action::Read, Outcome::Allowed).child(format!("c-{i}"));
                record(&db, ctx, event, at).await
            }));
        }
        for _ in 0..500 {
            if db
                .shared::<Queue>()
                .waiting
                .lock()
                .map(|w| w.len())
                .unwrap_or(0)
                == 20
            {
                break;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        assert_eq!(
            db.shared::<Queue>()
                .waiting
                .lock()
                .map(|w| w.len())
                .unwrap_or(0),
            20
        );
        let written: i64 = sqlx::query("SELECT count(*) FROM audit_log")
            .fetch_one(db.pool())
            .await
            .map(|r| sqlx::Row::get(&r, 0))?;
        assert_eq!(written, 0, "nothing is written while the turn is held");

        drop(held);
        let mut seqs = Vec::new();
        for task in tasks {
            seqs.push(task.await??);
        }
        seqs.sort_unstable();
        assert_eq!(seqs, (1..=20).collect::<Vec<i64>>());
        assert!(
            db.shared::<Queue>()
                .waiting
                .lock()
                .map(|w| w.is_empty())
                .unwrap_or(false)
        );
        let transactions = db
            .shared::<Queue>()
            .transactions
            .load(std::sync::atomic::Ordering::Relaxed);
        assert_eq!(
            transactions, 1,
            "the 20 queued entries share one transaction"
        );
        assert_eq!(
            verify(&db).await?,
            VerifyReport {
                entries: 20,
                first_problem: None
            }
        );
        Ok(())
    }
}
