//! Consents by purpose (APPI: 要配慮個人情報 is shared only with consent). The policy reads
//! the active ones through `repo::get` and the list query, so a withdrawal closes the
//! record to that department or organisation on the next request, on every page and API.

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};
use tsunagu_core::access::{Department, department_key};
use tsunagu_core::ids::{AccountId, ChildId, ConsentId, OrganisationId};
use tsunagu_core::municipality::MunicipalityCode;

use crate::db::{Db, codec};

/// The one statement of "a consent in force": not withdrawn and not expired on the day
/// bound right after this text (which the caller closes with `)`). `$p` is the table's
/// alias with its dot, or "". Used by the child's reach, the lists and [`active`];
/// [`Consent::is_active`] says the same for a consent already read.
macro_rules! consent_in_force {
    ($p:literal) => {
        concat!(
            $p,
            "withdrawn_at IS NULL AND (",
            $p,
            "expires_on IS NULL OR ",
            $p,
            "expires_on >= "
        )
    };
}
pub(crate) use consent_in_force;

/// The rows of who else reaches child `$1` on day `$2`, for the child's one statement
/// (`children::repo::get`): organisations it is shared with, consents in force and its
/// family's accounts, each as `who, department, recipient`, then `$pad` (the child
/// columns' width), then the kind. A department consent is returned with its recipient key,
/// which the caller matches with the child's own town.
macro_rules! reach_rows {
    ($($pad:tt)*) => {
        concat!(
            " UNION ALL SELECT organisation_id, NULL, '', ", $($pad)*,
            "'share' FROM child_shares WHERE child_id = $1",
            " UNION ALL SELECT organisation_id, department, recipient, ", $($pad)*,
            "'consent' FROM child_consents WHERE child_id = $1 AND ",
            $crate::features::consent::consent_in_force!(""), "$2)",
            " UNION ALL SELECT account_id, NULL, '', ", $($pad)*,
            "'guardian' FROM child_guardians WHERE child_id = $1"
        )
    };
}
pub(crate) use reach_rows;

/// A list's branch of children shared with organisations: `FROM … WHERE s.organisation_id
/// IN ` and the caller's list of organisations (children as `c`).
macro_rules! reach_by_share {
    () => {
        " FROM child_shares s JOIN children c ON c.id = s.child_id WHERE s.organisation_id IN "
    };
}
pub(crate) use reach_by_share;

/// A list's branch of children reached by consent: `… WHERE k.recipient IN ` and the
/// caller's recipients, then [`consent_in_force`] and [`of_the_childs_town`].
macro_rules! reach_by_consent {
    () => {
        " FROM child_consents k JOIN children c ON c.id = k.child_id WHERE k.recipient IN "
    };
}
pub(crate) use reach_by_consent;

/// A list's branch of the family's children: `… WHERE g.account_id = ` and the account.
macro_rules! reach_by_guardian {
    () => {
        " FROM child_guardians g JOIN children c ON c.id = g.child_id WHERE g.account_id = "
    };
}
pub(crate) use reach_by_guardian;

/// A department consent belongs to the town the child lived in when it was given (its
/// recipient key, `NNNNNN:department`, starts with that town's code), as the one record's
/// reach decides. Reads the recipient only (it is in the index); an organisation's id never
/// has `:` as its seventh character.
macro_rules! of_the_childs_town {
    () => {
        " AND (substr(k.recipient, 7, 1) <> ':' OR substr(k.recipient, 1, 6) = c.municipality_code)"
    };
}
pub(crate) use of_the_childs_town;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Purpose {
    Registry,
    Department,
    Organisation,
    DisasterPlan,
    Mentor,
}

impl Purpose {
    pub const ALL: [Purpose; 5] = [
        Purpose::Registry,
        Purpose::Department,
        Purpose::Organisation,
        Purpose::DisasterPlan,
        Purpose::Mentor,
    ];

