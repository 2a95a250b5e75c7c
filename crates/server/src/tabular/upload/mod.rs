//! What every import of a spreadsheet shares (the registry's children, the directory's
//! services): taking the one file of an upload form, reading it into a [`Table`] within the
//! import's limits, keeping it for the uploader between the column mapping, the dry run and
//! the commit ([`save`] … [`take`]), guessing which column goes where from its heading
//! ([`Target`]), reading the mapping sent back with a form and its own problems, and the
//! cells people write by hand ([`split_list`], [`care_named`]).
//!
//! An import keeps its own targets, row checks, pages and commit; what it writes is
//! validated by its feature's one validator.

mod cells;
mod repo;

use std::collections::{HashMap, HashSet};

use axum::extract::Multipart;
use axum::extract::multipart::MultipartRejection;
use axum::http::StatusCode;
use axum::http::request::Parts;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sqlx::AnyConnection;
use tsunagu_core::ids::AccountId;
use tsunagu_core::kana::search_key;

pub use cells::{care_named, care_short_name, fold, peel_group, split_list};
pub use repo::Committed;

use super::{Limits, ReadError, read_off_workers};
use crate::audit::{self, Action, Event, Outcome};
use crate::auth::guard::audit_context;
use crate::auth::session::CurrentSession;
use crate::db::Db;
use crate::error::{AppError, PageError};
use crate::state::AppState;

/// An uploaded file is kept this long for the mapping and the dry run.
pub const KEEP_HOURS: i64 = 24;
/// The largest file an import takes: 5 MB, within the upload routes' request limit of
/// `web::security` less room for the form around the file.
pub const MAX_FILE_BYTES: usize = {
    let wanted = 5 * 1024 * 1024;
    let room = crate::web::security::UPLOAD_LIMIT_BYTES - 64 * 1024;
    if wanted < room { wanted } else { room }
};

// ---------------------------------------------------------------------------------------
// The table
// ---------------------------------------------------------------------------------------

/// A file as a table of text: the heading row and the data rows with their row numbers in
/// the file (the heading is row 1).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Table {
    pub header: Vec<String>,
    pub rows: Vec<TableRow>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TableRow {
    pub line: usize,
    pub cells: Vec<String>,
}

/// Reads an uploaded file into a table, off the async workers, within `limits`. Errors are
/// in Japanese and name the limit; `empty` says what a file without a heading should hold.
pub async fn read_table(bytes: Vec<u8>, limits: Limits, empty: &str) -> Result<Table, String> {
    let grid = read_off_workers(bytes, limits)
        .await
        .map_err(|e| e.to_string())?;
    into_table(grid, empty)
}

/// The heading row and the data rows of a grid the reader has already held to its limits
/// (rows, columns) and cleared of empty rows.
pub fn into_table(grid: super::Grid, empty: &str) -> Result<Table, String> {
    let mut rows = grid.into_iter();
    let Some((_, header)) = rows.next() else {
        return Err(empty.to_string());
    };
    let header: Vec<String> = header.iter().map(|h| h.trim().to_string()).collect();
    let rows: Vec<TableRow> = rows.map(|(line, cells)| TableRow { line, cells }).collect();
    if rows.is_empty() {
        return Err("見出しの行のほかに、取り込む行がありません".into());
    }
    Ok(Table { header, rows })
}

// ---------------------------------------------------------------------------------------
// The upload form
// ---------------------------------------------------------------------------------------

/// The file name as sent, without folders, control or invisible characters (a
/// right-to-left override would show `gpj.csv` as `vsc.jpg`), at most 200 characters.
pub fn clean_filename(raw: &str) -> String {
    let base = raw.rsplit(['/', '\\']).next().unwrap_or("");
    base.chars()
        .filter(|&c| !tsunagu_core::text::is_hidden(c, false))
        .take(200)
        .collect()
}

/// The megabytes of a file limit, as the pages write them.
pub fn megabytes(bytes: usize) -> String {
    format!("{:.1}", bytes as f64 / (1024.0 * 1024.0))
}

