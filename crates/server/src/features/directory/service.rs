//! The directory's operations, shared by the pages, the public pages and matching: read a
//! form into an [`Entry`], register and update services (their own organisation's only,
//! or a town's), record vacancies, confirm an entry as current, search with the reasons
//! each result is shown, and the services that fit one child.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, Utc};
use tsunagu_core::access::{Permission, Target, may};
use tsunagu_core::calendar::format_wareki_with_seireki;
use tsunagu_core::care::{CareItem, Tier};
use tsunagu_core::device::DeviceKind;
use tsunagu_core::directory::{
    self, DeviceRule, Fit, Needs, Offer, SERVICE_KINDS, ServiceKind, age_range_ja,
};
use tsunagu_core::ids::{OrganisationId, ServiceId};
use tsunagu_core::municipality::MunicipalityCode;
use tsunagu_core::text::{hidden_character, hidden_character_message, is_kana, normalise_typed};

use super::repo::{self, Entry, Search, Service, ServiceDetail, Vacancy};
use crate::audit::{Action, Event, Outcome};
use crate::auth::session::CurrentSession;
use crate::error::{AppError, FieldError};
use crate::features::municipalities;
use crate::gate::{self, Gate, Use, Written};
use crate::state::AppState;

/// Fields a facility may keep from the public page, with their labels.
pub const STAFF_ONLY_FIELDS: [(&str, &str); 7] = [
    ("phone", "電話番号"),
    ("email", "メールアドレス"),
    ("address", "所在地"),
    ("nurse_hours", "看護師のいる時間"),
    ("capacity", "定員・受け入れ人数"),
    ("vacancies", "空き状況"),
    ("waiting_list", "待機人数"),
];

const WEEKDAYS_JA: [&str; 7] = ["月", "火", "水", "木", "金", "土", "日"];

/// The largest count a form takes (places, children, waiting list).
const MAX_COUNT: i64 = 10_000;

// ---------------------------------------------------------------------------------------
// Reading a form
// ---------------------------------------------------------------------------------------

struct Form<'a> {
    form: &'a HashMap<String, String>,
    errors: Vec<FieldError>,
}

impl Form<'_> {
    fn fail(&mut self, field: &str, code: &'static str, message: String) {
        self.errors.push(FieldError::new(field, code, message));
    }

    fn raw(&self, key: &str) -> String {
        self.form
            .get(key)
            .map(|v| normalise_typed(v).trim().to_string())
            .unwrap_or_default()
    }

    fn text(&mut self, key: &str, label: &str, max: usize, required: bool) -> String {
        let value = self.raw(key);
        if let Some(c) = hidden_character(&value, key == "description") {
            self.fail(key, "format", hidden_character_message(label, c));
        } else if required && value.is_empty() {
            self.fail(key, "required", format!("{label}を入力してください"));
        } else if value.chars().count() > max {
            self.fail(
                key,
                "too_long",
                format!("{label}は{max}文字以内で入力してください"),
            );
        }
        value
    }

    fn checked(&self, key: &str) -> bool {
        self.form
            .get(key)
            .is_some_and(|v| !v.is_empty() && v != "0")
    }

    /// A whole number from 0 to [`MAX_COUNT`]; `None` when left empty.
    fn count(&mut self, key: &str, label: &str) -> Option<i64> {
        let value = self.raw(key);
        if value.is_empty() {
            return None;
        }
        match value.parse::<i64>() {
            Ok(n) if (0..=MAX_COUNT).contains(&n) => Some(n),
            Ok(n) if n < 0 => {
                self.fail(key, "negative", format!("{label}に負の数は入力できません"));
                None
            }
            _ => {
                self.fail(
                    key,
                    "format",
                    format!("{label}は0から{MAX_COUNT}までの整数で入力してください"),
                );
                None
            }
        }
    }

    fn time(&mut self, key: &str, label: &str) -> String {
        let value = self.raw(key);
        if value.is_empty() {
            return value;
        }
        match chrono::NaiveTime::parse_from_str(&value, "%H:%M") {
            Ok(t) => t.format("%H:%M").to_string(),
            Err(_) => {
                self.fail(
                    key,
                    "format",
                    format!("{label}は 8:30 のように時:分で入力してください"),
                );
                value
            }
        }
    }

    fn coordinate(&mut self, key: &str, label: &str, limit: f64) -> Option<f64> {
        let value = self.raw(key);
        if value.is_empty() {
            return None;
        }
        match value.parse::<f64>() {
            Ok(x) if x.is_finite() && x.abs() <= limit => Some(x),
            _ => {
                self.fail(
                    key,
                    "format",
                    format!("{label}は -{limit} から {limit} までの数で入力してください"),
                );
                None
            }
        }
    }
}

/// A municipality code as typed, checked against the reference list; the message names
/// what is wrong and never suggests another code.
async fn known_code(
    state: &AppState,
    text: &str,
    label: &str,
) -> Result<Result<MunicipalityCode, String>, AppError> {
    let code = match MunicipalityCode::parse(text) {
        Ok(code) => code,
        Err(err) => return Ok(Err(format!("{label}: {err}"))),
    };
    Ok(match municipalities::repo::get(&state.db, code).await? {
        Some(_) => Ok(code),
        None => Err(format!(
            "{label}: 団体コード {code} の市区町村は参照データにありません"
        )),
    })
}

/// The entry's version a form was made on; -1 (never current) when missing or unreadable.
pub fn sent_version(form: &HashMap<String, String>) -> i64 {
    form.get("version")
        .and_then(|v| v.trim().parse::<i64>().ok())
        .unwrap_or(-1)
}

