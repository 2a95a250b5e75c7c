//! The children table and what it is shared with. Reads that return a child always come
//! with the [`Target`] the policy needs to decide on it.

pub mod merges;
pub mod proposals;
pub mod store;

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};
use tsunagu_core::access::{Department, ScopeFilter, Target};
use tsunagu_core::care::{CareEntry, CareItem, CareVariant, Watch};
use tsunagu_core::device::DeviceKind;
use tsunagu_core::ids::{AccountId, ChildId, OrganisationId};
use tsunagu_core::kana::search_key;
use tsunagu_core::municipality::MunicipalityCode;

use crate::config::Backend;
use crate::db::{Db, backend, codec};
use crate::features::consent;

pub const RESOURCE_TYPE: &str = "child";

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Child {
    #[serde(deserialize_with = "tsunagu_core::ids::stored")]
    pub id: ChildId,
    #[serde(deserialize_with = "tsunagu_core::ids::stored")]
    pub owner_organisation_id: OrganisationId,
    pub municipality_code: String,
    /// Not read from the database: named from the reference list ([`municipality_name`]).
    #[serde(skip_deserializing)]
    pub municipality_name: String,
    pub name: String,
    pub kana: String,
    pub birth_date: NaiveDate,
    pub sex: String,
    pub status: String,
    pub version: i64,
    pub care_score: i64,
    pub care_tier: String,
    /// The care items as bits (`CareItem::bit`), kept with the items.
    pub care_mask: i64,
    pub owner_organisation_name: String,
}

impl Child {
    pub fn tier_ja(&self) -> &'static str {
        tsunagu_core::care::Tier::parse(&self.care_tier)
            .map(|t| t.label_ja())
            .unwrap_or("")
    }

    pub fn sex_ja(&self) -> &'static str {
        match self.sex.as_str() {
            "female" => "女",
            "male" => "男",
            "other" => "その他",
            _ => "不明",
        }
    }

    pub fn status_ja(&self) -> &'static str {
        match self.status.as_str() {
            "active" => "支援中",
            "moved_out" => "転出",
            "aged_out" => "対象年齢外",
            "deceased" => "死亡",
            _ => "不明",
        }
    }
}

/// The columns of `children c` (or `$child`) that [`Child`] is read from, in the order of
/// its fields.
macro_rules! child_table_columns {
    () => {
        child_table_columns!("c")
    };
    ($child:literal) => {
        concat!(
            $child,
            ".id, ",
            $child,
            ".owner_organisation_id, ",
            $child,
            ".municipality_code, ",
            $child,
            ".name, ",
            $child,
            ".kana, ",
            $child,
            ".birth_date, ",
            $child,
            ".sex, ",
            $child,
            ".status, ",
            $child,
            ".version, ",
            $child,
            ".care_score, ",
            $child,
            ".care_tier, ",
            $child,
            ".care_mask"
        )
    };
}

/// The columns of [`Child`] in the order of its fields: those of `children c` (or of a page
/// of them with another name) and the organisation's name from `organisations o`; the
/// municipality's name comes from the in-memory reference list, not a join per row. Read by
/// position ([`from_row`]), and as a JSON array into [`Child`] itself (`list`): no aliases,
/// which `json_array` does not take.
macro_rules! child_columns {
    () => {
        child_columns!("c")
    };
    ($child:literal) => {
        concat!(child_table_columns!($child), ", o.name")
    };
}

/// The join that names a child's organisation.
macro_rules! child_joins {
    () => {
        child_joins!("c")
    };
    ($child:literal) => {
        concat!(
            " JOIN organisations o ON o.id = ",
            $child,
            ".owner_organisation_id "
        )
    };
}

/// How many columns `child_columns!` has ([`from_row`] reads them by position).
const CHILD_COLUMN_COUNT: usize = 13;

/// Empty values for the columns of `child_columns!` after the third, in a row of
/// [`CHILD_AND_REACH`] that is not the child's.
macro_rules! reach_padding {
    () => {
        "NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, "
    };
}

/// What a list is narrowed to, each field '' for "any". Birth dates come from the age band
/// or life stage chosen (see `filters`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ListFilter {
    pub text: String,
    pub municipality: String,
    pub care_item: String,
    pub device: String,
    pub tier: String,
    pub born_from: String,
    pub born_to: String,
    pub status: String,
    pub wishes_to_work: String,
}

