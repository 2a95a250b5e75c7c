//! A child's whole profile as people edit it: parsed from the flat field map that the
//! form, the file import and the JSON API all produce, checked with every problem named
//! in Japanese, and compared field by field for the edit history.

use crate::error::FieldError;
use std::collections::HashMap;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use tsunagu_core::care::{self, CareEntry, CareLine, Watch};
use tsunagu_core::device::DeviceKind;
use tsunagu_core::municipality::MunicipalityCode;
use unicode_normalization::UnicodeNormalization;

/// Rows the form offers for each list (a blank row is ignored).
pub const GUARDIAN_ROWS: usize = 3;
pub const DEVICE_ROWS: usize = 6;
pub const SIBLING_ROWS: usize = 4;

pub const SEXES: [(&str, &str); 4] = [
    ("female", "女"),
    ("male", "男"),
    ("other", "その他"),
    ("unknown", "不明"),
];
pub const STATUSES: [(&str, &str); 4] = [
    ("active", "支援中"),
    ("moved_out", "転出"),
    ("aged_out", "対象年齢外"),
    ("deceased", "死亡"),
];
pub const INTAKE_SOURCES: [(&str, &str); 4] = [
    ("hospital_discharge", "退院時の継続看護依頼票"),
    ("health_centre", "保健センター"),
    ("family_application", "家族からの申請"),
    ("transfer", "他市区町村からの転入"),
];
pub const EMPLOYMENTS: [(&str, &str); 5] = [
    ("working", "就労中"),
    ("on_leave", "休業中（育休等）"),
    ("seeking", "求職中"),
    ("not_working", "就労していない"),
    ("unknown", "未確認"),
];
pub const WISHES: [(&str, &str); 3] = [
    ("yes", "就労を希望"),
    ("no", "希望なし"),
    ("unknown", "未確認"),
];
pub const PHYSICAL_GRADES: [&str; 6] = ["1", "2", "3", "4", "5", "6"];
pub const CARE_CATEGORIES: [&str; 3] = ["1", "2", "3"];

/// The label of a code in one of the tables above ("" for an unknown code).
pub fn label_of(table: &[(&'static str, &'static str)], code: &str) -> &'static str {
    table
        .iter()
        .find(|(c, _)| *c == code)
        .map(|(_, l)| *l)
        .unwrap_or("")
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Guardian {
    #[schema(max_length = 100)]
    pub name: String,
    #[schema(max_length = 100)]
    pub kana: String,
    /// 続柄（母、父など）
    #[schema(max_length = 20)]
    pub relation: String,
    /// 数字とハイフン、10〜13桁
    pub phone: String,
    pub email: String,
    #[schema(schema_with = employment_schema)]
    pub employment: String,
    #[schema(schema_with = wishes_schema)]
    pub wishes_to_work: String,
}

fn employment_schema() -> utoipa::openapi::Object {
    crate::web::api_schema::choice(&EMPLOYMENTS, "就労の状況")
}

