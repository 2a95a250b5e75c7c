//! The hash chain: the canonical form of an entry, and the check of the whole log.
//!
//! # Canonical form (format `tsunagu-audit-v1`)
//!
//! `hash = lowercase hex of SHA-256 over the UTF-8 bytes of` the compact JSON array
//!
//! ```text
//! ["tsunagu-audit-v1", seq, at, actor_account_id, actor_organisation_id, action, outcome,
//!  resource_type, resource_id, child_id, fields, detail, client_addr, user_agent, prev_hash]
//! ```
//!
//! with the values exactly as stored: `seq` and `at` (Unix ms UTC) as JSON integers, the
//! nullable columns as `null` or a string, `fields` as the stored TEXT (itself a JSON array,
//! embedded here as a string), everything else as strings. No whitespace; strings escape only
//! `"`, `\` and U+0000–U+001F (`\b \f \n \r \t`, the rest as `\u00xx` lowercase) and keep
//! every other character as raw UTF-8. Python reproduces it with
//! `json.dumps(row, ensure_ascii=False, separators=(",", ":"))`. The leading tag lets a
//! future format coexist with this one.

use std::fmt;

use serde_json::Value;
use sha2::{Digest, Sha256};
use sqlx::Row;
use sqlx::any::AnyRow;

use crate::db::Db;

pub const FORMAT_TAG: &str = "tsunagu-audit-v1";

/// The hash of the (empty) chain before entry 1, as the migration seeds `audit_head`.
pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// Rows read per query while verifying: the log may hold millions of entries.
const PAGE: i64 = 5000;

/// The stored columns of one entry, except `hash`.
pub(crate) struct Columns<'a> {
    pub seq: i64,
    pub at: i64,
    pub actor_account_id: Option<&'a str>,
    pub actor_organisation_id: Option<&'a str>,
    pub action: &'a str,
    pub outcome: &'a str,
    pub resource_type: Option<&'a str>,
    pub resource_id: Option<&'a str>,
    pub child_id: Option<&'a str>,
    pub fields: &'a str,
    pub detail: &'a str,
    pub client_addr: &'a str,
    pub user_agent: &'a str,
    pub prev_hash: &'a str,
}

pub(crate) fn canonical(c: &Columns<'_>) -> String {
    let opt = |v: Option<&str>| v.map_or(Value::Null, |s| Value::String(s.to_owned()));
    let text = |s: &str| Value::String(s.to_owned());
    Value::Array(vec![
        text(FORMAT_TAG),
        Value::from(c.seq),
        Value::from(c.at),
        opt(c.actor_account_id),
        opt(c.actor_organisation_id),
        text(c.action),
        text(c.outcome),
        opt(c.resource_type),
        opt(c.resource_id),
        opt(c.child_id),
        text(c.fields),
        text(c.detail),
        text(c.client_addr),
        text(c.user_agent),
        text(c.prev_hash),
    ])
    .to_string()
}

pub(crate) fn entry_hash(c: &Columns<'_>) -> String {
    format!("{:x}", Sha256::digest(canonical(c).as_bytes()))
}

/// What is wrong with the chain, found at entry `seq`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainProblem {
    pub seq: i64,
    pub kind: ProblemKind,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProblemKind {
    /// The entry's columns no longer produce its hash: its content was changed.
    HashMismatch,
    /// The entry's own hash is consistent, but its `prev_hash` is not the previous
    /// entry's hash: the entry (or the one before) was rewritten or replaced.
    BrokenLink,
    /// Entry `expected_seq` is absent; `seq` is the entry found in its place.
    MissingEntry { expected_seq: i64 },
    /// `audit_head` (its last seq and hash, reported as `seq`) disagrees with the last
    /// entry: the newest entries were deleted, or entries were appended behind its back.
    HeadMismatch,
}

impl fmt::Display for ChainProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let seq = self.seq;
        match self.kind {
            ProblemKind::HashMismatch => write!(
                f,
                "監査ログ #{seq} の内容が改ざんされています / audit entry {seq} was altered"
            ),
            ProblemKind::BrokenLink => write!(
                f,
                "監査ログ #{seq} が直前の記録とつながっていません（書き換えまたは差し替え）/ \
                 audit entry {seq} does not link to the previous entry (rewritten or replaced)"
            ),
            ProblemKind::MissingEntry { expected_seq } => write!(
                f,
                "監査ログ #{expected_seq} が削除されています（次に見つかった記録は #{seq}）/ \
                 audit entry {expected_seq} is missing (next entry found: {seq})"
            ),
            ProblemKind::HeadMismatch => write!(
                f,
                "監査ログの最新記録 #{seq} が管理情報と一致しません。最新の記録が削除された可能性があります / \
                 the audit head (entry {seq}) disagrees with the last entry: the newest entries may have been deleted"
            ),
        }
    }
}

