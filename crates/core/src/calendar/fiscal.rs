//! 年度 (April–March), 年末年始, government business days, class age and life stage.

use chrono::{Datelike, NaiveDate, Weekday};
use serde::Serialize;

use super::holidays::is_holiday;

/// The 年度 of `date`, named by the calendar year in which it starts.
pub fn fiscal_year(date: NaiveDate) -> i32 {
    if date.month() >= 4 {
        date.year()
    } else {
        date.year() - 1
    }
}

/// April 1 of the 年度. Saturates at chrono's limits instead of failing.
pub fn fiscal_year_start(fy: i32) -> NaiveDate {
    NaiveDate::from_ymd_opt(fy, 4, 1).unwrap_or(if fy < 0 {
        NaiveDate::MIN
    } else {
        NaiveDate::MAX
    })
}

/// March 31 of the following calendar year.
pub fn fiscal_year_end(fy: i32) -> NaiveDate {
    NaiveDate::from_ymd_opt(fy.saturating_add(1), 3, 31).unwrap_or(if fy < 0 {
        NaiveDate::MIN
    } else {
        NaiveDate::MAX
    })
}

/// 年末年始: government offices close from December 29 to January 3.
pub fn is_year_end_closure(date: NaiveDate) -> bool {
    matches!((date.month(), date.day()), (12, 29..=31) | (1, 1..=3))
}

/// A day government offices are open: a weekday, not a 祝日 or 休日, not 年末年始.
/// Outside the years holidays are known for, only weekends and 年末年始 count.
pub fn is_government_business_day(date: NaiveDate) -> bool {
    !matches!(date.weekday(), Weekday::Sat | Weekday::Sun)
        && !is_holiday(date)
        && !is_year_end_closure(date)
}

/// The child's age on April 1 of the 年度, which fixes nursery class and school grade.
/// Legal age rises the day before the birthday, so an April 1 birthday already counts
/// on April 1 and joins the older class; April 2 starts the younger one.
pub fn class_age(birth: NaiveDate, fy: i32) -> i32 {
    let after_april_first = (birth.month(), birth.day()) > (4, 1);
    // Saturating: a nonsense 年度 must not panic a request.
    fy.saturating_sub(birth.year())
        .saturating_sub(i32::from(after_april_first))
}

/// Where a child is in the nursery/school sequence during one 年度.
///
/// Serialized as `{"stage": "nursery_class", "grade": 2}`; stages without a grade have
/// no `grade` key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(tag = "stage", content = "grade", rename_all = "snake_case")]
pub enum LifeStage {
    /// Born after this 年度 ends (class age ≤ −2): not yet born during it.
    Unborn,
    /// Born during this 年度 after April 1 (class age −1). A nursery that takes such a
    /// baby mid-year puts them in the 0歳児クラス; they are again 0歳児クラス next 年度.
    Infant,
    /// 0歳児クラス … 5歳児クラス (class age 0–5).
    NurseryClass(u8),
    /// 小学1年 … 6年 (class age 6–11).
    Elementary(u8),
    /// 中学1年 … 3年 (class age 12–14).
    JuniorHigh(u8),
    /// 高校・特別支援学校高等部 1年 … 3年 (class age 15–17).
    UpperSecondary(u8),
    /// 卒後: after upper secondary (class age 18 or more).
    AfterSchool,
}

impl LifeStage {
    /// How the stage is shown to people, e.g. 「2歳児クラス」「小学3年」「高等部2年」.
    pub fn label_ja(&self) -> String {
        match self {
            LifeStage::Unborn => "出生前".to_string(),
            LifeStage::Infant => "0歳（年度途中の出生）".to_string(),
            LifeStage::NurseryClass(n) => format!("{n}歳児クラス"),
            LifeStage::Elementary(n) => format!("小学{n}年"),
            LifeStage::JuniorHigh(n) => format!("中学{n}年"),
            LifeStage::UpperSecondary(n) => format!("高等部{n}年"),
            LifeStage::AfterSchool => "卒後".to_string(),
        }
    }
}

