//! The national set's resource directory: about 60,000 services over all municipalities in
//! proportion to population, each offered by a facility of its own, with plausible care
//! acceptance (most nurseries none; a few per town many; day services for 重症心身障害児
//! and visiting nurses most), and for those that take 医療的ケア児 by places a year of
//! vacancy reports (quarterly, per class age for nurseries). For the benchmarks in
//! `bench/`. Deterministic: its own seeded generator.

use chrono::{DateTime, Datelike, Duration, NaiveDate, Utc};
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};
use sqlx::AnyConnection;
use tsunagu_core::care::CareItem;
use tsunagu_core::clock::JST;
use tsunagu_core::kana::search_key;

use super::bulk::{Batch, Val};
use crate::db::{Db, codec};
use crate::error::StartupError;
use crate::features::municipalities::reference::MunicipalityRecord;

/// Services in the national set.
pub const SERVICES: u32 = 60_000;
const SEED: u64 = 0x6469_7265_6374_6f72; // "director"

/// The kinds, with their share of the services and the chance that one accepts any care.
const MIX: [(&str, &str, f64, f64); 12] = [
    ("nursery", "保育園", 0.41, 0.10),
    ("certified_childcare", "こども園", 0.10, 0.08),
    ("small_nursery", "小規模保育室", 0.08, 0.03),
    ("kindergarten", "幼稚園", 0.10, 0.03),
    ("child_development", "児童発達支援", 0.06, 0.30),
    ("child_development_smid", "重心児童発達支援", 0.015, 1.0),
    ("after_school_day", "放課後等デイサービス", 0.08, 0.20),
    ("after_school_day_smid", "重心放課後等デイ", 0.015, 1.0),
    ("visiting_nurse", "訪問看護ステーション", 0.05, 0.9),
    ("consultation_support", "相談支援事業所", 0.04, 0.0),
    ("short_stay_medical", "医療型短期入所", 0.005, 1.0),
    ("day_temporary", "日中一時支援", 0.045, 0.3),
];

fn uuid(rng: &mut StdRng) -> String {
    uuid::Builder::from_random_bytes(rng.random::<[u8; 16]>())
        .into_uuid()
        .to_string()
}

/// The care a service of this kind accepts when it accepts any: a nursery the common few,
/// a day service for 重症心身障害児 nearly everything.
fn care_of(rng: &mut StdRng, kind: &str) -> Vec<CareItem> {
    use CareItem as I;
    let (always, often): (&[I], &[I]) = match kind {
        "nursery" | "certified_childcare" | "small_nursery" | "kindergarten" => (
            &[I::TubeFeeding],
            &[
                I::Suction,
                I::Catheterisation,
                I::BloodGlucose,
                I::SubcutaneousInjection,
                I::Oxygen,
            ],
        ),
        "child_development_smid"
        | "after_school_day_smid"
        | "short_stay_medical"
        | "visiting_nurse" => (
            &[
                I::Suction,
                I::TubeFeeding,
                I::Oxygen,
                I::Tracheostomy,
                I::SeizureResponse,
            ],
            &[
                I::Ventilator,
                I::FeedingPump,
                I::Nebulizer,
                I::Catheterisation,
                I::CentralVenousCatheter,
                I::BowelManagement,
            ],
        ),
        _ => (
            &[I::TubeFeeding],
            &[
                I::Suction,
                I::Oxygen,
                I::SeizureResponse,
                I::Catheterisation,
            ],
        ),
    };
    let mut care: Vec<I> = always.to_vec();
    for item in often {
        if rng.random_bool(0.5) {
            care.push(*item);
        }
    }
    // A pump only with the item it serves.
    if care.contains(&I::FeedingPump) && !care.contains(&I::TubeFeeding) {
        care.push(I::TubeFeeding);
    }
    care.sort();
    care
}

fn class_ages(kind: &str) -> Option<(i64, i64)> {
    tsunagu_core::directory::service_kind(kind)
        .and_then(|k| k.class_ages)
        .map(|(a, b)| (i64::from(a), i64::from(b)))
}

/// What was made, for the report.
#[derive(Debug, Default, Clone, Copy)]
pub struct Made {
    pub services: u64,
    pub vacancy_reports: u64,
}

