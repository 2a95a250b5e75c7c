//! The children JSON API: the same policy, validation and audit as the pages.
//!
//! - `GET /api/v1/children`: the list page's filters (`q`, `municipality`, `care_item`,
//!   `device`, `tier`, `age`, `stage`, `status`, `wishes_to_work`) with `page`/`per_page`;
//!   not a read of any one record (no audit entry per child, like the page).
//! - `POST /api/v1/children`: registers a child (201 and the record).
//! - `GET /api/v1/children/{id}`: the whole record; an audited read.
//! - `PATCH /api/v1/children/{id}`: changes the fields present in the body; `version` is
//!   required and a stale one answers 409 with the changes others made meanwhile.
//! - `GET /api/v1/children/{id}/transitions`: school and nursery transitions; an audited read.
//! - `GET /api/v1/children/{id}/access-log`: who opened the record; the family and the owner
//!   organisation only; an audited read.
//!
//! A record out of the caller's reach answers 404 `not_found` exactly like a missing one,
//! and the attempt is audited as denied. Bodies use the field keys of `profile::parse` (the
//! one validator), with the lists as arrays of objects instead of numbered form rows.

use std::collections::{HashMap, HashSet};
use tsunagu_core::ids::{ChildId, OrganisationId};

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;
use serde_json::{Map, Value};
use tsunagu_core::access::{Permission, registering_membership};
use tsunagu_core::calendar::LifeStage;
use tsunagu_core::care::{CareError, CareItem, CareLine, CareVariant};
use tsunagu_core::transitions::{self, Transition};

use super::profile::{self, Guardian, Profile, Sibling};
use super::repo::Child;
use super::service::{self, AccessHistory, ChildRecord, EditOutcome};
use super::{filters, store};
use crate::audit::{self, Action, Event, Outcome};
use crate::auth::guard::{Access, Routes, audit_context};
use crate::auth::session::CurrentSession;
use crate::error::{ApiError, AppError, ErrorBody, FieldError};
use crate::gate::{Gate, Opened, Use};
use crate::state::AppState;
use crate::web::{api_schema, params};
use utoipa::ToSchema;

/// The API's answer for a record that is missing or out of the caller's reach.
const NOT_IN_REACH: &str = "記録がない、または呼び出した人の範囲の外（not_found）。どちらも同じ応答で、試みは監査ログに denied として記録されます";

/// Rows per page when `per_page` is not given, and the most a page may hold.
const PER_PAGE: i64 = 50;
const MAX_PER_PAGE: i64 = 100;

pub fn routes() -> Routes {
    use Permission as P;
    Routes::new()
        .get("/api/v1/children", Access::Permission(P::ReadChild), list)
        .post(
            "/api/v1/children",
            Access::Permission(P::WriteChild),
            create,
        )
        .get(
            "/api/v1/children/{id}",
            Access::Permission(P::ReadChild),
            detail,
        )
        .patch(
            "/api/v1/children/{id}",
            Access::Permission(P::WriteChild),
            update,
        )
        .get(
            "/api/v1/children/{id}/transitions",
            Access::Permission(P::ReadChild),
            transitions_of,
        )
        .get(
            "/api/v1/children/{id}/access-log",
            Access::Permission(P::ReadChild),
            access_log,
        )
}

// ---------------------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------------------

/// The body as a JSON object, or 400 `bad_request`.
fn json_object(body: &Bytes) -> Result<Map<String, Value>, AppError> {
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(map)) => Ok(map),
        _ => Err(AppError::BadRequest(
            "児童の記録をJSONのオブジェクトで送信してください（Content-Type: application/json）"
                .into(),
        )),
    }
}

// ---------------------------------------------------------------------------------------
// What the API answers
// ---------------------------------------------------------------------------------------

#[derive(Serialize, ToSchema)]
#[schema(as = SummaryScore)]
struct ListScore {
    total: i64,
    #[schema(schema_with = api_schema::tier)]
    tier: String,
}

/// One row of the list: enough to choose a record, not the record.
#[derive(Serialize, ToSchema)]
#[schema(as = ChildSummary)]
struct ListItem {
    #[schema(value_type = String, format = "uuid")]
    id: ChildId,
    #[schema(pattern = "^[0-9]{6}$")]
    municipality_code: String,
    municipality_name: String,
    version: i64,
    name: String,
    name_kana: String,
    birth_date: NaiveDate,
    #[schema(schema_with = sex)]
    sex: String,
    #[schema(schema_with = status)]
    status: String,
    #[schema(schema_with = api_schema::care_items)]
    care_items: Vec<&'static str>,
    score: ListScore,
}

fn sex() -> utoipa::openapi::Object {
    api_schema::choice(&profile::SEXES, "性別")
}

fn status() -> utoipa::openapi::Object {
    api_schema::choice(&profile::STATUSES, "状態")
}

fn intake_source() -> utoipa::openapi::Object {
    // "" when the route is not known.
    let mut table = vec![("", "未確認")];
    table.extend(profile::INTAKE_SOURCES);
    api_schema::choice(&table, "把握の経路")
}

fn physical_disability_grade() -> utoipa::openapi::Object {
    api_schema::one_of(
        std::iter::once("").chain(profile::PHYSICAL_GRADES),
        "身体障害者手帳の等級（なしは空）",
    )
}

fn care_category() -> utoipa::openapi::Object {
    api_schema::one_of(
        std::iter::once("").chain(profile::CARE_CATEGORIES),
        "受給者証の医療的ケア区分（なしは空）",
    )
}

/// 一覧の1ページ（呼び出した人の範囲内、よみがな順）
#[derive(Serialize, ToSchema)]
#[schema(as = ChildPage)]
struct ListPage {
    items: Vec<ListItem>,
    total: i64,
    page: i64,
    per_page: i64,
}

#[derive(Serialize, ToSchema)]
#[schema(as = CareItemEntry)]
struct CareJson {
    #[schema(schema_with = api_schema::care_item)]
    item: &'static str,
    label: &'static str,
    #[schema(schema_with = api_schema::watch)]
    watch: Option<&'static str>,
    #[schema(schema_with = api_schema::care_variant)]
    variant: Option<&'static str>,
}

