//! `tsunagu demo`: a fresh database with reference data and synthetic demo content.
//! Every name here is fictional. Later features add their content to [`seed`].
//!
//! Two scales: the demo (a few dozen children around 板橋区, for trying the product) and
//! the national set ([`national`]: about 20,000 children and a year of audit entries, for
//! the benchmarks in `bench/`).

mod bulk;
mod directory;
mod mentoring;
mod names;
pub mod national;
mod national_directory;
mod synth;

use chrono::{DateTime, Utc};
use tsunagu_core::ids::{AccountId, ChildId, ConsentId, OrganisationId, ProposalId};
use tsunagu_core::municipality::MunicipalityCode;

use crate::db::Db;
use crate::error::StartupError;
use serde::Serialize;
use tsunagu_core::access::Role;

use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};
use tsunagu_core::device::DeviceKind;

use crate::auth::repo::accounts as repo;
use crate::auth::{password, totp};
use crate::features::children::profile::{Device, Guardian, Profile, Sibling};
use crate::organisations::{self, Department, NewOrganisation, OrganisationKind};

/// The demo database file; replaced on every run.
pub const DEMO_DATABASE: &str = "./data/demo.db";

/// Deletes the demo database and its WAL side files so each run starts clean.
pub fn remove_previous(path: &std::path::Path) -> Result<(), StartupError> {
    for suffix in ["", "-wal", "-shm"] {
        let mut file = path.as_os_str().to_owned();
        file.push(suffix);
        match std::fs::remove_file(&file) {
            Ok(()) => {}
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => {}
            Err(err) => {
                return Err(StartupError::DataFolder {
                    path: std::path::PathBuf::from(file),
                    source: err,
                });
            }
        }
    }
    Ok(())
}

fn code(text: &str) -> Result<MunicipalityCode, StartupError> {
    MunicipalityCode::parse(text)
        .map_err(|err| StartupError::Input(err.to_string(), "bad demo code"))
}

/// One demo account, as printed and written to `data/demo-accounts.json` for scripts.
#[derive(Debug, Clone, Serialize)]
pub struct DemoAccount {
    pub login: String,
    pub password: String,
    pub totp_secret: Option<String>,
    pub role: String,
    pub organisation: String,
    pub municipality_code: String,
}

pub const DEMO_ACCOUNTS_FILE: &str = "./data/demo-accounts.json";

/// How much synthetic data to make.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scale {
    /// A few dozen children in several municipalities, one account per role.
    Demo,
    /// The demo plus about 20,000 children over all municipalities and a year of audit
    /// entries, with bench accounts.
    National,
}

/// The demo needs an empty (freshly migrated) database: it never mixes with real records.
pub async fn ensure_empty(db: &Db) -> Result<(), StartupError> {
    use sqlx::Row;
    let accounts: i64 = sqlx::query("SELECT count(*) FROM accounts")
        .fetch_one(db.pool())
        .await?
        .try_get(0)?;
    let children: i64 = sqlx::query("SELECT count(*) FROM children")
        .fetch_one(db.pool())
        .await?
        .try_get(0)?;
    if accounts > 0 || children > 0 {
        return Err(StartupError::Input(
            "デモデータは空のデータベースにだけ作成できます（アカウントまたは児童の記録があります）".into(),
            "the demo needs an empty database",
        ));
    }
    Ok(())
}