fn wishes_schema() -> utoipa::openapi::Object {
    crate::web::api_schema::choice(&WISHES, "就労の希望")
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Device {
    pub kind: DeviceKind,
    pub power_watts: Option<i64>,
    pub battery_internal_minutes: Option<i64>,
    pub battery_external_minutes: Option<i64>,
    pub note: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Sibling {
    #[schema(max_length = 100)]
    pub name: String,
    pub birth_date: Option<NaiveDate>,
    #[schema(max_length = 200)]
    pub note: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Profile {
    pub name: String,
    pub kana: String,
    pub birth_date: NaiveDate,
    pub sex: String,
    pub municipality_code: MunicipalityCode,
    pub address: String,
    pub status: String,
    pub status_date: Option<NaiveDate>,
    pub intake_source: String,
    pub intake_date: Option<NaiveDate>,
    pub diagnoses: String,
    pub hospital: String,
    pub doctor: String,
    pub physical_disability_grade: String,
    pub ryoiku_techo: String,
    pub recipient_certificate: String,
    pub care_category: String,
    pub attending: String,
    pub care: Vec<CareEntry>,
    pub guardians: Vec<Guardian>,
    pub devices: Vec<Device>,
    pub siblings: Vec<Sibling>,
}

/// One changed field, in words, for the history and the conflict message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Change {
    pub field: String,
    pub label: String,
    pub before: String,
    pub after: String,
}

/// Hours as typed ("4", "4.5", "４．５") to whole minutes; 0–72 hours.
fn hours_to_minutes(text: &str) -> Result<Option<i64>, ()> {
    let text: String = text.nfkc().collect::<String>().trim().to_string();
    if text.is_empty() {
        return Ok(None);
    }
    let hours: f64 = text.parse().map_err(|_| ())?;
    if !(0.0..=72.0).contains(&hours) || !hours.is_finite() {
        return Err(());
    }
    Ok(Some((hours * 60.0).round() as i64))
}

pub fn minutes_to_hours(minutes: Option<i64>) -> String {
    match minutes {
        None => String::new(),
        Some(m) if m % 60 == 0 => (m / 60).to_string(),
        Some(m) => format!("{:.1}", m as f64 / 60.0),
    }
}

use tsunagu_core::text::is_kana;

/// A date as typed: 西暦 or 和暦, in the ways people write them
/// (`tsunagu_core::calendar::parse_date_ja`).
pub fn parse_date(text: &str) -> Option<NaiveDate> {
    tsunagu_core::calendar::parse_date_ja(text)
}

use tsunagu_core::text::normalise_phone;

struct Fields<'a> {
    form: &'a HashMap<String, String>,
    errors: Vec<FieldError>,
}

impl Fields<'_> {
    fn fail(&mut self, field: &str, code: &'static str, message: String) {
        self.errors.push(FieldError::new(field, code, message));
    }

    /// The field as typed, half-width ｶﾀｶﾅ made full-width and full-width digits and
    /// letters made ASCII (`tsunagu_core::text::normalise_typed`), trimmed: what is stored
    /// and shown back.
    fn text(&self, key: &str) -> String {
        self.form
            .get(key)
            .map(|v| tsunagu_core::text::normalise_typed(v).trim().to_string())
            .unwrap_or_default()
    }

    /// Text up to `max` characters; required when `required`.
    fn bounded(&mut self, key: &str, label: &str, max: usize, required: bool) -> String {
        let value = self.text(key);
        if required && value.is_empty() {
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

    /// A code of `table` (or its label); an empty field is `default`, and stays empty when
    /// `default` is (an optional choice left unanswered).
    fn code(&mut self, key: &str, label: &str, table: &[(&str, &str)], default: &str) -> String {
        let value = self.text(key);
        if value.is_empty() && default.is_empty() {
            return String::new();
        }
        let value = if value.is_empty() {
            default.to_string()
        } else {
            value
        };
        if table.iter().any(|(c, l)| *c == value || *l == value) {
            table
                .iter()
                .find(|(c, l)| *c == value || *l == value)
                .map(|(c, _)| c.to_string())
                .unwrap_or_default()
        } else {
            self.fail(
                key,
                "not_a_choice",
                format!("{label}の「{value}」は選択肢にありません"),
            );
            default.to_string()
        }
    }

    fn date(&mut self, key: &str, label: &str, today: NaiveDate) -> Option<NaiveDate> {
        let text = self.text(key);
        if text.is_empty() {
            return None;
        }
        match parse_date(&text) {
            None => {
                self.fail(
                    key,
                    "format",
                    format!(
                        "{label}「{text}」を 2020-04-02 や 令和2年4月2日 の形で入力してください"
                    ),
                );
                None
            }
            Some(d) if d > today => {
                self.fail(
                    key,
                    "future_date",
                    format!("{label}が未来の日付になっています"),
                );
                None
            }
            Some(d) => Some(d),
        }
    }
}

/// Parses and checks a whole profile. Every problem is named, in Japanese, at once.
/// Every field of the profile with its name as people read it, in the order the profile
/// shows them: the history, the conflicts and the messages name fields by this table.
const FIELD_LABELS: [(&str, &str); 22] = [
    ("name", "氏名"),
    ("kana", "ふりがな"),
    ("birth_date", "生年月日"),
    ("sex", "性別"),
    ("municipality_code", "住所地（団体コード）"),
    ("address", "住所"),
    ("status", "状態"),
    ("status_date", "状態の日付"),
    ("intake_source", "把握の経路"),
    ("intake_date", "把握した日"),
    ("diagnoses", "診断名"),
    ("hospital", "主な医療機関"),
    ("doctor", "主治医"),
    ("physical_disability_grade", "身体障害者手帳"),
    ("ryoiku_techo", "療育手帳"),
    ("recipient_certificate", "受給者証"),
    ("care_category", "医療的ケア区分"),
    ("attending", "在籍先"),
    ("care_items", "医療的ケア"),
    ("guardians", "保護者"),
    ("devices", "医療機器"),
    ("siblings", "きょうだい"),
];

/// The name of a field of the profile as people read it ("" for none).
fn label(key: &str) -> &'static str {
    FIELD_LABELS
        .iter()
        .find(|(k, _)| *k == key)
        .map_or("", |(_, l)| l)
}

/// A field named in the audit trail of a child's record, as people read it ("" for a name
/// this table does not know): the profile's fields, and what changes around the record.
pub fn audit_field_label(key: &str) -> &'static str {
    match key {
        "consents" => "同意",
        "guardian_accounts" => "家族アカウントの連携",
        _ => label(key),
    }
}

/// Fields that hold several lines (tab and line breaks allowed); every other is one line.
const MULTILINE_FIELDS: [&str; 1] = ["diagnoses"];

/// A field's name for messages: the profile's own labels, the rows' ("保護者1の電話番号").
fn label_for(key: &str) -> String {
    if !label(key).is_empty() {
        return label(key).to_string();
    }
    let sibling = key
        .strip_prefix('s')
        .and_then(|rest| rest.split_once('_'))
        .and_then(|(n, member)| Some((n.parse::<usize>().ok()? + 1, member)));
    match sibling {
        Some((n, "name")) => format!("きょうだい{n}の氏名"),
        Some((n, "birth_date")) => format!("きょうだい{n}の生年月日"),
        Some((n, "note")) => format!("きょうだい{n}のメモ"),
        _ => field_label(key),
    }
}

