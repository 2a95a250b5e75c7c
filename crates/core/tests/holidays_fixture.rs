//! Checks every holiday 1955–2099 against an independent source: the PyPI package
//! jpholiday 1.0.3, written out by `data/generate_holidays_fixture.py`.

// Test code: a failed expectation is the test failing.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeMap;

use tsunagu_core::calendar::holidays_between;

const FIXTURE: &str = include_str!("data/holidays_1955_2099.csv");

/// Where jpholiday 1.0.3 departs from the law, we keep the law. The Cabinet Office list
/// (syukujitsu.csv, 1955–2025) agrees with us on both points, and the PyPI package
/// `holidays` (0.108) agrees with us on every date of 1955–2099:
///
/// 1. jpholiday applies 国民の休日 (Article 3(3)) to every year, but the clause came
///    with the 1985 amendment (昭和60年法律第103号, in force 1985-12-27). So it marks
///    May 4 of 1955–1985 whenever that was not a Sunday: 26 days. The Cabinet Office's
///    first such 休日 is 1988-05-04.
/// 2. jpholiday applies 振替休日 from 1973-01-01, but the 1973 amendment (昭和48年法律
///    第10号) took effect on 1973-04-12. So it marks 1973-02-12, the Monday after a
///    Sunday 建国記念の日. The Cabinet Office's first 振替休日 is 1973-04-30.
fn jpholiday_is_wrong(date: &str, name: &str) -> bool {
    (name == "国民の休日" && date < "1985-12-27") || (name == "振替休日" && date < "1973-04-12")
}

/// How many fixture rows [`jpholiday_is_wrong`] drops; a change means the fixture or
/// the exceptions need a look.
const EXPECTED_EXCEPTIONS: usize = 27;

fn fixture() -> BTreeMap<String, String> {
    let mut lines = FIXTURE.lines();
    assert_eq!(lines.next(), Some("date,name"), "fixture header");
    lines
        .map(|line| {
            let (date, name) = line.split_once(',').expect("date,name");
            (date.to_string(), name.to_string())
        })
        .collect()
}

#[test]
fn holidays_match_the_independent_fixture() {
    let mut expected = fixture();
    assert_eq!(
        expected.len(),
        FIXTURE.lines().count() - 1,
        "duplicate dates"
    );
    let before = expected.len();
    expected.retain(|date, name| !jpholiday_is_wrong(date, name));
    assert_eq!(
        before - expected.len(),
        EXPECTED_EXCEPTIONS,
        "the number of jpholiday exceptions changed"
    );

    let ours: BTreeMap<String, String> = holidays_between(1955, 2099)
        .expect("supported years")
        .into_iter()
        .map(|h| (h.date.to_string(), h.name.to_string()))
        .collect();

    let mut dates: Vec<&String> = expected.keys().chain(ours.keys()).collect();
    dates.sort();
    dates.dedup();
    let mismatches: Vec<String> = dates
        .into_iter()
        .filter(|date| expected.get(*date) != ours.get(*date))
        .map(|date| {
            format!(
                "{date}: fixture {:?}, ours {:?}",
                expected.get(date),
                ours.get(date)
            )
        })
        .collect();
    assert!(
        mismatches.is_empty(),
        "{} mismatches, first ones:\n{}",
        mismatches.len(),
        mismatches
            .iter()
            .take(30)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    );
}