/// 判定スコア（基本スコア・見守りスコアと区分）
#[derive(Serialize, ToSchema)]
#[schema(as = Score)]
struct ScoreJson {
    basic: u32,
    watch: u32,
    total: u32,
    #[schema(schema_with = api_schema::tier)]
    tier: &'static str,
    tier_label: &'static str,
}

#[derive(Serialize, ToSchema)]
#[schema(as = Device)]
struct DeviceJson {
    #[schema(schema_with = api_schema::device_kind)]
    kind: &'static str,
    label: &'static str,
    power_watts: Option<i64>,
    battery_internal_hours: Option<f64>,
    battery_external_hours: Option<f64>,
    note: String,
}

#[derive(Serialize, ToSchema)]
#[schema(as = Transition)]
struct TransitionJson {
    #[schema(schema_with = transition_kind)]
    kind: &'static str,
    label: &'static str,
    date: NaiveDate,
    date_wareki: String,
    fiscal_year: i32,
    prepare_from: NaiveDate,
    prepare_from_wareki: String,
    optional: bool,
}

fn transition_kind() -> utoipa::openapi::Object {
    api_schema::one_of(
        transitions::TransitionKind::ALL.map(transitions::TransitionKind::code),
        "移行の種類（就園・就学・進学・卒業）",
    )
}

impl TransitionJson {
    fn of(t: &Transition) -> Self {
        TransitionJson {
            kind: t.kind.code(),
            label: t.kind.label_ja(),
            date: t.date,
            date_wareki: tsunagu_core::calendar::format_wareki_with_seireki(t.date),
            fiscal_year: t.fiscal_year,
            prepare_from: t.prepare_from,
            prepare_from_wareki: tsunagu_core::calendar::format_wareki_with_seireki(t.prepare_from),
            optional: t.optional,
        }
    }
}

#[derive(Serialize, ToSchema)]
#[schema(as = Owner)]
struct OwnerJson {
    #[schema(value_type = String, format = "uuid")]
    id: OrganisationId,
    name: String,
}

/// The whole record. The writable members carry the names a `POST`/`PATCH` body uses, so
/// a record can be fetched, changed and sent back; the others are read-only.
#[derive(Serialize, ToSchema)]
#[schema(as = Child)]
struct ChildJson {
    #[schema(value_type = String, format = "uuid")]
    id: ChildId,
    /// 変更のたびに1増える。PATCH に必要
    version: i64,
    /// 住所地の団体コード。変更はできません
    #[schema(pattern = "^[0-9]{6}$")]
    municipality_code: String,
    municipality_name: String,
    owner_organisation: OwnerJson,
    name: String,
    name_kana: String,
    birth_date: NaiveDate,
    #[schema(schema_with = sex)]
    sex: String,
    address: String,
    #[schema(schema_with = status)]
    status: String,
    /// 状態が active 以外のとき、その日
    status_date: Option<NaiveDate>,
    #[schema(schema_with = intake_source)]
    intake_source: String,
    intake_date: Option<NaiveDate>,
    diagnoses: String,
    hospital: String,
    doctor: String,
    #[schema(schema_with = physical_disability_grade)]
    physical_disability_grade: String,
    ryoiku_techo: String,
    /// 受給者証の有無
    recipient_certificate: bool,
    #[schema(schema_with = care_category)]
    care_category: String,
    attending: String,
    care_items: Vec<CareJson>,
    /// 判定スコア。記録の項目が現在の判定表で採点できないときだけ null
    score: Option<ScoreJson>,
    guardians: Vec<Guardian>,
    devices: Vec<DeviceJson>,
    siblings: Vec<Sibling>,
    life_stage: LifeStageJson,
    /// これからの移行（就園・就学など）
    transitions: Vec<TransitionJson>,
    /// 緊急閲覧（break-glass）による取得のとき true
    via_break_glass: bool,
}

fn hours(minutes: Option<i64>) -> Option<f64> {
    minutes.map(|m| m as f64 / 60.0)
}

/// 今年度のライフステージ
#[derive(Serialize, ToSchema)]
#[schema(as = LifeStage)]
struct LifeStageJson {
    #[schema(schema_with = life_stage_code)]
    stage: String,
    /// クラス年齢・学年（あるとき）
    #[serde(skip_serializing_if = "Option::is_none")]
    grade: Option<u8>,
    #[schema(example = "2歳児クラス")]
    label: String,
}

fn life_stage_code() -> utoipa::openapi::Object {
    let stages = [
        LifeStage::Unborn,
        LifeStage::Infant,
        LifeStage::NurseryClass(0),
        LifeStage::Elementary(1),
        LifeStage::JuniorHigh(1),
        LifeStage::UpperSecondary(1),
        LifeStage::AfterSchool,
    ];
    api_schema::one_of(
        stages.iter().filter_map(|s| {
            serde_json::to_value(s)
                .ok()
                .and_then(|v| v["stage"].as_str().map(str::to_string))
        }),
        "",
    )
}

/// The stage in this 年度.
fn life_stage_json(birth: NaiveDate, today: NaiveDate) -> LifeStageJson {
    let stage =
        tsunagu_core::calendar::life_stage(birth, tsunagu_core::calendar::fiscal_year(today));
    let value = serde_json::to_value(stage).unwrap_or_default();
    LifeStageJson {
        stage: value["stage"].as_str().unwrap_or_default().to_string(),
        grade: value["grade"].as_u64().and_then(|g| u8::try_from(g).ok()),
        label: stage.label_ja(),
    }
}