/// A child from a row of `child_columns!`, by position.
fn from_row(row: &AnyRow) -> Result<Child, sqlx::Error> {
    let municipality_code: String = row.try_get(2)?;
    let birth_date: String = row.try_get(5)?;
    Ok(Child {
        id: ChildId::from_stored(row.try_get(0)?),
        owner_organisation_id: OrganisationId::from_stored(row.try_get(1)?),
        municipality_name: municipality_name(&municipality_code),
        municipality_code,
        name: row.try_get(3)?,
        kana: row.try_get(4)?,
        birth_date: codec::date_from_db(&birth_date, "birth_date")?,
        sex: row.try_get(6)?,
        status: row.try_get(7)?,
        version: row.try_get(8)?,
        care_score: row.try_get(9)?,
        care_tier: row.try_get(10)?,
        care_mask: row.try_get(11)?,
        owner_organisation_name: row.try_get(12)?,
    })
}

/// The name of a child's municipality, from the reference list held in memory.
fn municipality_name(code: &str) -> String {
    crate::features::municipalities::repo::name_of(code).to_owned()
}

#[derive(Debug, Clone)]
pub struct NewChild {
    pub owner_organisation_id: OrganisationId,
    pub municipality_code: MunicipalityCode,
    pub name: String,
    pub kana: String,
    pub birth_date: NaiveDate,
    pub sex: String,
}

pub async fn create(
    conn: &mut AnyConnection,
    id: &ChildId,
    new: &NewChild,
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    let at = codec::instant_to_db(now);
    sqlx::query(
        "INSERT INTO children (id, owner_organisation_id, municipality_code, name, kana, search_key, birth_date, sex, \
         status, version, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'active', 1, $9, $9)",
    )
    .bind(id.as_str())
    .bind(new.owner_organisation_id.as_str())
    .bind(new.municipality_code.to_string())
    .bind(&new.name)
    .bind(&new.kana)
    .bind(search_key(&format!("{} {}", new.name, new.kana)))
    .bind(codec::date_to_db(new.birth_date))
    .bind(&new.sex)
    .bind(at)
    .execute(conn)
    .await?;
    Ok(())
}

/// Names and birth dates of every child registered in a municipality (the import's
/// duplicate check).
pub async fn names_and_births_in(
    db: &Db,
    code: &str,
) -> Result<Vec<(String, NaiveDate)>, sqlx::Error> {
    sqlx::query("SELECT name, birth_date FROM children WHERE municipality_code = $1")
        .bind(code)
        .fetch_all(db.pool())
        .await?
        .iter()
        .map(|r| Ok((r.try_get("name")?, codec::get_date(r, "birth_date")?)))
        .collect()
}

/// Children of a municipality born on `birth` whose kana folds to the same as `kana`: the
/// same child registered before, perhaps by another department.
pub async fn same_child_in(
    db: &Db,
    code: &str,
    birth: NaiveDate,
    kana: &str,
) -> Result<Vec<ChildId>, sqlx::Error> {
    let wanted = search_key(kana);
    let rows = sqlx::query(
        "SELECT id, kana FROM children WHERE municipality_code = $1 AND birth_date = $2 ORDER BY id",
    )
    .bind(code)
    .bind(codec::date_to_db(birth))
    .fetch_all(db.pool())
    .await?;
    let mut same = Vec::new();
    for row in &rows {
        let kana: String = row.try_get("kana")?;
        if search_key(&kana) == wanted {
            same.push(ChildId::from_stored(row.try_get("id")?));
        }
    }
    Ok(same)
}

/// A child (`$1`) and who else reaches it, in one statement: the child's row (`kind` is
/// 'child'), then a row for each organisation it is shared with, consent in force on `$2`
/// (an organisation, or a department of a town) and account of its family, with `who`,
/// `department` and `recipient` in the child's first three columns and the rest empty.
/// `kind` is last, so the child's row reads like any other ([`from_row`]).
const CHILD_AND_REACH: &str = concat!(
    "SELECT ",
    child_columns!(),
    ", 'child' FROM children c",
    child_joins!(),
    "WHERE c.id = $1",
    consent::reach_rows!(reach_padding!())
);

/// A child's record, as the gate opens it: the row and what reaches it, in one statement.
impl crate::gate::Record for Child {
    const RESOURCE: &'static str = RESOURCE_TYPE;
    const NOT_FOUND_JA: &'static str =
        "指定された児童の記録は見つかりません（存在しないか、参照できる範囲の外にあります）";
    const BACK: (&'static str, &'static str) = ("/children", "児童の記録へ戻る");
    const BREAK_GLASS: bool = true;