/// Reads a service's form into an [`Entry`], with every problem beside its field.
pub async fn parse_entry(
    state: &AppState,
    form: &HashMap<String, String>,
) -> Result<Result<Entry, Vec<FieldError>>, AppError> {
    let mut f = Form {
        form,
        errors: Vec::new(),
    };
    let kind_code = f.raw("kind");
    let kind = directory::service_kind(&kind_code);
    if kind.is_none() {
        f.fail("kind", "unknown", "種別を一覧から選んでください".into());
    }
    let name = f.text("name", "名称", 100, true);
    let kana = f.text("kana", "ふりがな", 100, false);
    if !kana.is_empty() && !is_kana(&kana) {
        f.fail(
            "kana",
            "format",
            "ふりがなは、ひらがなまたはカタカナで入力してください".into(),
        );
    }
    let description = f.text("description", "紹介", 1000, false);
    let address = f.text("address", "所在地", 200, false);
    let code_text = f.raw("municipality_code");
    let municipality_code = if code_text.is_empty() {
        f.fail(
            "municipality_code",
            "required",
            "所在地の市区町村の団体コードを入力してください".into(),
        );
        None
    } else {
        match known_code(state, &code_text, "所在地の市区町村").await? {
            Ok(code) => Some(code),
            Err(message) => {
                f.fail("municipality_code", "format", message);
                None
            }
        }
    };
    let latitude = f.coordinate("latitude", "緯度", 90.0);
    let longitude = f.coordinate("longitude", "経度", 180.0);
    if latitude.is_some() != longitude.is_some() {
        f.fail(
            "latitude",
            "pair",
            "緯度と経度は両方入力するか、両方とも空欄にしてください".into(),
        );
    }
    let phone_text = f.raw("phone");
    let phone = tsunagu_core::text::normalise_phone(&phone_text).unwrap_or_else(|| {
        f.fail(
            "phone",
            "format",
            "電話番号は 03-1234-5678 のように数字とハイフンで入力してください（10〜13桁）".into(),
        );
        phone_text.clone()
    });
    let email = f.text("email", "メールアドレス", 254, false);
    if !email.is_empty() && !looks_like_email(&email) {
        f.fail(
            "email",
            "format",
            "メールアドレスは name@example.jp の形で入力してください".into(),
        );
    }
    let url = f.text("url", "ホームページ", 300, false);
    if !(url.is_empty() || url.starts_with("https://") || url.starts_with("http://")) {
        f.fail(
            "url",
            "format",
            "ホームページは https:// で始まるアドレスで入力してください".into(),
        );
    }
    let weekdays: String = (0..7)
        .map(|i| {
            if f.checked(&format!("wd_{i}")) {
                '1'
            } else {
                '0'
            }
        })
        .collect();
    let opens_at = f.time("opens_at", "開始時刻");
    let closes_at = f.time("closes_at", "終了時刻");
    if !opens_at.is_empty() && !closes_at.is_empty() && opens_at >= closes_at {
        f.fail(
            "closes_at",
            "order",
            "終了時刻は開始時刻より後にしてください".into(),
        );
    }
    let nurse_hours = f.text("nurse_hours", "看護師のいる時間", 100, false);
    let age_from = f.count("age_from", "対象年齢（から）");
    let age_to = f.count("age_to", "対象年齢（まで）");
    for (key, age) in [("age_from", age_from), ("age_to", age_to)] {
        if age.is_some_and(|a| a > 18) {
            f.fail(
                key,
                "range",
                "対象年齢は0歳児クラスから18（卒後）までで選んでください".into(),
            );
        }
    }
    if let (Some(from), Some(to)) = (age_from, age_to)
        && from > to
    {
        f.fail(
            "age_to",
            "order",
            "対象年齢の「まで」は「から」以上にしてください".into(),
        );
    }
    let tier_text = f.raw("max_tier");
    let max_tier = if tier_text.is_empty() {
        None
    } else if Tier::parse(&tier_text).is_some() {
        Some(tier_text)
    } else {
        f.fail(
            "max_tier",
            "unknown",
            "判定スコアの上限を一覧から選んでください".into(),
        );
        None
    };
    let capacity = f.count("capacity", "定員");
    let care_children_now = f.count("care_children_now", "受け入れている医療的ケア児の数");
    let waiting_list = f.count("waiting_list", "待機人数");
    if let (Some(cap), Some(now)) = (capacity, care_children_now)
        && now > cap
    {
        f.fail(
            "care_children_now",
            "over_capacity",
            format!("受け入れている医療的ケア児の数（{now}人）が定員（{cap}人）を超えています"),
        );
    }
    // Care items: a ticked box each (`accept_…`), with its conditions in words. A code the list does
    // not have is refused (a form can be sent by hand).
    let mut care = Vec::new();
    for (key, value) in form {
        if let Some(code) = key.strip_prefix("accept_")
            && !value.is_empty()
        {
            match CareItem::parse(code) {
                Ok(item) => {
                    let conditions = f.text(&format!("cond_{code}"), "受け入れの条件", 100, false);
                    care.push((item, conditions));
                }
                Err(_) => f.fail(
                    "care",
                    "unknown",
                    "医療的ケアの項目を一覧から選んでください".into(),
                ),
            }
        }
    }
    care.sort_by_key(|(item, _)| *item);
    let mut device_rules = Vec::new();
    for (key, value) in form {
        if let Some(code) = key.strip_prefix("dev_")
            && !value.is_empty()
        {
            match (DeviceKind::parse(code), DeviceRule::parse(value)) {
                (Some(device), Some(rule)) => device_rules.push((device, rule)),
                _ => f.fail(
                    "devices",
                    "unknown",
                    "医療機器の扱いを一覧から選んでください".into(),
                ),
            }
        }
    }
    device_rules.sort_by_key(|(d, _)| d.code());
    let mut areas = Vec::new();
    for part in f
        .raw("areas")
        .split(|c: char| c == ',' || c == '、' || c.is_whitespace())
        .filter(|p| !p.is_empty())
    {
        match known_code(state, part, "対象地域").await? {
            Ok(code) if Some(code) == municipality_code => {}
            Ok(code) if !areas.contains(&code) => areas.push(code),
            Ok(_) => {}
            Err(message) => f.fail("areas", "format", message),
        }
    }
    if areas.len() > 100 {
        f.fail(
            "areas",
            "too_many",
            "対象地域は100市区町村までにしてください".into(),
        );
    }
    let staff_only: Vec<String> = STAFF_ONLY_FIELDS
        .iter()
        .filter(|(key, _)| f.checked(&format!("private_{key}")))
        .map(|(key, _)| (*key).to_string())
        .collect();
    match (kind, municipality_code, f.errors.is_empty()) {
        (Some(kind), Some(municipality_code), true) => Ok(Ok(Entry {
            kind: kind.code.to_string(),
            name,
            kana,
            description,
            address,
            municipality_code,
            latitude,
            longitude,
            phone,
            email,
            url,
            weekdays,
            opens_at,
            closes_at,
            closed_on_holidays: f.checked("closed_on_holidays"),
            closed_year_end: f.checked("closed_year_end"),
            nurse_hours,
            age_from,
            age_to,
            max_tier,
            capacity,
            care_children_now,
            waiting_list,
            care,
            device_rules,
            areas,
            staff_only,
        })),
        _ => Ok(Err(f.errors)),
    }
}

fn looks_like_email(text: &str) -> bool {
    let mut parts = text.split('@');
    match (parts.next(), parts.next(), parts.next()) {
        (Some(local), Some(domain), None) => {
            !local.is_empty()
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
                && !text.chars().any(char::is_whitespace)
        }
        _ => false,
    }
}

