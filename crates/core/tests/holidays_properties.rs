//! Properties that must hold on every day of 1955–2099, checked exhaustively.

// Test code: a failed expectation is the test failing.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeMap;

use chrono::{Datelike, NaiveDate, Weekday};
use tsunagu_core::calendar::{
    Holiday, SUPPORTED_YEARS, holiday_name, holidays_between, holidays_in_year, is_holiday,
};

const SUBSTITUTE: &str = "振替休日";
const CITIZENS: &str = "国民の休日";

fn all_holidays() -> BTreeMap<NaiveDate, &'static str> {
    holidays_between(*SUPPORTED_YEARS.start(), *SUPPORTED_YEARS.end())
        .unwrap()
        .into_iter()
        .map(|h| (h.date, h.name))
        .collect()
}

fn is_national(all: &BTreeMap<NaiveDate, &str>, date: NaiveDate) -> bool {
    all.get(&date)
        .is_some_and(|name| *name != SUBSTITUTE && *name != CITIZENS)
}

#[test]
fn lookup_agrees_with_the_yearly_lists() {
    let all = all_holidays();
    let mut date = NaiveDate::from_ymd_opt(*SUPPORTED_YEARS.start(), 1, 1).unwrap();
    let last = NaiveDate::from_ymd_opt(*SUPPORTED_YEARS.end(), 12, 31).unwrap();
    while date <= last {
        assert_eq!(holiday_name(date), all.get(&date).copied(), "{date}");
        assert_eq!(is_holiday(date), all.contains_key(&date), "{date}");
        date = date.succ_opt().unwrap();
    }
}

#[test]
fn yearly_lists_are_sorted_and_complete() {
    let mut concatenated: Vec<Holiday> = Vec::new();
    for year in SUPPORTED_YEARS {
        let days = holidays_in_year(year).unwrap();
        assert!(days.iter().all(|h| h.date.year() == year), "{year}");
        assert!(days.windows(2).all(|w| w[0].date < w[1].date), "{year}");
        // 9 holidays in 1955; 16 national ones plus 振替/国民の休日 in recent years.
        assert!((9..=22).contains(&days.len()), "{year}: {}", days.len());
        concatenated.extend(days);
    }
    assert_eq!(holidays_between(1955, 2099).unwrap(), concatenated);
}

#[test]
fn substitute_holidays_follow_a_sunday_holiday() {
    let all = all_holidays();
    for (&date, &name) in &all {
        if name != SUBSTITUTE {
            continue;
        }
        assert_ne!(date.weekday(), Weekday::Sun, "{date}");
        // Walking back over 祝日 must reach a Sunday 祝日.
        let mut day = date.pred_opt().unwrap();
        while is_national(&all, day) && day.weekday() != Weekday::Sun {
            day = day.pred_opt().unwrap();
        }
        assert!(
            is_national(&all, day) && day.weekday() == Weekday::Sun,
            "{date} has no Sunday 祝日 before it"
        );
        assert!(
            date >= NaiveDate::from_ymd_opt(1973, 4, 12).unwrap(),
            "{date}"
        );
    }
}

#[test]
fn every_sunday_holiday_gets_a_substitute_after_1973() {
    let all = all_holidays();
    let start = NaiveDate::from_ymd_opt(1973, 4, 12).unwrap();
    for (&date, _) in all.iter().filter(|(d, _)| **d >= start) {
        if date.weekday() != Weekday::Sun || !is_national(&all, date) {
            continue;
        }
        let mut day = date.succ_opt().unwrap();
        while is_national(&all, day) {
            day = day.succ_opt().unwrap();
        }
        assert_eq!(all.get(&day), Some(&SUBSTITUTE), "after {date}");
    }
}

#[test]
fn citizens_holidays_sit_between_two_national_holidays() {
    let all = all_holidays();
    for (&date, &name) in &all {
        if name != CITIZENS {
            continue;
        }
        assert!(
            date >= NaiveDate::from_ymd_opt(1985, 12, 27).unwrap(),
            "{date}"
        );
        assert_ne!(date.weekday(), Weekday::Sun, "{date}");
        assert!(is_national(&all, date.pred_opt().unwrap()), "{date}");
        assert!(is_national(&all, date.succ_opt().unwrap()), "{date}");
    }
}

#[test]
fn equinoxes_stay_in_their_window() {
    for year in SUPPORTED_YEARS {
        let days = holidays_in_year(year).unwrap();
        let find = |name: &str| days.iter().find(|h| h.name == name).unwrap().date;
        let spring = find("春分の日");
        let autumn = find("秋分の日");
        assert_eq!(spring.month(), 3);
        assert!((19..=22).contains(&spring.day()), "{spring}");
        assert_eq!(autumn.month(), 9);
        assert!((21..=24).contains(&autumn.day()), "{autumn}");
    }
}
