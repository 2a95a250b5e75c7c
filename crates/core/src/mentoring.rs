//! The parent-mentor programme's rules (ペアレントメンター) as data: the days and time slots of
//! online consultations, how far ahead a family applies, who may apply. Another prefecture
//! runs the programme with other days and slots by adding a [`Programme`], not by code.

use chrono::{Datelike, Duration, NaiveDate, NaiveTime, Weekday};

use crate::calendar::{holiday_name, is_government_business_day, is_year_end_closure};

/// One time slot of the day's template: start and end, minutes after midnight.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SlotTime {
    pub starts: u32,
    pub ends: u32,
}

impl SlotTime {
    pub const fn new(start_h: u32, start_m: u32, end_h: u32, end_m: u32) -> Self {
        SlotTime {
            starts: start_h * 60 + start_m,
            ends: end_h * 60 + end_m,
        }
    }

    pub fn starts_at(self) -> NaiveTime {
        NaiveTime::from_hms_opt(self.starts / 60, self.starts % 60, 0).unwrap_or(NaiveTime::MIN)
    }

    pub fn ends_at(self) -> NaiveTime {
        NaiveTime::from_hms_opt(self.ends / 60, self.ends % 60, 0).unwrap_or(NaiveTime::MIN)
    }

    /// 「10:30〜11:30」
    pub fn label_ja(self) -> String {
        format!(
            "{}〜{}",
            self.starts_at().format("%-H:%M"),
            self.ends_at().format("%-H:%M")
        )
    }

    pub fn minutes(self) -> u32 {
        self.ends.saturating_sub(self.starts)
    }
}

/// A programme: where it runs, its days and slots, and its application rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Programme {
    /// The prefecture (two digits) whose residents it serves.
    pub prefecture: &'static str,
    pub name: &'static str,
    /// Days of the week consultations are held.
    pub weekdays: &'static [Weekday],
    /// The day's slots, in order.
    pub slots: &'static [SlotTime],
    /// No consultation is longer than this (one hour per family).
    pub max_minutes: u32,
    /// Applications come at least this many government business days before the slot.
    pub min_notice_business_days: u32,
    /// … and at most this many days ahead.
    pub max_days_ahead: u32,
    /// Applications a family may have waiting at once.
    pub pending_per_family: u32,
    /// Where the rules come from, and when they were checked.
    pub source: &'static str,
    pub revised: &'static str,
}

/// Tokyo's programme (seed 000: 東京都福祉局「医療的ケア児 ペアレントメンター事業」, 令和7年8月):
/// Monday, Wednesday and Thursday; 10:30–11:30, 13:00–14:00, 20:00–21:00; one hour per
/// family; not on 祝日 or 年末年始; prior application. The notice (3 business days) and the
/// window (90 days) are the office's settings, not the leaflet's.
pub const TOKYO: Programme = Programme {
    prefecture: "13",
    name: "東京都 医療的ケア児ペアレントメンター事業",
    weekdays: &[Weekday::Mon, Weekday::Wed, Weekday::Thu],
    slots: &[
        SlotTime::new(10, 30, 11, 30),
        SlotTime::new(13, 0, 14, 0),
        SlotTime::new(20, 0, 21, 0),
    ],
    max_minutes: 60,
    min_notice_business_days: 3,
    max_days_ahead: 90,
    pending_per_family: 1,
    source: "東京都福祉局「医療的ケア児 ペアレントメンター事業 家族による家族の就労に向けた相談支援」（令和7年8月発行）",
    revised: "2026-12-08",
};

/// Every programme tsunagu runs.
pub const PROGRAMMES: &[Programme] = &[TOKYO];

/// The programme of a prefecture (two digits), if it runs one.
pub fn programme_for(prefecture: &str) -> Option<&'static Programme> {
    PROGRAMMES.iter().find(|p| p.prefecture == prefecture)
}

/// One consultation slot: a day and the index of its time in the programme's template.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Slot {
    pub date: NaiveDate,
    pub index: usize,
}