/// The form's values of a stored service, to edit it.
pub fn values_of(detail: &ServiceDetail) -> HashMap<String, String> {
    let s = &detail.service;
    let mut v = HashMap::new();
    let mut put = |k: &str, value: String| {
        v.insert(k.to_string(), value);
    };
    put("kind", s.kind.clone());
    put("name", s.name.clone());
    put("kana", s.kana.clone());
    put("description", s.description.clone());
    put("address", s.address.clone());
    put("municipality_code", s.municipality_code.clone());
    put(
        "latitude",
        s.latitude.map(|x| x.to_string()).unwrap_or_default(),
    );
    put(
        "longitude",
        s.longitude.map(|x| x.to_string()).unwrap_or_default(),
    );
    put("phone", s.phone.clone());
    put("email", s.email.clone());
    put("url", s.url.clone());
    for (i, c) in s.weekdays.chars().enumerate() {
        if c == '1' {
            put(&format!("wd_{i}"), "1".into());
        }
    }
    put("opens_at", s.opens_at.clone());
    put("closes_at", s.closes_at.clone());
    if s.closed_on_holidays {
        put("closed_on_holidays", "1".into());
    }
    if s.closed_year_end {
        put("closed_year_end", "1".into());
    }
    put("nurse_hours", s.nurse_hours.clone());
    let number = |n: Option<i64>| n.map(|n| n.to_string()).unwrap_or_default();
    put("age_from", number(s.age_from));
    put("age_to", number(s.age_to));
    put("max_tier", s.max_tier.clone().unwrap_or_default());
    put("capacity", number(s.capacity));
    put("care_children_now", number(s.care_children_now));
    put("waiting_list", number(s.waiting_list));
    for (item, conditions) in &detail.care {
        put(&format!("accept_{}", item.code()), "1".into());
        put(&format!("cond_{}", item.code()), conditions.clone());
    }
    for (device, rule) in &detail.device_rules {
        put(&format!("dev_{}", device.code()), rule.code().into());
    }
    put("areas", detail.areas.join(", "));
    for key in s.staff_only.split(',').filter(|k| !k.is_empty()) {
        put(&format!("private_{key}"), "1".into());
    }
    put("version", s.version.to_string());
    v
}

/// The values of a new entry: open on weekdays, closed on 祝日 and 年末年始, located in
/// the organisation's municipality.
pub fn new_values(organisation_municipality: &str) -> HashMap<String, String> {
    let mut v = HashMap::new();
    for i in 0..5 {
        v.insert(format!("wd_{i}"), "1".to_string());
    }
    v.insert("closed_on_holidays".into(), "1".into());
    v.insert("closed_year_end".into(), "1".into());
    v.insert(
        "municipality_code".into(),
        organisation_municipality.to_string(),
    );
    v
}

// ---------------------------------------------------------------------------------------
// Writing
// ---------------------------------------------------------------------------------------

/// The organisations whose entries the person keeps: their own (a facility, a centre,
/// an office), and for a town's staff the organisations located in their town.
pub async fn organisations_kept_by(
    state: &AppState,
    current: &CurrentSession,
) -> Result<Vec<crate::organisations::Organisation>, AppError> {
    let mut out: Vec<crate::organisations::Organisation> = Vec::new();
    for m in &current.memberships {
        let Some(scope) = tsunagu_core::access::scope_of(m.role, Permission::EditDirectory) else {
            continue;
        };
        let candidates = if scope >= tsunagu_core::access::Scope::OwnMunicipality {
            crate::organisations::in_municipality(&state.db, m.municipality_code.as_str()).await?
        } else {
            crate::organisations::repo::get(&state.db, &m.organisation_id)
                .await?
                .into_iter()
                .collect()
        };
        for o in candidates {
            if o.kind != crate::organisations::OrganisationKind::Family
                && o.kind != crate::organisations::OrganisationKind::System
                && !out.iter().any(|x| x.id == o.id)
            {
                out.push(o);
            }
        }
    }
    out.sort_by(|a, b| a.kana.cmp(&b.kana));
    Ok(out)
}

/// What the policy decides on: a service of `owner` located in `municipality_code`.
fn target(owner: &OrganisationId, municipality_code: MunicipalityCode) -> Target {
    Target {
        resource_type: repo::RESOURCE_TYPE.into(),
        resource_id: String::new(),
        owner_organisation_id: owner.clone(),
        municipality_code,
        shared_with: Vec::new(),
        consented_departments: Vec::new(),
        guardian_account_ids: Vec::new(),
    }
}

/// Whether the person may keep this service's entry (to offer the way to its form).
pub fn may_edit(current: &CurrentSession, service: &Service) -> bool {
    MunicipalityCode::parse(&service.municipality_code)
        .is_ok_and(|code| may_keep(current, &service.organisation_id, code))
}

/// Whether the person may keep an entry of `owner` located in `municipality_code`: what
/// [`create`] decides on, for a row of an import before anything is written.
pub fn may_keep(
    current: &CurrentSession,
    owner: &OrganisationId,
    municipality_code: MunicipalityCode,
) -> bool {
    may(
        &current.actor,
        Permission::EditDirectory,
        Some(&target(owner, municipality_code)),
    )
    .allowed()
}

/// Registers a service for `organisation_id` (one the person keeps entries of), confirmed
/// by them now.
pub async fn create(
    gate: &Gate<'_>,
    state: &AppState,
    organisation_text: &str,
    entry: &Entry,
) -> Result<Result<ServiceId, Vec<FieldError>>, AppError> {
    let current = gate.current();
    let kept = organisations_kept_by(state, current).await?;
    let organisation = OrganisationId::parse(organisation_text)
        .ok()
        .and_then(|id| kept.into_iter().find(|o| o.id == id));
    let Some(organisation) = organisation else {
        return Ok(Err(vec![FieldError::new(
            "organisation_id",
            "not_allowed",
            "登録する事業所・組織を一覧から選んでください",
        )]));
    };
    // The policy decides on the entry as it would be stored.
    let target = target(&organisation.id, entry.municipality_code);
    if !may(&current.actor, Permission::EditDirectory, Some(&target)).allowed() {
        return Ok(Err(vec![FieldError::new(
            "municipality_code",
            "not_allowed",
            "この市区町村にある事業所の情報は登録できません（担当する市区町村のものだけです）",
        )]));
    }
    let id = ServiceId::from_uuid(uuid::Uuid::new_v4());
    let now = state.clock.now();
    let event = Event::new(Action::Create, Outcome::Allowed)
        .resource(repo::RESOURCE_TYPE, id.as_str())
        .detail(format!("organisation={}", organisation.id));
    gate.write(event, async |tx| {
        repo::insert(
            tx,
            &id,
            &organisation.id,
            entry,
            Some(&current.account.id),
            now,
        )
        .await?;
        Ok(Written::Changed {
            value: (),
            fields: changed_fields(None, entry),
        })
    })
    .await?;
    Ok(Ok(id))
}

