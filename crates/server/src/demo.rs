//! `tsunagu demo`: a fresh database with reference data and synthetic demo content.
//! Every name here is fictional. Later features add their content to [`seed`].

use chrono::{DateTime, Utc};
use tsunagu_core::municipality::MunicipalityCode;

use crate::db::Db;
use crate::error::StartupError;
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

/// Realistic organisations around one ward (板橋区) and the Tokyo support centre.
pub async fn seed(db: &Db, now: DateTime<Utc>) -> Result<(), StartupError> {
    let itabashi = code("131199")?;
    let tokyo = code("130001")?;
    let nerima = code("131202")?;
    let department = |name: &str, kana: &str, dept| NewOrganisation {
        name: name.into(),
        kana: kana.into(),
        kind: OrganisationKind::MunicipalDepartment,
        department: Some(dept),
        municipality_code: itabashi,
    };
    let other = |name: &str, kana: &str, kind, at| NewOrganisation {
        name: name.into(),
        kana: kana.into(),
        kind,
        department: None,
        municipality_code: at,
    };
    let all = [
        department(
            "板橋区 福祉部 障害サービス課",
            "いたばしく しょうがいさーびすか",
            Department::DisabilityWelfare,
        ),
        department(
            "板橋区 健康生きがい部 健康推進課",
            "いたばしく けんこうすいしんか",
            Department::Health,
        ),
        department(
            "板橋区 子ども家庭部 保育サービス課",
            "いたばしく ほいくさーびすか",
            Department::Childcare,
        ),
        department(
            "板橋区 教育委員会 学務課",
            "いたばしく がくむか",
            Department::Education,
        ),
        department(
            "板橋区 危機管理部 防災危機管理課",
            "いたばしく ぼうさいききかんりか",
            Department::Disaster,
        ),
        other(
            "東京都医療的ケア児支援センター（区部）",
            "とうきょうといりょうてきけあじしえんせんたー くぶ",
            OrganisationKind::SupportCenter,
            tokyo,
        ),
        other(
            "東京都ペアレントメンター事務局",
            "とうきょうとぺあれんとめんたーじむきょく",
            OrganisationKind::MentorOffice,
            tokyo,
        ),
        other(
            "板橋区医療的ケア児等支援協議会",
            "いたばしくいりょうてきけあじとうしえんきょうぎかい",
            OrganisationKind::Council,
            itabashi,
        ),
        other(
            "相談支援事業所 みどりのて（架空）",
            "そうだんしえんじぎょうしょ みどりのて",
            OrganisationKind::ConsultationOffice,
            itabashi,
        ),
        other(
            "ひだまり保育園（架空）",
            "ひだまりほいくえん",
            OrganisationKind::Facility,
            itabashi,
        ),
        other(
            "訪問看護ステーション そよかぜ（架空）",
            "ほうもんかんごすてーしょん そよかぜ",
            OrganisationKind::Facility,
            nerima,
        ),
        other(
            "いたばし小児医療センター（架空）",
            "いたばししょうにいりょうせんたー",
            OrganisationKind::Hospital,
            itabashi,
        ),
    ];
    for organisation in &all {
        organisations::create(db, organisation, now).await?;
    }
    Ok(())
}