/// Seeds `scale` into an empty database; returns the accounts to print and what the
/// national set wrote (for `Scale::National`).
pub async fn seed_scale(
    db: &Db,
    now: DateTime<Utc>,
    scale: Scale,
) -> Result<(Vec<DemoAccount>, Option<national::Report>), StartupError> {
    ensure_empty(db).await?;
    let (mut accounts, seeded) = seed_demo(db, now).await?;
    if scale == Scale::Demo {
        return Ok((accounts, None));
    }
    let org = |key: &str| seeded.orgs.get(key).map(|o| o.0.clone());
    let account = |login: &str| seeded.account_ids.get(login).cloned();
    let mut existing = national::Existing {
        owners: Default::default(),
        staff: Default::default(),
        centres: Default::default(),
        centre_staff: Default::default(),
    };
    for key in WELFARE_DEPARTMENTS {
        if let Some((id, _, code)) = seeded.orgs.get(key) {
            existing.owners.insert(code.to_string(), id.to_string());
        }
    }
    for (code, login) in [("131199", "itabashi.welfare"), ("131202", "nerima.welfare")] {
        if let Some(id) = account(login) {
            existing.staff.insert(code.into(), id.into_string());
        }
    }
    if let Some(id) = org("tokyo-centre") {
        existing.centres.insert("13".into(), id.into_string());
    }
    if let Some(id) = account("center.staff") {
        existing.centre_staff.insert("13".into(), id.into_string());
    }
    let mut report = national::Report::default();
    let bench = national::seed(db, now, existing, &mut report).await?;
    accounts.extend(bench);
    Ok((accounts, Some(report)))
}

/// The 障害福祉 departments of the demo: they own the children of their municipality.
const WELFARE_DEPARTMENTS: [&str; 6] = [
    "itabashi-welfare",
    "nerima-welfare",
    "kita-welfare",
    "toshima-welfare",
    "hachioji-welfare",
    "hinohara-welfare",
];

/// What the demo made that the national set builds on.
struct Seeded {
    orgs: OrgIds,
    account_ids: std::collections::HashMap<&'static str, AccountId>,
}

/// The demo scale into an empty database (see [`seed_scale`]). Returns the accounts.
pub async fn seed(db: &Db, now: DateTime<Utc>) -> Result<Vec<DemoAccount>, StartupError> {
    Ok(seed_scale(db, now, Scale::Demo).await?.0)
}