pub fn parse(form: &HashMap<String, String>, today: NaiveDate) -> Result<Profile, Vec<FieldError>> {
    let mut f = Fields {
        form,
        errors: Vec::new(),
    };
    // Characters no one types on purpose, in any field, before anything else is read.
    let mut keys: Vec<&String> = form.keys().collect();
    keys.sort();
    for key in keys {
        let multiline = MULTILINE_FIELDS.contains(&key.as_str());
        if let Some(c) = tsunagu_core::text::hidden_character(&form[key], multiline) {
            let message = tsunagu_core::text::hidden_character_message(&label_for(key), c);
            f.fail(key, "format", message);
        }
    }
    let name = f.bounded("name", "氏名", 100, true);
    let kana = f.text("kana");
    if kana.is_empty() || kana.chars().count() > 100 || !is_kana(&kana) {
        f.fail(
            "kana",
            "format",
            "ふりがなを、ひらがなまたはカタカナ100文字以内で入力してください".to_string(),
        );
    }
    let birth_text = f.text("birth_date");
    let birth = parse_date(&birth_text);
    match birth {
        None => f.fail(
            "birth_date",
            if birth_text.is_empty() {
                "required"
            } else {
                "format"
            },
            "生年月日を 2020-04-02 や 令和2年4月2日 の形で入力してください".to_string(),
        ),
        Some(d) if d > today => f.fail(
            "birth_date",
            "future_date",
            "生年月日が未来の日付になっています".to_string(),
        ),
        Some(d) if d < NaiveDate::from_ymd_opt(1990, 1, 1).unwrap_or(d) => f.fail(
            "birth_date",
            "too_old",
            "生年月日が古すぎます（1990年以降）".to_string(),
        ),
        _ => {}
    }
    let sex_text = f.text("sex");
    let sex = SEXES
        .iter()
        .find(|(c, l)| *c == sex_text || *l == sex_text)
        .map(|(c, _)| c.to_string());
    if sex.is_none() {
        f.fail("sex", "not_a_choice", "性別を選んでください".to_string());
    }
    let code = MunicipalityCode::parse(&f.text("municipality_code"));
    if let Err(err) = &code {
        f.fail(
            "municipality_code",
            "format",
            format!("住所地の市区町村: {err}"),
        );
    }
    let address = f.bounded("address", "住所", 200, false);
    let status = f.code("status", "状態", &STATUSES, "active");
    let status_date = f.date("status_date", "状態の日付", today);
    if status != "active" && status_date.is_none() {
        let message = format!(
            "状態を「{}」にするときは、その日付を入力してください",
            label_of(&STATUSES, &status)
        );
        f.fail("status_date", "required", message);
    }
    // Not known is not 保健センター: an empty route stays empty.
    let intake_source = f.code("intake_source", "把握の経路", &INTAKE_SOURCES, "");
    let intake_date = f.date("intake_date", "把握した日", today);
    if let (Some(b), Some(i)) = (birth, intake_date)
        && i < b
    {
        f.fail(
            "intake_date",
            "inconsistent",
            "把握した日が生年月日より前になっています".to_string(),
        );
    }
    let diagnoses = f.bounded("diagnoses", "診断名", 1000, false);
    let hospital = f.bounded("hospital", "主な医療機関", 100, false);
    let doctor = f.bounded("doctor", "主治医", 100, false);
    let grade = f
        .text("physical_disability_grade")
        .nfkc()
        .collect::<String>();
    let grade = grade.trim_end_matches('級').to_string();
    if !grade.is_empty() && !PHYSICAL_GRADES.contains(&grade.as_str()) {
        f.fail(
            "physical_disability_grade",
            "not_a_choice",
            "身体障害者手帳の等級は1級から6級で入力してください".to_string(),
        );
    }
    let ryoiku_techo = f.bounded("ryoiku_techo", "療育手帳の区分", 20, false);
    let recipient = f.text("recipient_certificate");
    let recipient_certificate = match recipient.as_str() {
        "" | "no" | "なし" => String::new(),
        "yes" | "あり" => "yes".to_string(),
        other => {
            let message = format!("受給者証の「{other}」は「あり」か「なし」で入力してください");
            f.fail("recipient_certificate", "not_a_choice", message);
            String::new()
        }
    };
    let care_category = f
        .text("care_category")
        .nfkc()
        .collect::<String>()
        .replace("区分", "");
    if !care_category.is_empty() && !CARE_CATEGORIES.contains(&care_category.as_str()) {
        f.fail(
            "care_category",
            "not_a_choice",
            "医療的ケア区分は1・2・3のいずれかで入力してください".to_string(),
        );
    }
    if !care_category.is_empty() && recipient_certificate.is_empty() {
        f.fail(
            "care_category",
            "inconsistent",
            "医療的ケア区分は受給者証が「あり」のときに入力してください".to_string(),
        );
    }
    let attending = f.bounded("attending", "在籍先（保育所・学校など）", 100, false);
    let care = parse_care(form).unwrap_or_else(|errors| {
        f.errors.extend(errors);
        Vec::new()
    });
    let guardians = parse_guardians(&mut f);
    let devices = parse_devices(&mut f);
    let siblings = parse_siblings(&mut f, today);
    match (birth, sex, code) {
        (Some(birth_date), Some(sex), Ok(municipality_code)) if f.errors.is_empty() => {
            Ok(Profile {
                name,
                kana,
                birth_date,
                sex,
                municipality_code,
                address,
                status,
                status_date,
                intake_source,
                intake_date,
                diagnoses,
                hospital,
                doctor,
                physical_disability_grade: grade,
                ryoiku_techo,
                recipient_certificate,
                care_category,
                attending,
                care,
                guardians,
                devices,
                siblings,
            })
        }
        _ => Err(f.errors),
    }
}