/// The names of the fields an entry sets (new) or changes.
pub(super) fn changed_fields(before: Option<&Entry>, after: &Entry) -> Vec<String> {
    type Described = fn(&Entry) -> String;
    let fields: [(&str, Described); 12] = [
        ("kind", |e| e.kind.clone()),
        ("name", |e| format!("{} {}", e.name, e.kana)),
        ("description", |e| e.description.clone()),
        ("address", |e| {
            format!(
                "{} {} {:?} {:?}",
                e.address, e.municipality_code, e.latitude, e.longitude
            )
        }),
        ("contacts", |e| format!("{} {} {}", e.phone, e.email, e.url)),
        ("hours", |e| {
            format!(
                "{} {} {} {} {} {}",
                e.weekdays,
                e.opens_at,
                e.closes_at,
                e.closed_on_holidays,
                e.closed_year_end,
                e.nurse_hours
            )
        }),
        ("ages", |e| {
            format!("{:?} {:?} {:?}", e.age_from, e.age_to, e.max_tier)
        }),
        ("capacity", |e| {
            format!(
                "{:?} {:?} {:?}",
                e.capacity, e.care_children_now, e.waiting_list
            )
        }),
        ("care", |e| format!("{:?}", e.care)),
        ("devices", |e| format!("{:?}", e.device_rules)),
        ("areas", |e| format!("{:?}", e.areas)),
        ("staff_only", |e| e.staff_only.join(",")),
    ];
    fields
        .iter()
        .filter(|(_, of)| before.is_none_or(|b| of(b) != of(after)))
        .map(|(name, _)| (*name).to_string())
        .collect()
}

/// The entry a stored service holds, to compare an edit with.
fn entry_of(detail: &ServiceDetail) -> Option<Entry> {
    let s = &detail.service;
    Some(Entry {
        kind: s.kind.clone(),
        name: s.name.clone(),
        kana: s.kana.clone(),
        description: s.description.clone(),
        address: s.address.clone(),
        municipality_code: MunicipalityCode::parse(&s.municipality_code).ok()?,
        latitude: s.latitude,
        longitude: s.longitude,
        phone: s.phone.clone(),
        email: s.email.clone(),
        url: s.url.clone(),
        weekdays: s.weekdays.clone(),
        opens_at: s.opens_at.clone(),
        closes_at: s.closes_at.clone(),
        closed_on_holidays: s.closed_on_holidays,
        closed_year_end: s.closed_year_end,
        nurse_hours: s.nurse_hours.clone(),
        age_from: s.age_from,
        age_to: s.age_to,
        max_tier: s.max_tier.clone(),
        capacity: s.capacity,
        care_children_now: s.care_children_now,
        waiting_list: s.waiting_list,
        care: detail.care.clone(),
        device_rules: detail.device_rules.clone(),
        areas: detail
            .areas
            .iter()
            .filter_map(|c| MunicipalityCode::parse(c).ok())
            .collect(),
        staff_only: s
            .staff_only
            .split(',')
            .filter(|k| !k.is_empty())
            .map(String::from)
            .collect(),
    })
}

/// What saving a form came to.
pub enum Saved {
    Saved,
    Invalid(Vec<FieldError>),
    /// Someone saved the entry after the form was opened: nothing written.
    Conflict,
}

/// Opens a service for a change: its own organisation's staff, or its town's.
pub async fn open_for_change(
    gate: &Gate<'_>,
    state: &AppState,
    id: &str,
) -> Result<ServiceDetail, AppError> {
    let opened = gate
        .open::<Service>(id, Permission::EditDirectory, Use::Change)
        .await?;
    // The gate read the row; only its lists are read here.
    Ok(repo::detail_of(&state.db, opened.record).await?)
}

/// Saves an edit of a service if it is still at `expected`; a new location must be one
/// the person may keep entries in.
pub async fn update(
    gate: &Gate<'_>,
    state: &AppState,
    id: &str,
    expected: i64,
    entry: &Entry,
) -> Result<Saved, AppError> {
    let opened = gate
        .open::<Service>(id, Permission::EditDirectory, Use::Change)
        .await?;
    let before = repo::detail_of(&state.db, opened.record.clone()).await?;
    if before.service.version != expected {
        return Ok(Saved::Conflict);
    }
    let mut moved = opened.target.clone();
    moved.municipality_code = entry.municipality_code;
    if !may(
        &gate.current().actor,
        Permission::EditDirectory,
        Some(&moved),
    )
    .allowed()
    {
        return Ok(Saved::Invalid(vec![FieldError::new(
            "municipality_code",
            "not_allowed",
            "担当する市区町村の外へは移せません",
        )]));
    }
    let mut fields = changed_fields(entry_of(&before).as_ref(), entry);
    // Saving unchanged still confirms the entry as current.
    fields.push("confirmed".into());
    let now = state.clock.now();
    let account = gate.current().account.id.clone();
    let event = gate::change_event(&opened, Action::Update);
    let saved = gate
        .write(event, async |tx| {
            let previous = &before.service.municipality_code;
            if !repo::update(tx, opened.id(), expected, previous, entry, &account, now).await? {
                return Ok(Written::Nothing(false));
            }
            Ok(Written::Changed {
                value: true,
                fields: fields.clone(),
            })
        })
        .await?;
    Ok(if saved { Saved::Saved } else { Saved::Conflict })
}

/// The class ages a service is asked vacancies for: each of its class ages when it has
/// a narrow range (a nursery's 0–5), else one figure for any age (-1).
pub fn vacancy_ages(service: &Service) -> Vec<i64> {
    let default = directory::service_kind(&service.kind).and_then(|k| k.class_ages);
    let range = match (service.age_from, service.age_to) {
        (Some(from), Some(to)) => Some((from, to)),
        _ => default.map(|(a, b)| (i64::from(a), i64::from(b))),
    };
    match range {
        Some((from, to)) if to - from <= 5 && to <= 5 => (from..=to).collect(),
        _ => vec![-1],
    }
}

/// What a class age is called on the vacancy form.
pub fn class_age_label(age: i64) -> String {
    if age < 0 {
        "全年齢".into()
    } else {
        format!("{age}歳児クラス")
    }
}

/// Vacancies as of a date: `(class age, places)` each, -1 for any age.
pub type VacancyReport = (NaiveDate, Vec<(i64, i64)>);

