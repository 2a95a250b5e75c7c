//! 医療的ケア判定スコア: the 14 types of medical care, their points kept as data in
//! [`SCORE_TABLE_2021`], and [`score`], which adds them up into the tier that
//! providers' fees use (≥32, ≥16, ≥3 points).
//!
//! Score = 基本スコア + 見守りスコア. A physician judges the 見守り level (高・中・低) of each
//! item; a level the table leaves out (「–」) is an input error, never silently 0.
//!
//! The two pump rows (⑦(2) 持続経管注入ポンプ使用, ⑨(2) 持続皮下注射ポンプ使用) are items of
//! their own ([`CareItem::FeedingPump`], [`CareItem::SubcutaneousPump`]), not options of
//! 経管栄養 and 皮下注射: each has its own basic points *and its own 見守り level*, which an
//! option could not carry, and as items every row of the score sheet maps to one code
//! (one CSV column, one checkbox). [`score`] enforces that they only count with their
//! parent item.

use std::fmt;

use chrono::NaiveDate;

use crate::calendar::const_date;
use serde::{Serialize, Serializer};
use unicode_normalization::UnicodeNormalization;

/// One type of medical care on the score sheet, in the sheet's order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum CareItem {
    /// ① 人工呼吸器の管理 (NPPV, high-flow, IPPB, cough assist, HFCWO: counted once).
    Ventilator,
    /// ② 気管切開の管理.
    Tracheostomy,
    /// ③ 鼻咽頭エアウェイの管理.
    NasopharyngealAirway,
    /// ④ 酸素療法.
    Oxygen,
    /// ⑤ 吸引 (口鼻腔・気管内).
    Suction,
    /// ⑥ ネブライザーの管理 (during service hours).
    Nebulizer,
    /// ⑦(1) 経管栄養 (経鼻胃管・胃瘻 / 経鼻腸管・経胃瘻腸管・腸瘻・食道瘻).
    TubeFeeding,
    /// ⑦(2) 持続経管注入ポンプ使用; only with [`CareItem::TubeFeeding`].
    FeedingPump,
    /// ⑧ 中心静脈カテーテルの管理.
    CentralVenousCatheter,
    /// ⑨(1) 皮下注射 (insulin, opioids...).
    SubcutaneousInjection,
    /// ⑨(2) 持続皮下注射ポンプ使用; only with [`CareItem::SubcutaneousInjection`].
    SubcutaneousPump,
    /// ⑩ 血糖測定 (incl. continuous glucose monitor).
    BloodGlucose,
    /// ⑪ 継続的な透析 (HD, PD).
    Dialysis,
    /// ⑫ 導尿; the [`CareVariant`] decides the basic points.
    Catheterisation,
    /// ⑬ 排便管理; the [`CareVariant`] decides the basic points.
    BowelManagement,
    /// ⑭ 痙攣時の対応 (suppository, suction, oxygen, VNS...).
    SeizureResponse,
}

impl CareItem {
    pub const ALL: [CareItem; 16] = [
        CareItem::Ventilator,
        CareItem::Tracheostomy,
        CareItem::NasopharyngealAirway,
        CareItem::Oxygen,
        CareItem::Suction,
        CareItem::Nebulizer,
        CareItem::TubeFeeding,
        CareItem::FeedingPump,
        CareItem::CentralVenousCatheter,
        CareItem::SubcutaneousInjection,
        CareItem::SubcutaneousPump,
        CareItem::BloodGlucose,
        CareItem::Dialysis,
        CareItem::Catheterisation,
        CareItem::BowelManagement,
        CareItem::SeizureResponse,
    ];