/// Realistic organisations around one ward (板橋区), its neighbours and the Tokyo support
/// centre; one account per role; a few dozen children, one with the demo guardian.
async fn seed_demo(
    db: &Db,
    now: DateTime<Utc>,
) -> Result<(Vec<DemoAccount>, Seeded), StartupError> {
    let itabashi = code("131199")?;
    let tokyo = code("130001")?;
    let nerima = code("131202")?;
    let department = |name: &str, kana: &str, dept, at| NewOrganisation {
        name: name.into(),
        kana: kana.into(),
        kind: OrganisationKind::MunicipalDepartment,
        department: Some(dept),
        municipality_code: at,
    };
    let other = |name: &str, kana: &str, kind, at| NewOrganisation {
        name: name.into(),
        kana: kana.into(),
        kind,
        department: None,
        municipality_code: at,
    };
    // (key, organisation): keys name the organisations the accounts below belong to.
    let all = [
        (
            "itabashi-welfare",
            department(
                "板橋区 福祉部 障害サービス課",
                "いたばしく しょうがいさーびすか",
                Department::DisabilityWelfare,
                itabashi,
            ),
        ),
        (
            "itabashi-health",
            department(
                "板橋区 健康生きがい部 健康推進課",
                "いたばしく けんこうすいしんか",
                Department::Health,
                itabashi,
            ),
        ),
        (
            "itabashi-childcare",
            department(
                "板橋区 子ども家庭部 保育サービス課",
                "いたばしく ほいくさーびすか",
                Department::Childcare,
                itabashi,
            ),
        ),
        (
            "itabashi-education",
            department(
                "板橋区 教育委員会 学務課",
                "いたばしく がくむか",
                Department::Education,
                itabashi,
            ),
        ),
        (
            "itabashi-disaster",
            department(
                "板橋区 危機管理部 防災危機管理課",
                "いたばしく ぼうさいききかんりか",
                Department::Disaster,
                itabashi,
            ),
        ),
        (
            "nerima-welfare",
            department(
                "練馬区 福祉部 障害者サービス調整課",
                "ねりまく しょうがいしゃさーびすちょうせいか",
                Department::DisabilityWelfare,
                nerima,
            ),
        ),
        (
            "kita-welfare",
            department(
                "北区 健康福祉部 障害福祉課",
                "きたく しょうがいふくしか",
                Department::DisabilityWelfare,
                code("131172")?,
            ),
        ),
        (
            "toshima-welfare",
            department(
                "豊島区 保健福祉部 障害福祉課",
                "としまく しょうがいふくしか",
                Department::DisabilityWelfare,
                code("131164")?,
            ),
        ),
        (
            "hachioji-welfare",
            department(
                "八王子市 福祉部 障害者福祉課",
                "はちおうじし しょうがいしゃふくしか",
                Department::DisabilityWelfare,
                code("132012")?,
            ),
        ),
        (
            "hinohara-welfare",
            department(
                "檜原村 福祉けんこう課",
                "ひのはらむら ふくしけんこうか",
                Department::DisabilityWelfare,
                code("133078")?,
            ),
        ),
        (
            "tokyo-centre",
            other(
                "東京都医療的ケア児支援センター（区部）",
                "とうきょうといりょうてきけあじしえんせんたー くぶ",
                OrganisationKind::SupportCenter,
                tokyo,
            ),
        ),
        (
            "tokyo-admin",
            department(
                "東京都 福祉局 障害者施策推進部",
                "とうきょうと しょうがいしゃしさくすいしんぶ",
                Department::DisabilityWelfare,
                tokyo,
            ),
        ),
        (
            "mentor-office",
            other(
                "東京都ペアレントメンター事務局",
                "とうきょうとぺあれんとめんたーじむきょく",
                OrganisationKind::MentorOffice,
                tokyo,
            ),
        ),
        (
            "council",
            other(
                "板橋区医療的ケア児等支援協議会",
                "いたばしくいりょうてきけあじとうしえんきょうぎかい",
                OrganisationKind::Council,
                itabashi,
            ),
        ),
        (
            "consultation",
            other(
                "相談支援事業所 みどりのて（架空）",
                "そうだんしえんじぎょうしょ みどりのて",
                OrganisationKind::ConsultationOffice,
                itabashi,
            ),
        ),
        (
            "nursery",
            other(
                "ひだまり保育園（架空）",
                "ひだまりほいくえん",
                OrganisationKind::Facility,
                itabashi,
            ),
        ),
        (
            "visiting-nurse",
            other(
                "訪問看護ステーション そよかぜ（架空）",
                "ほうもんかんごすてーしょん そよかぜ",
                OrganisationKind::Facility,
                nerima,
            ),
        ),
        (
            "hospital",
            other(
                "いたばし小児医療センター（架空）",
                "いたばししょうにいりょうせんたー",
                OrganisationKind::Hospital,
                itabashi,
            ),
        ),
        (
            "system",
            other(
                "つなぐ運用管理",
                "つなぐうんようかんり",
                OrganisationKind::System,
                tokyo,
            ),
        ),
    ];
    let mut ids = std::collections::HashMap::new();
    for (key, organisation) in all {
        let created = organisations::create(db, &organisation, now).await?;
        ids.insert(
            key,
            (
                created.id,
                organisation.name,
                organisation.municipality_code,
            ),
        );
    }
    // Families belong to no office: the town's families' organisation holds their accounts.
    {
        let (welfare, _, itabashi) = ids
            .get("itabashi-welfare")
            .cloned()
            .ok_or_else(|| StartupError::Io("demo organisation itabashi-welfare".into()))?;
        let mut conn = db.pool().acquire().await?;
        let families = organisations::families_of(&mut conn, &welfare, now).await?;
        ids.insert(
            "itabashi-families",
            (families, "板橋区のご家族".to_string(), itabashi),
        );
    }
    let people = [
        (
            "admin",
            "運用 太郎",
            "うんよう たろう",
            "system",
            Role::SystemAdmin,
        ),
        (
            "tokyo.admin",
            "都庁 花子",
            "とちょう はなこ",
            "tokyo-admin",
            Role::PrefectureAdmin,
        ),
        (
            "center.staff",
            "支援 一郎",
            "しえん いちろう",
            "tokyo-centre",
            Role::SupportCenterStaff,
        ),
        (
            "itabashi.welfare",
            "板橋 福子",
            "いたばし ふくこ",
            "itabashi-welfare",
            Role::MunicipalStaff,
        ),
        (
            "itabashi.childcare",
            "保育 園子",
            "ほいく そのこ",
            "itabashi-childcare",
            Role::MunicipalStaff,
        ),
        (
            "nerima.welfare",
            "練馬 守",
            "ねりま まもる",
            "nerima-welfare",
            Role::MunicipalStaff,
        ),
        (
            "coordinator",
            "調整 結衣",
            "ちょうせい ゆい",
            "consultation",
            Role::Coordinator,
        ),
        (
            "mentor.office",
            "事務 局子",
            "じむ きょくこ",
            "mentor-office",
            Role::MentorOffice,
        ),
        (
            "mentor",
            "先輩 ママ",
            "せんぱい まま",
            "mentor-office",
            Role::Mentor,
        ),
        (
            "nursery.staff",
            "日向 保",
            "ひなた たもつ",
            "nursery",
            Role::FacilityStaff,
        ),
        (
            "council",
            "協議 委員",
            "きょうぎ いいん",
            "council",
            Role::CouncilViewer,
        ),
        (
            "guardian",
            "山田 さくら",
            "やまだ さくら",
            "itabashi-families",
            Role::Guardian,
        ),
    ];
    let mut accounts = Vec::new();
    let mut account_ids = std::collections::HashMap::new();
    for (login, name, kana, org_key, role) in people {
        let (org_id, org_name, municipality) = ids
            .get(org_key)
            .cloned()
            .ok_or_else(|| StartupError::Io(format!("demo organisation {org_key}")))?;
        let password = password::generate_initial_password();
        let hash = password::hash(&password)
            .await
            .map_err(|e| StartupError::Io(e.to_string()))?;
        let totp_secret = role.requires_two_factor().then(totp::generate_secret);
        let mut conn = db.pool().acquire().await?;
        let id = repo::create(
            &mut conn,
            &repo::NewAccount {
                login_id: login.into(),
                display_name: name.into(),
                kana: kana.into(),
                password_hash: hash,
                must_change_password: false,
                memberships: vec![(org_id, role)],
            },
            now,
        )
        .await?;
        if let Some(secret) = &totp_secret {
            repo::set_pending_totp(&mut conn, &id, secret).await?;
            repo::enable_totp(&mut conn, &id, 0).await?;
        }
        account_ids.insert(login, id);
        accounts.push(DemoAccount {
            login: login.into(),
            password,
            totp_secret,
            role: role.as_str().into(),
            organisation: org_name,
            municipality_code: municipality.to_string(),
        });
    }
    seed_children(db, &ids, &account_ids, now).await?;
    let confirmer = account_ids
        .get("nursery.staff")
        .cloned()
        .ok_or_else(|| StartupError::Io("demo account nursery.staff".into()))?;
    let town_staff = account_ids
        .get("itabashi.welfare")
        .cloned()
        .ok_or_else(|| StartupError::Io("demo account itabashi.welfare".into()))?;
    directory::seed(db, &ids, &confirmer, &town_staff, now).await?;
    if let (Some((office, _, _)), Some(mentor), Some(office_staff)) = (
        ids.get("mentor-office"),
        account_ids.get("mentor"),
        account_ids.get("mentor.office"),
    ) {
        let mut conn = db.pool().acquire().await?;
        mentoring::seed(&mut conn, office, mentor, office_staff, now).await?;
    }
    Ok((
        accounts,
        Seeded {
            orgs: ids,
            account_ids,
        },
    ))
}