/// Reads the one file (field `file`) of an upload form, at most `max_bytes`; the refusal's
/// status and Japanese message otherwise.
pub async fn read_upload(
    multipart: Result<Multipart, MultipartRejection>,
    max_bytes: usize,
) -> Result<(String, Vec<u8>), (StatusCode, String)> {
    let bad = |m: &str| (StatusCode::BAD_REQUEST, m.to_string());
    let too_large = || {
        (
            StatusCode::PAYLOAD_TOO_LARGE,
            format!(
                "ファイルが大きすぎます。{} MBまでのファイルにしてください（多い場合はファイルを分けてください）",
                megabytes(max_bytes)
            ),
        )
    };
    let no_file = "取り込むファイルを選んでください";
    let mut form = multipart.map_err(|_| bad(no_file))?;
    loop {
        let field = match form.next_field().await {
            Ok(Some(field)) => field,
            Ok(None) => return Err(bad(no_file)),
            Err(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => return Err(too_large()),
            Err(_) => return Err(bad(&ReadError::Unreadable.to_string())),
        };
        if field.name() != Some("file") {
            continue;
        }
        let filename = clean_filename(field.file_name().unwrap_or(""));
        let mut field = field;
        let mut bytes = Vec::new();
        loop {
            match field.chunk().await {
                Ok(Some(chunk)) => {
                    if bytes.len() + chunk.len() > max_bytes {
                        return Err(too_large());
                    }
                    bytes.extend_from_slice(&chunk);
                }
                Ok(None) => break,
                Err(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                    return Err(too_large());
                }
                Err(_) => return Err(bad(&ReadError::Unreadable.to_string())),
            }
        }
        if bytes.is_empty() {
            return Err(bad(no_file));
        }
        return Ok((filename, bytes));
    }
}

// ---------------------------------------------------------------------------------------
// Columns and where they go
// ---------------------------------------------------------------------------------------

/// One field a column can be mapped to: the key the feature's validator reads (or a list
/// cell's own key), the heading used in the template and exports, and other headings that
/// mean the same (compared after [`search_key`] folding).
pub struct Target {
    pub key: String,
    pub label: String,
    pub aliases: Vec<String>,
}

impl Target {
    pub fn new(key: &str, label: &str, aliases: &[&str]) -> Target {
        Target {
            key: key.into(),
            label: label.into(),
            aliases: aliases.iter().map(|a| a.to_string()).collect(),
        }
    }
}

/// The target of `key`.
pub fn target_of<'a>(targets: &'a [Target], key: &str) -> Option<&'a Target> {
    targets.iter().find(|t| t.key == key)
}

/// The target a heading most likely means, if any.
pub fn guess_target<'a>(targets: &'a [Target], heading: &str) -> Option<&'a Target> {
    let key = search_key(heading);
    if key.is_empty() {
        return None;
    }
    targets
        .iter()
        .find(|t| search_key(&t.label) == key || t.aliases.iter().any(|a| search_key(a) == key))
}

/// Each heading's guessed target ("" = not imported); a target goes to its first column.
pub fn guessed_columns(targets: &[Target], header: &[String]) -> Vec<String> {
    let mut used = HashSet::new();
    header
        .iter()
        .map(|h| match guess_target(targets, h) {
            Some(t) if used.insert(t.key.clone()) => t.key.clone(),
            _ => String::new(),
        })
        .collect()
}

/// The target of each of `width` columns as a mapping form sends them (`col_{i}`).
pub fn columns_from_form(form: &HashMap<String, String>, width: usize) -> Vec<String> {
    (0..width)
        .map(|i| form.get(&format!("col_{i}")).cloned().unwrap_or_default())
        .collect()
}

