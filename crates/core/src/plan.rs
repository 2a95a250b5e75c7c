//! What a region plans for, as data: the targets of the national basic guideline for the
//! 障害児福祉計画 that concern 医療的ケア児, and the needs the gaps table weighs against the
//! directory (which children will need which kind of service).

use crate::directory::Needs;

/// Where the targets come from and when they were last checked.
pub const PLAN_TARGETS_SOURCE: &str = "障害福祉サービス等及び障害児通所支援等の円滑な実施を確保するための基本的な指針（令和5年こども家庭庁・厚生労働省告示第1号）第二の三「障害児支援の提供体制の整備等」：第3期障害児福祉計画（令和6〜8年度）の成果目標";
pub const PLAN_TARGETS_REVISED: &str = "2026-12-07";

/// Whether a target is met in each municipality (alone or with its 圏域) or once in the
/// prefecture.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TargetLevel {
    Municipality,
    Prefecture,
}

/// How a target is shown to be met.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Evidence {
    /// At least one active service of these kinds in the directory, located in or
    /// serving the place.
    Services(&'static [&'static str]),
    /// The place recorded that it holds a 協議の場 (with the date it was set up).
    Forum,
    /// An organisation of the kind 医療的ケア児支援センター in the prefecture.
    SupportCentre,
}

/// One target.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PlanTarget {
    /// Stable code (pages, exports).
    pub code: &'static str,
    pub label: &'static str,
    /// Said when the target is not met.
    pub missing_ja: &'static str,
    pub level: TargetLevel,
    pub evidence: Evidence,
    /// The guideline allows meeting it jointly with the 圏域 (障害保健福祉圏域).
    pub through_area: bool,
}

pub const PLAN_TARGETS: &[PlanTarget] = &[
    PlanTarget {
        code: "development_centre",
        label: "児童発達支援センター（1か所以上）",
        missing_ja: "児童発達支援センターがありません",
        level: TargetLevel::Municipality,
        evidence: Evidence::Services(&["child_development_centre"]),
        through_area: true,
    },
    PlanTarget {
        code: "nursery_visit_support",
        label: "保育所等訪問支援を利用できる体制",
        missing_ja: "保育所等訪問支援がありません",
        level: TargetLevel::Municipality,
        evidence: Evidence::Services(&["nursery_visit_support"]),
        through_area: true,
    },
    PlanTarget {
        code: "smid_development",
        label: "重症心身障害児を支援する児童発達支援事業所（1か所以上）",
        missing_ja: "重症心身障害児に対応する児童発達支援がありません",
        level: TargetLevel::Municipality,
        evidence: Evidence::Services(&["child_development_smid"]),
        through_area: true,
    },
    PlanTarget {
        code: "smid_after_school",
        label: "重症心身障害児を支援する放課後等デイサービス事業所（1か所以上）",
        missing_ja: "重症心身障害児に対応する放課後等デイサービスがありません",
        level: TargetLevel::Municipality,
        evidence: Evidence::Services(&["after_school_day_smid"]),
        through_area: true,
    },
    PlanTarget {
        code: "forum",
        label: "医療的ケア児支援のための関係機関の協議の場",
        missing_ja: "協議の場の設置が記録されていません",
        level: TargetLevel::Municipality,
        evidence: Evidence::Forum,
        through_area: true,
    },
    PlanTarget {
        code: "coordinator",
        label: "医療的ケア児等に関するコーディネーターの配置",
        missing_ja: "医療的ケア児等コーディネーターがいません",
        level: TargetLevel::Municipality,
        evidence: Evidence::Services(&["coordinator"]),
        through_area: true,
    },
    PlanTarget {
        code: "support_centre",
        label: "医療的ケア児支援センター（都道府県に設置）",
        missing_ja: "医療的ケア児支援センターが登録されていません",
        level: TargetLevel::Prefecture,
        evidence: Evidence::SupportCentre,
        through_area: false,
    },
];

/// Which children a need counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Who {
    /// Nursery age (class age 0–5) with a guardian who works, is on leave or wishes to.
    NurseryAgeWorkingFamily,
    /// School age (class age 6–17).
    SchoolAge,
    /// Using a medical device (the 短期入所 医療型 a family needs to rest).
    DeviceDependent,
    /// Every child.
    Every,
}

