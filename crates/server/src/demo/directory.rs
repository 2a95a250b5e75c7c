//! The demo's resource directory: 板橋区's five ward nurseries that accept 医療的ケア児
//! (named in the ward's own material), Tokyo's two support centres, and fictional
//! services of the other kinds around the demo's towns. What each accepts and its
//! vacancies are made up for the demo.

use chrono::{DateTime, NaiveDate, Utc};
use tsunagu_core::care::CareItem;
use tsunagu_core::device::DeviceKind;
use tsunagu_core::directory::DeviceRule;
use tsunagu_core::ids::{AccountId, OrganisationId, ServiceId};
use tsunagu_core::municipality::MunicipalityCode;

use super::code;
use crate::db::Db;
use crate::error::StartupError;
use crate::features::directory::repo::{self, Entry};
use crate::organisations::{self, NewOrganisation, OrganisationKind};

/// One demo service: who offers it, what, and its vacancies (class age, places).
struct Demo {
    organisation: Organisation,
    kind: &'static str,
    name: &'static str,
    kana: &'static str,
    description: &'static str,
    town: &'static str,
    address: &'static str,
    ages: Option<(i64, i64)>,
    care: &'static [(CareItem, &'static str)],
    devices: &'static [(DeviceKind, DeviceRule)],
    capacity: Option<i64>,
    care_children_now: Option<i64>,
    areas: &'static [&'static str],
    vacancies: &'static [(i64, i64)],
    nurse_hours: &'static str,
}

/// An organisation of the demo by its key, or a new one.
enum Organisation {
    Existing(&'static str),
    New(&'static str, &'static str, OrganisationKind),
}

const NURSERY_CARE: &[(CareItem, &str)] = &[
    (CareItem::Suction, "看護師のいる時間"),
    (CareItem::TubeFeeding, "看護師のいる時間"),
    (CareItem::Catheterisation, ""),
    (CareItem::BloodGlucose, ""),
];
const DAY_CARE: &[(CareItem, &str)] = &[
    (CareItem::Ventilator, ""),
    (CareItem::Tracheostomy, ""),
    (CareItem::Oxygen, ""),
    (CareItem::Suction, ""),
    (CareItem::Nebulizer, ""),
    (CareItem::TubeFeeding, ""),
    (CareItem::FeedingPump, ""),
    (CareItem::Catheterisation, ""),
    (CareItem::SeizureResponse, ""),
];
const ALL_CARE: &[(CareItem, &str)] = &[
    (CareItem::Ventilator, ""),
    (CareItem::Tracheostomy, ""),
    (CareItem::NasopharyngealAirway, ""),
    (CareItem::Oxygen, ""),
    (CareItem::Suction, ""),
    (CareItem::Nebulizer, ""),
    (CareItem::TubeFeeding, ""),
    (CareItem::FeedingPump, ""),
    (CareItem::CentralVenousCatheter, ""),
    (CareItem::SubcutaneousInjection, ""),
    (CareItem::SubcutaneousPump, ""),
    (CareItem::BloodGlucose, ""),
    (CareItem::Dialysis, ""),
    (CareItem::Catheterisation, ""),
    (CareItem::BowelManagement, ""),
    (CareItem::SeizureResponse, ""),
];
const NO_VENTILATOR: &[(DeviceKind, DeviceRule)] =
    &[(DeviceKind::Ventilator, DeviceRule::NotHandled)];

fn ward_nursery(
    name: &'static str,
    kana: &'static str,
    care: &'static [(CareItem, &'static str)],
    vacancies: &'static [(i64, i64)],
) -> Demo {
    Demo {
        organisation: Organisation::New(name, kana, OrganisationKind::Facility),
        kind: "nursery",
        name,
        kana,
        description: "板橋区立の保育園です。医療的ケアのあるお子さんを、看護師を配置して受け入れています（受け入れの内容と空き状況はデモ用の架空のものです）。",
        town: "131199",
        address: "東京都板橋区",
        ages: Some((1, 5)),
        care,
        devices: NO_VENTILATOR,
        capacity: Some(100),
        care_children_now: Some(1),
        areas: &[],
        vacancies,
        nurse_hours: "平日 8:30〜17:15",
    }
}

