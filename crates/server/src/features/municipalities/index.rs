//! The municipality list held in memory for search. It is reference data built from the
//! same snapshot the database is loaded from, identical in every instance and never
//! changed at run time, so keeping it in memory breaks nothing when a second instance
//! runs. A scan of ~2,000 short keys in Rust takes microseconds; the same `LIKE '%…%'`
//! in SQL took milliseconds on both backends (docs/PERFORMANCE.md).

use std::collections::HashMap;
use std::sync::LazyLock;

use tsunagu_core::kana::search_key;

use super::reference;
use serde::Serialize;

#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq, utoipa::ToSchema)]
pub struct Municipality {
    /// 全国地方公共団体コード（6桁、検査数字つき）
    #[schema(pattern = "^[0-9]{6}$", example = "131199")]
    pub code: String,
    #[schema(pattern = "^[0-9]{2}$")]
    pub prefecture_code: String,
    pub prefecture_name: String,
    #[schema(example = "板橋区")]
    pub name: String,
    #[schema(example = "いたばしく")]
    pub kana: String,
    #[schema(schema_with = kind_schema)]
    pub kind: String,
    /// 政令指定都市の行政区のとき、その市の団体コード
    pub parent_code: Option<String>,
    /// 参照データの後に新設されたコードのとき、使われ始めた日
    #[serde(skip_serializing_if = "Option::is_none")]
    pub valid_from: Option<chrono::NaiveDate>,
    /// 廃止されたコードのとき、最後に使われた日（古い記録やファイルのために残しています）
    #[serde(skip_serializing_if = "Option::is_none")]
    pub valid_until: Option<chrono::NaiveDate>,
    /// 廃止されたコードのとき、引き継いだ団体コード
    #[schema(pattern = "^[0-9]{6}$")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub successor_code: Option<String>,
    /// 引き継ぎについての注記（一部の地区は別の区へ、など）
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// The kinds a municipality has, with how people read them.
pub const KINDS: [(&str, &str); 7] = [
    ("prefecture", "都道府県"),
    ("designated_city", "政令指定都市"),
    ("city", "市"),
    ("special_ward", "特別区"),
    ("ward", "行政区"),
    ("town", "町"),
    ("village", "村"),
];

fn kind_schema() -> utoipa::openapi::Object {
    crate::web::api_schema::choice(&KINDS, "団体の種類")
}

impl Municipality {
    /// The last day of a retired code in 和暦 (「令和5年12月31日」), "" for one in use.
    pub fn until_ja(&self) -> String {
        self.valid_until
            .map(tsunagu_core::calendar::format_wareki_with_seireki)
            .unwrap_or_default()
    }

    /// 「令和5年12月31日まで・現 浜松市中央区」 for a retired code in a list, "" otherwise.
    pub fn retired_ja(&self) -> String {
        if self.valid_until.is_none() {
            return String::new();
        }
        match self.successor_code.as_deref().map(name_of) {
            Some(successor) if !successor.is_empty() => {
                format!("{}まで・現 {successor}", self.until_ja())
            }
            _ => format!("{}まで", self.until_ja()),
        }
    }

    /// The kind as people read it.
    pub fn kind_ja(&self) -> &'static str {
        KINDS
            .iter()
            .find(|(code, _)| *code == self.kind)
            .map_or("その他", |(_, label)| label)
    }
}

/// What to look for. Empty text and no prefecture lists everything, in code order.
#[derive(Debug, Clone, Default)]
pub struct Search {
    pub text: String,
    pub prefecture_code: Option<String>,
    pub limit: i64,
    pub offset: i64,
}

#[derive(Debug, Clone, Serialize)]
pub struct SearchPage {
    pub items: Vec<Municipality>,
    pub total: i64,
}

struct Entry {
    municipality: Municipality,
    key: String,
    /// What a record with this code shows: the name, and for a retired code what took over
    /// (「浜松市中区（現 浜松市中央区）」).
    shown: String,
}

static INDEX: LazyLock<Vec<Entry>> = LazyLock::new(|| match reference::municipalities() {
    Ok(mut records) => {
        records.sort_by(|a, b| a.code.cmp(&b.code));
        let prefecture_names: HashMap<String, String> = records
            .iter()
            .filter(|r| r.kind == "prefecture")
            .map(|r| (r.prefecture_code.clone(), r.name.clone()))
            .collect();
        let names: HashMap<String, String> = records
            .iter()
            .map(|r| (r.code.clone(), r.name.clone()))
            .collect();
        let date = |text: &str| chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d").ok();
        let optional = |text: String| (!text.is_empty()).then_some(text);
        records
            .into_iter()
            .map(|r| Entry {
                key: search_key(&format!("{} {} {}", r.name, r.kana, r.code)),
                shown: match names.get(&r.successor_code) {
                    Some(successor) => format!("{}（現 {successor}）", r.name),
                    None => r.name.clone(),
                },
                municipality: Municipality {
                    prefecture_name: prefecture_names
                        .get(&r.prefecture_code)
                        .cloned()
                        .unwrap_or_default(),
                    parent_code: optional(r.parent_code),
                    valid_from: date(&r.valid_from),
                    valid_until: date(&r.valid_until),
                    successor_code: optional(r.successor_code),
                    note: optional(r.note),
                    code: r.code,
                    prefecture_code: r.prefecture_code,
                    name: r.name,
                    kana: r.kana,
                    kind: r.kind,
                },
            })
            .collect()
    }
    // The same snapshot is parsed by `migrate` before the server starts, which stops on
    // a broken one; an empty index here is only reachable in a broken build.
    Err(err) => {
        tracing::error!(error = %err, "municipality snapshot unreadable");
        Vec::new()
    }
});

