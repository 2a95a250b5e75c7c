//! The directory as Open Referral HSDS 3.1 (read-only): services, organizations,
//! service_at_locations, taxonomies and taxonomy terms with the paging and query
//! parameters of HSDS's OpenAPI, and the tabular export (CSV files and a
//! datapackage.json in a zip). The kinds and the care items are published as taxonomy
//! terms; a service's kind and accepted care are its `attributes`; vacancies are its
//! `capacities`, counted in places for 医療的ケア児. Public fields only, unless the reader
//! is signed in and may read the staff directory.

use std::collections::HashMap;
use std::io::Write;

use axum::Json;
use axum::extract::{Path, RawQuery, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use tsunagu_core::access::{Permission, may};
use tsunagu_core::care::CareItem;
use tsunagu_core::directory::{SERVICE_KINDS, ServiceKind, service_kind};
use tsunagu_core::ids::{OrganisationId, ServiceId};

use super::repo::{self, Provider, Search, ServiceDetail};
use crate::auth::guard::MaybeSession;
use crate::error::{ApiError, AppError};
use crate::features::municipalities;
use crate::state::AppState;
use crate::web::params;

/// The HSDS version served.
pub const HSDS_VERSION: &str = "3.1";
const DEFAULT_PER_PAGE: i64 = 50;
const MAX_PER_PAGE: i64 = 200;

/// An id for something tsunagu keeps no row of (a location, a phone, a taxonomy term):
/// the same name always gives the same UUID (version 8, from SHA-256).
pub fn derived_id(name: &str) -> String {
    let digest = Sha256::digest(format!("tsunagu:hsds:{name}").as_bytes());
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest[..16]);
    uuid::Builder::from_custom_bytes(bytes)
        .into_uuid()
        .hyphenated()
        .to_string()
}

const KINDS_TAXONOMY: &str = "service_kinds";
const CARE_TAXONOMY: &str = "care_items";

fn taxonomy_id(name: &str) -> String {
    derived_id(&format!("taxonomy:{name}"))
}

fn kind_term_id(kind: &ServiceKind) -> String {
    derived_id(&format!("term:{KINDS_TAXONOMY}:{}", kind.code))
}

fn care_term_id(item: CareItem) -> String {
    derived_id(&format!("term:{CARE_TAXONOMY}:{}", item.code()))
}

fn taxonomies() -> Vec<Value> {
    vec![
        json!({
            "id": taxonomy_id(KINDS_TAXONOMY),
            "name": "医療的ケア児の地域資源の種別",
            "description": tsunagu_core::directory::SERVICE_KINDS_SOURCE,
            "version": tsunagu_core::directory::SERVICE_KINDS_REVISED,
        }),
        json!({
            "id": taxonomy_id(CARE_TAXONOMY),
            "name": "医療的ケア判定スコアの項目",
            "description": "厚生労働省「医療的ケア判定スコア」（令和3年度障害福祉サービス等報酬改定）の医療的ケアの項目",
            "version": "2021",
        }),
    ]
}

/// The taxonomy terms: fixed data, put into JSON once.
fn terms() -> Vec<Value> {
    TERMS.clone()
}

static TERMS: std::sync::LazyLock<Vec<Value>> = std::sync::LazyLock::new(make_terms);

fn make_terms() -> Vec<Value> {
    let kinds = SERVICE_KINDS.iter().map(|k| {
        json!({
            "id": kind_term_id(k),
            "code": k.code,
            "name": k.label,
            "description": format!("{}（{}）", k.group.label_ja(), k.basis),
            "taxonomy": KINDS_TAXONOMY,
            "taxonomy_id": taxonomy_id(KINDS_TAXONOMY),
            "language": "ja",
        })
    });
    let care = CareItem::ALL.iter().map(|c| {
        json!({
            "id": care_term_id(*c),
            "code": c.code(),
            "name": c.label_ja(),
            "description": format!("{}を受け入れる", c.short_label_ja()),
            "taxonomy": CARE_TAXONOMY,
            "taxonomy_id": taxonomy_id(CARE_TAXONOMY),
            "language": "ja",
        })
    });
    kinds.chain(care).collect()
}