    type Id = ChildId;

    async fn load(
        db: &Db,
        id: &ChildId,
        today: chrono::NaiveDate,
    ) -> Result<Option<(Self, Target)>, sqlx::Error> {
        get(db, id, today).await
    }

    fn id(&self) -> &ChildId {
        &self.id
    }

    fn child_id(&self) -> Option<&ChildId> {
        Some(&self.id)
    }
}

/// A child with what the policy needs to decide on it; `None` when there is no such child.
/// Consents count when not withdrawn and not expired on `today`. One statement: every
/// child page and API call starts here.
pub async fn get(
    db: &Db,
    id: &ChildId,
    today: NaiveDate,
) -> Result<Option<(Child, Target)>, sqlx::Error> {
    let rows = sqlx::query(CHILD_AND_REACH)
        .bind(id.as_str())
        .bind(codec::date_to_db(today))
        .fetch_all(db.pool())
        .await?;
    let mut child = None;
    let mut reach = Vec::new();
    for row in &rows {
        let kind: String = row.try_get(CHILD_COLUMN_COUNT)?;
        if kind == "child" {
            child = Some(from_row(row)?);
        } else {
            reach.push((kind, row));
        }
    }
    let Some(child) = child else {
        return Ok(None);
    };
    let municipality_code = MunicipalityCode::parse(&child.municipality_code).map_err(|e| {
        sqlx::Error::ColumnDecode {
            index: "municipality_code".into(),
            source: Box::new(e),
        }
    })?;
    let mut shared_with = Vec::new();
    let mut consented_departments = Vec::new();
    let mut guardian_account_ids = Vec::new();
    for (kind, row) in reach {
        let who: Option<String> = row.try_get(0)?;
        let department: Option<String> = row.try_get(1)?;
        let recipient: String = row.try_get(2)?;
        match (
            kind.as_str(),
            who,
            department.as_deref().and_then(Department::parse),
        ) {
            ("share" | "guardian", None, _) => {}
            ("share", Some(org), _) => shared_with.push(OrganisationId::from_stored(org)),
            ("guardian", Some(account), _) => {
                guardian_account_ids.push(AccountId::from_stored(account))
            }
            // A consent naming an organisation shares with it; registry, mentor and
            // disaster-plan consents name no one.
            (_, Some(org), _) => shared_with.push(OrganisationId::from_stored(org)),
            // A department consent belongs to the town the child lived in when it was given.
            (_, None, Some(department))
                if recipient
                    == tsunagu_core::access::department_key(&municipality_code, department) =>
            {
                consented_departments.push(department)
            }
            _ => {}
        }
    }
    let target = Target {
        resource_type: RESOURCE_TYPE.into(),
        resource_id: child.id.to_string(),
        owner_organisation_id: child.owner_organisation_id.clone(),
        municipality_code,
        shared_with,
        consented_departments,
        guardian_account_ids,
    };
    Ok(Some((child, target)))
}

/// A scope the list query cannot express (wider than organisations and departments).
#[derive(Debug, thiserror::Error)]
#[error("この権限の範囲は一覧で扱えません（全国・都道府県単位の閲覧権限です）")]
pub struct UnsupportedScope;

/// A statement assembled from the fixed fragments below and numbered placeholders. Values
/// are only ever bound, never written into the text, so nothing a user types reaches the SQL.
#[derive(Default)]
struct Statement {
    sql: String,
    values: Vec<Value>,
}

enum Value {
    Text(String),
    Number(i64),
}

impl Statement {
    fn push(&mut self, fragment: &'static str) {
        self.sql.push_str(fragment);
    }

    /// Appends a placeholder bound to `value`.
    fn bind(&mut self, value: &str) {
        self.bind_value(Value::Text(value.to_owned()));
    }

    fn bind_number(&mut self, value: i64) {
        self.bind_value(Value::Number(value));
    }

    fn bind_value(&mut self, value: Value) {
        self.values.push(value);
        self.sql.push('$');
        self.sql.push_str(&self.values.len().to_string());
    }

