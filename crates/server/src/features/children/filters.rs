//! The list filters as they arrive in a URL (pages, export and API share them): checked,
//! with a Japanese message for a value that is not one of the choices.

use std::collections::HashMap;

use chrono::{Months, NaiveDate};
use tsunagu_core::calendar::{births_for_class_ages, fiscal_year};
use tsunagu_core::care::{CareItem, Tier};
use tsunagu_core::device::DeviceKind;
use tsunagu_core::municipality::MunicipalityCode;

use super::profile::STATUSES;
use super::repo::ListFilter;
use crate::error::AppError;
use crate::web::params;

/// Age bands by age today: (code, label, youngest, oldest).
pub const AGE_BANDS: [(&str, &str, u32, u32); 6] = [
    ("0-2", "0〜2歳", 0, 2),
    ("3-5", "3〜5歳", 3, 5),
    ("6-11", "6〜11歳", 6, 11),
    ("12-14", "12〜14歳", 12, 14),
    ("15-17", "15〜17歳", 15, 17),
    ("18-", "18歳以上", 18, 200),
];

/// Life stages by class age in this 年度: (code, label, youngest, oldest).
pub const STAGES: [(&str, &str, i32, i32); 5] = [
    ("preschool", "未就学", -5, 5),
    ("elementary", "小学生", 6, 11),
    ("junior_high", "中学生", 12, 14),
    ("upper_secondary", "高校生・高等部", 15, 17),
    ("after_school", "卒後", 18, 200),
];

/// The filter and the raw values to show back in the form.
#[derive(Debug, Clone, Default)]
pub struct Chosen {
    pub filter: ListFilter,
    pub values: HashMap<String, String>,
}

impl Chosen {
    pub fn value(&self, key: &str) -> &str {
        self.values.get(key).map(String::as_str).unwrap_or("")
    }

    /// The chosen filters as a query string (for pagination and export links).
    pub fn query_string(&self) -> String {
        let mut keys: Vec<_> = self.values.iter().filter(|(_, v)| !v.is_empty()).collect();
        keys.sort();
        keys.iter()
            .map(|(k, v)| format!("{k}={}", params::url_encode(v)))
            .collect::<Vec<_>>()
            .join("&")
    }

    /// For the audit entry of an export: what was filtered on.
    pub fn describe(&self) -> String {
        let q = self.query_string();
        if q.is_empty() {
            "filter=none".into()
        } else {
            q
        }
    }
}

fn choice<'a>(
    q: &'a HashMap<String, String>,
    key: &str,
    label: &str,
    ok: impl Fn(&str) -> bool,
) -> Result<&'a str, AppError> {
    let value = q.get(key).map(|v| v.trim()).unwrap_or("");
    if value.is_empty() || ok(value) {
        Ok(value)
    } else {
        Err(AppError::BadRequest(format!(
            "{label}「{value}」は選択肢にありません"
        )))
    }
}

fn years_before(today: NaiveDate, years: u32) -> NaiveDate {
    today
        .checked_sub_months(Months::new(years.saturating_mul(12)))
        .unwrap_or(NaiveDate::MIN)
}

/// A municipality given by name (「板橋区」「東京都府中市」): its code, or a message that names
/// the candidates when the name is not unique, or says it is not a municipality's name.
fn town_named(name: &str) -> Result<String, AppError> {
    let found = crate::features::municipalities::repo::by_name(name);
    match found.as_slice() {
        [one] => Ok(one.code.clone()),
        [] => Err(AppError::BadRequest(format!(
            "市区町村「{name}」は見つかりません。名前（板橋区、東京都府中市）か団体コードで指定してください"
        ))),
        several => Err(AppError::BadRequest(format!(
            "市区町村「{name}」は複数あります（{}）。都道府県名をつけるか、団体コードで指定してください",
            several
                .iter()
                .map(|m| format!("{}{}：{}", m.prefecture_name, m.name, m.code))
                .collect::<Vec<_>>()
                .join("、")
        ))),
    }
}

