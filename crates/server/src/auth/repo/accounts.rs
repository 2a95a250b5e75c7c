//! The accounts, memberships and recovery-code tables.

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};
use tsunagu_core::access::{Department, Membership, Role};
use tsunagu_core::ids::{AccountId, OrganisationId};
use tsunagu_core::municipality::MunicipalityCode;

use crate::db::{Db, codec};

#[derive(Debug, Clone)]
pub struct Account {
    pub id: AccountId,
    pub login_id: String,
    pub display_name: String,
    pub kana: String,
    pub password_hash: String,
    pub must_change_password: bool,
    pub totp_secret: Option<String>,
    pub totp_enabled: bool,
    pub totp_last_step: Option<i64>,
    pub active: bool,
    pub failed_logins: i64,
    pub locked_until: Option<i64>,
    pub version: i64,
}

impl Account {
    pub fn is_locked(&self, now: DateTime<Utc>) -> bool {
        self.locked_until
            .is_some_and(|until| until > codec::instant_to_db(now))
    }
}

/// A membership with the organisation's name, for pages.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[schema(as = Membership)]
pub struct MembershipView {
    #[schema(value_type = String, format = "uuid")]
    pub organisation_id: OrganisationId,
    pub organisation_name: String,
    pub municipality_code: String,
    #[schema(schema_with = role_schema)]
    pub role: Role,
    #[schema(schema_with = department_schema)]
    pub department: Option<Department>,
}

fn role_schema() -> utoipa::openapi::Object {
    crate::web::api_schema::one_of(crate::web::api_schema::serde_codes(&Role::ALL), "役割")
}

fn department_schema() -> utoipa::openapi::Object {
    crate::web::api_schema::nullable(crate::web::api_schema::one_of(
        crate::web::api_schema::serde_codes(&Department::ALL),
        "市区町村の部署（市区町村の職員のとき）",
    ))
}

impl MembershipView {
    pub fn to_membership(&self) -> Option<Membership> {
        Some(Membership {
            organisation_id: self.organisation_id.clone(),
            municipality_code: MunicipalityCode::parse(&self.municipality_code).ok()?,
            role: self.role,
            department: self.department,
        })
    }
}

macro_rules! select_account {
    ($($tail:tt)+) => {
        concat!(
            "SELECT id, login_id, display_name, kana, password_hash, must_change_password, totp_secret, ",
            "totp_enabled, totp_last_step, active, failed_logins, locked_until, version FROM accounts ",
            $($tail)+
        )
    };
}

/// An account from a row carrying the columns of `select_account!` (also used by the
/// session lookup, which joins them).
pub(crate) fn from_row(row: &AnyRow) -> Result<Account, sqlx::Error> {
    Ok(Account {
        id: AccountId::from_stored(row.try_get("id")?),
        login_id: row.try_get("login_id")?,
        display_name: row.try_get("display_name")?,
        kana: row.try_get("kana")?,
        password_hash: row.try_get("password_hash")?,
        must_change_password: codec::get_flag(row, "must_change_password")?,
        totp_secret: row.try_get("totp_secret")?,
        totp_enabled: codec::get_flag(row, "totp_enabled")?,
        totp_last_step: row.try_get("totp_last_step")?,
        active: codec::get_flag(row, "active")?,
        failed_logins: row.try_get("failed_logins")?,
        locked_until: row.try_get("locked_until")?,
        version: row.try_get("version")?,
    })
}

pub async fn by_login_id(db: &Db, login_id: &str) -> Result<Option<Account>, sqlx::Error> {
    let folded = tsunagu_core::kana::fold_login_id(login_id);
    sqlx::query(select_account!("WHERE login_id = $1"))
        .bind(folded)
        .fetch_optional(db.pool())
        .await?
        .as_ref()
        .map(from_row)
        .transpose()
}

pub async fn by_id(
    conn: &mut AnyConnection,
    id: &AccountId,
) -> Result<Option<Account>, sqlx::Error> {
    sqlx::query(select_account!("WHERE id = $1"))
        .bind(id.as_str())
        .fetch_optional(conn)
        .await?
        .as_ref()
        .map(from_row)
        .transpose()
}