fn rfc3339(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// The unit vacancies are counted in.
fn places_unit() -> Value {
    json!({
        "id": derived_id("unit:places"),
        "name": "医療的ケア児の受け入れ枠（人）",
        "scheme": "tsunagu",
        "identifier": "places",
    })
}

/// Whether the reader sees staff-only fields.
fn staff(current: Option<&crate::auth::session::CurrentSession>) -> bool {
    current.is_some_and(|c| may(&c.actor, Permission::ReadDirectory, None).allowed())
}

fn hidden(detail: &ServiceDetail, staff: bool, field: &str) -> bool {
    !staff && detail.service.staff_only.split(',').any(|f| f == field)
}

/// A service's one-to-one fields, as HSDS names them: serialised as is for a page of
/// services (no tree of JSON values built per field), and the head of a full service.
#[derive(serde::Serialize)]
struct ServiceItem<'a> {
    id: &'a str,
    organization_id: &'a str,
    name: &'a str,
    #[serde(skip_serializing_if = "str::is_empty")]
    alternate_name: &'a str,
    description: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    url: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    email: Option<&'a str>,
    status: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    minimum_age: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    maximum_age: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    eligibility_description: Option<String>,
    assured_date: String,
    last_modified: String,
}

fn service_item(detail: &ServiceDetail, staff: bool) -> ServiceItem<'_> {
    let s = &detail.service;
    let kind = service_kind(&s.kind);
    let ages = match (s.age_from, s.age_to) {
        (None, None) => kind
            .and_then(|k| k.class_ages)
            .map(|(a, b)| (i64::from(a), i64::from(b))),
        (from, to) => Some((from.unwrap_or(0), to.unwrap_or(18))),
    };
    ServiceItem {
        id: s.id.as_str(),
        organization_id: s.organisation_id.as_str(),
        name: &s.name,
        alternate_name: &s.kana,
        description: if s.description.is_empty() {
            kind.map(|k| k.label).unwrap_or("")
        } else {
            &s.description
        },
        url: s.url.starts_with("http").then_some(s.url.as_str()),
        email: (!s.email.is_empty() && !hidden(detail, staff, "email")).then_some(s.email.as_str()),
        status: if s.active { "active" } else { "inactive" },
        // Class ages are ages on April 1: a child of class age 5 may be 6 by March.
        minimum_age: ages.map(|(from, _)| from),
        maximum_age: ages.map(|(_, to)| to + 1),
        eligibility_description: ages.map(|(from, to)| {
            format!(
                "{}（4月1日時点の年齢によるクラス）",
                tsunagu_core::directory::age_range_ja(from as i32, to as i32)
            )
        }),
        assured_date: s
            .confirmed_at
            .with_timezone(&tsunagu_core::clock::JST)
            .date_naive()
            .to_string(),
        last_modified: rfc3339(s.updated_at),
    }
}