fn parse_guardians(f: &mut Fields<'_>) -> Vec<Guardian> {
    let mut list = Vec::new();
    for i in 0..GUARDIAN_ROWS {
        let n = i + 1;
        let key = |k: &str| format!("g{i}_{k}");
        let row_has_anything = ["name", "kana", "relation", "phone", "email"]
            .iter()
            .any(|k| !f.text(&key(k)).is_empty());
        if !row_has_anything {
            continue;
        }
        let name = f.bounded(&key("name"), &format!("保護者{n}の氏名"), 100, true);
        let kana = f.text(&key("kana"));
        if kana.chars().count() > 100 || !is_kana(&kana) {
            let message =
                format!("保護者{n}のふりがなは、ひらがなまたはカタカナで入力してください");
            f.fail(&key("kana"), "format", message);
        }
        let relation = f.bounded(&key("relation"), &format!("保護者{n}の続柄"), 20, true);
        let phone_text = f.text(&key("phone"));
        let phone = normalise_phone(&phone_text).unwrap_or_else(|| {
            let message = format!(
                "保護者{n}の電話番号「{phone_text}」は、数字とハイフンで10〜13桁で入力してください"
            );
            f.fail(&key("phone"), "format", message);
            String::new()
        });
        let email = f.text(&key("email")).nfkc().collect::<String>();
        if !email.is_empty()
            && (email.chars().count() > 254
                || !email.contains('@')
                || email.starts_with('@')
                || email.ends_with('@')
                || email.contains(char::is_whitespace))
        {
            let message = format!("保護者{n}のメールアドレス「{email}」の形式が正しくありません");
            f.fail(&key("email"), "format", message);
        }
        let employment = f.code(
            &key("employment"),
            &format!("保護者{n}の就労状況"),
            &EMPLOYMENTS,
            "unknown",
        );
        let wishes_to_work = f.code(
            &key("wishes_to_work"),
            &format!("保護者{n}の就労希望"),
            &WISHES,
            "unknown",
        );
        list.push(Guardian {
            name,
            kana,
            relation,
            phone,
            email,
            employment,
            wishes_to_work,
        });
    }
    list
}

fn parse_devices(f: &mut Fields<'_>) -> Vec<Device> {
    let mut list = Vec::new();
    for i in 0..DEVICE_ROWS {
        let n = i + 1;
        let key = |k: &str| format!("d{i}_{k}");
        let kind_text = f.text(&key("kind"));
        let others = [
            "power_watts",
            "battery_internal_hours",
            "battery_external_hours",
            "note",
        ]
        .iter()
        .any(|k| !f.text(&key(k)).is_empty());
        if kind_text.is_empty() {
            if others {
                f.fail(
                    &key("kind"),
                    "required",
                    format!("医療機器{n}の種類を選んでください"),
                );
            }
            continue;
        }
        let Some(kind) = DeviceKind::parse(&kind_text) else {
            let message = format!("医療機器{n}の種類「{kind_text}」は選択肢にありません");
            f.fail(&key("kind"), "not_a_choice", message);
            continue;
        };
        let watts_text = f.text(&key("power_watts")).nfkc().collect::<String>();
        let power_watts = if watts_text.is_empty() {
            None
        } else {
            match watts_text
                .trim_end_matches(['W', 'w'])
                .trim()
                .parse::<i64>()
            {
                Ok(w) if (0..=3000).contains(&w) => Some(w),
                _ => {
                    let message = format!(
                        "医療機器{n}の消費電力「{watts_text}」は0〜3000の整数（W）で入力してください"
                    );
                    f.fail(&key("power_watts"), "out_of_range", message);
                    None
                }
            }
        };
        let mut battery = |k: &str, label: &str| {
            let text = f.text(&key(k));
            hours_to_minutes(&text).unwrap_or_else(|()| {
                let message = format!(
                    "医療機器{n}の{label}「{text}」は0〜72の時間数（例 4.5）で入力してください"
                );
                f.fail(&key(k), "out_of_range", message);
                None
            })
        };
        let battery_internal_minutes = battery("battery_internal_hours", "内部バッテリー");
        let battery_external_minutes = battery("battery_external_hours", "外部バッテリー");
        let note = f.bounded(&key("note"), &format!("医療機器{n}の備考"), 200, false);
        list.push(Device {
            kind,
            power_watts,
            battery_internal_minutes,
            battery_external_minutes,
            note,
        });
    }
    list
}

