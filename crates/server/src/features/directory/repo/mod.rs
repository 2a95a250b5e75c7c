//! The directory's SQL: services, the care they accept, their device rules, the towns
//! they serve and the vacancies they reported (a history, never overwritten).

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, Utc};
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};
use tsunagu_core::access::Target;
use tsunagu_core::care::CareItem;
use tsunagu_core::device::DeviceKind;
use tsunagu_core::directory::DeviceRule;
use tsunagu_core::ids::{AccountId, ChildId, OrganisationId, ServiceId};
use tsunagu_core::municipality::MunicipalityCode;

use crate::db::{Db, codec};

pub mod surveys;

pub const RESOURCE_TYPE: &str = "service";

/// The report `v` is the latest of its service and class age.
macro_rules! latest_vacancy {
    () => {
        "NOT EXISTS (SELECT 1 FROM service_vacancies w WHERE w.service_id = v.service_id \
         AND w.class_age = v.class_age AND (w.recorded_at > v.recorded_at \
         OR (w.recorded_at = v.recorded_at AND w.id > v.id)))"
    };
}

/// A service as stored, with its organisation's name and who last confirmed it.
#[derive(Debug, Clone)]
pub struct Service {
    pub id: ServiceId,
    pub organisation_id: OrganisationId,
    pub organisation_name: String,
    pub kind: String,
    pub name: String,
    pub kana: String,
    pub description: String,
    pub address: String,
    pub municipality_code: String,
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
    pub phone: String,
    pub email: String,
    pub url: String,
    /// Open Monday..Sunday: seven characters, `1` open.
    pub weekdays: String,
    pub opens_at: String,
    pub closes_at: String,
    pub closed_on_holidays: bool,
    pub closed_year_end: bool,
    pub nurse_hours: String,
    pub age_from: Option<i64>,
    pub age_to: Option<i64>,
    pub max_tier: Option<String>,
    pub capacity: Option<i64>,
    pub care_children_now: Option<i64>,
    pub waiting_list: Option<i64>,
    pub care_mask: i64,
    /// Fields kept from the public page, comma-separated.
    pub staff_only: String,
    pub active: bool,
    pub version: i64,
    pub confirmed_at: DateTime<Utc>,
    pub confirmed_by_name: String,
    /// Any change, a confirmation or a vacancy report included.
    pub updated_at: DateTime<Utc>,
    /// Folded name, kana and address (`kana::search_key`), for search.
    pub search_key: String,
}

/// One vacancy report.
#[derive(Debug, Clone, PartialEq)]
pub struct Vacancy {
    /// -1: any age.
    pub class_age: i64,
    pub vacancies: i64,
    pub as_of: NaiveDate,
    pub recorded_at: DateTime<Utc>,
    pub recorded_by_name: String,
}

/// A service with everything the directory says of it.
#[derive(Debug, Clone)]
pub struct ServiceDetail {
    pub service: Service,
    pub care: Vec<(CareItem, String)>,
    pub device_rules: Vec<(DeviceKind, DeviceRule)>,
    /// Towns served besides where it is.
    pub areas: Vec<String>,
    /// The latest report per class age.
    pub vacancies: Vec<Vacancy>,
}

/// What is written: the validated entry of the form or the API.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    pub kind: String,
    pub name: String,
    pub kana: String,
    pub description: String,
    pub address: String,
    pub municipality_code: MunicipalityCode,
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
    pub phone: String,
    pub email: String,
    pub url: String,
    pub weekdays: String,
    pub opens_at: String,
    pub closes_at: String,
    pub closed_on_holidays: bool,
    pub closed_year_end: bool,
    pub nurse_hours: String,
    pub age_from: Option<i64>,
    pub age_to: Option<i64>,
    pub max_tier: Option<String>,
    pub capacity: Option<i64>,
    pub care_children_now: Option<i64>,
    pub waiting_list: Option<i64>,
    pub care: Vec<(CareItem, String)>,
    pub device_rules: Vec<(DeviceKind, DeviceRule)>,
    pub areas: Vec<MunicipalityCode>,
    pub staff_only: Vec<String>,
}