/// Problems of a mapping itself (they concern every row): a target not offered, two
/// columns on one target, a `required` target without a column.
pub fn mapping_problems(
    targets: &[Target],
    columns: &[String],
    header: &[String],
    required: &[&str],
) -> Vec<String> {
    let mut problems = Vec::new();
    let mut seen: HashMap<&str, usize> = HashMap::new();
    for (i, key) in columns.iter().enumerate() {
        if key.is_empty() {
            continue;
        }
        let Some(t) = target_of(targets, key) else {
            problems.push(format!("列{}の取り込み先が選択肢にありません", i + 1));
            continue;
        };
        if let Some(first) = seen.insert(key.as_str(), i) {
            problems.push(format!(
                "「{}」に2つの列（「{}」と「{}」）が割り当てられています。どちらか一方にしてください",
                t.label,
                header.get(first).map(String::as_str).unwrap_or(""),
                header.get(i).map(String::as_str).unwrap_or("")
            ));
        }
    }
    for required in required {
        if !seen.contains_key(required)
            && let Some(t) = target_of(targets, required)
        {
            problems.push(format!("「{}」の列を選んでください", t.label));
        }
    }
    problems
}

/// A column's samples for the mapping page: its first two filled cells, shortened.
pub fn samples(table: &Table, index: usize) -> String {
    table
        .rows
        .iter()
        .filter_map(|r| r.cells.get(index))
        .filter(|c| !c.trim().is_empty())
        .take(2)
        .map(|c| c.chars().take(30).collect::<String>())
        .collect::<Vec<_>>()
        .join(" ／ ")
}

// ---------------------------------------------------------------------------------------
// Keeping uploads
// ---------------------------------------------------------------------------------------

/// Which import an upload was sent to: it is mapped, checked and committed there only.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    Children,
    Services,
}

impl Purpose {
    pub fn as_str(self) -> &'static str {
        match self {
            Purpose::Children => "children",
            Purpose::Services => "services",
        }
    }

    /// The audit trail's resource type of an upload.
    pub fn resource_type(self) -> &'static str {
        match self {
            Purpose::Children => "child_import",
            Purpose::Services => "service_import",
        }
    }
}

/// An upload as an import reads it back.
pub struct Stored {
    pub id: String,
    pub filename: String,
    pub table: Table,
}

/// Drops uploads older than a day, then stores this one; returns its id.
pub async fn save(
    db: &Db,
    purpose: Purpose,
    account_id: &AccountId,
    filename: &str,
    table: &Table,
    now: DateTime<Utc>,
) -> Result<String, AppError> {
    let upload = repo::Upload {
        id: uuid::Uuid::new_v4().to_string(),
        filename: filename.to_string(),
        data: serde_json::to_string(table).map_err(|e| AppError::Internal(e.to_string()))?,
    };
    let cutoff = now - chrono::Duration::hours(KEEP_HOURS);
    repo::save(
        db,
        purpose.as_str(),
        &upload,
        account_id,
        table.rows.len(),
        now,
        cutoff,
    )
    .await?;
    Ok(upload.id)
}

/// Stores an upload for its uploader ([`save`]) and audits it; returns its id.
pub async fn keep(
    state: &AppState,
    current: &CurrentSession,
    parts: &Parts,
    purpose: Purpose,
    filename: &str,
    table: &Table,
) -> Result<String, AppError> {
    let now = state.clock.now();
    let id = save(
        &state.db,
        purpose,
        &current.account.id,
        filename,
        table,
        now,
    )
    .await?;
    let ctx = audit_context(parts, Some(current));
    let event = Event::new(Action::Import, Outcome::Allowed)
        .resource(purpose.resource_type(), &id)
        .detail(format!(
            "upload; file={filename}; rows={}",
            table.rows.len()
        ));
    audit::record_standalone(&state.db, &ctx, &event, now).await?;
    Ok(id)
}

