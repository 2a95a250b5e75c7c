//! One synthetic child: a realistic combination of care items with the devices that go with
//! them, and the rest of the profile (guardians, school, certificates). Pure: everything comes
//! from the seeded random generator passed in, so a run is reproducible.

use chrono::{Days, NaiveDate};
use rand::RngExt;
use rand::rngs::StdRng;
use rand::seq::IndexedRandom;
use tsunagu_core::care::{CareEntry, CareItem as I, CareVariant as V, Watch as W};
use tsunagu_core::device::DeviceKind as D;
use tsunagu_core::municipality::MunicipalityCode;

use super::names;
use crate::features::children::profile::{Device, Guardian, Profile, Sibling};

/// A care pattern: its share (per mille), whether it includes a ventilator, and a builder.
struct Pattern {
    per_mille: u32,
    /// Documents the share on a ventilator; checked by the tests.
    #[cfg_attr(not(test), allow(dead_code))]
    ventilator: bool,
    diagnoses: &'static [&'static str],
    build: fn(&mut StdRng) -> (Vec<CareEntry>, Vec<Device>),
}

fn hw(rng: &mut StdRng, high: f64) -> W {
    if rng.random_bool(high) {
        W::High
    } else {
        W::Low
    }
}

fn device(kind: D, watts: Option<i64>, internal: Option<i64>, external: Option<i64>) -> Device {
    Device {
        kind,
        power_watts: watts,
        battery_internal_minutes: internal,
        battery_external_minutes: external,
        note: String::new(),
    }
}

/// Hours (a multiple of half an hour) as minutes.
fn half_hours(rng: &mut StdRng, from: i64, to: i64) -> i64 {
    rng.random_range(from * 2..=to * 2) * 30
}

fn ventilator_devices(rng: &mut StdRng, with_suction: bool) -> Vec<Device> {
    let internal = half_hours(rng, 1, 8);
    let external = if rng.random_bool(0.85) {
        Some(half_hours(rng, 4, 12))
    } else {
        None
    };
    let mut list = vec![device(
        D::Ventilator,
        Some(rng.random_range(4..=15) * 10),
        Some(internal),
        external,
    )];
    if with_suction {
        list.push(device(
            D::Suction,
            Some(rng.random_range(5..=12) * 10),
            Some(rng.random_range(1..=3) * 30),
            None,
        ));
    }
    list.push(device(
        D::PulseOximeter,
        None,
        Some(half_hours(rng, 8, 24)),
        None,
    ));
    list
}

fn oxygen_devices(rng: &mut StdRng) -> Vec<Device> {
    let mut cylinder = device(D::OxygenCylinder, None, None, None);
    cylinder.note = "外出用".into();
    vec![
        device(
            D::OxygenConcentrator,
            Some(rng.random_range(10..=30) * 10),
            None,
            None,
        ),
        cylinder,
    ]
}

fn tube(rng: &mut StdRng, care: &mut Vec<CareEntry>, devices: &mut Vec<Device>, pump: f64) {
    care.push(CareEntry::new(I::TubeFeeding).with_watch(hw(rng, 0.5)));
    if rng.random_bool(pump) {
        care.push(CareEntry::new(I::FeedingPump).with_watch(hw(rng, 0.3)));
        devices.push(device(
            D::FeedingPump,
            Some(10),
            Some(half_hours(rng, 4, 12)),
            None,
        ));
    }
}