pub fn parse(q: &HashMap<String, String>, today: NaiveDate) -> Result<Chosen, AppError> {
    let text = params::search_text(q.get("q").map(String::as_str))?;
    let municipality = match q.get("municipality").map(|v| v.trim()).unwrap_or("") {
        "" => String::new(),
        raw if raw.chars().any(|c| !c.is_ascii_digit() && !c.is_numeric()) => town_named(raw)?,
        raw => MunicipalityCode::parse(raw)
            .map_err(|e| AppError::BadRequest(format!("市区町村: {e}")))?
            .to_string(),
    };
    let care_item = choice(q, "care_item", "医療的ケア", |v| {
        CareItem::parse(v).is_ok()
    })?;
    let device = choice(q, "device", "医療機器", |v| {
        DeviceKind::ALL.iter().any(|k| k.code() == v)
    })?;
    let tier = choice(q, "tier", "スコア区分", |v| Tier::parse(v).is_some())?;
    let age = choice(q, "age", "年齢", |v| AGE_BANDS.iter().any(|b| b.0 == v))?;
    let stage = choice(q, "stage", "ライフステージ", |v| {
        STAGES.iter().any(|s| s.0 == v)
    })?;
    let status = choice(q, "status", "状態", |v| STATUSES.iter().any(|s| s.0 == v))?;
    let wishes = choice(q, "wishes_to_work", "就労希望", |v| v == "yes")?;
    let mut born_from: Option<NaiveDate> = None;
    let mut born_to: Option<NaiveDate> = None;
    let mut narrow = |from: NaiveDate, to: NaiveDate| {
        born_from = Some(born_from.map_or(from, |f| f.max(from)));
        born_to = Some(born_to.map_or(to, |t| t.min(to)));
    };
    if let Some(&(_, _, youngest, oldest)) = AGE_BANDS.iter().find(|b| b.0 == age) {
        // Aged `youngest` today: born on or before today − youngest years; not yet
        // `oldest + 1`: born after today − (oldest + 1) years.
        let from = years_before(today, oldest.saturating_add(1))
            .succ_opt()
            .unwrap_or(NaiveDate::MIN);
        narrow(from, years_before(today, youngest));
    }
    if let Some(&(_, _, youngest, oldest)) = STAGES.iter().find(|s| s.0 == stage) {
        let (from, to) = births_for_class_ages(fiscal_year(today), youngest, oldest);
        narrow(from, to);
    }
    let date = |d: Option<NaiveDate>| d.map(crate::db::codec::date_to_db).unwrap_or_default();
    let filter = ListFilter {
        text: text.clone(),
        municipality: municipality.clone(),
        care_item: care_item
            .parse::<CareItem>()
            .map(|c| c.code().to_string())
            .unwrap_or_default(),
        device: device.to_string(),
        tier: tier.to_string(),
        born_from: date(born_from),
        born_to: date(born_to),
        status: status.to_string(),
        wishes_to_work: wishes.to_string(),
    };
    let values = [
        ("q", text),
        ("municipality", municipality),
        ("care_item", filter.care_item.clone()),
        ("device", device.to_string()),
        ("tier", tier.to_string()),
        ("age", age.to_string()),
        ("stage", stage.to_string()),
        ("status", status.to_string()),
        ("wishes_to_work", wishes.to_string()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect();
    Ok(Chosen { filter, values })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, 21).unwrap()
    }

    #[test]
    fn age_bands_become_birth_ranges() {
        let chosen = parse(&q(&[("age", "3-5")]), today()).unwrap();
        assert_eq!(chosen.filter.born_from, "2020-11-22");
        assert_eq!(chosen.filter.born_to, "2023-11-21");
    }

    #[test]
    fn stages_follow_the_school_year() {
        let chosen = parse(&q(&[("stage", "elementary")]), today()).unwrap();
        assert_eq!(chosen.filter.born_from, "2014-04-02");
        assert_eq!(chosen.filter.born_to, "2020-04-01");
    }

    #[test]
    fn unknown_choices_are_refused_in_japanese() {
        let err = parse(&q(&[("care_item", "magic")]), today()).unwrap_err();
        assert!(
            err.to_string()
                .contains("医療的ケア「magic」は選択肢にありません")
        );
        assert!(parse(&q(&[("municipality", "131190")]), today()).is_err());
        assert!(parse(&q(&[("tier", "tier99")]), today()).is_err());
    }

    #[test]
    fn the_query_string_carries_the_choices() {
        let chosen = parse(&q(&[("care_item", "ventilator"), ("q", "やまだ")]), today()).unwrap();
        assert_eq!(
            chosen.query_string(),
            "care_item=ventilator&q=%E3%82%84%E3%81%BE%E3%81%A0"
        );
    }
}