fn parse_siblings(f: &mut Fields<'_>, today: NaiveDate) -> Vec<Sibling> {
    let mut list = Vec::new();
    for i in 0..SIBLING_ROWS {
        let n = i + 1;
        let key = |k: &str| format!("s{i}_{k}");
        if ["name", "birth_date", "note"]
            .iter()
            .all(|k| f.text(&key(k)).is_empty())
        {
            continue;
        }
        let name = f.bounded(&key("name"), &format!("きょうだい{n}の氏名"), 100, true);
        let birth_date = f.date(
            &key("birth_date"),
            &format!("きょうだい{n}の生年月日"),
            today,
        );
        let note = f.bounded(&key("note"), &format!("きょうだい{n}の備考"), 200, false);
        list.push(Sibling {
            name,
            birth_date,
            note,
        });
    }
    list
}

/// The ticked lines of the score sheet with their 見守り level (`care_{line}` and
/// `watch_{line}`; a line is an item, or a kind of 導尿 and 排便管理, each its own line),
/// checked against the score table so an impossible combination is refused with the
/// table's own Japanese message.
pub fn parse_care(form: &HashMap<String, String>) -> Result<Vec<CareEntry>, Vec<FieldError>> {
    let mut entries = Vec::new();
    let mut errors = Vec::new();
    for line in CareLine::all() {
        if !form.contains_key(&format!("care_{}", line.code())) {
            continue;
        }
        let field = format!("watch_{}", line.code());
        let watch = match form.get(&field).map(|v| v.trim()).unwrap_or_default() {
            "" => None,
            t => match Watch::parse(t) {
                Ok(w) => Some(w),
                Err(e) => {
                    errors.push(FieldError::new(field, "not_a_choice", e.to_string()));
                    continue;
                }
            },
        };
        entries.push(CareEntry {
            item: line.item,
            variant: line.variant,
            watch,
        });
    }
    if errors.is_empty()
        && let Err(e) = care::score(&entries, &care::SCORE_TABLE_2021)
    {
        errors.push(FieldError::new("care_items", "inconsistent", e.to_string()));
    }
    if errors.is_empty() {
        Ok(entries)
    } else {
        Err(errors)
    }
}

fn date_text(date: Option<NaiveDate>) -> String {
    date.map(|d| d.format("%Y-%m-%d").to_string())
        .unwrap_or_default()
}

impl Profile {
    /// The flat field map this profile parses from (the form's values when editing).
    pub fn to_fields(&self) -> HashMap<String, String> {
        let mut m = HashMap::new();
        let mut put = |k: String, v: String| {
            m.insert(k, v);
        };
        put("name".into(), self.name.clone());
        put("kana".into(), self.kana.clone());
        put("birth_date".into(), date_text(Some(self.birth_date)));
        put("sex".into(), self.sex.clone());
        put(
            "municipality_code".into(),
            self.municipality_code.to_string(),
        );
        put("address".into(), self.address.clone());
        put("status".into(), self.status.clone());
        put("status_date".into(), date_text(self.status_date));
        put("intake_source".into(), self.intake_source.clone());
        put("intake_date".into(), date_text(self.intake_date));
        put("diagnoses".into(), self.diagnoses.clone());
        put("hospital".into(), self.hospital.clone());
        put("doctor".into(), self.doctor.clone());
        put(
            "physical_disability_grade".into(),
            self.physical_disability_grade.clone(),
        );
        put("ryoiku_techo".into(), self.ryoiku_techo.clone());
        put(
            "recipient_certificate".into(),
            self.recipient_certificate.clone(),
        );
        put("care_category".into(), self.care_category.clone());
        put("attending".into(), self.attending.clone());
        for e in &self.care {
            let line = CareLine::of(e).code();
            put(format!("care_{line}"), "on".into());
            if let Some(w) = e.watch {
                put(format!("watch_{line}"), w.code().into());
            }
        }
        for (i, g) in self.guardians.iter().enumerate() {
            put(format!("g{i}_name"), g.name.clone());
            put(format!("g{i}_kana"), g.kana.clone());
            put(format!("g{i}_relation"), g.relation.clone());
            put(format!("g{i}_phone"), g.phone.clone());
            put(format!("g{i}_email"), g.email.clone());
            put(format!("g{i}_employment"), g.employment.clone());
            put(format!("g{i}_wishes_to_work"), g.wishes_to_work.clone());
        }
        for (i, d) in self.devices.iter().enumerate() {
            put(format!("d{i}_kind"), d.kind.code().into());
            put(
                format!("d{i}_power_watts"),
                d.power_watts.map(|w| w.to_string()).unwrap_or_default(),
            );
            put(
                format!("d{i}_battery_internal_hours"),
                minutes_to_hours(d.battery_internal_minutes),
            );
            put(
                format!("d{i}_battery_external_hours"),
                minutes_to_hours(d.battery_external_minutes),
            );
            put(format!("d{i}_note"), d.note.clone());
        }
        for (i, s) in self.siblings.iter().enumerate() {
            put(format!("s{i}_name"), s.name.clone());
            put(format!("s{i}_birth_date"), date_text(s.birth_date));
            put(format!("s{i}_note"), s.note.clone());
        }
        m
    }

    pub fn score(&self) -> Result<care::Score, care::CareError> {
        care::score(&self.care, &care::SCORE_TABLE_2021)
    }

    /// Every field in words, in the order the profile shows them, for comparing.
    /// The keys of the fields that hold something (a new record's audit entry names them).
    pub fn filled_fields(&self) -> Vec<String> {
        self.described()
            .into_iter()
            .filter(|(_, _, v)| !v.is_empty())
            .map(|(f, _, _)| f.to_string())
            .collect()
    }