    /// The first time, runs `write` and remembers the text it appended; after that, appends
    /// that text again (fixed fragments and placeholders only), so the same values serve
    /// every place the text appears.
    fn once_or_repeat(
        &mut self,
        written: &mut Option<std::ops::Range<usize>>,
        write: impl FnOnce(&mut Self),
    ) {
        match written {
            Some(span) => {
                let text = self.sql[span.clone()].to_owned();
                self.sql.push_str(&text);
            }
            None => {
                let start = self.sql.len();
                write(self);
                *written = Some(start..self.sql.len());
            }
        }
    }

    /// Appends `(p1, p2, …)` bound to `values`.
    fn bind_list<'a>(&mut self, values: impl IntoIterator<Item = &'a str>) {
        self.push("(");
        for (i, v) in values.into_iter().enumerate() {
            if i > 0 {
                self.push(", ");
            }
            self.bind(v);
        }
        self.push(")");
    }

    fn query(&self) -> sqlx::query::Query<'_, sqlx::Any, sqlx::any::AnyArguments> {
        // Safe: `sql` is only fixed fragments and `$n` placeholders (see `push` and `bind`).
        let mut q = sqlx::query(sqlx::AssertSqlSafe(self.sql.clone()));
        for v in &self.values {
            q = match v {
                Value::Text(text) => q.bind(text.as_str()),
                Value::Number(n) => q.bind(*n),
            };
        }
        q
    }
}

