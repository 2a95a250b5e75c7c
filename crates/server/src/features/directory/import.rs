//! Importing services from the sheet a town already keeps of its facilities (those that do
//! not use tsunagu themselves): upload → column mapping → dry run → commit, on the imports'
//! shared machinery ([`crate::tabular::upload`]).
//!
//! - Each row becomes the form fields [`service::parse_entry`] reads, and is validated by it:
//!   the one validator of an entry, whether typed or imported. Its vacancies are held to
//!   [`service::vacancy_reports`], the rules of every vacancy report.
//! - A row's 事業所名 is an organisation of the service's town: an existing one (same name),
//!   or a facility created with the row; one name in several rows is one organisation.
//! - A row for a service already in the directory (same organisation, kind and name, or a
//!   サービスID column naming one), a town the uploader does not keep, or the same service
//!   twice in the file, is a problem: nothing is updated.
//! - Only those who keep a town's entries (its staff) import: an import registers
//!   organisations, which a facility's own staff may not.
//! - The dry run writes nothing. The commit checks everything again and writes every row in
//!   one transaction (one audit entry per organisation and service created, one for the
//!   file), or nothing; a commit sent again answers 409 with what the first one created.
//!
//! Cell syntax of the list columns:
//! - 受け入れる医療的ケア: items separated by 、 , ; ／ or a line break, each by its label,
//!   short name or code, optionally followed by its condition in brackets:
//!   `人工呼吸器、吸引(看護師がいる時間のみ)、経管栄養`.
//! - 開いている曜日: `月〜金`, `月・水・金`, `平日`, `毎日`.
//! - 公開しない項目: the items of the form's list (`電話番号、空き状況`).

use std::collections::{HashMap, HashSet};
use std::sync::LazyLock;

use askama::Template;
use axum::extract::multipart::MultipartRejection;
use axum::extract::{Multipart, Path, RawForm, State};
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use chrono::NaiveDate;
use tsunagu_core::access::{Permission, Scope, scope_of};
use tsunagu_core::care::CareItem;
use tsunagu_core::directory::{self, SERVICE_KINDS, class_age_ja};
use tsunagu_core::ids::{OrganisationId, ServiceId};
use tsunagu_core::kana::search_key;
use tsunagu_core::municipality::MunicipalityCode;
use tsunagu_core::text::{hidden_character, hidden_character_message, is_kana};

use super::repo::{self, Entry};
use super::service;
use crate::audit::{self, Action, Event, Outcome};
use crate::auth::guard::audit_context;
use crate::auth::session::CurrentSession;
use crate::error::{AppError, PageError};
use crate::features::municipalities;
use crate::gate::Gate;
use crate::organisations::{self, NewOrganisation, OrganisationKind};
use crate::state::AppState;
use crate::tabular;
use crate::tabular::upload::{
    self, Purpose, Stored, Table, TableRow, Target, care_named, fold, peel_group, split_list,
};
use crate::view::Chrome;
use crate::web::params;

/// The largest file taken: every import's.
pub const MAX_FILE_BYTES: usize = upload::MAX_FILE_BYTES;
/// The most data rows one file may hold (a prefecture's facilities fit).
pub const MAX_ROWS: usize = 2_000;
const MAX_COLUMNS: usize = 100;
/// The limits of an uploaded list of services.
pub const LIMITS: tabular::Limits =
    tabular::Limits::for_rows(MAX_FILE_BYTES, MAX_ROWS, MAX_COLUMNS);
/// Where this import's uploads are kept, and their audit resource type.
const PURPOSE: Purpose = Purpose::Services;
const EMPTY_FILE: &str =
    "ファイルが空です。1行目に見出し、2行目からサービスを1件1行で入れてください";
/// An organisation's name as the administrators' form takes it.
const MAX_ORGANISATION_CHARS: usize = 100;

// ---------------------------------------------------------------------------------------
// The fields a column can go to
// ---------------------------------------------------------------------------------------

/// Every mappable field, in the template's order: the keys [`service::parse_entry`] reads,
/// and the import's own (`organisation`, `organisation_kana`, `service_id`, the list cells
/// `care`, `weekdays`, `staff_only`, the class ages, and the vacancy report).
pub static TARGETS: LazyLock<Vec<Target>> = LazyLock::new(|| {
    vec![
        Target::new(
            "organisation",
            "事業所名",
            &["事業所", "事業所・組織", "事業者名", "運営事業所", "法人名"],
        ),
        Target::new(
            "organisation_kana",
            "事業所名ふりがな",
            &["事業所名(ふりがな)", "事業所ふりがな", "事業所名フリガナ"],
        ),
        Target::new(
            "kind",
            "種別",
            &[
                "サービス種別",
                "サービスの種類",
                "施設種別",
                "事業種別",
                "種類",
            ],
        ),
        Target::new(
            "name",
            "サービス名",
            &["名称", "サービスの名称", "施設名", "サービス名称"],
        ),
        Target::new(
            "kana",
            "ふりがな",
            &[
                "サービス名ふりがな",
                "サービス名(ふりがな)",
                "よみがな",
                "カナ",
            ],
        ),
        Target::new("address", "所在地", &["住所", "所在地住所"]),
        Target::new(
            "municipality_code",
            "市区町村コード",
            &[
                "団体コード",
                "所在地の団体コード",
                "全国地方公共団体コード",
                "地方公共団体コード",
                "自治体コード",
            ],
        ),
        Target::new(
            "areas",
            "対象地域",
            &["ほかの対象地域", "サービス提供地域", "対象地域(団体コード)"],
        ),
        Target::new("phone", "電話番号", &["電話", "TEL", "連絡先"]),
        Target::new("email", "メールアドレス", &["メール", "E-mail", "Eメール"]),
        Target::new("url", "URL", &["ホームページ", "ウェブサイト", "HP"]),
        Target::new("description", "紹介", &["紹介文", "受け入れの様子"]),
        Target::new("capacity", "定員", &["定員(人)", "利用定員"]),
        Target::new(
            "care_children_now",
            "医ケア児の受け入れ人数",
            &[
                "受け入れている医療的ケア児の数",
                "医療的ケア児の受け入れ人数",
                "医ケア児受け入れ人数",
                "受け入れ人数",
            ],
        ),
        Target::new("waiting_list", "待機人数", &["待機者数", "待機児童数"]),
        Target::new(
            "care",
            "受け入れる医療的ケア",
            &[
                "医療的ケア",
                "受け入れ可能な医療的ケア",
                "対応できる医療的ケア",
                "対応可能な医療的ケア",
            ],
        ),
        Target::new(
            "age_from",
            "対応年齢(から)",
            &[
                "対象年齢(から)",
                "対応年齢から",
                "対象年齢から",
                "年齢(から)",
            ],
        ),
        Target::new(
            "age_to",
            "対応年齢(まで)",
            &[
                "対象年齢(まで)",
                "対応年齢まで",
                "対象年齢まで",
                "年齢(まで)",
            ],
        ),
        Target::new(
            "nurse_hours",
            "看護師のいる時間",
            &["看護師の配置時間", "看護師配置", "看護師の勤務時間"],
        ),
        Target::new(
            "weekdays",
            "開いている曜日",
            &["営業日", "開所日", "開所曜日", "営業曜日"],
        ),
        Target::new("opens_at", "開始時刻", &["開所時刻", "営業開始時刻"]),
        Target::new("closes_at", "終了時刻", &["閉所時刻", "営業終了時刻"]),
        Target::new(
            "vacancies",
            "空き(人数)",
            &["空き", "空き人数", "空きの人数", "空き状況"],
        ),
        Target::new(
            "as_of",
            "空きの時点",
            &["時点", "空きの日付", "空き状況の時点", "基準日"],
        ),
        Target::new(
            "staff_only",
            "公開しない項目",
            &["非公開の項目", "一般公開しない項目", "非公開項目"],
        ),
        Target::new("service_id", "サービスID", &["ID", "サービスのID"]),
    ]
});