pub async fn memberships(
    conn: &mut AnyConnection,
    account_id: &AccountId,
) -> Result<Vec<MembershipView>, sqlx::Error> {
    let rows = sqlx::query(
        "SELECT m.organisation_id, o.name AS organisation_name, o.municipality_code, m.role, o.department \
         FROM memberships m JOIN organisations o ON o.id = m.organisation_id \
         WHERE m.account_id = $1 AND o.active = $2 ORDER BY o.kana, m.role",
    )
    .bind(account_id.as_str())
    .bind(true)
    .fetch_all(conn)
    .await?;
    rows.iter().map(membership_from_row).collect()
}

/// A membership from the columns `organisation_id`, `organisation_name`,
/// `municipality_code`, `role` and `department` (also read with the session).
pub fn membership_from_row(row: &AnyRow) -> Result<MembershipView, sqlx::Error> {
    let role: String = row.try_get("role")?;
    let department: Option<String> = row.try_get("department")?;
    Ok(MembershipView {
        organisation_id: OrganisationId::from_stored(row.try_get("organisation_id")?),
        organisation_name: row.try_get("organisation_name")?,
        municipality_code: row.try_get("municipality_code")?,
        role: Role::parse(&role).ok_or_else(|| decode_error("role"))?,
        department: department.as_deref().and_then(Department::parse),
    })
}

fn decode_error(column: &str) -> sqlx::Error {
    sqlx::Error::ColumnDecode {
        index: column.into(),
        source: "unknown value".into(),
    }
}

/// A new account with its first memberships; the password arrives already hashed.
/// What a login id may be, as people are told.
pub const LOGIN_ID_RULE: &str =
    "ログインIDは、半角の英小文字・数字と「.」「_」「-」で3〜64文字にしてください";

/// Login ids: after folding (NFKC, lower case), 3 to 64 of `a-z 0-9 . _ -`.
pub fn parse_login_id(raw: &str) -> Option<String> {
    let folded = tsunagu_core::kana::fold_login_id(raw);
    let len = folded.chars().count();
    ((3..=64).contains(&len)
        && folded
            .chars()
            .all(|c| matches!(c, 'a'..='z' | '0'..='9' | '.' | '_' | '-')))
    .then_some(folded)
}

pub fn login_taken_message(login_id: &str) -> String {
    format!("ログインID「{login_id}」はすでに使われています。別のIDを指定してください")
}

#[derive(Debug, Clone)]
pub struct NewAccount {
    pub login_id: String,
    pub display_name: String,
    pub kana: String,
    pub password_hash: String,
    pub must_change_password: bool,
    pub memberships: Vec<(OrganisationId, Role)>,
}

pub async fn create(
    conn: &mut AnyConnection,
    new: &NewAccount,
    now: DateTime<Utc>,
) -> Result<AccountId, sqlx::Error> {
    let id = AccountId::from_uuid(uuid::Uuid::new_v4());
    let at = codec::instant_to_db(now);
    sqlx::query(
        "INSERT INTO accounts (id, login_id, display_name, kana, password_hash, must_change_password, \
         totp_enabled, active, failed_logins, version, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 0, 1, $9, $9)",
    )
    .bind(id.as_str())
    .bind(tsunagu_core::kana::fold_login_id(&new.login_id))
    .bind(&new.display_name)
    .bind(&new.kana)
    .bind(&new.password_hash)
    .bind(new.must_change_password)
    .bind(false)
    .bind(true)
    .bind(at)
    .execute(&mut *conn)
    .await?;
    for (organisation_id, role) in &new.memberships {
        add_membership(conn, &id, organisation_id, *role, now).await?;
    }
    Ok(id)
}

pub async fn add_membership(
    conn: &mut AnyConnection,
    account_id: &AccountId,
    organisation_id: &OrganisationId,
    role: Role,
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO memberships (account_id, organisation_id, role, created_at) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (account_id, organisation_id, role) DO NOTHING",
    )
    .bind(account_id.as_str())
    .bind(organisation_id.as_str())
    .bind(role.as_str())
    .bind(codec::instant_to_db(now))
    .execute(conn)
    .await?;
    Ok(())
}