/// The record in the API's words.
fn child_json(record: ChildRecord, today: NaiveDate) -> ChildJson {
    let via_break_glass = record.opened.via_break_glass();
    let ChildRecord {
        opened: Opened { record: child, .. },
        profile,
        version,
    } = record;
    let score = profile.score().ok().map(|s| ScoreJson {
        basic: s.basic,
        watch: s.watch,
        total: s.total,
        tier: s.tier.code(),
        tier_label: s.tier.label_ja(),
    });
    ChildJson {
        life_stage: life_stage_json(profile.birth_date, today),
        transitions: transitions::upcoming_for(
            profile.birth_date,
            today,
            transitions::BOARD_HORIZON_MONTHS,
            &profile.attending,
        )
        .iter()
        .map(TransitionJson::of)
        .collect(),
        id: child.id,
        version,
        municipality_code: child.municipality_code,
        municipality_name: child.municipality_name,
        owner_organisation: OwnerJson {
            id: child.owner_organisation_id,
            name: child.owner_organisation_name,
        },
        name: profile.name,
        name_kana: profile.kana,
        birth_date: profile.birth_date,
        sex: profile.sex,
        address: profile.address,
        status: profile.status,
        status_date: profile.status_date,
        intake_source: profile.intake_source,
        intake_date: profile.intake_date,
        diagnoses: profile.diagnoses,
        hospital: profile.hospital,
        doctor: profile.doctor,
        physical_disability_grade: profile.physical_disability_grade,
        ryoiku_techo: profile.ryoiku_techo,
        recipient_certificate: profile.recipient_certificate == "yes",
        care_category: profile.care_category,
        attending: profile.attending,
        care_items: profile
            .care
            .iter()
            .map(|e| CareJson {
                item: e.item.code(),
                label: e.item.label_ja(),
                watch: e.watch.map(|w| w.code()),
                variant: e.variant.map(|v| v.code()),
            })
            .collect(),
        score,
        guardians: profile.guardians,
        devices: profile
            .devices
            .into_iter()
            .map(|d| DeviceJson {
                kind: d.kind.code(),
                label: d.kind.label_ja(),
                power_watts: d.power_watts,
                battery_internal_hours: hours(d.battery_internal_minutes),
                battery_external_hours: hours(d.battery_external_minutes),
                note: d.note,
            })
            .collect(),
        siblings: profile.siblings,
        via_break_glass,
    }
}

// ---------------------------------------------------------------------------------------
// The body of POST and PATCH as the validator's field map
// ---------------------------------------------------------------------------------------

/// The single-valued fields, named as `profile::parse` reads them.
const SCALARS: [&str; 18] = [
    "name",
    "kana",
    "birth_date",
    "sex",
    "municipality_code",
    "address",
    "status",
    "status_date",
    "intake_source",
    "intake_date",
    "diagnoses",
    "hospital",
    "doctor",
    "physical_disability_grade",
    "ryoiku_techo",
    "recipient_certificate",
    "care_category",
    "attending",
];

/// The body of `POST` and `PATCH`, as the OpenAPI description shows it. The body is read
/// by `overlay` into the validator's field map, leniently (numbers as text, `"yes"`/`"no"`
/// for the certificate, care items as codes alone); a unit test keeps these members the
/// ones `overlay` knows.
#[allow(dead_code)]
#[derive(ToSchema)]
#[schema(as = ChildInput)]
struct ChildInputDoc {
    /// PATCH のとき必須：取得した記録の版。POST では無視されます
    version: Option<i64>,
    /// POST で、同じふりがな・生年月日の児童がすでにいる（409 possible_duplicate）とき、別の児童として登録する理由（10〜500文字）
    #[schema(min_length = 10, max_length = 500)]
    duplicate_reason: Option<String>,
    #[schema(max_length = 100)]
    name: Option<String>,
    /// ひらがなまたはカタカナ。kana とも書けます
    #[schema(max_length = 100)]
    name_kana: Option<String>,
    #[schema(max_length = 100)]
    kana: Option<String>,
    /// 1990-01-01 以降、今日まで。2020/4/2 や全角数字も可
    birth_date: Option<NaiveDate>,
    #[schema(schema_with = sex)]
    sex: Option<String>,
    /// 住所地の団体コード（6桁は検査数字を検証）。登録のとき必須、変更はできません
    #[schema(pattern = "^(0[1-9]|[1-3][0-9]|4[0-7])[0-9]{3,4}$")]
    municipality_code: Option<String>,
    #[schema(max_length = 200)]
    address: Option<String>,
    #[schema(schema_with = status)]
    status: Option<String>,
    /// 状態が active 以外のとき必須
    status_date: Option<NaiveDate>,
    #[schema(schema_with = intake_source)]
    intake_source: Option<String>,
    intake_date: Option<NaiveDate>,
    #[schema(max_length = 1000)]
    diagnoses: Option<String>,
    #[schema(max_length = 100)]
    hospital: Option<String>,
    #[schema(max_length = 100)]
    doctor: Option<String>,
    /// 身体障害者手帳の等級 1〜6（数値も可、なしは空）
    physical_disability_grade: Option<String>,
    #[schema(max_length = 20)]
    ryoiku_techo: Option<String>,
    /// 受給者証の有無（"yes"/"no" も可）
    recipient_certificate: Option<bool>,
    /// 受給者証の医療的ケア区分 1〜3（数値も可、なしは空）
    care_category: Option<String>,
    #[schema(max_length = 100)]
    attending: Option<String>,
    /// 医療的ケア：項目コードだけ、または {item, watch, variant}。同じ項目は1回
    #[schema(value_type = Vec<Value>)]
    care_items: Option<Vec<Value>>,
    /// 保護者（3人まで）。配列ごと置き換えます
    #[schema(max_items = 3)]
    guardians: Option<Vec<Guardian>>,
    /// 医療機器（6台まで）：{kind, power_watts, battery_internal_hours, battery_external_hours, note}
    #[schema(value_type = Vec<Value>, max_items = 6)]
    devices: Option<Vec<Value>>,
    /// きょうだい（4人まで）
    #[schema(max_items = 4)]
    siblings: Option<Vec<Sibling>>,
}

/// The body of `PATCH`: [`ChildInputDoc`] with its `version` required.
struct ChildChangeDoc;

impl utoipa::PartialSchema for ChildChangeDoc {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{AllOfBuilder, ObjectBuilder, Type};
        use utoipa::openapi::{Ref, RefOr};
        let version = ObjectBuilder::new()
            .schema_type(Type::Integer)
            .minimum(Some(1))
            .description(Some("取得した記録の版（必須）"));
        AllOfBuilder::new()
            .item(RefOr::Ref(Ref::from_schema_name("ChildInput")))
            .item(
                ObjectBuilder::new()
                    .property("version", version)
                    .required("version"),
            )
            .into()
    }
}

