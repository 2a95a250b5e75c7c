//! A child's next transitions (nursery, school entry, junior high, upper secondary,
//! graduation), worked out from the birth date with [`crate::calendar::fiscal`], so
//! the family, the coordinator and the town can start preparing a year ahead.
//!
//! Every school step happens on April 1 of the 年度 in which the child's class age
//! reaches it (6 → 就学, 12 → 中学校, 15 → 高等部・高校); graduation is March 31 at the
//! end of the 年度 of class age 17. Nursery entry is not fixed: see
//! [`earliest_nursery_entry`].

use chrono::{Datelike, Months, NaiveDate};
use serde::Serialize;

use crate::calendar::fiscal::{class_age, fiscal_year, fiscal_year_end, fiscal_year_start};

/// How far ahead the municipal transitions board looks.
pub const BOARD_HORIZON_MONTHS: u32 = 18;

/// Nurseries take babies from the end of 産後休業 (8 weeks = 56 days after birth), so a
/// child must be at least this many days old on April 1 to enter the 0歳児クラス then.
/// Municipalities differ (some start at 生後6か月); this is the earliest common case.
pub const NURSERY_MIN_AGE_DAYS: i64 = 57;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TransitionKind {
    /// The earliest April nursery entry (保育所・認定こども園等); optional.
    NurseryEntry,
    /// 就学: April 1 of the 年度 of class age 6.
    SchoolEntry,
    /// April 1 of the 年度 of class age 12.
    JuniorHigh,
    /// April 1 of the 年度 of class age 15.
    UpperSecondary,
    /// 卒業（卒後）: March 31 at the end of the 年度 of class age 17.
    Graduation,
}

impl TransitionKind {
    pub const ALL: [TransitionKind; 5] = [
        TransitionKind::NurseryEntry,
        TransitionKind::SchoolEntry,
        TransitionKind::JuniorHigh,
        TransitionKind::UpperSecondary,
        TransitionKind::Graduation,
    ];

    pub fn code(self) -> &'static str {
        match self {
            TransitionKind::NurseryEntry => "nursery_entry",
            TransitionKind::SchoolEntry => "school_entry",
            TransitionKind::JuniorHigh => "junior_high",
            TransitionKind::UpperSecondary => "upper_secondary",
            TransitionKind::Graduation => "graduation",
        }
    }

    pub fn label_ja(self) -> &'static str {
        match self {
            TransitionKind::NurseryEntry => "保育所等入園",
            TransitionKind::SchoolEntry => "就学（小学校入学）",
            TransitionKind::JuniorHigh => "中学校入学",
            TransitionKind::UpperSecondary => "高等部・高校入学",
            TransitionKind::Graduation => "卒業（卒後）",
        }
    }
}

/// One transition and when to start preparing for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Transition {
    pub kind: TransitionKind,
    /// April 1 for entries, March 31 for graduation.
    pub date: NaiveDate,
    /// The 年度 the transition belongs to: the one it starts, or for graduation the
    /// last school year.
    pub fiscal_year: i32,
    /// April 1 of the 年度 before the child moves on (就学相談, 入園申込 and 進路相談
    /// run during it); never before the birth.
    pub prepare_from: NaiveDate,
    /// True when the family may choose not to take it (nursery entry).
    pub optional: bool,
}

/// The 年度 in which the child's class age is `age` (the inverse of [`class_age`]).
fn fiscal_year_of_class_age(birth: NaiveDate, age: i32) -> i32 {
    // class_age(birth, birth year) is 0, or −1 for a birthday after April 1.
    let year = birth.year();
    age.saturating_add(year.saturating_sub(class_age(birth, year)))
}

fn entry(kind: TransitionKind, birth: NaiveDate, age: i32) -> Transition {
    let fy = fiscal_year_of_class_age(birth, age);
    Transition {
        kind,
        date: fiscal_year_start(fy),
        fiscal_year: fy,
        prepare_from: fiscal_year_start(fy.saturating_sub(1)).max(birth),
        optional: false,
    }
}

/// 就学, junior high, upper secondary and graduation, whatever "today" is.
pub fn school_transitions(birth: NaiveDate) -> [Transition; 4] {
    let last_year = fiscal_year_of_class_age(birth, 17);
    [
        entry(TransitionKind::SchoolEntry, birth, 6),
        entry(TransitionKind::JuniorHigh, birth, 12),
        entry(TransitionKind::UpperSecondary, birth, 15),
        Transition {
            kind: TransitionKind::Graduation,
            date: fiscal_year_end(last_year),
            fiscal_year: last_year,
            prepare_from: fiscal_year_start(last_year),
            optional: false,
        },
    ]
}