/// A service as HSDS has it: one-to-one fields, and with `full` its lists and organization.
fn service_json(detail: &ServiceDetail, staff: bool, full: bool) -> Value {
    let s = &detail.service;
    let id = s.id.as_str();
    let kind = service_kind(&s.kind);
    let Ok(Value::Object(mut o)) = serde_json::to_value(service_item(detail, staff)) else {
        return Value::Null;
    };
    if !full {
        return Value::Object(o);
    }
    let mut phones = Vec::new();
    if !hidden(detail, staff, "phone") && !s.phone.is_empty() {
        phones.push(json!({
            "id": derived_id(&format!("phone:{id}")),
            "service_id": id,
            "number": s.phone,
            "type": "voice",
        }));
    }
    o.insert("phones".into(), Value::Array(phones));
    o.insert("schedules".into(), json!(schedules(detail)));
    let mut areas = vec![s.municipality_code.clone()];
    areas.extend(detail.areas.iter().cloned());
    o.insert(
        "service_areas".into(),
        Value::Array(
            areas
                .iter()
                .map(|code| {
                    json!({
                        "id": derived_id(&format!("area:{id}:{code}")),
                        "service_id": id,
                        "name": municipalities::repo::name_of(code),
                        "description": format!("全国地方公共団体コード {code}"),
                        "extent_type": "other",
                    })
                })
                .collect(),
        ),
    );
    o.insert(
        "service_at_locations".into(),
        json!([service_at_location_json(detail, staff, false)]),
    );
    let mut attributes = Vec::new();
    if let Some(k) = kind {
        attributes.push(attribute(id, &kind_term_id(k), "service_kind", k.label, ""));
    }
    let mut care = detail.care.clone();
    care.sort_by_key(|(c, _)| *c);
    for (item, conditions) in &care {
        attributes.push(attribute(
            id,
            &care_term_id(*item),
            "accepted_care",
            item.label_ja(),
            conditions,
        ));
    }
    o.insert("attributes".into(), Value::Array(attributes));
    let capacities = if hidden(detail, staff, "vacancies") {
        Vec::new()
    } else {
        detail
            .vacancies
            .iter()
            .map(|v| {
                let mut c = json!({
                    "id": derived_id(&format!("capacity:{id}:{}", v.class_age)),
                    "service_id": id,
                    "unit": places_unit(),
                    "unit_id": derived_id("unit:places"),
                    "available": v.vacancies,
                    "description": format!(
                        "{}（{}時点）",
                        super::service::class_age_label(v.class_age),
                        v.as_of
                    ),
                    "updated": rfc3339(v.recorded_at),
                });
                if let (Some(max), false) = (s.capacity, hidden(detail, staff, "capacity")) {
                    c["maximum"] = json!(max);
                }
                c
            })
            .collect()
    };
    o.insert("capacities".into(), Value::Array(capacities));
    o.insert(
        "organization".into(),
        json!({
            "id": s.organisation_id.as_str(),
            "name": s.organisation_name,
            "description": kind.map(|k| k.label).unwrap_or(""),
        }),
    );
    Value::Object(o)
}

fn attribute(service_id: &str, term_id: &str, link_type: &str, label: &str, value: &str) -> Value {
    let mut a = json!({
        "id": derived_id(&format!("attribute:{service_id}:{term_id}")),
        "link_id": service_id,
        "taxonomy_term_id": term_id,
        "link_type": link_type,
        "link_entity": "service",
        "label": label,
    });
    if !value.is_empty() {
        a["value"] = json!(value);
    }
    if let Some(term) = TERMS.iter().find(|t| t["id"] == term_id) {
        a["taxonomy_term"] = term.clone();
    }
    a
}

/// The weekly opening as an RFC 5545 rule, with the closures in words.
fn schedules(detail: &ServiceDetail) -> Vec<Value> {
    let s = &detail.service;
    const DAYS: [&str; 7] = ["MO", "TU", "WE", "TH", "FR", "SA", "SU"];
    let byday: Vec<&str> = s
        .weekdays
        .chars()
        .zip(DAYS)
        .filter(|(c, _)| *c == '1')
        .map(|(_, d)| d)
        .collect();
    if byday.is_empty() {
        return Vec::new();
    }
    let mut closed = Vec::new();
    if s.closed_on_holidays {
        closed.push("祝日");
    }
    if s.closed_year_end {
        closed.push("年末年始（12月29日〜1月3日）");
    }
    let mut schedule = json!({
        "id": derived_id(&format!("schedule:{}", s.id)),
        "service_id": s.id.as_str(),
        "freq": "WEEKLY",
        "wkst": "MO",
        "byday": byday.join(","),
    });
    if !s.opens_at.is_empty() {
        schedule["opens_at"] = json!(s.opens_at);
    }
    if !s.closes_at.is_empty() {
        schedule["closes_at"] = json!(s.closes_at);
    }
    if !closed.is_empty() {
        schedule["description"] = json!(format!("{}は休み", closed.join("・")));
    }
    vec![schedule]
}

fn location_json(detail: &ServiceDetail, staff: bool) -> Value {
    let s = &detail.service;
    let id = s.id.as_str();
    let location_id = derived_id(&format!("location:{id}"));
    let mut l = json!({
        "id": location_id,
        "location_type": "physical",
        "organization_id": s.organisation_id.as_str(),
        "name": s.name,
    });
    if !hidden(detail, staff, "address") {
        if let (Some(lat), Some(lon)) = (s.latitude, s.longitude) {
            l["latitude"] = json!(lat);
            l["longitude"] = json!(lon);
        }
        let town = municipalities::repo::name_of(&s.municipality_code);
        let prefecture = municipalities::repo::name_of(&format!(
            "{}0000",
            s.municipality_code.get(..2).unwrap_or("")
        ));
        l["addresses"] = json!([{
            "id": derived_id(&format!("address:{id}")),
            "location_id": location_id,
            "address_1": if s.address.is_empty() { town.to_string() } else { s.address.clone() },
            "city": town,
            "state_province": prefecture,
            "postal_code": "",
            "country": "JP",
            "address_type": "physical",
        }]);
    }
    l
}