impl Slot {
    pub fn time(self, programme: &Programme) -> Option<SlotTime> {
        programme.slots.get(self.index).copied()
    }

    /// 「令和8年12月14日（月）10:30〜11:30」
    pub fn label_ja(self, programme: &Programme) -> String {
        let weekday = ["月", "火", "水", "木", "金", "土", "日"]
            [self.date.weekday().num_days_from_monday() as usize];
        format!(
            "{}（{weekday}）{}",
            crate::calendar::format_wareki(self.date),
            self.time(programme)
                .map(SlotTime::label_ja)
                .unwrap_or_default()
        )
    }

    /// `2026-12-14T10:30`: how a slot travels in forms and is stored.
    pub fn key(self, programme: &Programme) -> String {
        format!(
            "{}T{}",
            self.date.format("%Y-%m-%d"),
            self.time(programme)
                .map(|t| t.starts_at().format("%H:%M").to_string())
                .unwrap_or_default()
        )
    }
}

/// Why a wished slot cannot be taken.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WishError {
    Unreadable,
    NotAConsultationDay,
    Holiday(&'static str),
    YearEnd,
    NotASlot,
    Past,
    TooSoon { earliest: NaiveDate },
    TooFar { latest: NaiveDate },
}

impl WishError {
    pub fn code(&self) -> &'static str {
        match self {
            WishError::Unreadable => "format",
            WishError::NotAConsultationDay => "weekday",
            WishError::Holiday(_) => "holiday",
            WishError::YearEnd => "year_end",
            WishError::NotASlot => "not_a_slot",
            WishError::Past => "past",
            WishError::TooSoon { .. } => "too_soon",
            WishError::TooFar { .. } => "too_far",
        }
    }

    pub fn message_ja(&self, programme: &Programme) -> String {
        match self {
            WishError::Unreadable => "希望日時を選んでください".into(),
            WishError::NotAConsultationDay => format!(
                "相談は{}曜日だけです",
                programme
                    .weekdays
                    .iter()
                    .map(|d| ["月", "火", "水", "木", "金", "土", "日"]
                        [d.num_days_from_monday() as usize])
                    .collect::<Vec<_>>()
                    .join("・")
            ),
            WishError::Holiday(name) => format!("{name}（祝日）は相談をお休みしています"),
            WishError::YearEnd => "年末年始（12月29日〜1月3日）は相談をお休みしています".into(),
            WishError::NotASlot => format!(
                "相談の時間帯は {} です",
                programme
                    .slots
                    .iter()
                    .map(|s| s.label_ja())
                    .collect::<Vec<_>>()
                    .join("、")
            ),
            WishError::Past => "過ぎた日時は選べません".into(),
            WishError::TooSoon { earliest } => format!(
                "お申し込みは{}営業日前までです。{}以降の日時を選んでください",
                programme.min_notice_business_days,
                crate::calendar::format_wareki(*earliest)
            ),
            WishError::TooFar { latest } => format!(
                "{}日先までの日時を選んでください（{}まで）",
                programme.max_days_ahead,
                crate::calendar::format_wareki(*latest)
            ),
        }
    }
}

/// The first day a slot may be wished for when applying `today`: `min_notice` government
/// business days after today.
pub fn earliest_day(programme: &Programme, today: NaiveDate) -> NaiveDate {
    let mut day = today;
    let mut counted = 0;
    while counted < programme.min_notice_business_days {
        day += Duration::days(1);
        if is_government_business_day(day) {
            counted += 1;
        }
    }
    day + Duration::days(1)
}

/// The last day a slot may be wished for.
pub fn latest_day(programme: &Programme, today: NaiveDate) -> NaiveDate {
    today + Duration::days(i64::from(programme.max_days_ahead))
}