/// The child's stage in 年度 `fy`, from the class age.
pub fn life_stage(birth: NaiveDate, fy: i32) -> LifeStage {
    let age = class_age(birth, fy);
    // Each arm's range bounds `age - start`, so the u8 conversions cannot fail.
    let grade = |start: i32| u8::try_from(age - start + 1).unwrap_or(u8::MAX);
    match age {
        i32::MIN..=-2 => LifeStage::Unborn,
        -1 => LifeStage::Infant,
        0..=5 => LifeStage::NurseryClass(u8::try_from(age).unwrap_or(u8::MAX)),
        6..=11 => LifeStage::Elementary(grade(6)),
        12..=14 => LifeStage::JuniorHigh(grade(12)),
        15..=17 => LifeStage::UpperSecondary(grade(15)),
        18.. => LifeStage::AfterSchool,
    }
}

/// The birth dates (first, last) of the children whose class age in 年度 `fy` lies in
/// `youngest..=oldest` (the inverse of [`class_age`]): class age k means born from April 2
/// of `fy - k - 1` to April 1 of `fy - k`.
pub fn births_for_class_ages(fy: i32, youngest: i32, oldest: i32) -> (NaiveDate, NaiveDate) {
    let april = |year: i32, day: u32| {
        NaiveDate::from_ymd_opt(year, 4, day).unwrap_or(if day == 1 {
            NaiveDate::MIN
        } else {
            NaiveDate::MAX
        })
    };
    (
        april(fy.saturating_sub(oldest).saturating_sub(1), 2),
        april(fy.saturating_sub(youngest), 1),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn fiscal_year_turns_on_april_first() {
        assert_eq!(fiscal_year(d(2026, 3, 31)), 2025);
        assert_eq!(fiscal_year(d(2026, 4, 1)), 2026);
        assert_eq!(fiscal_year(d(2026, 1, 1)), 2025);
        assert_eq!(fiscal_year(d(2025, 12, 31)), 2025);
        assert_eq!(fiscal_year_start(2025), d(2025, 4, 1));
        assert_eq!(fiscal_year_end(2025), d(2026, 3, 31));
        assert_eq!(fiscal_year_end(2023), d(2024, 3, 31));
    }

    #[test]
    fn fiscal_year_bounds_round_trip() {
        for fy in 1955..=2099 {
            assert_eq!(fiscal_year(fiscal_year_start(fy)), fy);
            assert_eq!(fiscal_year(fiscal_year_end(fy)), fy);
            assert_eq!(
                fiscal_year_end(fy).succ_opt(),
                Some(fiscal_year_start(fy + 1))
            );
        }
        assert_eq!(fiscal_year_start(i32::MAX), NaiveDate::MAX);
        assert_eq!(fiscal_year_end(i32::MIN), NaiveDate::MIN);
    }

    #[test]
    fn year_end_closure_is_dec_29_to_jan_3() {
        assert!(!is_year_end_closure(d(2025, 12, 28)));
        assert!(is_year_end_closure(d(2025, 12, 29)));
        assert!(is_year_end_closure(d(2025, 12, 31)));
        assert!(is_year_end_closure(d(2026, 1, 1)));
        assert!(is_year_end_closure(d(2026, 1, 3)));
        assert!(!is_year_end_closure(d(2026, 1, 4)));
    }

    #[test]
    fn government_business_days() {
        assert!(is_government_business_day(d(2025, 12, 26))); // Friday
        assert!(!is_government_business_day(d(2025, 12, 27))); // Saturday
        assert!(!is_government_business_day(d(2025, 12, 29))); // Monday, 年末年始
        assert!(!is_government_business_day(d(2026, 1, 2))); // Friday, 年末年始
        assert!(is_government_business_day(d(2026, 1, 5))); // Monday
        assert!(!is_government_business_day(d(2026, 1, 12))); // 成人の日
        assert!(!is_government_business_day(d(2026, 9, 22))); // 国民の休日
        assert!(!is_government_business_day(d(2019, 5, 6))); // 振替休日
        assert!(is_government_business_day(d(2100, 1, 4))); // Monday, holidays unknown
    }

    #[test]
    fn april_first_joins_the_older_class() {
        // Born 2019-04-01 and 2018-04-02 share a class; 2019-04-02 is a year younger.
        assert_eq!(class_age(d(2019, 4, 1), 2025), 6);
        assert_eq!(class_age(d(2018, 4, 2), 2025), 6);
        assert_eq!(class_age(d(2019, 4, 2), 2025), 5);
        assert_eq!(class_age(d(2020, 1, 1), 2025), 5);
        assert_eq!(class_age(d(2019, 3, 31), 2025), 6);
        assert_eq!(life_stage(d(2019, 4, 1), 2025), LifeStage::Elementary(1));
        assert_eq!(life_stage(d(2019, 4, 2), 2025), LifeStage::NurseryClass(5));
        // Feb 29 comes before April 1 like any early-year birthday.
        assert_eq!(class_age(d(2020, 2, 29), 2026), 6);
    }

    #[test]
    fn life_stage_boundaries() {
        let birth = d(2020, 6, 15);
        let stage = |fy| life_stage(birth, fy);
        assert_eq!(stage(2018), LifeStage::Unborn);
        assert_eq!(stage(2019), LifeStage::Unborn);
        assert_eq!(stage(2020), LifeStage::Infant);
        assert_eq!(stage(2021), LifeStage::NurseryClass(0));
        assert_eq!(stage(2026), LifeStage::NurseryClass(5));
        assert_eq!(stage(2027), LifeStage::Elementary(1));
        assert_eq!(stage(2032), LifeStage::Elementary(6));
        assert_eq!(stage(2033), LifeStage::JuniorHigh(1));
        assert_eq!(stage(2035), LifeStage::JuniorHigh(3));
        assert_eq!(stage(2036), LifeStage::UpperSecondary(1));
        assert_eq!(stage(2038), LifeStage::UpperSecondary(3));
        assert_eq!(stage(2039), LifeStage::AfterSchool);
        assert_eq!(stage(2100), LifeStage::AfterSchool);
        assert_eq!(life_stage(birth, i32::MIN), LifeStage::Unborn);
        assert_eq!(life_stage(birth, i32::MAX), LifeStage::AfterSchool);
    }

    #[test]
    fn labels_in_japanese() {
        assert_eq!(LifeStage::NurseryClass(2).label_ja(), "2歳児クラス");
        assert_eq!(LifeStage::Elementary(3).label_ja(), "小学3年");
        assert_eq!(LifeStage::JuniorHigh(1).label_ja(), "中学1年");
        assert_eq!(LifeStage::UpperSecondary(2).label_ja(), "高等部2年");
        assert_eq!(LifeStage::AfterSchool.label_ja(), "卒後");
        assert_eq!(LifeStage::Unborn.label_ja(), "出生前");
    }

    #[test]
    fn birth_ranges_invert_class_age_at_the_april_boundaries() {
        let (first, last) = births_for_class_ages(2026, 6, 6);
        assert_eq!((first, last), (d(2019, 4, 2), d(2020, 4, 1)));
        assert_eq!(class_age(first, 2026), 6);
        assert_eq!(class_age(last, 2026), 6);
        assert_eq!(class_age(first.pred_opt().unwrap(), 2026), 7);
        assert_eq!(class_age(last.succ_opt().unwrap(), 2026), 5);
        let (first, last) = births_for_class_ages(2026, 15, 17);
        assert_eq!((first, last), (d(2008, 4, 2), d(2011, 4, 1)));
    }

    #[test]
    fn past_eighteen_and_still_at_school() {
        // Born 2008-04-02: 18 on 2026-04-02, yet 高等部3年 until 2027-03-31.
        let birth = d(2008, 4, 2);
        assert_eq!(life_stage(birth, 2026), LifeStage::UpperSecondary(3));
        assert_eq!(life_stage(birth, 2027), LifeStage::AfterSchool);
        // Born 2008-04-01 belongs to the year above: already 卒後 in 2026.
        assert_eq!(life_stage(d(2008, 4, 1), 2026), LifeStage::AfterSchool);
        assert_eq!(
            crate::transitions::school_transitions(birth)[3].date,
            d(2027, 3, 31)
        );
    }
}