/// The filters actually chosen, as ` AND …` conditions on `children c` (each present only
/// when used, so the planner never sees an "or any" condition). Written once; the list
/// statement repeats the text in each branch, so the values are bound once.
fn filter_conditions(st: &mut Statement, filter: &ListFilter) {
    let text = search_key(&filter.text);
    if !text.is_empty() {
        st.push(" AND c.search_key LIKE ");
        st.bind(&codec::like_contains(&text));
        st.push(" ESCAPE '\\'");
    }
    let equal: [(&'static str, &String); 4] = [
        (" AND c.municipality_code = ", &filter.municipality),
        (" AND c.care_tier = ", &filter.tier),
        (" AND c.status = ", &filter.status),
        (" AND c.birth_date >= ", &filter.born_from),
    ];
    for (fragment, value) in equal {
        if !value.is_empty() {
            st.push(fragment);
            st.bind(value);
        }
    }
    if !filter.born_to.is_empty() {
        st.push(" AND c.birth_date <= ");
        st.bind(&filter.born_to);
    }
    // Care items and device kinds through the masks kept on the child (migration 08): a
    // column test, not a probe of another table per child in reach. A code this version
    // does not know (the filters refuse one before this) matches nothing.
    if !filter.care_item.is_empty() {
        st.push(" AND (c.care_mask & ");
        st.bind_number(CareItem::parse(&filter.care_item).map_or(0, CareItem::bit));
        st.push(") <> 0");
    }
    if !filter.device.is_empty() {
        st.push(" AND (c.device_mask & ");
        st.bind_number(DeviceKind::parse(&filter.device).map_or(0, DeviceKind::bit));
        st.push(") <> 0");
    }
    if !filter.wishes_to_work.is_empty() {
        st.push(" AND EXISTS (SELECT 1 FROM guardians gw WHERE gw.child_id = c.id AND gw.wishes_to_work = ");
        st.bind(&filter.wishes_to_work);
        st.push(")");
    }
}

/// One page of the children in reach, by kana, with the total: a row per child, or on a
/// backend that reads pages as JSON ([`backend::reads_pages_as_json`]) one row for the page.
///
/// The children a scope's organisations own are read in kana order from the index
/// `(owner_organisation_id, kana, id)`: only the first `offset + limit` are taken and the
/// count reads the index alone, so a town's list does not sort all its children. Children
/// reached otherwise (shares, consents in force, the family's own) are gathered once in
/// `others` with their columns (one indexed branch per way of reaching a child); those not
/// owned are sorted with the owned ones, and the count adds them. No child is looked up
/// again by id.
fn list_statement(
    backend: Backend,
    scope: &ScopeFilter,
    filter: &ListFilter,
    today: &str,
    limit: i64,
    offset: i64,
) -> Result<Statement, UnsupportedScope> {
    if scope.everything || !scope.prefectures.is_empty() {
        return Err(UnsupportedScope);
    }
    let recipients: Vec<&str> = scope
        .organisations
        .iter()
        .map(OrganisationId::as_str)
        .chain(scope.department_keys.iter().map(String::as_str))
        .collect();
    let owners = !scope.organisations.is_empty();
    let mut st = Statement::default();
    // The organisations' placeholders and the filters are written at their first use and
    // repeated after that, so each value is bound once.
    let mut organisations = None;
    let mut filters = None;
    let mut in_organisations = |st: &mut Statement| {
        st.once_or_repeat(&mut organisations, |st| {
            st.bind_list(scope.organisations.iter().map(OrganisationId::as_str))
        })
    };
    let mut conditions =
        |st: &mut Statement| st.once_or_repeat(&mut filters, |st| filter_conditions(st, filter));
    // Each branch of `others`: the child's columns, read with the row the branch reaches,
    // and whether the scope owns it.
    let mut branches = 0;
    let mut branch = |st: &mut Statement,
                      in_organisations: &mut dyn FnMut(&mut Statement),
                      from: &'static str| {
        st.push(if branches == 0 {
            "SELECT "
        } else {
            " UNION SELECT "
        });
        st.push(concat!(child_table_columns!(), ", "));
        branches += 1;
        if owners {
            st.push("c.owner_organisation_id IN ");
            in_organisations(st);
        } else {
            st.push("false");
        }
        st.push(" AS owned");
        st.push(from);
    };
    st.push("WITH others AS (");
    if owners {
        branch(&mut st, &mut in_organisations, consent::reach_by_share!());
        in_organisations(&mut st);
        conditions(&mut st);
    }
    if !recipients.is_empty() {
        branch(&mut st, &mut in_organisations, consent::reach_by_consent!());
        st.bind_list(recipients);
        st.push(concat!(" AND ", consent::consent_in_force!("k.")));
        st.bind(today);
        st.push(")");
        if !scope.department_keys.is_empty() {
            // Only a department's key can name another town (an organisation's never does),
            // so a list without department keys skips the check and stays on the index.
            st.push(consent::of_the_childs_town!());
        }
        if !filter.care_item.is_empty() {
            // The consent's copy of the child's care mask (migration 12) is in the index:
            // only the children with the item are looked up, not all the recipient's.
            st.push(" AND (k.care_mask & ");
            st.bind_number(CareItem::parse(&filter.care_item).map_or(0, CareItem::bit));
            st.push(") <> 0");
        }
        conditions(&mut st);
    }
    if let Some(guardian) = &scope.guardian_account_id {
        branch(
            &mut st,
            &mut in_organisations,
            consent::reach_by_guardian!(),
        );
        st.bind(guardian.as_str());
        conditions(&mut st);
    }
    if branches == 0 {
        // Nothing in reach (a scope of prefectures only is refused above).
        st.push(concat!(
            "SELECT ",
            child_table_columns!(),
            ", false AS owned FROM children c WHERE 1 = 0"
        ));
    }
    let as_json = backend::reads_pages_as_json(backend);
    st.push(if as_json {
        // One row: the children as one JSON array of arrays (each in the order of the
        // fields of `Child`) in kana order, and the total (NULL past the last page).
        concat!(
            ") SELECT json_group_array(json_array(",
            child_columns!("p"),
            ") ORDER BY p.kana, p.id) AS children, max(p.total) AS total"
        )
    } else {
        // A row per child, each with the total.
        concat!(") SELECT ", child_columns!("p"), ", p.total")
    });
    // The page carries the children's columns from where they were found (the owner's
    // index walk reads them with the row), so nothing is looked up again by id.
    st.push(" FROM (SELECT u.*, ");
    if owners {
        st.push("(SELECT count(*) FROM children c WHERE c.owner_organisation_id IN ");
        in_organisations(&mut st);
        conditions(&mut st);
        st.push(") + ");
    }
    st.push("(SELECT count(*) FROM others WHERE NOT owned) AS total FROM (");
    if owners {
        st.push(concat!(
            "SELECT * FROM (SELECT ",
            child_table_columns!(),
            " FROM children c WHERE c.owner_organisation_id IN "
        ));
        in_organisations(&mut st);
        conditions(&mut st);
        st.push(" ORDER BY c.kana, c.id LIMIT ");
        st.bind_number(offset.saturating_add(limit));
        // The owned children among `others` are already in `owned_page` when they can be
        // on this page (an owned child past it has offset + limit owned ones before it).
        st.push(") owned_page UNION ALL ");
    }
    st.push(concat!(
        "SELECT ",
        child_table_columns!("others"),
        " FROM others WHERE NOT others.owned) u ",
        "ORDER BY u.kana, u.id LIMIT "
    ));
    st.bind_number(limit);
    st.push(" OFFSET ");
    st.bind_number(offset);
    st.push(concat!(") p", child_joins!("p")));
    if !as_json {
        st.push("ORDER BY p.kana, p.id");
    }
    Ok(st)
}