/// The active staff accounts of an organisation (its families excluded): whom the
/// organisation's notices reach.
pub async fn staff_of(
    conn: &mut AnyConnection,
    organisation_id: &OrganisationId,
) -> Result<Vec<AccountId>, sqlx::Error> {
    let rows = sqlx::query(
        "SELECT DISTINCT a.id FROM memberships m JOIN accounts a ON a.id = m.account_id \
         WHERE m.organisation_id = $1 AND m.role <> $2 AND a.active = $3 ORDER BY a.id",
    )
    .bind(organisation_id.as_str())
    .bind(Role::Guardian.as_str())
    .bind(true)
    .fetch_all(conn)
    .await?;
    rows.iter()
        .map(|r| r.try_get("id").map(AccountId::from_stored))
        .collect()
}

pub async fn remove_membership(
    conn: &mut AnyConnection,
    account_id: &AccountId,
    organisation_id: &OrganisationId,
    role: Role,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "DELETE FROM memberships WHERE account_id = $1 AND organisation_id = $2 AND role = $3",
    )
    .bind(account_id.as_str())
    .bind(organisation_id.as_str())
    .bind(role.as_str())
    .execute(conn)
    .await?;
    Ok(done.rows_affected() > 0)
}

/// Counts a failed sign-in; locks the account once `threshold` is reached. Returns true
/// when this failure locked it.
pub async fn record_failed_login(
    conn: &mut AnyConnection,
    account_id: &AccountId,
    threshold: i64,
    lock_until: DateTime<Utc>,
) -> Result<bool, sqlx::Error> {
    let row = sqlx::query(
        "UPDATE accounts SET failed_logins = failed_logins + 1 WHERE id = $1 RETURNING failed_logins",
    )
    .bind(account_id.as_str())
    .fetch_one(&mut *conn)
    .await?;
    let failures: i64 = row.try_get(0)?;
    if failures >= threshold {
        sqlx::query("UPDATE accounts SET locked_until = $1, failed_logins = 0 WHERE id = $2")
            .bind(codec::instant_to_db(lock_until))
            .bind(account_id.as_str())
            .execute(conn)
            .await?;
        return Ok(true);
    }
    Ok(false)
}

pub async fn clear_failed_logins(
    conn: &mut AnyConnection,
    account_id: &AccountId,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE accounts SET failed_logins = 0, locked_until = NULL WHERE id = $1")
        .bind(account_id.as_str())
        .execute(conn)
        .await?;
    Ok(())
}

pub async fn set_password(
    conn: &mut AnyConnection,
    account_id: &AccountId,
    password_hash: &str,
    must_change: bool,
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE accounts SET password_hash = $1, must_change_password = $2, updated_at = $3, version = version + 1 \
         WHERE id = $4",
    )
    .bind(password_hash)
    .bind(must_change)
    .bind(codec::instant_to_db(now))
    .bind(account_id.as_str())
    .execute(conn)
    .await?;
    Ok(())
}

/// Stores a secret that is not yet confirmed by a first code.
pub async fn set_pending_totp(
    conn: &mut AnyConnection,
    account_id: &AccountId,
    secret: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE accounts SET totp_secret = $1, totp_enabled = $2, totp_last_step = NULL WHERE id = $3")
        .bind(secret)
        .bind(false)
        .bind(account_id.as_str())
        .execute(conn)
        .await?;
    Ok(())
}

pub async fn enable_totp(
    conn: &mut AnyConnection,
    account_id: &AccountId,
    step: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE accounts SET totp_enabled = $1, totp_last_step = $2 WHERE id = $3")
        .bind(true)
        .bind(step)
        .bind(account_id.as_str())
        .execute(conn)
        .await?;
    Ok(())
}

/// Accepts a step only if it is newer than the last one: a replay loses the race here too.
pub async fn advance_totp_step(
    conn: &mut AnyConnection,
    account_id: &AccountId,
    step: i64,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "UPDATE accounts SET totp_last_step = $1 WHERE id = $2 AND (totp_last_step IS NULL OR totp_last_step < $1)",
    )
    .bind(step)
    .bind(account_id.as_str())
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

pub async fn reset_totp(
    conn: &mut AnyConnection,
    account_id: &AccountId,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE accounts SET totp_secret = NULL, totp_enabled = $1, totp_last_step = NULL WHERE id = $2")
        .bind(false)
        .bind(account_id.as_str())
        .execute(&mut *conn)
        .await?;
    sqlx::query("DELETE FROM recovery_codes WHERE account_id = $1")
        .bind(account_id.as_str())
        .execute(conn)
        .await?;
    Ok(())
}