type OrgIds = std::collections::HashMap<&'static str, (OrganisationId, String, MunicipalityCode)>;
type AccountIds = std::collections::HashMap<&'static str, AccountId>;

/// How many generated children each demo municipality gets besides the four named ones.
const EXTRA_CHILDREN: [(&str, usize); 6] = [
    ("itabashi-welfare", 12),
    ("nerima-welfare", 8),
    ("kita-welfare", 4),
    ("toshima-welfare", 4),
    ("hachioji-welfare", 3),
    ("hinohara-welfare", 1),
];

/// The four named children tests and browser tests rely on.
const NAMED: [&str; 4] = ["山田 はると", "佐藤 ゆい", "鈴木 そうた", "高橋 めい"];

fn demo_date(y: i32, m: u32, d: u32) -> Result<chrono::NaiveDate, StartupError> {
    chrono::NaiveDate::from_ymd_opt(y, m, d).ok_or_else(|| StartupError::Io("demo date".into()))
}

fn guardian(
    name: &str,
    kana: &str,
    relation: &str,
    phone: &str,
    email: &str,
    work: (&str, &str),
) -> Guardian {
    Guardian {
        name: name.into(),
        kana: kana.into(),
        relation: relation.into(),
        phone: phone.into(),
        email: email.into(),
        employment: work.0.into(),
        wishes_to_work: work.1.into(),
    }
}