/// One page of the children in reach, by kana, with the total.
pub async fn list(
    db: &Db,
    scope: &ScopeFilter,
    filter: &ListFilter,
    today: NaiveDate,
    limit: i64,
    offset: i64,
) -> Result<(Vec<Child>, i64), sqlx::Error> {
    if scope.is_empty() {
        return Ok((Vec::new(), 0));
    }
    let today = codec::date_to_db(today);
    let page = |limit, offset| {
        list_statement(db.backend(), scope, filter, &today, limit, offset)
            .map_err(|e| sqlx::Error::Protocol(e.to_string()))
    };
    let rows = page(limit, offset)?.query().fetch_all(db.pool()).await?;
    let children = if backend::reads_pages_as_json(db.backend()) {
        match rows.first() {
            Some(row) => listed_children(row.try_get("children")?)?,
            None => Vec::new(),
        }
    } else {
        rows.iter().map(from_row).collect::<Result<_, _>>()?
    };
    let total = match page_total(&rows)? {
        Some(total) => total,
        // Past the last page: the first page says how many there are.
        None if offset > 0 => {
            let first = page(1, 0)?.query().fetch_all(db.pool()).await?;
            page_total(&first)?.unwrap_or(0)
        }
        None => 0,
    };
    Ok((children, total))
}

/// The total a page's first row carries; `None` for a page past the last one.
fn page_total(rows: &[AnyRow]) -> Result<Option<i64>, sqlx::Error> {
    match rows.first() {
        Some(row) => row.try_get("total"),
        None => Ok(None),
    }
}

/// The children of a page from the statement's JSON (none when the page is empty): an
/// array of arrays, each in the order of the fields of [`Child`].
fn listed_children(json: Option<String>) -> Result<Vec<Child>, sqlx::Error> {
    let Some(json) = json else {
        return Ok(Vec::new());
    };
    let mut children: Vec<Child> =
        serde_json::from_str(&json).map_err(|err| sqlx::Error::ColumnDecode {
            index: "children".into(),
            source: Box::new(err),
        })?;
    for child in &mut children {
        child.municipality_name = municipality_name(&child.municipality_code);
    }
    Ok(children)
}

