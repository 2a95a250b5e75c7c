//! Importing children from CSV and Excel files: upload → column mapping → dry run → commit.
//!
//! - The file is CSV (UTF-8 with or without BOM, or Shift_JIS/CP932, detected) or the first
//!   sheet of an .xlsx. It is parsed once into a table of text cells, kept for the uploader
//!   (a day at most, emptied on commit) by the imports' shared machinery
//!   ([`crate::tabular::upload`]), so the mapping and the dry run survive reloads.
//! - Each source column is mapped to one profile field (pre-selected from its heading) or
//!   skipped. Every row then goes through [`profile::parse`], the one validator of the form
//!   and the API, plus the checks only an import needs: the municipality exists in the
//!   reference data and is one the uploader may register in, and the child is not already
//!   registered (same name and birth date) nor twice in the file. A registered child's row
//!   stops the file until the user chooses to skip such rows or to update the records
//!   ([`RegisteredRows`]): an update is the record with the row's filled cells laid over it
//!   ([`laid_over`]), shown field by field, and written only as it was shown.
//! - The dry run writes nothing. The commit checks everything again and writes all rows in
//!   one transaction, or none when any row has a problem.
//!
//! Cell syntax of the two list columns (see [`care_cell`] and [`device_cell`]):
//! - 医療的ケア: items separated by 、 , ; ／ or a line break; each item by its label
//!   (「人工呼吸器の管理」), its short name (「人工呼吸器」: the label without 「の管理」 or
//!   the part in brackets) or its code (`ventilator`), optionally followed by brackets with
//!   the 見守り level (高・中・低, also 「見守り高」) and, for 導尿 and 排便管理, the kind:
//!   `人工呼吸器(高)、気管切開、吸引(高)、導尿(間欠的導尿・低)`.
//! - 医療機器: kinds separated the same way, each optionally followed by brackets with the
//!   power and battery hours and a note: `人工呼吸器(100W 内部4時間 外部8時間)、吸引器`.

use std::collections::{HashMap, HashSet};
use std::sync::LazyLock;
use tsunagu_core::ids::{ChildId, OrganisationId};

use askama::Template;
use axum::extract::multipart::MultipartRejection;
use axum::extract::{Multipart, Path, RawForm, State};
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use chrono::NaiveDate;
use tsunagu_core::access::{Permission, registering_membership, scope_filter};
use tsunagu_core::care::{CareItem, CareLine, CareVariant, Watch};
use tsunagu_core::device::DeviceKind;
use tsunagu_core::kana::search_key;

use super::profile::{self, Profile};
use super::{repo, service, store};
use crate::audit::{Action, Event, Outcome};
use crate::auth::guard::{Access, Routes};
use crate::auth::session::CurrentSession;
use crate::db::Db;
use crate::error::{AppError, PageError};
use crate::features::municipalities;
use crate::gate::{Gate, Use};
use crate::state::AppState;
use crate::tabular;
use crate::tabular::upload::{
    self, Purpose, Stored, Table, TableRow, Target, care_named, care_short_name, fold, peel_group,
    split_list,
};
use crate::view::Chrome;
use crate::web::params;

/// The largest file taken: every import's.
pub const MAX_FILE_BYTES: usize = upload::MAX_FILE_BYTES;
/// The most data rows one file may hold.
pub const MAX_ROWS: usize = 5_000;
/// The most columns one file may hold.
const MAX_COLUMNS: usize = 200;
/// Where this import's uploads are kept, and their audit resource type.
const PURPOSE: Purpose = Purpose::Children;

pub fn routes() -> Routes {
    let write = || Access::Permission(Permission::WriteChild);
    Routes::new()
        .get("/children/import", write(), upload_form)
        .post_upload("/children/import", write(), upload)
        .get("/children/import/template.csv", write(), template_csv)
        .get("/children/import/{id}", write(), mapping_page)
        .post("/children/import/{id}/check", write(), check)
        .post("/children/import/{id}/commit", write(), commit)
}

// ---------------------------------------------------------------------------------------
// The fields a column can go to
// ---------------------------------------------------------------------------------------

/// Every mappable field, in the order of the template and the exports: the key
/// `profile::parse` reads, or `care_items` / `devices` for the list cells.
pub static TARGETS: LazyLock<Vec<Target>> = LazyLock::new(|| {
    let mut t = vec![
        Target::new(
            "name",
            "氏名",
            &["児童氏名", "児童名", "名前", "氏名(漢字)", "本人氏名"],
        ),
        Target::new(
            "kana",
            "ふりがな",
            &[
                "氏名(カナ)",
                "氏名(ふりがな)",
                "カナ",
                "かな",
                "よみがな",
                "読み仮名",
                "カナ氏名",
            ],
        ),
        Target::new("birth_date", "生年月日", &["誕生日", "生年月日(西暦)"]),
        Target::new("sex", "性別", &[]),
        Target::new(
            "municipality_code",
            "団体コード",
            &[
                "市区町村コード",
                "住所地の団体コード",
                "全国地方公共団体コード",
                "地方公共団体コード",
                "自治体コード",
            ],
        ),
        Target::new("address", "住所", &["現住所"]),
        Target::new("status", "状態", &[]),
        Target::new("status_date", "状態の日付", &[]),
        Target::new("intake_source", "把握の経路", &["把握経路"]),
        Target::new("intake_date", "把握日", &["把握した日"]),
        Target::new("diagnoses", "診断名", &["病名", "疾患名"]),
        Target::new(
            "hospital",
            "医療機関",
            &["主な医療機関", "病院", "かかりつけ医療機関"],
        ),
        Target::new("doctor", "主治医", &["主治医名"]),
        Target::new(
            "physical_disability_grade",
            "身体障害者手帳",
            &["身体障害者手帳の等級", "身障手帳", "身体障害者手帳等級"],
        ),
        Target::new("ryoiku_techo", "療育手帳", &["療育手帳の区分"]),
        Target::new("recipient_certificate", "受給者証", &["受給者証の有無"]),
        Target::new(
            "care_category",
            "医療的ケア区分",
            &["受給者証の医療的ケア区分"],
        ),
        Target::new(
            "attending",
            "在籍先",
            &["在籍先(保育所・学校など)", "所属", "通園・通学先"],
        ),
        Target::new(
            "care_items",
            "医療的ケア",
            &[
                "医療的ケアの内容",
                "医療的ケア項目",
                "医ケア",
                "医療的ケアの種類",
            ],
        ),
        Target::new("devices", "医療機器", &["使用している医療機器", "使用機器"]),
    ];
    for i in 0..profile::GUARDIAN_ROWS {
        let n = i + 1;
        let fields: [(&str, &str, &[&str]); 7] = [
            ("name", "氏名", &["保護者氏名", "保護者名"]),
            ("kana", "ふりがな", &["保護者ふりがな", "保護者フリガナ"]),
            ("relation", "続柄", &["保護者続柄", "続柄"]),
            (
                "phone",
                "電話番号",
                &["保護者電話番号", "電話番号", "連絡先", "保護者連絡先"],
            ),
            (
                "email",
                "メール",
                &["保護者メール", "メールアドレス", "保護者メールアドレス"],
            ),
            ("employment", "就労状況", &["保護者就労状況", "就労状況"]),
            (
                "wishes_to_work",
                "就労希望",
                &["保護者就労希望", "就労希望"],
            ),
        ];
        for (key, label, first_only) in fields {
            let mut aliases = vec![format!("保護者{n}の{label}")];
            if key == "phone" {
                aliases.push(format!("保護者{n}電話"));
            }
            if key == "email" {
                aliases.push(format!("保護者{n}メールアドレス"));
            }
            if i == 0 {
                aliases.extend(first_only.iter().map(|a| a.to_string()));
            }
            t.push(Target {
                key: format!("g{i}_{key}"),
                label: format!("保護者{n}{label}"),
                aliases,
            });
        }
    }
    for i in 0..profile::SIBLING_ROWS {
        let n = i + 1;
        for (key, label) in [
            ("name", "氏名"),
            ("birth_date", "生年月日"),
            ("note", "備考"),
        ] {
            t.push(Target {
                key: format!("s{i}_{key}"),
                label: format!("きょうだい{n}{label}"),
                aliases: vec![format!("きょうだい{n}の{label}")],
            });
        }
    }
    t
});