fn device(
    kind: DeviceKind,
    watts: Option<i64>,
    internal: Option<i64>,
    external: Option<i64>,
    note: &str,
) -> Device {
    Device {
        kind,
        power_watts: watts,
        battery_internal_minutes: internal,
        battery_external_minutes: external,
        note: note.into(),
    }
}

/// The four named children with realistic profiles: 山田 はると (ventilator, tracheostomy,
/// suction and tube feeding; the demo guardian's child), 佐藤 ゆい (tube feeding alone,
/// shared with the nursery), 鈴木 そうた (intermittent catheterisation) in 板橋区, and
/// 高橋 めい (oxygen alone) in 練馬区.
fn named_children(
    rng: &mut StdRng,
    ids: &OrgIds,
    today: chrono::NaiveDate,
) -> Result<Vec<(&'static str, Profile)>, StartupError> {
    use tsunagu_core::care::{CareEntry, CareItem as I, CareVariant as V, Watch as W};
    let place = |key: &str| -> Result<(MunicipalityCode, String), StartupError> {
        let (_, _, code) = ids
            .get(key)
            .ok_or_else(|| StartupError::Io(format!("demo organisation {key}")))?;
        let name = if key == "nerima-welfare" {
            "練馬区"
        } else {
            "板橋区"
        };
        Ok((*code, name.to_string()))
    };
    let base = |rng: &mut StdRng, key: &str| -> Result<Profile, StartupError> {
        let (code, name) = place(key)?;
        Ok(synth::profile(
            rng,
            &synth::Place {
                code,
                name: &name,
                prefecture: "東京都",
            },
            today,
        ))
    };

    let mut haruto = base(rng, "itabashi-welfare")?;
    haruto.name = "山田 はると".into();
    haruto.kana = "やまだ はると".into();
    haruto.birth_date = demo_date(2022, 6, 14)?;
    haruto.sex = "male".into();
    haruto.address = "板橋区みどり町2-5-8".into();
    haruto.status = "active".into();
    haruto.status_date = None;
    haruto.intake_source = "hospital_discharge".into();
    haruto.intake_date = Some(demo_date(2022, 9, 30)?);
    haruto.diagnoses = "脊髄性筋萎縮症（SMA）I型".into();
    haruto.hospital = "いたばし小児医療センター（架空）".into();
    haruto.doctor = "小林 医師".into();
    haruto.physical_disability_grade = "1".into();
    haruto.ryoiku_techo = String::new();
    haruto.recipient_certificate = "yes".into();
    haruto.care_category = "3".into();
    haruto.attending = "訪問型児童発達支援".into();
    haruto.care = vec![
        CareEntry::new(I::Ventilator).with_watch(W::High),
        CareEntry::new(I::Tracheostomy).with_watch(W::High),
        CareEntry::new(I::Suction).with_watch(W::High),
        CareEntry::new(I::TubeFeeding).with_watch(W::High),
    ];
    haruto.guardians = vec![
        guardian(
            "山田 さくら",
            "やまだ さくら",
            "母",
            "090-0000-1001",
            "sakura.yamada@example.jp",
            ("not_working", "yes"),
        ),
        guardian(
            "山田 大輔",
            "やまだ だいすけ",
            "父",
            "090-0000-1002",
            "",
            ("working", "unknown"),
        ),
    ];
    haruto.devices = vec![
        device(
            DeviceKind::Ventilator,
            Some(90),
            Some(360),
            Some(600),
            "在宅用（架空の機種）",
        ),
        device(DeviceKind::Suction, Some(80), Some(60), None, ""),
        device(DeviceKind::PulseOximeter, None, Some(1440), None, ""),
    ];
    haruto.siblings = vec![Sibling {
        name: "山田 ひなた".into(),
        birth_date: Some(demo_date(2019, 3, 2)?),
        note: "同居".into(),
    }];

    let mut yui = base(rng, "itabashi-welfare")?;
    yui.name = "佐藤 ゆい".into();
    yui.kana = "さとう ゆい".into();
    yui.birth_date = demo_date(2021, 4, 2)?;
    yui.sex = "female".into();
    yui.intake_date = Some(demo_date(2021, 7, 1)?);
    yui.sibling_dates_after(yui.birth_date);
    yui.diagnoses = "先天性食道閉鎖症術後".into();
    yui.attending = "ひだまり保育園（架空）".into();
    yui.care = vec![CareEntry::new(I::TubeFeeding).with_watch(W::Low)];
    yui.devices = Vec::new();
    yui.physical_disability_grade = String::new();
    yui.recipient_certificate = "yes".into();
    yui.care_category = "1".into();
    yui.guardians = vec![guardian(
        "佐藤 恵",
        "さとう めぐみ",
        "母",
        "090-0000-2001",
        "",
        ("working", "unknown"),
    )];

    let mut sota = base(rng, "itabashi-welfare")?;
    sota.name = "鈴木 そうた".into();
    sota.kana = "すずき そうた".into();
    sota.birth_date = demo_date(2019, 11, 3)?;
    sota.sex = "male".into();
    sota.intake_date = Some(demo_date(2020, 2, 10)?);
    sota.sibling_dates_after(sota.birth_date);
    sota.diagnoses = "二分脊椎".into();
    sota.attending = "小学校 特別支援学級".into();
    sota.care = vec![CareEntry::new(I::Catheterisation).with_variant(V::Intermittent)];
    sota.devices = Vec::new();
    sota.physical_disability_grade = "2".into();
    sota.recipient_certificate = String::new();
    sota.care_category = String::new();

    let mut mei = base(rng, "nerima-welfare")?;
    mei.name = "高橋 めい".into();
    mei.kana = "たかはし めい".into();
    mei.birth_date = demo_date(2020, 4, 1)?;
    mei.sex = "female".into();
    mei.intake_date = Some(demo_date(2020, 6, 1)?);
    mei.sibling_dates_after(mei.birth_date);
    mei.diagnoses = "慢性肺疾患（新生児期発症）".into();
    // 小学1年 in 2026 (born on an April 1st, with the earlier class).
    mei.attending = "小学校 通常の学級（看護師配置）".into();
    mei.care = vec![CareEntry::new(I::Oxygen).with_watch(W::High)];
    mei.devices = vec![
        device(DeviceKind::OxygenConcentrator, Some(200), None, None, ""),
        device(DeviceKind::OxygenCylinder, None, None, None, "外出用"),
    ];
    mei.recipient_certificate = "yes".into();
    mei.care_category = "1".into();

    Ok(vec![
        ("itabashi-welfare", haruto),
        ("itabashi-welfare", yui),
        ("itabashi-welfare", sota),
        ("nerima-welfare", mei),
    ])
}