/// The earliest April 1 on or after `today` at which the child could enter a nursery:
/// class age 0 if the child is then at least [`NURSERY_MIN_AGE_DAYS`] old (産休明け),
/// otherwise the next April (class age 1, typically 育休明け) or later, up to class
/// age 5. `None` once the next April 1 is 就学. Mid-year entry is possible in practice
/// but depends on vacancies, so only April entries are offered.
pub fn earliest_nursery_entry(birth: NaiveDate, today: NaiveDate) -> Option<Transition> {
    let this_year = fiscal_year(today);
    let first_april = if fiscal_year_start(this_year) >= today {
        this_year
    } else {
        this_year.saturating_add(1)
    };
    let mut fy = first_april.max(fiscal_year_of_class_age(birth, 0));
    if (fiscal_year_start(fy) - birth).num_days() < NURSERY_MIN_AGE_DAYS {
        fy = fy.saturating_add(1);
    }
    let age = class_age(birth, fy);
    if !(0..=5).contains(&age) {
        return None;
    }
    Some(Transition {
        kind: TransitionKind::NurseryEntry,
        optional: true,
        ..entry(TransitionKind::NurseryEntry, birth, age)
    })
}

/// The transitions dated from `today` up to `horizon_months` ahead (both ends included),
/// earliest first. Use [`BOARD_HORIZON_MONTHS`] for the board.
pub fn upcoming(birth: NaiveDate, today: NaiveDate, horizon_months: u32) -> Vec<Transition> {
    let until = today
        .checked_add_months(Months::new(horizon_months))
        .unwrap_or(NaiveDate::MAX);
    let mut list: Vec<Transition> = earliest_nursery_entry(birth, today)
        .into_iter()
        .chain(school_transitions(birth))
        .filter(|t| t.date >= today && t.date <= until)
        .collect();
    list.sort_by_key(|t| (t.date, t.kind));
    list
}

/// Words of a 在籍先 that say the child is at a 保育所 or 認定こども園 already: for such a
/// child, nursery entry is behind, not ahead.
pub const AT_NURSERY_WORDS: [&str; 3] = ["保育所", "保育園", "こども園"];

/// The child's 在籍先 (as recorded) names a nursery.
pub fn attends_nursery(attending: &str) -> bool {
    AT_NURSERY_WORDS.iter().any(|w| attending.contains(w))
}