fn service_at_location_json(detail: &ServiceDetail, staff: bool, with_service: bool) -> Value {
    let id = detail.service.id.as_str();
    // One location per service: the service_at_location shares the service's id.
    let mut sal = json!({
        "id": id,
        "service_id": id,
        "location_id": derived_id(&format!("location:{id}")),
        "location": location_json(detail, staff),
    });
    if with_service {
        sal["description"] = json!(detail.service.name);
    }
    sal
}

fn organization_json(p: &Provider) -> Value {
    json!({
        "id": p.id.as_str(),
        "name": p.name,
        "alternate_name": p.kana,
        "description": format!(
            "{}（{}）",
            crate::organisations::OrganisationKind::parse(&p.kind)
                .map(|k| k.label_ja())
                .unwrap_or(""),
            municipalities::repo::name_of(&p.municipality_code)
        ),
    })
}

/// HSDS's paging and query parameters, checked.
struct Paging {
    page: i64,
    per_page: i64,
    search: String,
    full: bool,
    minimal: bool,
    taxonomy_term_id: String,
    taxonomy_id: String,
    organization_id: Option<OrganisationId>,
    modified_after: Option<DateTime<Utc>>,
}

fn paging(query: Option<&str>) -> Result<Paging, AppError> {
    let pairs = params::pairs(query.unwrap_or(""))?;
    let get = |k: &str| {
        pairs
            .iter()
            .rev()
            .find(|(key, _)| key == k)
            .map(|(_, v)| v.trim().to_string())
    };
    let number = |k: &str, default: i64, max: i64| -> Result<i64, AppError> {
        match get(k) {
            None => Ok(default),
            Some(v) => v
                .parse::<i64>()
                .ok()
                .filter(|n| (1..=max).contains(n))
                .ok_or_else(|| {
                    AppError::BadRequest(format!(
                        "{k} は 1 から {max} までの整数で指定してください"
                    ))
                }),
        }
    };
    let flag = |k: &str| -> Result<bool, AppError> {
        match get(k).as_deref() {
            None | Some("false") => Ok(false),
            Some("true") => Ok(true),
            Some(_) => Err(AppError::BadRequest(format!(
                "{k} は true か false で指定してください"
            ))),
        }
    };
    let search = get("search").unwrap_or_default();
    if let Some(c) = tsunagu_core::text::hidden_character(&search, false) {
        return Err(AppError::BadRequest(
            tsunagu_core::text::hidden_character_message("search", c),
        ));
    }
    if search.chars().count() > 100 {
        return Err(AppError::BadRequest(
            "search は100文字以内で指定してください".into(),
        ));
    }
    let organization_id = match get("organization_id") {
        None => None,
        Some(v) => Some(OrganisationId::parse(&v).map_err(|_| {
            AppError::BadRequest("organization_id は UUID で指定してください".into())
        })?),
    };
    let modified_after = match get("modified_after") {
        None => None,
        Some(v) => Some(
            DateTime::parse_from_rfc3339(&v)
                .map(|d| d.with_timezone(&Utc))
                .map_err(|_| {
                    AppError::BadRequest(
                        "modified_after は 2026-12-01T00:00:00+09:00 の形（RFC 3339）で指定してください"
                            .into(),
                    )
                })?,
        ),
    };
    Ok(Paging {
        page: number("page", 1, 100_000)?,
        per_page: number("per_page", DEFAULT_PER_PAGE, MAX_PER_PAGE)?,
        search,
        full: flag("full")?,
        minimal: flag("minimal")?,
        taxonomy_term_id: get("taxonomy_term_id").unwrap_or_default(),
        taxonomy_id: get("taxonomy_id").unwrap_or_default(),
        organization_id,
        modified_after,
    })
}

