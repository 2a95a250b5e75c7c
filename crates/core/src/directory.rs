//! The resource directory's rules: the kinds of services (a taxonomy kept as data, with
//! its source), and whether one service fits one child — every reason it does not, in
//! Japanese, so staff can tell a family why, not only that.

use chrono::NaiveDate;

use crate::calendar::format_wareki_with_seireki;
use crate::care::{CareItem, Tier};
use crate::device::DeviceKind;

/// What kind of service a kind is, for grouping on pages and for the gaps of later
/// reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum KindGroup {
    /// 保育・教育 (nurseries, kindergartens, after-school clubs, schools).
    ChildcareEducation,
    /// 障害児通所・訪問 (児童福祉法の障害児支援).
    ChildDisability,
    /// 短期入所・日中預かり・レスパイト.
    Respite,
    /// 医療・訪問看護.
    Medical,
    /// 相談・調整.
    Consultation,
    /// 防災.
    Disaster,
}

impl KindGroup {
    pub fn label_ja(self) -> &'static str {
        match self {
            KindGroup::ChildcareEducation => "保育・教育",
            KindGroup::ChildDisability => "障害児通所・訪問",
            KindGroup::Respite => "短期入所・預かり",
            KindGroup::Medical => "医療・訪問看護",
            KindGroup::Consultation => "相談・調整",
            KindGroup::Disaster => "防災",
        }
    }
}

/// One kind of service of the taxonomy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ServiceKind {
    /// Stable code for storage, the API and the HSDS taxonomy term. Never change one.
    pub code: &'static str,
    pub label: &'static str,
    pub group: KindGroup,
    /// The class ages (age on April 1) the kind usually serves, when it is bound to them:
    /// the default of a new entry, which the facility may narrow.
    pub class_ages: Option<(i32, i32)>,
    /// Where the kind is defined.
    pub basis: &'static str,
}

/// Where the taxonomy comes from and when it was last revised.
pub const SERVICE_KINDS_SOURCE: &str = "子ども・子育て支援法の教育・保育施設、児童福祉法の障害児通所支援・障害児相談支援、障害者総合支援法の障害福祉サービス、学校教育法、災害対策基本法（福祉避難所）の類型に、医療的ケア児支援法（令和3年法律第81号）の医療的ケア児等コーディネーターを加えたもの";
pub const SERVICE_KINDS_REVISED: &str = "2026-12-07";

const CHILD_WELFARE: &str = "児童福祉法";
const SUPPORT_ACT: &str = "障害者総合支援法";
const CHILDCARE_ACT: &str = "子ども・子育て支援法";