    pub fn code(self) -> &'static str {
        match self {
            Purpose::Registry => "registry",
            Purpose::Department => "department",
            Purpose::Organisation => "organisation",
            Purpose::DisasterPlan => "disaster_plan",
            Purpose::Mentor => "mentor",
        }
    }

    pub fn parse(code: &str) -> Option<Purpose> {
        Purpose::ALL.into_iter().find(|p| p.code() == code)
    }

    pub fn label_ja(self) -> &'static str {
        match self {
            Purpose::Registry => "名簿への登録（実態把握）",
            Purpose::Department => "市区町村の担当課との共有",
            Purpose::Organisation => "外部機関との共有",
            Purpose::DisasterPlan => "個別避難計画での共有",
            Purpose::Mentor => "ペアレントメンター事業",
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Consent {
    pub id: ConsentId,
    pub child_id: ChildId,
    pub purpose: Purpose,
    pub department: Option<Department>,
    pub organisation_id: Option<OrganisationId>,
    pub organisation_name: Option<String>,
    pub recipient: String,
    pub given_on: NaiveDate,
    pub method: String,
    pub recorded_by_name: String,
    pub recorded_at: DateTime<Utc>,
    pub expires_on: Option<NaiveDate>,
    pub withdrawn_at: Option<DateTime<Utc>>,
    pub withdrawn_by_name: Option<String>,
    pub end_reason: String,
}

impl Consent {
    /// What the consent covers, in words: 「保育との共有」「ひだまり保育園との共有」.
    pub fn scope_ja(&self) -> String {
        match (self.purpose, self.department, &self.organisation_name) {
            (Purpose::Department, Some(d), _) => {
                format!("{}（{}課）", self.purpose.label_ja(), d.label_ja())
            }
            (Purpose::Organisation, _, Some(name)) => {
                format!("{}（{name}）", self.purpose.label_ja())
            }
            (p, _, _) => p.label_ja().to_string(),
        }
    }

    pub fn method_ja(&self) -> &'static str {
        if self.method == "online" {
            "オンライン"
        } else {
            "書面"
        }
    }

    pub fn is_active(&self, today: NaiveDate) -> bool {
        self.withdrawn_at.is_none() && self.expires_on.is_none_or(|e| e >= today)
    }

    /// 有効 / 撤回 / 期限切れ.
    pub fn state_ja(&self, today: NaiveDate) -> &'static str {
        if self.withdrawn_at.is_some() {
            "撤回・終了"
        } else if self.is_active(today) {
            "有効"
        } else {
            "期限切れ"
        }
    }
}

macro_rules! select_consent {
    ($($tail:tt)+) => {
        concat!(
            "SELECT k.id, k.child_id, k.purpose, k.department, k.organisation_id, o.name AS organisation_name, ",
            "k.recipient, k.given_on, k.method, r.display_name AS recorded_by_name, k.recorded_at, k.expires_on, ",
            "k.withdrawn_at, w.display_name AS withdrawn_by_name, k.end_reason ",
            "FROM child_consents k LEFT JOIN organisations o ON o.id = k.organisation_id ",
            "JOIN accounts r ON r.id = k.recorded_by LEFT JOIN accounts w ON w.id = k.withdrawn_by ",
            $($tail)+
        )
    };
}

fn optional_date(row: &AnyRow, column: &str) -> Result<Option<NaiveDate>, sqlx::Error> {
    let text: Option<String> = row.try_get(column)?;
    text.map(|t| {
        NaiveDate::parse_from_str(&t, "%Y-%m-%d").map_err(|e| sqlx::Error::ColumnDecode {
            index: column.to_string(),
            source: Box::new(e),
        })
    })
    .transpose()
}

