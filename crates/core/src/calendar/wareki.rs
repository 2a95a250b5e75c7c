//! 和暦: era names and years, shown beside 西暦 on pages people read.

use chrono::{Datelike, NaiveDate};
use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub enum Era {
    Meiji,
    Taisho,
    Showa,
    Heisei,
    Reiwa,
}

/// Each era with the first day we count in it, newest first.
/// The change-over days belong to the new era (大正 began on 1912-07-30, the day 明治
/// ended). 明治 formally began in 1868, but Japan used the lunar calendar until
/// 1872-12-02 (旧暦), so only Gregorian dates from 1873-01-01 (明治6年) map to an era.
const ERAS: [(Era, i32, u32, u32); 5] = [
    (Era::Reiwa, 2019, 5, 1),
    (Era::Heisei, 1989, 1, 8),
    (Era::Showa, 1926, 12, 25),
    (Era::Taisho, 1912, 7, 30),
    (Era::Meiji, 1873, 1, 1),
];

impl Era {
    pub fn name_ja(&self) -> &'static str {
        match self {
            Era::Meiji => "明治",
            Era::Taisho => "大正",
            Era::Showa => "昭和",
            Era::Heisei => "平成",
            Era::Reiwa => "令和",
        }
    }

    /// The 西暦 year that is the era's 元年.
    pub fn first_year(&self) -> i32 {
        match self {
            Era::Meiji => 1868,
            Era::Taisho => 1912,
            Era::Showa => 1926,
            Era::Heisei => 1989,
            Era::Reiwa => 2019,
        }
    }
}

/// The era and era year of `date`, or `None` before 1873-01-01.
pub fn era_of(date: NaiveDate) -> Option<(Era, i32)> {
    ERAS.iter()
        .find(|&&(_, y, m, d)| NaiveDate::from_ymd_opt(y, m, d).is_some_and(|start| date >= start))
        .map(|&(era, _, _, _)| (era, date.year() - era.first_year() + 1))
}

/// 「令和7年4月1日」, with 「元年」 for the first year; plain 西暦 before 1873.
pub fn format_wareki(date: NaiveDate) -> String {
    match era_of(date) {
        Some((era, year)) => format!(
            "{}{}{}月{}日",
            era.name_ja(),
            year_ja(year),
            date.month(),
            date.day()
        ),
        None => format_seireki(date),
    }
}

/// 「令和7年4月1日（2025年）」: 和暦 first, 西暦 year beside it.
pub fn format_wareki_with_seireki(date: NaiveDate) -> String {
    match era_of(date) {
        Some(_) => format!("{}（{}年）", format_wareki(date), date.year()),
        None => format_seireki(date),
    }
}

/// 「令和8年度（2026年度）」: the era of the 年度's April 1 (平成31年度 ran into 令和).
pub fn format_fiscal_year(fy: i32) -> String {
    match NaiveDate::from_ymd_opt(fy, 4, 1).and_then(era_of) {
        Some((era, year)) => format!("{}{}度（{fy}年度）", era.name_ja(), year_ja(year)),
        None => format!("{fy}年度"),
    }
}

fn year_ja(year: i32) -> String {
    if year == 1 {
        "元年".to_string()
    } else {
        format!("{year}年")
    }
}

fn format_seireki(date: NaiveDate) -> String {
    format!("{}年{}月{}日", date.year(), date.month(), date.day())
}

/// A date as people write it on Japanese forms and spreadsheets: 2023-04-01, 2023/4/1,
/// 2023.4.1, 2023年4月1日, 令和5年4月1日, 令和元年5月1日, R5.4.1, R05/04/01, H31.4.30,
/// with full-width digits and letters folded first. An era date must fall inside its
/// era (平成31年5月1日 is 令和元年: refused, not moved). `None` when it is not a date.
pub fn parse_date_ja(text: &str) -> Option<NaiveDate> {
    use unicode_normalization::UnicodeNormalization;
    let text: String = text.nfkc().collect::<String>();
    let text = text.trim().replace(char::is_whitespace, "");
    if text.is_empty() {
        return None;
    }
    let (era, rest) = split_era(&text);
    // The three numbers: year, month, day, whatever separates them.
    let rest = rest.replacen("元年", "1年", 1);
    let numbers: Vec<&str> = rest
        .split(['-', '/', '.', '年', '月', '日'])
        .filter(|part| !part.is_empty())
        .collect();
    let trailing_ok = rest.ends_with('日') || !rest.contains('年');
    let [year, month, day] = numbers.as_slice() else {
        return None;
    };
    if !trailing_ok
        || ![year, month, day]
            .iter()
            .all(|n| n.chars().all(|c| c.is_ascii_digit()) && n.len() <= 4)
    {
        return None;
    }
    let (year, month, day): (i32, u32, u32) =
        (year.parse().ok()?, month.parse().ok()?, day.parse().ok()?);
    match era {
        None => {
            // A 西暦 year is written in full.
            if !(1000..=9999).contains(&year) {
                return None;
            }
            NaiveDate::from_ymd_opt(year, month, day)
        }
        Some(era) => {
            if year < 1 {
                return None;
            }
            let date = NaiveDate::from_ymd_opt(era.first_year() + year - 1, month, day)?;
            // Inside the era: the era the date falls in is the one written.
            (era_of(date).map(|(e, _)| e) == Some(era)).then_some(date)
        }
    }
}