/// Whether consultations are held on `date` at all (the day's rule alone).
pub fn is_consultation_day(programme: &Programme, date: NaiveDate) -> Result<(), WishError> {
    if let Some(name) = holiday_name(date) {
        return Err(WishError::Holiday(name));
    }
    if is_year_end_closure(date) {
        return Err(WishError::YearEnd);
    }
    if !programme.weekdays.contains(&date.weekday()) {
        return Err(WishError::NotAConsultationDay);
    }
    // The holiday list covers 1955–2099; outside it no day can be checked.
    if !crate::calendar::holidays::SUPPORTED_YEARS.contains(&date.year()) {
        return Err(WishError::TooFar { latest: date });
    }
    Ok(())
}

/// A wished date and start time, checked against the programme on `today`.
pub fn check_wish(
    programme: &Programme,
    date: NaiveDate,
    starts: NaiveTime,
    today: NaiveDate,
) -> Result<Slot, WishError> {
    if date <= today {
        return Err(WishError::Past);
    }
    is_consultation_day(programme, date)?;
    let minutes = starts.signed_duration_since(NaiveTime::MIN).num_minutes();
    let Some(index) = programme
        .slots
        .iter()
        .position(|s| i64::from(s.starts) == minutes)
    else {
        return Err(WishError::NotASlot);
    };
    let earliest = earliest_day(programme, today);
    if date < earliest {
        return Err(WishError::TooSoon { earliest });
    }
    let latest = latest_day(programme, today);
    if date > latest {
        return Err(WishError::TooFar { latest });
    }
    Ok(Slot { date, index })
}

/// A slot as a form or the database sends it (`2026-12-14T10:30`), checked.
pub fn parse_wish(programme: &Programme, text: &str, today: NaiveDate) -> Result<Slot, WishError> {
    let (date, time) = text.trim().split_once('T').ok_or(WishError::Unreadable)?;
    let date = NaiveDate::parse_from_str(date, "%Y-%m-%d").map_err(|_| WishError::Unreadable)?;
    let time = NaiveTime::parse_from_str(time, "%H:%M").map_err(|_| WishError::Unreadable)?;
    check_wish(programme, date, time, today)
}

/// A stored slot key read back (no window check: it was checked when taken).
pub fn slot_of_key(programme: &Programme, key: &str) -> Option<Slot> {
    let (date, time) = key.split_once('T')?;
    let date = NaiveDate::parse_from_str(date, "%Y-%m-%d").ok()?;
    let time = NaiveTime::parse_from_str(time, "%H:%M").ok()?;
    let minutes = time.signed_duration_since(NaiveTime::MIN).num_minutes();
    let index = programme
        .slots
        .iter()
        .position(|s| i64::from(s.starts) == minutes)?;
    Some(Slot { date, index })
}

/// Every slot of the programme from `from` to `to` (inclusive), in order: the days and
/// times consultations may be held, before any mentor's availability.
pub fn slots_between(programme: &Programme, from: NaiveDate, to: NaiveDate) -> Vec<Slot> {
    let mut out = Vec::new();
    let mut day = from;
    while day <= to {
        if is_consultation_day(programme, day).is_ok() {
            out.extend((0..programme.slots.len()).map(|index| Slot { date: day, index }));
        }
        day += Duration::days(1);
    }
    out
}

/// Topics a consultation can be about (seed 000), as data.
pub const TOPICS: &[(&str, &str)] = &[
    ("return_to_work", "復職"),
    ("new_job", "再就職"),
    ("job_search", "就職活動"),
    ("skills", "スキルアップ"),
    ("balance", "仕事と子育ての両立"),
    ("listen", "話を聞いてほしい"),
];

pub fn topic_label(code: &str) -> Option<&'static str> {
    TOPICS.iter().find(|(c, _)| *c == code).map(|(_, l)| *l)
}

/// A family's work situation, as an application states it.
pub const WORK_SITUATIONS: &[(&str, &str)] = &[
    ("working", "働いている"),
    ("on_leave", "休業中（育児休業など）"),
    ("seeking", "働きたい（仕事を探している・考えている）"),
    ("not_working", "いまは働いていない"),
];