/// Same semantics as the SQL it replaces: folded text anywhere in name, kana or code,
/// optional prefecture, code order, a page and the total.
pub fn search(search: &Search) -> SearchPage {
    let key = search_key(&search.text);
    let prefecture = search.prefecture_code.as_deref();
    let matches = INDEX
        .iter()
        .filter(|e| prefecture.is_none_or(|p| e.municipality.prefecture_code == p))
        .filter(|e| e.key.contains(&key));
    let mut total = 0i64;
    let mut items = Vec::new();
    let offset = usize::try_from(search.offset).unwrap_or(0);
    let limit = usize::try_from(search.limit).unwrap_or(0);
    for (i, entry) in matches.enumerate() {
        total += 1;
        if i >= offset && items.len() < limit {
            items.push(entry.municipality.clone());
        }
    }
    SearchPage { items, total }
}

/// The municipalities (not prefectures) named `text` — 「板橋区」, or with their prefecture,
/// 「東京都板橋区」 — in code order. Names repeat across prefectures (府中市, 伊達市), so a
/// caller that wants one must handle several.
pub fn by_name(text: &str) -> Vec<Municipality> {
    let wanted: String = text.chars().filter(|c| !c.is_whitespace()).collect();
    if wanted.is_empty() {
        return Vec::new();
    }
    INDEX
        .iter()
        .map(|e| &e.municipality)
        .filter(|m| m.kind != "prefecture")
        .filter(|m| m.name == wanted || format!("{}{}", m.prefecture_name, m.name) == wanted)
        .cloned()
        .collect()
}

pub fn get(code: &str) -> Option<Municipality> {
    INDEX
        .binary_search_by(|e| e.municipality.code.as_str().cmp(code))
        .ok()
        .and_then(|i| INDEX.get(i))
        .map(|e| e.municipality.clone())
}

/// The name of the municipality with this code ("" for a code not in the snapshot), without
/// copying the entry: lists name every child's municipality this way instead of joining
/// the table for each row. A retired code's name says what took over.
pub fn name_of(code: &str) -> &'static str {
    INDEX
        .binary_search_by(|e| e.municipality.code.as_str().cmp(code))
        .map_or("", |i| INDEX[i].shown.as_str())
}

/// The municipalities of a prefecture (two digits) in use on `day`, by code: cities,
/// special wards, towns and villages, a designated city as one (not its wards).
pub fn in_prefecture(prefecture: &str, day: chrono::NaiveDate) -> Vec<Municipality> {
    INDEX
        .iter()
        .map(|e| &e.municipality)
        .filter(|m| m.prefecture_code == prefecture)
        .filter(|m| m.kind != "prefecture" && m.kind != "ward")
        .filter(|m| m.valid_from.is_none_or(|d| d <= day))
        .filter(|m| m.valid_until.is_none_or(|d| d >= day))
        .cloned()
        .collect()
}

/// The city a designated city's ward belongs to, without copying the entry.
pub fn parent_of(code: &str) -> Option<&'static str> {
    INDEX
        .binary_search_by(|e| e.municipality.code.as_str().cmp(code))
        .ok()
        .and_then(|i| INDEX[i].municipality.parent_code.as_deref())
}

pub fn prefectures() -> Vec<Municipality> {
    INDEX
        .iter()
        .filter(|e| e.municipality.kind == "prefecture")
        .map(|e| e.municipality.clone())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn search_matches_the_sql_semantics() {
        let page = search(&Search {
            text: "ｲﾀﾊﾞｼ".into(),
            prefecture_code: None,
            limit: 10,
            offset: 0,
        });
        assert_eq!(page.total, 1);
        assert_eq!(page.items[0].code, "131199");
        assert_eq!(page.items[0].prefecture_name, "東京都");
        let tokyo = search(&Search {
            text: String::new(),
            prefecture_code: Some("13".into()),
            limit: 10,
            offset: 10,
        });
        assert_eq!(tokyo.total, 63);
        assert_eq!(tokyo.items.len(), 10);
        assert_eq!(
            search(&Search {
                text: "%".into(),
                prefecture_code: None,
                limit: 10,
                offset: 0
            })
            .total,
            0
        );
        assert_eq!(get("011002").unwrap().name, "札幌市");
        assert!(get("131989").is_none());
        assert_eq!(prefectures().len(), 47);
    }
}