    /// Stable code for storage, CSV and the API. Never change one once shipped.
    pub fn code(self) -> &'static str {
        match self {
            CareItem::Ventilator => "ventilator",
            CareItem::Tracheostomy => "tracheostomy",
            CareItem::NasopharyngealAirway => "nasopharyngeal_airway",
            CareItem::Oxygen => "oxygen",
            CareItem::Suction => "suction",
            CareItem::Nebulizer => "nebulizer",
            CareItem::TubeFeeding => "tube_feeding",
            CareItem::FeedingPump => "feeding_pump",
            CareItem::CentralVenousCatheter => "central_venous_catheter",
            CareItem::SubcutaneousInjection => "subcutaneous_injection",
            CareItem::SubcutaneousPump => "subcutaneous_pump",
            CareItem::BloodGlucose => "blood_glucose",
            CareItem::Dialysis => "dialysis",
            CareItem::Catheterisation => "catheterisation",
            CareItem::BowelManagement => "bowel_management",
            CareItem::SeizureResponse => "seizure_response",
        }
    }

    /// The item's bit in the stored care mask (`children.care_mask`), which lets a list
    /// filter on an item without reading the items table. Stored like [`CareItem::code`]:
    /// never change one once shipped (migration 08 backfills with these values).
    pub fn bit(self) -> i64 {
        1 << match self {
            CareItem::Ventilator => 0,
            CareItem::Tracheostomy => 1,
            CareItem::NasopharyngealAirway => 2,
            CareItem::Oxygen => 3,
            CareItem::Suction => 4,
            CareItem::Nebulizer => 5,
            CareItem::TubeFeeding => 6,
            CareItem::FeedingPump => 7,
            CareItem::CentralVenousCatheter => 8,
            CareItem::SubcutaneousInjection => 9,
            CareItem::SubcutaneousPump => 10,
            CareItem::BloodGlucose => 11,
            CareItem::Dialysis => 12,
            CareItem::Catheterisation => 13,
            CareItem::BowelManagement => 14,
            CareItem::SeizureResponse => 15,
        }
    }

    /// The items whose bits are set in `mask`, in the score sheet's order.
    pub fn in_mask(mask: i64) -> impl Iterator<Item = CareItem> {
        CareItem::ALL
            .into_iter()
            .filter(move |item| mask & item.bit() != 0)
    }

    /// The mask of a set of items (see [`CareItem::bit`]).
    pub fn mask<'a>(items: impl IntoIterator<Item = &'a CareItem>) -> i64 {
        items.into_iter().fold(0, |mask, item| mask | item.bit())
    }

    /// The name shown to people (and accepted by [`CareItem::parse_label`]).
    pub fn label_ja(self) -> &'static str {
        match self {
            CareItem::Ventilator => "人工呼吸器の管理",
            CareItem::Tracheostomy => "気管切開の管理",
            CareItem::NasopharyngealAirway => "鼻咽頭エアウェイの管理",
            CareItem::Oxygen => "酸素療法",
            CareItem::Suction => "吸引（口鼻腔・気管内）",
            CareItem::Nebulizer => "ネブライザーの管理",
            CareItem::TubeFeeding => "経管栄養",
            CareItem::FeedingPump => "持続経管注入ポンプ使用",
            CareItem::CentralVenousCatheter => "中心静脈カテーテルの管理",
            CareItem::SubcutaneousInjection => "皮下注射",
            CareItem::SubcutaneousPump => "持続皮下注射ポンプ使用",
            CareItem::BloodGlucose => "血糖測定",
            CareItem::Dialysis => "継続的な透析",
            CareItem::Catheterisation => "導尿",
            CareItem::BowelManagement => "排便管理",
            CareItem::SeizureResponse => "痙攣時の対応",
        }
    }

    /// The name people say: the label without its bracketed part and 「の管理」
    /// (「吸引」, 「人工呼吸器」).
    pub fn short_label_ja(self) -> &'static str {
        let label = self.label_ja();
        let label = label.split('（').next().unwrap_or(label);
        label.strip_suffix("の管理").unwrap_or(label)
    }

    /// The item a pump row belongs to; it only counts when that item is present.
    pub fn parent(self) -> Option<CareItem> {
        match self {
            CareItem::FeedingPump => Some(CareItem::TubeFeeding),
            CareItem::SubcutaneousPump => Some(CareItem::SubcutaneousInjection),
            _ => None,
        }
    }

    /// The variants one of which must be chosen for this item; empty when the item has
    /// none (then no variant may be given).
    pub fn variants(self) -> &'static [CareVariant] {
        match self {
            CareItem::Catheterisation => &[CareVariant::Intermittent, CareVariant::Indwelling],
            CareItem::BowelManagement => &[
                CareVariant::Stoma,
                CareVariant::ManualEvacuation,
                CareVariant::Enema,
            ],
            _ => &[],
        }
    }

    /// From the stable code. Surrounding white space, full-width letters and upper case
    /// are folded; anything else is an error naming the text.
    pub fn parse(code: &str) -> Result<CareItem, CareError> {
        let key = fold_code(code);
        CareItem::ALL
            .into_iter()
            .find(|item| item.code() == key)
            .ok_or_else(|| CareError::UnknownCode(code.to_string()))
    }

    /// From the Japanese label, as typed in a CSV file: the label exactly, or after NFKC
    /// (全角/半角 brackets and letters) and with all white space removed.
    pub fn parse_label(label: &str) -> Result<CareItem, CareError> {
        let key = fold_label(label);
        CareItem::ALL
            .into_iter()
            .find(|item| item.label_ja() == label || fold_label(item.label_ja()) == key)
            .ok_or_else(|| CareError::UnknownLabel(label.to_string()))
    }
}

impl fmt::Display for CareItem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label_ja())
    }
}

impl Serialize for CareItem {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.code())
    }
}

impl std::str::FromStr for CareItem {
    type Err = CareError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        CareItem::parse(s)
    }
}

/// The kind of 導尿 or 排便管理, which decides that item's basic points.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum CareVariant {
    /// ⑫(1) 間欠的導尿 (during service hours): 5 points.
    Intermittent,
    /// ⑫(2) 持続的導尿 (尿道留置カテーテル, 膀胱瘻, 腎瘻, 尿路ストーマ): 3 points.
    Indwelling,
    /// ⑬(1) 消化管ストーマの使用: 5 points.
    Stoma,
    /// ⑬(2) 摘便又は洗腸: 5 points.
    ManualEvacuation,
    /// ⑬(3) 浣腸 (more than a small disposable glycerin enema): 3 points.
    Enema,
}

impl CareVariant {
    pub const ALL: [CareVariant; 5] = [
        CareVariant::Intermittent,
        CareVariant::Indwelling,
        CareVariant::Stoma,
        CareVariant::ManualEvacuation,
        CareVariant::Enema,
    ];

    pub fn code(self) -> &'static str {
        match self {
            CareVariant::Intermittent => "intermittent",
            CareVariant::Indwelling => "indwelling",
            CareVariant::Stoma => "stoma",
            CareVariant::ManualEvacuation => "manual_evacuation",
            CareVariant::Enema => "enema",
        }
    }

    pub fn label_ja(self) -> &'static str {
        match self {
            CareVariant::Intermittent => "間欠的導尿",
            CareVariant::Indwelling => "持続的導尿",
            CareVariant::Stoma => "消化管ストーマ",
            CareVariant::ManualEvacuation => "摘便・洗腸",
            CareVariant::Enema => "浣腸",
        }
    }

    /// The item this is a kind of.
    pub const fn item(self) -> CareItem {
        match self {
            CareVariant::Intermittent | CareVariant::Indwelling => CareItem::Catheterisation,
            CareVariant::Stoma | CareVariant::ManualEvacuation | CareVariant::Enema => {
                CareItem::BowelManagement
            }
        }
    }

    /// From the code or the Japanese label, folded like [`CareItem::parse_label`].
    pub fn parse(text: &str) -> Result<CareVariant, CareError> {
        let code = fold_code(text);
        let label = fold_label(text);
        CareVariant::ALL
            .into_iter()
            .find(|v| v.code() == code || fold_label(v.label_ja()) == label)
            .ok_or_else(|| CareError::UnknownVariant(text.to_string()))
    }
}