impl std::error::Error for ChainProblem {}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifyReport {
    /// Entries checked: all of them when the chain is intact, else those read up to and
    /// including the first problem.
    pub entries: i64,
    pub first_problem: Option<ChainProblem>,
}

struct ChainRow {
    seq: i64,
    at: i64,
    actor_account_id: Option<String>,
    actor_organisation_id: Option<String>,
    action: String,
    outcome: String,
    resource_type: Option<String>,
    resource_id: Option<String>,
    child_id: Option<String>,
    fields: String,
    detail: String,
    client_addr: String,
    user_agent: String,
    prev_hash: String,
    hash: String,
}

impl ChainRow {
    fn from_row(row: &AnyRow) -> Result<Self, sqlx::Error> {
        Ok(Self {
            seq: row.try_get("seq")?,
            at: row.try_get("at")?,
            actor_account_id: row.try_get("actor_account_id")?,
            actor_organisation_id: row.try_get("actor_organisation_id")?,
            action: row.try_get("action")?,
            outcome: row.try_get("outcome")?,
            resource_type: row.try_get("resource_type")?,
            resource_id: row.try_get("resource_id")?,
            child_id: row.try_get("child_id")?,
            fields: row.try_get("fields")?,
            detail: row.try_get("detail")?,
            client_addr: row.try_get("client_addr")?,
            user_agent: row.try_get("user_agent")?,
            prev_hash: row.try_get("prev_hash")?,
            hash: row.try_get("hash")?,
        })
    }

    fn computed_hash(&self) -> String {
        entry_hash(&Columns {
            seq: self.seq,
            at: self.at,
            actor_account_id: self.actor_account_id.as_deref(),
            actor_organisation_id: self.actor_organisation_id.as_deref(),
            action: &self.action,
            outcome: &self.outcome,
            resource_type: self.resource_type.as_deref(),
            resource_id: self.resource_id.as_deref(),
            child_id: self.child_id.as_deref(),
            fields: &self.fields,
            detail: &self.detail,
            client_addr: &self.client_addr,
            user_agent: &self.user_agent,
            prev_hash: &self.prev_hash,
        })
    }
}

/// Where the walk has got to.
struct Walker {
    last_seq: i64,
    last_hash: String,
    entries: i64,
}

impl Walker {
    /// The content is checked before the link, so an entry edited in place reports
    /// `HashMismatch` at that entry, and one rewritten with a recomputed hash reports
    /// `BrokenLink` (at itself if its prev_hash was forged, else at the next entry).
    fn check(&mut self, row: &ChainRow) -> Option<ChainProblem> {
        self.entries += 1;
        let expected_seq = self.last_seq + 1;
        let problem = |kind| Some(ChainProblem { seq: row.seq, kind });
        if row.seq > expected_seq {
            return problem(ProblemKind::MissingEntry { expected_seq });
        }
        if row.seq < expected_seq {
            // Only a row with seq ≤ 0 gets here: it cannot belong to the chain.
            return problem(ProblemKind::BrokenLink);
        }
        if row.computed_hash() != row.hash {
            return problem(ProblemKind::HashMismatch);
        }
        if row.prev_hash != self.last_hash {
            return problem(ProblemKind::BrokenLink);
        }
        self.last_seq = row.seq;
        self.last_hash.clone_from(&row.hash);
        None
    }

    /// Walks the entries with `last_seq < seq <= upto`, page by page.
    async fn walk(
        &mut self,
        db: &Db,
        upto: i64,
        page: i64,
    ) -> Result<Option<ChainProblem>, sqlx::Error> {
        // Rows at or below zero are read too (the cursor starts at i64::MIN) so that a
        // forged entry 0 is reported rather than skipped.
        let mut cursor = if self.last_seq == 0 {
            i64::MIN
        } else {
            self.last_seq
        };
        loop {
            let rows = sqlx::query(
                "SELECT seq, at, actor_account_id, actor_organisation_id, action, outcome, \
                 resource_type, resource_id, child_id, fields, detail, client_addr, user_agent, \
                 prev_hash, hash FROM audit_log WHERE seq > $1 AND seq <= $2 ORDER BY seq LIMIT $3",
            )
            .bind(cursor)
            .bind(upto)
            .bind(page)
            .fetch_all(db.pool())
            .await?;
            for row in &rows {
                let row = ChainRow::from_row(row)?;
                cursor = row.seq;
                if let Some(problem) = self.check(&row) {
                    return Ok(Some(problem));
                }
            }
            if (rows.len() as i64) < page {
                return Ok(None);
            }
        }
    }
}