/// A page as HSDS's `Page` has it, around its contents.
#[derive(serde::Serialize)]
struct Page<T> {
    total_items: i64,
    total_pages: i64,
    page_number: i64,
    size: usize,
    first_page: bool,
    last_page: bool,
    empty: bool,
    contents: Vec<T>,
}

fn page_json<T: serde::Serialize>(contents: Vec<T>, total: i64, paging: &Paging) -> Response {
    let total_pages = if total == 0 {
        0
    } else {
        (total + paging.per_page - 1) / paging.per_page
    };
    Json(Page {
        total_items: total,
        total_pages,
        page_number: paging.page,
        size: contents.len(),
        first_page: paging.page == 1,
        last_page: paging.page >= total_pages,
        empty: contents.is_empty(),
        contents,
    })
    .into_response()
}

/// The search a request's taxonomy filters ask for; `None` when a filter names nothing
/// tsunagu has (the answer is then an empty page, not an error).
fn search_of(paging: &Paging) -> Option<Search> {
    let mut search = Search {
        text: tsunagu_core::kana::search_key(&paging.search),
        organisation_ids: paging.organization_id.iter().cloned().collect(),
        modified_after: paging.modified_after,
        ..Search::default()
    };
    if !paging.taxonomy_term_id.is_empty() {
        if let Some(k) = SERVICE_KINDS
            .iter()
            .find(|k| kind_term_id(k) == paging.taxonomy_term_id)
        {
            search.kind = k.code.to_string();
        } else if let Some(c) = CareItem::ALL
            .iter()
            .find(|c| care_term_id(**c) == paging.taxonomy_term_id)
        {
            search.care_mask = c.bit();
        } else {
            return None;
        }
    }
    match paging.taxonomy_id.as_str() {
        "" => {}
        t if t == taxonomy_id(KINDS_TAXONOMY) => {}
        t if t == taxonomy_id(CARE_TAXONOMY) => search.any_care = true,
        _ => return None,
    }
    Some(search)
}

fn json_response(value: Value) -> Response {
    Json(value).into_response()
}

/// A missing record: the API's 404 (`not_found`).
fn not_found() -> ApiError {
    ApiError(AppError::NotFound)
}

/// `GET /api/hsds/`: what this API is.
pub async fn meta() -> Response {
    json_response(json!({
        "version": HSDS_VERSION,
        "profile": "https://docs.openreferral.org/en/latest/hsds/",
        "openapi_url": "https://raw.githubusercontent.com/openreferral/specification/3.1/schema/openapi.json",
    }))
}

pub async fn services(
    State(state): State<AppState>,
    MaybeSession(current): MaybeSession,
    RawQuery(query): RawQuery,
) -> Result<Response, ApiError> {
    let paging = paging(query.as_deref())?;
    let staff = staff(current.as_ref());
    let Some(search) = search_of(&paging) else {
        return Ok(page_json(Vec::<Value>::new(), 0, &paging));
    };
    let unfiltered = paging.search.is_empty()
        && paging.taxonomy_term_id.is_empty()
        && paging.taxonomy_id.is_empty()
        && paging.organization_id.is_none()
        && paging.modified_after.is_none();
    let offset = (paging.page - 1) * paging.per_page;
    // Every service: a page of the kana index, and the total kept per prefecture.
    let (found, total) = if unfiltered {
        repo::listing(&state.db, paging.per_page, offset, paging.full).await?
    } else {
        repo::search(&state.db, &search, paging.per_page, offset).await?
    };
    if !paging.full && !paging.minimal {
        let items: Vec<ServiceItem> = found.iter().map(|d| service_item(d, staff)).collect();
        return Ok(page_json(items, total, &paging));
    }
    let contents: Vec<Value> = found
        .iter()
        .map(|d| {
            if paging.minimal {
                json!({
                    "id": d.service.id.as_str(),
                    "name": d.service.name,
                    "status": if d.service.active { "active" } else { "inactive" },
                    "last_modified": rfc3339(d.service.updated_at),
                })
            } else {
                service_json(d, staff, true)
            }
        })
        .collect();
    Ok(page_json(contents, total, &paging))
}