/// `municipalities` are the towns with how many services each gets (the national set's
/// distribution for [`SERVICES`]).
pub async fn seed(
    db: &Db,
    conn: &mut AnyConnection,
    now: DateTime<Utc>,
    municipalities: Vec<(MunicipalityRecord, u32)>,
) -> Result<Made, StartupError> {
    let mut rng = StdRng::seed_from_u64(SEED);
    let at = codec::instant_to_db(now);
    let today = now.with_timezone(&JST).date_naive();
    let backend = db.backend();
    let mut orgs = Batch::new(
        "INSERT INTO organisations (id, name, kana, kind, department, municipality_code, active, version, created_at, updated_at)",
        10,
        backend,
    );
    let mut services = Batch::new(
        "INSERT INTO services (id, organisation_id, kind, name, kana, search_key, description, address, municipality_code, phone, weekdays, opens_at, closes_at, nurse_hours, age_from, age_to, capacity, care_children_now, care_mask, staff_only, confirmed_at, created_at, updated_at)",
        23,
        backend,
    );
    let mut care_rows = Batch::new(
        "INSERT INTO service_care (service_id, care_item, conditions)",
        3,
        backend,
    );
    let mut vacancies = Batch::new(
        "INSERT INTO service_vacancies (id, service_id, class_age, vacancies, as_of, recorded_at)",
        6,
        backend,
    );
    // The quarters' first days back from today: a year of reports.
    let quarters: Vec<NaiveDate> = (0..4)
        .filter_map(|q| {
            let month = today.month0() as i32 - 3 * q;
            let (year, month) = (
                today.year() + month.div_euclid(12),
                month.rem_euclid(12) + 1,
            );
            NaiveDate::from_ymd_opt(year, month as u32, 1)
        })
        .collect();
    for (municipality, count) in municipalities {
        for n in 0..count {
            let pick: f64 = rng.random();
            let mut acc = 0.0;
            let (kind, noun, _, accepting) = MIX
                .iter()
                .find(|(_, _, share, _)| {
                    acc += share;
                    pick < acc
                })
                .copied()
                .unwrap_or(MIX[0]);
            let org = uuid(&mut rng);
            let name = format!("{}{}{}（架空）", municipality.name, noun, n + 1);
            let kana = format!("{} {}", municipality.kana, n + 1);
            orgs.push(vec![
                org.clone().into(),
                name.clone().into(),
                kana.clone().into(),
                "facility".into(),
                Val::OptText(None),
                municipality.code.clone().into(),
                true.into(),
                1i64.into(),
                at.into(),
                at.into(),
            ]);
            let care = if rng.random_bool(accepting) {
                care_of(&mut rng, kind)
            } else {
                Vec::new()
            };
            let ages = class_ages(kind);
            let capacity: Option<i64> = match kind {
                "nursery" | "certified_childcare" => Some(rng.random_range(40..=150)),
                "small_nursery" => Some(19),
                "kindergarten" => Some(rng.random_range(60..=250)),
                "visiting_nurse" | "consultation_support" => None,
                _ => Some(rng.random_range(5..=20)),
            };
            let id = uuid(&mut rng);
            // Confirmed within the last half year; one in ten has gone unconfirmed longer.
            let confirmed = at
                - Duration::days(if rng.random_bool(0.1) {
                    rng.random_range(91..=400)
                } else {
                    rng.random_range(0..=90)
                })
                .num_milliseconds();
            services.push(vec![
                id.clone().into(),
                org.into(),
                kind.into(),
                name.clone().into(),
                kana.clone().into(),
                search_key(&format!("{name} {kana} {}", municipality.name)).into(),
                String::new().into(),
                municipality.name.clone().into(),
                municipality.code.clone().into(),
                "03-0000-0000".into(),
                "1111100".into(),
                "08:00".into(),
                "18:00".into(),
                String::new().into(),
                ages.map(|a| a.0).into(),
                ages.map(|a| a.1).into(),
                capacity.into(),
                capacity
                    .map(|_| {
                        if care.is_empty() {
                            0
                        } else {
                            rng.random_range(0..=3)
                        }
                    })
                    .into(),
                CareItem::mask(care.iter()).into(),
                "phone".into(),
                confirmed.into(),
                at.into(),
                confirmed.into(),
            ]);
            for item in &care {
                care_rows.push(vec![
                    id.clone().into(),
                    item.code().into(),
                    String::new().into(),
                ]);
            }
            let has_places = tsunagu_core::directory::service_kind(kind)
                .is_some_and(tsunagu_core::directory::has_places);
            if care.is_empty() || !has_places {
                continue;
            }
            let report_ages: Vec<i64> = match ages {
                Some((from, to)) if to <= 5 => (from..=to).collect(),
                _ => vec![-1],
            };
            for (i, as_of) in quarters.iter().enumerate() {
                for age in &report_ages {
                    // Places are scarce: most reports say none.
                    let free: i64 = if rng.random_bool(0.2) {
                        rng.random_range(1..=2)
                    } else {
                        0
                    };
                    vacancies.push(vec![
                        uuid(&mut rng).into(),
                        id.clone().into(),
                        (*age).into(),
                        free.into(),
                        codec::date_to_db(*as_of).into(),
                        (at - Duration::days(i as i64 * 91).num_milliseconds()).into(),
                    ]);
                }
            }
        }
        // Organisations before the services that name them, services before their rows.
        if services.pending_rows() >= 500 {
            for batch in [&mut orgs, &mut services, &mut care_rows, &mut vacancies] {
                batch.flush(conn).await?;
            }
        }
    }
    for batch in [&mut orgs, &mut services, &mut care_rows, &mut vacancies] {
        batch.flush(conn).await?;
    }
    crate::features::directory::repo::bump_all(conn).await?;
    Ok(Made {
        services: services.rows_written,
        vacancy_reports: vacancies.rows_written,
    })
}