/// One child as the gaps table sees it.
#[derive(Debug, Clone)]
pub struct ChildFacts {
    pub needs: Needs,
    /// A guardian works, is on leave, is looking for work or wishes to work.
    pub family_works: bool,
}

impl Who {
    pub fn counts(self, child: &ChildFacts) -> bool {
        let age = child.needs.class_age;
        match self {
            Who::NurseryAgeWorkingFamily => (0..=5).contains(&age) && child.family_works,
            Who::SchoolAge => (6..=17).contains(&age),
            Who::DeviceDependent => !child.needs.devices.is_empty(),
            Who::Every => true,
        }
    }

    pub fn label_ja(self) -> &'static str {
        match self {
            Who::NurseryAgeWorkingFamily => "保育所等の年齢で、保護者が就労中・休業中・就労希望",
            Who::SchoolAge => "学齢期（小1〜高3）",
            Who::DeviceDependent => "医療機器を使用",
            Who::Every => "すべての医療的ケア児",
        }
    }
}

/// One need of the gaps table: who needs it and the kinds that meet it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GapNeed {
    pub code: &'static str,
    pub label: &'static str,
    pub who: Who,
    pub kinds: &'static [&'static str],
}

/// Where the needs come from (the issue of the council's 資源調査, after seed 004's
/// 実態把握 → 資源調査 → 課題抽出) and when they were set.
pub const GAP_NEEDS_SOURCE: &str = "医療的ケア児支援法（令和3年法律第81号）第9条〜第12条の支援の柱（保育・教育・相談・家族の休息）を、登録児童の年齢・保護者の就労・医療機器から見た需要に対応づけたもの";
pub const GAP_NEEDS_REVISED: &str = "2026-12-07";

pub const GAP_NEEDS: &[GapNeed] = &[
    GapNeed {
        code: "nursery",
        label: "保育所・認定こども園",
        who: Who::NurseryAgeWorkingFamily,
        kinds: &["nursery", "certified_childcare", "small_nursery"],
    },
    GapNeed {
        code: "after_school",
        label: "放課後等デイサービス",
        who: Who::SchoolAge,
        kinds: &["after_school_day", "after_school_day_smid"],
    },
    GapNeed {
        code: "short_stay",
        label: "短期入所（医療型）",
        who: Who::DeviceDependent,
        kinds: &["short_stay_medical"],
    },
    GapNeed {
        code: "consultation",
        label: "相談支援",
        who: Who::Every,
        kinds: &["consultation_support"],
    },
    GapNeed {
        code: "coordinator",
        label: "医療的ケア児等コーディネーター",
        who: Who::Every,
        kinds: &["coordinator"],
    },
];

#[cfg(test)]
mod tests {
    use super::*;
    use crate::care::Tier;
    use crate::directory::service_kind;

    fn child(class_age: i32, works: bool, devices: bool) -> ChildFacts {
        ChildFacts {
            needs: Needs {
                municipality_code: "131199".into(),
                class_age,
                care: Vec::new(),
                tier: Tier::BelowThree,
                devices: if devices {
                    vec![crate::device::DeviceKind::Ventilator]
                } else {
                    Vec::new()
                },
            },
            family_works: works,
        }
    }

    #[test]
    fn every_kind_named_is_in_the_taxonomy() {
        for need in GAP_NEEDS {
            for kind in need.kinds {
                assert!(service_kind(kind).is_some(), "{kind}");
            }
        }
        for target in PLAN_TARGETS {
            if let Evidence::Services(kinds) = target.evidence {
                for kind in kinds {
                    assert!(service_kind(kind).is_some(), "{kind}");
                }
            }
        }
    }

    #[test]
    fn who_counts_by_age_work_and_devices() {
        assert!(Who::NurseryAgeWorkingFamily.counts(&child(2, true, false)));
        assert!(!Who::NurseryAgeWorkingFamily.counts(&child(2, false, false)));
        assert!(!Who::NurseryAgeWorkingFamily.counts(&child(6, true, false)));
        assert!(Who::SchoolAge.counts(&child(6, false, false)));
        assert!(Who::SchoolAge.counts(&child(17, false, false)));
        assert!(!Who::SchoolAge.counts(&child(18, false, false)));
        assert!(Who::DeviceDependent.counts(&child(3, false, true)));
        assert!(!Who::DeviceDependent.counts(&child(3, false, false)));
        assert!(Who::Every.counts(&child(19, false, false)));
    }
}