/// [`upcoming`] for a child at `attending`: a child already at a nursery has no nursery
/// entry ahead.
pub fn upcoming_for(
    birth: NaiveDate,
    today: NaiveDate,
    horizon_months: u32,
    attending: &str,
) -> Vec<Transition> {
    let mut list = upcoming(birth, today, horizon_months);
    if attends_nursery(attending) {
        list.retain(|t| t.kind != TransitionKind::NurseryEntry);
    }
    list
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::calendar::fiscal::{LifeStage, life_stage};

    #[test]
    fn a_child_at_a_nursery_has_no_nursery_entry_ahead() {
        let birth = d(2024, 6, 1);
        let today = d(2026, 12, 7);
        let at_home = upcoming_for(birth, today, BOARD_HORIZON_MONTHS, "");
        assert!(find(&at_home, TransitionKind::NurseryEntry).is_some());
        for place in ["ひだまり保育園（架空）", "区立保育所", "認定こども園さくら"]
        {
            let there = upcoming_for(birth, today, BOARD_HORIZON_MONTHS, place);
            assert!(
                find(&there, TransitionKind::NurseryEntry).is_none(),
                "{place}"
            );
        }
        // A day service is not a nursery.
        let service = upcoming_for(birth, today, BOARD_HORIZON_MONTHS, "児童発達支援 ひだまり");
        assert!(find(&service, TransitionKind::NurseryEntry).is_some());
    }

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    fn find(list: &[Transition], kind: TransitionKind) -> Option<Transition> {
        list.iter().copied().find(|t| t.kind == kind)
    }

    fn school_entry(birth: NaiveDate) -> Transition {
        school_transitions(birth)[0]
    }

    #[test]
    fn april_first_and_second_enter_school_a_year_apart() {
        let april_1 = school_entry(d(2020, 4, 1));
        let april_2 = school_entry(d(2020, 4, 2));
        assert_eq!(april_1.date, d(2026, 4, 1));
        assert_eq!(april_1.fiscal_year, 2026);
        assert_eq!(april_2.date, d(2027, 4, 1));
        assert_eq!(april_2.fiscal_year, 2027);
        assert_eq!(school_entry(d(2021, 3, 31)).date, d(2027, 4, 1));
        assert_eq!(school_entry(d(2021, 4, 1)).date, d(2027, 4, 1));
        assert_eq!(school_entry(d(2021, 4, 2)).date, d(2028, 4, 1));
        assert_eq!(school_entry(d(2020, 2, 29)).date, d(2026, 4, 1));
        assert_eq!(school_entry(d(2019, 12, 31)).date, d(2026, 4, 1));
    }

    #[test]
    fn school_steps_and_graduation() {
        let [school, junior, upper, graduation] = school_transitions(d(2020, 4, 2));
        assert_eq!(school.kind, TransitionKind::SchoolEntry);
        assert_eq!(school.prepare_from, d(2026, 4, 1));
        assert_eq!((junior.date, junior.fiscal_year), (d(2033, 4, 1), 2033));
        assert_eq!((upper.date, upper.fiscal_year), (d(2036, 4, 1), 2036));
        assert_eq!(upper.prepare_from, d(2035, 4, 1));
        assert_eq!(graduation.kind, TransitionKind::Graduation);
        assert_eq!(graduation.date, d(2039, 3, 31));
        assert_eq!(graduation.fiscal_year, 2038);
        assert_eq!(graduation.prepare_from, d(2038, 4, 1));
        assert!(!graduation.optional && !school.optional);
        // April 1 birthday: one year earlier throughout.
        let [_, _, _, graduation] = school_transitions(d(2020, 4, 1));
        assert_eq!(graduation.date, d(2038, 3, 31));
    }

    #[test]
    fn transitions_agree_with_life_stage() {
        let mut birth = d(2015, 1, 1);
        while birth < d(2017, 1, 1) {
            let [school, junior, upper, graduation] = school_transitions(birth);
            let stage = |fy| life_stage(birth, fy);
            assert_eq!(
                stage(school.fiscal_year),
                LifeStage::Elementary(1),
                "{birth}"
            );
            assert_eq!(stage(school.fiscal_year - 1), LifeStage::NurseryClass(5));
            assert_eq!(stage(junior.fiscal_year), LifeStage::JuniorHigh(1));
            assert_eq!(stage(upper.fiscal_year), LifeStage::UpperSecondary(1));
            assert_eq!(stage(graduation.fiscal_year), LifeStage::UpperSecondary(3));
            assert_eq!(
                stage(fiscal_year(graduation.date.succ_opt().unwrap())),
                LifeStage::AfterSchool
            );
            for t in [school, junior, upper] {
                assert_eq!(fiscal_year(t.date), t.fiscal_year);
                assert_eq!(t.prepare_from, fiscal_year_start(t.fiscal_year - 1));
            }
            assert_eq!(fiscal_year(graduation.date), graduation.fiscal_year);
            birth = birth.succ_opt().unwrap();
        }
    }

    #[test]
    fn nursery_entry_waits_for_57_days() {
        let today = d(2026, 3, 1);
        // 2026-02-03 is 57 days before April 1: 0歳児クラス this April.
        let t = earliest_nursery_entry(d(2026, 2, 3), today).unwrap();
        assert_eq!((t.date, t.fiscal_year), (d(2026, 4, 1), 2026));
        assert!(t.optional);
        assert_eq!(t.kind, TransitionKind::NurseryEntry);
        assert_eq!(t.prepare_from, d(2026, 2, 3)); // not before the birth
        // One day younger: next April, 1歳児クラス.
        let t = earliest_nursery_entry(d(2026, 2, 4), today).unwrap();
        assert_eq!(t.date, d(2027, 4, 1));
        assert_eq!(class_age(d(2026, 2, 4), t.fiscal_year), 1);
        assert_eq!(t.prepare_from, d(2026, 4, 1));
        // Born on April 1: class age 0 that day but 0 days old.
        let t = earliest_nursery_entry(d(2026, 4, 1), d(2026, 4, 1)).unwrap();
        assert_eq!(t.date, d(2027, 4, 1));
    }

    #[test]
    fn nursery_entry_before_birth_and_mid_year() {
        // Expected birth 2026-06-01: FY2026 has not got it on April 1; FY2027 is 0歳児.
        let t = earliest_nursery_entry(d(2026, 6, 1), d(2026, 3, 1)).unwrap();
        assert_eq!(t.date, d(2027, 4, 1));
        assert_eq!(class_age(d(2026, 6, 1), 2027), 0);
        assert_eq!(t.prepare_from, d(2026, 6, 1));
        // A 3-year-old in October: next April (4歳児クラス).
        let t = earliest_nursery_entry(d(2022, 5, 10), d(2025, 10, 1)).unwrap();
        assert_eq!(t.date, d(2026, 4, 1));
        assert_eq!(class_age(d(2022, 5, 10), 2026), 3);
        // On April 1 itself, that day counts.
        let t = earliest_nursery_entry(d(2022, 5, 10), d(2026, 4, 1)).unwrap();
        assert_eq!(t.date, d(2026, 4, 1));
    }

    #[test]
    fn no_nursery_entry_once_school_is_next() {
        // Born 2020-04-02: April 2026 is the 5歳児クラス, April 2027 is 就学.
        assert_eq!(
            earliest_nursery_entry(d(2020, 4, 2), d(2026, 3, 1))
                .unwrap()
                .date,
            d(2026, 4, 1)
        );
        assert_eq!(earliest_nursery_entry(d(2020, 4, 2), d(2026, 4, 2)), None);
        assert_eq!(earliest_nursery_entry(d(2010, 1, 1), d(2026, 4, 2)), None);
    }

    #[test]
    fn horizon_filters_both_ends() {
        let birth = d(2020, 4, 2);
        let today = d(2025, 10, 1);
        // 18 months ends on 2027-04-01: 就学 is on the last day, so it is in.
        let list = upcoming(birth, today, BOARD_HORIZON_MONTHS);
        let kinds: Vec<_> = list.iter().map(|t| t.kind).collect();
        assert_eq!(
            kinds,
            [TransitionKind::NurseryEntry, TransitionKind::SchoolEntry]
        );
        assert_eq!(list[0].date, d(2026, 4, 1));
        assert_eq!(list[1].date, d(2027, 4, 1));
        // 17 months ends on 2027-03-01.
        let list = upcoming(birth, today, 17);
        assert_eq!(find(&list, TransitionKind::SchoolEntry), None);
        assert!(find(&list, TransitionKind::NurseryEntry).is_some());
        // Past transitions drop out; the day itself is kept.
        let list = upcoming(birth, d(2027, 4, 1), 0);
        assert_eq!(list.len(), 1);
        assert_eq!(list[0].kind, TransitionKind::SchoolEntry);
        assert!(upcoming(birth, d(2027, 4, 2), BOARD_HORIZON_MONTHS).is_empty());
        // Everything, far enough ahead, in date order.
        let all = upcoming(birth, d(2020, 4, 2), 12 * 20);
        let kinds: Vec<_> = all.iter().map(|t| t.kind).collect();
        assert_eq!(kinds, TransitionKind::ALL);
        assert!(all.windows(2).all(|w| w[0].date < w[1].date));
        // Huge horizons saturate instead of failing.
        assert_eq!(upcoming(birth, d(2020, 4, 2), u32::MAX).len(), 5);
    }

    #[test]
    fn graduation_in_the_board_horizon() {
        // Born 2008-04-02: 高等部3年 in FY2026, graduates 2027-03-31.
        let birth = d(2008, 4, 2);
        let list = upcoming(birth, d(2025, 9, 1), BOARD_HORIZON_MONTHS);
        assert!(list.is_empty(), "{list:?}");
        let list = upcoming(birth, d(2025, 10, 1), BOARD_HORIZON_MONTHS);
        assert_eq!(list.len(), 1);
        assert_eq!(list[0].kind, TransitionKind::Graduation);
        assert_eq!(list[0].date, d(2027, 3, 31));
        assert_eq!(list[0].fiscal_year, 2026);
        assert_eq!(list[0].prepare_from, d(2026, 4, 1));
        assert!(upcoming(birth, d(2027, 4, 1), BOARD_HORIZON_MONTHS).is_empty());
    }

    #[test]
    fn extreme_dates_do_not_panic() {
        for birth in [NaiveDate::MIN, NaiveDate::MAX, d(1, 1, 1)] {
            for today in [NaiveDate::MIN, NaiveDate::MAX, d(2026, 4, 1)] {
                let _ = upcoming(birth, today, BOARD_HORIZON_MONTHS);
                let _ = upcoming(birth, today, u32::MAX);
            }
        }
    }

    #[test]
    fn labels_in_japanese() {
        assert_eq!(TransitionKind::NurseryEntry.label_ja(), "保育所等入園");
        assert_eq!(TransitionKind::SchoolEntry.label_ja(), "就学（小学校入学）");
        assert_eq!(TransitionKind::JuniorHigh.label_ja(), "中学校入学");
        assert_eq!(
            TransitionKind::UpperSecondary.label_ja(),
            "高等部・高校入学"
        );
        assert_eq!(TransitionKind::Graduation.label_ja(), "卒業（卒後）");
        assert_eq!(TransitionKind::SchoolEntry.code(), "school_entry");
    }
}
