//! `tsunagu demo --scale national`: about 20,000 synthetic children over all 1,741
//! municipalities, in proportion to population (see `crates/server/data/POPULATION.md`),
//! about one in five on a ventilator, each with guardians, devices and consents; a
//! 障害福祉課 per municipality and a 医療的ケア児支援センター per prefecture; and a year of
//! hash-chained audit entries; and the resource directory ([`super::national_directory`]).
//! For the benchmarks in `bench/`.
//!
//! Written with multi-row INSERTs in a few large transactions ([`super::bulk`]), so both
//! backends finish well within two minutes. Deterministic: one seeded generator.

use std::collections::HashMap;
use tsunagu_core::ids::OrganisationId;

use chrono::{DateTime, Datelike, Duration, NaiveDate, TimeZone, Utc, Weekday};
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};
use serde::Deserialize;
use sqlx::{AnyConnection, Row};
use tsunagu_core::access::{Department, Role, department_key};
use tsunagu_core::clock::JST;
use tsunagu_core::kana::search_key;
use tsunagu_core::municipality::MunicipalityCode;

use super::bulk::{Batch, Val};
use super::synth;
use super::{DemoAccount, StartupError};
use crate::audit::chain::{Columns, entry_hash};
use crate::auth::repo::accounts;
use crate::auth::{password, totp};
use crate::db::{Db, codec};
use crate::features::municipalities::reference::{self, MunicipalityRecord};

/// Children in the national set (DOMAIN.md: 20,385 in 2022).
pub const CHILDREN: u32 = 20_000;
/// The seed of every random choice: the same data on every run (dates move with "today").
pub const SEED: u64 = 0x0074_7375_6e61_6775; // "tsunagu"

pub const POPULATION_CSV: &str = include_str!("../../data/prefecture_population_2020.csv");

/// Mean population of a municipality of this kind, in thousands (2020 census; derivation in
/// `crates/server/data/POPULATION.md`). Wards of designated cities register nobody.
pub fn kind_weight(kind: &str) -> Option<f64> {
    match kind {
        "designated_city" => Some(1375.0),
        "special_ward" => Some(423.0),
        "city" => Some(102.0),
        "town" => Some(13.0),
        "village" => Some(5.0),
        _ => None,
    }
}

#[derive(Debug, Clone, Deserialize)]
struct PrefecturePopulation {
    prefecture_code: String,
    #[allow(dead_code)]
    name: String,
    population: u64,
}

/// The prefectures' populations (2020 census), by two-digit code.
pub fn prefecture_populations() -> Result<HashMap<String, u64>, StartupError> {
    csv::Reader::from_reader(POPULATION_CSV.as_bytes())
        .deserialize::<PrefecturePopulation>()
        .map(|r| {
            r.map(|p| (p.prefecture_code, p.population))
                .map_err(|e| StartupError::Io(format!("prefecture_population_2020.csv: {e}")))
        })
        .collect()
}

/// Each municipality's expected share of the nation's children (the shares add up to 1).
pub fn shares(
    municipalities: &[MunicipalityRecord],
    populations: &HashMap<String, u64>,
) -> Vec<f64> {
    let national: f64 = populations.values().map(|p| *p as f64).sum();
    let mut kind_sum: HashMap<&str, f64> = HashMap::new();
    for m in municipalities {
        if let Some(w) = kind_weight(&m.kind) {
            *kind_sum.entry(m.prefecture_code.as_str()).or_default() += w;
        }
    }
    municipalities
        .iter()
        .map(
            |m| match (kind_weight(&m.kind), populations.get(&m.prefecture_code)) {
                (Some(w), Some(p)) if national > 0.0 => {
                    let in_prefecture = kind_sum
                        .get(m.prefecture_code.as_str())
                        .copied()
                        .unwrap_or(w);
                    (*p as f64 / national) * (w / in_prefecture)
                }
                _ => 0.0,
            },
        )
        .collect()
}

/// `total` split by `weights` with the largest-remainder method: the counts add up to `total`.
pub fn allocate(total: u32, weights: &[f64]) -> Vec<u32> {
    let sum: f64 = weights.iter().sum();
    if sum <= 0.0 {
        return vec![0; weights.len()];
    }
    let exact: Vec<f64> = weights.iter().map(|w| w / sum * f64::from(total)).collect();
    let mut counts: Vec<u32> = exact.iter().map(|e| e.floor() as u32).collect();
    let mut order: Vec<usize> = (0..weights.len()).collect();
    order.sort_by(|&a, &b| {
        let ra = exact[a] - exact[a].floor();
        let rb = exact[b] - exact[b].floor();
        rb.total_cmp(&ra).then(a.cmp(&b))
    });
    let missing = total.saturating_sub(counts.iter().sum());
    for &i in order.iter().take(missing as usize) {
        counts[i] += 1;
    }
    counts
}