trait SiblingDates {
    fn sibling_dates_after(&mut self, birth: chrono::NaiveDate);
}

impl SiblingDates for Profile {
    /// A generated older sibling may be dated before a replaced birth date: keep them sane.
    fn sibling_dates_after(&mut self, birth: chrono::NaiveDate) {
        for s in &mut self.siblings {
            if s.birth_date.is_some_and(|d| d >= birth) {
                s.birth_date = None;
            }
        }
    }
}

/// The demo children: the four named ones and a few dozen generated ones in six
/// municipalities (fictional names, realistic care patterns), with consents, the demo
/// guardian's link to 山田 はると, one pending family proposal, and an audit entry each.
async fn seed_children(
    db: &Db,
    ids: &OrgIds,
    accounts: &AccountIds,
    now: DateTime<Utc>,
) -> Result<(), StartupError> {
    use crate::audit::{self, Action, Context, Event, Outcome};
    use crate::features::children::repo::proposals;
    use crate::features::children::store;
    use crate::features::consent;

    let org = |key: &str| {
        ids.get(key)
            .cloned()
            .ok_or_else(|| StartupError::Io(format!("demo organisation {key}")))
    };
    let account = |login: &str| {
        accounts
            .get(login)
            .cloned()
            .ok_or_else(|| StartupError::Io(format!("demo account {login}")))
    };
    let today = now.with_timezone(&tsunagu_core::clock::JST).date_naive();
    let mut rng = StdRng::seed_from_u64(national::SEED ^ 0xde30);
    let mut children = named_children(&mut rng, ids, today)?;
    for (key, count) in EXTRA_CHILDREN {
        let (_, org_name, code) = org(key)?;
        let town = org_name.split(' ').next().unwrap_or_default().to_string();
        let mut made = 0;
        while made < count {
            let p = synth::profile(
                &mut rng,
                &synth::Place {
                    code,
                    name: &town,
                    prefecture: "東京都",
                },
                today,
            );
            if NAMED.contains(&p.name.as_str()) {
                continue;
            }
            children.push((key, p));
            made += 1;
        }
    }

    let centre = org("tokyo-centre")?.0;
    let consultation = org("consultation")?.0;
    let nursery = org("nursery")?.0;
    let guardian_account = account("guardian")?;
    let admin = account("admin")?;
    let mut tx = db.pool().begin().await?;
    for (key, profile) in &children {
        let (owner_id, _, code) = org(key)?;
        let recorder = match *key {
            "itabashi-welfare" => account("itabashi.welfare")?,
            "nerima-welfare" => account("nerima.welfare")?,
            _ => admin.clone(),
        };
        let id = ChildId::from_uuid(uuid::Uuid::new_v4());
        store::create(&mut tx, &id, &owner_id, profile, now).await?;
        let ctx = Context {
            actor_account_id: Some(recorder.to_string()),
            actor_organisation_id: Some(owner_id.to_string()),
            client_addr: "127.0.0.1".into(),
            user_agent: "tsunagu demo".into(),
        };
        audit::record(
            &mut tx,
            &ctx,
            &Event::new(Action::Create, Outcome::Allowed)
                .resource(crate::features::children::repo::RESOURCE_TYPE, &id)
                .child(&id)
                .detail("demo"),
            now,
        )
        .await?;

        // Consents: the registry always; then by child.
        let given_on = profile.intake_date.unwrap_or(today);
        let mut plan: Vec<(consent::Purpose, Option<Department>, Option<OrganisationId>)> =
            vec![(consent::Purpose::Registry, None, None)];
        let preschool = today.years_since(profile.birth_date).unwrap_or(0) <= 6;
        match profile.name.as_str() {
            "山田 はると" => {
                plan.push((consent::Purpose::Department, Some(Department::Health), None));
                plan.push((
                    consent::Purpose::Department,
                    Some(Department::Childcare),
                    None,
                ));
                plan.push((consent::Purpose::Organisation, None, Some(centre.clone())));
                plan.push((
                    consent::Purpose::Organisation,
                    None,
                    Some(consultation.clone()),
                ));
                plan.push((consent::Purpose::DisasterPlan, None, None));
            }
            "佐藤 ゆい" => {
                plan.push((consent::Purpose::Organisation, None, Some(nursery.clone())));
                plan.push((consent::Purpose::Organisation, None, Some(centre.clone())));
            }
            "鈴木 そうた" | "高橋 めい" => {}
            _ => {
                if rng.random_bool(0.8) {
                    plan.push((consent::Purpose::Organisation, None, Some(centre.clone())));
                }
                if rng.random_bool(0.5) {
                    plan.push((consent::Purpose::Department, Some(Department::Health), None));
                }
                if preschool && rng.random_bool(0.3) {
                    plan.push((
                        consent::Purpose::Department,
                        Some(Department::Childcare),
                        None,
                    ));
                }
                if *key == "itabashi-welfare" && rng.random_bool(0.3) {
                    plan.push((
                        consent::Purpose::Organisation,
                        None,
                        Some(consultation.clone()),
                    ));
                }
            }
        }
        for (purpose, department, organisation_id) in plan {
            let new = consent::NewConsent {
                purpose,
                department,
                organisation_id,
                given_on,
                method: "paper".into(),
                expires_on: None,
            };
            let consent_id = ConsentId::from_uuid(uuid::Uuid::new_v4());
            consent::record(&mut tx, &consent_id, &id, &code, &new, &recorder, now).await?;
        }

        if profile.name == "山田 はると" {
            crate::features::consent::add_guardian(&mut tx, &id, &guardian_account, "母").await?;
            // The family's pending proposal: a new external battery for the ventilator.
            let mut after = profile.clone();
            if let Some(ventilator) = after.devices.first_mut() {
                ventilator.battery_external_minutes = Some(720);
            }
            if let Some(mother) = after.guardians.first_mut() {
                mother.employment = "seeking".into();
            }
            let proposed_at = now - chrono::Duration::hours(2);
            let seen = crate::features::children::profile::proposable_values(&profile.to_fields());
            let change = crate::features::children::profile::FamilyChange::between(
                &seen,
                &after.to_fields(),
            );
            let proposal = proposals::NewProposal {
                child_id: &id,
                proposed_by: &guardian_account,
                proposed_at,
                base_version: 1,
                fields: change.proposed,
                seen: change.seen,
                changes: after.changes_from(profile),
                message: "人工呼吸器の外部バッテリーを買い替えました（予備と合わせて12時間）。仕事を探し始めました。",
            };
            let proposal_id = ProposalId::from_uuid(uuid::Uuid::new_v4());
            proposals::insert_pending(&mut tx, &proposal_id, &proposal).await?;
            let ctx = Context {
                actor_account_id: Some(guardian_account.to_string()),
                actor_organisation_id: Some(owner_id.to_string()),
                client_addr: "127.0.0.1".into(),
                user_agent: "tsunagu demo".into(),
            };
            audit::record(
                &mut tx,
                &ctx,
                &Event::new(Action::Create, Outcome::Allowed)
                    .resource("child_proposal", &proposal_id)
                    .child(&id)
                    .fields(proposal.changes.iter().map(|c| c.field.clone())),
                proposed_at,
            )
            .await?;
        }
    }
    tx.commit().await?;
    Ok(())
}

/// Writes the demo accounts for scripts (the file holds demo secrets only).
pub fn write_accounts_file(accounts: &[DemoAccount]) -> Result<(), StartupError> {
    let json =
        serde_json::to_string_pretty(accounts).map_err(|e| StartupError::Io(e.to_string()))?;
    if let Some(folder) = std::path::Path::new(DEMO_ACCOUNTS_FILE).parent() {
        std::fs::create_dir_all(folder)
            .map_err(|e| StartupError::Io(format!("{}: {e}", folder.display())))?;
    }
    std::fs::write(DEMO_ACCOUNTS_FILE, json)
        .map_err(|e| StartupError::Io(format!("{DEMO_ACCOUNTS_FILE}: {e}")))
}
