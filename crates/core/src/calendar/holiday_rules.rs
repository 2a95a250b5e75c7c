//! The 国民の祝日 as data: which day each holiday falls on, and in which years.
//!
//! Source: 国民の祝日に関する法律（昭和23年法律第178号）and its amendments, the laws
//! for one-off holidays, and the Olympic special-measures acts, as listed in the
//! comments of each row. Cross-checked against the Cabinet Office 「国民の祝日」CSV
//! (syukujitsu.csv, 1955–2025) and the tests under `crates/core/tests/`.
//! Revision: 2026-11-21 (latest amendment reflected: 令和2年法律第68号).
//!
//! A law change is a new row or a changed year range here, not new logic.

use chrono::NaiveDate;

use super::const_date;

/// How a holiday's day is found within its year.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum DayRule {
    /// The same month and day every year.
    Fixed { month: u32, day: u32 },
    /// The n-th Monday of the month (ハッピーマンデー制度).
    NthMonday { month: u32, n: u8 },
    /// 春分日, set each year by the National Astronomical Observatory.
    VernalEquinox,
    /// 秋分日, likewise.
    AutumnalEquinox,
}

/// One holiday over a range of years (both ends included).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct HolidayRule {
    pub name: &'static str,
    pub day: DayRule,
    pub from: i32,
    pub to: i32,
}

const fn fixed(name: &'static str, month: u32, day: u32, from: i32, to: i32) -> HolidayRule {
    HolidayRule {
        name,
        day: DayRule::Fixed { month, day },
        from,
        to,
    }
}

const fn monday(name: &'static str, month: u32, n: u8, from: i32, to: i32) -> HolidayRule {
    HolidayRule {
        name,
        day: DayRule::NthMonday { month, n },
        from,
        to,
    }
}

/// Beyond the last supported year: rules still in force.
const OPEN: i32 = 9999;

/// The Act took effect on 1948-07-20; the table only matters from 1955 on.
const ACT: i32 = 1948;