/// The era written at the start of `text` (「令和」, 「R」, …) and the rest.
fn split_era(text: &str) -> (Option<Era>, &str) {
    const NAMES: [(&str, Era); 10] = [
        ("令和", Era::Reiwa),
        ("平成", Era::Heisei),
        ("昭和", Era::Showa),
        ("大正", Era::Taisho),
        ("明治", Era::Meiji),
        ("R", Era::Reiwa),
        ("H", Era::Heisei),
        ("S", Era::Showa),
        ("T", Era::Taisho),
        ("M", Era::Meiji),
    ];
    for (name, era) in NAMES {
        if let Some(rest) = text
            .strip_prefix(name)
            .or_else(|| text.strip_prefix(&name.to_ascii_lowercase()))
        {
            return (Some(era), rest);
        }
    }
    (None, text)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn reiwa_and_heisei() {
        assert_eq!(format_wareki(d(2019, 4, 30)), "平成31年4月30日");
        assert_eq!(format_wareki(d(2019, 5, 1)), "令和元年5月1日");
        assert_eq!(format_wareki(d(2019, 12, 31)), "令和元年12月31日");
        assert_eq!(format_wareki(d(2020, 1, 1)), "令和2年1月1日");
        assert_eq!(format_wareki(d(2025, 4, 1)), "令和7年4月1日");
        assert_eq!(era_of(d(2025, 4, 1)), Some((Era::Reiwa, 7)));
    }

    #[test]
    fn showa_to_heisei() {
        assert_eq!(format_wareki(d(1989, 1, 7)), "昭和64年1月7日");
        assert_eq!(format_wareki(d(1989, 1, 8)), "平成元年1月8日");
        assert_eq!(era_of(d(1989, 1, 7)), Some((Era::Showa, 64)));
        assert_eq!(era_of(d(1989, 1, 8)), Some((Era::Heisei, 1)));
    }

    #[test]
    fn older_eras() {
        assert_eq!(format_wareki(d(1926, 12, 24)), "大正15年12月24日");
        assert_eq!(format_wareki(d(1926, 12, 25)), "昭和元年12月25日");
        assert_eq!(format_wareki(d(1912, 7, 29)), "明治45年7月29日");
        assert_eq!(format_wareki(d(1912, 7, 30)), "大正元年7月30日");
        assert_eq!(format_wareki(d(1873, 1, 1)), "明治6年1月1日");
        // Before the Gregorian calendar was adopted: no era, plain 西暦.
        assert_eq!(era_of(d(1872, 12, 31)), None);
        assert_eq!(format_wareki(d(1872, 12, 31)), "1872年12月31日");
        assert_eq!(format_wareki_with_seireki(d(1800, 1, 1)), "1800年1月1日");
    }

    #[test]
    fn with_seireki() {
        assert_eq!(
            format_wareki_with_seireki(d(2025, 4, 1)),
            "令和7年4月1日（2025年）"
        );
        assert_eq!(
            format_wareki_with_seireki(d(2019, 5, 1)),
            "令和元年5月1日（2019年）"
        );
    }

    #[test]
    fn names() {
        let names: Vec<_> = [Era::Meiji, Era::Taisho, Era::Showa, Era::Heisei, Era::Reiwa]
            .iter()
            .map(Era::name_ja)
            .collect();
        assert_eq!(names, ["明治", "大正", "昭和", "平成", "令和"]);
    }

    #[test]
    fn fiscal_years_are_named_by_their_april() {
        assert_eq!(format_fiscal_year(2026), "令和8年度（2026年度）");
        assert_eq!(format_fiscal_year(2019), "平成31年度（2019年度）");
        assert_eq!(format_fiscal_year(2020), "令和2年度（2020年度）");
    }

    #[test]
    fn dates_are_read_as_people_write_them() {
        let d = |y, m, day| NaiveDate::from_ymd_opt(y, m, day);
        for (text, expected) in [
            ("2023-04-01", d(2023, 4, 1)),
            ("2023/4/1", d(2023, 4, 1)),
            ("2023.4.1", d(2023, 4, 1)),
            ("2023年4月1日", d(2023, 4, 1)),
            ("２０２３／４／１", d(2023, 4, 1)),
            ("令和5年4月1日", d(2023, 4, 1)),
            ("令和５年４月１日", d(2023, 4, 1)),
            ("令和元年5月1日", d(2019, 5, 1)),
            ("R5.4.1", d(2023, 4, 1)),
            ("r5.4.1", d(2023, 4, 1)),
            ("Ｒ５．４．１", d(2023, 4, 1)),
            ("R05/04/01", d(2023, 4, 1)),
            ("H31.4.30", d(2019, 4, 30)),
            ("平成31年4月30日", d(2019, 4, 30)),
            ("S64.1.7", d(1989, 1, 7)),
            ("H1.1.8", d(1989, 1, 8)),
            (" 2023-04-01 ", d(2023, 4, 1)),
        ] {
            assert_eq!(parse_date_ja(text), expected, "{text}");
        }
    }

    #[test]
    fn what_is_not_a_date_of_its_era_is_refused() {
        for text in [
            "",
            "H31.5.1", // 令和元年
            "平成31年5月1日",
            "S64.1.8", // 平成元年
            "R0.4.1",
            "令和5年2月30日",
            "2023-02-30",
            "23/4/1",    // a 西暦 year is written in full
            "2023年4月", // no day
            "2023年4月1",
            "4月1日",
            "X5.4.1",
            "令和5年4月1日生",
            "2023-04-01-02",
        ] {
            assert_eq!(parse_date_ja(text), None, "{text}");
        }
    }
}