/// The kinds, in the order pages list them.
pub const SERVICE_KINDS: &[ServiceKind] = &[
    kind(
        "nursery",
        "保育所",
        KindGroup::ChildcareEducation,
        Some((0, 5)),
        CHILDCARE_ACT,
    ),
    kind(
        "certified_childcare",
        "認定こども園",
        KindGroup::ChildcareEducation,
        Some((0, 5)),
        CHILDCARE_ACT,
    ),
    kind(
        "kindergarten",
        "幼稚園",
        KindGroup::ChildcareEducation,
        Some((3, 5)),
        "学校教育法",
    ),
    kind(
        "small_nursery",
        "小規模保育",
        KindGroup::ChildcareEducation,
        Some((0, 2)),
        CHILDCARE_ACT,
    ),
    kind(
        "after_school_club",
        "学童クラブ",
        KindGroup::ChildcareEducation,
        Some((6, 11)),
        CHILD_WELFARE,
    ),
    kind(
        "special_needs_school",
        "特別支援学校（看護師配置）",
        KindGroup::ChildcareEducation,
        Some((6, 17)),
        "学校教育法",
    ),
    kind(
        "school_transport",
        "医療的ケア児専用通学車両",
        KindGroup::ChildcareEducation,
        Some((6, 17)),
        "学校教育法",
    ),
    kind(
        "child_development",
        "児童発達支援",
        KindGroup::ChildDisability,
        Some((0, 5)),
        CHILD_WELFARE,
    ),
    kind(
        "child_development_smid",
        "児童発達支援（重症心身障害児対応）",
        KindGroup::ChildDisability,
        Some((0, 5)),
        CHILD_WELFARE,
    ),
    kind(
        "child_development_centre",
        "児童発達支援センター",
        KindGroup::ChildDisability,
        Some((0, 5)),
        CHILD_WELFARE,
    ),
    kind(
        "after_school_day",
        "放課後等デイサービス",
        KindGroup::ChildDisability,
        Some((6, 17)),
        CHILD_WELFARE,
    ),
    kind(
        "after_school_day_smid",
        "放課後等デイサービス（重症心身障害児対応）",
        KindGroup::ChildDisability,
        Some((6, 17)),
        CHILD_WELFARE,
    ),
    kind(
        "nursery_visit_support",
        "保育所等訪問支援",
        KindGroup::ChildDisability,
        None,
        CHILD_WELFARE,
    ),
    kind(
        "home_visit_development",
        "居宅訪問型児童発達支援",
        KindGroup::ChildDisability,
        None,
        CHILD_WELFARE,
    ),
    kind(
        "short_stay_medical",
        "短期入所（医療型）",
        KindGroup::Respite,
        None,
        SUPPORT_ACT,
    ),
    kind(
        "short_stay_welfare",
        "短期入所（福祉型）",
        KindGroup::Respite,
        None,
        SUPPORT_ACT,
    ),
    kind(
        "day_temporary",
        "日中一時支援",
        KindGroup::Respite,
        None,
        "障害者総合支援法（地域生活支援事業）",
    ),
    kind(
        "home_respite",
        "在宅レスパイト（訪問看護による）",
        KindGroup::Respite,
        None,
        "市区町村の事業",
    ),
    kind(
        "visiting_nurse",
        "訪問看護",
        KindGroup::Medical,
        None,
        "健康保険法・介護保険法",
    ),
    kind(
        "visiting_rehab",
        "訪問リハビリ（PT・OT・ST）",
        KindGroup::Medical,
        None,
        "健康保険法",
    ),
    kind(
        "paediatrics",
        "小児科・在宅医",
        KindGroup::Medical,
        None,
        "医療法",
    ),
    kind(
        "consultation_support",
        "相談支援事業所",
        KindGroup::Consultation,
        None,
        CHILD_WELFARE,
    ),
    kind(
        "coordinator",
        "医療的ケア児等コーディネーター",
        KindGroup::Consultation,
        None,
        "医療的ケア児支援法",
    ),
    kind(
        "welfare_shelter",
        "福祉避難所",
        KindGroup::Disaster,
        None,
        "災害対策基本法",
    ),
];

const fn kind(
    code: &'static str,
    label: &'static str,
    group: KindGroup,
    class_ages: Option<(i32, i32)>,
    basis: &'static str,
) -> ServiceKind {
    ServiceKind {
        code,
        label,
        group,
        class_ages,
        basis,
    }
}

/// The kind of a stored or sent code.
pub fn service_kind(code: &str) -> Option<&'static ServiceKind> {
    SERVICE_KINDS.iter().find(|k| k.code == code)
}

/// The kinds of service that take a child at a transition: where the transition board
/// looks for places. 卒業 leads to adult services, which the taxonomy does not hold.
pub fn kinds_for(transition: crate::transitions::TransitionKind) -> &'static [&'static str] {
    use crate::transitions::TransitionKind as T;
    match transition {
        T::NurseryEntry => &[
            "nursery",
            "certified_childcare",
            "small_nursery",
            "kindergarten",
            "child_development",
            "child_development_smid",
            "child_development_centre",
        ],
        T::SchoolEntry => &[
            "special_needs_school",
            "after_school_club",
            "after_school_day",
            "after_school_day_smid",
        ],
        T::JuniorHigh | T::UpperSecondary => &["after_school_day", "after_school_day_smid"],
        T::Graduation => &[],
    }
}

/// What a service does about one device.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeviceRule {
    /// The service cannot take a child using it.
    NotHandled,
    /// Only with a parent present (e.g. 人工呼吸器 only with a parent).
    WithParent,
}