/// The upload if it is this account's, for this import, uncommitted and not older than a day.
pub async fn load(
    db: &Db,
    purpose: Purpose,
    id: &str,
    account_id: &AccountId,
    now: DateTime<Utc>,
) -> Result<Option<Stored>, AppError> {
    let cutoff = now - chrono::Duration::hours(KEEP_HOURS);
    let Some(upload) = repo::load(db, purpose.as_str(), id, account_id, cutoff).await? else {
        return Ok(None);
    };
    let table: Table =
        serde_json::from_str(&upload.data).map_err(|e| AppError::Internal(e.to_string()))?;
    Ok(Some(Stored {
        id: upload.id,
        filename: upload.filename,
        table,
    }))
}

/// Marks the upload committed as the first write of the commit's transaction; false when it
/// was committed already or is gone (then the commit writes nothing).
pub async fn take(
    conn: &mut AnyConnection,
    purpose: Purpose,
    id: &str,
    account_id: &AccountId,
    now: DateTime<Utc>,
) -> Result<bool, sqlx::Error> {
    repo::take(conn, purpose.as_str(), id, account_id, now).await
}

/// Keeps what the commit created (JSON), in the commit's transaction.
pub async fn set_result(
    conn: &mut AnyConnection,
    id: &str,
    result: &str,
) -> Result<(), sqlx::Error> {
    repo::set_result(conn, id, result).await
}

/// The account's committed upload of this import, if `id` is one.
pub async fn committed(
    db: &Db,
    purpose: Purpose,
    id: &str,
    account_id: &AccountId,
) -> Result<Option<Committed>, sqlx::Error> {
    repo::committed(db, purpose.as_str(), id, account_id).await
}

/// Someone else's upload, an expired one, another import's and a made-up id look the same:
/// 404, audited.
pub async fn missing(
    state: &AppState,
    current: &CurrentSession,
    parts: &Parts,
    purpose: Purpose,
    id: &str,
) -> PageError {
    let ctx = audit_context(parts, Some(current));
    let event = Event::new(Action::Denied, Outcome::Denied)
        .resource(purpose.resource_type(), id)
        .detail("import");
    match audit::record_standalone(&state.db, &ctx, &event, state.clock.now()).await {
        Ok(_) => PageError(AppError::NotFound),
        Err(e) => PageError(e.into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_name_keeps_no_folder_and_nothing_invisible() {
        assert_eq!(clean_filename("C:\\共有\\児童.csv"), "児童.csv");
        // U+202E would show 「名簿\u{202E}vsc.exe」 as 「名簿exe.csv」.
        assert_eq!(clean_filename("名簿\u{202E}vsc.exe"), "名簿vsc.exe");
        assert_eq!(clean_filename("a\u{200B}b\u{0}c.csv"), "abc.csv");
        assert_eq!(clean_filename(&"あ".repeat(300)).chars().count(), 200);
    }

    #[test]
    fn a_mapping_names_its_own_problems() {
        let targets = [
            Target::new("name", "名称", &["名前"]),
            Target::new("kind", "種別", &[]),
        ];
        let header = vec!["名前".to_string(), "名称".to_string(), "メモ".to_string()];
        let columns = guessed_columns(&targets, &header);
        assert_eq!(columns, vec!["name", "", ""]);
        assert_eq!(
            mapping_problems(&targets, &columns, &header, &["name", "kind"]),
            vec!["「種別」の列を選んでください"]
        );
        let twice = vec!["name".to_string(), "name".to_string(), "nope".to_string()];
        let problems = mapping_problems(&targets, &twice, &header, &[]);
        assert_eq!(problems.len(), 2, "{problems:?}");
        assert!(problems[0].contains("「名前」と「名称」"), "{problems:?}");
        assert!(problems[1].contains("列3の取り込み先"), "{problems:?}");
    }

    #[test]
    fn an_empty_file_and_a_heading_alone_are_refused() {
        assert_eq!(into_table(Vec::new(), "空です"), Err("空です".to_string()));
        assert!(
            into_table(vec![(1, vec!["名称".into()])], "空です")
                .unwrap_err()
                .contains("取り込む行がありません")
        );
    }
}