/// The municipalities (no prefectures, no wards) with their number of children.
pub fn distribution(total: u32) -> Result<Vec<(MunicipalityRecord, u32)>, StartupError> {
    let records: Vec<MunicipalityRecord> = reference::municipalities()?
        .into_iter()
        .filter(|m| kind_weight(&m.kind).is_some())
        .collect();
    let populations = prefecture_populations()?;
    let counts = allocate(total, &shares(&records, &populations));
    Ok(records.into_iter().zip(counts).collect())
}

/// What the small demo already made, which the national set builds on.
pub struct Existing {
    /// Municipality code → the 障害福祉 department organisation that owns its children.
    pub owners: HashMap<String, String>,
    /// Municipality code → a staff account of that department (the audit trail's actor).
    pub staff: HashMap<String, String>,
    /// Two-digit prefecture code → the support centre.
    pub centres: HashMap<String, String>,
    /// Support centre staff accounts by prefecture (read children shared with the centre).
    pub centre_staff: HashMap<String, String>,
}

fn uuid(rng: &mut StdRng) -> String {
    uuid::Builder::from_random_bytes(rng.random::<[u8; 16]>())
        .into_uuid()
        .to_string()
}

fn io(e: impl std::fmt::Display) -> StartupError {
    StartupError::Io(e.to_string())
}

/// Sizes of what was written, for the command's report.
#[derive(Debug, Default, Clone)]
pub struct Report {
    pub organisations: u64,
    pub accounts: u64,
    pub children: u64,
    pub ventilator: u64,
    pub consents: u64,
    pub audit_entries: u64,
    pub municipalities_with_children: u64,
    pub services: u64,
    pub vacancy_reports: u64,
}

/// One bench account of the national set (passwords and TOTP secrets go to the accounts file).
struct BenchAccount {
    login: &'static str,
    name: &'static str,
    kana: &'static str,
    /// A municipality code (its 障害福祉課) or a two-digit prefecture code (its centre).
    at: &'static str,
    role: Role,
}

const BENCH_ACCOUNTS: [BenchAccount; 4] = [
    BenchAccount {
        login: "bench.yokohama",
        name: "横浜 計測",
        kana: "よこはま けいそく",
        at: "141003",
        role: Role::MunicipalStaff,
    },
    BenchAccount {
        login: "bench.setagaya",
        name: "世田谷 計測",
        kana: "せたがや けいそく",
        at: "131121",
        role: Role::MunicipalStaff,
    },
    BenchAccount {
        login: "bench.centre.tokyo",
        name: "東京 計測",
        kana: "とうきょう けいそく",
        at: "13",
        role: Role::SupportCenterStaff,
    },
    BenchAccount {
        login: "bench.centre.osaka",
        name: "大阪 計測",
        kana: "おおさか けいそく",
        at: "27",
        role: Role::SupportCenterStaff,
    },
];