fn demos() -> Vec<Demo> {
    vec![
        Demo {
            organisation: Organisation::Existing("nursery"),
            kind: "nursery",
            name: "ひだまり保育園（架空）",
            kana: "ひだまりほいくえん",
            description: "看護師2名が常勤し、人工呼吸器のお子さんも保護者の付き添いのもとで受け入れています。",
            town: "131199",
            address: "東京都板橋区（架空）",
            ages: Some((1, 5)),
            care: &[
                (CareItem::Ventilator, "保護者の付き添いが必要"),
                (CareItem::Tracheostomy, ""),
                (CareItem::Suction, "看護師のいる時間"),
                (CareItem::TubeFeeding, "看護師のいる時間"),
                (CareItem::Oxygen, ""),
                (CareItem::BloodGlucose, ""),
            ],
            devices: &[(DeviceKind::Ventilator, DeviceRule::WithParent)],
            capacity: Some(90),
            care_children_now: Some(2),
            areas: &[],
            vacancies: &[(1, 0), (2, 1), (3, 0), (4, 1), (5, 0)],
            nurse_hours: "平日 8:30〜17:30",
        },
        ward_nursery(
            "高島平あやめ保育園",
            "たかしまだいらあやめほいくえん",
            NURSERY_CARE,
            &[(1, 0), (2, 0), (3, 1), (4, 0), (5, 0)],
        ),
        ward_nursery(
            "上板橋保育園",
            "かみいたばしほいくえん",
            &[
                (CareItem::TubeFeeding, "看護師のいる時間"),
                (CareItem::BloodGlucose, ""),
                (CareItem::SubcutaneousInjection, ""),
            ],
            &[(1, 1), (2, 0), (3, 0), (4, 0), (5, 1)],
        ),
        ward_nursery(
            "中板橋保育園",
            "なかいたばしほいくえん",
            &[
                (CareItem::Suction, "看護師のいる時間"),
                (CareItem::Oxygen, ""),
                (CareItem::Tracheostomy, ""),
                (CareItem::TubeFeeding, ""),
            ],
            &[(1, 0), (2, 0), (3, 0), (4, 0), (5, 0)],
        ),
        ward_nursery(
            "坂下三丁目保育園",
            "さかしたさんちょうめほいくえん",
            NURSERY_CARE,
            &[(1, 0), (2, 1), (3, 0), (4, 0), (5, 0)],
        ),
        ward_nursery(
            "ゆりの木保育園",
            "ゆりのきほいくえん",
            &[
                (CareItem::Catheterisation, ""),
                (CareItem::BloodGlucose, ""),
            ],
            &[(1, 0), (2, 0), (3, 0), (4, 1), (5, 0)],
        ),
        Demo {
            organisation: Organisation::New(
                "重症心身障害児通所 ぽかぽか（架空）",
                "じゅうしょうしんしんしょうがいじつうしょ ぽかぽか",
                OrganisationKind::Facility,
            ),
            kind: "child_development_smid",
            name: "児童発達支援 ぽかぽか（架空）",
            kana: "じどうはったつしえん ぽかぽか",
            description: "重症心身障害児の児童発達支援です。送迎あり（板橋区・練馬区）。",
            town: "131199",
            address: "東京都板橋区（架空）",
            ages: Some((0, 5)),
            care: DAY_CARE,
            devices: &[],
            capacity: Some(5),
            care_children_now: Some(4),
            areas: &["131202"],
            vacancies: &[(-1, 1)],
            nurse_hours: "開所時間中",
        },
        Demo {
            organisation: Organisation::New(
                "放課後等デイサービス にじいろ（架空）",
                "ほうかごとうでいさーびす にじいろ",
                OrganisationKind::Facility,
            ),
            kind: "after_school_day_smid",
            name: "放課後等デイサービス にじいろ（架空）",
            kana: "ほうかごとうでいさーびす にじいろ",
            description: "重症心身障害児の放課後等デイサービスです。特別支援学校からの送迎があります。",
            town: "131202",
            address: "東京都練馬区（架空）",
            ages: Some((6, 17)),
            care: DAY_CARE,
            devices: &[],
            capacity: Some(5),
            care_children_now: Some(5),
            areas: &["131199"],
            vacancies: &[(-1, 0)],
            nurse_hours: "開所時間中",
        },
        Demo {
            organisation: Organisation::Existing("hospital"),
            kind: "short_stay_medical",
            name: "医療型短期入所（いたばし小児医療センター・架空）",
            kana: "いりょうがたたんきにゅうしょ",
            description: "医療型の短期入所です。利用の2か月前から予約を受け付けます。",
            town: "131199",
            address: "東京都板橋区（架空）",
            ages: None,
            care: ALL_CARE,
            devices: &[],
            capacity: Some(4),
            care_children_now: None,
            areas: &["131202", "131172", "131164"],
            vacancies: &[(-1, 2)],
            nurse_hours: "24時間",
        },
        Demo {
            organisation: Organisation::Existing("visiting-nurse"),
            kind: "visiting_nurse",
            name: "訪問看護ステーション そよかぜ（架空）",
            kana: "ほうもんかんごすてーしょん そよかぜ",
            description: "小児の訪問看護を行っています。在宅レスパイトにも対応します。",
            town: "131202",
            address: "東京都練馬区（架空）",
            ages: None,
            care: ALL_CARE,
            devices: &[],
            capacity: None,
            care_children_now: Some(12),
            areas: &["131199"],
            vacancies: &[],
            nurse_hours: "24時間連絡可",
        },
        Demo {
            organisation: Organisation::Existing("consultation"),
            kind: "consultation_support",
            name: "相談支援事業所 みどりのて（架空）",
            kana: "そうだんしえんじぎょうしょ みどりのて",
            description: "障害児相談支援（障害児支援利用計画の作成）を行っています。医療的ケア児等コーディネーターがいます。",
            town: "131199",
            address: "東京都板橋区（架空）",
            ages: None,
            care: &[],
            devices: &[],
            capacity: None,
            care_children_now: None,
            areas: &[],
            vacancies: &[],
            nurse_hours: "",
        },
        Demo {
            organisation: Organisation::Existing("tokyo-centre"),
            kind: "coordinator",
            name: "東京都医療的ケア児支援センター（区部）",
            kana: "とうきょうといりょうてきけあじしえんせんたー くぶ",
            description: "都立大塚病院内。区部の医療的ケア児とご家族、関係機関からの相談を受け付けます。",
            town: "131164",
            address: "東京都豊島区（都立大塚病院内）",
            ages: None,
            care: &[],
            devices: &[],
            capacity: None,
            care_children_now: None,
            areas: &["131199", "131202", "131172"],
            vacancies: &[],
            nurse_hours: "",
        },
        Demo {
            organisation: Organisation::New(
                "東京都医療的ケア児支援センター（多摩）",
                "とうきょうといりょうてきけあじしえんせんたー たま",
                OrganisationKind::SupportCenter,
            ),
            kind: "coordinator",
            name: "東京都医療的ケア児支援センター（多摩）",
            kana: "とうきょうといりょうてきけあじしえんせんたー たま",
            description: "都立小児総合医療センター内。多摩地域の医療的ケア児とご家族、関係機関からの相談を受け付けます。",
            town: "132063",
            address: "東京都府中市（都立小児総合医療センター内）",
            ages: None,
            care: &[],
            devices: &[],
            capacity: None,
            care_children_now: None,
            areas: &["132012", "133078"],
            vacancies: &[],
            nurse_hours: "",
        },
        Demo {
            organisation: Organisation::New(
                "板橋区 福祉避難所（架空）",
                "いたばしく ふくしひなんじょ",
                OrganisationKind::Facility,
            ),
            kind: "welfare_shelter",
            name: "福祉避難所 ときわ（架空）",
            kana: "ふくしひなんじょ ときわ",
            description: "医療的ケア児と家族1名を受け入れます。非常用電源（発電機）があります。",
            town: "131199",
            address: "東京都板橋区（架空）",
            ages: None,
            care: &[
                (CareItem::Ventilator, "家族の付き添いが必要"),
                (CareItem::Suction, "家族の付き添いが必要"),
                (CareItem::Oxygen, ""),
            ],
            devices: &[],
            capacity: Some(10),
            care_children_now: None,
            areas: &[],
            vacancies: &[(-1, 10)],
            nurse_hours: "",
        },
    ]
}