impl fmt::Display for CareVariant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label_ja())
    }
}

impl Serialize for CareVariant {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.code())
    }
}

/// 見守りスコア level, judged by a physician.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Watch {
    High,
    Medium,
    Low,
}

impl Watch {
    pub const ALL: [Watch; 3] = [Watch::High, Watch::Medium, Watch::Low];

    pub fn code(self) -> &'static str {
        match self {
            Watch::High => "high",
            Watch::Medium => "medium",
            Watch::Low => "low",
        }
    }

    /// 「高」「中」「低」, as on the score sheet.
    pub fn label_ja(self) -> &'static str {
        match self {
            Watch::High => "高",
            Watch::Medium => "中",
            Watch::Low => "低",
        }
    }

    /// From 高/中/低 or high/medium/low (folded like the item codes).
    pub fn parse(text: &str) -> Result<Watch, CareError> {
        let key = fold_code(text);
        Watch::ALL
            .into_iter()
            .find(|w| w.code() == key || w.label_ja() == key)
            .ok_or_else(|| CareError::UnknownWatch(text.to_string()))
    }
}

impl fmt::Display for Watch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label_ja())
    }
}

/// The 見守り points of one row; `None` is 「–」 on the sheet: that level does not exist.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WatchPoints {
    pub high: Option<u32>,
    pub medium: Option<u32>,
    pub low: Option<u32>,
}

impl WatchPoints {
    pub fn points(&self, watch: Watch) -> Option<u32> {
        match watch {
            Watch::High => self.high,
            Watch::Medium => self.medium,
            Watch::Low => self.low,
        }
    }

    /// True when the row has no 見守り at all (ネブライザー).
    pub fn is_none(&self) -> bool {
        self.high.is_none() && self.medium.is_none() && self.low.is_none()
    }
}

/// One row of the score sheet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ScoreRow {
    pub item: CareItem,
    /// Set only for the items whose kind decides the points (導尿, 排便管理).
    pub variant: Option<CareVariant>,
    pub basic: u32,
    pub watch: WatchPoints,
}

/// One line of the ministry's sheet: an item, or for 導尿 and 排便管理 one of its kinds
/// (each kind is a line of its own: a child can have several, each scored).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct CareLine {
    pub item: CareItem,
    pub variant: Option<CareVariant>,
}

impl CareLine {
    /// Every line, in the sheet's order.
    pub fn all() -> Vec<CareLine> {
        CareItem::ALL
            .into_iter()
            .flat_map(|item| {
                let kinds: Vec<Option<CareVariant>> = if item.variants().is_empty() {
                    vec![None]
                } else {
                    item.variants().iter().copied().map(Some).collect()
                };
                kinds
                    .into_iter()
                    .map(move |variant| CareLine { item, variant })
            })
            .collect()
    }

    /// The line's stable code: the kind's for 導尿 and 排便管理, the item's otherwise.
    pub fn code(self) -> &'static str {
        self.variant.map_or(self.item.code(), CareVariant::code)
    }

    /// 「導尿（間欠的導尿）」, or the item's label.
    pub fn label_ja(self) -> String {
        match self.variant {
            Some(v) => format!("{}（{}）", self.item.label_ja(), v.label_ja()),
            None => self.item.label_ja().to_string(),
        }
    }

    /// The line with this code.
    pub fn parse(code: &str) -> Option<CareLine> {
        CareLine::all().into_iter().find(|l| l.code() == code)
    }

    pub fn of(entry: &CareEntry) -> CareLine {
        CareLine {
            item: entry.item,
            variant: entry.variant,
        }
    }
}

/// A versioned score sheet: the rows, where they come from and when they were checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ScoreTable {
    pub source: &'static str,
    /// When the rows were last revised in tsunagu.
    pub revision: NaiveDate,
    /// The first day the sheet applies (the fee revision it belongs to).
    pub in_force_from: NaiveDate,
    pub rows: &'static [ScoreRow],
}

impl ScoreTable {
    /// The row for an item (and, for 導尿 / 排便管理, its kind).
    pub fn row(&self, item: CareItem, variant: Option<CareVariant>) -> Option<&ScoreRow> {
        self.rows
            .iter()
            .find(|r| r.item == item && r.variant == variant)
    }

    /// The 見守り levels of one line, high first: what a form offers for it.
    pub fn line_levels(&self, line: CareLine) -> Vec<Watch> {
        let Some(row) = self.row(line.item, line.variant) else {
            return Vec::new();
        };
        Watch::ALL
            .into_iter()
            .filter(|&w| row.watch.points(w).is_some())
            .collect()
    }
}

/// 見守り 高 and 低 only (中 is 「–」): the shape of most rows.
const fn high_low(high: u32) -> WatchPoints {
    WatchPoints {
        high: Some(high),
        medium: None,
        low: Some(0),
    }
}

/// 見守り 低 (0 points) only: 「– / – / 0」 in the sheet.
const LOW_ONLY: WatchPoints = WatchPoints {
    high: None,
    medium: None,
    low: Some(0),
};

const fn row(item: CareItem, basic: u32, watch: WatchPoints) -> ScoreRow {
    ScoreRow {
        item,
        variant: None,
        basic,
        watch,
    }
}

const fn kind(variant: CareVariant, basic: u32, watch: WatchPoints) -> ScoreRow {
    ScoreRow {
        item: variant.item(),
        variant: Some(variant),
        basic,
        watch,
    }
}