/// Whether a work situation may apply for an individual consultation: working or wishing
/// to (おしゃべりcafe is open to every parent).
pub fn may_consult(work: &str) -> bool {
    matches!(work, "working" | "on_leave" | "seeking")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    fn at(h: u32, m: u32) -> NaiveTime {
        NaiveTime::from_hms_opt(h, m, 0).unwrap()
    }

    #[test]
    fn no_slot_falls_on_a_holiday_the_year_end_or_outside_the_template() {
        // Every day the holiday list knows: the rules never produce a slot on a 祝日 or
        // 休日, in 12/29–1/3, on a day other than Mon/Wed/Thu, or at another time.
        for programme in PROGRAMMES {
            let slots = slots_between(programme, day(1955, 1, 1), day(2099, 12, 31));
            assert!(slots.len() > 10_000);
            for slot in slots {
                assert!(!crate::calendar::is_holiday(slot.date), "{slot:?}");
                assert!(!is_year_end_closure(slot.date), "{slot:?}");
                assert!(
                    programme.weekdays.contains(&slot.date.weekday()),
                    "{slot:?}"
                );
                let time = slot.time(programme).unwrap();
                assert!(programme.slots.contains(&time));
                assert!(time.minutes() <= programme.max_minutes);
            }
        }
    }

    #[test]
    fn a_wish_is_checked_against_every_rule() {
        let p = &TOKYO;
        // Monday 2026-12-07; three business days' notice: the 10th at the earliest… the
        // 11th: 8, 9, 10 are the three business days, the slot comes after them.
        let today = day(2026, 12, 7);
        assert_eq!(earliest_day(p, today), day(2026, 12, 11));
        assert_eq!(
            check_wish(p, day(2026, 12, 14), at(10, 30), today),
            Ok(Slot {
                date: day(2026, 12, 14),
                index: 0
            })
        );
        assert_eq!(
            check_wish(p, day(2026, 12, 15), at(10, 30), today),
            Err(WishError::NotAConsultationDay)
        );
        assert_eq!(
            check_wish(p, day(2026, 12, 14), at(11, 0), today),
            Err(WishError::NotASlot)
        );
        assert_eq!(
            check_wish(p, day(2026, 12, 10), at(13, 0), today),
            Err(WishError::TooSoon {
                earliest: day(2026, 12, 11)
            })
        );
        assert_eq!(
            check_wish(p, day(2026, 12, 31), at(13, 0), today),
            Err(WishError::YearEnd)
        );
        assert_eq!(
            check_wish(p, day(2027, 1, 11), at(13, 0), today),
            Err(WishError::Holiday("成人の日"))
        );
        assert_eq!(
            check_wish(p, day(2026, 12, 2), at(13, 0), today),
            Err(WishError::Past)
        );
        assert!(matches!(
            check_wish(p, day(2027, 6, 7), at(13, 0), today),
            Err(WishError::TooFar { .. })
        ));
        assert!(
            WishError::Holiday("成人の日")
                .message_ja(p)
                .contains("成人の日（祝日）")
        );
        assert_eq!(
            parse_wish(p, "2026-12-14T20:00", today).map(|s| s.key(p)),
            Ok("2026-12-14T20:00".to_string())
        );
        assert_eq!(parse_wish(p, "あした", today), Err(WishError::Unreadable));
    }

    #[test]
    fn another_programme_is_data() {
        const OTHER: Programme = Programme {
            prefecture: "41",
            name: "佐賀県（例）",
            weekdays: &[Weekday::Tue],
            slots: &[SlotTime::new(19, 0, 20, 0)],
            max_minutes: 60,
            min_notice_business_days: 1,
            max_days_ahead: 30,
            pending_per_family: 2,
            source: "test",
            revised: "2026-12-08",
        };
        let slots = slots_between(&OTHER, day(2026, 12, 7), day(2026, 12, 20));
        assert_eq!(
            slots.iter().map(|s| s.date).collect::<Vec<_>>(),
            vec![day(2026, 12, 8), day(2026, 12, 15)]
        );
    }
}