impl ToSchema for ChildChangeDoc {
    fn name() -> std::borrow::Cow<'static, str> {
        "ChildChange".into()
    }
}

/// Members of a fetched record that a body may carry back, and the registration's
/// `duplicate_reason`: the field map ignores them.
const READ_ONLY: [&str; 9] = [
    "duplicate_reason",
    "id",
    "municipality_name",
    "owner_organisation",
    "score",
    "life_stage",
    "transitions",
    "via_break_glass",
    "version",
];

/// A list of the body and its numbered form rows: (body key, row prefix, rows, keys, what
/// one row is called).
struct ListShape {
    key: &'static str,
    prefix: char,
    rows: usize,
    keys: &'static [&'static str],
    noun: &'static str,
}

const LISTS: [ListShape; 3] = [
    ListShape {
        key: "guardians",
        prefix: 'g',
        rows: profile::GUARDIAN_ROWS,
        keys: &[
            "name",
            "kana",
            "relation",
            "phone",
            "email",
            "employment",
            "wishes_to_work",
        ],
        noun: "保護者",
    },
    ListShape {
        key: "devices",
        prefix: 'd',
        rows: profile::DEVICE_ROWS,
        keys: &[
            "kind",
            "power_watts",
            "battery_internal_hours",
            "battery_external_hours",
            "note",
        ],
        noun: "医療機器",
    },
    ListShape {
        key: "siblings",
        prefix: 's',
        rows: profile::SIBLING_ROWS,
        keys: &["name", "birth_date", "note"],
        noun: "きょうだい",
    },
];

/// A JSON value as the text a form field would hold; `None` for arrays and objects.
fn text_of(value: &Value, boolean_field: bool) -> Option<String> {
    match value {
        Value::Null => Some(String::new()),
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) if boolean_field => Some(if *b { "yes" } else { "" }.to_string()),
        _ => None,
    }
}

/// Lays the body over `fields` (the stored record's fields when editing, nothing when
/// registering): a member present replaces its field, a list present replaces the whole
/// list, an absent member keeps what was there. Problems of shape are named in Japanese;
/// the values themselves are checked by `profile::parse`.
fn overlay(body: &Map<String, Value>, fields: &mut HashMap<String, String>) -> Vec<FieldError> {
    shape_problems(body, fields)
        .into_iter()
        .map(|message| FieldError::new("", "shape", message))
        .collect()
}

/// Problems of the body's shape (a list that is not a list, a member that does not exist),
/// in Japanese, naming the member.
fn shape_problems(body: &Map<String, Value>, fields: &mut HashMap<String, String>) -> Vec<String> {
    let mut errors = Vec::new();
    if let (Some(a), Some(b)) = (body.get("kana"), body.get("name_kana"))
        && a != b
    {
        errors.push("ふりがなは kana と name_kana のどちらか一方で指定してください".to_string());
    }
    for (key, value) in body {
        let key = if key == "name_kana" {
            "kana"
        } else {
            key.as_str()
        };
        if SCALARS.contains(&key) {
            match text_of(value, key == "recipient_certificate") {
                Some(text) => {
                    fields.insert(key.to_string(), text);
                }
                None => errors.push(format!("「{key}」は文字列で指定してください")),
            }
        } else if key == "care_items" {
            care_items(value, fields, &mut errors);
        } else if let Some(shape) = LISTS.iter().find(|l| l.key == key) {
            list_rows(shape, value, fields, &mut errors);
        } else if !READ_ONLY.contains(&key) {
            errors.push(format!("「{key}」という項目はありません"));
        }
    }
    errors
}

fn care_items(value: &Value, fields: &mut HashMap<String, String>, errors: &mut Vec<String>) {
    let rows: &[Value] = match value {
        Value::Null => &[],
        Value::Array(rows) => rows,
        _ => {
            errors.push("care_items は配列で指定してください".to_string());
            return;
        }
    };
    for line in CareLine::all() {
        for prefix in ["care", "watch"] {
            fields.remove(&format!("{prefix}_{}", line.code()));
        }
    }
    let mut seen = HashSet::new();
    for (i, row) in rows.iter().enumerate() {
        let n = i + 1;
        let (code, watch, variant) = match row {
            Value::String(code) => (code.as_str(), &Value::Null, &Value::Null),
            Value::Object(map) => {
                if let Some(k) = map
                    .keys()
                    .find(|k| !["item", "watch", "variant", "label"].contains(&k.as_str()))
                {
                    errors.push(format!("医療的ケア{n}の「{k}」という項目はありません"));
                }
                let Some(code) = map.get("item").and_then(Value::as_str) else {
                    errors.push(format!(
                        "医療的ケア{n}の項目コード（item）を指定してください"
                    ));
                    continue;
                };
                (
                    code,
                    map.get("watch").unwrap_or(&Value::Null),
                    map.get("variant").unwrap_or(&Value::Null),
                )
            }
            _ => {
                errors.push(format!(
                    "医療的ケア{n}は項目コードか {{\"item\": …}} の形で指定してください"
                ));
                continue;
            }
        };
        let item = match CareItem::parse(code) {
            Ok(item) => item,
            Err(e) => {
                errors.push(e.to_string());
                continue;
            }
        };
        // The line: the item, or for 導尿 and 排便管理 its kind (each a line of its own).
        let variant = match text_of(variant, false) {
            None => {
                errors.push(format!(
                    "医療的ケア{n}の variant は文字列で指定してください"
                ));
                continue;
            }
            Some(text) if text.is_empty() => None,
            Some(text) => match CareVariant::parse(&text) {
                Ok(v) => Some(v),
                Err(e) => {
                    errors.push(e.to_string());
                    continue;
                }
            },
        };
        let line = match (variant, item.variants().is_empty()) {
            (None, true) => CareLine {
                item,
                variant: None,
            },
            (None, false) => {
                errors.push(CareError::VariantRequired { item }.to_string());
                continue;
            }
            (Some(v), _) if v.item() == item => CareLine {
                item,
                variant: Some(v),
            },
            (Some(variant), _) => {
                errors.push(CareError::VariantMismatch { item, variant }.to_string());
                continue;
            }
        };
        if !seen.insert(line) {
            errors.push(CareError::Duplicate(item).to_string());
            continue;
        }
        fields.insert(format!("care_{}", line.code()), "on".into());
        match text_of(watch, false) {
            Some(text) if text.is_empty() => {}
            Some(text) => {
                fields.insert(format!("watch_{}", line.code()), text);
            }
            None => errors.push(format!("医療的ケア{n}の watch は文字列で指定してください")),
        }
    }
}