macro_rules! select_service {
    ($($tail:tt)+) => {
        concat!(
            "SELECT s.id, s.organisation_id, o.name AS organisation_name, s.kind, s.name, s.kana, \
             s.description, s.address, s.municipality_code, s.latitude, s.longitude, s.phone, \
             s.email, s.url, s.weekdays, s.opens_at, s.closes_at, s.closed_on_holidays, \
             s.closed_year_end, s.nurse_hours, s.age_from, s.age_to, s.max_tier, s.capacity, \
             s.care_children_now, s.waiting_list, s.care_mask, s.staff_only, s.active, s.version, \
             s.confirmed_at, s.updated_at, s.search_key, COALESCE(a.display_name, '') AS confirmed_by_name \
             FROM services s JOIN organisations o ON o.id = s.organisation_id \
             LEFT JOIN accounts a ON a.id = s.confirmed_by ",
            $($tail)+
        )
    };
}

fn from_row(row: &AnyRow) -> Result<Service, sqlx::Error> {
    Ok(Service {
        id: ServiceId::from_stored(row.try_get("id")?),
        organisation_id: OrganisationId::from_stored(row.try_get("organisation_id")?),
        organisation_name: row.try_get("organisation_name")?,
        kind: row.try_get("kind")?,
        name: row.try_get("name")?,
        kana: row.try_get("kana")?,
        description: row.try_get("description")?,
        address: row.try_get("address")?,
        municipality_code: row.try_get("municipality_code")?,
        latitude: row.try_get("latitude")?,
        longitude: row.try_get("longitude")?,
        phone: row.try_get("phone")?,
        email: row.try_get("email")?,
        url: row.try_get("url")?,
        weekdays: row.try_get("weekdays")?,
        opens_at: row.try_get("opens_at")?,
        closes_at: row.try_get("closes_at")?,
        closed_on_holidays: codec::get_flag(row, "closed_on_holidays")?,
        closed_year_end: codec::get_flag(row, "closed_year_end")?,
        nurse_hours: row.try_get("nurse_hours")?,
        age_from: row.try_get("age_from")?,
        age_to: row.try_get("age_to")?,
        max_tier: row.try_get("max_tier")?,
        capacity: row.try_get("capacity")?,
        care_children_now: row.try_get("care_children_now")?,
        waiting_list: row.try_get("waiting_list")?,
        care_mask: row.try_get("care_mask")?,
        staff_only: row.try_get("staff_only")?,
        active: codec::get_flag(row, "active")?,
        version: row.try_get("version")?,
        confirmed_at: codec::get_instant(row, "confirmed_at")?,
        confirmed_by_name: row.try_get("confirmed_by_name")?,
        updated_at: codec::get_instant(row, "updated_at")?,
        search_key: row.try_get("search_key")?,
    })
}

impl crate::gate::Record for Service {
    const RESOURCE: &'static str = RESOURCE_TYPE;
    const NOT_FOUND_JA: &'static str =
        "指定されたサービスは見つかりません（存在しないか、更新できる範囲の外にあります）";
    const BACK: (&'static str, &'static str) = ("/directory", "資源を探すへ戻る");

    type Id = ServiceId;

    async fn load(
        db: &Db,
        id: &ServiceId,
        _today: NaiveDate,
    ) -> Result<Option<(Self, Target)>, sqlx::Error> {
        let Some(service) = get(db, id).await? else {
            return Ok(None);
        };
        let Ok(municipality_code) = MunicipalityCode::parse(&service.municipality_code) else {
            return Ok(None);
        };
        let target = Target {
            resource_type: RESOURCE_TYPE.into(),
            resource_id: service.id.to_string(),
            owner_organisation_id: service.organisation_id.clone(),
            municipality_code,
            shared_with: Vec::new(),
            consented_departments: Vec::new(),
            guardian_account_ids: Vec::new(),
        };
        Ok(Some((service, target)))
    }

    fn id(&self) -> &ServiceId {
        &self.id
    }

    fn child_id(&self) -> Option<&ChildId> {
        None
    }
}

pub async fn get(db: &Db, id: &ServiceId) -> Result<Option<Service>, sqlx::Error> {
    sqlx::query(select_service!("WHERE s.id = $1"))
        .bind(id.as_str())
        .fetch_optional(db.pool())
        .await?
        .as_ref()
        .map(from_row)
        .transpose()
}

/// A service with its care, device rules, areas and current vacancies; `None` if missing.
pub async fn detail(db: &Db, id: &ServiceId) -> Result<Option<ServiceDetail>, sqlx::Error> {
    let Some(service) = get(db, id).await? else {
        return Ok(None);
    };
    Ok(Some(detail_of(db, service).await?))
}

/// A service already read (the gate's record) with its care, device rules, areas and
/// current vacancies.
pub async fn detail_of(db: &Db, service: Service) -> Result<ServiceDetail, sqlx::Error> {
    let mut details = details_of(db, Which::Ids(std::slice::from_ref(&service.id))).await?;
    Ok(with_details(service, &mut details))
}