// ---------------------------------------------------------------------------------------
// Reading the file
// ---------------------------------------------------------------------------------------

/// The limits of an uploaded list of children (the file, rows, columns; the rest are the
/// spreadsheet reader's defaults).
pub const LIMITS: tabular::Limits =
    tabular::Limits::for_rows(MAX_FILE_BYTES, MAX_ROWS, MAX_COLUMNS);

/// What a file without a heading row should hold.
const EMPTY_FILE: &str = "ファイルが空です。1行目に見出し、2行目から児童を1人1行で入れてください";

/// Reads an uploaded file into a table, off the async workers, within [`LIMITS`]. Errors
/// are in Japanese and name the limit.
pub async fn read_table(bytes: Vec<u8>) -> Result<Table, String> {
    upload::read_table(bytes, LIMITS, EMPTY_FILE).await
}

// ---------------------------------------------------------------------------------------
// The list cells
// ---------------------------------------------------------------------------------------

fn watch_of(token: &str) -> Option<Watch> {
    let token = fold(token);
    let token = token
        .trim_start_matches("見守りスコア")
        .trim_start_matches("見守り")
        .trim_start_matches([':', '='])
        .trim();
    Watch::parse(token).ok()
}

/// The 医療的ケア cell as the `care_{line}` and `watch_{line}` fields `profile::parse`
/// checks (the combination, e.g. a 見守り level the table lacks, is its business).
pub fn care_cell(cell: &str, fields: &mut HashMap<String, String>, problems: &mut Vec<String>) {
    for item_text in split_list(cell) {
        let mut name = item_text.as_str();
        let mut groups = Vec::new();
        let found = loop {
            if let Some(found) = care_named(name) {
                break Some(found);
            }
            match peel_group(name) {
                Some((rest, group)) => {
                    groups.insert(0, group);
                    name = rest;
                }
                None => break None,
            }
        };
        let Some((item, mut variant)) = found else {
            problems.push(format!(
                "医療的ケア「{item_text}」という項目はありません（書き方の例：人工呼吸器(高)、吸引(低)）"
            ));
            continue;
        };
        let mut watch = None;
        for group in groups {
            let tokens: Vec<&str> =
                if watch_of(group).is_some() || CareVariant::parse(group).is_ok() {
                    vec![group]
                } else {
                    group
                        .split(['・', ',', '、', ' ', '/', ';'])
                        .filter(|t| !t.trim().is_empty())
                        .collect()
                };
            for token in tokens {
                if let Some(w) = watch_of(token) {
                    watch = Some(w);
                } else if let Ok(v) = CareVariant::parse(token) {
                    variant = Some(v);
                } else {
                    problems.push(format!(
                        "医療的ケア「{}」の「{token}」は、見守り（高・中・低）か種類として読み取れません",
                        item.label_ja()
                    ));
                }
            }
        }
        // The sheet's line: the item, or for 導尿 and 排便管理 its kind (a line of its own;
        // 消化管ストーマ and 浣腸 are two lines, both kept).
        let line = match (variant, item.variants().is_empty()) {
            (None, true) => CareLine {
                item,
                variant: None,
            },
            (Some(v), false) if v.item() == item => CareLine {
                item,
                variant: Some(v),
            },
            (None, false) => {
                problems.push(format!(
                    "医療的ケア「{}」の種類（{}）を書いてください（例：{}({})）",
                    item.label_ja(),
                    item.variants()
                        .iter()
                        .map(|v| v.label_ja())
                        .collect::<Vec<_>>()
                        .join("・"),
                    care_short_name(item),
                    item.variants()[0].label_ja()
                ));
                continue;
            }
            (Some(v), _) => {
                problems.push(format!(
                    "「{}」は「{}」の種類ではありません",
                    v.label_ja(),
                    item.label_ja()
                ));
                continue;
            }
        };
        let code = line.code();
        if fields.insert(format!("care_{code}"), "on".into()).is_some() {
            problems.push(format!(
                "医療的ケア「{}」が2回書かれています",
                line.label_ja()
            ));
        }
        if let Some(w) = watch {
            fields.insert(format!("watch_{code}"), w.code().into());
        }
    }
}

fn device_kind(text: &str) -> Option<DeviceKind> {
    let key = fold(text);
    DeviceKind::ALL
        .into_iter()
        .find(|k| k.code() == key.to_lowercase() || fold(k.label_ja()) == key)
}