fn label_of(key: &str) -> &str {
    upload::target_of(&TARGETS, key).map_or(key, |t| t.label.as_str())
}

// ---------------------------------------------------------------------------------------
// Cells
// ---------------------------------------------------------------------------------------

/// A kind by its code, its label, or its label without the bracketed part when only one
/// kind has it (「特別支援学校」).
fn kind_of(cell: &str) -> Option<&'static directory::ServiceKind> {
    let key = search_key(cell);
    if key.is_empty() {
        return None;
    }
    if let Some(kind) = SERVICE_KINDS
        .iter()
        .find(|k| k.code == key || search_key(k.label) == key)
    {
        return Some(kind);
    }
    let short = |label: &str| search_key(label.split(['（', '(']).next().unwrap_or(label));
    let mut found = SERVICE_KINDS.iter().filter(|k| short(k.label) == key);
    match (found.next(), found.next()) {
        (Some(kind), None) => Some(kind),
        _ => None,
    }
}

/// The 受け入れる医療的ケア cell as the form's `accept_{code}` and `cond_{code}` fields.
fn care_cell(cell: &str, fields: &mut HashMap<String, String>, problems: &mut Vec<String>) {
    for item_text in split_list(cell) {
        let found = match care_named(&item_text) {
            Some((item, _)) => Some((item, String::new())),
            None => peel_group(&item_text).and_then(|(rest, condition)| {
                care_named(rest).map(|(item, _)| (item, condition.trim().to_string()))
            }),
        };
        let Some((item, condition)) = found else {
            problems.push(format!(
                "受け入れる医療的ケア「{item_text}」という項目はありません（書き方の例：人工呼吸器、吸引(看護師がいる時間のみ)）"
            ));
            continue;
        };
        if fields
            .insert(format!("accept_{}", item.code()), "1".into())
            .is_some()
        {
            problems.push(format!(
                "受け入れる医療的ケア「{}」が2回書かれています",
                item.short_label_ja()
            ));
        }
        fields.insert(format!("cond_{}", item.code()), condition);
    }
}

/// The 開いている曜日 cell as the form's `wd_{i}` (Monday 0): days, ranges and 平日・毎日.
fn weekdays_cell(cell: &str, fields: &mut HashMap<String, String>, problems: &mut Vec<String>) {
    const DAYS: [char; 7] = ['月', '火', '水', '木', '金', '土', '日'];
    let text = fold(cell)
        .replace("平日", "月~金")
        .replace("毎日", "月~日")
        .replace("曜日", "")
        .replace('曜', "");
    let mut open = [false; 7];
    let mut from: Option<usize> = None;
    let mut range = false;
    for c in text.chars() {
        if let Some(day) = DAYS.iter().position(|d| *d == c) {
            match (range, from) {
                (true, Some(start)) => {
                    // 金〜月 wraps over the weekend.
                    let mut d = start;
                    loop {
                        open[d] = true;
                        if d == day {
                            break;
                        }
                        d = (d + 1) % 7;
                    }
                }
                _ => open[day] = true,
            }
            from = Some(day);
            range = false;
        } else if matches!(c, '~' | '〜' | '-' | 'ー' | '–' | '−') && from.is_some() {
            range = true;
        } else if !matches!(c, '・' | '、' | ',' | '/' | '.' | '･') {
            problems.push(format!(
                "開いている曜日「{}」を読み取れません（書き方の例：月〜金、月・水・金、平日）",
                cell.trim()
            ));
            return;
        }
    }
    if range {
        problems.push(format!(
            "開いている曜日「{}」の範囲が終わっていません（書き方の例：月〜金）",
            cell.trim()
        ));
        return;
    }
    for (i, is_open) in open.iter().enumerate() {
        if *is_open {
            fields.insert(format!("wd_{i}"), "1".into());
        } else {
            fields.remove(&format!("wd_{i}"));
        }
    }
}

/// A class age as a sheet writes it (「0」「1歳」「3歳児」「3歳児クラス」「小1」「中学2年」
/// 「卒後」) as the number the form sends; the number is then the validator's to check.
fn class_age_cell(cell: &str) -> Option<String> {
    let text = fold(cell)
        .replace("小学", "小")
        .replace("中学", "中")
        .replace("高校", "高");
    let text = text
        .trim_end_matches("クラス")
        .trim_end_matches("年生")
        .trim_end_matches('年')
        .trim_end_matches('児')
        .trim_end_matches('歳');
    if text.is_empty() {
        return Some(String::new());
    }
    let digits = text.strip_prefix('-').unwrap_or(text);
    if !digits.is_empty() && digits.chars().all(|c| c.is_ascii_digit()) {
        return Some(text.to_string());
    }
    (0..=18)
        .find(|a| fold(&class_age_ja(*a)) == text)
        .map(|a| a.to_string())
}

/// The 公開しない項目 cell as the form's `private_{key}`: each item by its label, a part of
/// it (「定員」) or its key.
fn staff_only_cell(cell: &str, fields: &mut HashMap<String, String>, problems: &mut Vec<String>) {
    for item in split_list(cell) {
        let key = search_key(&item);
        let found = service::STAFF_ONLY_FIELDS.iter().find(|(k, label)| {
            *k == key
                || search_key(label) == key
                || label.split('・').any(|part| search_key(part) == key)
        });
        match found {
            Some((k, _)) => {
                fields.insert(format!("private_{k}"), "1".into());
            }
            None => problems.push(format!(
                "公開しない項目「{item}」はありません（選べる項目：{}）",
                service::STAFF_ONLY_FIELDS
                    .iter()
                    .map(|(_, l)| *l)
                    .collect::<Vec<_>>()
                    .join("、")
            )),
        }
    }
}