const PATTERNS: [Pattern; 13] = [
    // 20 % on a ventilator (DOMAIN.md: about one in five), in three typical shapes.
    Pattern {
        per_mille: 140,
        ventilator: true,
        diagnoses: &[
            "脊髄性筋萎縮症（SMA）I型",
            "低酸素性虚血性脳症",
            "18トリソミー",
            "先天性ミオパチー",
            "重症新生児仮死後遺症",
        ],
        build: |rng| {
            let mut care = vec![
                CareEntry::new(I::Ventilator).with_watch(
                    *[W::High, W::High, W::Medium]
                        .choose(rng)
                        .unwrap_or(&W::High),
                ),
                CareEntry::new(I::Tracheostomy).with_watch(W::High),
                CareEntry::new(I::Suction).with_watch(W::High),
            ];
            let mut devices = ventilator_devices(rng, true);
            tube(rng, &mut care, &mut devices, 0.4);
            if rng.random_bool(0.35) {
                care.push(CareEntry::new(I::Oxygen).with_watch(hw(rng, 0.5)));
                devices.extend(oxygen_devices(rng));
            }
            if rng.random_bool(0.3) {
                care.push(CareEntry::new(I::SeizureResponse).with_watch(hw(rng, 0.6)));
            }
            (care, devices)
        },
    },
    Pattern {
        per_mille: 40,
        ventilator: true,
        diagnoses: &[
            "デュシェンヌ型筋ジストロフィー",
            "脊髄性筋萎縮症（SMA）II型",
            "中枢性低換気症候群",
        ],
        // NPPV at night (mask), no tracheostomy.
        build: |rng| {
            let mut care = vec![
                CareEntry::new(I::Ventilator)
                    .with_watch(*[W::Medium, W::Low].choose(rng).unwrap_or(&W::Low)),
                CareEntry::new(I::Suction).with_watch(hw(rng, 0.4)),
            ];
            let mut devices = ventilator_devices(rng, true);
            devices.push(device(D::CoughAssist, Some(100), None, None));
            if rng.random_bool(0.4) {
                care.push(CareEntry::new(I::Oxygen).with_watch(W::Low));
                devices.extend(oxygen_devices(rng));
            }
            (care, devices)
        },
    },
    Pattern {
        per_mille: 20,
        ventilator: true,
        diagnoses: &["先天性中枢性低換気症候群", "気管軟化症", "先天性心疾患術後"],
        build: |rng| {
            let care = vec![
                CareEntry::new(I::Ventilator).with_watch(W::High),
                CareEntry::new(I::Tracheostomy).with_watch(W::High),
                CareEntry::new(I::Suction).with_watch(hw(rng, 0.7)),
            ];
            (care, ventilator_devices(rng, true))
        },
    },
    Pattern {
        per_mille: 100,
        ventilator: false,
        diagnoses: &["気管狭窄症", "脳性麻痺", "喉頭軟化症"],
        build: |rng| {
            let mut care = vec![
                CareEntry::new(I::Tracheostomy).with_watch(hw(rng, 0.6)),
                CareEntry::new(I::Suction).with_watch(hw(rng, 0.6)),
            ];
            let mut devices = vec![device(D::Suction, Some(80), Some(60), None)];
            if rng.random_bool(0.6) {
                tube(rng, &mut care, &mut devices, 0.2);
            }
            (care, devices)
        },
    },
    Pattern {
        per_mille: 200,
        ventilator: false,
        diagnoses: &[
            "ダウン症候群",
            "脳性麻痺",
            "先天性食道閉鎖症術後",
            "極低出生体重児",
            "嚥下障害",
        ],
        // Tube feeding alone.
        build: |rng| {
            let mut care = Vec::new();
            let mut devices = Vec::new();
            tube(rng, &mut care, &mut devices, 0.15);
            (care, devices)
        },
    },
    Pattern {
        per_mille: 120,
        ventilator: false,
        diagnoses: &["脳性麻痺", "滑脳症", "ウエスト症候群"],
        build: |rng| {
            let mut care = vec![CareEntry::new(I::Suction).with_watch(hw(rng, 0.5))];
            let mut devices = vec![device(D::Suction, Some(70), Some(30), None)];
            tube(rng, &mut care, &mut devices, 0.25);
            (care, devices)
        },
    },
    Pattern {
        per_mille: 140,
        ventilator: false,
        diagnoses: &["慢性肺疾患（新生児期発症）", "先天性心疾患", "肺高血圧症"],
        // Oxygen alone.
        build: |rng| {
            let care = vec![CareEntry::new(I::Oxygen).with_watch(hw(rng, 0.4))];
            let mut devices = oxygen_devices(rng);
            devices.push(device(
                D::PulseOximeter,
                None,
                Some(half_hours(rng, 8, 24)),
                None,
            ));
            (care, devices)
        },
    },
    Pattern {
        per_mille: 60,
        ventilator: false,
        diagnoses: &["難治性てんかん", "ドラベ症候群", "結節性硬化症"],
        build: |rng| {
            let mut care = vec![CareEntry::new(I::SeizureResponse).with_watch(hw(rng, 0.6))];
            let mut devices = Vec::new();
            tube(rng, &mut care, &mut devices, 0.1);
            (care, devices)
        },
    },
    Pattern {
        per_mille: 60,
        ventilator: false,
        diagnoses: &["二分脊椎", "脊髄髄膜瘤", "鎖肛術後"],
        build: |rng| {
            let mut care = vec![CareEntry::new(I::Catheterisation).with_variant(V::Intermittent)];
            if rng.random_bool(0.6) {
                care.push(
                    CareEntry::new(I::BowelManagement).with_variant(
                        *[V::ManualEvacuation, V::Enema]
                            .choose(rng)
                            .unwrap_or(&V::Enema),
                    ),
                );
            }
            (care, Vec::new())
        },
    },
    Pattern {
        per_mille: 50,
        ventilator: false,
        diagnoses: &["1型糖尿病"],
        build: |rng| {
            let mut care = vec![
                CareEntry::new(I::BloodGlucose).with_watch(hw(rng, 0.3)),
                CareEntry::new(I::SubcutaneousInjection).with_watch(hw(rng, 0.3)),
            ];
            let mut devices = Vec::new();
            if rng.random_bool(0.4) {
                care.push(CareEntry::new(I::SubcutaneousPump).with_watch(W::Low));
                devices.push(device(
                    D::InfusionPump,
                    None,
                    Some(half_hours(rng, 24, 72)),
                    None,
                ));
            }
            (care, devices)
        },
    },
    Pattern {
        per_mille: 20,
        ventilator: false,
        diagnoses: &["短腸症候群", "ヒルシュスプルング病類縁疾患"],
        build: |rng| {
            let mut care = vec![CareEntry::new(I::CentralVenousCatheter).with_watch(hw(rng, 0.5))];
            let mut devices = vec![device(
                D::InfusionPump,
                Some(15),
                Some(half_hours(rng, 4, 12)),
                None,
            )];
            if rng.random_bool(0.5) {
                tube(rng, &mut care, &mut devices, 0.5);
            }
            (care, devices)
        },
    },
    Pattern {
        per_mille: 10,
        ventilator: false,
        diagnoses: &["慢性腎不全", "先天性腎低形成"],
        build: |rng| {
            let care = vec![CareEntry::new(I::Dialysis).with_watch(hw(rng, 0.5))];
            (care, vec![device(D::Other, Some(100), None, None)])
        },
    },
    Pattern {
        per_mille: 40,
        ventilator: false,
        diagnoses: &["気管支肺異形成", "嚢胞性線維症"],
        build: |rng| {
            let care = vec![
                CareEntry::new(I::Nebulizer),
                CareEntry::new(I::Suction).with_watch(W::Low),
            ];
            let _ = rng;
            (care, vec![device(D::Nebulizer, Some(50), None, None)])
        },
    },
];