    pub fn described(&self) -> Vec<(&'static str, &'static str, String)> {
        let care = self
            .care
            .iter()
            .map(|e| {
                let mut s = e.item.label_ja().to_string();
                if let Some(v) = e.variant {
                    s.push_str(&format!("（{}）", v.label_ja()));
                }
                if let Some(w) = e.watch {
                    s.push_str(&format!("［見守り{}］", w.label_ja()));
                }
                s
            })
            .collect::<Vec<_>>()
            .join("、");
        let guardians = self
            .guardians
            .iter()
            .map(|g| {
                format!(
                    "{}（{}）{} {} {} 就労:{} 希望:{}",
                    g.name,
                    g.relation,
                    g.kana,
                    g.phone,
                    g.email,
                    label_of(&EMPLOYMENTS, &g.employment),
                    label_of(&WISHES, &g.wishes_to_work)
                )
            })
            .collect::<Vec<_>>()
            .join(" / ");
        let devices = self
            .devices
            .iter()
            .map(|d| {
                // Only what is known, in words: 「人工呼吸器（消費電力 80W・内部バッテリー 8時間）」,
                // never an empty 「外部h」.
                let mut known = Vec::new();
                if let Some(w) = d.power_watts {
                    known.push(format!("消費電力 {w}W"));
                }
                for (label, minutes) in [
                    ("内部バッテリー", d.battery_internal_minutes),
                    ("外部バッテリー", d.battery_external_minutes),
                ] {
                    if minutes.is_some() {
                        known.push(format!("{label} {}時間", minutes_to_hours(minutes)));
                    }
                }
                if !d.note.is_empty() {
                    known.push(d.note.clone());
                }
                if known.is_empty() {
                    d.kind.label_ja().to_string()
                } else {
                    format!("{}（{}）", d.kind.label_ja(), known.join("・"))
                }
            })
            .collect::<Vec<_>>()
            .join(" / ");
        let siblings = self
            .siblings
            .iter()
            .map(|s| {
                format!("{} {} {}", s.name, date_text(s.birth_date), s.note)
                    .trim()
                    .to_string()
            })
            .collect::<Vec<_>>()
            .join(" / ");
        vec![
            ("name", label("name"), self.name.clone()),
            ("kana", label("kana"), self.kana.clone()),
            (
                "birth_date",
                label("birth_date"),
                date_text(Some(self.birth_date)),
            ),
            ("sex", label("sex"), label_of(&SEXES, &self.sex).to_string()),
            (
                "municipality_code",
                label("municipality_code"),
                self.municipality_code.to_string(),
            ),
            ("address", label("address"), self.address.clone()),
            (
                "status",
                label("status"),
                label_of(&STATUSES, &self.status).to_string(),
            ),
            (
                "status_date",
                label("status_date"),
                date_text(self.status_date),
            ),
            (
                "intake_source",
                label("intake_source"),
                label_of(&INTAKE_SOURCES, &self.intake_source).to_string(),
            ),
            (
                "intake_date",
                label("intake_date"),
                date_text(self.intake_date),
            ),
            ("diagnoses", label("diagnoses"), self.diagnoses.clone()),
            ("hospital", label("hospital"), self.hospital.clone()),
            ("doctor", label("doctor"), self.doctor.clone()),
            (
                "physical_disability_grade",
                label("physical_disability_grade"),
                if self.physical_disability_grade.is_empty() {
                    String::new()
                } else {
                    format!("{}級", self.physical_disability_grade)
                },
            ),
            (
                "ryoiku_techo",
                label("ryoiku_techo"),
                self.ryoiku_techo.clone(),
            ),
            (
                "recipient_certificate",
                label("recipient_certificate"),
                if self.recipient_certificate == "yes" {
                    "あり".into()
                } else {
                    String::new()
                },
            ),
            (
                "care_category",
                label("care_category"),
                if self.care_category.is_empty() {
                    String::new()
                } else {
                    format!("区分{}", self.care_category)
                },
            ),
            ("attending", label("attending"), self.attending.clone()),
            ("care_items", label("care_items"), care),
            ("guardians", label("guardians"), guardians),
            ("devices", label("devices"), devices),
            ("siblings", label("siblings"), siblings),
        ]
    }

    /// What differs from `before`, field by field.
    pub fn changes_from(&self, before: &Profile) -> Vec<Change> {
        before
            .described()
            .into_iter()
            .zip(self.described())
            .filter(|((_, _, old), (_, _, new))| old != new)
            .map(|((field, label, old), (_, _, new))| Change {
                field: field.to_string(),
                label: label.to_string(),
                before: old,
                after: new,
            })
            .collect()
    }
}

/// Members of a guardian row and a device row that a family may propose, with their
/// labels (the form's `g{n}_…` and `d{n}_…` fields).
const GUARDIAN_MEMBERS: [(&str, &str); 7] = [
    ("name", "氏名"),
    ("kana", "ふりがな"),
    ("relation", "続柄"),
    ("phone", "電話番号"),
    ("email", "メールアドレス"),
    ("employment", "就労の状況"),
    ("wishes_to_work", "就労の希望"),
];
const DEVICE_MEMBERS: [(&str, &str); 5] = [
    ("kind", "種類"),
    ("power_watts", "消費電力（W）"),
    ("battery_internal_hours", "内部バッテリー（時間）"),
    ("battery_external_hours", "外部バッテリー（時間）"),
    ("note", "メモ"),
];