pub async fn replace_recovery_codes(
    conn: &mut AnyConnection,
    account_id: &AccountId,
    code_hashes: &[String],
) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM recovery_codes WHERE account_id = $1")
        .bind(account_id.as_str())
        .execute(&mut *conn)
        .await?;
    for hash in code_hashes {
        sqlx::query("INSERT INTO recovery_codes (account_id, code_hash) VALUES ($1, $2)")
            .bind(account_id.as_str())
            .bind(hash)
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}

/// Marks a recovery code used; false when it does not exist or was used before.
pub async fn use_recovery_code(
    conn: &mut AnyConnection,
    account_id: &AccountId,
    code_hash: &str,
    now: DateTime<Utc>,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "UPDATE recovery_codes SET used_at = $1 WHERE account_id = $2 AND code_hash = $3 AND used_at IS NULL",
    )
    .bind(codec::instant_to_db(now))
    .bind(account_id.as_str())
    .bind(code_hash)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

pub async fn set_active(
    conn: &mut AnyConnection,
    account_id: &AccountId,
    active: bool,
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE accounts SET active = $1, updated_at = $2, version = version + 1 WHERE id = $3",
    )
    .bind(active)
    .bind(codec::instant_to_db(now))
    .bind(account_id.as_str())
    .execute(conn)
    .await?;
    Ok(())
}

/// Accounts for the administration list, with whether each is locked now.
#[derive(Debug, Clone, Serialize)]
pub struct AccountSummary {
    pub id: AccountId,
    pub login_id: String,
    pub display_name: String,
    pub kana: String,
    pub active: bool,
    pub totp_enabled: bool,
    pub locked: bool,
    pub failed_logins: i64,
}

/// Accounts with a membership in an organisation whose municipality code starts with
/// `code_prefix` ("13" for 東京都, "" for all), by kana. Accounts without any membership
/// are listed only for the whole country.
pub async fn list(
    db: &Db,
    code_prefix: &str,
    now: DateTime<Utc>,
) -> Result<Vec<AccountSummary>, sqlx::Error> {
    let rows = sqlx::query(select_account!(
        "WHERE ($1 = '' OR id IN (SELECT m.account_id FROM memberships m JOIN organisations o ON o.id = m.organisation_id \
         WHERE o.municipality_code LIKE $2)) ORDER BY kana, login_id"
    ))
    .bind(code_prefix)
    .bind(format!("{code_prefix}%"))
    .fetch_all(db.pool())
    .await?;
    rows.iter()
        .map(|row| {
            let account = from_row(row)?;
            Ok(AccountSummary {
                locked: account.is_locked(now),
                id: account.id,
                login_id: account.login_id,
                display_name: account.display_name,
                kana: account.kana,
                active: account.active,
                totp_enabled: account.totp_enabled,
                failed_logins: account.failed_logins,
            })
        })
        .collect()
}

/// How an audit entry's actor is shown: name, organisation and role there.
#[derive(Debug, Clone, Default)]
pub struct ActorLabel {
    pub display_name: String,
    pub organisation_name: String,
    pub role: Option<Role>,
}

/// The labels of the actors of audit entries, `(account, organisation)` → label: one
/// lookup per distinct pair; entries without an account (refused sign-ins) get an empty one.
pub async fn actor_labels<'a>(
    db: &Db,
    actors: impl IntoIterator<Item = (&'a str, &'a str)>,
) -> Result<std::collections::HashMap<(String, String), ActorLabel>, sqlx::Error> {
    let mut labels = std::collections::HashMap::new();
    for (account, organisation) in actors {
        let key = (account.to_string(), organisation.to_string());
        if labels.contains_key(&key) {
            continue;
        }
        let label = if account.is_empty() {
            ActorLabel::default()
        } else {
            actor_label(
                db,
                &AccountId::from_stored(key.0.clone()),
                Some(organisation),
            )
            .await?
        };
        labels.insert(key, label);
    }
    Ok(labels)
}