/// The vacancies a form reports (`as_of`, and `vac_{age}` for each of `ages`) of a service
/// with `capacity`: the date, not in the future nor over a year ago, and each figure a
/// whole number from 0 to the capacity, at least one given. Every report is held to these,
/// typed on the form or read from an import's row.
pub fn vacancy_reports(
    form: &HashMap<String, String>,
    ages: &[i64],
    capacity: Option<i64>,
    today: NaiveDate,
) -> Result<VacancyReport, Vec<FieldError>> {
    let mut errors = Vec::new();
    let as_of_text = form.get("as_of").map(|t| t.trim()).unwrap_or_default();
    let as_of = match tsunagu_core::calendar::parse_date_ja(as_of_text) {
        None => {
            errors.push(FieldError::new(
                "as_of",
                "format",
                "いつ時点の空きかを、2026-12-01 や 令和8年12月1日 のように入力してください",
            ));
            None
        }
        Some(d) if d > today => {
            errors.push(FieldError::new(
                "as_of",
                "future",
                "「時点」に未来の日付は入力できません",
            ));
            None
        }
        Some(d) if (today - d).num_days() > 366 => {
            errors.push(FieldError::new(
                "as_of",
                "too_old",
                "「時点」は1年以内の日付にしてください",
            ));
            None
        }
        Some(d) => Some(d),
    };
    let mut reports = Vec::new();
    for &age in ages {
        let key = format!("vac_{age}");
        let text = form
            .get(&key)
            .map(|t| normalise_typed(t).trim().to_string())
            .unwrap_or_default();
        if text.is_empty() {
            continue;
        }
        let label = class_age_label(age);
        match text.parse::<i64>() {
            Ok(n) if n < 0 => errors.push(FieldError::new(
                &key,
                "negative",
                format!("{label}の空きに負の数は入力できません"),
            )),
            Ok(n) if capacity.is_some_and(|cap| n > cap) => errors.push(FieldError::new(
                &key,
                "over_capacity",
                format!(
                    "{label}の空き（{n}人）が定員（{}人）を超えています",
                    capacity.unwrap_or_default()
                ),
            )),
            Ok(n) if n <= MAX_COUNT => reports.push((age, n)),
            _ => errors.push(FieldError::new(
                &key,
                "format",
                format!("{label}の空きは0以上の整数で入力してください"),
            )),
        }
    }
    if reports.is_empty() && errors.is_empty() {
        errors.push(FieldError::new(
            "vacancies",
            "required",
            "空きの人数を1つ以上入力してください（空きがなければ 0）",
        ));
    }
    match (as_of, errors.is_empty()) {
        (Some(as_of), true) => Ok((as_of, reports)),
        _ => Err(errors),
    }
}

/// Records the vacancies of a service as of a date: each a new report in its history.
pub async fn record_vacancies(
    gate: &Gate<'_>,
    state: &AppState,
    id: &str,
    form: &HashMap<String, String>,
) -> Result<Saved, AppError> {
    let opened = gate
        .open::<Service>(id, Permission::EditDirectory, Use::Change)
        .await?;
    let service = &opened.record;
    let today = state.clock.today_jst();
    let (as_of, reports) =
        match vacancy_reports(form, &vacancy_ages(service), service.capacity, today) {
            Ok(reported) => reported,
            Err(errors) => return Ok(Saved::Invalid(errors)),
        };
    let expected = sent_version(form);
    if expected != service.version {
        return Ok(Saved::Conflict);
    }
    let now = state.clock.now();
    let account = gate.current().account.id.clone();
    let event = gate::change_event(&opened, Action::Update).detail(format!(
        "vacancies as_of={as_of}; {}",
        reports
            .iter()
            .map(|(a, n)| format!("{a}:{n}"))
            .collect::<Vec<_>>()
            .join(",")
    ));
    let saved = gate
        .write(event, async |tx| {
            if !repo::record_vacancies(
                tx,
                opened.id(),
                expected,
                &reports,
                as_of,
                Some(&account),
                now,
            )
            .await?
            {
                return Ok(Written::Nothing(false));
            }
            Ok(Written::Changed {
                value: true,
                fields: vec!["vacancies".into(), "confirmed".into()],
            })
        })
        .await?;
    Ok(if saved { Saved::Saved } else { Saved::Conflict })
}

/// Confirms an entry as current without changing it.
pub async fn confirm(
    gate: &Gate<'_>,
    state: &AppState,
    id: &str,
    expected: i64,
) -> Result<Saved, AppError> {
    let opened = gate
        .open::<Service>(id, Permission::EditDirectory, Use::Change)
        .await?;
    if opened.record.version != expected {
        return Ok(Saved::Conflict);
    }
    let now = state.clock.now();
    let account = gate.current().account.id.clone();
    let event = gate::change_event(&opened, Action::Update);
    let saved = gate
        .write(event, async |tx| {
            if !repo::confirm(tx, opened.id(), expected, Some(&account), now).await? {
                return Ok(Written::Nothing(false));
            }
            Ok(Written::Changed {
                value: true,
                fields: vec!["confirmed".into()],
            })
        })
        .await?;
    Ok(if saved { Saved::Saved } else { Saved::Conflict })
}

// ---------------------------------------------------------------------------------------
// Reading
// ---------------------------------------------------------------------------------------

/// A service as a page shows it: words, not codes, and only the fields the reader may
/// see (a public reader does not see the staff-only ones).
#[derive(Debug, Clone)]
pub struct ServiceView {
    pub id: ServiceId,
    pub name: String,
    pub kana: String,
    pub kind_label: &'static str,
    pub group_label: &'static str,
    pub organisation_name: String,
    pub description: String,
    pub town: String,
    pub address: Option<String>,
    pub coordinates: Option<String>,
    pub phone: Option<String>,
    pub email: Option<String>,
    pub url: String,
    pub hours: String,
    pub nurse_hours: Option<String>,
    pub ages: String,
    pub max_tier: String,
    pub capacity: Option<String>,
    pub waiting_list: Option<String>,
    pub care: Vec<(String, String)>,
    pub devices: Vec<String>,
    pub areas: Vec<String>,
    /// Current vacancies in words, per class age.
    pub vacancies: Option<Vec<String>>,
    pub has_places: bool,
    pub confirmed: String,
    /// Not confirmed for longer than the configured days.
    pub stale: bool,
    pub version: i64,
    /// Why a search shows it.
    pub why: Vec<String>,
}