/// The 医療機器 cell as the `d{i}_` fields: `人工呼吸器(100W 内部4時間 外部8時間)`.
pub fn device_cell(cell: &str, fields: &mut HashMap<String, String>, problems: &mut Vec<String>) {
    let items = split_list(cell);
    if items.len() > profile::DEVICE_ROWS {
        problems.push(format!(
            "医療機器は{}台まで入力できます",
            profile::DEVICE_ROWS
        ));
        return;
    }
    for (i, item_text) in items.iter().enumerate() {
        let (name, details) = match device_kind(item_text) {
            Some(_) => (item_text.as_str(), ""),
            None => peel_group(item_text).unwrap_or((item_text.as_str(), "")),
        };
        let Some(kind) = device_kind(name) else {
            problems.push(format!(
                "医療機器「{item_text}」という種類はありません（書き方の例：人工呼吸器(100W 内部4時間 外部8時間)）"
            ));
            continue;
        };
        fields.insert(format!("d{i}_kind"), kind.code().into());
        let mut note = Vec::new();
        for token in details
            .split([' ', '　', '、', ',', ';'])
            .filter(|t| !t.is_empty())
        {
            let hours = |t: &str| {
                t.trim_start_matches([':', '='])
                    .trim_end_matches("時間")
                    .trim_end_matches(['h', 'H'])
                    .to_string()
            };
            if let Some(rest) = token.strip_prefix("内部") {
                fields.insert(format!("d{i}_battery_internal_hours"), hours(rest));
            } else if let Some(rest) = token.strip_prefix("外部") {
                fields.insert(format!("d{i}_battery_external_hours"), hours(rest));
            } else if token.ends_with(['W', 'w'])
                && token[..token.len() - 1].chars().all(|c| c.is_ascii_digit())
            {
                fields.insert(format!("d{i}_power_watts"), token.to_string());
            } else {
                note.push(token);
            }
        }
        if !note.is_empty() {
            fields.insert(format!("d{i}_note"), note.join(" "));
        }
    }
}

/// The care items of a profile in the cell syntax (exports write what imports read).
pub fn care_text(p: &Profile) -> String {
    let mut care = p.care.clone();
    care.sort_by_key(|e| e.item);
    care.iter()
        .map(|e| {
            let mut mods = Vec::new();
            if let Some(v) = e.variant {
                mods.push(v.label_ja().to_string());
            }
            if let Some(w) = e.watch {
                mods.push(w.label_ja().to_string());
            }
            if mods.is_empty() {
                care_short_name(e.item)
            } else {
                format!("{}({})", care_short_name(e.item), mods.join("・"))
            }
        })
        .collect::<Vec<_>>()
        .join("、")
}

/// The devices of a profile in the cell syntax.
pub fn device_text(p: &Profile) -> String {
    p.devices
        .iter()
        .map(|d| {
            let mut details = Vec::new();
            if let Some(w) = d.power_watts {
                details.push(format!("{w}W"));
            }
            if d.battery_internal_minutes.is_some() {
                details.push(format!(
                    "内部{}時間",
                    profile::minutes_to_hours(d.battery_internal_minutes)
                ));
            }
            if d.battery_external_minutes.is_some() {
                details.push(format!(
                    "外部{}時間",
                    profile::minutes_to_hours(d.battery_external_minutes)
                ));
            }
            // Brackets and list separators would break the cell apart on the way back in.
            let note: String = d
                .note
                .chars()
                .map(|c| match c {
                    '(' | ')' | '（' | '）' | '、' | ',' | '，' | ';' | '；' | '/' | '／' => {
                        ' '
                    }
                    c => c,
                })
                .collect();
            if !note.trim().is_empty() {
                details.push(note.trim().to_string());
            }
            if details.is_empty() {
                d.kind.label_ja().to_string()
            } else {
                format!("{}({})", d.kind.label_ja(), details.join(" "))
            }
        })
        .collect::<Vec<_>>()
        .join("、")
}

/// A profile as the cells of the template's columns (the exports use this).
pub fn profile_cells(p: &Profile) -> Vec<String> {
    let fields = p.to_fields();
    TARGETS
        .iter()
        .map(|t| {
            let raw = fields.get(&t.key).cloned().unwrap_or_default();
            let label =
                |table: &[(&'static str, &'static str)]| profile::label_of(table, &raw).to_string();
            match t.key.as_str() {
                "care_items" => care_text(p),
                "devices" => device_text(p),
                "sex" => label(&profile::SEXES),
                "status" => label(&profile::STATUSES),
                "intake_source" => label(&profile::INTAKE_SOURCES),
                "recipient_certificate" if raw == "yes" => "あり".into(),
                "physical_disability_grade" if !raw.is_empty() => format!("{raw}級"),
                k if k.ends_with("_employment") && !raw.is_empty() => label(&profile::EMPLOYMENTS),
                k if k.ends_with("_wishes_to_work") && !raw.is_empty() => label(&profile::WISHES),
                _ => raw,
            }
        })
        .collect()
}

// ---------------------------------------------------------------------------------------
// Checking rows
// ---------------------------------------------------------------------------------------

/// What becomes of a row whose child is already registered (a file exported from tsunagu,
/// sent back with rows added or corrected): chosen on the check page once such rows exist.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum RegisteredRows {
    /// Not chosen yet: such a row stops the file, as a possible duplicate.
    #[default]
    Stop,
    /// Left out; the other rows go in.
    Skip,
    /// The record is updated with what the row says differently, shown field by field
    /// first; a record the uploader may not change is left out.
    Update,
}

impl RegisteredRows {
    fn parse(text: &str) -> Self {
        match text {
            "skip" => Self::Skip,
            "update" => Self::Update,
            _ => Self::Stop,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Stop => "",
            Self::Skip => "skip",
            Self::Update => "update",
        }
    }
}

/// Which field each column goes to ("" = not imported), and the code used for rows whose
/// 団体コード is empty or not in the file.
#[derive(Debug, Clone, Default)]
pub struct Mapping {
    pub columns: Vec<String>,
    pub default_code: String,
    pub registered: RegisteredRows,
    /// The updates the check page showed, as [`plan_of`] writes them: a commit whose
    /// updates differ (a record changed in between) is refused.
    pub plan: String,
}