impl DeviceRule {
    pub fn code(self) -> &'static str {
        match self {
            DeviceRule::NotHandled => "not_handled",
            DeviceRule::WithParent => "with_parent",
        }
    }

    pub fn parse(code: &str) -> Option<DeviceRule> {
        [DeviceRule::NotHandled, DeviceRule::WithParent]
            .into_iter()
            .find(|r| r.code() == code)
    }

    pub fn label_ja(self) -> &'static str {
        match self {
            DeviceRule::NotHandled => "対応できない",
            DeviceRule::WithParent => "保護者の付き添いがあれば対応",
        }
    }
}

/// What a service offers, as matching reads it.
#[derive(Debug, Clone, Default)]
pub struct Offer {
    /// The municipalities it serves (its own and any others it names).
    pub areas: Vec<String>,
    /// The class ages it takes (None: any age).
    pub class_ages: Option<(i32, i32)>,
    /// The care items it accepts.
    pub care: Vec<CareItem>,
    /// The highest score tier it takes (None: no limit).
    pub max_tier: Option<Tier>,
    pub device_rules: Vec<(DeviceKind, DeviceRule)>,
    /// Places free for the child's class age (or for all ages), and as of when; None when
    /// the service has never said.
    pub vacancies: Option<(i64, NaiveDate)>,
    /// Whether the kind takes children by places at all (a 訪問看護 or a coordinator has
    /// no places: vacancies are not asked of it).
    pub has_places: bool,
    /// Whether the care a child needs decides (a consultation office or a coordinator
    /// serves every child, whatever their care).
    pub weighs_care: bool,
}

/// What a child needs, as matching reads it.
#[derive(Debug, Clone)]
pub struct Needs {
    pub municipality_code: String,
    pub class_age: i32,
    pub care: Vec<CareItem>,
    pub tier: Tier,
    pub devices: Vec<DeviceKind>,
}

/// Why a service does not fit (or fits only on a condition).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Misfit {
    OutsideArea,
    Age { from: i32, to: i32 },
    Care(CareItem),
    Tier(Tier),
    Device(DeviceKind),
    NoVacancy(NaiveDate),
    VacancyUnknown,
}

impl Misfit {
    pub fn message_ja(&self) -> String {
        match self {
            Misfit::OutsideArea => "お住まいの市区町村は対象地域に入っていません".into(),
            Misfit::Age { from, to } => {
                format!("対象年齢（{}）に入っていません", age_range_ja(*from, *to))
            }
            Misfit::Care(item) => format!("{}に対応していません", item.short_label_ja()),
            Misfit::Tier(max) => format!(
                "判定スコアの受け入れ上限（{}）を超えています",
                max.label_ja()
            ),
            Misfit::Device(device) => {
                format!("{}を使う児童は受け入れていません", device.label_ja())
            }
            Misfit::NoVacancy(as_of) => {
                format!(
                    "空きがありません（{}時点）",
                    format_wareki_with_seireki(*as_of)
                )
            }
            Misfit::VacancyUnknown => "空きの状況が登録されていません".into(),
        }
    }
}

/// One class age (age on April 1) in words: 「3歳児」, 「小1」, 「高3」, 「卒後」.
pub fn class_age_ja(age: i32) -> String {
    match age {
        ..=5 => format!("{}歳児", age.max(0)),
        6..=11 => format!("小{}", age - 5),
        12..=14 => format!("中{}", age - 11),
        15..=17 => format!("高{}", age - 14),
        _ => "卒後".into(),
    }
}

/// A class-age range in words: 「0〜5歳児クラス」, 「小1〜高3」, 「3歳児クラス」.
pub fn age_range_ja(from: i32, to: i32) -> String {
    if from == to {
        if to <= 5 {
            format!("{}クラス", class_age_ja(to))
        } else {
            class_age_ja(to)
        }
    } else if to <= 5 {
        format!("{}〜{}歳児クラス", from.max(0), to)
    } else {
        format!("{}〜{}", class_age_ja(from), class_age_ja(to))
    }
}