/// Every field a guardian may propose a change to: the address, the guardians' contact and
/// work, the care items (ticked, 見守り, kind) and the devices. Staff confirm a proposal
/// before it changes the record. Built once: proposals and their decisions ask often.
pub fn proposable_keys() -> &'static [String] {
    static KEYS: std::sync::LazyLock<Vec<String>> = std::sync::LazyLock::new(|| {
        let mut keys = vec!["address".to_string()];
        for line in CareLine::all() {
            for prefix in ["care", "watch"] {
                keys.push(format!("{prefix}_{}", line.code()));
            }
        }
        for i in 0..GUARDIAN_ROWS {
            keys.extend(GUARDIAN_MEMBERS.iter().map(|(m, _)| format!("g{i}_{m}")));
        }
        for i in 0..DEVICE_ROWS {
            keys.extend(DEVICE_MEMBERS.iter().map(|(m, _)| format!("d{i}_{m}")));
        }
        keys
    });
    &KEYS
}

pub fn proposable_field(key: &str) -> bool {
    proposable_keys().iter().any(|k| k == key)
}

/// The proposable fields of a field map, each present (an unticked care item or an empty
/// row is ""), trimmed, a ticked care item as "on": two maps compare field by field.
pub fn proposable_values(
    fields: &HashMap<String, String>,
) -> std::collections::BTreeMap<String, String> {
    proposable_keys()
        .iter()
        .map(|key| {
            let raw = fields.get(key).map(|v| v.trim()).unwrap_or_default();
            let member = key.split_once('_').map_or("", |(_, m)| m);
            let value = if key.starts_with("care_") && !raw.is_empty() {
                "on".to_string()
            } else if key.starts_with('g')
                && (member == "employment" || member == "wishes_to_work")
                && raw == "unknown"
            {
                // 未確認 is what an empty choice is read as (the form preselects it).
                String::new()
            } else {
                raw.to_string()
            };
            (key.clone(), value)
        })
        .collect()
}

/// A field's name as people read it (「保護者1の電話番号」「医療的ケア：吸引の見守り」).
pub fn field_label(key: &str) -> String {
    if key == "address" {
        return "住所".to_string();
    }
    for (prefix, what) in [("care_", ""), ("watch_", "の見守り")] {
        if let Some(line) = key.strip_prefix(prefix).and_then(CareLine::parse) {
            return format!("医療的ケア：{}{what}", line.label_ja());
        }
    }
    let row = |prefix: char, noun: &str, members: &[(&str, &str)]| {
        let (n, member) = key.strip_prefix(prefix)?.split_once('_')?;
        let n: usize = n.parse().ok()?;
        let (_, label) = members.iter().find(|(m, _)| *m == member)?;
        Some(format!("{noun}{}の{label}", n + 1))
    };
    row('g', "保護者", &GUARDIAN_MEMBERS)
        .or_else(|| row('d', "医療機器", &DEVICE_MEMBERS))
        .unwrap_or_else(|| key.to_string())
}

/// A field's value as people read it: labels for codes, 「あり」 for a ticked item,
/// 「（なし）」 for nothing.
pub fn shown_value(key: &str, value: &str) -> String {
    if value.is_empty() {
        return "（なし）".to_string();
    }
    let member = key.split_once('_').map_or("", |(_, m)| m);
    let coded = if key.starts_with("care_") {
        Some("あり".to_string())
    } else if key.starts_with("watch_") {
        Watch::parse(value).ok().map(|w| w.label_ja().to_string())
    } else if key.starts_with('g') && member == "employment" {
        Some(label_of(&EMPLOYMENTS, value).to_string())
    } else if key.starts_with('g') && member == "wishes_to_work" {
        Some(label_of(&WISHES, value).to_string())
    } else if key.starts_with('d') && member == "kind" {
        DeviceKind::ALL
            .iter()
            .find(|k| k.code() == value)
            .map(|k| k.label_ja().to_string())
    } else {
        None
    };
    coded
        .filter(|label| !label.is_empty())
        .unwrap_or_else(|| value.to_string())
}

/// What a family changed in a proposal: the proposed value of each proposable field that
/// differs from what they saw, and what they saw there.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FamilyChange {
    pub proposed: HashMap<String, String>,
    pub seen: std::collections::BTreeMap<String, String>,
}

impl FamilyChange {
    /// `seen` is every proposable field as the family saw it (`proposable_values`);
    /// `submitted` is the form they sent (a field it lacks is empty: an unticked box).
    pub fn between(
        seen: &std::collections::BTreeMap<String, String>,
        submitted: &HashMap<String, String>,
    ) -> FamilyChange {
        let mut change = FamilyChange::default();
        for (key, after) in proposable_values(submitted) {
            let before = seen.get(&key).cloned().unwrap_or_default();
            if before != after {
                change.proposed.insert(key.clone(), after);
                change.seen.insert(key, before);
            }
        }
        change
    }
}