async fn one_service(state: &AppState, id: &str) -> Result<ServiceDetail, ApiError> {
    let Ok(id) = ServiceId::parse(id) else {
        return Err(not_found());
    };
    match repo::detail(&state.db, &id).await? {
        Some(d) if d.service.active => Ok(d),
        _ => Err(not_found()),
    }
}

pub async fn service(
    State(state): State<AppState>,
    MaybeSession(current): MaybeSession,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let detail = one_service(&state, &id).await?;
    Ok(json_response(service_json(
        &detail,
        staff(current.as_ref()),
        true,
    )))
}

pub async fn service_at_locations(
    State(state): State<AppState>,
    MaybeSession(current): MaybeSession,
    RawQuery(query): RawQuery,
) -> Result<Response, ApiError> {
    let paging = paging(query.as_deref())?;
    let staff = staff(current.as_ref());
    let Some(search) = search_of(&paging) else {
        return Ok(page_json(Vec::<Value>::new(), 0, &paging));
    };
    let (found, total) = repo::search(
        &state.db,
        &search,
        paging.per_page,
        (paging.page - 1) * paging.per_page,
    )
    .await?;
    let contents: Vec<Value> = found
        .iter()
        .map(|d| service_at_location_json(d, staff, true))
        .collect();
    Ok(page_json(contents, total, &paging))
}

pub async fn service_at_location(
    State(state): State<AppState>,
    MaybeSession(current): MaybeSession,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let detail = one_service(&state, &id).await.map_err(|_| not_found())?;
    let mut sal = service_at_location_json(&detail, staff(current.as_ref()), true);
    sal["schedules"] = json!(schedules(&detail));
    Ok(json_response(sal))
}

pub async fn organizations(
    State(state): State<AppState>,
    RawQuery(query): RawQuery,
) -> Result<Response, ApiError> {
    let paging = paging(query.as_deref())?;
    let (found, total) = repo::providers(
        &state.db,
        None,
        paging.per_page,
        (paging.page - 1) * paging.per_page,
    )
    .await?;
    let contents: Vec<Value> = found.iter().map(organization_json).collect();
    Ok(page_json(contents, total, &paging))
}

pub async fn organization(
    State(state): State<AppState>,
    MaybeSession(current): MaybeSession,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let Ok(id) = OrganisationId::parse(&id) else {
        return Err(not_found());
    };
    let (found, _) = repo::providers(&state.db, Some(&id), 1, 0).await?;
    let provider = found.first().ok_or_else(not_found)?;
    let mut o = organization_json(provider);
    let staff = staff(current.as_ref());
    let search = Search {
        organisation_ids: vec![id],
        ..Search::default()
    };
    let (services, _) = repo::search(&state.db, &search, 500, 0).await?;
    o["services"] = Value::Array(
        services
            .iter()
            .map(|d| service_json(d, staff, false))
            .collect(),
    );
    Ok(json_response(o))
}

pub async fn taxonomies_list(RawQuery(query): RawQuery) -> Result<Response, ApiError> {
    let paging = paging(query.as_deref())?;
    let all = taxonomies();
    let total = all.len() as i64;
    Ok(page_json(paged(all, &paging), total, &paging))
}

pub async fn taxonomy(Path(id): Path<String>) -> Result<Response, ApiError> {
    taxonomies()
        .into_iter()
        .find(|t| t["id"] == id.as_str())
        .map(json_response)
        .ok_or_else(not_found)
}

pub async fn taxonomy_terms(RawQuery(query): RawQuery) -> Result<Response, ApiError> {
    let paging = paging(query.as_deref())?;
    let all: Vec<Value> = terms()
        .into_iter()
        .filter(|t| {
            paging.taxonomy_id.is_empty() || t["taxonomy_id"] == paging.taxonomy_id.as_str()
        })
        .collect();
    let total = all.len() as i64;
    Ok(page_json(paged(all, &paging), total, &paging))
}

pub async fn taxonomy_term(Path(id): Path<String>) -> Result<Response, ApiError> {
    terms()
        .into_iter()
        .find(|t| t["id"] == id.as_str())
        .map(json_response)
        .ok_or_else(not_found)
}