fn from_row(row: &AnyRow) -> Result<Consent, sqlx::Error> {
    let purpose: String = row.try_get("purpose")?;
    let department: Option<String> = row.try_get("department")?;
    let withdrawn_at: Option<i64> = row.try_get("withdrawn_at")?;
    Ok(Consent {
        id: ConsentId::from_stored(row.try_get("id")?),
        child_id: ChildId::from_stored(row.try_get("child_id")?),
        purpose: Purpose::parse(&purpose).ok_or_else(|| sqlx::Error::ColumnDecode {
            index: "purpose".into(),
            source: format!("unknown purpose {purpose}").into(),
        })?,
        department: department.as_deref().and_then(Department::parse),
        organisation_id: row
            .try_get::<Option<String>, _>("organisation_id")?
            .map(OrganisationId::from_stored),
        organisation_name: row.try_get("organisation_name")?,
        recipient: row.try_get("recipient")?,
        given_on: codec::get_date(row, "given_on")?,
        method: row.try_get("method")?,
        recorded_by_name: row.try_get("recorded_by_name")?,
        recorded_at: codec::get_instant(row, "recorded_at")?,
        expires_on: optional_date(row, "expires_on")?,
        withdrawn_at: withdrawn_at.and_then(DateTime::from_timestamp_millis),
        withdrawn_by_name: row.try_get("withdrawn_by_name")?,
        end_reason: row.try_get("end_reason")?,
    })
}

/// Every consent of the child, newest first.
pub async fn for_child(
    conn: &mut AnyConnection,
    child_id: &ChildId,
) -> Result<Vec<Consent>, sqlx::Error> {
    let rows = sqlx::query(select_consent!(
        "WHERE k.child_id = $1 ORDER BY k.recorded_at DESC, k.id"
    ))
    .bind(child_id.as_str())
    .fetch_all(conn)
    .await?;
    rows.iter().map(from_row).collect()
}

/// The consents in force on `today`.
pub async fn active(
    db: &Db,
    child_id: &ChildId,
    today: NaiveDate,
) -> Result<Vec<Consent>, sqlx::Error> {
    let rows = sqlx::query(select_consent!(
        "WHERE k.child_id = $1 AND ",
        consent_in_force!("k."),
        "$2) ",
        "ORDER BY k.recorded_at, k.id"
    ))
    .bind(child_id.as_str())
    .bind(codec::date_to_db(today))
    .fetch_all(db.pool())
    .await?;
    rows.iter().map(from_row).collect()
}

/// A consent as recorded: what, for whom, how and until when.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewConsent {
    pub purpose: Purpose,
    pub department: Option<Department>,
    pub organisation_id: Option<OrganisationId>,
    pub given_on: NaiveDate,
    pub method: String,
    pub expires_on: Option<NaiveDate>,
}

pub async fn record(
    conn: &mut AnyConnection,
    id: &ConsentId,
    child_id: &ChildId,
    municipality: &MunicipalityCode,
    new: &NewConsent,
    recorded_by: &AccountId,
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    let recipient = match (&new.organisation_id, new.department) {
        (Some(org), _) => org.to_string(),
        (None, Some(d)) => department_key(municipality, d),
        (None, None) => String::new(),
    };
    sqlx::query(
        "INSERT INTO child_consents (id, child_id, purpose, department, organisation_id, recipient, given_on, \
         method, recorded_by, recorded_at, expires_on) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
    )
    .bind(id.as_str())
    .bind(child_id.as_str())
    .bind(new.purpose.code())
    .bind(new.department.map(Department::as_str))
    .bind(new.organisation_id.as_ref().map(OrganisationId::as_str))
    .bind(recipient)
    .bind(codec::date_to_db(new.given_on))
    .bind(&new.method)
    .bind(recorded_by.as_str())
    .bind(codec::instant_to_db(now))
    .bind(new.expires_on.map(codec::date_to_db))
    .execute(conn)
    .await?;
    Ok(())
}

/// Ends a consent now. False when there was no such active consent of this child.
pub async fn withdraw(
    conn: &mut AnyConnection,
    child_id: &ChildId,
    consent_id: &ConsentId,
    by: &AccountId,
    reason: &str,
    now: DateTime<Utc>,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "UPDATE child_consents SET withdrawn_at = $1, withdrawn_by = $2, end_reason = $3 \
         WHERE id = $4 AND child_id = $5 AND withdrawn_at IS NULL",
    )
    .bind(codec::instant_to_db(now))
    .bind(by.as_str())
    .bind(reason)
    .bind(consent_id.as_str())
    .bind(child_id.as_str())
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Links an account of the family to the child (its record is then theirs to read);
/// `false` when it was linked already.
pub async fn add_guardian(
    conn: &mut AnyConnection,
    child_id: &ChildId,
    account_id: &AccountId,
    relation: &str,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "INSERT INTO child_guardians (child_id, account_id, relation) VALUES ($1, $2, $3) \
         ON CONFLICT (child_id, account_id) DO NOTHING",
    )
    .bind(child_id.as_str())
    .bind(account_id.as_str())
    .bind(relation)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Ends an account's link to the child: the family's access ends with the next request.