type Details = (
    Vec<(CareItem, String)>,
    Vec<(DeviceKind, DeviceRule)>,
    Vec<String>,
    Vec<Vacancy>,
);

/// Which services' details to read.
enum Which<'a> {
    Ids(&'a [ServiceId]),
    /// Every active service of a prefecture (two digits).
    Prefecture(&'a str),
    /// Every active service.
    Active,
}

impl Which<'_> {
    /// `service_id IN (…)` over the column `column`, and its binds: generated placeholders
    /// only, never a value, reach the SQL text.
    fn condition(&self, column: &str) -> (String, Vec<String>) {
        match self {
            Which::Ids(ids) => (
                format!("{column} IN ({})", codec::placeholders(ids.len())),
                ids.iter().map(|i| i.as_str().to_string()).collect(),
            ),
            Which::Prefecture(code) => (
                format!(
                    "{column} IN (SELECT id FROM services WHERE municipality_code >= $1 \
                     AND municipality_code < $2 AND active = $3)"
                ),
                vec![(*code).to_string(), format!("{code}~")],
            ),
            Which::Active => (
                format!("{column} IN (SELECT id FROM services WHERE active = $1)"),
                Vec::new(),
            ),
        }
    }
}

/// The care, device rules, areas and current vacancies of many services, in four
/// statements whatever their number.
async fn details_of(db: &Db, which: Which<'_>) -> Result<HashMap<ServiceId, Details>, sqlx::Error> {
    let mut out: HashMap<ServiceId, Details> = HashMap::new();
    if matches!(which, Which::Ids(ids) if ids.is_empty()) {
        return Ok(out);
    }
    let active = matches!(which, Which::Prefecture(_) | Which::Active);
    let query = |sql: String, binds: &[String]| {
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
        for b in binds {
            q = q.bind(b.clone());
        }
        if active {
            q = q.bind(true);
        }
        q
    };
    let mut conn = db.pool().acquire().await?;
    let (condition, binds) = which.condition("service_id");
    for row in query(
        format!("SELECT service_id, care_item, conditions FROM service_care WHERE {condition} ORDER BY service_id, care_item"),
        &binds,
    )
    .fetch_all(&mut *conn)
    .await?
    {
        let id = ServiceId::from_stored(row.try_get("service_id")?);
        let code: String = row.try_get("care_item")?;
        if let Ok(item) = CareItem::parse(&code) {
            out.entry(id)
                .or_default()
                .0
                .push((item, row.try_get("conditions")?));
        }
    }
    for row in query(
        format!("SELECT service_id, device_kind, rule FROM service_device_rules WHERE {condition} ORDER BY service_id, device_kind"),
        &binds,
    )
    .fetch_all(&mut *conn)
    .await?
    {
        let id = ServiceId::from_stored(row.try_get("service_id")?);
        let kind: String = row.try_get("device_kind")?;
        let rule: String = row.try_get("rule")?;
        if let (Some(kind), Some(rule)) = (DeviceKind::parse(&kind), DeviceRule::parse(&rule)) {
            out.entry(id).or_default().1.push((kind, rule));
        }
    }
    for row in query(
        format!("SELECT service_id, municipality_code FROM service_areas WHERE {condition} ORDER BY service_id, municipality_code"),
        &binds,
    )
    .fetch_all(&mut *conn)
    .await?
    {
        let id = ServiceId::from_stored(row.try_get("service_id")?);
        out.entry(id)
            .or_default()
            .2
            .push(row.try_get("municipality_code")?);
    }
    let (condition, binds) = which.condition("v.service_id");
    for row in query(
        format!(
            "SELECT v.service_id, v.class_age, v.vacancies, v.as_of, v.recorded_at, \
             COALESCE(a.display_name, '') AS recorded_by_name \
             FROM service_vacancies v LEFT JOIN accounts a ON a.id = v.recorded_by \
             WHERE {condition} AND {} ORDER BY v.service_id, v.class_age",
            latest_vacancy!()
        ),
        &binds,
    )
    .fetch_all(&mut *conn)
    .await?
    {
        let id = ServiceId::from_stored(row.try_get("service_id")?);
        out.entry(id).or_default().3.push(Vacancy {
            class_age: row.try_get("class_age")?,
            vacancies: row.try_get("vacancies")?,
            as_of: codec::get_date(&row, "as_of")?,
            recorded_at: codec::get_instant(&row, "recorded_at")?,
            recorded_by_name: row.try_get("recorded_by_name")?,
        });
    }
    Ok(out)
}

