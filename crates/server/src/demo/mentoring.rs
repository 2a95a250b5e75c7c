//! The demo's parent-mentor programme: fictional mentors of 東京都's office with varied
//! stories and weekly availability (one is the demo's mentor account), and applications
//! in each state, so the office, the mentor and the family each find their work.

use chrono::{DateTime, Duration, Utc};
use tsunagu_core::ids::{AccountId, OrganisationId};
use tsunagu_core::mentoring::{TOKYO, earliest_day, slots_between};

use crate::error::StartupError;
use crate::features::mentoring::repo::{self, MentorInput, NewApplication};

/// One fictional mentor: nickname, child's care, work, topics, story, weekly slots.
struct Demo {
    nickname: &'static str,
    care: &'static [&'static str],
    industry: &'static str,
    work_style: &'static str,
    work_path: &'static str,
    topics: &'static [&'static str],
    story: &'static str,
    /// `(weekday from Monday = 0, slot index)`.
    weekly: &'static [(u32, usize)],
    own_account: bool,
}

const MENTORS: &[Demo] = &[
    Demo {
        nickname: "ひまわり",
        care: &["ventilator", "suction", "tracheostomy"],
        industry: "福祉",
        work_style: "短時間正社員",
        work_path: "new_job",
        topics: &["new_job", "balance", "listen"],
        story: "長男は人工呼吸器と吸引が必要で、夜間もケアがあります。出産後しばらく働けませんでしたが、放課後等デイサービスで短時間正社員として働き始めました。（架空の体験談です）",
        weekly: &[(0, 0), (0, 1), (2, 2)],
        own_account: true,
    },
    Demo {
        nickname: "あおぞら",
        care: &["tube_feeding", "suction"],
        industry: "事務",
        work_style: "在宅勤務・時短",
        work_path: "return_to_work",
        topics: &["return_to_work", "balance"],
        story: "娘は経管栄養です。育児休業のあと、在宅勤務と時短を組み合わせて元の職場に復職しました。（架空の体験談です）",
        weekly: &[(2, 0), (3, 0), (3, 2)],
        own_account: false,
    },
    Demo {
        nickname: "こもれび",
        care: &["oxygen"],
        industry: "IT",
        work_style: "フルタイム（フレックス）",
        work_path: "return_to_work",
        topics: &["skills", "job_search", "listen"],
        story: "息子は在宅酸素を使っています。資格を取り直して転職しました。（架空の体験談です）",
        weekly: &[(0, 2), (3, 1)],
        own_account: false,
    },
];

pub(super) async fn seed(
    conn: &mut sqlx::AnyConnection,
    office: &OrganisationId,
    mentor_account: &AccountId,
    office_staff: &AccountId,
    now: DateTime<Utc>,
) -> Result<(), StartupError> {
    let mut ids = Vec::new();
    for demo in MENTORS {
        let id = uuid::Uuid::new_v4().to_string();
        let input = MentorInput {
            account_id: demo.own_account.then(|| mentor_account.clone()),
            nickname: demo.nickname.into(),
            child_care: demo.care.iter().map(|c| (*c).to_string()).collect(),
            industry: demo.industry.into(),
            work_style: demo.work_style.into(),
            work_path: demo.work_path.into(),
            story: demo.story.into(),
            topics: demo.topics.iter().map(|t| (*t).to_string()).collect(),
            public_consent: true,
            monthly_cap: 4,
            active: true,
            weekly: demo.weekly.to_vec(),
            days_off: Vec::new(),
        };
        repo::insert_mentor(conn, &id, office, &input, now).await?;
        ids.push(id);
    }
    // Applications: two waiting, one confirmed with ひまわり.
    let today = now.with_timezone(&tsunagu_core::clock::JST).date_naive();
    let from = earliest_day(&TOKYO, today);
    let slots = slots_between(&TOKYO, from, from + Duration::days(21));
    let key_of = |weekday: u32, index: usize| {
        slots
            .iter()
            .find(|s| {
                chrono::Datelike::weekday(&s.date).num_days_from_monday() == weekday
                    && s.index == index
            })
            .map(|s| s.key(&TOKYO))
            .unwrap_or_default()
    };
    let applications = [
        (
            "PM-DEMO01",
            "みどり（架空）",
            "131199",
            "on_leave",
            vec!["return_to_work"],
            vec!["ventilator"],
            vec![key_of(0, 0), key_of(2, 2)],
        ),
        (
            "PM-DEMO02",
            "そら（架空）",
            "131202",
            "seeking",
            vec!["job_search", "listen"],
            vec!["tube_feeding"],
            vec![key_of(3, 0)],
        ),
        (
            "PM-DEMO03",
            "ゆき（架空）",
            "131199",
            "working",
            vec!["balance"],
            vec!["suction"],
            vec![key_of(0, 1)],
        ),
    ];
    for (i, (reference, name, town, work, topics, care, wishes)) in applications.iter().enumerate()
    {
        let id = uuid::Uuid::new_v4().to_string();
        let key = uuid::Uuid::new_v4().to_string();
        let topics: Vec<String> = topics.iter().map(|t| (*t).to_string()).collect();
        let care: Vec<String> = care.iter().map(|c| (*c).to_string()).collect();
        let family = format!("email:demo{i}@example.jp");
        repo::insert_application(
            conn,
            &NewApplication {
                id: &id,
                reference,
                office_id: office,
                idempotency_key: &key,
                family_key: &family,
                account_id: None,
                name,
                email: "family@example.jp",
                municipality_code: town,
                child_care: &care,
                work,
                topics: &topics,
                preference: "same_care",
                message: "",
                wishes,
            },
            1,
            now,
        )
        .await?;
        if *reference == "PM-DEMO03"
            && let (Some(mentor), Some(slot)) = (ids.first(), wishes.first())
        {
            repo::confirm(
                conn,
                &id,
                1,
                &uuid::Uuid::new_v4().to_string(),
                mentor,
                slot,
                "https://meet.example.jp/demo",
                office_staff,
                now,
            )
            .await?;
        }
    }
    Ok(())
}