/// Seeds the directory; `orgs` are the demo's organisations by key, `confirmer` the
/// account its figures are confirmed by.
pub(super) async fn seed(
    db: &Db,
    orgs: &super::OrgIds,
    confirmer: &AccountId,
    town_staff: &AccountId,
    now: DateTime<Utc>,
) -> Result<(), StartupError> {
    let as_of = NaiveDate::from_ymd_opt(2026, 12, 1)
        .ok_or_else(|| StartupError::Io("demo date".into()))?
        .min(now.with_timezone(&tsunagu_core::clock::JST).date_naive());
    let mut conn = db.pool().acquire().await?;
    // 板橋区's nurseries, asked in the demo's survey round.
    let mut surveyed: Vec<(ServiceId, OrganisationId, String)> = Vec::new();
    for demo in demos() {
        let organisation: OrganisationId = match demo.organisation {
            Organisation::Existing(key) => orgs
                .get(key)
                .map(|o| o.0.clone())
                .ok_or_else(|| StartupError::Io(format!("demo organisation {key}")))?,
            Organisation::New(name, kana, kind) => {
                organisations::repo::insert(
                    &mut conn,
                    &NewOrganisation {
                        name: name.into(),
                        kana: kana.into(),
                        kind,
                        department: None,
                        municipality_code: code(demo.town)?,
                    },
                    now,
                )
                .await?
                .id
            }
        };
        let areas = demo
            .areas
            .iter()
            .map(|c| code(c))
            .collect::<Result<Vec<MunicipalityCode>, _>>()?;
        let entry = Entry {
            kind: demo.kind.into(),
            name: demo.name.into(),
            kana: demo.kana.into(),
            description: demo.description.into(),
            address: demo.address.into(),
            municipality_code: code(demo.town)?,
            latitude: None,
            longitude: None,
            phone: "03-0000-0000".into(),
            email: String::new(),
            url: String::new(),
            weekdays: "1111110".into(),
            opens_at: "07:30".into(),
            closes_at: "18:30".into(),
            closed_on_holidays: true,
            closed_year_end: true,
            nurse_hours: demo.nurse_hours.into(),
            age_from: demo.ages.map(|a| a.0),
            age_to: demo.ages.map(|a| a.1),
            max_tier: None,
            capacity: demo.capacity,
            care_children_now: demo.care_children_now,
            waiting_list: None,
            care: demo
                .care
                .iter()
                .map(|(c, cond)| (*c, (*cond).to_string()))
                .collect(),
            device_rules: demo.devices.to_vec(),
            areas,
            staff_only: vec!["phone".into()],
        };
        // The demo facility's own account confirmed its entry; the others came from the
        // town's survey, confirmed by no account.
        let by =
            matches!(demo.organisation, Organisation::Existing("nursery")).then_some(confirmer);
        let id = ServiceId::from_uuid(uuid::Uuid::new_v4());
        repo::insert(&mut conn, &id, &organisation, &entry, by, now).await?;
        if !demo.vacancies.is_empty() {
            repo::record_vacancies(&mut conn, &id, 1, demo.vacancies, as_of, by, now).await?;
        }
        if demo.town == "131199" && demo.kind == "nursery" {
            surveyed.push((id, organisation, demo.town.to_string()));
        }
    }
    let nursery = orgs.get("nursery").map(|o| &o.0);
    survey(&mut conn, &surveyed, nursery, town_staff, confirmer, now).await
}