/// What a search asks for. Empty parts ask nothing.
#[derive(Debug, Clone, Default)]
pub struct Search {
    /// Two digits: the prefecture searched.
    pub prefecture: String,
    /// A town: services located in it or serving it.
    pub municipality_code: String,
    pub kind: String,
    /// Every one of these care items accepted.
    pub care_mask: i64,
    /// A class age that must have a vacancy now (or any age, with `vacancies`).
    pub class_age: Option<i64>,
    pub vacancies: bool,
    /// Folded with `search_key`.
    pub text: String,
    /// Only these organisations' services (a facility's own list).
    pub organisation_ids: Vec<OrganisationId>,
    pub include_inactive: bool,
    /// Only services that accept some care item (the HSDS care taxonomy).
    pub any_care: bool,
    /// Only services changed at or after this instant (HSDS `modified_after`).
    pub modified_after: Option<DateTime<Utc>>,
}

macro_rules! search_where {
    () => {
        concat!(
            "s.municipality_code >= $1 AND s.municipality_code < $14 \
             AND ($2 = '' OR s.municipality_code = $2 \
                  OR EXISTS (SELECT 1 FROM service_areas r WHERE r.service_id = s.id AND r.municipality_code = $2)) \
             AND ($3 = '' OR s.kind = $3) \
             AND ((s.care_mask & $4) = $4) \
             AND ($5 = 0 OR EXISTS (SELECT 1 FROM service_vacancies v WHERE v.service_id = s.id \
                  AND v.vacancies > 0 AND ($6 < 0 OR v.class_age IN (-1, $6)) AND ",
            latest_vacancy!(),
            ")) AND ($7 = '' OR s.search_key LIKE $8 ESCAPE '\\') \
             AND ($9 = '' OR ',' || $9 || ',' LIKE '%,' || s.organisation_id || ',%') \
             AND ($10 = 1 OR s.active = $11) \
             AND ($12 = 0 OR s.care_mask <> 0) AND s.updated_at >= $13"
        )
    };
}

fn bind_search<'q>(
    query: sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments>,
    search: &Search,
    pattern: &str,
) -> sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments> {
    let organisations = search
        .organisation_ids
        .iter()
        .map(|o| o.as_str())
        .collect::<Vec<_>>()
        .join(",");
    query
        .bind(if search.prefecture.is_empty() {
            String::new()
        } else {
            search.prefecture.clone()
        })
        .bind(search.municipality_code.clone())
        .bind(search.kind.clone())
        .bind(search.care_mask)
        .bind(i64::from(search.vacancies))
        .bind(search.class_age.unwrap_or(-1))
        .bind(search.text.clone())
        .bind(pattern.to_string())
        .bind(organisations)
        .bind(i64::from(search.include_inactive))
        .bind(true)
        .bind(i64::from(search.any_care))
        .bind(search.modified_after.map_or(i64::MIN, codec::instant_to_db))
        .bind(upper_of(search))
}

/// The upper end of a search's municipality range (`$14`).
fn upper_of(search: &Search) -> String {
    if search.prefecture.is_empty() {
        "~".into()
    } else {
        format!("{}~", search.prefecture)
    }
}

fn with_details(service: Service, details: &mut HashMap<ServiceId, Details>) -> ServiceDetail {
    let (care, device_rules, areas, vacancies) = details.remove(&service.id).unwrap_or_default();
    ServiceDetail {
        service,
        care,
        device_rules,
        areas,
        vacancies,
    }
}

/// The organisation, kind and name of every service (active or not) of these organisations:
/// what an import compares its rows with. Generated placeholders only reach the SQL text.
pub async fn names_of(
    db: &Db,
    organisations: &[OrganisationId],
) -> Result<Vec<(OrganisationId, String, String)>, sqlx::Error> {
    if organisations.is_empty() {
        return Ok(Vec::new());
    }
    let sql = format!(
        "SELECT organisation_id, kind, name FROM services WHERE organisation_id IN ({}) \
         ORDER BY organisation_id, kind, name",
        codec::placeholders(organisations.len())
    );
    let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
    for o in organisations {
        query = query.bind(o.as_str().to_string());
    }
    query
        .fetch_all(db.pool())
        .await?
        .iter()
        .map(|row| {
            Ok((
                OrganisationId::from_stored(row.try_get("organisation_id")?),
                row.try_get("kind")?,
                row.try_get("name")?,
            ))
        })
        .collect()
}