/// Every 国民の祝日 and every one-off day made a holiday by its own law.
/// One-off days count as 国民の祝日 for 振替休日 and 国民の休日 (the 2019 law says so
/// explicitly; for the earlier ones the question never arises).
pub(crate) const RULES: &[HolidayRule] = &[
    fixed("元日", 1, 1, ACT, OPEN),
    // 平成10年法律第141号 (ハッピーマンデー) from 2000.
    fixed("成人の日", 1, 15, ACT, 1999),
    monday("成人の日", 1, 2, 2000, OPEN),
    // 昭和41年法律第86号; the date was set by 政令 (昭和41年政令第376号), first kept in 1967.
    fixed("建国記念の日", 2, 11, 1967, OPEN),
    HolidayRule {
        name: "春分の日",
        day: DayRule::VernalEquinox,
        from: ACT,
        to: OPEN,
    },
    // 昭和天皇 until 1988; 平成元年法律第5号 renamed Apr 29 みどりの日 and moved the
    // emperor's birthday to Dec 23; 2019 had none (皇室典範特例法附則); Feb 23 from 2020.
    fixed("天皇誕生日", 4, 29, ACT, 1988),
    fixed("みどりの日", 4, 29, 1989, 2006),
    fixed("天皇誕生日", 12, 23, 1989, 2018),
    fixed("天皇誕生日", 2, 23, 2020, OPEN),
    // 平成17年法律第43号 from 2007: Apr 29 昭和の日, みどりの日 moved to May 4.
    fixed("昭和の日", 4, 29, 2007, OPEN),
    fixed("みどりの日", 5, 4, 2007, OPEN),
    fixed("憲法記念日", 5, 3, ACT, OPEN),
    fixed("こどもの日", 5, 5, ACT, OPEN),
    // 平成7年法律第22号 from 1996; 平成13年法律第59号 3rd Monday from 2003.
    fixed("海の日", 7, 20, 1996, 2002),
    monday("海の日", 7, 3, 2003, 2019),
    // Olympic moves: 平成30年法律第55号 (2020) and 令和2年法律第68号 (2021).
    fixed("海の日", 7, 23, 2020, 2020),
    fixed("海の日", 7, 22, 2021, 2021),
    monday("海の日", 7, 3, 2022, OPEN),
    // 平成26年法律第43号 from 2016; moved in 2020 and 2021 by the same Olympic acts.
    fixed("山の日", 8, 11, 2016, 2019),
    fixed("山の日", 8, 10, 2020, 2020),
    fixed("山の日", 8, 8, 2021, 2021),
    fixed("山の日", 8, 11, 2022, OPEN),
    // 昭和41年法律第86号 from 1966; 3rd Monday from 2003 (平成13年法律第59号).
    fixed("敬老の日", 9, 15, 1966, 2002),
    monday("敬老の日", 9, 3, 2003, OPEN),
    HolidayRule {
        name: "秋分の日",
        day: DayRule::AutumnalEquinox,
        from: ACT,
        to: OPEN,
    },
    // 体育の日 from 1966, 2nd Monday from 2000; renamed スポーツの日 from 2020
    // (平成30年法律第57号), moved in 2020 and 2021 by the Olympic acts.
    fixed("体育の日", 10, 10, 1966, 1999),
    monday("体育の日", 10, 2, 2000, 2019),
    fixed("スポーツの日", 7, 24, 2020, 2020),
    fixed("スポーツの日", 7, 23, 2021, 2021),
    monday("スポーツの日", 10, 2, 2022, OPEN),
    fixed("文化の日", 11, 3, ACT, OPEN),
    fixed("勤労感謝の日", 11, 23, ACT, OPEN),
    // One-off days, each by its own law.
    fixed("皇太子明仁親王の結婚の儀", 4, 10, 1959, 1959), // 昭和34年法律第16号
    fixed("昭和天皇の大喪の礼", 2, 24, 1989, 1989),       // 平成元年法律第4号
    fixed("即位礼正殿の儀", 11, 12, 1990, 1990),          // 平成2年法律第24号
    fixed("皇太子徳仁親王の結婚の儀", 6, 9, 1993, 1993),  // 平成5年法律第32号
    fixed("天皇の即位の日", 5, 1, 2019, 2019),            // 平成30年法律第99号
    fixed("即位礼正殿の儀", 10, 22, 2019, 2019),          // 平成30年法律第99号
];

/// 振替休日 exists from the 1973 amendment (昭和48年法律第10号), in force 1973-04-12.
pub(crate) const SUBSTITUTE_FROM: NaiveDate = const_date(1973, 4, 12);

/// From 2007 (平成17年法律第43号) 振替休日 is the first following day that is not a
/// 祝日; before, only the very next day.
pub(crate) const SUBSTITUTE_NEXT_FREE_DAY_FROM: i32 = 2007;

/// 国民の休日 exists from the 1985 amendment (昭和60年法律第103号), in force 1985-12-27.
pub(crate) const CITIZENS_HOLIDAY_FROM: NaiveDate = const_date(1985, 12, 27);

/// Until 2006 a Sunday or a 振替休日 could not be a 国民の休日; the 2007 text only
/// requires the day not to be a 祝日 itself.
pub(crate) const CITIZENS_HOLIDAY_ANY_WEEKDAY_FROM: i32 = 2007;

/// Equinox day = floor(base + 0.242194 × (year − 1980)) − floor((year − 1980) / 4),
/// the usual approximation of the equinox in JST, valid 1900–2099. The legal day is
/// announced each February in the 官報 for the next year, so years beyond that are
/// provisional. Constants are in millionths of a day so the arithmetic is exact.
/// (first year, last year, vernal base, autumnal base)
pub(crate) const EQUINOX_CONSTANTS: &[(i32, i32, i64, i64)] = &[
    (1900, 1979, 20_835_700, 23_258_800),
    (1980, 2099, 20_843_100, 23_248_800),
];

/// Mean tropical year drift per year, in millionths of a day.
pub(crate) const EQUINOX_DRIFT: i64 = 242_194;