pub async fn actor_label(
    db: &Db,
    account_id: &AccountId,
    organisation_id: Option<&str>,
) -> Result<ActorLabel, sqlx::Error> {
    let org = organisation_id.unwrap_or_default();
    let row = sqlx::query(
        "SELECT a.display_name, (SELECT o.name FROM organisations o WHERE o.id = $2) AS organisation_name, \
         (SELECT m.role FROM memberships m WHERE m.account_id = a.id AND m.organisation_id = $2 ORDER BY m.role LIMIT 1) AS role \
         FROM accounts a WHERE a.id = $1",
    )
    .bind(account_id.as_str())
    .bind(org)
    .fetch_optional(db.pool())
    .await?;
    let Some(row) = row else {
        return Ok(ActorLabel::default());
    };
    let role: Option<String> = row.try_get("role")?;
    Ok(ActorLabel {
        display_name: row.try_get("display_name")?,
        organisation_name: row
            .try_get::<Option<String>, _>("organisation_name")?
            .unwrap_or_default(),
        role: role.as_deref().and_then(Role::parse),
    })
}

impl AccountSummary {
    pub fn of(account: &Account, now: DateTime<Utc>) -> Self {
        Self {
            locked: account.is_locked(now),
            id: account.id.clone(),
            login_id: account.login_id.clone(),
            display_name: account.display_name.clone(),
            kana: account.kana.clone(),
            active: account.active,
            totp_enabled: account.totp_enabled,
            failed_logins: account.failed_logins,
        }
    }
}

/// An account is in an administrator's reach when one of its memberships is in an
/// organisation in reach (see `organisations::repo::Reach`). `$1`, `$2` as there.
macro_rules! account_in_reach {
    () => {
        concat!(
            "($1 = 1 OR id IN (SELECT m.account_id FROM memberships m JOIN organisations o ON o.id = m.organisation_id WHERE ",
            crate::organisations::repo::org_in_reach!(),
            "))"
        )
    };
}

/// One page of the accounts in reach, by kana; `text` matches a part of the login id, the
/// name or the kana. Accounts without any membership are in reach of `everything` only.
pub async fn list_in_reach(
    db: &Db,
    reach: &crate::organisations::repo::Reach,
    text: &str,
    limit: i64,
    offset: i64,
    now: DateTime<Utc>,
) -> Result<(Vec<AccountSummary>, i64), sqlx::Error> {
    if reach.is_empty() {
        return Ok((Vec::new(), 0));
    }
    let (everything, prefectures) = reach.binds();
    let pattern = codec::like_contains(&text.to_lowercase());
    let total: i64 = sqlx::query(concat!(
        "SELECT count(*) FROM accounts WHERE ",
        account_in_reach!(),
        " AND ($3 = '' OR login_id LIKE $4 ESCAPE '\\' OR lower(display_name) LIKE $4 ESCAPE '\\' \
         OR lower(kana) LIKE $4 ESCAPE '\\')"
    ))
    .bind(everything)
    .bind(&prefectures)
    .bind(text)
    .bind(&pattern)
    .fetch_one(db.pool())
    .await?
    .try_get(0)?;
    let rows = sqlx::query(select_account!(
        "WHERE ",
        account_in_reach!(),
        " AND ($3 = '' OR login_id LIKE $4 ESCAPE '\\' OR lower(display_name) LIKE $4 ESCAPE '\\' \
         OR lower(kana) LIKE $4 ESCAPE '\\') ORDER BY kana, login_id LIMIT $5 OFFSET $6"
    ))
    .bind(everything)
    .bind(&prefectures)
    .bind(text)
    .bind(&pattern)
    .bind(limit)
    .bind(offset)
    .fetch_all(db.pool())
    .await?;
    let summaries = rows
        .iter()
        .map(|row| from_row(row).map(|a| AccountSummary::of(&a, now)))
        .collect::<Result<_, _>>()?;
    Ok((summaries, total))
}

/// A membership as the administration shows it: also in inactive organisations, with the
/// organisation's kind (to decide whether it is in an administrator's reach).
#[derive(Debug, Clone, Serialize)]
pub struct AdminMembership {
    pub organisation_id: OrganisationId,
    pub organisation_name: String,
    pub organisation_kind: String,
    pub organisation_active: bool,
    pub municipality_code: String,
    pub role: Role,
}