/// One page of services, by kana, and how many match.
pub async fn search(
    db: &Db,
    search: &Search,
    limit: i64,
    offset: i64,
) -> Result<(Vec<ServiceDetail>, i64), sqlx::Error> {
    let pattern = codec::like_contains(&search.text);
    let total: i64 = bind_search(
        sqlx::query(concat!(
            "SELECT count(*) FROM services s WHERE ",
            search_where!()
        )),
        search,
        &pattern,
    )
    .fetch_one(db.pool())
    .await?
    .try_get(0)?;
    let rows = bind_search(
        sqlx::query(select_service!(
            "WHERE ",
            search_where!(),
            " ORDER BY s.kana, s.id LIMIT $15 OFFSET $16"
        )),
        search,
        &pattern,
    )
    .bind(limit)
    .bind(offset)
    .fetch_all(db.pool())
    .await?;
    let services = rows.iter().map(from_row).collect::<Result<Vec<_>, _>>()?;
    let ids: Vec<ServiceId> = services.iter().map(|s| s.id.clone()).collect();
    let mut details = details_of(db, Which::Ids(&ids)).await?;
    let out = services
        .into_iter()
        .map(|service| with_details(service, &mut details))
        .collect();
    Ok((out, total))
}

/// Every active service in a prefecture with its details: what matching considers.
pub async fn in_prefecture(db: &Db, prefecture: &str) -> Result<Vec<ServiceDetail>, sqlx::Error> {
    let search = Search {
        prefecture: prefecture.to_string(),
        ..Search::default()
    };
    let services = search_all_rows(db, &search).await?;
    let mut details = details_of(db, Which::Prefecture(prefecture)).await?;
    Ok(services
        .into_iter()
        .map(|service| with_details(service, &mut details))
        .collect())
}

/// Every active service with its details, by kana (the tabular export): the details in
/// four statements, not one set per chunk of ids.
pub async fn all_active(db: &Db) -> Result<Vec<ServiceDetail>, sqlx::Error> {
    let services = search_all_rows(db, &Search::default()).await?;
    let mut details = details_of(db, Which::Active).await?;
    Ok(services
        .into_iter()
        .map(|service| with_details(service, &mut details))
        .collect())
}

/// The organisations that offer active services, by kana: one page and how many there
/// are, or the one named.
pub async fn providers(
    db: &Db,
    only: Option<&OrganisationId>,
    limit: i64,
    offset: i64,
) -> Result<(Vec<Provider>, i64), sqlx::Error> {
    let only = only.map(OrganisationId::as_str).unwrap_or("");
    let total: i64 = sqlx::query(
        "SELECT count(*) FROM organisations o WHERE ($1 = '' OR o.id = $1) \
         AND EXISTS (SELECT 1 FROM services s WHERE s.organisation_id = o.id AND s.active = $2)",
    )
    .bind(only)
    .bind(true)
    .fetch_one(db.pool())
    .await?
    .try_get(0)?;
    let rows = sqlx::query(
        "SELECT o.id, o.name, o.kana, o.kind, o.municipality_code \
         FROM organisations o WHERE ($1 = '' OR o.id = $1) \
         AND EXISTS (SELECT 1 FROM services s WHERE s.organisation_id = o.id AND s.active = $2) \
         ORDER BY o.kana, o.id LIMIT $3 OFFSET $4",
    )
    .bind(only)
    .bind(true)
    .bind(limit)
    .bind(offset)
    .fetch_all(db.pool())
    .await?;
    let providers = rows
        .iter()
        .map(|row| {
            Ok(Provider {
                id: OrganisationId::from_stored(row.try_get("id")?),
                name: row.try_get("name")?,
                kana: row.try_get("kana")?,
                kind: row.try_get("kind")?,
                municipality_code: row.try_get("municipality_code")?,
            })
        })
        .collect::<Result<Vec<_>, sqlx::Error>>()?;
    Ok((providers, total))
}

/// An organisation that offers services.
#[derive(Debug, Clone)]
pub struct Provider {
    pub id: OrganisationId,
    pub name: String,
    pub kana: String,
    pub kind: String,
    pub municipality_code: String,
}

/// Every service a search matches (rows only).
async fn search_all_rows(db: &Db, search: &Search) -> Result<Vec<Service>, sqlx::Error> {
    let pattern = codec::like_contains(&search.text);
    let rows = bind_search(
        sqlx::query(select_service!(
            "WHERE ",
            search_where!(),
            " ORDER BY s.kana, s.id"
        )),
        search,
        &pattern,
    )
    .fetch_all(db.pool())
    .await?;
    rows.iter().map(from_row).collect()
}