/// Every row as DOMAIN.md's table gives it, checked against the primary source: 厚生労働省
/// 「令和3年度障害福祉サービス等報酬改定の概要」別表「医療的ケア判定スコア（児童発達支援、
/// 放課後等デイサービス共通）」, pp. 112–113 (https://www.mhlw.go.jp/stf/newpage_33205.html).
/// 「–」 in the sheet is a level the row does not have (`None`).
const ROWS_2021: &[ScoreRow] = &[
    row(
        CareItem::Ventilator,
        10,
        WatchPoints {
            high: Some(2),
            medium: Some(1),
            low: Some(0),
        },
    ),
    // No 見守り points when 人工呼吸器 also applies: a rule in `score`, not a row.
    row(CareItem::Tracheostomy, 8, high_low(2)),
    row(CareItem::NasopharyngealAirway, 5, high_low(1)),
    row(CareItem::Oxygen, 8, high_low(1)),
    row(CareItem::Suction, 8, high_low(1)),
    row(CareItem::Nebulizer, 3, LOW_ONLY),
    row(CareItem::TubeFeeding, 8, high_low(2)),
    row(CareItem::FeedingPump, 3, high_low(1)),
    row(CareItem::CentralVenousCatheter, 8, high_low(2)),
    row(CareItem::SubcutaneousInjection, 5, high_low(1)),
    row(CareItem::SubcutaneousPump, 3, high_low(1)),
    row(CareItem::BloodGlucose, 3, high_low(1)),
    row(CareItem::Dialysis, 8, high_low(2)),
    kind(CareVariant::Intermittent, 5, LOW_ONLY),
    kind(CareVariant::Indwelling, 3, high_low(1)),
    kind(CareVariant::Stoma, 5, high_low(1)),
    kind(CareVariant::ManualEvacuation, 5, LOW_ONLY),
    kind(CareVariant::Enema, 3, LOW_ONLY),
    row(CareItem::SeizureResponse, 3, high_low(2)),
];

/// The sheet of the 令和3年度 (2021) fee revision, still in use.
pub const SCORE_TABLE_2021: ScoreTable = ScoreTable {
    source: "厚生労働省「令和3年度障害福祉サービス等報酬改定の概要」別表「医療的ケア判定スコア（児童発達支援、放課後等デイサービス共通）」pp.112–113（content/000763142.pdf）",
    revision: const_date(2026, 12, 7),
    in_force_from: const_date(2021, 4, 1),
    rows: ROWS_2021,
};

/// One item a child needs, as recorded from the physician's judgement.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct CareEntry {
    pub item: CareItem,
    /// Required for 導尿 and 排便管理, forbidden otherwise.
    pub variant: Option<CareVariant>,
    /// `None` when the physician has not judged a level (counts 0 points).
    pub watch: Option<Watch>,
}

impl CareEntry {
    pub fn new(item: CareItem) -> CareEntry {
        CareEntry {
            item,
            variant: None,
            watch: None,
        }
    }

    pub fn with_variant(self, variant: CareVariant) -> CareEntry {
        CareEntry {
            variant: Some(variant),
            ..self
        }
    }

    pub fn with_watch(self, watch: Watch) -> CareEntry {
        CareEntry {
            watch: Some(watch),
            ..self
        }
    }
}

/// The score band providers' fees depend on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Tier {
    /// 0–2 points.
    BelowThree,
    /// 3–15 points.
    Tier3,
    /// 16–31 points.
    Tier16,
    /// 32 points or more.
    Tier32,
}

impl Tier {
    pub fn from_total(total: u32) -> Tier {
        match total {
            32.. => Tier::Tier32,
            16..=31 => Tier::Tier16,
            3..=15 => Tier::Tier3,
            0..=2 => Tier::BelowThree,
        }
    }

    pub const ALL: [Tier; 4] = [Tier::BelowThree, Tier::Tier3, Tier::Tier16, Tier::Tier32];

    /// The stored and URL form, as serialised.
    pub fn code(self) -> &'static str {
        match self {
            Tier::BelowThree => "below_three",
            Tier::Tier3 => "tier3",
            Tier::Tier16 => "tier16",
            Tier::Tier32 => "tier32",
        }
    }

    pub fn parse(code: &str) -> Option<Tier> {
        Tier::ALL.into_iter().find(|t| t.code() == code)
    }

    /// The lowest total in the band.
    pub fn min_points(self) -> u32 {
        match self {
            Tier::BelowThree => 0,
            Tier::Tier3 => 3,
            Tier::Tier16 => 16,
            Tier::Tier32 => 32,
        }
    }

    pub fn label_ja(self) -> &'static str {
        match self {
            Tier::BelowThree => "3点未満",
            Tier::Tier3 => "3〜15点",
            Tier::Tier16 => "16〜31点",
            Tier::Tier32 => "32点以上",
        }
    }
}

/// The result of [`score`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Score {
    pub basic: u32,
    pub watch: u32,
    pub total: u32,
    pub tier: Tier,
}

/// Why a set of entries cannot be scored, in words for the person who typed them.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CareError {
    #[error("「{0}」は医療的ケアの項目コードではありません")]
    UnknownCode(String),
    #[error("「{0}」という医療的ケアの項目はありません")]
    UnknownLabel(String),
    #[error("「{0}」は導尿・排便管理の種類として登録されていません")]
    UnknownVariant(String),
    #[error("見守りスコアは「高」「中」「低」のいずれかで入力してください（入力: {0}）")]
    UnknownWatch(String),
    #[error("{}", duplicate_message(*.0))]
    Duplicate(CareItem),
    #[error("「{item}」の種類（{}）を選んでください", variant_list(*.item))]
    VariantRequired { item: CareItem },
    #[error("「{variant}」は「{item}」の種類ではありません")]
    VariantMismatch {
        item: CareItem,
        variant: CareVariant,
    },
    #[error("「{item}」には見守りスコア「{watch}」の区分がありません")]
    WatchLevelNotAvailable { item: CareItem, watch: Watch },
    #[error("「{item}」には見守りスコアがありません（見守りの区分は入力しないでください）")]
    NoWatch { item: CareItem },
    #[error("「{item}」は「{parent}」がある場合にだけ数えます。先に「{parent}」を入力してください")]
    MissingParent { item: CareItem, parent: CareItem },
    #[error("判定スコア表に「{item}」の行がありません（スコア表の設定を確認してください）")]
    NotInTable { item: CareItem },
}