/// How one service stands for one child.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fit {
    /// Empty: the service fits.
    pub misfits: Vec<Misfit>,
    /// Devices it takes only with a parent present: a fit, on that condition.
    pub with_parent: Vec<DeviceKind>,
    /// Places free for the child (when the kind has places and has said).
    pub vacancies: Option<i64>,
}

impl Fit {
    pub fn fits(&self) -> bool {
        self.misfits.is_empty()
    }
}

/// Whether `offer` fits `needs`: every reason it does not, in the order a family asks
/// (where, age, care, devices, places).
pub fn fit(needs: &Needs, offer: &Offer) -> Fit {
    let mut misfits = Vec::new();
    if !offer.areas.contains(&needs.municipality_code) {
        misfits.push(Misfit::OutsideArea);
    }
    if let Some((from, to)) = offer.class_ages
        && !(from..=to).contains(&needs.class_age)
    {
        misfits.push(Misfit::Age { from, to });
    }
    for item in needs.care.iter().filter(|_| offer.weighs_care) {
        if !offer.care.contains(item) {
            misfits.push(Misfit::Care(*item));
        }
    }
    if let Some(max) = offer.max_tier
        && needs.tier.min_points() > max.min_points()
    {
        misfits.push(Misfit::Tier(max));
    }
    let mut with_parent = Vec::new();
    for device in &needs.devices {
        match offer.device_rules.iter().find(|(d, _)| d == device) {
            Some((_, DeviceRule::NotHandled)) => misfits.push(Misfit::Device(*device)),
            Some((_, DeviceRule::WithParent)) => with_parent.push(*device),
            None => {}
        }
    }
    let mut vacancies = None;
    if offer.has_places {
        match offer.vacancies {
            Some((free, _)) if free > 0 => vacancies = Some(free),
            Some((_, as_of)) => misfits.push(Misfit::NoVacancy(as_of)),
            None => misfits.push(Misfit::VacancyUnknown),
        }
    }
    Fit {
        misfits,
        with_parent,
        vacancies,
    }
}

/// Whether the care a child needs decides for a kind: not for consultation and
/// coordination, which serve every child.
pub fn weighs_care(kind: &ServiceKind) -> bool {
    !matches!(kind.code, "consultation_support" | "coordinator")
}