fn list_rows(
    shape: &ListShape,
    value: &Value,
    fields: &mut HashMap<String, String>,
    errors: &mut Vec<String>,
) {
    let rows: &[Value] = match value {
        Value::Null => &[],
        Value::Array(rows) => rows,
        _ => {
            errors.push(format!("{} は配列で指定してください", shape.key));
            return;
        }
    };
    for i in 0..shape.rows {
        for k in shape.keys {
            fields.remove(&format!("{}{i}_{k}", shape.prefix));
        }
    }
    if rows.len() > shape.rows {
        errors.push(format!(
            "{}は{}件まで登録できます（{}件指定されています）",
            shape.noun,
            shape.rows,
            rows.len()
        ));
        return;
    }
    for (i, row) in rows.iter().enumerate() {
        let n = i + 1;
        let Value::Object(map) = row else {
            errors.push(format!("{}{n}はオブジェクトで指定してください", shape.noun));
            continue;
        };
        for (k, v) in map {
            if k == "label" {
                continue;
            }
            if !shape.keys.contains(&k.as_str()) {
                errors.push(format!("{}{n}の「{k}」という項目はありません", shape.noun));
                continue;
            }
            match text_of(v, false) {
                Some(text) => {
                    fields.insert(format!("{}{i}_{k}", shape.prefix), text);
                }
                None => errors.push(format!(
                    "{}{n}の「{k}」は文字列または数値で指定してください",
                    shape.noun
                )),
            }
        }
    }
}

/// The body checked as a whole profile, every problem named at once.
fn validated(
    body: &Map<String, Value>,
    today: NaiveDate,
) -> Result<(Profile, HashMap<String, String>), Vec<FieldError>> {
    let mut fields = HashMap::new();
    let mut errors = overlay(body, &mut fields);
    match profile::parse(&fields, today) {
        Ok(p) if errors.is_empty() => Ok((p, fields)),
        Ok(_) => Err(errors),
        Err(more) => {
            errors.extend(more);
            Err(errors)
        }
    }
}

// ---------------------------------------------------------------------------------------
// Handlers
// ---------------------------------------------------------------------------------------

/// The list's query, as the OpenAPI description shows it (`filters::parse` reads it).
#[allow(dead_code)]
#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct ListQuery {
    /// 氏名・よみがなの部分一致
    #[param(schema_with = api_schema::search_text)]
    q: Option<String>,
    /// 住所地の市区町村：団体コード（検査数字を検証）または名称（板橋区、東京都府中市）
    #[param(pattern = "^((0[1-9]|[1-3][0-9]|4[0-7])[0-9]{3,4}|[^0-9]{1,50})$")]
    municipality: Option<String>,
    /// この医療的ケアがある児童
    #[param(schema_with = api_schema::care_item)]
    care_item: Option<String>,
    /// この医療機器を使う児童
    #[param(schema_with = api_schema::device_kind)]
    device: Option<String>,
    #[param(schema_with = api_schema::tier)]
    tier: Option<String>,
    #[param(schema_with = age_band)]
    age: Option<String>,
    #[param(schema_with = stage_band)]
    stage: Option<String>,
    #[param(schema_with = status)]
    status: Option<String>,
    /// yes: 保護者が就労を希望している児童
    #[param(schema_with = wishes_to_work)]
    wishes_to_work: Option<String>,
    /// ページ番号（1から）
    #[param(minimum = 1, maximum = 10000)]
    page: Option<i64>,
    /// 1ページの件数（既定 50、最大 100）
    #[param(minimum = 1, maximum = 100)]
    per_page: Option<i64>,
}

fn age_band() -> utoipa::openapi::Object {
    api_schema::choice(
        &filters::AGE_BANDS.map(|(code, label, ..)| (code, label)),
        "今日の年齢",
    )
}

fn stage_band() -> utoipa::openapi::Object {
    api_schema::choice(
        &filters::STAGES.map(|(code, label, ..)| (code, label)),
        "今年度のライフステージ",
    )
}

fn wishes_to_work() -> utoipa::openapi::Object {
    api_schema::one_of(["yes"], "保護者が就労を希望している児童")
}

/// 児童の一覧（呼び出した人の範囲内）
///
/// 一覧画面と同じ絞り込み。よみがな順。範囲外の児童は含まれません。一覧の取得は、表示した児童のIDを記した1件の閲覧として監査ログに残ります（画面と同じ）。
#[utoipa::path(get, path = "/api/v1/children", tag = "children", operation_id = "listChildren",
    params(ListQuery),
    responses(
        (status = 200, description = "一覧の1ページ", body = ListPage),
        (status = 400, description = "絞り込みの値が選択肢にない（bad_request）", body = ErrorBody),
    ))]