fn paged(all: Vec<Value>, paging: &Paging) -> Vec<Value> {
    all.into_iter()
        .skip(((paging.page - 1) * paging.per_page) as usize)
        .take(paging.per_page as usize)
        .collect()
}

// ---------------------------------------------------------------------------------------
// The tabular export
// ---------------------------------------------------------------------------------------

/// One CSV of the export: its name, its columns with their Frictionless types, its rows.
struct Table {
    name: &'static str,
    columns: Vec<(&'static str, &'static str)>,
    rows: Vec<Vec<String>>,
}

impl Table {
    fn new(name: &'static str, columns: &[(&'static str, &'static str)]) -> Self {
        Table {
            name,
            columns: columns.to_vec(),
            rows: Vec::new(),
        }
    }

    /// A row from a JSON object: each column's value as text ("" when absent).
    fn push(&mut self, object: &Value) {
        self.rows.push(
            self.columns
                .iter()
                .map(|(c, _)| match &object[*c] {
                    Value::String(s) => s.clone(),
                    Value::Null => String::new(),
                    other => other.to_string(),
                })
                .collect(),
        );
    }
}

/// `GET /api/hsds/export.zip`: the public directory as HSDS tabular data.
pub async fn export(State(state): State<AppState>) -> Result<Response, ApiError> {
    let services = repo::all_active(&state.db).await?;
    let (providers, _) = repo::providers(&state.db, None, 1_000_000, 0).await?;
    // Seconds of CPU for the national set: off the async workers, so other requests go on.
    let bytes = tokio::task::spawn_blocking(move || export_zip(&services, &providers))
        .await
        .map_err(|e| AppError::Internal(e.to_string()))??;
    let today = state.clock.today_jst().format("%Y%m%d");
    Ok((
        [
            (header::CONTENT_TYPE, "application/zip".to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"hsds_{today}.zip\""),
            ),
        ],
        bytes,
    )
        .into_response())
}