// ---------------------------------------------------------------------------------------
// The mapping
// ---------------------------------------------------------------------------------------

/// Which field each column goes to ("" = not imported), and the town used for rows whose
/// 市区町村コード is empty or not in the file.
#[derive(Debug, Clone, Default)]
pub struct Mapping {
    pub columns: Vec<String>,
    pub default_code: String,
}

impl Mapping {
    fn from_form(form: &HashMap<String, String>, width: usize) -> Mapping {
        Mapping {
            columns: upload::columns_from_form(form, width),
            default_code: form
                .get("default_municipality_code")
                .map(|c| c.trim().to_string())
                .unwrap_or_default(),
        }
    }

    fn guessed(table: &Table) -> Mapping {
        Mapping {
            columns: upload::guessed_columns(&TARGETS, &table.header),
            default_code: String::new(),
        }
    }

    fn has(&self, key: &str) -> bool {
        self.columns.iter().any(|c| c == key)
    }

    /// Problems of the mapping itself (they concern every row).
    fn problems(&self, header: &[String]) -> Vec<String> {
        let mut problems = upload::mapping_problems(
            &TARGETS,
            &self.columns,
            header,
            &["organisation", "kind", "name"],
        );
        if !self.has("municipality_code") && self.default_code.is_empty() {
            problems.push(
                "「市区町村コード」の列を選ぶか、全行に使う市区町村コードを入力してください".into(),
            );
        }
        if self.has("vacancies") && !self.has("as_of") {
            problems
                .push("「空き(人数)」を取り込むときは、「空きの時点」の列も選んでください".into());
        }
        problems
    }

    /// A row as the service form's fields (a new entry's defaults under them), and the
    /// import's own cells; problems of cells the form has no field for.
    fn read(&self, row: &TableRow, problems: &mut Vec<String>) -> RowFields {
        let mut fields = service::new_values("");
        let mut own = HashMap::new();
        for (i, key) in self.columns.iter().enumerate() {
            let cell = row.cells.get(i).map(|c| c.trim()).unwrap_or("");
            match key.as_str() {
                "" => {}
                "care" => care_cell(cell, &mut fields, problems),
                "weekdays" if !cell.is_empty() => weekdays_cell(cell, &mut fields, problems),
                "weekdays" => {}
                "staff_only" => staff_only_cell(cell, &mut fields, problems),
                "kind" => {
                    match kind_of(cell) {
                        Some(kind) => fields.insert("kind".into(), kind.code.into()),
                        None if cell.is_empty() => {
                            problems.push("種別を入力してください".into());
                            None
                        }
                        None => {
                            problems.push(format!(
                                "種別「{cell}」はありません（保育所、児童発達支援、放課後等デイサービス のように、種別の一覧の名前で書いてください）"
                            ));
                            None
                        }
                    };
                }
                "age_from" | "age_to" => match class_age_cell(cell) {
                    Some(age) => {
                        fields.insert(key.clone(), age);
                    }
                    None => problems.push(format!(
                        "{}「{cell}」を読み取れません（書き方の例：0歳児、3歳、小1、中2、高3、卒後）",
                        label_of(key)
                    )),
                },
                "organisation" | "organisation_kana" | "service_id" | "vacancies" | "as_of" => {
                    own.insert(key.clone(), cell.to_string());
                }
                key => {
                    fields.insert(key.to_string(), cell.to_string());
                }
            }
        }
        if fields.get("municipality_code").is_none_or(|c| c.is_empty()) {
            fields.insert("municipality_code".into(), self.default_code.clone());
        }
        RowFields { fields, own }
    }
}

/// A row read: the service form's fields, and the import's own cells by key.
struct RowFields {
    fields: HashMap<String, String>,
    own: HashMap<String, String>,
}

impl RowFields {
    fn own(&self, key: &str) -> &str {
        self.own.get(key).map_or("", |v| v.as_str())
    }
}

// ---------------------------------------------------------------------------------------
// Checking rows
// ---------------------------------------------------------------------------------------

/// An organisation a commit creates: a facility of the service's town.
#[derive(Debug, Clone)]
struct NewFacility {
    name: String,
    kana: String,
    municipality_code: MunicipalityCode,
}

/// Who a row's service belongs to.
#[derive(Debug, Clone)]
enum Owner {
    Existing(OrganisationId),
    /// The index of the facility the commit creates first.
    New(usize),
}

/// A row ready to write: its entry, owner and vacancy report.
struct Ready {
    entry: Entry,
    owner: Owner,
    vacancies: Option<service::VacancyReport>,
}

/// One row's outcome: its problems, or what the commit writes of it.
pub struct RowOutcome {
    pub line: usize,
    pub organisation: String,
    pub name: String,
    pub kind: String,
    pub problems: Vec<String>,
    /// Why the row is left out without stopping the others (the template's example).
    pub skipped: Option<&'static str>,
    /// The row's organisation is created with it.
    pub new_organisation: bool,
    ready: Option<Ready>,
}

/// Where a registered service is changed: the import only registers.
const UPDATE_ELSEWHERE: &str = "更新は、資源情報の画面から行ってください";

/// The template's example row, left in a file (its service or organisation name starts with
/// 「記入例」).
const EXAMPLE_MARK: &str = "記入例";
const EXAMPLE_ROW_SKIPPED: &str = "ひな形の記入例の行なので取り込みません";

/// An organisation's name or kana from a cell, with its problems.
fn organisation_text(text: &str, label: &str, problems: &mut Vec<String>) -> String {
    let value = tsunagu_core::text::normalise_typed(text).trim().to_string();
    if let Some(c) = hidden_character(&value, false) {
        problems.push(hidden_character_message(label, c));
    } else if value.chars().count() > MAX_ORGANISATION_CHARS {
        problems.push(format!(
            "{label}は{MAX_ORGANISATION_CHARS}文字以内で入力してください"
        ));
    }
    value
}