/// Generates the national set on top of the demo. Returns the bench accounts.
pub async fn seed(
    db: &Db,
    now: DateTime<Utc>,
    mut existing: Existing,
    report: &mut Report,
) -> Result<Vec<DemoAccount>, StartupError> {
    let mut rng = StdRng::seed_from_u64(SEED);
    let today = now.with_timezone(&JST).date_naive();
    let at = codec::instant_to_db(now);
    let distribution = distribution(CHILDREN)?;
    let all = reference::municipalities()?;
    let names: HashMap<String, (String, String)> = all
        .iter()
        .map(|m| (m.code.clone(), (m.name.clone(), m.kana.clone())))
        .collect();
    let prefecture_name = |pref: &str| -> String {
        all.iter()
            .find(|m| m.kind == "prefecture" && m.prefecture_code == pref)
            .map(|m| m.name.clone())
            .unwrap_or_default()
    };

    // Password hashes first (slow, and not inside a transaction). The generated staff
    // accounts share one hash of a password nobody is told: they exist to be named in the
    // audit trail and on consents, not to sign in.
    let unusable = password::hash(&password::generate_initial_password())
        .await
        .map_err(io)?;
    let mut bench = Vec::new();
    for b in &BENCH_ACCOUNTS {
        let pw = password::generate_initial_password();
        let hash = password::hash(&pw).await.map_err(io)?;
        bench.push((b, pw, hash, totp::generate_secret()));
    }

    let t0 = std::time::Instant::now();
    let mut tx = db.pool().begin().await?;
    seeding_cache(&mut tx, db.backend(), true).await?;
    // Organisations: a 障害福祉課 for every municipality the demo has none for, a support
    // centre for every prefecture.
    let mut orgs = Batch::new(
        "INSERT INTO organisations (id, name, kana, kind, department, municipality_code, active, version, created_at, updated_at)",
        10,
        db.backend(),
    );
    for (m, _) in &distribution {
        if existing.owners.contains_key(&m.code) {
            continue;
        }
        let id = uuid(&mut rng);
        orgs.push(vec![
            id.clone().into(),
            format!("{} 障害福祉課", m.name).into(),
            format!("{} しょうがいふくしか", m.kana).into(),
            "municipal_department".into(),
            Val::OptText(Some(Department::DisabilityWelfare.as_str().into())),
            m.code.clone().into(),
            true.into(),
            1i64.into(),
            at.into(),
            at.into(),
        ]);
        existing.owners.insert(m.code.clone(), id);
    }
    for p in all.iter().filter(|m| m.kind == "prefecture") {
        if existing.centres.contains_key(&p.prefecture_code) {
            continue;
        }
        let id = uuid(&mut rng);
        orgs.push(vec![
            id.clone().into(),
            format!("{}医療的ケア児支援センター（架空）", p.name).into(),
            format!("{}いりょうてきけあじしえんせんたー", p.kana).into(),
            "support_center".into(),
            Val::OptText(None),
            p.code.clone().into(),
            true.into(),
            1i64.into(),
            at.into(),
            at.into(),
        ]);
        existing.centres.insert(p.prefecture_code.clone(), id);
    }
    orgs.flush(&mut tx).await?;
    report.organisations = orgs.rows_written;
    tracing::info!(
        elapsed_ms = t0.elapsed().as_millis() as u64,
        "national: organisations written"
    );

    // Accounts: the bench accounts (known passwords, TOTP on), and one staff member per
    // municipality with children that has none yet.
    let mut bench_accounts = Vec::new();
    for (b, pw, hash, secret) in bench {
        let (org_id, org_label, municipality) = if b.at.len() == 2 {
            let id = existing
                .centres
                .get(b.at)
                .cloned()
                .ok_or_else(|| io(format!("no centre for {}", b.at)))?;
            let name = org_name(&mut tx, &id).await?;
            let code = all
                .iter()
                .find(|m| m.kind == "prefecture" && m.prefecture_code == b.at)
                .map(|m| m.code.clone())
                .unwrap_or_default();
            (id, name, code)
        } else {
            let id = existing
                .owners
                .get(b.at)
                .cloned()
                .ok_or_else(|| io(format!("no department for {}", b.at)))?;
            let name = org_name(&mut tx, &id).await?;
            (id, name, b.at.to_string())
        };
        let id = accounts::create(
            &mut tx,
            &accounts::NewAccount {
                login_id: b.login.into(),
                display_name: b.name.into(),
                kana: b.kana.into(),
                password_hash: hash,
                must_change_password: false,
                memberships: vec![(OrganisationId::from_stored(org_id), b.role)],
            },
            now,
        )
        .await?;
        accounts::set_pending_totp(&mut tx, &id, &secret).await?;
        accounts::enable_totp(&mut tx, &id, 0).await?;
        report.accounts += 1;
        if b.at.len() == 2 {
            existing
                .centre_staff
                .entry(b.at.to_string())
                .or_insert(id.into_string());
        } else {
            existing
                .staff
                .entry(b.at.to_string())
                .or_insert(id.into_string());
        }
        bench_accounts.push(DemoAccount {
            login: b.login.into(),
            password: pw,
            totp_secret: Some(secret),
            role: b.role.as_str().into(),
            organisation: org_label,
            municipality_code: municipality,
        });
    }
    for (m, count) in &distribution {
        if *count == 0 || existing.staff.contains_key(&m.code) {
            continue;
        }
        let Some(org) = existing.owners.get(&m.code).cloned() else {
            continue;
        };
        let id = accounts::create(
            &mut tx,
            &accounts::NewAccount {
                login_id: format!("staff.{}", m.code),
                display_name: format!("{} 障害福祉課 担当", m.name),
                kana: format!("{} たんとう", m.kana),
                password_hash: unusable.clone(),
                must_change_password: true,
                memberships: vec![(OrganisationId::from_stored(org), Role::MunicipalStaff)],
            },
            now,
        )
        .await?;
        existing.staff.insert(m.code.clone(), id.into_string());
        report.accounts += 1;
    }

    // Children, their lists and their consents.
    let mut children = Batch::new(
        "INSERT INTO children (id, owner_organisation_id, municipality_code, name, kana, search_key, birth_date, sex, \
         status, version, created_at, updated_at, address, status_date, intake_source, intake_date, diagnoses, hospital, \
         doctor, physical_disability_grade, ryoiku_techo, recipient_certificate, care_category, attending, care_score, care_tier, care_mask, device_mask)",
        28,
        db.backend(),
    );
    let mut care_items = Batch::new(
        "INSERT INTO child_care_items (child_id, item, variant, watch)",
        4,
        db.backend(),
    );
    let mut guardians = Batch::new(
        "INSERT INTO guardians (id, child_id, position, name, kana, relation, phone, email, employment, wishes_to_work)",
        10,
        db.backend(),
    );
    let mut devices = Batch::new(
        "INSERT INTO child_devices (id, child_id, position, kind, power_watts, battery_internal_minutes, battery_external_minutes, note)",
        8,
        db.backend(),
    );
    let mut siblings = Batch::new(
        "INSERT INTO child_siblings (id, child_id, position, name, birth_date, note)",
        6,
        db.backend(),
    );
    let mut consents = Batch::new(
        "INSERT INTO child_consents (id, child_id, purpose, department, organisation_id, recipient, given_on, method, \
         recorded_by, recorded_at, expires_on)",
        11,
        db.backend(),
    );
    let mut made: Vec<Made> = Vec::with_capacity(CHILDREN as usize);
    tracing::info!(
        elapsed_ms = t0.elapsed().as_millis() as u64,
        "national: accounts written"
    );
    for (m, count) in &distribution {
        if *count == 0 {
            continue;
        }
        report.municipalities_with_children += 1;
        let code = MunicipalityCode::parse(&m.code).map_err(io)?;
        let owner = existing
            .owners
            .get(&m.code)
            .cloned()
            .ok_or_else(|| io(format!("no owner for {}", m.code)))?;
        let recorder = existing
            .staff
            .get(&m.code)
            .cloned()
            .ok_or_else(|| io(format!("no staff for {}", m.code)))?;
        let centre = existing.centres.get(&m.prefecture_code).cloned();
        let prefecture = prefecture_name(&m.prefecture_code);
        let town = names.get(&m.code).map(|n| n.0.clone()).unwrap_or_default();
        let place = synth::Place {
            code,
            name: &town,
            prefecture: &prefecture,
        };
        for _ in 0..*count {
            let p = synth::profile(&mut rng, &place, today);
            let id = uuid(&mut rng);
            let score = tsunagu_core::care::score(&p.care, &tsunagu_core::care::SCORE_TABLE_2021)
                .map_err(io)?;
            let intake = p.intake_date.unwrap_or(p.birth_date);
            let created = JST
                .from_local_datetime(&intake.and_hms_opt(10, 0, 0).unwrap_or_default())
                .single()
                .map(|d| d.with_timezone(&Utc))
                .unwrap_or(now)
                .min(now);
            let created = codec::instant_to_db(created);
            children.push(vec![
                id.clone().into(),
                owner.clone().into(),
                m.code.clone().into(),
                p.name.clone().into(),
                p.kana.clone().into(),
                search_key(&format!("{} {}", p.name, p.kana)).into(),
                codec::date_to_db(p.birth_date).into(),
                p.sex.clone().into(),
                p.status.clone().into(),
                1i64.into(),
                created.into(),
                created.into(),
                p.address.clone().into(),
                p.status_date.map(codec::date_to_db).into(),
                p.intake_source.clone().into(),
                p.intake_date.map(codec::date_to_db).into(),
                p.diagnoses.clone().into(),
                p.hospital.clone().into(),
                p.doctor.clone().into(),
                p.physical_disability_grade.clone().into(),
                p.ryoiku_techo.clone().into(),
                p.recipient_certificate.clone().into(),
                p.care_category.clone().into(),
                p.attending.clone().into(),
                i64::from(score.total).into(),
                score.tier.code().into(),
                tsunagu_core::care::CareItem::mask(p.care.iter().map(|e| &e.item)).into(),
                tsunagu_core::device::DeviceKind::mask(p.devices.iter().map(|d| &d.kind)).into(),
            ]);
            for e in &p.care {
                care_items.push(vec![
                    id.clone().into(),
                    e.item.code().into(),
                    e.variant.map_or("", |v| v.code()).to_string().into(),
                    e.watch.map(|w| w.code().to_string()).into(),
                ]);
            }
            for (i, g) in p.guardians.iter().enumerate() {
                guardians.push(vec![
                    uuid(&mut rng).into(),
                    id.clone().into(),
                    (i as i64).into(),
                    g.name.clone().into(),
                    g.kana.clone().into(),
                    g.relation.clone().into(),
                    g.phone.clone().into(),
                    g.email.clone().into(),
                    g.employment.clone().into(),
                    g.wishes_to_work.clone().into(),
                ]);
            }
            for (i, d) in p.devices.iter().enumerate() {
                devices.push(vec![
                    uuid(&mut rng).into(),
                    id.clone().into(),
                    (i as i64).into(),
                    d.kind.code().into(),
                    d.power_watts.into(),
                    d.battery_internal_minutes.into(),
                    d.battery_external_minutes.into(),
                    d.note.clone().into(),
                ]);
            }
            for (i, s) in p.siblings.iter().enumerate() {
                siblings.push(vec![
                    uuid(&mut rng).into(),
                    id.clone().into(),
                    (i as i64).into(),
                    s.name.clone().into(),
                    s.birth_date.map(codec::date_to_db).into(),
                    s.note.clone().into(),
                ]);
            }
            // Consents: the registry always; the prefecture's support centre for most
            // (85 %); the health department often; childcare for some pre-school children;
            // the disaster plan for most children on a ventilator; the mentor programme for a few.
            let ventilator = p
                .care
                .iter()
                .any(|e| e.item == tsunagu_core::care::CareItem::Ventilator);
            let preschool = today.years_since(p.birth_date).unwrap_or(0) <= 6;
            let mut plan: Vec<(&str, Option<Department>, Option<String>)> =
                vec![("registry", None, None)];
            let shared_with_centre = centre.is_some() && rng.random_bool(0.85);
            if shared_with_centre {
                plan.push(("organisation", None, centre.clone()));
            }
            if rng.random_bool(0.5) {
                plan.push(("department", Some(Department::Health), None));
            }
            if preschool && rng.random_bool(0.3) {
                plan.push(("department", Some(Department::Childcare), None));
            }
            if ventilator && rng.random_bool(0.7) {
                plan.push(("disaster_plan", None, None));
            }
            if rng.random_bool(0.08) {
                plan.push(("mentor", None, None));
            }
            let method = if rng.random_bool(0.2) {
                "online"
            } else {
                "paper"
            };
            for (purpose, department, organisation) in plan {
                let recipient = match (&organisation, department) {
                    (Some(o), _) => o.clone(),
                    (None, Some(d)) => department_key(&code, d),
                    _ => String::new(),
                };
                consents.push(vec![
                    uuid(&mut rng).into(),
                    id.clone().into(),
                    purpose.into(),
                    department.map(|d| d.as_str().to_string()).into(),
                    organisation.into(),
                    recipient.into(),
                    codec::date_to_db(intake).into(),
                    method.into(),
                    recorder.clone().into(),
                    created.into(),
                    Val::OptText(None),
                ]);
            }
            if ventilator {
                report.ventilator += 1;
            }
            made.push((
                id,
                m.code.clone(),
                m.prefecture_code.clone(),
                ventilator,
                shared_with_centre,
            ));
            // Children before the rows that refer to them (foreign keys are checked at once).
            if children.pending_rows() >= 500 {
                for batch in [
                    &mut children,
                    &mut care_items,
                    &mut guardians,
                    &mut devices,
                    &mut siblings,
                    &mut consents,
                ] {
                    batch.flush(&mut tx).await?;
                }
            }
        }
    }
    for batch in [
        &mut children,
        &mut care_items,
        &mut guardians,
        &mut devices,
        &mut siblings,
        &mut consents,
    ] {
        batch.flush(&mut tx).await?;
    }
    report.children = children.rows_written;
    report.consents = consents.rows_written;
    // The resource directory, in the same transaction.
    let towns = self::distribution(super::national_directory::SERVICES)?;
    let directory = super::national_directory::seed(db, &mut tx, now, towns).await?;
    report.services = directory.services;
    report.vacancy_reports = directory.vacancy_reports;
    seeding_cache(&mut tx, db.backend(), false).await?;
    tx.commit().await?;
    tracing::info!(
        elapsed_ms = t0.elapsed().as_millis() as u64,
        "national: children and directory committed"
    );

    report.audit_entries = audit_year(db, &mut rng, now, &made, &existing).await?;
    crate::db::backend::after_bulk_load(db).await?;
    Ok(bench_accounts)
}