impl ServiceView {
    pub fn build(detail: &ServiceDetail, public: bool, stale_before: DateTime<Utc>) -> Self {
        let s = &detail.service;
        let hidden = |field: &str| public && s.staff_only.split(',').any(|f| f == field);
        let shown =
            |field: &str, value: String| (!hidden(field) && !value.is_empty()).then_some(value);
        let kind: Option<&ServiceKind> = directory::service_kind(&s.kind);
        let open_days: Vec<&str> = s
            .weekdays
            .chars()
            .zip(WEEKDAYS_JA)
            .filter(|(c, _)| *c == '1')
            .map(|(_, d)| d)
            .collect();
        let mut hours = if open_days.is_empty() {
            "曜日の登録なし".to_string()
        } else {
            open_days.join("・")
        };
        if !s.opens_at.is_empty() || !s.closes_at.is_empty() {
            hours.push_str(&format!(" {}〜{}", s.opens_at, s.closes_at));
        }
        let mut closed = Vec::new();
        if s.closed_on_holidays {
            closed.push("祝日");
        }
        if s.closed_year_end {
            closed.push("年末年始（12月29日〜1月3日）");
        }
        if !closed.is_empty() {
            hours.push_str(&format!("（{}は休み）", closed.join("・")));
        }
        let ages = match (s.age_from, s.age_to) {
            (Some(from), Some(to)) => age_range_ja(from as i32, to as i32),
            (Some(from), None) => format!("{}から", age_range_ja(from as i32, from as i32)),
            (None, Some(to)) => format!("{}まで", age_range_ja(to as i32, to as i32)),
            (None, None) => kind
                .and_then(|k| k.class_ages)
                .map(|(a, b)| age_range_ja(a, b))
                .unwrap_or_else(|| "年齢の制限なし".into()),
        };
        let mut capacity = Vec::new();
        if let Some(c) = s.capacity {
            capacity.push(format!("定員 {c}人"));
        }
        if let Some(n) = s.care_children_now {
            capacity.push(format!("医療的ケア児 {n}人を受け入れ中"));
        }
        let has_places = kind.is_some_and(directory::has_places);
        let vacancies = (!hidden("vacancies") && has_places).then(|| {
            detail
                .vacancies
                .iter()
                .map(vacancy_words)
                .collect::<Vec<_>>()
        });
        ServiceView {
            id: s.id.clone(),
            name: s.name.clone(),
            kana: s.kana.clone(),
            kind_label: kind.map(|k| k.label).unwrap_or("（種別不明）"),
            group_label: kind.map(|k| k.group.label_ja()).unwrap_or(""),
            organisation_name: s.organisation_name.clone(),
            description: s.description.clone(),
            town: municipalities::repo::name_of(&s.municipality_code).to_string(),
            address: shown("address", s.address.clone()),
            coordinates: match (s.latitude, s.longitude, hidden("address")) {
                (Some(lat), Some(lon), false) => Some(format!("北緯 {lat:.5}・東経 {lon:.5}")),
                _ => None,
            },
            phone: shown("phone", s.phone.clone()),
            email: shown("email", s.email.clone()),
            url: s.url.clone(),
            hours,
            nurse_hours: shown("nurse_hours", s.nurse_hours.clone()),
            ages,
            max_tier: s
                .max_tier
                .as_deref()
                .and_then(Tier::parse)
                .map(|t| format!("判定スコア {}まで", t.label_ja()))
                .unwrap_or_default(),
            capacity: shown("capacity", capacity.join("、")),
            waiting_list: shown(
                "waiting_list",
                s.waiting_list.map(|n| format!("{n}人")).unwrap_or_default(),
            ),
            care: {
                let mut care = detail.care.clone();
                care.sort_by_key(|(item, _)| *item);
                care.into_iter()
                    .map(|(item, cond)| (item.short_label_ja().to_string(), cond))
                    .collect()
            },
            devices: detail
                .device_rules
                .iter()
                .map(|(d, r)| format!("{}: {}", d.label_ja(), r.label_ja()))
                .collect(),
            areas: detail
                .areas
                .iter()
                .map(|c| municipalities::repo::name_of(c).to_string())
                .collect(),
            vacancies,
            has_places,
            confirmed: format!(
                "{}{}",
                crate::view::format_instant_jst(s.confirmed_at.timestamp_millis()),
                if s.confirmed_by_name.is_empty() || public {
                    String::new()
                } else {
                    format!("（{}）", s.confirmed_by_name)
                }
            ),
            stale: s.confirmed_at < stale_before,
            version: s.version,
            why: Vec::new(),
        }
    }
}

/// 「1歳児クラス 空き2人（令和8年12月1日（2026年）時点）」.
pub fn vacancy_words(v: &Vacancy) -> String {
    format!(
        "{} 空き{}人（{}時点）",
        class_age_label(v.class_age),
        v.vacancies,
        format_wareki_with_seireki(v.as_of)
    )
}

/// The instant before which an entry counts as possibly out of date.
pub fn stale_before(state: &AppState) -> DateTime<Utc> {
    state.clock.now() - chrono::Duration::days(state.settings.directory_stale_days)
}

/// A search as the page asks it, with the care items by code.
#[derive(Debug, Clone, Default)]
pub struct Query {
    pub prefecture: String,
    pub municipality_code: String,
    /// An area (圏域): its name and its towns; services located in or serving any of them.
    pub area: Option<(String, Vec<String>)>,
    pub kind: String,
    pub care: Vec<CareItem>,
    pub class_age: Option<i64>,
    pub vacancies: bool,
    pub text: String,
}

impl Query {
    /// Reads the page's query; what it does not understand is named in Japanese.
    pub fn parse(q: &HashMap<String, String>, care_codes: &[String]) -> (Query, Vec<String>) {
        let mut problems = Vec::new();
        let mut query = Query::default();
        let code = q.get("municipality").map(|t| t.trim()).unwrap_or_default();
        if !code.is_empty() {
            match MunicipalityCode::parse(code) {
                Ok(c) => query.municipality_code = c.to_string(),
                Err(err) => problems.push(format!("市区町村: {err}")),
            }
        }
        let kind = q.get("kind").map(|t| t.trim()).unwrap_or_default();
        if !kind.is_empty() {
            match directory::service_kind(kind) {
                Some(k) => query.kind = k.code.to_string(),
                None => problems.push("種別を一覧から選んでください".into()),
            }
        }
        for code in care_codes {
            match CareItem::parse(code) {
                Ok(item) if !query.care.contains(&item) => query.care.push(item),
                Ok(_) => {}
                Err(_) => problems.push("医療的ケアの項目を一覧から選んでください".into()),
            }
        }
        let age = q.get("age").map(|t| t.trim()).unwrap_or_default();
        if !age.is_empty() {
            match age.parse::<i64>() {
                Ok(a) if (0..=18).contains(&a) => query.class_age = Some(a),
                _ => problems.push("年齢（クラス年齢）を一覧から選んでください".into()),
            }
        }
        // In the sheet's order, whatever order they were ticked or sent in.
        query.care.sort();
        query.vacancies = q.get("vacancies").is_some_and(|v| v == "1");
        let text = q.get("q").map(|t| t.trim()).unwrap_or_default();
        if let Some(c) = hidden_character(text, false) {
            problems.push(hidden_character_message("キーワード", c));
        } else if text.chars().count() > 100 {
            problems.push("キーワードは100文字以内で入力してください".into());
        } else {
            query.text = text.to_string();
        }
        (query, problems)
    }