fn care_mask(entry: &Entry) -> i64 {
    CareItem::mask(entry.care.iter().map(|(c, _)| c))
}

fn search_key_of(entry: &Entry) -> String {
    tsunagu_core::kana::search_key(&format!("{} {} {}", entry.name, entry.kana, entry.address))
}

/// Creates a service; runs in the caller's transaction (which audits it).
pub async fn insert(
    conn: &mut AnyConnection,
    id: &ServiceId,
    organisation_id: &OrganisationId,
    entry: &Entry,
    account_id: Option<&AccountId>,
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    let at = codec::instant_to_db(now);
    bind_entry(
        sqlx::query(
            "INSERT INTO services (kind, name, kana, search_key, description, address, municipality_code, \
             latitude, longitude, phone, email, url, weekdays, opens_at, closes_at, closed_on_holidays, \
             closed_year_end, nurse_hours, age_from, age_to, max_tier, capacity, care_children_now, \
             waiting_list, care_mask, staff_only, id, organisation_id, confirmed_at, confirmed_by, \
             created_at, updated_at, active, version) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, \
             $19, $20, $21, $22, $23, $24, $25, $26, $27, $28, $29, $30, $29, $29, $31, 1)",
        ),
        entry,
    )
    .bind(id.as_str())
    .bind(organisation_id.as_str())
    .bind(at)
    .bind(account_id.map(AccountId::as_str))
    .bind(true)
    .execute(&mut *conn)
    .await?;
    write_lists(conn, id, entry).await?;
    bump(conn, prefecture_of(&entry.municipality_code.to_string())).await
}

fn bind_entry<'q>(
    query: sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments>,
    entry: &Entry,
) -> sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments> {
    query
        .bind(entry.kind.clone())
        .bind(entry.name.clone())
        .bind(entry.kana.clone())
        .bind(search_key_of(entry))
        .bind(entry.description.clone())
        .bind(entry.address.clone())
        .bind(entry.municipality_code.to_string())
        .bind(entry.latitude)
        .bind(entry.longitude)
        .bind(entry.phone.clone())
        .bind(entry.email.clone())
        .bind(entry.url.clone())
        .bind(entry.weekdays.clone())
        .bind(entry.opens_at.clone())
        .bind(entry.closes_at.clone())
        .bind(entry.closed_on_holidays)
        .bind(entry.closed_year_end)
        .bind(entry.nurse_hours.clone())
        .bind(entry.age_from)
        .bind(entry.age_to)
        .bind(entry.max_tier.clone())
        .bind(entry.capacity)
        .bind(entry.care_children_now)
        .bind(entry.waiting_list)
        .bind(care_mask(entry))
        .bind(entry.staff_only.join(","))
}

/// Writes `entry` over the service if it is still at `expected` (also confirming it);
/// `false`, nothing written, when someone saved in between.
pub async fn update(
    conn: &mut AnyConnection,
    id: &ServiceId,
    expected: i64,
    previous_municipality: &str,
    entry: &Entry,
    account_id: &AccountId,
    now: DateTime<Utc>,
) -> Result<bool, sqlx::Error> {
    let at = codec::instant_to_db(now);
    // The version-checked write first: on SQLite it takes the write lock before any read.
    let done = bind_entry(
        sqlx::query(
            "UPDATE services SET kind = $1, name = $2, kana = $3, search_key = $4, description = $5, \
             address = $6, municipality_code = $7, latitude = $8, longitude = $9, phone = $10, \
             email = $11, url = $12, weekdays = $13, opens_at = $14, closes_at = $15, \
             closed_on_holidays = $16, closed_year_end = $17, nurse_hours = $18, age_from = $19, \
             age_to = $20, max_tier = $21, capacity = $22, care_children_now = $23, waiting_list = $24, \
             care_mask = $25, staff_only = $26, confirmed_at = $27, confirmed_by = $28, updated_at = $27, \
             version = version + 1 WHERE id = $29 AND version = $30",
        ),
        entry,
    )
    .bind(at)
    .bind(account_id.as_str())
    .bind(id.as_str())
    .bind(expected)
    .execute(&mut *conn)
    .await?;
    if done.rows_affected() != 1 {
        return Ok(false);
    }
    for table in [
        "DELETE FROM service_care WHERE service_id = $1",
        "DELETE FROM service_device_rules WHERE service_id = $1",
        "DELETE FROM service_areas WHERE service_id = $1",
    ] {
        sqlx::query(table)
            .bind(id.as_str())
            .execute(&mut *conn)
            .await?;
    }
    write_lists(conn, id, entry).await?;
    let now_in = entry.municipality_code.to_string();
    bump(conn, prefecture_of(&now_in)).await?;
    // A service that moved changed the prefecture it left too.
    if prefecture_of(previous_municipality) != prefecture_of(&now_in) {
        bump(conn, prefecture_of(previous_municipality)).await?;
    }
    Ok(true)
}