/// SQLite only: a page cache large enough for the indexes being filled, for the seeding
/// transaction; with the default 2 MB, dirty pages are spilled to the WAL and re-read over
/// and over (most of the time went to pwrite). `false` puts the default back before the
/// connection returns to the pool. (A backend quirk, kept here because only the generator
/// needs it.)
async fn seeding_cache(
    conn: &mut AnyConnection,
    backend: crate::config::Backend,
    on: bool,
) -> Result<(), sqlx::Error> {
    if backend == crate::config::Backend::Sqlite {
        let pragma = if on {
            "PRAGMA cache_size = -131072"
        } else {
            crate::db::backend::SQLITE_PAGE_CACHE
        };
        sqlx::query(pragma).execute(&mut *conn).await?;
    }
    Ok(())
}

async fn org_name(conn: &mut AnyConnection, id: &str) -> Result<String, sqlx::Error> {
    sqlx::query("SELECT name FROM organisations WHERE id = $1")
        .bind(id)
        .fetch_one(&mut *conn)
        .await?
        .try_get(0)
}

/// A child as the audit year needs it: id, municipality code, prefecture code, on a
/// ventilator, shared with the support centre.
type Made = (String, String, String, bool, bool);

/// What one synthetic audit entry records, before it is written out.
#[derive(Clone, Copy)]
struct Planned {
    at: i64,
    kind: u8,
    actor: u32,
    child: u32,
    extra: u32,
}