/// `false` when there was no such link.
pub async fn remove_guardian(
    conn: &mut AnyConnection,
    child_id: &ChildId,
    account_id: &AccountId,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query("DELETE FROM child_guardians WHERE child_id = $1 AND account_id = $2")
        .bind(child_id.as_str())
        .bind(account_id.as_str())
        .execute(conn)
        .await?;
    Ok(done.rows_affected() == 1)
}

/// A family account linked to a child.
#[derive(Debug, Clone)]
pub struct LinkedGuardian {
    pub account_id: AccountId,
    pub display_name: String,
    pub kana: String,
    pub login_id: String,
    pub relation: String,
    pub active: bool,
}

/// The family accounts linked to the child, by name.
pub async fn linked_guardians(
    conn: &mut AnyConnection,
    child_id: &ChildId,
) -> Result<Vec<LinkedGuardian>, sqlx::Error> {
    let rows = sqlx::query(
        "SELECT g.account_id, a.display_name, a.kana, a.login_id, g.relation, a.active \
         FROM child_guardians g JOIN accounts a ON a.id = g.account_id \
         WHERE g.child_id = $1 ORDER BY a.kana, a.id",
    )
    .bind(child_id.as_str())
    .fetch_all(conn)
    .await?;
    rows.iter()
        .map(|r| {
            Ok(LinkedGuardian {
                account_id: AccountId::from_stored(r.try_get("account_id")?),
                display_name: r.try_get("display_name")?,
                kana: r.try_get("kana")?,
                login_id: r.try_get("login_id")?,
                relation: r.try_get("relation")?,
                active: codec::get_flag(r, "active")?,
            })
        })
        .collect()
}

/// Shares the child with an organisation (a referral, a transfer).
pub async fn share(
    conn: &mut AnyConnection,
    child_id: &ChildId,
    organisation_id: &OrganisationId,
    basis: &str,
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO child_shares (child_id, organisation_id, basis, created_at) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (child_id, organisation_id) DO NOTHING",
    )
    .bind(child_id.as_str())
    .bind(organisation_id.as_str())
    .bind(basis)
    .bind(codec::instant_to_db(now))
    .execute(conn)
    .await?;
    Ok(())
}

/// Moves what reaches `from` to `to` (two records of one child merged): its consents, its
/// family's links and its shares. A link or share `to` has already is kept once.
pub async fn reassign(
    conn: &mut AnyConnection,
    from: &ChildId,
    to: &ChildId,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE child_consents SET child_id = $1 WHERE child_id = $2")
        .bind(to.as_str())
        .bind(from.as_str())
        .execute(&mut *conn)
        .await?;
    for (copy, remove) in [
        (
            "INSERT INTO child_guardians (child_id, account_id, relation) \
             SELECT $1, account_id, relation FROM child_guardians WHERE child_id = $2 \
             ON CONFLICT (child_id, account_id) DO NOTHING",
            "DELETE FROM child_guardians WHERE child_id = $1",
        ),
        (
            "INSERT INTO child_shares (child_id, organisation_id, basis, created_at) \
             SELECT $1, organisation_id, basis, created_at FROM child_shares WHERE child_id = $2 \
             ON CONFLICT (child_id, organisation_id) DO NOTHING",
            "DELETE FROM child_shares WHERE child_id = $1",
        ),
    ] {
        sqlx::query(copy)
            .bind(to.as_str())
            .bind(from.as_str())
            .execute(&mut *conn)
            .await?;
        sqlx::query(remove)
            .bind(from.as_str())
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}