async fn list(
    State(state): State<AppState>,
    current: CurrentSession,
    parts: Parts,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Json<ListPage>, ApiError> {
    let today = state.clock.today_jst();
    params::api_no_empty(
        &q,
        &[
            "municipality",
            "care_item",
            "device",
            "tier",
            "age",
            "stage",
            "status",
            "wishes_to_work",
            "page",
            "per_page",
        ],
    )?;
    let chosen = filters::parse(&q, today)?;
    let page = params::number(q.get("page").map(String::as_str), "page", 1, 1, 10_000)?;
    let per_page = params::number(
        q.get("per_page").map(String::as_str),
        "per_page",
        PER_PAGE,
        1,
        MAX_PER_PAGE,
    )?;
    let gate = Gate::api(&state, &current, &parts);
    let (children, total) =
        service::list_in_reach(&gate, &state, &chosen.filter, page, per_page).await?;
    let mut items = Vec::with_capacity(children.len());
    for child in children {
        // The items from the mask kept on the record: no read of the items table per page.
        let care_items = CareItem::in_mask(child.care_mask)
            .map(CareItem::code)
            .collect();
        items.push(ListItem {
            id: child.id,
            municipality_code: child.municipality_code,
            municipality_name: child.municipality_name,
            version: child.version,
            name: child.name,
            name_kana: child.kana,
            birth_date: child.birth_date,
            sex: child.sex,
            status: child.status,
            care_items,
            score: ListScore {
                total: child.care_score,
                tier: child.care_tier,
            },
        });
    }
    Ok(Json(ListPage {
        items,
        total,
        page,
        per_page,
    }))
}

/// 児童の記録
///
/// 記録全体。取得は閲覧として監査ログに記録されます（緊急閲覧による場合は break_glass）。
#[utoipa::path(get, path = "/api/v1/children/{id}", tag = "children", operation_id = "getChild",
    params(("id" = String, Path, description = "児童の記録のID", format = "uuid")),
    responses(
        (status = 200, description = "記録", body = ChildJson),
        (status = 404, description = NOT_IN_REACH, body = ErrorBody),
    ))]
async fn detail(
    State(state): State<AppState>,
    current: CurrentSession,
    parts: Parts,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let gate = Gate::api(&state, &current, &parts);
    let record =
        service::open_record(&gate, &state, &id, Permission::ReadChild, Use::Read("")).await?;
    Ok(Json(child_json(record, state.clock.today_jst())).into_response())
}

/// 児童を登録する
///
/// 登録した記録を返します（Location に記録のURL）。登録は監査ログに残ります。住所地の市区町村を担当する組織の人だけが登録できます。
#[utoipa::path(post, path = "/api/v1/children", tag = "children", operation_id = "createChild",
    request_body(content = ChildInputDoc, content_type = "application/json"),
    responses(
        (status = 201, description = "登録しました", body = ChildJson,
            headers(("Location" = String, description = "記録のURL"))),
        (status = 400, description = "JSONでない（bad_request）、入力の誤り（invalid_child：error.fields に項目ごとのコードとメッセージ）", body = ErrorBody),
        (status = 403, description = "担当外の市区町村の児童（forbidden）", body = ErrorBody),
        (status = 409, description = "同じふりがな・生年月日の児童がすでに登録されている（possible_duplicate）。開ける記録なら error.duplicate_of にその ID。別の児童なら duplicate_reason を添えて送り直す", body = ErrorBody),
    ))]
async fn create(
    State(state): State<AppState>,
    current: CurrentSession,
    parts: Parts,
    body: Bytes,
) -> Result<Response, ApiError> {
    let body = json_object(&body)?;
    let today = state.clock.today_jst();
    let (profile, _) = match validated(&body, today) {
        Ok(valid) => valid,
        Err(errors) => return Err(AppError::InvalidChild(errors).into()),
    };
    let Some(writer) = registering_membership(
        &current.actor,
        Permission::WriteChild,
        &profile.municipality_code,
    ) else {
        let ctx = audit_context(&parts, Some(&current));
        let event = Event::new(Action::Denied, Outcome::Denied)
            .resource("municipality", profile.municipality_code.to_string())
            .detail("create_child");
        audit::record_standalone(&state.db, &ctx, &event, state.clock.now())
            .await
            .map_err(AppError::from)?;
        return Err(
            AppError::ForbiddenBecause("担当外の市区町村の児童は登録できません".into()).into(),
        );
    };
    let gate = Gate::api(&state, &current, &parts);
    let reason = body.get("duplicate_reason").and_then(Value::as_str);
    let id =
        match service::register_unless_duplicate(&gate, &state, writer, &profile, reason).await? {
            Ok(id) => id,
            Err((duplicate, errors)) if errors.is_empty() => {
                return Err(AppError::PossibleDuplicate {
                    message: duplicate.message(),
                    duplicate_of: match duplicate {
                        service::Duplicate::Readable { id, .. } => Some(id.into_string()),
                        service::Duplicate::InTown { .. } => None,
                    },
                }
                .into());
            }
            Err((_, errors)) => return Err(AppError::InvalidChild(errors).into()),
        };
    // The answer shows the record as stored, read through the gate like any other.
    let record = service::open_record(
        &gate,
        &state,
        &id,
        Permission::ReadChild,
        Use::Read("created"),
    )
    .await?;
    let mut response = (StatusCode::CREATED, Json(child_json(record, today))).into_response();
    if let Ok(location) = HeaderValue::from_str(&format!("/api/v1/children/{id}")) {
        response.headers_mut().insert(header::LOCATION, location);
    }
    Ok(response)
}

/// 保存しました（変更がなければ version は変わらず changes は空）
#[derive(Serialize, ToSchema)]
#[schema(as = ChildUpdated)]
struct Updated {
    #[schema(value_type = String, format = "uuid")]
    id: ChildId,
    version: i64,
    changes: Vec<profile::Change>,
}

/// 児童の記録を変更する
///
/// 本文にある項目だけを変更します（配列は配列ごと置き換え、ない項目はそのまま）。取得した記録の version が必須で、その後に他の人が更新していれば 409 で、その人の変更を返し、何も保存しません。変更は版と変更履歴（source: api）と監査ログに残ります。住所地の市区町村は変更できません。
#[utoipa::path(patch, path = "/api/v1/children/{id}", tag = "children", operation_id = "updateChild",
    params(("id" = String, Path, description = "児童の記録のID", format = "uuid")),
    request_body(content = ChildChangeDoc, content_type = "application/json"),
    responses(
        (status = 200, description = "保存しました（変更がなければ version は変わらず changes は空）", body = Updated),
        (status = 400, description = "JSONでない（bad_request）、version がない（version_required）、入力の誤り（invalid_child）", body = ErrorBody),
        (status = 404, description = NOT_IN_REACH, body = ErrorBody),
        (status = 409, description = "version が古い（version_conflict）。error.others にその間の他の人の変更", body = ErrorBody),
    ))]