async fn read_head(db: &Db) -> Result<(i64, String), sqlx::Error> {
    let row = sqlx::query("SELECT last_seq, last_hash FROM audit_head WHERE id = 1")
        .fetch_one(db.pool())
        .await?;
    Ok((row.try_get("last_seq")?, row.try_get("last_hash")?))
}

/// Walks the whole chain in seq order, stopping at the first problem.
///
/// Needs no long transaction while writers keep appending: the entries are walked to the
/// end first and the head is read after. Entries and head commit together and the head
/// only grows, so a head ahead of the walk means entries committed meanwhile (read them
/// too, up to the head) or deleted (reported), and a head behind the walk is tampering.
pub async fn verify(db: &Db) -> Result<VerifyReport, sqlx::Error> {
    verify_in_pages(db, PAGE).await
}

/// [`verify`] with a chosen page size, so tests can cross page boundaries cheaply.
pub(crate) async fn verify_in_pages(db: &Db, page: i64) -> Result<VerifyReport, sqlx::Error> {
    let mut walker = Walker {
        last_seq: 0,
        last_hash: GENESIS_HASH.to_owned(),
        entries: 0,
    };
    let report = |walker: &Walker, first_problem| VerifyReport {
        entries: walker.entries,
        first_problem,
    };
    if let Some(problem) = walker.walk(db, i64::MAX, page).await? {
        return Ok(report(&walker, Some(problem)));
    }
    let (head_seq, head_hash) = read_head(db).await?;
    if head_seq > walker.last_seq
        && let Some(problem) = walker.walk(db, head_seq, page).await?
    {
        return Ok(report(&walker, Some(problem)));
    }
    let problem =
        (walker.last_seq != head_seq || walker.last_hash != head_hash).then_some(ChainProblem {
            seq: head_seq,
            kind: ProblemKind::HeadMismatch,
        });
    Ok(report(&walker, problem))
}

/// `tsunagu audit verify`: the line to print, as Ok when the chain is intact.
pub async fn verify_command(db: &Db) -> Result<String, String> {
    match verify(db).await {
        Ok(VerifyReport {
            entries,
            first_problem: None,
        }) => Ok(format!(
            "監査ログ {} 件の連鎖を確認しました。改ざんはありません / audit chain of {entries} entries verified",
            grouped(entries)
        )),
        Ok(VerifyReport {
            first_problem: Some(problem),
            ..
        }) => Err(problem.to_string()),
        Err(err) => Err(format!(
            "監査ログを読み出せませんでした / could not read the audit log: {err}"
        )),
    }
}

/// A head of the chain written outside the database: when, the sequence number and the
/// hash of the entry there. One line each, `2026-12-07T17:00:00Z<TAB>1234<TAB>hex`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checkpoint {
    pub at: String,
    pub seq: i64,
    pub hash: String,
}

impl Checkpoint {
    pub fn line(&self) -> String {
        format!("{}\t{}\t{}", self.at, self.seq, self.hash)
    }
}

/// The chain's head now, as a checkpoint (`seq` 0 before the first entry).
pub async fn checkpoint(
    db: &Db,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<Checkpoint, sqlx::Error> {
    let (seq, hash) = read_head(db).await?;
    Ok(Checkpoint {
        at: now.format("%Y-%m-%dT%H:%M:%SZ").to_string(),
        seq,
        hash,
    })
}

/// Reads a checkpoint file; a line that is not a checkpoint is an error naming it (blank
/// lines and `#` comments are skipped: the file may be annotated by hand).
pub fn parse_checkpoints(text: &str) -> Result<Vec<Checkpoint>, String> {
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let parts: Vec<&str> = line.split('\t').collect();
        let parsed = match parts.as_slice() {
            [at, seq, hash] if hash.len() == 64 && hash.chars().all(|c| c.is_ascii_hexdigit()) => {
                seq.parse::<i64>().ok().map(|seq| Checkpoint {
                    at: (*at).to_string(),
                    seq,
                    hash: hash.to_ascii_lowercase(),
                })
            }
            _ => None,
        };
        match parsed {
            Some(c) => out.push(c),
            None => {
                return Err(format!(
                    "チェックポイントの{}行目を読めません（時刻、連番、ハッシュをタブで区切った行） / checkpoint line {} is not `time<TAB>seq<TAB>hash`",
                    i + 1,
                    i + 1
                ));
            }
        }
    }
    Ok(out)
}