/// Share of the patterns that include a ventilator, per mille (the demo's documented 20 %).
#[cfg(test)]
pub fn ventilator_per_mille() -> u32 {
    PATTERNS
        .iter()
        .filter(|p| p.ventilator)
        .map(|p| p.per_mille)
        .sum()
}

/// Care items, devices and a diagnosis drawn from the patterns by their shares.
pub fn care(rng: &mut StdRng) -> (Vec<CareEntry>, Vec<Device>, &'static str) {
    let total: u32 = PATTERNS.iter().map(|p| p.per_mille).sum();
    let mut pick = rng.random_range(0..total);
    let pattern = PATTERNS
        .iter()
        .find(|p| {
            if pick < p.per_mille {
                true
            } else {
                pick -= p.per_mille;
                false
            }
        })
        .unwrap_or(&PATTERNS[0]);
    let (mut care, devices) = (pattern.build)(rng);
    care.sort_by_key(|e| e.item);
    let diagnosis = pattern.diagnoses.choose(rng).copied().unwrap_or("");
    (care, devices, diagnosis)
}

/// Where the child is, its fictional address and the people around it.
pub struct Place<'a> {
    pub code: MunicipalityCode,
    pub name: &'a str,
    pub prefecture: &'a str,
}

fn days_before(date: NaiveDate, days: u64) -> NaiveDate {
    date.checked_sub_days(Days::new(days)).unwrap_or(date)
}