/// Checks every row as the commit would, writing nothing: the rows' outcomes and the
/// facilities a commit creates.
async fn check_rows(
    state: &AppState,
    current: &CurrentSession,
    table: &Table,
    mapping: &Mapping,
) -> Result<(Vec<RowOutcome>, Vec<NewFacility>), AppError> {
    let today = state.clock.today_jst();
    // The organisations of each town rows name, and the services of those named.
    let mut towns: HashMap<MunicipalityCode, Vec<organisations::Organisation>> = HashMap::new();
    let mut outcomes = Vec::with_capacity(table.rows.len());
    let mut facilities: Vec<NewFacility> = Vec::new();
    for row in &table.rows {
        let mut problems = Vec::new();
        let read = mapping.read(row, &mut problems);
        let organisation_cell = read.own("organisation");
        let name = read.fields.get("name").cloned().unwrap_or_default();
        let kind_label = read
            .fields
            .get("kind")
            .and_then(|k| directory::service_kind(k))
            .map(|k| k.label.to_string())
            .unwrap_or_default();
        let mut outcome = RowOutcome {
            line: row.line,
            organisation: organisation_cell.to_string(),
            name: name.clone(),
            kind: kind_label,
            problems: Vec::new(),
            skipped: None,
            new_organisation: false,
            ready: None,
        };
        if name.trim_start().starts_with(EXAMPLE_MARK)
            || organisation_cell.trim_start().starts_with(EXAMPLE_MARK)
        {
            outcome.skipped = Some(EXAMPLE_ROW_SKIPPED);
            outcomes.push(outcome);
            continue;
        }
        // The one validator of an entry; what the import reported of its own cells (kind,
        // care) is not said twice.
        let entry = match service::parse_entry(state, &read.fields).await? {
            Ok(entry) => Some(entry),
            Err(errors) => {
                let reported_kind = problems.iter().any(|p| p.starts_with("種別"));
                problems.extend(
                    errors
                        .into_iter()
                        .filter(|e| !(e.field == "kind" && reported_kind))
                        .map(|e| e.message),
                );
                None
            }
        };
        let organisation_name = organisation_text(organisation_cell, "事業所名", &mut problems);
        if organisation_name.is_empty() {
            problems.push("事業所名を入力してください".into());
        }
        let organisation_kana = organisation_text(
            read.own("organisation_kana"),
            "事業所名ふりがな",
            &mut problems,
        );
        if !organisation_kana.is_empty() && !is_kana(&organisation_kana) {
            problems.push("事業所名ふりがなは、ひらがなまたはカタカナで入力してください".into());
        }
        let vacancies = vacancy_report(&read, entry.as_ref(), today, &mut problems);
        if let Some(message) = named_service(state, current, read.own("service_id")).await? {
            problems.push(message);
        }
        outcome.organisation = organisation_name.clone();
        let (Some(entry), true) = (entry, problems.is_empty()) else {
            outcome.problems = problems;
            outcomes.push(outcome);
            continue;
        };
        // The row's organisation: one of the town's by its name, else a new facility.
        let code = entry.municipality_code;
        if let std::collections::hash_map::Entry::Vacant(slot) = towns.entry(code) {
            let kept = organisations::in_municipality(&state.db, &code.to_string())
                .await?
                .into_iter()
                .filter(|o| {
                    o.kind != OrganisationKind::Family && o.kind != OrganisationKind::System
                })
                .collect();
            slot.insert(kept);
        }
        let name_key = search_key(&organisation_name);
        let existing = towns
            .get(&code)
            .and_then(|os| os.iter().find(|o| search_key(&o.name) == name_key));
        let owner = match existing {
            Some(o) => Owner::Existing(o.id.clone()),
            None => {
                let index = facilities
                    .iter()
                    .position(|f| f.municipality_code == code && search_key(&f.name) == name_key)
                    .unwrap_or_else(|| {
                        facilities.push(NewFacility {
                            name: organisation_name.clone(),
                            kana: String::new(),
                            municipality_code: code,
                        });
                        facilities.len() - 1
                    });
                // The facility's kana: its own column, else the service's when they share a name.
                if let Some(f) = facilities.get_mut(index)
                    && f.kana.is_empty()
                {
                    if !organisation_kana.is_empty() {
                        f.kana = organisation_kana.clone();
                    } else if search_key(&entry.name) == name_key {
                        f.kana = entry.kana.clone();
                    }
                }
                outcome.new_organisation = true;
                Owner::New(index)
            }
        };
        // What the policy decides on: a new facility is of no one, so the town decides.
        let decided_on = match &owner {
            Owner::Existing(id) => id.clone(),
            Owner::New(_) => OrganisationId::from_uuid(uuid::Uuid::new_v4()),
        };
        if !service::may_keep(current, &decided_on, code) {
            outcome.problems.push(format!(
                "担当外の市区町村（{}）のサービスは登録できません（担当する市区町村のものだけです）",
                municipalities::repo::name_of(&code.to_string())
            ));
        }
        outcome.ready = Some(Ready {
            entry,
            owner,
            vacancies,
        });
        outcomes.push(outcome);
    }
    // Services already in the directory, and the same service twice in the file.
    let owners: Vec<OrganisationId> = outcomes
        .iter()
        .filter_map(|o| match o.ready.as_ref().map(|r| &r.owner) {
            Some(Owner::Existing(id)) => Some(id.clone()),
            _ => None,
        })
        .collect::<HashSet<_>>()
        .into_iter()
        .collect();
    let registered: HashSet<(OrganisationId, String, String)> = repo::names_of(&state.db, &owners)
        .await?
        .into_iter()
        .map(|(o, kind, name)| (o, kind, search_key(&name)))
        .collect();
    let mut in_file: HashMap<String, usize> = HashMap::new();
    for outcome in &mut outcomes {
        let Some(ready) = &outcome.ready else {
            continue;
        };
        let name_key = search_key(&ready.entry.name);
        if let Owner::Existing(id) = &ready.owner
            && registered.contains(&(id.clone(), ready.entry.kind.clone(), name_key.clone()))
        {
            outcome.problems.push(format!(
                "すでに登録されています（事業所・種別・サービス名が同じサービスがあります）。{UPDATE_ELSEWHERE}"
            ));
        }
        let key = format!(
            "{}\u{1F}{}\u{1F}{}\u{1F}{}",
            ready.entry.municipality_code,
            search_key(&outcome.organisation),
            ready.entry.kind,
            name_key
        );
        match in_file.get(&key) {
            Some(first) => outcome.problems.push(format!(
                "{first}行目と同じサービスです（事業所・種別・サービス名が同じ）"
            )),
            None => {
                in_file.insert(key, outcome.line);
            }
        }
        if !outcome.problems.is_empty() {
            outcome.ready = None;
        }
    }
    Ok((outcomes, facilities))
}

