//! 祝日: 国民の祝日, 振替休日 and 国民の休日 for the years 1955–2099.
//!
//! The holidays themselves are data (`holiday_rules.rs`); this module only turns
//! them into dates and adds the two derived kinds of 休日 defined in Article 3 of the Act.

use std::collections::BTreeSet;
use std::ops::RangeInclusive;
use std::sync::OnceLock;

use chrono::{Datelike, NaiveDate, Weekday};
use serde::Serialize;

use super::holiday_rules::{
    CITIZENS_HOLIDAY_ANY_WEEKDAY_FROM, CITIZENS_HOLIDAY_FROM, DayRule, EQUINOX_CONSTANTS,
    EQUINOX_DRIFT, RULES, SUBSTITUTE_FROM, SUBSTITUTE_NEXT_FREE_DAY_FROM,
};

/// Years we answer for: the Cabinet Office list starts in 1955 and the equinox
/// approximation is only valid until 2099.
pub const SUPPORTED_YEARS: RangeInclusive<i32> = 1955..=2099;

/// Name of a 振替休日 (Article 3(2)).
pub const SUBSTITUTE_HOLIDAY: &str = "振替休日";

/// Name of a 国民の休日, a day between two 祝日 (Article 3(3)).
pub const CITIZENS_HOLIDAY: &str = "国民の休日";

/// One day off: a 国民の祝日, a one-off holiday, a 振替休日 or a 国民の休日.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Holiday {
    pub date: NaiveDate,
    pub name: &'static str,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HolidayError {
    #[error(
        "祝日は{first}年から{last}年までに対応しています（指定: {year}年）",
        first = SUPPORTED_YEARS.start(),
        last = SUPPORTED_YEARS.end()
    )]
    YearOutOfRange { year: i32 },
    #[error("祝日の期間は開始年を終了年以前にしてください（指定: {from}年〜{to}年）")]
    ReversedRange { from: i32, to: i32 },
}

/// Every holiday of `year`, sorted by date.
pub fn holidays_in_year(year: i32) -> Result<Vec<Holiday>, HolidayError> {
    Ok(year_table(year)?.to_vec())
}

/// Every holiday from January 1 of `from_year` to December 31 of `to_year`, sorted.
pub fn holidays_between(from_year: i32, to_year: i32) -> Result<Vec<Holiday>, HolidayError> {
    check_year(from_year)?;
    check_year(to_year)?;
    if from_year > to_year {
        return Err(HolidayError::ReversedRange {
            from: from_year,
            to: to_year,
        });
    }
    let mut all = Vec::new();
    for year in from_year..=to_year {
        all.extend_from_slice(year_table(year)?);
    }
    Ok(all)
}

/// The holiday's name, or `None` on an ordinary day or outside [`SUPPORTED_YEARS`].
pub fn holiday_name(date: NaiveDate) -> Option<&'static str> {
    let days = year_table(date.year()).ok()?;
    let index = days.binary_search_by_key(&date, |h| h.date).ok()?;
    days.get(index).map(|h| h.name)
}

/// Whether `date` is a holiday; always false outside [`SUPPORTED_YEARS`].
pub fn is_holiday(date: NaiveDate) -> bool {
    holiday_name(date).is_some()
}

fn check_year(year: i32) -> Result<(), HolidayError> {
    if SUPPORTED_YEARS.contains(&year) {
        Ok(())
    } else {
        Err(HolidayError::YearOutOfRange { year })
    }
}

/// All years are computed once, on first use: about 2,500 entries, and the server asks
/// "is this a holiday?" for many dates.
fn year_table(year: i32) -> Result<&'static [Holiday], HolidayError> {
    static TABLE: OnceLock<Vec<Vec<Holiday>>> = OnceLock::new();
    check_year(year)?;
    let table = TABLE.get_or_init(|| SUPPORTED_YEARS.map(compute_year).collect());
    let index = usize::try_from(year - SUPPORTED_YEARS.start())
        .map_err(|_| HolidayError::YearOutOfRange { year })?;
    table
        .get(index)
        .map(Vec::as_slice)
        .ok_or(HolidayError::YearOutOfRange { year })
}

