//! `tsunagu demo`: a fresh database with reference data and synthetic demo content.
//! Every name here is fictional. Later features add their content to [`seed`].

use chrono::{DateTime, Utc};
use tsunagu_core::municipality::MunicipalityCode;

use crate::db::Db;
use crate::error::StartupError;
use serde::Serialize;
use tsunagu_core::access::Role;

use crate::auth::{password, totp};
use crate::features::accounts::repo;
use crate::features::organisations::{self, Department, NewOrganisation, OrganisationKind};

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

/// Realistic organisations around one ward (板橋区), its neighbour (練馬区) and the Tokyo
/// support centre; one account per role; a few children with a guardian. Returns the accounts.
pub async fn seed(db: &Db, now: DateTime<Utc>) -> Result<Vec<DemoAccount>, StartupError> {
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
            "itabashi-welfare",
            Role::Guardian,
        ),
    ];
    let mut accounts = Vec::new();
    let mut guardian_id = String::new();
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
        if role == Role::Guardian {
            guardian_id = id.clone();
        }
        accounts.push(DemoAccount {
            login: login.into(),
            password,
            totp_secret,
            role: role.as_str().into(),
            organisation: org_name,
            municipality_code: municipality.to_string(),
        });
    }
    seed_children(db, &ids, &guardian_id, now).await?;
    Ok(accounts)
}

type OrgIds = std::collections::HashMap<&'static str, (String, String, MunicipalityCode)>;

/// A few fictional children: in 板橋区 (one with the demo guardian, one shared with the
/// nursery) and in 練馬区, so scope and break-glass can be tried.
async fn seed_children(
    db: &Db,
    ids: &OrgIds,
    guardian_id: &str,
    now: DateTime<Utc>,
) -> Result<(), StartupError> {
    let org = |key: &str| {
        ids.get(key)
            .cloned()
            .ok_or_else(|| StartupError::Io(format!("demo organisation {key}")))
    };
    let date = |y, m, d| {
        chrono::NaiveDate::from_ymd_opt(y, m, d).ok_or_else(|| StartupError::Io("demo date".into()))
    };
    let itabashi = org("itabashi-welfare")?;
    let nerima = org("nerima-welfare")?;
    let nursery = org("nursery")?;
    let children = [
        (
            "山田 はると",
            "やまだ はると",
            date(2022, 6, 14)?,
            "male",
            &itabashi,
            true,
            false,
        ),
        (
            "佐藤 ゆい",
            "さとう ゆい",
            date(2021, 4, 2)?,
            "female",
            &itabashi,
            false,
            true,
        ),
        (
            "鈴木 そうた",
            "すずき そうた",
            date(2019, 11, 3)?,
            "male",
            &itabashi,
            false,
            false,
        ),
        (
            "高橋 めい",
            "たかはし めい",
            date(2020, 4, 1)?,
            "female",
            &nerima,
            false,
            false,
        ),
    ];
    let mut tx = db.pool().begin().await?;
    for (name, kana, birth_date, sex, owner, with_guardian, shared_with_nursery) in children {
        let id = crate::features::children::repo::create(
            &mut tx,
            &crate::features::children::repo::NewChild {
                owner_organisation_id: owner.0.clone(),
                municipality_code: owner.2,
                name: name.into(),
                kana: kana.into(),
                birth_date,
                sex: sex.into(),
            },
            now,
        )
        .await?;
        crate::features::children::repo::set_care(&mut tx, &id, &demo_care(name)).await?;
        if with_guardian && !guardian_id.is_empty() {
            crate::features::children::repo::add_guardian(&mut tx, &id, guardian_id, "母").await?;
        }
        if shared_with_nursery && !guardian_id.is_empty() {
            use crate::features::children::consent;
            let consent = consent::NewConsent {
                purpose: consent::Purpose::Organisation,
                department: None,
                organisation_id: Some(nursery.0.clone()),
                given_on: now.date_naive(),
                method: "paper".into(),
                expires_on: None,
            };
            consent::record(&mut tx, &id, &owner.2, &consent, guardian_id, now).await?;
        }
    }
    tx.commit().await?;
    Ok(())
}

/// Realistic care patterns: ventilator + tracheostomy + suction + tube feeding; tube
/// feeding alone; oxygen alone; none.
fn demo_care(name: &str) -> Vec<tsunagu_core::care::CareEntry> {
    use tsunagu_core::care::{CareEntry, CareItem as I, Watch as W};
    match name {
        "山田 はると" => vec![
            CareEntry::new(I::Ventilator).with_watch(W::High),
            CareEntry::new(I::Tracheostomy).with_watch(W::High),
            CareEntry::new(I::Suction).with_watch(W::High),
            CareEntry::new(I::TubeFeeding).with_watch(W::High),
        ],
        "佐藤 ゆい" => vec![CareEntry::new(I::TubeFeeding).with_watch(W::Low)],
        "高橋 めい" => vec![CareEntry::new(I::Oxygen).with_watch(W::High)],
        _ => Vec::new(),
    }
}

/// Writes the demo accounts for scripts (the file holds demo secrets only).
pub fn write_accounts_file(accounts: &[DemoAccount]) -> Result<(), StartupError> {
    let json =
        serde_json::to_string_pretty(accounts).map_err(|e| StartupError::Io(e.to_string()))?;
    std::fs::write(DEMO_ACCOUNTS_FILE, json)
        .map_err(|e| StartupError::Io(format!("{DEMO_ACCOUNTS_FILE}: {e}")))
}