/// The demo's survey round: 板橋区 asked its nurseries a week ago, due in three weeks. The
/// town answered for two ward nurseries; ひだまり保育園 has not answered yet, so its staff
/// find the question on their home page. 板橋区 also recorded its 協議の場.
async fn survey(
    conn: &mut sqlx::AnyConnection,
    surveyed: &[(ServiceId, OrganisationId, String)],
    nursery: Option<&OrganisationId>,
    town_staff: &AccountId,
    nursery_staff: &AccountId,
    now: DateTime<Utc>,
) -> Result<(), StartupError> {
    use crate::features::directory::repo::surveys;
    let today = now.with_timezone(&tsunagu_core::clock::JST).date_naive();
    let opened_at = now - chrono::Duration::days(7);
    let id = tsunagu_core::ids::SurveyId::from_uuid(uuid::Uuid::new_v4());
    let kinds = vec!["nursery".to_string()];
    let round = surveys::NewRound {
        id: &id,
        title: "令和8年度 医療的ケア児の受け入れ状況調査（保育所）",
        prefecture_code: "13",
        municipality_code: Some("131199"),
        kinds: &kinds,
        closes_on: today + chrono::Duration::days(21),
        asked: surveyed,
    };
    surveys::insert(conn, &round, town_staff, opened_at).await?;
    for (service, _, _) in surveyed
        .iter()
        .filter(|(_, o, _)| Some(o) != nursery)
        .take(2)
    {
        let answer = r#"{"capacity":null,"care_children_now":null,"waiting_list":null,"care":["suction","tube_feeding"],"vacancies":[],"as_of":null}"#;
        surveys::mark_answered(conn, &id, service, answer, town_staff, now, today).await?;
    }
    crate::features::notices::notify(
        conn,
        std::slice::from_ref(nursery_staff),
        crate::features::notices::Kind::Survey,
        "資源調査「令和8年度 医療的ケア児の受け入れ状況調査（保育所）」への回答をお願いします。受け入れている医療的ケアと空き状況を確認して回答してください。",
        "/directory/mine",
        opened_at,
    )
    .await?;
    let established =
        NaiveDate::from_ymd_opt(2024, 4, 1).ok_or_else(|| StartupError::Io("demo date".into()))?;
    crate::features::gaps::repo::record(
        conn,
        "131199",
        established,
        "板橋区医療的ケア児等支援協議会（架空）",
        town_staff,
        now,
    )
    .await?;
    Ok(())
}