/// A whole synthetic profile in `place`, valid for `profile::parse` on `today`.
pub fn profile(rng: &mut StdRng, place: &Place<'_>, today: NaiveDate) -> Profile {
    let (family, family_kana) = *names::FAMILY.choose(rng).unwrap_or(&names::FAMILY[0]);
    let male = rng.random_bool(0.52);
    let (given, given_kana) = if male {
        *names::BOYS.choose(rng).unwrap_or(&names::BOYS[0])
    } else {
        *names::GIRLS.choose(rng).unwrap_or(&names::GIRLS[0])
    };
    // Younger children are more numerous in the registries (many leave the list at school
    // age as care ends); ages 0–17.
    let age_years: u64 = if rng.random_bool(0.55) {
        rng.random_range(0..=6)
    } else {
        rng.random_range(7..=17)
    };
    let birth = days_before(today, age_years * 365 + rng.random_range(20..=364));
    let age_days = (today - birth).num_days().max(1) as u64;
    let (care, devices, diagnosis) = care(rng);
    let on_ventilator = care.iter().any(|e| e.item == I::Ventilator);
    let intake_source = *[
        "hospital_discharge",
        "hospital_discharge",
        "hospital_discharge",
        "health_centre",
        "health_centre",
        "family_application",
        "transfer",
    ]
    .choose(rng)
    .unwrap_or(&"health_centre");
    let intake = days_before(
        today,
        rng.random_range(0..age_days.saturating_sub(14).max(1)),
    );
    let (status, status_date) = if rng.random_bool(0.03) {
        (
            "moved_out",
            Some(days_before(today, rng.random_range(1..=300))),
        )
    } else {
        ("active", None)
    };
    // Where the child goes follows its class of this 年度 (a 小学3年 is not at a 中学校).
    use tsunagu_core::calendar::LifeStage as S;
    let stage =
        tsunagu_core::calendar::life_stage(birth, tsunagu_core::calendar::fiscal_year(today));
    let pick = |rng: &mut StdRng, choices: &[&'static str]| -> &'static str {
        choices.choose(rng).copied().unwrap_or("")
    };
    let attending = match stage {
        S::Unborn | S::Infant | S::NurseryClass(0..=2) => "",
        S::NurseryClass(_) => pick(
            rng,
            &[
                "",
                "児童発達支援 ひだまり（架空）",
                "保育所（医療的ケア児受入）",
                "幼稚園",
            ],
        ),
        S::Elementary(_) => pick(
            rng,
            &[
                "特別支援学校 小学部",
                "特別支援学校（訪問教育）",
                "小学校 特別支援学級",
            ],
        ),
        S::JuniorHigh(_) => pick(
            rng,
            &[
                "特別支援学校 中学部",
                "特別支援学校（訪問教育）",
                "中学校 特別支援学級",
            ],
        ),
        S::UpperSecondary(_) => pick(rng, &["特別支援学校 高等部", "特別支援学校（訪問教育）"]),
        S::AfterSchool => pick(rng, &["生活介護（架空）", ""]),
    };
    let recipient = rng.random_bool(0.6);
    let score = tsunagu_core::care::score(&care, &tsunagu_core::care::SCORE_TABLE_2021)
        .map(|s| s.total)
        .unwrap_or(0);
    let care_category = match (recipient, score) {
        (false, _) => "",
        (true, 32..) => "3",
        (true, 16..) => "2",
        (true, _) => "1",
    };
    let mother = *names::MOTHERS.choose(rng).unwrap_or(&names::MOTHERS[0]);
    let serial = rng.random_range(0..10_000);
    let (employment, wishes) = *[
        ("working", "unknown"),
        ("on_leave", "yes"),
        ("not_working", "yes"),
        ("not_working", "yes"),
        ("not_working", "no"),
        ("not_working", "unknown"),
        ("seeking", "yes"),
    ]
    .choose(rng)
    .unwrap_or(&("unknown", "unknown"));
    let mut guardians = vec![Guardian {
        name: format!("{family} {}", mother.0),
        kana: format!("{family_kana} {}", mother.1),
        relation: "母".into(),
        phone: format!("090-0000-{serial:04}"),
        email: format!("family{serial:04}@example.jp"),
        employment: employment.into(),
        wishes_to_work: wishes.into(),
    }];
    if rng.random_bool(0.7) {
        let father = *names::FATHERS.choose(rng).unwrap_or(&names::FATHERS[0]);
        guardians.push(Guardian {
            name: format!("{family} {}", father.0),
            kana: format!("{family_kana} {}", father.1),
            relation: "父".into(),
            phone: format!("080-0000-{:04}", rng.random_range(0..10_000)),
            email: String::new(),
            employment: "working".into(),
            wishes_to_work: "unknown".into(),
        });
    }
    let siblings = if rng.random_bool(0.35) {
        let older = rng.random_bool(0.6);
        let sibling_birth = if older {
            days_before(birth, rng.random_range(400..=2500))
        } else {
            days_before(today, rng.random_range(30..=age_days.max(31)))
        };
        vec![Sibling {
            name: format!(
                "{family} {}",
                names::GIRLS
                    .iter()
                    .chain(names::BOYS.iter())
                    .collect::<Vec<_>>()
                    .choose(rng)
                    .map(|n| n.0)
                    .unwrap_or("こども")
            ),
            birth_date: Some(
                sibling_birth.max(NaiveDate::from_ymd_opt(1995, 1, 1).unwrap_or(sibling_birth)),
            ),
            note: if older {
                "同居".into()
            } else {
                String::new()
            },
        }]
    } else {
        Vec::new()
    };
    Profile {
        name: format!("{family} {given}"),
        kana: format!("{family_kana} {given_kana}"),
        birth_date: birth,
        sex: if male { "male" } else { "female" }.into(),
        municipality_code: place.code,
        address: format!(
            "{}{}{}-{}-{}",
            place.name,
            names::TOWN_WORDS.choose(rng).unwrap_or(&"みどり町"),
            rng.random_range(1..=5),
            rng.random_range(1..=30),
            rng.random_range(1..=20)
        ),
        status: status.into(),
        status_date,
        intake_source: intake_source.into(),
        intake_date: Some(intake.max(birth)),
        diagnoses: diagnosis.into(),
        hospital: format!(
            "{}{}（架空）",
            place.prefecture,
            [
                "立こども医療センター",
                "小児総合医療センター",
                "大学病院 小児科",
                "赤十字病院 小児科"
            ]
            .choose(rng)
            .unwrap_or(&"立こども医療センター")
        ),
        doctor: format!(
            "{} 医師",
            names::FAMILY.choose(rng).map(|f| f.0).unwrap_or("田中")
        ),
        physical_disability_grade: if on_ventilator {
            "1".into()
        } else {
            (*["", "", "1", "2", "3"].choose(rng).unwrap_or(&"")).into()
        },
        ryoiku_techo: (*["", "", "A", "B"].choose(rng).unwrap_or(&"")).into(),
        recipient_certificate: if recipient { "yes" } else { "" }.into(),
        care_category: care_category.into(),
        attending: attending.into(),
        care,
        guardians,
        devices,
        siblings,
    }
}