fn duplicate_message(item: CareItem) -> String {
    match item {
        CareItem::Ventilator => {
            "「人工呼吸器の管理」は、鼻マスク式補助換気法・ハイフローセラピー・\
            排痰補助装置などを併用していても1回だけ数えます。1行にまとめてください"
                .to_string()
        }
        _ => format!("「{item}」が重複しています。1項目につき1行で入力してください"),
    }
}

fn variant_list(item: CareItem) -> String {
    item.variants()
        .iter()
        .map(|v| v.label_ja())
        .collect::<Vec<_>>()
        .join("・")
}

/// Adds up the 判定スコア of `entries` with `table`.
///
/// Rules: each line at most once (人工呼吸器 and its related devices are one line; the
/// kinds of 導尿 and 排便管理 are lines of their own, so 消化管ストーマ and 浣腸 together
/// are both scored); 導尿 and 排便管理 need their kind; a 見守り level the row lacks is an error;
/// 気管切開 adds no 見守り points when 人工呼吸器 also applies; the pump rows count only
/// with their parent item. The first problem found is returned; nothing is partly scored.
pub fn score(entries: &[CareEntry], table: &ScoreTable) -> Result<Score, CareError> {
    let has = |item: CareItem| entries.iter().any(|e| e.item == item);
    let ventilator = has(CareItem::Ventilator);

    let mut basic: u32 = 0;
    let mut watch: u32 = 0;
    for (i, entry) in entries.iter().enumerate() {
        let item = entry.item;
        if entries[..i]
            .iter()
            .any(|e| e.item == item && e.variant == entry.variant)
        {
            return Err(CareError::Duplicate(item));
        }
        check_variant(entry)?;
        if let Some(parent) = item.parent()
            && !has(parent)
        {
            return Err(CareError::MissingParent { item, parent });
        }
        let row = table
            .row(item, entry.variant)
            .ok_or(CareError::NotInTable { item })?;
        let watch_points = match entry.watch {
            None => 0,
            Some(_) if row.watch.is_none() => return Err(CareError::NoWatch { item }),
            Some(level) => row
                .watch
                .points(level)
                .ok_or(CareError::WatchLevelNotAvailable { item, watch: level })?,
        };
        basic = basic.saturating_add(row.basic);
        if !(item == CareItem::Tracheostomy && ventilator) {
            watch = watch.saturating_add(watch_points);
        }
    }
    let total = basic.saturating_add(watch);
    Ok(Score {
        basic,
        watch,
        total,
        tier: Tier::from_total(total),
    })
}

fn check_variant(entry: &CareEntry) -> Result<(), CareError> {
    let item = entry.item;
    match (entry.variant, item.variants().is_empty()) {
        (None, true) => Ok(()),
        (None, false) => Err(CareError::VariantRequired { item }),
        (Some(variant), _) if variant.item() == item => Ok(()),
        (Some(variant), _) => Err(CareError::VariantMismatch { item, variant }),
    }
}

/// Codes: NFKC (full-width letters), white space removed, lower case.
fn fold_code(text: &str) -> String {
    text.nfkc()
        .filter(|c| !c.is_whitespace())
        .flat_map(char::to_lowercase)
        .collect()
}