/// Whether a kind takes children by places (and so is asked for vacancies).
pub fn has_places(kind: &ServiceKind) -> bool {
    !matches!(
        kind.code,
        "nursery_visit_support"
            | "home_visit_development"
            | "visiting_nurse"
            | "visiting_rehab"
            | "paediatrics"
            | "consultation_support"
            | "coordinator"
            | "school_transport"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    fn nursery() -> Offer {
        Offer {
            areas: vec!["131199".into()],
            class_ages: Some((1, 5)),
            care: vec![CareItem::Suction, CareItem::TubeFeeding],
            max_tier: Some(Tier::Tier16),
            device_rules: vec![(DeviceKind::Ventilator, DeviceRule::NotHandled)],
            vacancies: Some((2, date(2026, 4, 1))),
            has_places: true,
            weighs_care: true,
        }
    }

    fn child() -> Needs {
        Needs {
            municipality_code: "131199".into(),
            class_age: 2,
            care: vec![CareItem::Suction],
            tier: Tier::Tier3,
            devices: vec![DeviceKind::Suction],
        }
    }

    #[test]
    fn the_taxonomy_has_every_kind_the_seeds_name_once() {
        assert!(SERVICE_KINDS.len() >= 24);
        let mut codes: Vec<_> = SERVICE_KINDS.iter().map(|k| k.code).collect();
        codes.sort();
        codes.dedup();
        assert_eq!(codes.len(), SERVICE_KINDS.len());
        for label in [
            "保育所",
            "短期入所（医療型）",
            "福祉避難所",
            "医療的ケア児等コーディネーター",
        ] {
            assert!(SERVICE_KINDS.iter().any(|k| k.label == label), "{label}");
        }
        assert_eq!(service_kind("nursery").unwrap().label, "保育所");
        assert!(service_kind("daycare").is_none());
    }

    #[test]
    fn a_service_fits_when_nothing_stands_in_the_way() {
        let fit = fit(&child(), &nursery());
        assert!(fit.fits(), "{:?}", fit.misfits);
        assert_eq!(fit.vacancies, Some(2));
    }

    #[test]
    fn every_reason_is_named_in_japanese() {
        let needs = Needs {
            municipality_code: "131202".into(),
            class_age: 0,
            care: vec![CareItem::Suction, CareItem::Ventilator],
            tier: Tier::Tier32,
            devices: vec![DeviceKind::Ventilator],
        };
        let mut offer = nursery();
        offer.vacancies = Some((0, date(2026, 4, 1)));
        let fit = fit(&needs, &offer);
        let said: Vec<String> = fit.misfits.iter().map(Misfit::message_ja).collect();
        assert_eq!(
            said,
            vec![
                "お住まいの市区町村は対象地域に入っていません",
                "対象年齢（1〜5歳児クラス）に入っていません",
                "人工呼吸器に対応していません",
                "判定スコアの受け入れ上限（16〜31点）を超えています",
                "人工呼吸器を使う児童は受け入れていません",
                "空きがありません（令和8年4月1日（2026年）時点）",
            ]
        );
    }

    #[test]
    fn a_device_with_a_parent_present_is_a_fit_on_that_condition() {
        let mut offer = nursery();
        offer.device_rules = vec![(DeviceKind::Suction, DeviceRule::WithParent)];
        let fit = fit(&child(), &offer);
        assert!(fit.fits());
        assert_eq!(fit.with_parent, vec![DeviceKind::Suction]);
    }

    #[test]
    fn places_are_asked_only_of_kinds_that_have_them() {
        let mut offer = nursery();
        offer.vacancies = None;
        assert_eq!(fit(&child(), &offer).misfits, vec![Misfit::VacancyUnknown]);
        offer.has_places = false;
        assert!(fit(&child(), &offer).fits());
        // A coordinator serves every child, whatever their care.
        let coordinator = Offer {
            care: Vec::new(),
            weighs_care: false,
            has_places: false,
            ..nursery()
        };
        assert!(fit(&child(), &coordinator).fits());
        assert!(!weighs_care(service_kind("coordinator").unwrap()));
        assert!(!has_places(service_kind("visiting_nurse").unwrap()));
        assert!(has_places(service_kind("short_stay_medical").unwrap()));
    }

    #[test]
    fn accepting_more_care_never_turns_a_fit_into_a_misfit() {
        // Over every subset of the care items a service may accept.
        let needs = Needs {
            care: vec![CareItem::Suction, CareItem::Oxygen],
            ..child()
        };
        let all = CareItem::ALL;
        let some = &all[..8];
        for mask in 0u32..(1 << some.len()) {
            let care: Vec<CareItem> = some
                .iter()
                .enumerate()
                .filter(|(i, _)| mask & (1 << i) != 0)
                .map(|(_, c)| *c)
                .collect();
            let offer = Offer {
                care: care.clone(),
                ..nursery()
            };
            let before = fit(&needs, &offer).misfits.len();
            for extra in all {
                let mut more = care.clone();
                more.push(extra);
                let after = fit(
                    &needs,
                    &Offer {
                        care: more,
                        ..nursery()
                    },
                )
                .misfits
                .len();
                assert!(after <= before);
            }
        }
    }

    #[test]
    fn every_kind_a_transition_names_is_in_the_taxonomy() {
        use crate::transitions::TransitionKind as T;
        for t in [
            T::NurseryEntry,
            T::SchoolEntry,
            T::JuniorHigh,
            T::UpperSecondary,
            T::Graduation,
        ] {
            for code in kinds_for(t) {
                assert!(service_kind(code).is_some(), "{code}");
            }
        }
    }

    #[test]
    fn class_ages_read_as_people_say_them() {
        assert_eq!(age_range_ja(0, 5), "0〜5歳児クラス");
        assert_eq!(age_range_ja(6, 17), "小1〜高3");
        assert_eq!(age_range_ja(3, 8), "3歳児〜小3");
        assert_eq!(age_range_ja(3, 3), "3歳児クラス");
        assert_eq!(age_range_ja(7, 7), "小2");
    }
}