/// One year's holidays. Each year is computed on its own: Dec 31 is never a 祝日, so no
/// 振替休日 or 国民の休日 crosses a year boundary.
fn compute_year(year: i32) -> Vec<Holiday> {
    let national: Vec<Holiday> = national_holidays(year);
    let is_national = |date: NaiveDate| national.iter().any(|h| h.date == date);

    let mut substitutes = BTreeSet::new();
    for holiday in &national {
        if holiday.date.weekday() != Weekday::Sun || holiday.date < SUBSTITUTE_FROM {
            continue;
        }
        let mut next = holiday.date.succ_opt();
        if year >= SUBSTITUTE_NEXT_FREE_DAY_FROM {
            while let Some(day) = next.filter(|d| is_national(*d)) {
                next = day.succ_opt();
            }
        } else if next.is_some_and(is_national) {
            // Before 2007 only the very next day could become the 振替休日.
            continue;
        }
        if let Some(day) = next.filter(|d| d.year() == year) {
            substitutes.insert(day);
        }
    }

    let mut citizens = BTreeSet::new();
    for pair in national.windows(2) {
        let [before, after] = pair else { continue };
        let Some(between) = before.date.succ_opt() else {
            continue;
        };
        if after.date.pred_opt() != Some(between)
            || between < CITIZENS_HOLIDAY_FROM
            // A 振替休日 keeps that name: the law before 2007; never arises since.
            || substitutes.contains(&between)
        {
            continue;
        }
        if year < CITIZENS_HOLIDAY_ANY_WEEKDAY_FROM && between.weekday() == Weekday::Sun {
            continue;
        }
        citizens.insert(between);
    }

    let mut all = national;
    all.extend(substitutes.into_iter().map(|date| Holiday {
        date,
        name: SUBSTITUTE_HOLIDAY,
    }));
    all.extend(citizens.into_iter().map(|date| Holiday {
        date,
        name: CITIZENS_HOLIDAY,
    }));
    all.sort_by_key(|h| h.date);
    all
}

/// The 国民の祝日 and one-off holidays of `year` from the rule table, sorted.
fn national_holidays(year: i32) -> Vec<Holiday> {
    let mut days: Vec<Holiday> = RULES
        .iter()
        .filter(|rule| rule.from <= year && year <= rule.to)
        .filter_map(|rule| {
            day_of(rule.day, year).map(|date| Holiday {
                date,
                name: rule.name,
            })
        })
        .collect();
    days.sort_by_key(|h| h.date);
    days
}

fn day_of(rule: DayRule, year: i32) -> Option<NaiveDate> {
    match rule {
        DayRule::Fixed { month, day } => NaiveDate::from_ymd_opt(year, month, day),
        DayRule::NthMonday { month, n } => {
            NaiveDate::from_weekday_of_month_opt(year, month, Weekday::Mon, n)
        }
        DayRule::VernalEquinox => NaiveDate::from_ymd_opt(year, 3, equinox_day(year, true)?),
        DayRule::AutumnalEquinox => NaiveDate::from_ymd_opt(year, 9, equinox_day(year, false)?),
    }
}