/// Labels: NFKC (（）→(), half-width カナ → full-width), white space removed.
fn fold_label(text: &str) -> String {
    text.nfkc().filter(|c| !c.is_whitespace()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(item: CareItem) -> CareEntry {
        CareEntry::new(item)
    }

    #[test]
    fn every_item_has_its_own_bit() {
        let all = CareItem::mask(&CareItem::ALL);
        assert_eq!(all.count_ones() as usize, CareItem::ALL.len());
        assert_eq!(
            CareItem::mask(&[CareItem::Ventilator, CareItem::Suction]),
            0b1_0001
        );
        assert_eq!(
            CareItem::in_mask(0b1_0001).collect::<Vec<_>>(),
            [CareItem::Ventilator, CareItem::Suction]
        );
        assert!(
            CareItem::ALL
                .iter()
                .all(|i| CareItem::in_mask(i.bit()).eq([*i]))
        );
    }

    fn total(entries: &[CareEntry]) -> Score {
        score(entries, &SCORE_TABLE_2021).unwrap()
    }

    #[test]
    fn table_has_one_row_per_item_and_kind() {
        for item in CareItem::ALL {
            let kinds = item.variants();
            if kinds.is_empty() {
                assert!(SCORE_TABLE_2021.row(item, None).is_some(), "{item}");
            } else {
                assert!(SCORE_TABLE_2021.row(item, None).is_none(), "{item}");
                for &v in kinds {
                    assert_eq!(v.item(), item);
                    assert!(SCORE_TABLE_2021.row(item, Some(v)).is_some(), "{v}");
                }
            }
        }
        assert_eq!(
            SCORE_TABLE_2021.rows.len(),
            CareItem::ALL.len() - 2 + CareVariant::ALL.len()
        );
        for (i, a) in SCORE_TABLE_2021.rows.iter().enumerate() {
            for b in &SCORE_TABLE_2021.rows[..i] {
                assert!((a.item, a.variant) != (b.item, b.variant), "{:?}", a.item);
            }
        }
    }

    #[test]
    fn table_carries_source_and_the_verified_levels() {
        assert!(SCORE_TABLE_2021.source.contains("000763142.pdf"));
        assert!(SCORE_TABLE_2021.source.contains("令和3年度"));
        assert_eq!(SCORE_TABLE_2021.in_force_from, const_date(2021, 4, 1));
        let levels = |item, variant| SCORE_TABLE_2021.line_levels(CareLine { item, variant });
        use Watch::{High, Low, Medium};
        assert_eq!(levels(CareItem::Ventilator, None), [High, Medium, Low]);
        assert_eq!(levels(CareItem::Suction, None), [High, Low]);
        // 「– / – / 0」: 低 exists with no points, nothing else.
        assert_eq!(levels(CareItem::Nebulizer, None), [Low]);
        // Each kind its own: 間欠的導尿 has 低 only, 持続的導尿 高 and 低.
        let catheter = CareItem::Catheterisation;
        assert_eq!(levels(catheter, Some(CareVariant::Intermittent)), [Low]);
        assert_eq!(levels(catheter, Some(CareVariant::Indwelling)), [High, Low]);
        let low_only = |v: CareVariant| {
            let row = SCORE_TABLE_2021.row(v.item(), Some(v)).unwrap();
            (row.watch.high, row.watch.medium, row.watch.low)
        };
        for v in [
            CareVariant::Intermittent,
            CareVariant::ManualEvacuation,
            CareVariant::Enema,
        ] {
            assert_eq!(low_only(v), (None, None, Some(0)), "{v:?}");
        }
        // 低 is a judgement with no points; 高 on a 「–」 column is refused.
        let nebulizer = CareEntry::new(CareItem::Nebulizer).with_watch(Low);
        assert_eq!(score(&[nebulizer], &SCORE_TABLE_2021).unwrap().total, 3);
        assert!(
            score(
                &[CareEntry::new(CareItem::Nebulizer).with_watch(High)],
                &SCORE_TABLE_2021
            )
            .is_err()
        );
    }

    #[test]
    fn basic_points_per_kind() {
        let basic = |v: CareVariant| SCORE_TABLE_2021.row(v.item(), Some(v)).unwrap().basic;
        assert_eq!(basic(CareVariant::Intermittent), 5);
        assert_eq!(basic(CareVariant::Indwelling), 3);
        assert_eq!(basic(CareVariant::Stoma), 5);
        assert_eq!(basic(CareVariant::ManualEvacuation), 5);
        assert_eq!(basic(CareVariant::Enema), 3);
    }

    #[test]
    fn ventilator_tracheostomy_suction_tube_feeding() {
        // 人工呼吸器 10 + 見守り高 2; 気管切開 8 (見守り not added with a ventilator);
        // 吸引 8 + 高 1; 経管栄養 (胃瘻) 8 + 高 2.  Basic 34, 見守り 5, total 39.
        let s = total(&[
            entry(CareItem::Ventilator).with_watch(Watch::High),
            entry(CareItem::Tracheostomy).with_watch(Watch::High),
            entry(CareItem::Suction).with_watch(Watch::High),
            entry(CareItem::TubeFeeding).with_watch(Watch::High),
        ]);
        assert_eq!(
            s,
            Score {
                basic: 34,
                watch: 5,
                total: 39,
                tier: Tier::Tier32
            }
        );
    }

    #[test]
    fn tube_feeding_alone_and_with_pump() {
        assert_eq!(
            total(&[entry(CareItem::TubeFeeding)]),
            Score {
                basic: 8,
                watch: 0,
                total: 8,
                tier: Tier::Tier3
            }
        );
        let s = total(&[
            entry(CareItem::TubeFeeding).with_watch(Watch::High),
            entry(CareItem::FeedingPump).with_watch(Watch::High),
        ]);
        assert_eq!(
            (s.basic, s.watch, s.total, s.tier),
            (11, 3, 14, Tier::Tier3)
        );
    }

    #[test]
    fn oxygen_alone() {
        let s = total(&[entry(CareItem::Oxygen).with_watch(Watch::High)]);
        assert_eq!((s.basic, s.watch, s.total, s.tier), (8, 1, 9, Tier::Tier3));
        let s = total(&[entry(CareItem::Oxygen).with_watch(Watch::Low)]);
        assert_eq!((s.basic, s.watch, s.total), (8, 0, 8));
    }

    #[test]
    fn no_entries_score_zero() {
        assert_eq!(total(&[]).tier, Tier::BelowThree);
        assert_eq!(total(&[]).total, 0);
    }

    #[test]
    fn ventilator_counts_once() {
        let err = score(
            &[
                entry(CareItem::Ventilator).with_watch(Watch::Medium),
                entry(CareItem::Ventilator).with_watch(Watch::High),
            ],
            &SCORE_TABLE_2021,
        )
        .unwrap_err();
        assert_eq!(err, CareError::Duplicate(CareItem::Ventilator));
        assert!(err.to_string().contains("1回だけ数えます"), "{err}");
        let s = total(&[entry(CareItem::Ventilator).with_watch(Watch::Medium)]);
        assert_eq!((s.basic, s.watch, s.total), (10, 1, 11));
    }

    #[test]
    fn the_kinds_are_lines_of_their_own_and_each_is_scored_once() {
        // 消化管ストーマ and 浣腸: two lines of 排便管理, both scored (5+1 and 3).
        let s = total(&[
            entry(CareItem::BowelManagement)
                .with_variant(CareVariant::Stoma)
                .with_watch(Watch::High),
            entry(CareItem::BowelManagement).with_variant(CareVariant::Enema),
        ]);
        assert_eq!((s.basic, s.watch, s.total), (8, 1, 9));
        let s = total(&[
            entry(CareItem::Catheterisation).with_variant(CareVariant::Intermittent),
            entry(CareItem::Catheterisation).with_variant(CareVariant::Indwelling),
        ]);
        assert_eq!(s.basic, 8);
        // The same line twice is an error.
        let err = score(
            &[
                entry(CareItem::Catheterisation).with_variant(CareVariant::Intermittent),
                entry(CareItem::Catheterisation).with_variant(CareVariant::Intermittent),
            ],
            &SCORE_TABLE_2021,
        )
        .unwrap_err();
        assert_eq!(err, CareError::Duplicate(CareItem::Catheterisation));
        assert_eq!(
            err.to_string(),
            "「導尿」が重複しています。1項目につき1行で入力してください"
        );
        // Every line has its code and a row in the sheet.
        let lines = CareLine::all();
        assert_eq!(lines.len(), 19);
        for line in lines {
            assert_eq!(CareLine::parse(line.code()), Some(line));
            assert!(
                SCORE_TABLE_2021.row(line.item, line.variant).is_some(),
                "{line:?}"
            );
        }
        let intermittent = CareLine::parse("intermittent").unwrap();
        assert_eq!(intermittent.label_ja(), "導尿（間欠的導尿）");
        assert_eq!(SCORE_TABLE_2021.line_levels(intermittent), [Watch::Low]);
    }

    #[test]
    fn tracheostomy_watch_only_without_ventilator() {
        let trach = entry(CareItem::Tracheostomy).with_watch(Watch::High);
        let s = total(&[trach]);
        assert_eq!((s.basic, s.watch, s.total), (8, 2, 10));
        let s = total(&[trach, entry(CareItem::Ventilator).with_watch(Watch::Low)]);
        assert_eq!((s.basic, s.watch, s.total), (18, 0, 18));
        // The level is still checked even though it adds nothing.
        let err = score(
            &[
                entry(CareItem::Ventilator),
                entry(CareItem::Tracheostomy).with_watch(Watch::Medium),
            ],
            &SCORE_TABLE_2021,
        )
        .unwrap_err();
        assert_eq!(
            err,
            CareError::WatchLevelNotAvailable {
                item: CareItem::Tracheostomy,
                watch: Watch::Medium
            }
        );
    }

    #[test]
    fn pump_without_parent_is_an_error() {
        let err = score(&[entry(CareItem::FeedingPump)], &SCORE_TABLE_2021).unwrap_err();
        assert_eq!(
            err,
            CareError::MissingParent {
                item: CareItem::FeedingPump,
                parent: CareItem::TubeFeeding
            }
        );
        assert_eq!(
            err.to_string(),
            "「持続経管注入ポンプ使用」は「経管栄養」がある場合にだけ数えます。先に「経管栄養」を入力してください"
        );
        let err = score(
            &[
                entry(CareItem::SubcutaneousPump),
                entry(CareItem::TubeFeeding),
            ],
            &SCORE_TABLE_2021,
        )
        .unwrap_err();
        assert_eq!(
            err,
            CareError::MissingParent {
                item: CareItem::SubcutaneousPump,
                parent: CareItem::SubcutaneousInjection
            }
        );
        // Parent listed after the pump is fine.
        let s = total(&[
            entry(CareItem::SubcutaneousPump).with_watch(Watch::High),
            entry(CareItem::SubcutaneousInjection).with_watch(Watch::Low),
        ]);
        assert_eq!((s.basic, s.watch, s.total), (8, 1, 9));
    }

    #[test]
    fn invalid_watch_level_is_an_error() {
        let err = score(
            &[entry(CareItem::Oxygen).with_watch(Watch::Medium)],
            &SCORE_TABLE_2021,
        )
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            "「酸素療法」には見守りスコア「中」の区分がありません"
        );
        // ネブライザー has 低 only (0 points): 高 is a level it does not have.
        assert_eq!(
            score(
                &[entry(CareItem::Nebulizer).with_watch(Watch::High)],
                &SCORE_TABLE_2021
            ),
            Err(CareError::WatchLevelNotAvailable {
                item: CareItem::Nebulizer,
                watch: Watch::High
            })
        );
        assert_eq!(total(&[entry(CareItem::Nebulizer)]).total, 3);
        // The kinds whose sheet line reads 「– / – / 0」.
        for v in [
            CareVariant::Intermittent,
            CareVariant::ManualEvacuation,
            CareVariant::Enema,
        ] {
            let e = entry(v.item()).with_variant(v).with_watch(Watch::High);
            assert_eq!(
                score(&[e], &SCORE_TABLE_2021),
                Err(CareError::WatchLevelNotAvailable {
                    item: v.item(),
                    watch: Watch::High
                }),
                "{v}"
            );
            let low = entry(v.item()).with_variant(v).with_watch(Watch::Low);
            assert!(score(&[low], &SCORE_TABLE_2021).is_ok(), "{v}");
        }
        // Only the ventilator has a 中.
        for item in CareItem::ALL {
            let Some(row) = SCORE_TABLE_2021.row(item, None) else {
                continue;
            };
            assert_eq!(
                row.watch.medium.is_some(),
                item == CareItem::Ventilator,
                "{item}"
            );
        }
    }

    #[test]
    fn variants_are_required_and_must_match() {
        let err = score(&[entry(CareItem::BowelManagement)], &SCORE_TABLE_2021).unwrap_err();
        assert_eq!(
            err.to_string(),
            "「排便管理」の種類（消化管ストーマ・摘便・洗腸・浣腸）を選んでください"
        );
        let err = score(
            &[entry(CareItem::Catheterisation).with_variant(CareVariant::Stoma)],
            &SCORE_TABLE_2021,
        )
        .unwrap_err();
        assert_eq!(
            err,
            CareError::VariantMismatch {
                item: CareItem::Catheterisation,
                variant: CareVariant::Stoma
            }
        );
        let err = score(
            &[entry(CareItem::Oxygen).with_variant(CareVariant::Enema)],
            &SCORE_TABLE_2021,
        )
        .unwrap_err();
        assert!(matches!(err, CareError::VariantMismatch { .. }));
        let s = total(&[
            entry(CareItem::Catheterisation)
                .with_variant(CareVariant::Indwelling)
                .with_watch(Watch::High),
            entry(CareItem::BowelManagement).with_variant(CareVariant::Enema),
        ]);
        assert_eq!((s.basic, s.watch, s.total), (6, 1, 7));
    }

    #[test]
    fn missing_row_is_an_error_not_zero() {
        let partial = ScoreTable {
            rows: &ROWS_2021[..3],
            ..SCORE_TABLE_2021
        };
        assert_eq!(
            score(&[entry(CareItem::Oxygen)], &partial),
            Err(CareError::NotInTable {
                item: CareItem::Oxygen
            })
        );
    }

    #[test]
    fn tier_boundaries() {
        let cases = [
            (0, Tier::BelowThree),
            (2, Tier::BelowThree),
            (3, Tier::Tier3),
            (15, Tier::Tier3),
            (16, Tier::Tier16),
            (31, Tier::Tier16),
            (32, Tier::Tier32),
            (u32::MAX, Tier::Tier32),
        ];
        for (points, tier) in cases {
            assert_eq!(Tier::from_total(points), tier, "{points}");
            assert!(points >= tier.min_points());
        }
        assert_eq!(Tier::Tier32.label_ja(), "32点以上");
        assert_eq!(Tier::BelowThree.label_ja(), "3点未満");
        assert!(Tier::Tier32 > Tier::Tier16 && Tier::Tier3 > Tier::BelowThree);
        // Through `score`: 2 cannot occur (the smallest row is 3 points).
        let s = total(&[
            entry(CareItem::SubcutaneousInjection),
            entry(CareItem::TubeFeeding).with_watch(Watch::High),
        ]);
        assert_eq!((s.total, s.tier), (15, Tier::Tier3));
        let s = total(&[entry(CareItem::Oxygen), entry(CareItem::Suction)]);
        assert_eq!((s.total, s.tier), (16, Tier::Tier16));
        let s = total(&[
            entry(CareItem::Ventilator).with_watch(Watch::Medium),
            entry(CareItem::Oxygen).with_watch(Watch::High),
            entry(CareItem::Suction).with_watch(Watch::High),
            entry(CareItem::NasopharyngealAirway),
        ]);
        assert_eq!((s.total, s.tier), (34, Tier::Tier32));
        let s = total(&[
            entry(CareItem::Ventilator),
            entry(CareItem::Tracheostomy),
            entry(CareItem::Suction),
            entry(CareItem::Nebulizer),
            entry(CareItem::BloodGlucose),
        ]);
        assert_eq!((s.total, s.tier), (32, Tier::Tier32));
        let s = total(&[
            entry(CareItem::Ventilator),
            entry(CareItem::Tracheostomy),
            entry(CareItem::Suction),
            entry(CareItem::SubcutaneousInjection),
        ]);
        assert_eq!((s.total, s.tier), (31, Tier::Tier16));
        let s = total(&[entry(CareItem::Nebulizer)]);
        assert_eq!((s.total, s.tier), (3, Tier::Tier3));
    }

    #[test]
    fn codes_round_trip_and_are_unique() {
        for item in CareItem::ALL {
            assert_eq!(CareItem::parse(item.code()), Ok(item));
            assert_eq!(item.code().parse::<CareItem>(), Ok(item));
            assert_eq!(CareItem::parse_label(item.label_ja()), Ok(item));
        }
        for v in CareVariant::ALL {
            assert_eq!(CareVariant::parse(v.code()), Ok(v));
            assert_eq!(CareVariant::parse(v.label_ja()), Ok(v));
        }
        for w in Watch::ALL {
            assert_eq!(Watch::parse(w.code()), Ok(w));
            assert_eq!(Watch::parse(w.label_ja()), Ok(w));
        }
        let mut codes: Vec<_> = CareItem::ALL.iter().map(|i| i.code()).collect();
        codes.sort_unstable();
        codes.dedup();
        assert_eq!(codes.len(), CareItem::ALL.len());
        assert_eq!(CareItem::parse(" Tube_Feeding "), Ok(CareItem::TubeFeeding));
        assert_eq!(CareItem::parse("ｏｘｙｇｅｎ"), Ok(CareItem::Oxygen));
        assert_eq!(Watch::parse(" 高 "), Ok(Watch::High));
        assert_eq!(Watch::parse("HIGH"), Ok(Watch::High));
    }

    #[test]
    fn labels_fold_width_and_white_space() {
        assert_eq!(
            CareItem::parse_label("吸引(口鼻腔・気管内)"),
            Ok(CareItem::Suction)
        );
        assert_eq!(
            CareItem::parse_label(" 吸引（口鼻腔･気管内） "),
            Ok(CareItem::Suction)
        );
        assert_eq!(
            CareItem::parse_label("ﾈﾌﾞﾗｲｻﾞｰの管理"),
            Ok(CareItem::Nebulizer)
        );
        assert_eq!(
            CareItem::parse_label("人工呼吸器の　管理"),
            Ok(CareItem::Ventilator)
        );
        assert_eq!(
            CareVariant::parse("摘便･洗腸"),
            Ok(CareVariant::ManualEvacuation)
        );
    }

    #[test]
    fn unknown_text_is_named_in_the_error() {
        let err = CareItem::parse_label("胃ろう").unwrap_err();
        assert_eq!(
            err.to_string(),
            "「胃ろう」という医療的ケアの項目はありません"
        );
        let err = CareItem::parse("gastrostomy").unwrap_err();
        assert_eq!(
            err.to_string(),
            "「gastrostomy」は医療的ケアの項目コードではありません"
        );
        assert!(CareItem::parse("").is_err());
        assert!(
            CareVariant::parse("おむつ")
                .unwrap_err()
                .to_string()
                .contains("おむつ")
        );
        assert!(
            Watch::parse("最高")
                .unwrap_err()
                .to_string()
                .contains("最高")
        );
    }
}