/// Whether the chain still holds every recorded head: the entry at each checkpoint's
/// sequence number must exist with that hash. A chain rewritten with recomputed hashes
/// passes [`verify`] but not this. Ok with how many were checked, or the first that fails.
pub async fn check_checkpoints(
    db: &Db,
    checkpoints: &[Checkpoint],
) -> Result<Result<usize, String>, sqlx::Error> {
    for c in checkpoints {
        if c.seq == 0 {
            continue; // recorded before the first entry: nothing to hold
        }
        let row = sqlx::query("SELECT hash FROM audit_log WHERE seq = $1")
            .bind(c.seq)
            .fetch_optional(db.pool())
            .await?;
        let found: Option<String> = row.map(|r| r.try_get("hash")).transpose()?;
        let problem = match found {
            None => Some("その連番の記録がありません（削除されています）"),
            Some(hash) if hash != c.hash => {
                Some("記録のハッシュが一致しません（連鎖が書き換えられています）")
            }
            Some(_) => None,
        };
        if let Some(problem) = problem {
            return Ok(Err(format!(
                "監査ログがチェックポイント（{}、連番 {}）と一致しません: {problem} / the audit chain no longer holds the head recorded at {} (seq {})",
                c.at, c.seq, c.at, c.seq
            )));
        }
    }
    Ok(Ok(checkpoints.len()))
}

/// Appends the head now to the checkpoint file and returns the line (also for a paper log).
pub async fn write_checkpoint(
    db: &Db,
    file: &std::path::Path,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<String, String> {
    use tokio::io::AsyncWriteExt;
    let checkpoint = checkpoint(db, now).await.map_err(|e| {
        format!("監査ログを読み出せませんでした / could not read the audit head: {e}")
    })?;
    let line = checkpoint.line();
    let mut out = tokio::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(file)
        .await
        .map_err(|e| {
            format!(
                "チェックポイントのファイルに書き込めません / cannot append to {}: {e}",
                file.display()
            )
        })?;
    out.write_all(format!("{line}\n").as_bytes())
        .await
        .and(out.sync_all().await)
        .map_err(|e| {
            format!(
                "チェックポイントのファイルに書き込めません / cannot append to {}: {e}",
                file.display()
            )
        })?;
    Ok(line)
}

/// 1234567 → "1,234,567".
fn grouped(n: i64) -> String {
    let digits = n.unsigned_abs().to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3 + 1);
    if n < 0 {
        out.push('-');
    }
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_grouped_by_thousands() {
        assert_eq!(grouped(0), "0");
        assert_eq!(grouped(999), "999");
        assert_eq!(grouped(1234), "1,234");
        assert_eq!(grouped(1_234_567), "1,234,567");
    }

    #[test]
    fn canonical_form_is_the_documented_json() {
        let c = Columns {
            seq: 7,
            at: 1_790_000_000_000,
            actor_account_id: Some("acc"),
            actor_organisation_id: None,
            action: "update",
            outcome: "allowed",
            resource_type: Some("child"),
            resource_id: Some("c-1"),
            child_id: Some("c-1"),
            fields: r#"["name","birth_date"]"#,
            detail: "理由\n\"引用\"\u{1}",
            client_addr: "127.0.0.1",
            user_agent: "UA",
            prev_hash: GENESIS_HASH,
        };
        assert_eq!(
            canonical(&c),
            format!(
                r#"["tsunagu-audit-v1",7,1790000000000,"acc",null,"update","allowed","child","c-1","c-1","[\"name\",\"birth_date\"]","理由\n\"引用\"\u0001","127.0.0.1","UA","{GENESIS_HASH}"]"#
            )
        );
        let hash = entry_hash(&c);
        assert_eq!(hash.len(), 64);
        assert!(
            hash.bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        );
    }

    #[test]
    fn problems_read_in_both_languages() {
        let p = ChainProblem {
            seq: 42,
            kind: ProblemKind::HashMismatch,
        };
        assert_eq!(
            p.to_string(),
            "監査ログ #42 の内容が改ざんされています / audit entry 42 was altered"
        );
        let gap = ChainProblem {
            seq: 6,
            kind: ProblemKind::MissingEntry { expected_seq: 5 },
        };
        assert!(gap.to_string().contains("#5") && gap.to_string().contains("entry 5"));
    }
}