    fn search(&self) -> Search {
        Search {
            prefecture: self.prefecture.clone(),
            municipality_code: self.municipality_code.clone(),
            kind: self.kind.clone(),
            care_mask: CareItem::mask(self.care.iter()),
            class_age: if self.vacancies { self.class_age } else { None },
            vacancies: self.vacancies,
            text: tsunagu_core::kana::search_key(&self.text),
            ..Search::default()
        }
    }

    /// Why a result is shown, for each part of the query it meets.
    fn why(&self, detail: &ServiceDetail, view: &ServiceView) -> Vec<String> {
        let mut why = Vec::new();
        if let Some((name, _)) = &self.area {
            why.push(format!("{name}（圏域）の{}", view.town));
        }
        if !self.municipality_code.is_empty() {
            let town = municipalities::repo::name_of(&self.municipality_code);
            if detail.service.municipality_code == self.municipality_code {
                why.push(format!("{town}にあります"));
            } else {
                why.push(format!("{town}も対象地域です"));
            }
        }
        if !self.care.is_empty() {
            why.push(format!(
                "{}に対応",
                self.care
                    .iter()
                    .map(|c| c.short_label_ja())
                    .collect::<Vec<_>>()
                    .join("・")
            ));
        }
        if self.vacancies {
            let free: Vec<String> = detail
                .vacancies
                .iter()
                .filter(|v| {
                    v.vacancies > 0
                        && self
                            .class_age
                            .is_none_or(|a| v.class_age == -1 || v.class_age == a)
                })
                .map(vacancy_words)
                .collect();
            if view.vacancies.is_some() && !free.is_empty() {
                why.push(free.join("、"));
            } else {
                why.push("空きがあります".into());
            }
        }
        if !self.text.is_empty() {
            why.push(format!("「{}」を含みます", self.text));
        }
        why
    }
}

/// One page of a search, with why each result is shown.
pub async fn search(
    state: &AppState,
    query: &Query,
    public: bool,
    limit: i64,
    offset: i64,
) -> Result<(Vec<ServiceView>, i64), AppError> {
    let stale = stale_before(state);
    let view = |detail: &ServiceDetail| {
        let mut view = ServiceView::build(detail, public, stale);
        view.why = query.why(detail, &view);
        view
    };
    let search = query.search();
    if !search.prefecture.is_empty() {
        // A prefecture's services are searched in its copy in memory.
        let all = prefecture_copy(state, &search.prefecture).await?;
        let in_area = |d: &ServiceDetail| {
            query.area.as_ref().is_none_or(|(_, towns)| {
                towns.contains(&d.service.municipality_code)
                    || d.areas.iter().any(|a| towns.contains(a))
            })
        };
        let found: Vec<&ServiceDetail> = all
            .iter()
            .filter(|d| matches(d, &search) && in_area(d))
            .collect();
        let views = found
            .iter()
            .skip(offset.max(0) as usize)
            .take(limit.max(0) as usize)
            .map(|d| view(d))
            .collect();
        return Ok((views, found.len() as i64));
    }
    let (found, total) = repo::search(&state.db, &search, limit, offset).await?;
    Ok((found.iter().map(view).collect(), total))
}

/// The active services of a prefecture, from its copy in memory (`cache`).
async fn prefecture_copy(
    state: &AppState,
    prefecture: &str,
) -> Result<std::sync::Arc<Vec<ServiceDetail>>, sqlx::Error> {
    state
        .copies
        .of::<super::cache::Cache>()
        .prefecture(&state.db, prefecture)
        .await
}

/// Whether an active service meets a search, as `repo::search`'s SQL decides it.
fn matches(d: &ServiceDetail, search: &Search) -> bool {
    let s = &d.service;
    let code = &search.municipality_code;
    (code.is_empty() || s.municipality_code == *code || d.areas.contains(code))
        && (search.kind.is_empty() || s.kind == search.kind)
        && s.care_mask & search.care_mask == search.care_mask
        && (!search.any_care || s.care_mask != 0)
        && (!search.vacancies
            || d.vacancies.iter().any(|v| {
                v.vacancies > 0
                    && search
                        .class_age
                        .is_none_or(|a| v.class_age == -1 || v.class_age == a)
            }))
        && (search.text.is_empty() || s.search_key.contains(&search.text))
        && (search.organisation_ids.is_empty()
            || search.organisation_ids.contains(&s.organisation_id))
        && search.modified_after.is_none_or(|t| s.updated_at >= t)
}

/// A service for a page: `None` when missing or (for the public) withdrawn.
pub async fn view(
    state: &AppState,
    id: &str,
    public: bool,
) -> Result<Option<(ServiceView, ServiceDetail)>, AppError> {
    let Ok(id) = ServiceId::parse(id) else {
        return Ok(None);
    };
    let Some(detail) = repo::detail(&state.db, &id).await? else {
        return Ok(None);
    };
    if public && !detail.service.active {
        return Ok(None);
    }
    Ok(Some((
        ServiceView::build(&detail, public, stale_before(state)),
        detail,
    )))
}

/// The vacancy history of a service, in words, newest first.
pub async fn history(state: &AppState, id: &ServiceId) -> Result<Vec<String>, AppError> {
    Ok(repo::vacancy_history(&state.db, id, 60)
        .await?
        .iter()
        .map(|v| {
            format!(
                "{}: {}（{}）",
                crate::view::format_instant_jst(v.recorded_at.timestamp_millis()),
                vacancy_words(v),
                v.recorded_by_name
            )
        })
        .collect())
}

/// The services a person keeps, with whether they are out of date.
pub async fn kept_by(
    state: &AppState,
    current: &CurrentSession,
) -> Result<Vec<ServiceView>, AppError> {
    let organisations: Vec<OrganisationId> = organisations_kept_by(state, current)
        .await?
        .into_iter()
        .map(|o| o.id)
        .collect();
    if organisations.is_empty() {
        return Ok(Vec::new());
    }
    let search = Search {
        organisation_ids: organisations,
        include_inactive: true,
        ..Search::default()
    };
    let (found, _) = repo::search(&state.db, &search, 500, 0).await?;
    let stale = stale_before(state);
    Ok(found
        .iter()
        .map(|d| ServiceView::build(d, false, stale))
        .collect())
}

/// What the directory asks of a person today, for their home page.
#[derive(Debug, Default)]
pub struct DirectoryWork {
    /// The person keeps directory entries (of their facility, or their town's).
    pub may_keep: bool,
    /// Entries the person keeps, and how many are out of date.
    pub kept: usize,
    pub kept_stale: usize,
}