/// Day of month of the equinox in Japan, from the approximation formula.
fn equinox_day(year: i32, vernal: bool) -> Option<u32> {
    let &(_, _, vernal_base, autumnal_base) = EQUINOX_CONSTANTS
        .iter()
        .find(|(first, last, _, _)| (*first..=*last).contains(&year))?;
    let base = if vernal { vernal_base } else { autumnal_base };
    let years = i64::from(year) - 1980;
    let day = (base + EQUINOX_DRIFT * years).div_euclid(1_000_000) - years.div_euclid(4);
    u32::try_from(day).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    fn name(y: i32, m: u32, day: u32) -> Option<&'static str> {
        holiday_name(d(y, m, day))
    }

    #[test]
    fn fixed_and_monday_holidays() {
        assert_eq!(name(2025, 1, 1), Some("元日"));
        assert_eq!(name(1999, 1, 15), Some("成人の日"));
        assert_eq!(name(2000, 1, 15), None);
        assert_eq!(name(2000, 1, 10), Some("成人の日"));
        assert_eq!(name(1966, 2, 11), None);
        assert_eq!(name(1967, 2, 11), Some("建国記念の日"));
        assert_eq!(name(2002, 9, 15), Some("敬老の日"));
        assert_eq!(name(2003, 9, 15), Some("敬老の日")); // 3rd Monday happened to be the 15th
        assert_eq!(name(2004, 9, 20), Some("敬老の日"));
        assert_eq!(name(1995, 7, 20), None);
        assert_eq!(name(1996, 7, 20), Some("海の日"));
        assert_eq!(name(2015, 8, 11), None);
        assert_eq!(name(2016, 8, 11), Some("山の日"));
        assert_eq!(name(2019, 10, 14), Some("体育の日"));
        assert_eq!(name(2022, 10, 10), Some("スポーツの日"));
    }

    #[test]
    fn emperors_birthday_and_april_29() {
        assert_eq!(name(1988, 4, 29), Some("天皇誕生日"));
        assert_eq!(name(1989, 4, 29), Some("みどりの日"));
        assert_eq!(name(2006, 4, 29), Some("みどりの日"));
        assert_eq!(name(2007, 4, 29), Some("昭和の日"));
        assert_eq!(name(2007, 5, 4), Some("みどりの日"));
        assert_eq!(name(2018, 12, 23), Some("天皇誕生日"));
        // 2019 had no 天皇誕生日 at all.
        let y2019 = holidays_in_year(2019).unwrap();
        assert!(y2019.iter().all(|h| h.name != "天皇誕生日"));
        assert_eq!(name(2020, 2, 23), Some("天皇誕生日"));
        assert_eq!(name(2020, 12, 23), None);
    }

    #[test]
    fn one_off_holidays() {
        assert_eq!(name(1959, 4, 10), Some("皇太子明仁親王の結婚の儀"));
        assert_eq!(name(1989, 2, 24), Some("昭和天皇の大喪の礼"));
        assert_eq!(name(1990, 11, 12), Some("即位礼正殿の儀"));
        assert_eq!(name(1993, 6, 9), Some("皇太子徳仁親王の結婚の儀"));
        assert_eq!(name(2019, 5, 1), Some("天皇の即位の日"));
        assert_eq!(name(2019, 10, 22), Some("即位礼正殿の儀"));
        assert_eq!(name(1960, 4, 10), None);
    }

    #[test]
    fn substitute_holidays() {
        assert_eq!(name(2019, 5, 6), Some(SUBSTITUTE_HOLIDAY)); // こどもの日 on Sunday
        assert_eq!(name(2020, 2, 24), Some(SUBSTITUTE_HOLIDAY)); // 天皇誕生日 on Sunday
        assert_eq!(name(1973, 4, 30), Some(SUBSTITUTE_HOLIDAY)); // the first one
        // 1973-02-11 was a Sunday, before the amendment took effect on 1973-04-12.
        assert_eq!(d(1973, 2, 11).weekday(), Weekday::Sun);
        assert_eq!(name(1973, 2, 12), None);
        // From 2007 it skips over following 祝日: 2008-05-04 (Sun) → May 6.
        assert_eq!(name(2008, 5, 6), Some(SUBSTITUTE_HOLIDAY));
        // 2021: 山の日 moved to Sunday Aug 8, so Monday Aug 9 was a 振替休日.
        assert_eq!(name(2021, 8, 9), Some(SUBSTITUTE_HOLIDAY));
    }

    #[test]
    fn citizens_holidays() {
        assert_eq!(name(1988, 5, 4), Some(CITIZENS_HOLIDAY)); // the first one
        assert_eq!(name(1985, 5, 4), None); // before the 1985 amendment
        // 1992-05-03 was Sunday: May 4 was the 振替休日, not a 国民の休日.
        assert_eq!(name(1992, 5, 4), Some(SUBSTITUTE_HOLIDAY));
        // 1997-05-04 was Sunday: no 国民の休日 on a Sunday before 2007.
        assert_eq!(name(1997, 5, 4), None);
        assert_eq!(name(2019, 4, 30), Some(CITIZENS_HOLIDAY));
        assert_eq!(name(2019, 5, 2), Some(CITIZENS_HOLIDAY));
        assert_eq!(name(2009, 9, 22), Some(CITIZENS_HOLIDAY));
        assert_eq!(name(2015, 9, 22), Some(CITIZENS_HOLIDAY));
        // 2026: 敬老の日 Sep 21, 秋分の日 Sep 23.
        assert_eq!(name(2026, 9, 21), Some("敬老の日"));
        assert_eq!(name(2026, 9, 22), Some(CITIZENS_HOLIDAY));
        assert_eq!(name(2026, 9, 23), Some("秋分の日"));
    }

    #[test]
    fn olympic_moves() {
        assert_eq!(name(2020, 7, 20), None);
        assert_eq!(name(2020, 7, 23), Some("海の日"));
        assert_eq!(name(2020, 7, 24), Some("スポーツの日"));
        assert_eq!(name(2020, 8, 10), Some("山の日"));
        assert_eq!(name(2020, 8, 11), None);
        assert_eq!(name(2020, 10, 12), None);
        assert_eq!(name(2021, 7, 19), None);
        assert_eq!(name(2021, 7, 22), Some("海の日"));
        assert_eq!(name(2021, 7, 23), Some("スポーツの日"));
        assert_eq!(name(2021, 8, 8), Some("山の日"));
        assert_eq!(name(2021, 8, 9), Some(SUBSTITUTE_HOLIDAY));
        assert_eq!(name(2021, 8, 11), None);
        assert_eq!(name(2021, 10, 11), None);
    }

    #[test]
    fn equinoxes() {
        assert_eq!(name(1955, 3, 21), Some("春分の日"));
        assert_eq!(name(1979, 9, 24), Some("秋分の日"));
        assert_eq!(name(2025, 3, 20), Some("春分の日"));
        assert_eq!(name(2025, 9, 23), Some("秋分の日"));
        assert_eq!(name(2092, 3, 19), Some("春分の日"));
        assert_eq!(equinox_day(1899, true), None);
        assert_eq!(equinox_day(2100, true), None);
    }

    #[test]
    fn out_of_range_years_are_errors() {
        assert_eq!(
            holidays_in_year(1954),
            Err(HolidayError::YearOutOfRange { year: 1954 })
        );
        assert_eq!(
            holidays_in_year(2100),
            Err(HolidayError::YearOutOfRange { year: 2100 })
        );
        assert_eq!(
            holidays_between(2000, 2100),
            Err(HolidayError::YearOutOfRange { year: 2100 })
        );
        assert_eq!(
            holidays_between(2001, 2000),
            Err(HolidayError::ReversedRange {
                from: 2001,
                to: 2000
            })
        );
        assert_eq!(
            HolidayError::YearOutOfRange { year: 2100 }.to_string(),
            "祝日は1955年から2099年までに対応しています（指定: 2100年）"
        );
        assert!(!is_holiday(d(1954, 1, 1)));
        assert!(!is_holiday(d(2100, 1, 1)));
        assert_eq!(holidays_in_year(1955).unwrap().len(), 9);
    }

    #[test]
    fn rules_never_collide() {
        // Two rules on the same day would hide one holiday.
        for year in SUPPORTED_YEARS {
            let days = national_holidays(year);
            let distinct: BTreeSet<_> = days.iter().map(|h| h.date).collect();
            assert_eq!(distinct.len(), days.len(), "two rules on one day in {year}");
        }
    }
}