/// The row's vacancy report, held to the rules of every report; `None` when it gives none.
fn vacancy_report(
    read: &RowFields,
    entry: Option<&Entry>,
    today: NaiveDate,
    problems: &mut Vec<String>,
) -> Option<service::VacancyReport> {
    let count = read.own("vacancies");
    let as_of = read.own("as_of");
    if count.is_empty() && as_of.is_empty() {
        return None;
    }
    // One figure for any age: a sheet has one column of vacancies.
    const ANY_AGE: i64 = -1;
    let kind = read
        .fields
        .get("kind")
        .and_then(|k| directory::service_kind(k));
    if let Some(kind) = kind
        && !directory::has_places(kind)
    {
        problems.push(format!(
            "「{}」は空きの人数を登録しない種別です。空きの列は空欄にしてください",
            kind.label
        ));
        return None;
    }
    let form = HashMap::from([
        ("as_of".to_string(), as_of.to_string()),
        (format!("vac_{ANY_AGE}"), count.to_string()),
    ]);
    let capacity = entry.and_then(|e| e.capacity);
    match service::vacancy_reports(&form, &[ANY_AGE], capacity, today) {
        Ok(report) => Some(report),
        Err(errors) => {
            problems.extend(errors.into_iter().map(|e| e.message));
            None
        }
    }
}

/// What a row's サービスID says, when it names one: a service already registered (this
/// import only registers), or one the uploader may not keep.
async fn named_service(
    state: &AppState,
    current: &CurrentSession,
    text: &str,
) -> Result<Option<String>, AppError> {
    if text.is_empty() {
        return Ok(None);
    }
    let found = match ServiceId::parse(text) {
        Ok(id) => repo::get(&state.db, &id).await?,
        Err(_) => None,
    };
    Ok(Some(match found {
        None => format!(
            "サービスID「{text}」のサービスはありません（新しいサービスは、サービスIDを空欄にしてください）"
        ),
        Some(s) if service::may_edit(current, &s) => format!(
            "サービスID「{text}」は登録済みの「{}」です。{UPDATE_ELSEWHERE}",
            s.name
        ),
        Some(_) => format!(
            "サービスID「{text}」はほかの事業所のサービスです。あなたが更新できるサービスではありません"
        ),
    }))
}

// ---------------------------------------------------------------------------------------
// Who imports
// ---------------------------------------------------------------------------------------

/// The towns whose entries the person keeps (municipal staff): an import registers
/// organisations, so only they import.
fn importing_towns(current: &CurrentSession) -> Vec<MunicipalityCode> {
    current
        .actor
        .memberships
        .iter()
        .filter(|m| {
            scope_of(m.role, Permission::EditDirectory).is_some_and(|s| s >= Scope::OwnMunicipality)
        })
        .map(|m| m.municipality_code)
        .collect()
}

/// Whether the person may use the import (the page `/directory/mine` offers it then).
pub fn may_import(current: &CurrentSession) -> bool {
    !importing_towns(current).is_empty()
}

/// The refusal of someone who keeps only their own organisation's entries: 403, audited.
async fn refuse_unless_town(
    state: &AppState,
    current: &CurrentSession,
    parts: &Parts,
) -> Result<(), PageError> {
    if may_import(current) {
        return Ok(());
    }
    let ctx = audit_context(parts, Some(current));
    let event = Event::new(Action::Denied, Outcome::Denied)
        .resource(PURPOSE.resource_type(), "")
        .detail("import: keeps no town's entries");
    audit::record_standalone(&state.db, &ctx, &event, state.clock.now())
        .await
        .map_err(AppError::from)?;
    Err(AppError::ForbiddenBecause(
        "ファイルからの一括登録は、市区町村の職員が使えます。自分の事業所のサービスは「サービスを登録する」から登録してください".into(),
    )
    .into())
}

// ---------------------------------------------------------------------------------------
// Pages
// ---------------------------------------------------------------------------------------

#[derive(Template)]
#[template(path = "directory/import.html")]
struct UploadPage {
    chrome: Chrome,
    csrf_token: String,
    errors: Vec<String>,
    targets: Vec<String>,
    kinds: Vec<&'static str>,
    care_examples: Vec<(String, &'static str)>,
    staff_only: Vec<&'static str>,
    max_rows: usize,
    max_megabytes: String,
}

fn upload_page(state: &AppState, current: &CurrentSession, errors: Vec<String>) -> UploadPage {
    UploadPage {
        chrome: Chrome::for_session("Excel・CSVから一括登録", state.settings.demo, Some(current)),
        csrf_token: current.csrf_token.clone(),
        errors,
        targets: TARGETS.iter().map(|t| t.label.clone()).collect(),
        kinds: SERVICE_KINDS.iter().map(|k| k.label).collect(),
        care_examples: CareItem::ALL
            .iter()
            .map(|i| (upload::care_short_name(*i), i.label_ja()))
            .collect(),
        staff_only: service::STAFF_ONLY_FIELDS.iter().map(|(_, l)| *l).collect(),
        max_rows: MAX_ROWS,
        max_megabytes: upload::megabytes(MAX_FILE_BYTES),
    }
}

pub async fn upload_form(
    State(state): State<AppState>,
    current: CurrentSession,
    parts: Parts,
) -> Result<Response, PageError> {
    refuse_unless_town(&state, &current, &parts).await?;
    Ok(Html(upload_page(&state, &current, Vec::new()).render()?).into_response())
}

/// Takes the file, parses it, stores the table and goes on to the mapping.
pub async fn upload(
    State(state): State<AppState>,
    current: CurrentSession,
    parts: Parts,
    multipart: Result<Multipart, MultipartRejection>,
) -> Result<Response, PageError> {
    refuse_unless_town(&state, &current, &parts).await?;
    let refused = |status: StatusCode, message: String| -> Result<Response, PageError> {
        let page = upload_page(&state, &current, vec![message]);
        Ok((status, Html(page.render()?)).into_response())
    };
    let (filename, bytes) = match upload::read_upload(multipart, MAX_FILE_BYTES).await {
        Ok(file) => file,
        Err((status, message)) => return refused(status, message),
    };
    let table = match upload::read_table(bytes, LIMITS, EMPTY_FILE).await {
        Ok(table) => table,
        Err(message) => return refused(StatusCode::BAD_REQUEST, message),
    };
    let id = upload::keep(&state, &current, &parts, PURPOSE, &filename, &table).await?;
    Ok(Redirect::to(&format!("/directory/import/{id}")).into_response())
}

struct MappingColumn {
    index: usize,
    heading: String,
    samples: String,
    selected: String,
}

#[derive(Template)]
#[template(path = "directory/import_mapping.html")]
struct MappingPage {
    chrome: Chrome,
    csrf_token: String,
    id: String,
    filename: String,
    rows: usize,
    columns: Vec<MappingColumn>,
    targets: Vec<(String, String)>,
    default_code: String,
    errors: Vec<String>,
}

fn mapping_view(
    state: &AppState,
    current: &CurrentSession,
    stored: &Stored,
    mapping: &Mapping,
    errors: Vec<String>,
) -> MappingPage {
    let columns = stored
        .table
        .header
        .iter()
        .enumerate()
        .map(|(index, heading)| MappingColumn {
            index,
            heading: heading.clone(),
            samples: upload::samples(&stored.table, index),
            selected: mapping.columns.get(index).cloned().unwrap_or_default(),
        })
        .collect();
    MappingPage {
        chrome: Chrome::for_session("取り込む列の対応付け", state.settings.demo, Some(current)),
        csrf_token: current.csrf_token.clone(),
        id: stored.id.clone(),
        filename: stored.filename.clone(),
        rows: stored.table.rows.len(),
        columns,
        targets: TARGETS
            .iter()
            .map(|t| (t.key.clone(), t.label.clone()))
            .collect(),
        default_code: mapping.default_code.clone(),
        errors,
    }
}

/// The stored upload, or the answer to give instead: what a first commit created (409), or
/// the audited 404 of an upload that is not this person's.
async fn stored_or_answer(
    state: &AppState,
    current: &CurrentSession,
    parts: &Parts,
    id: &str,
) -> Result<Result<Stored, Response>, PageError> {
    refuse_unless_town(state, current, parts).await?;
    if let Some(stored) = upload::load(
        &state.db,
        PURPOSE,
        id,
        &current.account.id,
        state.clock.now(),
    )
    .await?
    {
        return Ok(Ok(stored));
    }
    if let Some(answer) = already_imported(state, current, id).await? {
        return Ok(Err(answer));
    }
    Err(upload::missing(state, current, parts, PURPOSE, id).await)
}

pub async fn mapping_page(
    State(state): State<AppState>,
    current: CurrentSession,
    parts: Parts,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let stored = match stored_or_answer(&state, &current, &parts, &id).await? {
        Ok(stored) => stored,
        Err(answer) => return Ok(answer),
    };
    let mut mapping = Mapping::guessed(&stored.table);
    if !mapping.has("municipality_code") {
        // A town's own sheet rarely has the code: offer the uploader's town.
        if let [code] = importing_towns(&current).as_slice()
            && !code.is_prefecture()
        {
            mapping.default_code = code.to_string();
        }
    }
    let page = mapping_view(&state, &current, &stored, &mapping, Vec::new());
    Ok(Html(page.render()?).into_response())
}

#[derive(Template)]
#[template(path = "directory/import_check.html")]
struct CheckPage {
    chrome: Chrome,
    csrf_token: String,
    id: String,
    filename: String,
    outcomes: Vec<RowOutcome>,
    with_problems: usize,
    to_register: usize,
    new_organisations: usize,
    mapping: Vec<(usize, String)>,
    default_code: String,
    /// The commit was asked for and refused.
    refused: bool,
}

/// The facilities rows still ready to write need (a row stopped later needs none).
fn needed<'a>(outcomes: &[RowOutcome], facilities: &'a [NewFacility]) -> Vec<&'a NewFacility> {
    let used: HashSet<usize> = outcomes
        .iter()
        .filter_map(|o| match o.ready.as_ref().map(|r| &r.owner) {
            Some(Owner::New(i)) => Some(*i),
            _ => None,
        })
        .collect();
    facilities
        .iter()
        .enumerate()
        .filter(|(i, _)| used.contains(i))
        .map(|(_, f)| f)
        .collect()
}