impl Mapping {
    fn from_form(form: &HashMap<String, String>, width: usize) -> Mapping {
        Mapping {
            columns: upload::columns_from_form(form, width),
            default_code: form
                .get("default_municipality_code")
                .map(|c| c.trim().to_string())
                .unwrap_or_default(),
            registered: RegisteredRows::parse(
                form.get("registered").map(String::as_str).unwrap_or(""),
            ),
            plan: form.get("plan").cloned().unwrap_or_default(),
        }
    }

    fn guessed(table: &Table) -> Mapping {
        Mapping {
            columns: upload::guessed_columns(&TARGETS, &table.header),
            default_code: String::new(),
            registered: RegisteredRows::Stop,
            plan: String::new(),
        }
    }

    /// Problems of the mapping itself (they concern every row).
    fn problems(&self, header: &[String]) -> Vec<String> {
        let mut problems = upload::mapping_problems(
            &TARGETS,
            &self.columns,
            header,
            &["name", "kana", "birth_date", "sex"],
        );
        if !self.columns.iter().any(|c| c == "municipality_code") && self.default_code.is_empty() {
            problems
                .push("「団体コード」の列を選ぶか、全行に使う団体コードを入力してください".into());
        }
        problems
    }

    fn fields(&self, row: &TableRow, problems: &mut Vec<String>) -> HashMap<String, String> {
        let mut fields = HashMap::new();
        for (i, key) in self.columns.iter().enumerate() {
            let cell = row.cells.get(i).map(|c| c.trim()).unwrap_or("");
            match key.as_str() {
                "" => {}
                "care_items" => care_cell(cell, &mut fields, problems),
                "devices" => device_cell(cell, &mut fields, problems),
                key => {
                    fields.insert(key.to_string(), cell.to_string());
                }
            }
        }
        if fields.get("municipality_code").is_none_or(|c| c.is_empty())
            && !self.default_code.is_empty()
        {
            fields.insert("municipality_code".into(), self.default_code.clone());
        }
        fields
    }
}

/// Children already registered, by name key ([`search_key`]) and birth date.
type Registered = HashSet<(String, NaiveDate)>;

/// One row's outcome: its problems, or the profile and the owner it will be created with.
pub struct RowOutcome {
    pub line: usize,
    pub name: String,
    pub birth_date: String,
    pub problems: Vec<String>,
    /// Why the row is left out without stopping the others (the template's example, a
    /// child already registered when the user chose to skip those).
    pub skipped: Option<&'static str>,
    /// The row's child is already registered (a file exported from here, sent back).
    pub registered: bool,
    /// The owner is chosen once the row's town is known.
    ready: Option<(Profile, Option<OrganisationId>)>,
    /// The registered record the row updates, when the user chose to update.
    pub update: Option<PlannedUpdate>,
}

/// A registered record and what the file's row changes in it.
pub struct PlannedUpdate {
    record: service::ChildRecord,
    profile: Profile,
    pub changes: Vec<profile::Change>,
}

impl PlannedUpdate {
    pub fn child_id(&self) -> &ChildId {
        self.record.opened.id()
    }
}

/// The updates of a check, as `id:version` in file order: what the user saw and agreed to.
fn plan_of(outcomes: &[RowOutcome]) -> String {
    outcomes
        .iter()
        .filter_map(|o| o.update.as_ref())
        .map(|u| format!("{}:{}", u.child_id(), u.record.version))
        .collect::<Vec<_>>()
        .join(",")
}

/// The record's fields with the file's row laid over them. A filled cell replaces the
/// field and an empty one leaves it as it is: a file never erases what it does not say.
/// A filled care or device cell is the child's whole list, so it replaces the record's.
fn laid_over(record: &Profile, row: &HashMap<String, String>) -> HashMap<String, String> {
    let is_care = |k: &str| k.starts_with("care_") || k.starts_with("watch_");
    let is_device = |k: &str| {
        k.strip_prefix('d')
            .is_some_and(|rest| rest.starts_with(|c: char| c.is_ascii_digit()))
    };
    let filled = |v: &String| !v.trim().is_empty();
    let mut fields = record.to_fields();
    if row.iter().any(|(k, v)| is_care(k) && filled(v)) {
        fields.retain(|k, _| !is_care(k));
    }
    if row.iter().any(|(k, v)| is_device(k) && filled(v)) {
        fields.retain(|k, _| !is_device(k));
    }
    for (k, v) in row {
        if filled(v) {
            fields.insert(k.clone(), v.clone());
        }
    }
    fields
}