async fn write_lists(
    conn: &mut AnyConnection,
    id: &ServiceId,
    entry: &Entry,
) -> Result<(), sqlx::Error> {
    for (item, conditions) in &entry.care {
        sqlx::query(
            "INSERT INTO service_care (service_id, care_item, conditions) VALUES ($1, $2, $3)",
        )
        .bind(id.as_str())
        .bind(item.code())
        .bind(conditions)
        .execute(&mut *conn)
        .await?;
    }
    for (device, rule) in &entry.device_rules {
        sqlx::query(
            "INSERT INTO service_device_rules (service_id, device_kind, rule) VALUES ($1, $2, $3)",
        )
        .bind(id.as_str())
        .bind(device.code())
        .bind(rule.code())
        .execute(&mut *conn)
        .await?;
    }
    for code in &entry.areas {
        sqlx::query("INSERT INTO service_areas (service_id, municipality_code) VALUES ($1, $2)")
            .bind(id.as_str())
            .bind(code.to_string())
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}

/// Records vacancies (each a new report) and confirms the service, if it is still at
/// `expected`; `false` when someone saved in between.
pub async fn record_vacancies(
    conn: &mut AnyConnection,
    id: &ServiceId,
    expected: i64,
    reports: &[(i64, i64)],
    as_of: NaiveDate,
    account_id: Option<&AccountId>,
    now: DateTime<Utc>,
) -> Result<bool, sqlx::Error> {
    if !confirm(conn, id, expected, account_id, now).await? {
        return Ok(false);
    }
    for (class_age, vacancies) in reports {
        sqlx::query(
            "INSERT INTO service_vacancies (id, service_id, class_age, vacancies, as_of, recorded_at, recorded_by) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(uuid::Uuid::new_v4().to_string())
        .bind(id.as_str())
        .bind(*class_age)
        .bind(*vacancies)
        .bind(codec::date_to_db(as_of))
        .bind(codec::instant_to_db(now))
        .bind(account_id.map(AccountId::as_str))
        .execute(&mut *conn)
        .await?;
    }
    Ok(true)
}

/// Marks the service as confirmed current by `account_id` now.
pub async fn confirm(
    conn: &mut AnyConnection,
    id: &ServiceId,
    expected: i64,
    account_id: Option<&AccountId>,
    now: DateTime<Utc>,
) -> Result<bool, sqlx::Error> {
    let at = codec::instant_to_db(now);
    let done = sqlx::query(
        "UPDATE services SET confirmed_at = $1, confirmed_by = $2, updated_at = $1, \
         version = version + 1 WHERE id = $3 AND version = $4",
    )
    .bind(at)
    .bind(account_id.map(AccountId::as_str))
    .bind(id.as_str())
    .bind(expected)
    .execute(&mut *conn)
    .await?;
    if done.rows_affected() != 1 {
        return Ok(false);
    }
    bump_of_service(conn, id).await?;
    Ok(true)
}

/// The vacancy history of a service, newest first (at most `limit` reports).
pub async fn vacancy_history(
    db: &Db,
    id: &ServiceId,
    limit: i64,
) -> Result<Vec<Vacancy>, sqlx::Error> {
    let rows = sqlx::query(
        "SELECT v.class_age, v.vacancies, v.as_of, v.recorded_at, \
         COALESCE(a.display_name, '') AS recorded_by_name \
         FROM service_vacancies v LEFT JOIN accounts a ON a.id = v.recorded_by \
         WHERE v.service_id = $1 ORDER BY v.recorded_at DESC, v.class_age LIMIT $2",
    )
    .bind(id.as_str())
    .bind(limit)
    .fetch_all(db.pool())
    .await?;
    rows.iter()
        .map(|row| {
            Ok(Vacancy {
                class_age: row.try_get("class_age")?,
                vacancies: row.try_get("vacancies")?,
                as_of: codec::get_date(row, "as_of")?,
                recorded_at: codec::get_instant(row, "recorded_at")?,
                recorded_by_name: row.try_get("recorded_by_name")?,
            })
        })
        .collect()
}

/// The two-digit prefecture of a municipality code.
pub fn prefecture_of(municipality_code: &str) -> &str {
    municipality_code.get(..2).unwrap_or("")
}

/// The municipality codes of a prefecture lie in `[lower, upper)`: a range an index serves.
fn prefecture_range(prefecture: &str) -> (String, String) {
    (prefecture.to_string(), format!("{prefecture}~"))
}

/// Marks a prefecture's directory changed and recounts its active services; in the
/// change's transaction, so a copy checked against the generation never misses a change.
pub async fn bump(conn: &mut AnyConnection, prefecture: &str) -> Result<(), sqlx::Error> {
    let (lower, upper) = prefecture_range(prefecture);
    sqlx::query(
        "INSERT INTO directory_generations (prefecture_code, generation, active_services) \
         SELECT $1, 1, (SELECT count(*) FROM services WHERE municipality_code >= $2 \
                        AND municipality_code < $3 AND active = $4) WHERE 1 = 1 \
         ON CONFLICT (prefecture_code) DO UPDATE SET \
         generation = directory_generations.generation + 1, \
         active_services = excluded.active_services",
    )
    .bind(prefecture)
    .bind(lower)
    .bind(upper)
    .bind(true)
    .execute(conn)
    .await?;
    Ok(())
}

/// [`bump`] for the prefecture a stored service is in.
async fn bump_of_service(conn: &mut AnyConnection, id: &ServiceId) -> Result<(), sqlx::Error> {
    let code: Option<String> = sqlx::query("SELECT municipality_code FROM services WHERE id = $1")
        .bind(id.as_str())
        .fetch_optional(&mut *conn)
        .await?
        .map(|row| row.try_get(0))
        .transpose()?;
    match code {
        Some(code) => bump(conn, prefecture_of(&code)).await,
        None => Ok(()),
    }
}

/// [`bump`] for every prefecture that has services (after a bulk load).
pub async fn bump_all(conn: &mut AnyConnection) -> Result<(), sqlx::Error> {
    let prefectures: Vec<String> =
        sqlx::query("SELECT DISTINCT substr(municipality_code, 1, 2) FROM services ORDER BY 1")
            .fetch_all(&mut *conn)
            .await?
            .iter()
            .map(|row| row.try_get(0))
            .collect::<Result<_, _>>()?;
    for prefecture in prefectures {
        bump(conn, &prefecture).await?;
    }
    Ok(())
}

/// A prefecture's generation (0 before its first service).
pub async fn generation(db: &Db, prefecture: &str) -> Result<i64, sqlx::Error> {
    Ok(
        sqlx::query("SELECT generation FROM directory_generations WHERE prefecture_code = $1")
            .bind(prefecture)
            .fetch_optional(db.pool())
            .await?
            .map(|row| row.try_get(0))
            .transpose()?
            .unwrap_or(0),
    )
}

/// How many active services there are in all.
pub async fn active_total(db: &Db) -> Result<i64, sqlx::Error> {
    let row = sqlx::query(
        "SELECT CAST(COALESCE(sum(active_services), 0) AS BIGINT) FROM directory_generations",
    )
    .fetch_one(db.pool())
    .await?;
    row.try_get(0)
}

/// One page of all active services in kana order (the listing index) and how many there
/// are (kept per prefecture, not counted); their care, areas and vacancies only
/// `with_details`. One statement for the page and its total.
pub async fn listing(
    db: &Db,
    limit: i64,
    offset: i64,
    with_details: bool,
) -> Result<(Vec<ServiceDetail>, i64), sqlx::Error> {
    let rows = sqlx::query(concat!(
        "SELECT page.*, (SELECT CAST(COALESCE(sum(active_services), 0) AS BIGINT) \
         FROM directory_generations) AS listing_total FROM (",
        select_service!("WHERE s.active = $1 ORDER BY s.kana, s.id LIMIT $2 OFFSET $3"),
        ") page"
    ))
    .bind(true)
    .bind(limit)
    .bind(offset)
    .fetch_all(db.pool())
    .await?;
    let total = match rows.first() {
        Some(row) => row.try_get("listing_total")?,
        None => active_total(db).await?,
    };
    let services = rows.iter().map(from_row).collect::<Result<Vec<_>, _>>()?;
    let mut details = if with_details {
        let ids: Vec<ServiceId> = services.iter().map(|s| s.id.clone()).collect();
        details_of(db, Which::Ids(&ids)).await?
    } else {
        HashMap::new()
    };
    Ok((
        services
            .into_iter()
            .map(|service| self::with_details(service, &mut details))
            .collect(),
        total,
    ))
}