pub async fn work_for(
    state: &AppState,
    current: &CurrentSession,
) -> Result<DirectoryWork, AppError> {
    if !may(&current.actor, Permission::EditDirectory, None).allowed() {
        return Ok(DirectoryWork::default());
    }
    let kept = kept_by(state, current).await?;
    Ok(DirectoryWork {
        may_keep: true,
        kept: kept.len(),
        kept_stale: kept.iter().filter(|v| v.stale).count(),
    })
}

// ---------------------------------------------------------------------------------------
// Matching
// ---------------------------------------------------------------------------------------

/// One service weighed for one child.
#[derive(Debug, Clone)]
pub struct Weighed {
    pub view: ServiceView,
    pub fit: Fit,
    /// The reasons it does not fit, in Japanese.
    pub reasons: Vec<String>,
    /// Conditions of a fit (a device only with a parent present).
    pub conditions: Vec<String>,
}

/// The services of the child's prefecture weighed for them, those that fit first (most
/// places first), then those that miss by fewest reasons. `kind` narrows to one kind;
/// `public` shows only the public fields (a family reading their child's matches);
/// `shown_each` fits and as many misses are put into words.
pub async fn weigh_for(
    state: &AppState,
    needs: &Needs,
    kind: Option<&str>,
    public: bool,
    shown_each: usize,
) -> Result<Weighing, AppError> {
    let prefecture = repo::prefecture_of(&needs.municipality_code);
    let services = prefecture_copy(state, prefecture).await?;
    // Every service weighed; only those shown are put into words.
    let mut fits: Vec<(Fit, &ServiceDetail)> = services
        .iter()
        .filter(|d| kind.is_none_or(|k| d.service.kind == k))
        .map(|detail| {
            (
                directory::fit(needs, &offer_of(detail, needs.class_age)),
                detail,
            )
        })
        .collect();
    fits.sort_by(|(a, da), (b, db)| {
        b.fits()
            .cmp(&a.fits())
            .then(a.misfits.len().cmp(&b.misfits.len()))
            .then(b.vacancies.cmp(&a.vacancies))
            .then(da.service.kana.cmp(&db.service.kana))
    });
    let fitting = fits.iter().filter(|(f, _)| f.fits()).count();
    let stale = stale_before(state);
    let shown = fits
        .into_iter()
        .enumerate()
        .filter(|(i, _)| *i < shown_each || (*i >= fitting && *i < fitting + shown_each))
        .map(|(_, (fit, detail))| {
            let reasons = fit.misfits.iter().map(|m| m.message_ja()).collect();
            let conditions = fit
                .with_parent
                .iter()
                .map(|d| format!("{}は保護者の付き添いがあれば対応", d.label_ja()))
                .collect();
            Weighed {
                view: ServiceView::build(detail, public, stale),
                fit,
                reasons,
                conditions,
            }
        })
        .collect();
    Ok(Weighing {
        shown,
        fitting,
        total: services.len(),
    })
}

/// The services weighed for a child: those shown (the first fits, then the closest
/// misses) and how many fit of how many weighed.
pub struct Weighing {
    pub shown: Vec<Weighed>,
    pub fitting: usize,
    pub total: usize,
}

/// For each child's needs and the kinds that would take them: how many services of those
/// kinds fit now, a vacancy included. The services are read once per prefecture.
pub async fn fitting_places(
    state: &AppState,
    asks: &[(Needs, &'static [&'static str])],
) -> Result<Vec<usize>, AppError> {
    let mut by_prefecture: HashMap<String, std::sync::Arc<Vec<ServiceDetail>>> = HashMap::new();
    let mut counts = Vec::with_capacity(asks.len());
    for (needs, kinds) in asks {
        let prefecture = repo::prefecture_of(&needs.municipality_code).to_string();
        if !by_prefecture.contains_key(&prefecture) {
            let services = prefecture_copy(state, &prefecture).await?;
            by_prefecture.insert(prefecture.clone(), services);
        }
        let services = by_prefecture
            .get(&prefecture)
            .map_or(&[][..], |s| s.as_slice());
        counts.push(
            services
                .iter()
                .filter(|d| kinds.contains(&d.service.kind.as_str()))
                .filter(|d| fits(d, needs))
                .count(),
        );
    }
    Ok(counts)
}

/// The active services located in a prefecture (two digits), from its copy in memory:
/// for counts weighed against many services at once (the gaps table).
pub async fn services_of_prefecture(
    state: &AppState,
    prefecture: &str,
) -> Result<std::sync::Arc<Vec<ServiceDetail>>, AppError> {
    Ok(prefecture_copy(state, prefecture).await?)
}

/// Whether a service fits a child's needs now, as matching decides it (a vacancy included
/// for the kinds that have places).
pub fn fits(detail: &ServiceDetail, needs: &Needs) -> bool {
    directory::fit(needs, &offer_of(detail, needs.class_age)).fits()
}

/// What a stored service offers a child of `class_age`, for those weighing many children
/// at once: made once per service, then only [`vacancies_for`] changes with the age.
pub fn offer_for(detail: &ServiceDetail, class_age: i32) -> Offer {
    offer_of(detail, class_age)
}

/// The places a service reports free for a child of `class_age`: the class's own figure,
/// else the one for any age.
pub fn vacancies_for(detail: &ServiceDetail, class_age: i32) -> Option<(i64, chrono::NaiveDate)> {
    detail
        .vacancies
        .iter()
        .find(|v| v.class_age == i64::from(class_age))
        .or_else(|| detail.vacancies.iter().find(|v| v.class_age == -1))
        .map(|v| (v.vacancies, v.as_of))
}

/// What a stored service offers, for matching a child of `class_age`.
fn offer_of(detail: &ServiceDetail, class_age: i32) -> Offer {
    let s = &detail.service;
    let kind = directory::service_kind(&s.kind);
    let mut areas = detail.areas.clone();
    areas.push(s.municipality_code.clone());
    let class_ages = match (s.age_from, s.age_to) {
        (None, None) => kind.and_then(|k| k.class_ages),
        (from, to) => Some((
            from.map(|a| a as i32).unwrap_or(0),
            to.map(|a| a as i32).unwrap_or(i32::MAX),
        )),
    };
    let vacancies = vacancies_for(detail, class_age);
    Offer {
        areas,
        class_ages,
        care: detail.care.iter().map(|(c, _)| *c).collect(),
        max_tier: s.max_tier.as_deref().and_then(Tier::parse),
        device_rules: detail.device_rules.clone(),
        vacancies,
        has_places: kind.is_some_and(directory::has_places),
        weighs_care: kind.is_none_or(directory::weighs_care),
    }
}

/// The kinds, for a choice list: `(code, label)`.
pub fn kind_choices() -> Vec<(&'static str, &'static str)> {
    SERVICE_KINDS.iter().map(|k| (k.code, k.label)).collect()
}