/// Checks every row as the commit would, writing nothing. A record a row would update is
/// read through the gate (`using`: shown on the check page, or changed by the commit).
async fn check_rows(
    gate: &Gate<'_>,
    state: &AppState,
    table: &Table,
    mapping: &Mapping,
    using: Use<'_>,
) -> Result<Vec<RowOutcome>, AppError> {
    let current = gate.current();
    let today = state.clock.today_jst();
    let mut outcomes = Vec::with_capacity(table.rows.len());
    let mut rows_fields = Vec::with_capacity(table.rows.len());
    for row in &table.rows {
        let mut problems = Vec::new();
        let fields = mapping.fields(row, &mut problems);
        rows_fields.push(fields.clone());
        if is_example_row(&fields) {
            outcomes.push(RowOutcome {
                line: row.line,
                name: fields.get("name").cloned().unwrap_or_default(),
                birth_date: fields.get("birth_date").cloned().unwrap_or_default(),
                problems: Vec::new(),
                skipped: Some(EXAMPLE_ROW_SKIPPED),
                registered: false,
                ready: None,
                update: None,
            });
            continue;
        }
        let parsed = profile::parse(&fields, today);
        let ready = match parsed {
            Ok(p) if problems.is_empty() => Some((p, None)),
            Ok(_) => None,
            Err(errors) => {
                problems.extend(errors.into_iter().map(|e| e.message));
                None
            }
        };
        outcomes.push(RowOutcome {
            line: row.line,
            name: fields.get("name").cloned().unwrap_or_default(),
            birth_date: fields.get("birth_date").cloned().unwrap_or_default(),
            problems,
            skipped: None,
            registered: false,
            ready,
            update: None,
        });
    }
    // What the reference data and the registry say, one query per municipality.
    let mut towns: HashMap<String, Option<(String, Registered)>> = HashMap::new();
    for outcome in &outcomes {
        let Some((p, _)) = &outcome.ready else {
            continue;
        };
        let code = p.municipality_code.to_string();
        if towns.contains_key(&code) {
            continue;
        }
        let town = match municipalities::repo::get(&state.db, p.municipality_code).await? {
            None => None,
            Some(m) => Some((m.name, children_in(&state.db, &code).await?)),
        };
        towns.insert(code, town);
    }
    // And the children in the uploader's reach, wherever they live (a list the policy
    // cannot express, nationwide or prefecture-wide, is left to the per-town check).
    let reach: Registered = match repo::list(
        &state.db,
        &scope_filter(&current.actor, Permission::ReadChild),
        &repo::ListFilter::default(),
        today,
        100_000,
        0,
    )
    .await
    {
        Ok((children, _)) => children
            .into_iter()
            .map(|c| (search_key(&c.name), c.birth_date))
            .collect(),
        Err(sqlx::Error::Protocol(_)) => HashSet::new(),
        Err(e) => return Err(e.into()),
    };
    // The records the uploader may change, when rows are to update them.
    let writable: HashMap<(String, NaiveDate), ChildId> =
        if mapping.registered == RegisteredRows::Update {
            match repo::list(
                &state.db,
                &scope_filter(&current.actor, Permission::WriteChild),
                &repo::ListFilter::default(),
                today,
                100_000,
                0,
            )
            .await
            {
                Ok((children, _)) => children
                    .into_iter()
                    .map(|c| ((search_key(&c.name), c.birth_date), c.id))
                    .collect(),
                Err(sqlx::Error::Protocol(_)) => HashMap::new(),
                Err(e) => return Err(e.into()),
            }
        } else {
            HashMap::new()
        };
    let mut in_file: HashMap<(String, NaiveDate), usize> = HashMap::new();
    for (outcome, fields) in outcomes.iter_mut().zip(&rows_fields) {
        let Some((p, owner)) = &mut outcome.ready else {
            continue;
        };
        let code = p.municipality_code.to_string();
        let key = (search_key(&p.name), p.birth_date);
        match towns.get(&code) {
            Some(Some((town, existing))) => {
                match registering_membership(
                    &current.actor,
                    Permission::WriteChild,
                    &p.municipality_code,
                ) {
                    Some(m) => {
                        *owner = Some(m.organisation_id.clone());
                        // The town's own departments hear of any child registered there
                        // (one record per child is theirs to keep); an outside
                        // organisation only of the children it may read — anything more
                        // would tell it who lives there.
                        let own_town = m.role == tsunagu_core::access::Role::MunicipalStaff
                            && m.municipality_code == p.municipality_code;
                        if (own_town && existing.contains(&key)) || reach.contains(&key) {
                            outcome.registered = true;
                            outcome.problems.push(REGISTERED_PROBLEM.into());
                        }
                    }
                    None => outcome
                        .problems
                        .push(format!("担当外の市区町村（{town}）の児童は登録できません")),
                }
            }
            _ => outcome.problems.push(format!(
                "住所地の市区町村: 団体コード {code} の市区町村は参照データにありません"
            )),
        }
        if let Some(first) = in_file.get(&key) {
            outcome
                .problems
                .push(format!("{first}行目と同じ児童です（氏名・生年月日が同じ）"));
        } else {
            in_file.insert(key.clone(), outcome.line);
        }
        // Chosen on the check page: a row whose only problem is that its child is already
        // registered is left out, or updates the record, and the others go in.
        if outcome.registered && outcome.problems.iter().all(|p| p == REGISTERED_PROBLEM) {
            match (mapping.registered, writable.get(&key)) {
                (RegisteredRows::Stop, _) => {}
                (RegisteredRows::Skip, _) => {
                    outcome.problems.clear();
                    outcome.skipped = Some(REGISTERED_SKIPPED);
                }
                (RegisteredRows::Update, None) => {
                    outcome.problems.clear();
                    outcome.skipped = Some(REGISTERED_NOT_OURS);
                }
                (RegisteredRows::Update, Some(child_id)) => {
                    outcome.problems.clear();
                    plan_update(gate, state, outcome, child_id, fields, using).await?;
                }
            }
        }
        // A row that updates a record registers nothing.
        if !outcome.problems.is_empty() || outcome.skipped.is_some() || outcome.update.is_some() {
            outcome.ready = None;
        }
    }
    Ok(outcomes)
}

const REGISTERED_PROBLEM: &str =
    "同じ氏名・生年月日の児童がすでに登録されています（重複の可能性があります）";
const REGISTERED_SKIPPED: &str = "すでに登録されている児童なので、とばします";
const REGISTERED_NOT_OURS: &str =
    "すでに登録されていますが、あなたが変更できる記録ではないので、とばします";
const REGISTERED_SAME: &str = "すでに登録されていて、ファイルの内容と同じなので、変更しません";

/// What the row changes in the registered record `child_id`, read through the gate; the
/// row's problems (a value the record cannot take) when it cannot apply.
async fn plan_update(
    gate: &Gate<'_>,
    state: &AppState,
    outcome: &mut RowOutcome,
    child_id: &ChildId,
    fields: &HashMap<String, String>,
    using: Use<'_>,
) -> Result<(), AppError> {
    let record = service::open_record(
        gate,
        state,
        child_id.as_str(),
        Permission::WriteChild,
        using,
    )
    .await?;
    let merged = laid_over(&record.profile, fields);
    let parsed = profile::parse(&merged, state.clock.today_jst())
        .and_then(|p| service::fixed_municipality(&record.opened, p));
    match parsed {
        Err(errors) => {
            outcome.problems.extend(
                errors
                    .into_iter()
                    .map(|e| format!("登録済みの記録に反映できません: {}", e.message)),
            );
        }
        Ok(profile) => {
            let changes = profile.changes_from(&record.profile);
            if changes.is_empty() {
                outcome.skipped = Some(REGISTERED_SAME);
            } else {
                outcome.update = Some(PlannedUpdate {
                    record,
                    profile,
                    changes,
                });
            }
        }
    }
    Ok(())
}

/// Name keys and birth dates of every child registered in a municipality.
async fn children_in(db: &Db, code: &str) -> Result<Registered, sqlx::Error> {
    Ok(repo::names_and_births_in(db, code)
        .await?
        .into_iter()
        .map(|(name, birth)| (search_key(&name), birth))
        .collect())
}