/// Lays proposed values over a record's fields: a value replaces the field, an empty one
/// clears it (an unticked care item is an absent field).
pub fn apply_fields(fields: &mut HashMap<String, String>, proposed: &HashMap<String, String>) {
    for (key, value) in proposed {
        if value.is_empty() {
            fields.remove(key);
        } else {
            fields.insert(key.clone(), value.clone());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn devices_are_described_in_words_without_empty_units() {
        let mut p = parse(
            &form(&[
                ("name", "機器 テスト"),
                ("kana", "きき てすと"),
                ("birth_date", "2020-04-02"),
                ("sex", "female"),
                ("municipality_code", "131199"),
                ("d0_kind", "ventilator"),
                ("d0_power_watts", "80"),
                ("d0_battery_internal_hours", "8"),
                ("d1_kind", "pulse_oximeter"),
            ]),
            today(),
        )
        .unwrap();
        let devices = |p: &Profile| {
            p.described()
                .into_iter()
                .find(|(k, _, _)| *k == "devices")
                .map(|(_, _, v)| v)
                .unwrap()
        };
        let text = devices(&p);
        assert_eq!(
            text,
            "人工呼吸器（消費電力 80W・内部バッテリー 8時間） / パルスオキシメーター"
        );
        assert!(!text.contains("外部") && !text.contains("h "), "{text}");
        p.devices.clear();
        assert_eq!(devices(&p), "");
    }

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, 21).unwrap()
    }

    fn form(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn minimal() -> Vec<(&'static str, &'static str)> {
        vec![
            ("name", "山田 はると"),
            ("kana", "やまだ はると"),
            ("birth_date", "2022-06-14"),
            ("sex", "male"),
            ("municipality_code", "131199"),
        ]
    }

    #[test]
    fn a_minimal_profile_parses_with_defaults() {
        let p = parse(&form(&minimal()), today()).unwrap();
        assert_eq!(p.status, "active");
        // An optional choice left empty stays empty (it is not 保健センター).
        assert_eq!(p.intake_source, "");
        assert!(p.guardians.is_empty() && p.devices.is_empty());
    }

    #[test]
    fn every_problem_is_named_at_once() {
        let mut f = minimal();
        f.retain(|(k, _)| *k != "name");
        f.push(("birth_date", "2027-01-01"));
        f.push(("status", "moved_out"));
        f.push(("g0_name", "山田 花子"));
        f.push(("g0_phone", "03-1234"));
        f.push(("d0_kind", "人工呼吸器"));
        f.push(("d0_battery_internal_hours", "100"));
        f.push(("d1_power_watts", "40"));
        f.push(("care_category", "2"));
        let errors = parse(&form(&f), today()).unwrap_err();
        let all = errors
            .iter()
            .map(|e| e.message.as_str())
            .collect::<Vec<_>>()
            .join("\n");
        for expected in [
            "氏名を入力してください",
            "生年月日が未来の日付",
            "「転出」にするときは",
            "保護者1の続柄を入力してください",
            "保護者1の電話番号「03-1234」",
            "医療機器1の内部バッテリー「100」",
            "医療機器2の種類を選んでください",
            "受給者証が「あり」のとき",
        ] {
            assert!(all.contains(expected), "missing {expected} in {all}");
        }
    }

    #[test]
    fn full_width_and_slashes_are_accepted() {
        let mut f = minimal();
        f.push(("birth_date", "２０２２/６/１４"));
        f.push(("g0_name", "山田 花子"));
        f.push(("g0_relation", "母"));
        f.push(("g0_phone", "０９０ー１２３４ー５６７８"));
        f.push(("g0_wishes_to_work", "就労を希望"));
        f.push(("d0_kind", "ventilator"));
        f.push(("d0_battery_internal_hours", "４．５"));
        f.push(("d0_power_watts", "45W"));
        let p = parse(&form(&f), today()).unwrap();
        assert_eq!(p.birth_date, NaiveDate::from_ymd_opt(2022, 6, 14).unwrap());
        assert_eq!(p.guardians[0].phone, "090-1234-5678");
        assert_eq!(p.guardians[0].wishes_to_work, "yes");
        assert_eq!(p.devices[0].battery_internal_minutes, Some(270));
        assert_eq!(p.devices[0].power_watts, Some(45));
    }

    #[test]
    fn fields_round_trip_and_changes_are_named() {
        let mut f = minimal();
        f.push(("care_ventilator", "on"));
        f.push(("watch_ventilator", "high"));
        f.push(("g0_name", "山田 花子"));
        f.push(("g0_relation", "母"));
        f.push(("d0_kind", "ventilator"));
        f.push(("d0_battery_internal_hours", "4.5"));
        let p = parse(&form(&f), today()).unwrap();
        let again = parse(&p.to_fields(), today()).unwrap();
        assert_eq!(p, again);
        let mut changed = p.clone();
        changed.address = "板橋区板橋1-1".into();
        changed.guardians[0].phone = "03-1234-5678".into();
        let changes = changed.changes_from(&p);
        let fields: Vec<_> = changes.iter().map(|c| c.field.as_str()).collect();
        assert_eq!(fields, ["address", "guardians"]);
        assert_eq!(changes[0].after, "板橋区板橋1-1");
    }
}