pub async fn all_memberships(
    db: &Db,
    account_id: &AccountId,
) -> Result<Vec<AdminMembership>, sqlx::Error> {
    let rows = sqlx::query(
        "SELECT m.organisation_id, o.name, o.kind, o.active, o.municipality_code, m.role \
         FROM memberships m JOIN organisations o ON o.id = m.organisation_id \
         WHERE m.account_id = $1 ORDER BY o.municipality_code, o.kana, m.role",
    )
    .bind(account_id.as_str())
    .fetch_all(db.pool())
    .await?;
    rows.iter()
        .map(|row| {
            let role: String = row.try_get("role")?;
            Ok(AdminMembership {
                organisation_id: OrganisationId::from_stored(row.try_get("organisation_id")?),
                organisation_name: row.try_get("name")?,
                organisation_kind: row.try_get("kind")?,
                organisation_active: codec::get_flag(row, "active")?,
                municipality_code: row.try_get("municipality_code")?,
                role: Role::parse(&role).ok_or_else(|| decode_error("role"))?,
            })
        })
        .collect()
}

/// Whether `error` is the unique constraint on the login id (two administrators creating
/// the same id at once).
pub fn is_unique_violation(error: &sqlx::Error) -> bool {
    error
        .as_database_error()
        .is_some_and(|e| e.is_unique_violation())
}

/// The active staff accounts of each of these organisations (families excluded), for
/// notices to many organisations at once. An organisation without staff is absent.
pub async fn staff_of_each(
    conn: &mut AnyConnection,
    organisations: &[&OrganisationId],
) -> Result<std::collections::HashMap<OrganisationId, Vec<AccountId>>, sqlx::Error> {
    let mut found: std::collections::HashMap<OrganisationId, Vec<AccountId>> =
        std::collections::HashMap::new();
    for chunk in organisations.chunks(500) {
        let n = chunk.len();
        let sql = format!(
            "SELECT DISTINCT m.organisation_id, a.id FROM memberships m \
             JOIN accounts a ON a.id = m.account_id \
             WHERE m.organisation_id IN ({}) AND m.role <> ${} AND a.active = ${} \
             ORDER BY m.organisation_id, a.id",
            crate::db::codec::placeholders(n),
            n + 1,
            n + 2
        );
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
        for id in chunk {
            query = query.bind(id.as_str());
        }
        let rows = query
            .bind(Role::Guardian.as_str())
            .bind(true)
            .fetch_all(&mut *conn)
            .await?;
        for row in rows {
            found
                .entry(OrganisationId::from_stored(row.try_get(0)?))
                .or_default()
                .push(AccountId::from_stored(row.try_get(1)?));
        }
    }
    Ok(found)
}

/// The active municipal staff accounts of a municipality (its departments' members): who
/// keeps the town's entries for facilities without accounts of their own.
pub async fn municipal_staff_in(
    conn: &mut AnyConnection,
    municipality_code: &str,
) -> Result<Vec<AccountId>, sqlx::Error> {
    let rows = sqlx::query(
        "SELECT DISTINCT a.id FROM memberships m JOIN accounts a ON a.id = m.account_id \
         JOIN organisations o ON o.id = m.organisation_id \
         WHERE o.municipality_code = $1 AND m.role = $2 AND a.active = $3 ORDER BY a.id",
    )
    .bind(municipality_code)
    .bind(Role::MunicipalStaff.as_str())
    .bind(true)
    .fetch_all(conn)
    .await?;
    rows.iter()
        .map(|r| r.try_get("id").map(AccountId::from_stored))
        .collect()
}

/// The active accounts holding `role` in an organisation: `(account, login id)` (a mentor
/// office's staff, or its mentors).
pub async fn with_role(
    conn: &mut AnyConnection,
    office: &OrganisationId,
    role: Role,
) -> Result<Vec<(AccountId, String)>, sqlx::Error> {
    let rows = sqlx::query(
        "SELECT DISTINCT a.id, a.login_id FROM memberships m JOIN accounts a ON a.id = m.account_id \
         WHERE m.organisation_id = $1 AND m.role = $2 AND a.active = $3 ORDER BY a.login_id",
    )
    .bind(office.as_str())
    .bind(role.as_str())
    .bind(true)
    .fetch_all(conn)
    .await?;
    rows.iter()
        .map(|r| Ok((AccountId::from_stored(r.try_get(0)?), r.try_get(1)?)))
        .collect()
}