fn check_view(
    state: &AppState,
    current: &CurrentSession,
    stored: &Stored,
    mapping: &Mapping,
    (outcomes, facilities): (Vec<RowOutcome>, Vec<NewFacility>),
    refused: bool,
) -> CheckPage {
    CheckPage {
        chrome: Chrome::for_session(
            if refused {
                "取り込みませんでした"
            } else {
                "取り込みの確認（試し読み）"
            },
            state.settings.demo,
            Some(current),
        ),
        csrf_token: current.csrf_token.clone(),
        id: stored.id.clone(),
        filename: stored.filename.clone(),
        with_problems: outcomes.iter().filter(|o| !o.problems.is_empty()).count(),
        to_register: outcomes.iter().filter(|o| o.ready.is_some()).count(),
        new_organisations: needed(&outcomes, &facilities).len(),
        outcomes,
        mapping: mapping.columns.iter().cloned().enumerate().collect(),
        default_code: mapping.default_code.clone(),
        refused,
    }
}

/// The stored upload and the mapping sent with the form, or the answer to give instead.
async fn prepare(
    state: &AppState,
    current: &CurrentSession,
    parts: &Parts,
    id: &str,
    body: &[u8],
) -> Result<Result<(Stored, Mapping), Response>, PageError> {
    let form = params::form(body)?;
    let stored = match stored_or_answer(state, current, parts, id).await? {
        Ok(stored) => stored,
        Err(answer) => return Ok(Err(answer)),
    };
    let mapping = Mapping::from_form(&form, stored.table.header.len());
    let problems = mapping.problems(&stored.table.header);
    if !problems.is_empty() {
        let page = mapping_view(state, current, &stored, &mapping, problems);
        return Ok(Err(
            (StatusCode::BAD_REQUEST, Html(page.render()?)).into_response()
        ));
    }
    Ok(Ok((stored, mapping)))
}

/// The dry run: every row with its problems; nothing is written.
pub async fn check(
    State(state): State<AppState>,
    current: CurrentSession,
    parts: Parts,
    Path(id): Path<String>,
    RawForm(body): RawForm,
) -> Result<Response, PageError> {
    let (stored, mapping) = match prepare(&state, &current, &parts, &id, &body).await? {
        Ok(ready) => ready,
        Err(answer) => return Ok(answer),
    };
    let checked = check_rows(&state, &current, &stored.table, &mapping).await?;
    let page = check_view(&state, &current, &stored, &mapping, checked, false);
    Ok(Html(page.render()?).into_response())
}

/// A service the commit registered.
#[derive(serde::Serialize, serde::Deserialize)]
struct Created {
    id: ServiceId,
    line: usize,
    name: String,
    organisation: String,
    /// Its organisation was created with it.
    #[serde(default)]
    new_organisation: bool,
}

#[derive(Template)]
#[template(path = "directory/import_done.html")]
struct DonePage {
    chrome: Chrome,
    filename: String,
    created: Vec<Created>,
    /// For a commit sent again: when the file was imported.
    already_at: Option<String>,
}

impl DonePage {
    fn new_organisations(&self) -> usize {
        self.created
            .iter()
            .filter(|c| c.new_organisation)
            .map(|c| &c.organisation)
            .collect::<HashSet<_>>()
            .len()
    }
}