// ---------------------------------------------------------------------------------------
// Pages
// ---------------------------------------------------------------------------------------

#[derive(Template)]
#[template(path = "children/import.html")]
struct UploadPage {
    chrome: Chrome,
    csrf_token: String,
    errors: Vec<String>,
    targets: Vec<(String, String)>,
    care_examples: Vec<(String, &'static str)>,
    /// Other words read as a line: (word, the line, where the word comes from).
    care_words: Vec<(&'static str, String, &'static str)>,
    care_words_revised: &'static str,
    max_rows: usize,
    max_megabytes: String,
}

fn upload_page(state: &AppState, current: &CurrentSession, errors: Vec<String>) -> UploadPage {
    UploadPage {
        chrome: Chrome::for_session("ファイルから取り込む", state.settings.demo, Some(current)),
        csrf_token: current.csrf_token.clone(),
        errors,
        targets: TARGETS
            .iter()
            .filter(|t| !t.key.starts_with("g1_") && !t.key.starts_with("g2_"))
            .filter(|t| !t.key.starts_with('s'))
            .map(|t| (t.label.clone(), t.key.clone()))
            .collect(),
        care_examples: CareItem::ALL
            .iter()
            .map(|i| (care_short_name(*i), i.label_ja()))
            .collect(),
        care_words: tsunagu_core::care_words::CARE_WORDS
            .iter()
            .map(|w| {
                let line = match w.variant {
                    Some(v) => format!("{}（{}）", w.item.label_ja(), v.label_ja()),
                    None => w.item.label_ja().to_string(),
                };
                (w.word, line, w.source.label_ja())
            })
            .collect(),
        care_words_revised: tsunagu_core::care_words::CARE_WORDS_REVISED,
        max_rows: MAX_ROWS,
        max_megabytes: upload::megabytes(MAX_FILE_BYTES),
    }
}

async fn upload_form(
    State(state): State<AppState>,
    current: CurrentSession,
) -> Result<Html<String>, PageError> {
    Ok(Html(upload_page(&state, &current, Vec::new()).render()?))
}

/// Takes the file, parses it, stores the table and goes on to the mapping.
async fn upload(
    State(state): State<AppState>,
    current: CurrentSession,
    parts: Parts,
    multipart: Result<Multipart, MultipartRejection>,
) -> Result<Response, PageError> {
    let refused = |status: StatusCode, message: String| -> Result<Response, PageError> {
        let page = upload_page(&state, &current, vec![message]);
        Ok((status, Html(page.render()?)).into_response())
    };
    let (filename, bytes) = match upload::read_upload(multipart, MAX_FILE_BYTES).await {
        Ok(file) => file,
        Err((status, message)) => return refused(status, message),
    };
    let table = match read_table(bytes).await {
        Ok(table) => table,
        Err(message) => return refused(StatusCode::BAD_REQUEST, message),
    };
    let id = upload::keep(&state, &current, &parts, PURPOSE, &filename, &table).await?;
    Ok(Redirect::to(&format!("/children/import/{id}")).into_response())
}

struct MappingColumn {
    index: usize,
    heading: String,
    samples: String,
    selected: String,
}

#[derive(Template)]
#[template(path = "children/import_mapping.html")]
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

async fn mapping_page(
    State(state): State<AppState>,
    current: CurrentSession,
    parts: Parts,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let Some(stored) = upload::load(
        &state.db,
        PURPOSE,
        &id,
        &current.account.id,
        state.clock.now(),
    )
    .await?
    else {
        if let Some(answer) = already_imported(&state, &current, &id).await? {
            return Ok(answer);
        }
        return Err(upload::missing(&state, &current, &parts, PURPOSE, &id).await);
    };
    let mut mapping = Mapping::guessed(&stored.table);
    if !mapping.columns.iter().any(|k| k == "municipality_code") {
        // A town's own list rarely has the code: offer the uploader's town when it is one.
        let writers: Vec<_> = current
            .actor
            .memberships
            .iter()
            .filter(|m| tsunagu_core::access::scope_of(m.role, Permission::WriteChild).is_some())
            .collect();
        if let [m] = writers.as_slice()
            && !m.municipality_code.is_prefecture()
        {
            mapping.default_code = m.municipality_code.to_string();
        }
    }
    let page = mapping_view(&state, &current, &stored, &mapping, Vec::new());
    Ok(Html(page.render()?).into_response())
}

#[derive(Template)]
#[template(path = "children/import_check.html")]
struct CheckPage {
    chrome: Chrome,
    csrf_token: String,
    id: String,
    filename: String,
    outcomes: Vec<RowOutcome>,
    with_problems: usize,
    /// Rows a commit would register.
    to_register: usize,
    /// Registered records a commit would update.
    to_update: usize,
    /// Rows stopped only because their child is already registered: the page offers to
    /// skip them or to update the records.
    registered_only: usize,
    registered: &'static str,
    plan: String,
    mapping: Vec<(usize, String)>,
    default_code: String,
    /// The commit was asked for and refused.
    refused: bool,
    /// Refused because a record to update changed after the check.
    plan_changed: bool,
}

fn check_view(
    state: &AppState,
    current: &CurrentSession,
    stored: &Stored,
    mapping: &Mapping,
    outcomes: Vec<RowOutcome>,
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
        to_update: outcomes.iter().filter(|o| o.update.is_some()).count(),
        plan: plan_of(&outcomes),
        plan_changed: refused && plan_of(&outcomes) != mapping.plan,
        registered_only: outcomes
            .iter()
            .filter(|o| o.registered && o.problems.iter().all(|p| p == REGISTERED_PROBLEM))
            .filter(|o| !o.problems.is_empty())
            .count(),
        registered: mapping.registered.as_str(),
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
    let Some(stored) = upload::load(
        &state.db,
        PURPOSE,
        id,
        &current.account.id,
        state.clock.now(),
    )
    .await?
    else {
        if let Some(answer) = already_imported(state, current, id).await? {
            return Ok(Err(answer));
        }
        return Err(upload::missing(state, current, parts, PURPOSE, id).await);
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
async fn check(
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
    let gate = Gate::page(&state, &current, &parts);
    let outcomes = check_rows(
        &gate,
        &state,
        &stored.table,
        &mapping,
        Use::Read("import_check"),
    )
    .await?;
    let page = check_view(&state, &current, &stored, &mapping, outcomes, false);
    Ok(Html(page.render()?).into_response())
}

/// A row the commit wrote: a child registered, or a registered record updated.
#[derive(serde::Serialize, serde::Deserialize)]
struct Created {
    id: ChildId,
    line: usize,
    name: String,
    /// The fields changed, in Japanese, when the row updated a registered record.
    #[serde(default)]
    updated: Vec<String>,
}

#[derive(Template)]
#[template(path = "children/import_done.html")]
struct DonePage {
    chrome: Chrome,
    filename: String,
    created: Vec<Created>,
    /// For a commit sent again: when the file was imported.
    already_at: Option<String>,
}

impl DonePage {
    fn registered_count(&self) -> usize {
        self.created.iter().filter(|c| c.updated.is_empty()).count()
    }

    fn updated_count(&self) -> usize {
        self.created.len() - self.registered_count()
    }
}

/// Checks everything again and writes every row in one transaction, or nothing.
async fn commit(
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
    let gate = Gate::page(&state, &current, &parts);
    let outcomes = check_rows(&gate, &state, &stored.table, &mapping, Use::Change).await?;
    // The updates differ from what the check page showed (a record changed meanwhile, or
    // the commit was sent without a check): nothing is written, the page shows them anew.
    let plan_changed = plan_of(&outcomes) != mapping.plan;
    if outcomes.iter().any(|o| !o.problems.is_empty()) || plan_changed {
        // A commit of the same file that finished meanwhile makes its rows "registered":
        // say it was imported, not that its rows are duplicates.
        if let Some(answer) = already_imported(&state, &current, &id).await? {
            return Ok(answer);
        }
        // The page shows each update's values: a read of those records.
        for update in outcomes.iter().filter_map(|o| o.update.as_ref()) {
            gate.audit_read(&update.record.opened, "import_check")
                .await?;
        }
        let page = check_view(&state, &current, &stored, &mapping, outcomes, true);
        return Ok((StatusCode::BAD_REQUEST, Html(page.render()?)).into_response());
    }
    let now = state.clock.now();
    let written = gate
        .write_all(async |tx| {
            if !upload::take(tx, PURPOSE, &stored.id, &current.account.id, now).await? {
                return Err(AppError::Conflict(
                    "このファイルはすでに取り込まれています。児童の一覧を確認してください".into(),
                ));
            }
            let mut created = Vec::with_capacity(outcomes.len());
            let mut events = Vec::with_capacity(outcomes.len() + 1);
            for outcome in &outcomes {
                let Some((profile, Some(owner))) = &outcome.ready else {
                    continue;
                };
                let child_id = ChildId::from_uuid(uuid::Uuid::new_v4());
                store::create(tx, &child_id, owner, profile, now).await?;
                events.push(
                    Event::new(Action::Create, Outcome::Allowed)
                        .resource(repo::RESOURCE_TYPE, &child_id)
                        .child(&child_id)
                        .fields(profile.filled_fields())
                        .detail("import"),
                );
                created.push(Created {
                    id: child_id,
                    line: outcome.line,
                    name: profile.name.clone(),
                    updated: Vec::new(),
                });
            }
            for outcome in &outcomes {
                let Some(update) = &outcome.update else {
                    continue;
                };
                let edit = store::Edit {
                    id: update.child_id(),
                    expected: update.record.version,
                    account_id: &current.account.id,
                    source: "import",
                    now,
                };
                if !store::write_edit(tx, &edit, &update.profile, &update.changes).await? {
                    return Err(AppError::Conflict(format!(
                        "{}行目の児童の記録が、いま別の操作で変更されました。どの行も取り込んでいません。試し読みからやり直してください",
                        outcome.line
                    )));
                }
                events.push(
                    crate::gate::change_event(&update.record.opened, Action::Update)
                        .fields(update.changes.iter().map(|c| c.field.clone()))
                        .detail("import"),
                );
                created.push(Created {
                    id: update.child_id().clone(),
                    line: outcome.line,
                    name: update.profile.name.clone(),
                    updated: update.changes.iter().map(|c| c.label.clone()).collect(),
                });
            }
            let result =
                serde_json::to_string(&created).map_err(|e| AppError::Internal(e.to_string()))?;
            upload::set_result(tx, &stored.id, &result).await?;
            events.push(
                Event::new(Action::Import, Outcome::Allowed)
                    .resource(PURPOSE.resource_type(), &stored.id)
                    .detail({
                        let updated = created.iter().filter(|c| !c.updated.is_empty()).count();
                        let mut detail = format!(
                            "commit; file={}; rows={}",
                            stored.filename,
                            created.len() - updated
                        );
                        if updated > 0 {
                            detail.push_str(&format!("; updated={updated}"));
                        }
                        detail
                    }),
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

/// What starts the name of the template's example row: a row so named is never imported.
const EXAMPLE_MARK: &str = "記入例";

const EXAMPLE_ROW_SKIPPED: &str = "ひな形の記入例の行なので取り込みません";

/// The template's example row, left in a file (its name starts with 「記入例」).
fn is_example_row(fields: &HashMap<String, String>) -> bool {
    fields
        .get("name")
        .is_some_and(|name| name.trim_start().starts_with(EXAMPLE_MARK))
}

/// An example row for the template (fictional; 板橋区's code). Its name is marked
/// ([`EXAMPLE_MARK`]), so a file sent back with it still in is imported without it.
fn example_row() -> HashMap<&'static str, &'static str> {
    HashMap::from([
        ("name", "記入例 さくら"),
        ("kana", "きにゅうれい さくら"),
        ("birth_date", "2023-05-10"),
        ("sex", "女"),
        ("municipality_code", "131199"),
        ("address", "東京都板橋区（記入例）"),
        ("status", "支援中"),
        ("intake_source", "退院時の継続看護依頼票"),
        ("intake_date", "2023-08-01"),
        ("diagnoses", "（記入例）"),
        ("hospital", "（記入例）病院"),
        (
            "care_items",
            "人工呼吸器(高)、気管切開、吸引(高)、経管栄養(高)",
        ),
        ("devices", "人工呼吸器(100W 内部4時間 外部8時間)、吸引器"),
        ("g0_name", "記入例 みどり"),
        ("g0_kana", "きにゅうれい みどり"),
        ("g0_relation", "母"),
        ("g0_phone", "090-0000-0000"),
        ("g0_employment", "休業中（育休等）"),
        ("g0_wishes_to_work", "就労を希望"),
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

async fn template_csv() -> Result<Response, PageError> {
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"children-import-template.csv\"",
            ),
        ],
        template_bytes()?,
    )
        .into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, 21).unwrap()
    }

    fn read_now(bytes: &[u8]) -> Result<Table, String> {
        upload::into_table(
            tabular::read(bytes, &LIMITS).map_err(|e| e.to_string())?,
            EMPTY_FILE,
        )
    }

    #[test]
    fn headings_are_recognised_in_their_usual_spellings() {
        let key = |h: &str| upload::guess_target(&TARGETS, h).map(|t| t.key.as_str());
        assert_eq!(key("氏名"), Some("name"));
        assert_eq!(key("フリガナ"), Some("kana"));
        assert_eq!(key("氏名（カナ）"), Some("kana"));
        assert_eq!(key(" 生年月日 "), Some("birth_date"));
        assert_eq!(key("市区町村コード"), Some("municipality_code"));
        assert_eq!(key("保護者氏名"), Some("g0_name"));
        assert_eq!(key("保護者２電話番号"), Some("g1_phone"));
        assert_eq!(key("就労希望"), Some("g0_wishes_to_work"));
        assert_eq!(key("医療的ケア"), Some("care_items"));
        assert_eq!(key("判定スコア"), None);
        // Every target's own label maps back to it (the template round-trips).
        for t in TARGETS.iter() {
            assert_eq!(key(&t.label), Some(t.key.as_str()), "{}", t.label);
        }
    }

    #[test]
    fn care_cells_map_to_the_form_fields() {
        let mut fields = HashMap::new();
        let mut problems = Vec::new();
        care_cell(
            "人工呼吸器（見守り高）、気管切開の管理，吸引(口鼻腔・気管内)(高)；導尿(間欠的導尿・低)",
            &mut fields,
            &mut problems,
        );
        assert!(problems.is_empty(), "{problems:?}");
        assert_eq!(fields["care_ventilator"], "on");
        assert_eq!(fields["watch_ventilator"], "high");
        assert_eq!(fields["care_tracheostomy"], "on");
        assert!(!fields.contains_key("watch_tracheostomy"));
        assert_eq!(fields["watch_suction"], "high");
        assert_eq!(fields["care_intermittent"], "on");
        assert_eq!(fields["watch_intermittent"], "low");
        let mut problems = Vec::new();
        care_cell("人工呼吸器(高)、魔法", &mut HashMap::new(), &mut problems);
        assert_eq!(problems.len(), 1);
        assert!(
            problems[0].contains("「魔法」という項目はありません"),
            "{problems:?}"
        );
    }

    #[test]
    fn the_words_people_write_are_read_as_their_lines() {
        let mut fields = HashMap::new();
        let mut problems = Vec::new();
        care_cell(
            "ハイフローセラピー(中)、胃瘻(高)、膀胱瘻(高)、在宅酸素、摘便",
            &mut fields,
            &mut problems,
        );
        assert!(problems.is_empty(), "{problems:?}");
        assert_eq!(fields["care_ventilator"], "on");
        assert_eq!(fields["watch_ventilator"], "medium");
        assert_eq!(fields["watch_tube_feeding"], "high");
        assert_eq!(fields["care_indwelling"], "on");
        assert_eq!(fields["watch_indwelling"], "high");
        assert_eq!(fields["care_oxygen"], "on");
        assert_eq!(fields["care_manual_evacuation"], "on");
        // A word that could mean two lines is not guessed.
        let mut problems = Vec::new();
        care_cell("ストーマ", &mut HashMap::new(), &mut problems);
        assert_eq!(problems.len(), 1, "{problems:?}");
    }

    #[test]
    fn device_cells_map_to_the_form_fields() {
        let mut fields = HashMap::new();
        let mut problems = Vec::new();
        device_cell(
            "人工呼吸器(100W 内部4時間 外部8.5時間 予備あり)、吸引器",
            &mut fields,
            &mut problems,
        );
        assert!(problems.is_empty(), "{problems:?}");
        assert_eq!(fields["d0_kind"], "ventilator");
        assert_eq!(fields["d0_power_watts"], "100W");
        assert_eq!(fields["d0_battery_internal_hours"], "4");
        assert_eq!(fields["d0_battery_external_hours"], "8.5");
        assert_eq!(fields["d0_note"], "予備あり");
        assert_eq!(fields["d1_kind"], "suction");
    }

    #[test]
    fn the_template_example_passes_the_validator_and_round_trips() {
        let table = read_now(&template_bytes().unwrap()).unwrap();
        let mapping = Mapping::guessed(&table);
        assert!(mapping.problems(&table.header).is_empty());
        let mut problems = Vec::new();
        let fields = mapping.fields(&table.rows[0], &mut problems);
        assert!(problems.is_empty(), "{problems:?}");
        let p = profile::parse(&fields, today()).unwrap();
        assert_eq!(p.care.len(), 4);
        assert_eq!(p.devices.len(), 2);
        assert_eq!(p.guardians[0].wishes_to_work, "yes");
        // The profile written out as cells reads back to the same profile.
        let row = TableRow {
            line: 2,
            cells: profile_cells(&p),
        };
        let again = profile::parse(&mapping.fields(&row, &mut problems), today()).unwrap();
        assert!(problems.is_empty(), "{problems:?}");
        assert_eq!(again, p);
    }

    #[test]
    fn encodings_are_detected() {
        let text = "氏名,ふりがな\n髙橋 はると,たかはし はると\n";
        let (sjis, _, _) = encoding_rs::SHIFT_JIS.encode(text);
        assert_eq!(read_now(&sjis).unwrap().rows[0].cells[0], "髙橋 はると");
        let mut bom = b"\xEF\xBB\xBF".to_vec();
        bom.extend_from_slice(text.as_bytes());
        assert_eq!(read_now(&bom).unwrap().header, vec!["氏名", "ふりがな"]);
        assert!(read_now(b"\x00\x01\x02\xFF\xFE").is_err());
        assert!(read_now(b"PK\x03\x04not a zip").is_err());
    }
}