async fn update(
    State(state): State<AppState>,
    current: CurrentSession,
    parts: Parts,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let body = json_object(&body)?;
    let Some(expected) = body
        .get("version")
        .and_then(Value::as_i64)
        .filter(|v| *v >= 1)
    else {
        return Err(AppError::VersionRequired.into());
    };
    let gate = Gate::api(&state, &current, &parts);
    let stored =
        service::open_record(&gate, &state, &id, Permission::WriteChild, Use::Change).await?;
    let mut fields = stored.profile.to_fields();
    let errors = overlay(&body, &mut fields);
    if !errors.is_empty() {
        let mut all = errors;
        if let Err(more) = profile::parse(&fields, state.clock.today_jst()) {
            all.extend(more);
        }
        return Err(AppError::InvalidChild(all).into());
    }
    let outcome = service::edit(&gate, &state, &stored, expected, &fields, "api").await?;
    Ok(match outcome {
        EditOutcome::Saved { version, changes } => Json(Updated {
            id: stored.opened.record.id.clone(),
            version,
            changes,
        })
        .into_response(),
        EditOutcome::Invalid(errors) => return Err(AppError::InvalidChild(errors).into()),
        EditOutcome::Conflict { current: v, others } => {
            let mut labels: Vec<&str> = Vec::new();
            for change in others.iter().flat_map(|o| &o.changes) {
                if !labels.contains(&change.label.as_str()) {
                    labels.push(&change.label);
                }
            }
            let names: Vec<&str> = others.iter().map(|o| o.account_name.as_str()).collect();
            // Only the fields this request changes are named (and shown in `others`).
            let overlap = if labels.is_empty() {
                "送られた項目はその間に変更されていません".to_string()
            } else {
                format!("送られた項目のうち変更されたもの: {}", labels.join("、"))
            };
            return Err(AppError::VersionConflict {
                message: format!(
                    "この記録は、版 {expected} の後に他の人が更新しました（現在の版 {v}、更新した人: {}、{overlap}）。変更はまだ保存されていません。記録を取得し直し、必要なら変更をやり直してください",
                    names.join("、"),
                ),
                current_version: v,
                others: serde_json::to_value(&others)
                    .map_err(|e| AppError::Internal(e.to_string()))?,
            }
            .into());
        }
    })
}

#[derive(Serialize, ToSchema)]
#[schema(as = TransitionRow)]
struct TransitionRow {
    #[serde(flatten)]
    transition: TransitionJson,
    #[schema(schema_with = transition_when)]
    when: &'static str,
}

fn transition_when() -> utoipa::openapi::Object {
    api_schema::one_of(
        ["past", "upcoming", "later"],
        "過ぎた／これから（移行ボードの期間内）／その後",
    )
}

/// 児童の移行（就園・就学・進学・卒業）すべて
#[derive(Serialize, ToSchema)]
#[schema(as = ChildTransitions)]
struct TransitionsJson {
    #[schema(value_type = String, format = "uuid")]
    child_id: ChildId,
    birth_date: NaiveDate,
    today: NaiveDate,
    life_stage: LifeStageJson,
    horizon_months: u32,
    transitions: Vec<TransitionRow>,
}

/// Every transition of the child (nursery entry while it is still ahead, school entry,
/// junior high, upper secondary, graduation), each marked past, upcoming or later.
#[utoipa::path(get, path = "/api/v1/children/{id}/transitions", tag = "children", operation_id = "getChildTransitions",
    summary = "児童の移行（就園・就学・進学・卒業）",
    params(("id" = String, Path, description = "児童の記録のID", format = "uuid")),
    responses(
        (status = 200, description = "移行のすべて。取得は閲覧として監査されます", body = TransitionsJson),
        (status = 404, description = NOT_IN_REACH, body = ErrorBody),
    ))]
async fn transitions_of(
    State(state): State<AppState>,
    current: CurrentSession,
    parts: Parts,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let child = Gate::api(&state, &current, &parts)
        .read::<Child>(&id, "transitions")
        .await?
        .record;
    let today = state.clock.today_jst();
    let birth = child.birth_date;
    let attending = store::attending_of(&state.db, &[&child.id]).await?;
    let upcoming = transitions::upcoming_for(
        birth,
        today,
        transitions::BOARD_HORIZON_MONTHS,
        attending.get(child.id.as_str()).map_or("", String::as_str),
    );
    let mut all: Vec<Transition> = transitions::earliest_nursery_entry(birth, today)
        .into_iter()
        .chain(transitions::school_transitions(birth))
        .collect();
    all.sort_by_key(|t| (t.date, t.kind));
    let rows = all
        .iter()
        .map(|t| TransitionRow {
            when: if t.date < today {
                "past"
            } else if upcoming.contains(t) {
                "upcoming"
            } else {
                "later"
            },
            transition: TransitionJson::of(t),
        })
        .collect();
    Ok(Json(TransitionsJson {
        child_id: child.id,
        birth_date: birth,
        today,
        life_stage: life_stage_json(birth, today),
        horizon_months: transitions::BOARD_HORIZON_MONTHS,
        transitions: rows,
    })
    .into_response())
}

#[derive(Serialize, ToSchema)]
#[schema(as = AccessEntry)]
struct AccessEntryJson {
    at: DateTime<Utc>,
    at_jst: String,
    actor_name: String,
    organisation_name: String,
    role_label: String,
    action: String,
    action_label: String,
    outcome: String,
    /// The reason given, for break-glass entries only.
    detail: String,
}

#[derive(Serialize, ToSchema)]
#[schema(as = BreakGlassGrant)]
struct GrantJson {
    id: String,
    account_name: String,
    organisation_name: String,
    reason: String,
    started_at: Option<DateTime<Utc>>,
    expires_at: Option<DateTime<Utc>>,
    revoked_at: Option<DateTime<Utc>>,
}

/// 記録を開いた人（新しい順）と緊急閲覧の許可
#[derive(Serialize, ToSchema)]
#[schema(as = ChildAccessLog)]
struct AccessLogJson {
    #[schema(value_type = String, format = "uuid")]
    child_id: ChildId,
    entries: Vec<AccessEntryJson>,
    break_glass: Vec<GrantJson>,
}

