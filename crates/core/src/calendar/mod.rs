//! Japanese calendar rules: 祝日, 年末年始, 年度, class age and life stage, 和暦.
//! Every function takes the date it is about; none reads the clock.

pub mod fiscal;
mod holiday_rules;
pub mod holidays;
pub mod wareki;

pub use fiscal::{
    LifeStage, births_for_class_ages, class_age, fiscal_year, fiscal_year_end, fiscal_year_start,
    is_government_business_day, is_year_end_closure, life_stage,
};
pub use holidays::{
    Holiday, HolidayError, SUPPORTED_YEARS, holiday_name, holidays_between, holidays_in_year,
    is_holiday,
};
pub use wareki::{
    Era, era_of, format_fiscal_year, format_wareki, format_wareki_with_seireki, parse_date_ja,
};

/// A date for tables of rules kept in code (holiday rules, the care-score table's dates).
/// Used in `const` items, so it is evaluated at compile time: a mistyped date fails the
/// build, never a request.
#[allow(clippy::panic, reason = "compile-time only: a const evaluation error")]
pub const fn const_date(year: i32, month: u32, day: u32) -> chrono::NaiveDate {
    match chrono::NaiveDate::from_ymd_opt(year, month, day) {
        Some(date) => date,
        None => panic!("invalid date in a table of rules"),
    }
}