/// The tabular export's files, zipped with its datapackage.json.
fn export_zip(services: &[ServiceDetail], providers: &[Provider]) -> Result<Vec<u8>, AppError> {
    let mut organizations = Table::new(
        "organizations",
        &[
            ("id", "string"),
            ("name", "string"),
            ("alternate_name", "string"),
            ("description", "string"),
        ],
    );
    for p in providers {
        organizations.push(&organization_json(p));
    }
    let mut service_table = Table::new(
        "services",
        &[
            ("id", "string"),
            ("organization_id", "string"),
            ("name", "string"),
            ("alternate_name", "string"),
            ("description", "string"),
            ("url", "string"),
            ("email", "string"),
            ("status", "string"),
            ("minimum_age", "number"),
            ("maximum_age", "number"),
            ("eligibility_description", "string"),
            ("assured_date", "date"),
            ("last_modified", "datetime"),
        ],
    );
    let mut locations = Table::new(
        "locations",
        &[
            ("id", "string"),
            ("location_type", "string"),
            ("organization_id", "string"),
            ("name", "string"),
            ("latitude", "number"),
            ("longitude", "number"),
        ],
    );
    let mut addresses = Table::new(
        "addresses",
        &[
            ("id", "string"),
            ("location_id", "string"),
            ("address_1", "string"),
            ("city", "string"),
            ("state_province", "string"),
            ("postal_code", "string"),
            ("country", "string"),
            ("address_type", "string"),
        ],
    );
    let mut sals = Table::new(
        "service_at_locations",
        &[
            ("id", "string"),
            ("service_id", "string"),
            ("location_id", "string"),
        ],
    );
    let mut phones = Table::new(
        "phones",
        &[
            ("id", "string"),
            ("service_id", "string"),
            ("number", "string"),
            ("type", "string"),
        ],
    );
    let mut schedule_table = Table::new(
        "schedules",
        &[
            ("id", "string"),
            ("service_id", "string"),
            ("freq", "string"),
            ("wkst", "string"),
            ("byday", "string"),
            ("opens_at", "string"),
            ("closes_at", "string"),
            ("description", "string"),
        ],
    );
    let mut areas = Table::new(
        "service_areas",
        &[
            ("id", "string"),
            ("service_id", "string"),
            ("name", "string"),
            ("description", "string"),
            ("extent_type", "string"),
        ],
    );
    let mut capacities = Table::new(
        "service_capacities",
        &[
            ("id", "string"),
            ("service_id", "string"),
            ("unit_id", "string"),
            ("available", "number"),
            ("maximum", "number"),
            ("description", "string"),
            ("updated", "datetime"),
        ],
    );
    let mut attributes = Table::new(
        "attributes",
        &[
            ("id", "string"),
            ("link_id", "string"),
            ("taxonomy_term_id", "string"),
            ("link_type", "string"),
            ("link_entity", "string"),
            ("value", "string"),
            ("label", "string"),
        ],
    );
    for detail in services {
        let full = service_json(detail, false, true);
        service_table.push(&full);
        for sal in full["service_at_locations"]
            .as_array()
            .into_iter()
            .flatten()
        {
            sals.push(sal);
            locations.push(&sal["location"]);
            for a in sal["location"]["addresses"]
                .as_array()
                .into_iter()
                .flatten()
            {
                addresses.push(a);
            }
        }
        for (table, key) in [
            (&mut phones, "phones"),
            (&mut schedule_table, "schedules"),
            (&mut areas, "service_areas"),
            (&mut capacities, "capacities"),
            (&mut attributes, "attributes"),
        ] {
            for item in full[key].as_array().into_iter().flatten() {
                table.push(item);
            }
        }
    }
    let mut units = Table::new(
        "units",
        &[
            ("id", "string"),
            ("name", "string"),
            ("scheme", "string"),
            ("identifier", "string"),
        ],
    );
    units.push(&places_unit());
    let mut taxonomy_table = Table::new(
        "taxonomies",
        &[
            ("id", "string"),
            ("name", "string"),
            ("description", "string"),
            ("version", "string"),
        ],
    );
    for t in taxonomies() {
        taxonomy_table.push(&t);
    }
    let mut term_table = Table::new(
        "taxonomy_terms",
        &[
            ("id", "string"),
            ("code", "string"),
            ("name", "string"),
            ("description", "string"),
            ("taxonomy", "string"),
            ("taxonomy_id", "string"),
            ("language", "string"),
        ],
    );
    for t in terms() {
        term_table.push(&t);
    }
    let tables = [
        organizations,
        service_table,
        locations,
        addresses,
        sals,
        phones,
        schedule_table,
        areas,
        capacities,
        units,
        attributes,
        taxonomy_table,
        term_table,
    ];
    zip_of(&tables).map_err(|e| AppError::Internal(e.to_string()))
}

fn zip_of(tables: &[Table]) -> Result<Vec<u8>, Box<dyn std::error::Error + Send + Sync>> {
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    let mut resources = Vec::new();
    for table in tables {
        let path = format!("{}.csv", table.name);
        let mut out = csv::Writer::from_writer(Vec::new());
        out.write_record(table.columns.iter().map(|(c, _)| *c))?;
        for row in &table.rows {
            out.write_record(row)?;
        }
        zip.start_file(path.as_str(), options)?;
        zip.write_all(&out.into_inner().map_err(|e| e.to_string())?)?;
        resources.push(json!({
            "name": table.name,
            "path": path,
            "profile": "tabular-data-resource",
            "format": "csv",
            "mediatype": "text/csv",
            "encoding": "utf-8",
            "schema": {
                "fields": table.columns.iter().map(|(c, t)| json!({"name": c, "type": t})).collect::<Vec<_>>(),
            },
        }));
    }
    let package = json!({
        "name": "tsunagu-hsds",
        "title": "つなぐ 医療的ケア児の地域資源（HSDS 3.1）",
        "profile": "tabular-data-package",
        "resources": resources,
    });
    zip.start_file("datapackage.json", options)?;
    zip.write_all(serde_json::to_string_pretty(&package)?.as_bytes())?;
    Ok(zip.finish()?.into_inner())
}

/// The HSDS routes' ids of kinds and terms, for the tests and pages that link to them.
pub fn term_ids() -> HashMap<String, String> {
    SERVICE_KINDS
        .iter()
        .map(|k| (k.code.to_string(), kind_term_id(k)))
        .chain(
            CareItem::ALL
                .iter()
                .map(|c| (c.code().to_string(), care_term_id(*c))),
        )
        .collect()
}