/// Replaces the child's care items (the caller has already checked them with `care::score`).
pub async fn set_care(
    conn: &mut AnyConnection,
    child_id: &ChildId,
    entries: &[CareEntry],
) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM child_care_items WHERE child_id = $1")
        .bind(child_id.as_str())
        .execute(&mut *conn)
        .await?;
    for e in entries {
        sqlx::query(
            "INSERT INTO child_care_items (child_id, item, variant, watch) VALUES ($1, $2, $3, $4)",
        )
        .bind(child_id.as_str())
        .bind(e.item.code())
        .bind(e.variant.map_or("", |v| v.code()))
        .bind(e.watch.map(|w| w.code()))
        .execute(&mut *conn)
        .await?;
    }
    // Lists filter on the tier, so the computed score is kept beside the items.
    let score = tsunagu_core::care::score(entries, &tsunagu_core::care::SCORE_TABLE_2021)
        .map_err(|e| sqlx::Error::Protocol(e.to_string()))?;
    sqlx::query(
        "UPDATE children SET care_score = $1, care_tier = $2, care_mask = $3 WHERE id = $4",
    )
    .bind(i64::from(score.total))
    .bind(score.tier.code())
    .bind(CareItem::mask(entries.iter().map(|e| &e.item)))
    .bind(child_id.as_str())
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// A care entry from its stored codes. A code this version does not know is a decode
/// error rather than a silently lower score.
pub fn care_entry(
    item: &str,
    variant: Option<&str>,
    watch: Option<&str>,
) -> Result<CareEntry, sqlx::Error> {
    let decode = |e: tsunagu_core::care::CareError| sqlx::Error::ColumnDecode {
        index: "item".into(),
        source: Box::new(e),
    };
    Ok(CareEntry {
        item: CareItem::parse(item).map_err(decode)?,
        // '' is "no kind" (the column is part of the key, so never NULL).
        variant: variant
            .filter(|v| !v.is_empty())
            .map(CareVariant::parse)
            .transpose()
            .map_err(decode)?,
        watch: watch.map(Watch::parse).transpose().map_err(decode)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values(st: &Statement) -> Vec<String> {
        st.values
            .iter()
            .map(|v| match v {
                Value::Text(t) => t.clone(),
                Value::Number(n) => n.to_string(),
            })
            .collect()
    }

    #[test]
    fn the_list_statement_binds_what_users_type_and_names_only_chosen_filters() {
        let scope = ScopeFilter {
            organisations: vec![
                OrganisationId::from_stored("org-1".into()),
                OrganisationId::from_stored("org-2".into()),
            ],
            department_keys: vec!["131199:childcare".into()],
            ..Default::default()
        };
        let filter = ListFilter {
            text: "やまだ'; DROP TABLE children; --".into(),
            care_item: "ventilator".into(),
            ..Default::default()
        };
        let st = list_statement(Backend::Sqlite, &scope, &filter, "2026-11-21", 50, 100)
            .expect("supported scope");
        assert!(!st.sql.contains("DROP"), "{}", st.sql);
        assert!(!st.sql.contains("やまだ"), "{}", st.sql);
        assert!(!st.sql.contains("device_mask"), "{}", st.sql);
        assert!(!st.sql.contains("care_tier ="), "{}", st.sql);
        assert!(
            !st.sql.contains("= ''"),
            "no 'or any' conditions: {}",
            st.sql
        );
        assert!(!st.sql.contains("child_guardians"), "{}", st.sql);
        let bound = values(&st);
        // Each value bound once, however often the statement names it: the organisations,
        // the text, the care item's bit, the consent recipients (organisations and the
        // department), today, the bit again for the consents' copy of the mask, then how
        // many owned rows to read, the page size and the offset.
        assert_eq!(bound.len(), 2 + 3 + 1 + 1 + 1 + 1 + 3, "{bound:?}");
        assert!(st.sql.contains(&format!("${}", bound.len())));
        assert!(!st.sql.contains(&format!("${}", bound.len() + 1)));
        let folded = search_key(&filter.text);
        assert!(bound[2].contains(&folded), "{bound:?}");
        assert_eq!(bound[3], "1", "ventilator's bit");
        assert_eq!(bound[8], "1", "ventilator's bit, for the consents");
        assert_eq!(bound[9..], ["150", "50", "100"]);
        assert_eq!(st.sql.matches("(k.care_mask & $9) <> 0").count(), 1);
        // The filters apply in every branch: shares, consents, the owned count and page.
        assert_eq!(
            st.sql.matches("(c.care_mask & $4) <> 0").count(),
            4,
            "{}",
            st.sql
        );
        assert_eq!(
            st.sql.matches("c.search_key LIKE $3").count(),
            4,
            "{}",
            st.sql
        );
    }

    #[test]
    fn the_reach_rows_line_up_with_the_childs_columns() {
        let columns = child_columns!().split(", ").count();
        assert_eq!(columns, CHILD_COLUMN_COUNT);
        // Three values, the padding, then the kind: as wide as the child's row.
        let padding = reach_padding!().matches("NULL").count();
        assert_eq!(3 + padding, CHILD_COLUMN_COUNT);
    }

    #[test]
    fn a_page_read_as_json_gives_the_children_in_field_order_and_refuses_a_malformed_one() {
        let json = r#"[["id-1","org-1","131199","山田 花子","やまだ はなこ","2020-04-02","female","active",3,12,"tier16",5,"板橋区障害福祉課"]]"#;
        let children = listed_children(Some(json.into())).expect("a page");
        let child = &children[0];
        // The municipality is named from the reference list, not from the row.
        assert_eq!(
            (child.id.as_str(), child.municipality_name.as_str()),
            ("id-1", "板橋区")
        );
        assert_eq!(
            child.birth_date,
            NaiveDate::from_ymd_opt(2020, 4, 2).unwrap()
        );
        assert_eq!(
            (child.version, child.care_score, child.care_mask),
            (3, 12, 5)
        );
        assert_eq!(child.owner_organisation_name, "板橋区障害福祉課");
        assert!(listed_children(None).expect("an empty page").is_empty());
        let wrong_date = json.replace("2020-04-02", "2020-13-02");
        assert!(listed_children(Some(wrong_date)).is_err());
        assert!(listed_children(Some("[[\"id-1\"]]".into())).is_err());
    }

    #[test]
    fn a_family_reaches_its_own_children_only_and_wide_scopes_are_refused() {
        let family = ScopeFilter {
            guardian_account_id: Some(AccountId::from_stored("acct-9".into())),
            ..Default::default()
        };
        let st = list_statement(
            Backend::Sqlite,
            &family,
            &ListFilter::default(),
            "2026-11-21",
            50,
            0,
        )
        .expect("supported scope");
        assert!(st.sql.contains("child_guardians"), "{}", st.sql);
        assert!(!st.sql.contains("child_consents"), "{}", st.sql);
        assert!(!st.sql.contains("owner_organisation_id IN"), "{}", st.sql);
        assert_eq!(values(&st), ["acct-9", "50", "0"]);

        let prefecture = ScopeFilter {
            prefectures: vec!["13".into()],
            organisations: vec![OrganisationId::from_stored("org-1".into())],
            ..Default::default()
        };
        assert!(
            list_statement(
                Backend::Sqlite,
                &prefecture,
                &ListFilter::default(),
                "2026-11-21",
                50,
                0
            )
            .is_err()
        );
    }

    /// The statements of every list and child page read through indexes; only the list's
    /// own intermediate results are read whole.
    #[tokio::test]
    async fn lists_and_child_reads_use_indexes() {
        let (_dir, db) = crate::db::plans::database().await;
        let town = ScopeFilter {
            organisations: vec![OrganisationId::from_stored("org-1".into())],
            department_keys: vec!["131199:disability_welfare".into()],
            ..Default::default()
        };
        let centre = ScopeFilter {
            organisations: vec![OrganisationId::from_stored("centre".into())],
            ..Default::default()
        };
        let department = ScopeFilter {
            department_keys: vec!["131199:childcare".into()],
            ..Default::default()
        };
        let family = ScopeFilter {
            guardian_account_id: Some(AccountId::from_stored("acct-9".into())),
            ..Default::default()
        };
        let ventilated = ListFilter {
            care_item: "ventilator".into(),
            text: "やまだ".into(),
            ..Default::default()
        };
        for scope in [&town, &centre, &department, &family] {
            for filter in [&ListFilter::default(), &ventilated] {
                let st = list_statement(Backend::Sqlite, scope, filter, "2026-11-21", 50, 0)
                    .expect("supported");
                let plan = crate::db::plans::plan(&db, &st.sql).await;
                let scans =
                    crate::db::plans::full_scans(&plan, &["others", "p", "u", "owned_page"]);
                assert!(scans.is_empty(), "{scope:?} {filter:?}: {plan:?}");
            }
        }
        for sql in [CHILD_AND_REACH] {
            let plan = crate::db::plans::plan(&db, sql).await;
            assert!(
                crate::db::plans::full_scans(&plan, &[]).is_empty(),
                "{plan:?}"
            );
        }
    }

    /// The backfill of migration 08 names each code with its bit; it must agree with core,
    /// or children recorded before the migration would be filtered on the wrong item.
    #[test]
    fn the_mask_backfill_uses_cores_bits() {
        let sqlite =
            include_str!("../../../../../../migrations/sqlite/20261121000008_child_masks.sql");
        let postgres =
            include_str!("../../../../../../migrations/postgres/20261121000008_child_masks.sql");
        assert_eq!(sqlite, postgres);
        let (care, devices) = sqlite
            .split_once("UPDATE children SET device_mask")
            .expect("two backfills");
        let whens = |sql: &str| -> Vec<(String, i64)> {
            sql.lines()
                .filter_map(|l| l.trim().strip_prefix("WHEN '"))
                .map(|l| {
                    let (code, bit) = l.split_once("' THEN ").expect("WHEN 'code' THEN bit");
                    (code.to_string(), bit.trim().parse().expect("a number"))
                })
                .collect()
        };
        let care = whens(care);
        assert_eq!(care.len(), CareItem::ALL.len());
        for (code, bit) in care {
            assert_eq!(
                CareItem::parse(&code).map(CareItem::bit).ok(),
                Some(bit),
                "{code}"
            );
        }
        let devices = whens(devices);
        assert_eq!(devices.len(), DeviceKind::ALL.len());
        for (code, bit) in devices {
            assert_eq!(
                DeviceKind::parse(&code).map(DeviceKind::bit),
                Some(bit),
                "{code}"
            );
        }
    }
}