const READ: u8 = 0;
const UPDATE: u8 = 1;
const LOGIN: u8 = 2;
const EXPORT: u8 = 3;

const USER_AGENTS: [&str; 3] = [
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Safari/537.36 Edg/130.0.0.0",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
    "Mozilla/5.0 (iPad; CPU OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1",
];

const UPDATED_FIELDS: [&str; 7] = [
    r#"["address"]"#,
    r#"["guardians"]"#,
    r#"["devices"]"#,
    r#"["care_items"]"#,
    r#"["attending"]"#,
    r#"["diagnoses","hospital"]"#,
    r#"["guardians","devices"]"#,
];

/// An office-hours instant on a day in the past year (mostly weekdays), as Unix ms.
fn office_instant(rng: &mut StdRng, today: NaiveDate, now_ms: i64) -> i64 {
    let mut day = today - Duration::days(rng.random_range(1..=365));
    for _ in 0..3 {
        if matches!(day.weekday(), Weekday::Sat | Weekday::Sun) && rng.random_bool(0.9) {
            day = today - Duration::days(rng.random_range(1..=365));
        }
    }
    let seconds = rng.random_range((8 * 3600 + 1800)..(18 * 3600 + 1800));
    let local = day.and_hms_opt(0, 0, 0).unwrap_or_default() + Duration::seconds(seconds);
    JST.from_local_datetime(&local)
        .single()
        .map(|d| d.timestamp_millis())
        .unwrap_or(now_ms)
        .min(now_ms - 1)
}