/// Checks everything again and writes every row in one transaction, or nothing.
pub async fn commit(
    State(state): State<AppState>,
    current: CurrentSession,
    parts: Parts,
    Path(id): Path<String>,
    RawForm(body): RawForm,
) -> Result<Response, PageError> {
    let (stored, mapping) = match prepare(&state, &current, &parts, &id, &body).await? {
        Ok(ready) => ready,
        Err(answer) => return Ok(answer),
    };
    let (outcomes, facilities) = check_rows(&state, &current, &stored.table, &mapping).await?;
    if outcomes.iter().any(|o| !o.problems.is_empty()) || outcomes.iter().all(|o| o.ready.is_none())
    {
        // A commit of the same file that finished meanwhile makes its rows "registered":
        // say it was imported, not that its rows are duplicates.
        if let Some(answer) = already_imported(&state, &current, &id).await? {
            return Ok(answer);
        }
        let page = check_view(
            &state,
            &current,
            &stored,
            &mapping,
            (outcomes, facilities),
            true,
        );
        return Ok((StatusCode::BAD_REQUEST, Html(page.render()?)).into_response());
    }
    let gate = Gate::page(&state, &current, &parts);
    let now = state.clock.now();
    let account = current.account.id.clone();
    let written = gate
        .write_all(async |tx| {
            // The first write: on SQLite it takes the write lock before any read, and of
            // two commits of one upload only one gets past it.
            if !upload::take(tx, PURPOSE, &stored.id, &account, now).await? {
                return Err(AppError::Conflict(
                    "このファイルはすでに取り込まれています。事業所の資源情報を確認してください"
                        .into(),
                ));
            }
            let mut events = Vec::with_capacity(outcomes.len() + facilities.len() + 1);
            // Each new facility is created with the first row that needs it.
            let mut made: Vec<Option<OrganisationId>> = vec![None; facilities.len()];
            let mut created = Vec::with_capacity(outcomes.len());
            for outcome in &outcomes {
                let Some(ready) = &outcome.ready else {
                    continue;
                };
                let owner = match &ready.owner {
                    Owner::Existing(id) => id.clone(),
                    Owner::New(i) => match (made.get(*i).cloned().flatten(), facilities.get(*i)) {
                        (Some(id), _) => id,
                        (None, Some(facility)) => {
                            let new = NewOrganisation {
                                name: facility.name.clone(),
                                kana: facility.kana.clone(),
                                kind: OrganisationKind::Facility,
                                department: None,
                                municipality_code: facility.municipality_code,
                            };
                            let organisation = organisations::repo::insert(tx, &new, now).await?;
                            events.push(
                                Event::new(Action::Create, Outcome::Allowed)
                                    .resource(
                                        crate::features::admin::organisations::RESOURCE_TYPE,
                                        organisation.id.as_str(),
                                    )
                                    .fields(["name", "kana", "kind", "municipality_code"])
                                    .detail("import"),
                            );
                            if let Some(slot) = made.get_mut(*i) {
                                *slot = Some(organisation.id.clone());
                            }
                            organisation.id
                        }
                        (None, None) => {
                            return Err(AppError::Internal("a facility not planned".into()));
                        }
                    },
                };
                let service_id = ServiceId::from_uuid(uuid::Uuid::new_v4());
                repo::insert(tx, &service_id, &owner, &ready.entry, Some(&account), now).await?;
                let mut fields = service::changed_fields(None, &ready.entry);
                if let Some((as_of, reports)) = &ready.vacancies {
                    // A new entry is at version 1.
                    if !repo::record_vacancies(
                        tx,
                        &service_id,
                        1,
                        reports,
                        *as_of,
                        Some(&account),
                        now,
                    )
                    .await?
                    {
                        return Err(AppError::Internal("a new entry changed".into()));
                    }
                    fields.push("vacancies".into());
                }
                events.push(
                    Event::new(Action::Create, Outcome::Allowed)
                        .resource(repo::RESOURCE_TYPE, service_id.as_str())
                        .fields(fields)
                        .detail(format!("import; organisation={owner}")),
                );
                created.push(Created {
                    id: service_id,
                    line: outcome.line,
                    name: ready.entry.name.clone(),
                    organisation: outcome.organisation.clone(),
                    new_organisation: matches!(ready.owner, Owner::New(_)),
                });
            }
            let result =
                serde_json::to_string(&created).map_err(|e| AppError::Internal(e.to_string()))?;
            upload::set_result(tx, &stored.id, &result).await?;
            events.push(
                Event::new(Action::Import, Outcome::Allowed)
                    .resource(PURPOSE.resource_type(), &stored.id)
                    .detail(format!(
                        "commit; file={}; rows={}; organisations={}",
                        stored.filename,
                        created.len(),
                        made.iter().flatten().count()
                    )),
            );
            Ok((created, events))
        })
        .await;
    let created = match written {
        Ok(created) => created,
        // Another commit of this file won the race: nothing was written here.
        Err(AppError::Conflict(message)) => {
            return match already_imported(&state, &current, &id).await? {
                Some(answer) => Ok(answer),
                None => Err(AppError::Conflict(message).into()),
            };
        }
        Err(err) => return Err(err.into()),
    };
    let page = DonePage {
        chrome: Chrome::for_session("取り込みました", state.settings.demo, Some(&current)),
        filename: stored.filename,
        created,
        already_at: None,
    };
    Ok(Html(page.render()?).into_response())
}

/// A commit (or check) of an upload that was committed already: what that commit created,
/// and that nothing was imported again (409).
async fn already_imported(
    state: &AppState,
    current: &CurrentSession,
    id: &str,
) -> Result<Option<Response>, PageError> {
    let Some(done) = upload::committed(&state.db, PURPOSE, id, &current.account.id).await? else {
        return Ok(None);
    };
    let created: Vec<Created> = serde_json::from_str(&done.result).unwrap_or_default();
    let page = DonePage {
        chrome: Chrome::for_session(
            "すでに取り込まれています",
            state.settings.demo,
            Some(current),
        ),
        filename: done.filename,
        created,
        already_at: Some(crate::view::format_instant_jst(
            done.committed_at.timestamp_millis(),
        )),
    };
    Ok(Some(
        (StatusCode::CONFLICT, Html(page.render()?)).into_response(),
    ))
}

// ---------------------------------------------------------------------------------------
// The template file
// ---------------------------------------------------------------------------------------

/// An example row for the template (fictional; 板橋区's code). Its names are marked
/// ([`EXAMPLE_MARK`]), so a file sent back with it still in is imported without it.
fn example_row() -> HashMap<&'static str, &'static str> {
    HashMap::from([
        ("organisation", "記入例 社会福祉法人 ひまわり会"),
        ("organisation_kana", "きにゅうれい ひまわりかい"),
        ("kind", "保育所"),
        ("name", "記入例 ひまわり保育園"),
        ("kana", "きにゅうれい ひまわりほいくえん"),
        ("address", "東京都板橋区（記入例）"),
        ("municipality_code", "131199"),
        ("phone", "03-0000-0000"),
        ("capacity", "60"),
        ("care_children_now", "1"),
        ("waiting_list", "0"),
        ("care", "吸引、経管栄養(看護師がいる時間のみ)"),
        ("age_from", "1歳児"),
        ("age_to", "5歳児"),
        ("nurse_hours", "平日 9:00〜17:00"),
        ("weekdays", "月〜金"),
        ("opens_at", "7:30"),
        ("closes_at", "18:30"),
        ("vacancies", "1"),
        ("as_of", "令和8年11月1日"),
        ("staff_only", "電話番号"),
    ])
}