/// Who opened the record, when and how (newest first); the family and the owner only.
/// 記録の閲覧履歴
///
/// 誰がいつどのように記録を開いたか（新しい順）と緊急閲覧の許可。家族と記録を持つ組織だけが見られます。取得は閲覧として監査されます。
#[utoipa::path(get, path = "/api/v1/children/{id}/access-log", tag = "children", operation_id = "getChildAccessLog",
    params(("id" = String, Path, description = "児童の記録のID", format = "uuid")),
    responses(
        (status = 200, description = "閲覧履歴", body = AccessLogJson),
        (status = 404, description = NOT_IN_REACH, body = ErrorBody),
    ))]
async fn access_log(
    State(state): State<AppState>,
    current: CurrentSession,
    parts: Parts,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let AccessHistory {
        child,
        entries,
        rows,
        grants,
    } = service::access_history(&Gate::api(&state, &current, &parts), &state, &id).await?;
    let entries = entries
        .into_iter()
        .zip(rows)
        .map(|(e, row)| AccessEntryJson {
            at: e.at,
            at_jst: row.at,
            actor_name: row.who,
            organisation_name: row.organisation,
            role_label: row.role,
            action: e.action,
            action_label: row.action,
            outcome: e.outcome,
            detail: row.detail,
        })
        .collect();
    let instant = DateTime::<Utc>::from_timestamp_millis;
    let grants = grants
        .into_iter()
        .map(|g| GrantJson {
            started_at: instant(g.started_at),
            expires_at: instant(g.expires_at),
            revoked_at: g.revoked_at.and_then(instant),
            id: g.id,
            account_name: g.account_name,
            organisation_name: g.organisation_name,
            reason: g.reason,
        })
        .collect();
    Ok(Json(AccessLogJson {
        child_id: child.id,
        entries,
        break_glass: grants,
    })
    .into_response())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_described_body_has_exactly_the_members_the_body_reader_knows() {
        let utoipa::openapi::RefOr::T(utoipa::openapi::Schema::Object(schema)) =
            <ChildInputDoc as utoipa::PartialSchema>::schema()
        else {
            panic!("ChildInput is an object");
        };
        let described: HashSet<&str> = schema.properties.keys().map(String::as_str).collect();
        let mut known: HashSet<&str> = SCALARS.into_iter().collect();
        known.extend(["name_kana", "care_items", "version", "duplicate_reason"]);
        known.extend(LISTS.iter().map(|l| l.key));
        assert_eq!(described, known);
        // And each list's rows are described with the members the reader takes.
        let guardian = <Guardian as utoipa::PartialSchema>::schema();
        let guardian = serde_json::to_value(guardian).unwrap();
        let members: HashSet<&str> = guardian["properties"]
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        assert_eq!(members, LISTS[0].keys.iter().copied().collect());
    }

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, 21).unwrap()
    }

    fn body(value: Value) -> Map<String, Value> {
        match value {
            Value::Object(map) => map,
            _ => panic!("not an object"),
        }
    }

    #[test]
    fn a_structured_body_becomes_the_form_fields() {
        let b = body(json!({
            "name": "呼吸 たすく",
            "name_kana": "こきゅう たすく",
            "birth_date": "2023-05-05",
            "sex": "male",
            "municipality_code": "131199",
            "recipient_certificate": true,
            "care_category": 3,
            "care_items": [
                {"item": "ventilator", "watch": "high", "variant": null, "label": "人工呼吸器の管理"},
                "suction"
            ],
            "guardians": [{"name": "呼吸 はな", "relation": "母", "phone": "090-1234-5678"}],
            "devices": [{"kind": "ventilator", "power_watts": 45, "battery_internal_hours": 4.5}],
            "siblings": [],
        }));
        let (p, fields) = validated(&b, today()).unwrap();
        assert_eq!(fields["care_ventilator"], "on");
        assert_eq!(fields["watch_ventilator"], "high");
        assert_eq!(fields["care_suction"], "on");
        assert!(!fields.contains_key("variant_ventilator"));
        assert_eq!(p.kana, "こきゅう たすく");
        assert_eq!(p.recipient_certificate, "yes");
        assert_eq!(p.care_category, "3");
        assert_eq!(p.devices[0].battery_internal_minutes, Some(270));
        assert_eq!(p.devices[0].power_watts, Some(45));
        assert_eq!(p.guardians[0].relation, "母");
    }

    #[test]
    fn shape_problems_are_named_with_the_validators_own() {
        let b = body(json!({
            "name": "x".repeat(101),
            "kana": "やまだ",
            "birth_date": "2023-02-30",
            "sex": "female",
            "municipality_code": "131190",
            "colour": "blue",
            "care_items": [{"item": "magic"}, {"item": "suction"}, "suction"],
            "siblings": [{}, {}, {}, {}, {}],
            "address": ["not", "text"],
        }));
        let errors = validated(&b, today())
            .unwrap_err()
            .iter()
            .map(|e| e.message.clone())
            .collect::<Vec<_>>()
            .join("\n");
        for expected in [
            "「colour」という項目はありません",
            "「magic」は医療的ケアの項目コードではありません",
            "が重複しています",
            "きょうだいは4件まで",
            "「address」は文字列で指定してください",
            "氏名は100文字以内",
            "生年月日を 2020-04-02 や 令和2年4月2日 の形で",
            "住所地の市区町村",
        ] {
            assert!(errors.contains(expected), "missing {expected} in {errors}");
        }
    }

    #[test]
    fn lists_replace_whole_lists_and_absent_members_keep_their_fields() {
        let mut fields: HashMap<String, String> = [
            ("name", "山田 はると"),
            ("g0_name", "山田 花子"),
            ("g1_name", "山田 太郎"),
            ("care_ventilator", "on"),
            ("watch_ventilator", "high"),
            ("care_category", "2"),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        let b = body(json!({
            "version": 3,
            "guardians": [{"name": "山田 さくら"}],
            "care_items": [],
        }));
        assert!(overlay(&b, &mut fields).is_empty());
        assert_eq!(fields["g0_name"], "山田 さくら");
        assert!(!fields.contains_key("g1_name"));
        assert!(!fields.contains_key("care_ventilator"));
        assert!(!fields.contains_key("watch_ventilator"));
        assert_eq!(fields["care_category"], "2");
        assert_eq!(fields["name"], "山田 はると");
    }
}