/// About a year of audit entries, in time order, appended to the chain with the same
/// canonical hashing as `audit::record`: per child about ten reads (more for children on a
/// ventilator) and one or two updates by its municipality's staff, reads by the support
/// centre where it has staff, a weekly sign-in and a monthly list export per department.
async fn audit_year(
    db: &Db,
    rng: &mut StdRng,
    now: DateTime<Utc>,
    made: &[Made],
    existing: &Existing,
) -> Result<u64, StartupError> {
    let t0 = std::time::Instant::now();
    let today = now.with_timezone(&JST).date_naive();
    let now_ms = now.timestamp_millis();
    // Actors: (account id, organisation id, client address).
    let mut actors: Vec<(String, String, String)> = Vec::new();
    let mut actor_of: HashMap<&str, u32> = HashMap::new();
    let mut centre_actor: HashMap<&str, u32> = HashMap::new();
    for (code, account) in &existing.staff {
        let Some(org) = existing.owners.get(code) else {
            continue;
        };
        let n = actors.len();
        actors.push((
            account.clone(),
            org.clone(),
            format!(
                "10.{}.{}.{}",
                &code[..2].trim_start_matches('0'),
                n / 200 % 250,
                n % 200 + 20
            ),
        ));
        actor_of.insert(code.as_str(), n as u32);
    }
    for (pref, account) in &existing.centre_staff {
        let Some(org) = existing.centres.get(pref) else {
            continue;
        };
        let n = actors.len();
        actors.push((
            account.clone(),
            org.clone(),
            format!("10.{}.250.{}", pref.trim_start_matches('0'), n % 200 + 20),
        ));
        centre_actor.insert(pref.as_str(), n as u32);
    }
    let mut plan: Vec<Planned> = Vec::with_capacity(360_000);
    let mut per_actor_children: HashMap<u32, u32> = HashMap::new();
    for (i, (_, code, pref, ventilator, shared)) in made.iter().enumerate() {
        let Some(&actor) = actor_of.get(code.as_str()) else {
            continue;
        };
        *per_actor_children.entry(actor).or_default() += 1;
        let reads = rng.random_range(2..=18) + if *ventilator { 5 } else { 0 };
        for _ in 0..reads {
            plan.push(Planned {
                at: office_instant(rng, today, now_ms),
                kind: READ,
                actor,
                child: i as u32,
                extra: 0,
            });
        }
        for _ in 0..rng.random_range(0..=3) {
            plan.push(Planned {
                at: office_instant(rng, today, now_ms),
                kind: UPDATE,
                actor,
                child: i as u32,
                extra: rng.random_range(0..UPDATED_FIELDS.len() as u32),
            });
        }
        if *shared && let Some(&centre) = centre_actor.get(pref.as_str()) {
            for _ in 0..rng.random_range(0..=3) {
                plan.push(Planned {
                    at: office_instant(rng, today, now_ms),
                    kind: READ,
                    actor: centre,
                    child: i as u32,
                    extra: 0,
                });
            }
        }
    }
    for actor in 0..actors.len() as u32 {
        let children = per_actor_children.get(&actor).copied().unwrap_or(0);
        for _ in 0..48 {
            plan.push(Planned {
                at: office_instant(rng, today, now_ms),
                kind: LOGIN,
                actor,
                child: u32::MAX,
                extra: 0,
            });
        }
        if children > 0 {
            for _ in 0..12 {
                plan.push(Planned {
                    at: office_instant(rng, today, now_ms),
                    kind: EXPORT,
                    actor,
                    child: u32::MAX,
                    extra: children,
                });
            }
        }
    }
    plan.sort_by_key(|p| (p.at, p.actor, p.child));

    tracing::info!(
        elapsed_ms = t0.elapsed().as_millis() as u64,
        entries = plan.len(),
        "national: audit planned"
    );
    let mut tx = db.pool().begin().await?;
    seeding_cache(&mut tx, db.backend(), true).await?;
    // Take the chain's head first (a write: see `audit::record`).
    let head = sqlx::query(
        "UPDATE audit_head SET last_seq = last_seq WHERE id = 1 RETURNING last_seq, last_hash",
    )
    .fetch_one(&mut *tx)
    .await?;
    let mut seq: i64 = head.try_get("last_seq")?;
    let mut prev: String = head.try_get("last_hash")?;
    let mut batch = Batch::new(
        "INSERT INTO audit_log (seq, at, actor_account_id, actor_organisation_id, action, outcome, \
         resource_type, resource_id, child_id, fields, detail, client_addr, user_agent, prev_hash, hash)",
        15,
        db.backend(),
    );
    for p in &plan {
        seq += 1;
        let (account, org, addr) = &actors[p.actor as usize];
        let user_agent = USER_AGENTS[(p.actor as usize) % USER_AGENTS.len()];
        let child = made.get(p.child as usize).map(|c| c.0.as_str());
        let (action, resource_type, resource_id, fields, detail): (&str, &str, &str, &str, String) =
            match p.kind {
                READ => ("read", "child", child.unwrap_or(""), "[]", String::new()),
                UPDATE => (
                    "update",
                    "child",
                    child.unwrap_or(""),
                    UPDATED_FIELDS[p.extra as usize % UPDATED_FIELDS.len()],
                    String::new(),
                ),
                LOGIN => (
                    "login",
                    "account",
                    account.as_str(),
                    "[]",
                    "complete".into(),
                ),
                _ => (
                    "export",
                    "child",
                    "list",
                    "[]",
                    format!("条件なし; rows={}", p.extra),
                ),
            };
        let child_id = if p.kind == READ || p.kind == UPDATE {
            child
        } else {
            None
        };
        let hash = entry_hash(&Columns {
            seq,
            at: p.at,
            actor_account_id: Some(account),
            actor_organisation_id: Some(org),
            action,
            outcome: "allowed",
            resource_type: Some(resource_type),
            resource_id: Some(resource_id),
            child_id,
            fields,
            detail: &detail,
            client_addr: addr,
            user_agent,
            prev_hash: &prev,
        });
        batch.push(vec![
            seq.into(),
            p.at.into(),
            Val::OptText(Some(account.clone())),
            Val::OptText(Some(org.clone())),
            action.into(),
            "allowed".into(),
            Val::OptText(Some(resource_type.into())),
            Val::OptText(Some(resource_id.into())),
            Val::OptText(child_id.map(str::to_string)),
            fields.into(),
            detail.into(),
            addr.as_str().into(),
            user_agent.into(),
            std::mem::replace(&mut prev, hash.clone()).into(),
            hash.into(),
        ]);
        if batch.pending_rows() >= 2000 {
            batch.flush(&mut tx).await?;
        }
    }
    batch.flush(&mut tx).await?;
    sqlx::query("UPDATE audit_head SET last_seq = $1, last_hash = $2 WHERE id = 1")
        .bind(seq)
        .bind(&prev)
        .execute(&mut *tx)
        .await?;
    seeding_cache(&mut tx, db.backend(), false).await?;
    tx.commit().await?;
    tracing::info!(
        elapsed_ms = t0.elapsed().as_millis() as u64,
        "national: audit committed"
    );
    Ok(batch.rows_written)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefecture_populations_add_up_to_the_2020_census_total() {
        let p = prefecture_populations().unwrap();
        assert_eq!(p.len(), 47);
        assert_eq!(p.values().sum::<u64>(), 126_146_099);
    }

    #[test]
    fn the_distribution_covers_every_municipality_and_adds_up() {
        let d = distribution(CHILDREN).unwrap();
        assert_eq!(
            d.len(),
            1741,
            "municipalities, without prefectures and wards"
        );
        assert_eq!(d.iter().map(|(_, n)| n).sum::<u32>(), CHILDREN);
        let records: Vec<_> = d.iter().map(|(m, _)| m.clone()).collect();
        let shares = shares(&records, &prefecture_populations().unwrap());
        assert!((shares.iter().sum::<f64>() - 1.0).abs() < 1e-9);
        let of = |code: &str| {
            d.iter()
                .find(|(m, _)| m.code == code)
                .map(|(_, n)| *n)
                .unwrap()
        };
        // Tokyo: about 11 % of the population; a designated city far above a village.
        let tokyo: u32 = d
            .iter()
            .filter(|(m, _)| m.prefecture_code == "13")
            .map(|(_, n)| n)
            .sum();
        assert!((2100..=2350).contains(&tokyo), "{tokyo}");
        assert!(of("141003") > 200, "横浜市 {}", of("141003"));
        assert!(of("133078") <= 2, "檜原村 {}", of("133078"));
        assert!(of("131121") > of("132012") / 2);
    }

    #[test]
    fn largest_remainder_keeps_the_total() {
        assert_eq!(allocate(10, &[1.0, 1.0, 1.0]), vec![4, 3, 3]);
        assert_eq!(allocate(0, &[1.0]), vec![0]);
        assert_eq!(allocate(5, &[0.0, 0.0]), vec![0, 0]);
    }

    #[test]
    fn about_one_in_five_is_on_a_ventilator_and_every_pattern_scores() {
        assert_eq!(synth::ventilator_per_mille(), 200);
        let mut rng = StdRng::seed_from_u64(SEED);
        let today = NaiveDate::from_ymd_opt(2026, 11, 21).unwrap();
        let place = synth::Place {
            code: MunicipalityCode::parse("141003").unwrap(),
            name: "横浜市",
            prefecture: "神奈川県",
        };
        let n = 4000;
        let mut ventilator = 0;
        for _ in 0..n {
            let p = synth::profile(&mut rng, &place, today);
            tsunagu_core::care::score(&p.care, &tsunagu_core::care::SCORE_TABLE_2021)
                .unwrap_or_else(|e| panic!("{:?}: {e}", p.care));
            // Every generated profile survives the same checks as a typed one.
            let parsed = crate::features::children::profile::parse(&p.to_fields(), today)
                .unwrap_or_else(|e| panic!("{e:?}\n{p:?}"));
            assert_eq!(parsed, p);
            if p.care
                .iter()
                .any(|e| e.item == tsunagu_core::care::CareItem::Ventilator)
            {
                ventilator += 1;
            }
        }
        let share = f64::from(ventilator) / f64::from(n);
        assert!((0.17..=0.23).contains(&share), "{share}");
    }
}