/// The column headings and one example row, UTF-8 with BOM (Excel opens it as is).
pub fn template_bytes() -> Result<Vec<u8>, AppError> {
    let example = example_row();
    let mut out = csv::Writer::from_writer(b"\xEF\xBB\xBF".to_vec());
    let csv_error = |e: csv::Error| AppError::Internal(e.to_string());
    out.write_record(TARGETS.iter().map(|t| t.label.as_str()))
        .map_err(csv_error)?;
    out.write_record(
        TARGETS
            .iter()
            .map(|t| example.get(t.key.as_str()).copied().unwrap_or("")),
    )
    .map_err(csv_error)?;
    out.into_inner()
        .map_err(|e| AppError::Internal(e.to_string()))
}

pub async fn template_csv(
    State(state): State<AppState>,
    current: CurrentSession,
    parts: Parts,
) -> Result<Response, PageError> {
    refuse_unless_town(&state, &current, &parts).await?;
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"services-import-template.csv\"",
            ),
        ],
        template_bytes()?,
    )
        .into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read_now(bytes: &[u8]) -> Table {
        upload::into_table(tabular::read(bytes, &LIMITS).unwrap(), EMPTY_FILE).unwrap()
    }

    #[test]
    fn headings_are_recognised_in_their_usual_spellings() {
        let key = |h: &str| upload::guess_target(&TARGETS, h).map(|t| t.key.as_str());
        assert_eq!(key("事業所名"), Some("organisation"));
        assert_eq!(key("施設名"), Some("name"));
        assert_eq!(key("フリガナ"), Some("kana"));
        assert_eq!(key("対応年齢（から）"), Some("age_from"));
        assert_eq!(key("空き（人数）"), Some("vacancies"));
        assert_eq!(key("医ケア児の受け入れ人数"), Some("care_children_now"));
        assert_eq!(key("団体コード"), Some("municipality_code"));
        assert_eq!(key("判定スコア"), None);
        for t in TARGETS.iter() {
            assert_eq!(key(&t.label), Some(t.key.as_str()), "{}", t.label);
        }
    }

    #[test]
    fn kinds_are_read_by_label_code_or_a_unique_short_label() {
        let code = |c: &str| kind_of(c).map(|k| k.code);
        assert_eq!(code("保育所"), Some("nursery"));
        assert_eq!(code(" nursery "), Some("nursery"));
        assert_eq!(code("放課後等デイサービス"), Some("after_school_day"));
        assert_eq!(code("特別支援学校"), Some("special_needs_school"));
        assert_eq!(code("児童発達支援"), Some("child_development"));
        assert_eq!(code("魔法学校"), None);
        assert_eq!(code(""), None);
    }

    #[test]
    fn care_cells_become_the_forms_boxes_and_conditions() {
        let mut fields = HashMap::new();
        let mut problems = Vec::new();
        care_cell(
            "人工呼吸器、吸引（看護師がいる時間のみ）；経管栄養,ventilator",
            &mut fields,
            &mut problems,
        );
        assert_eq!(fields["accept_ventilator"], "1");
        assert_eq!(fields["accept_suction"], "1");
        assert_eq!(fields["cond_suction"], "看護師がいる時間のみ");
        assert_eq!(fields["accept_tube_feeding"], "1");
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert!(problems[0].contains("2回"), "{problems:?}");
        let mut problems = Vec::new();
        care_cell("魔法(毎日)", &mut HashMap::new(), &mut problems);
        assert!(
            problems[0].contains("「魔法(毎日)」という項目はありません"),
            "{problems:?}"
        );
    }

    #[test]
    fn weekdays_class_ages_and_staff_only_items_are_read_as_people_write_them() {
        let days = |cell: &str| {
            let mut fields = service::new_values("");
            let mut problems = Vec::new();
            weekdays_cell(cell, &mut fields, &mut problems);
            let open: String = (0..7)
                .map(|i| {
                    if fields.contains_key(&format!("wd_{i}")) {
                        '1'
                    } else {
                        '0'
                    }
                })
                .collect();
            (open, problems.len())
        };
        assert_eq!(days("月〜金"), ("1111100".into(), 0));
        assert_eq!(days("月・水・金曜日"), ("1010100".into(), 0));
        assert_eq!(days("平日、土"), ("1111110".into(), 0));
        assert_eq!(days("金～月"), ("1000111".into(), 0));
        assert_eq!(days("毎日"), ("1111111".into(), 0));
        assert_eq!(days("月から金").1, 1);
        assert_eq!(days("月〜").1, 1);

        assert_eq!(class_age_cell("3歳児クラス").as_deref(), Some("3"));
        assert_eq!(class_age_cell("０歳").as_deref(), Some("0"));
        assert_eq!(class_age_cell("小1").as_deref(), Some("6"));
        assert_eq!(class_age_cell("中学2年").as_deref(), Some("13"));
        assert_eq!(class_age_cell("卒後").as_deref(), Some("18"));
        assert_eq!(class_age_cell("-1").as_deref(), Some("-1"));
        assert_eq!(class_age_cell("").as_deref(), Some(""));
        assert_eq!(class_age_cell("赤ちゃん"), None);

        let mut fields = HashMap::new();
        let mut problems = Vec::new();
        staff_only_cell(
            "電話番号、定員、waiting_list、住所",
            &mut fields,
            &mut problems,
        );
        assert_eq!(fields["private_phone"], "1");
        assert_eq!(fields["private_capacity"], "1");
        assert_eq!(fields["private_waiting_list"], "1");
        assert_eq!(problems.len(), 1, "{problems:?}");
    }

    #[test]
    fn the_template_maps_itself_and_its_example_row_is_marked() {
        let table = read_now(&template_bytes().unwrap());
        let mapping = Mapping::guessed(&table);
        assert!(mapping.problems(&table.header).is_empty());
        let mut problems = Vec::new();
        let read = mapping.read(&table.rows[0], &mut problems);
        assert!(problems.is_empty(), "{problems:?}");
        assert!(read.fields["name"].starts_with(EXAMPLE_MARK));
        assert_eq!(read.fields["kind"], "nursery");
        assert_eq!(read.fields["age_from"], "1");
        assert_eq!(read.fields["accept_tube_feeding"], "1");
        assert_eq!(read.fields["private_phone"], "1");
        assert_eq!(read.own("as_of"), "令和8年11月1日");
    }
}
