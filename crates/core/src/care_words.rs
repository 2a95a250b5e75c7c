//! The words people write for the lines of the 医療的ケア判定スコア sheet, kept as data with
//! where each comes from: the ministry's own wording of each line (its brackets list what
//! a line covers) and the everyday terms of families, hospitals and towns. An import reads
//! 「胃瘻」 as 経管栄養 and 「膀胱瘻」 as 導尿 (持続的導尿) through this table.

use unicode_normalization::UnicodeNormalization;

use crate::care::{CareItem, CareVariant};

/// Where a word of the table comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WordSource {
    /// The sheet's own wording of the line (its brackets): 厚生労働省「令和3年度障害福祉サービス
    /// 等報酬改定の概要」別表「医療的ケア判定スコア」pp. 112–113.
    Ministry,
    /// What families, hospitals and towns write for it (gathered for tsunagu; DOMAIN.md).
    Everyday,
}

impl WordSource {
    pub fn label_ja(self) -> &'static str {
        match self {
            WordSource::Ministry => "判定スコア表の書き方",
            WordSource::Everyday => "ふだんの呼び方",
        }
    }
}

/// One word and the line it means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CareWord {
    pub word: &'static str,
    pub item: CareItem,
    pub variant: Option<CareVariant>,
    pub source: WordSource,
}

/// When the table was last revised.
pub const CARE_WORDS_REVISED: &str = "2026-12-07";

const fn word(word: &'static str, item: CareItem, source: WordSource) -> CareWord {
    CareWord {
        word,
        item,
        variant: None,
        source,
    }
}

const fn kind(word: &'static str, variant: CareVariant, source: WordSource) -> CareWord {
    CareWord {
        word,
        item: variant.item(),
        variant: Some(variant),
        source,
    }
}

use CareItem as I;
use CareVariant as V;
use WordSource::{Everyday as E, Ministry as M};

/// The table. A word that could mean two lines (「ストーマ」: 消化管 or 尿路) is left out:
/// the import then asks for the line's own name.
pub const CARE_WORDS: &[CareWord] = &[
    // ① 人工呼吸器の管理, and what the sheet counts with it (once).
    word("鼻マスク式補助換気法", I::Ventilator, M),
    word("ハイフローセラピー", I::Ventilator, M),
    word("間歇的陽圧吸入法", I::Ventilator, M),
    word("排痰補助装置", I::Ventilator, M),
    word("高頻度胸壁振動装置", I::Ventilator, M),
    word("NPPV", I::Ventilator, E),
    word("非侵襲的陽圧換気", I::Ventilator, E),
    word("TPPV", I::Ventilator, E),
    word("呼吸器", I::Ventilator, E),
    word("ネーザルハイフロー", I::Ventilator, E),
    word("カフアシスト", I::Ventilator, E),
    // ② 気管切開の管理
    word("気管切開", I::Tracheostomy, M),
    word("気切", I::Tracheostomy, E),
    word("気管カニューレ", I::Tracheostomy, E),
    // ③ 鼻咽頭エアウェイの管理
    word("エアウェイ", I::NasopharyngealAirway, E),
    // ④ 酸素療法
    word("在宅酸素", I::Oxygen, E),
    word("在宅酸素療法", I::Oxygen, E),
    word("HOT", I::Oxygen, E),
    word("酸素", I::Oxygen, E),
    // ⑤ 吸引（口鼻腔又は気管内吸引に限る）
    word("口鼻腔吸引", I::Suction, M),
    word("気管内吸引", I::Suction, M),
    word("喀痰吸引", I::Suction, E),
    word("たん吸引", I::Suction, E),
    word("痰吸引", I::Suction, E),
    // ⑥ ネブライザーの管理
    word("吸入", I::Nebulizer, E),
    // ⑦ 経管栄養 (1) and (2)
    word("経鼻胃管", I::TubeFeeding, M),
    word("胃瘻", I::TubeFeeding, M),
    word("経鼻腸管", I::TubeFeeding, M),
    word("経胃瘻腸管", I::TubeFeeding, M),
    word("腸瘻", I::TubeFeeding, M),
    word("食道瘻", I::TubeFeeding, M),
    word("胃ろう", I::TubeFeeding, E),
    word("鼻腔栄養", I::TubeFeeding, E),
    word("注入", I::TubeFeeding, E),
    word("経腸栄養ポンプ", I::FeedingPump, E),
    word("注入ポンプ", I::FeedingPump, E),
    // ⑧ 中心静脈カテーテルの管理
    word("中心静脈栄養", I::CentralVenousCatheter, M),
    word("IVH", I::CentralVenousCatheter, E),
    word("TPN", I::CentralVenousCatheter, E),
    // ⑨ その他の注射管理 (1) and (2)
    word("インスリン", I::SubcutaneousInjection, E),
    word("インスリン注射", I::SubcutaneousInjection, E),
    word("インスリンポンプ", I::SubcutaneousPump, E),
    // ⑩ 血糖測定
    word("持続血糖測定", I::BloodGlucose, M),
    word("持続血糖測定器", I::BloodGlucose, M),
    word("CGM", I::BloodGlucose, E),
    word("血糖チェック", I::BloodGlucose, E),
    // ⑪ 継続的な透析
    word("血液透析", I::Dialysis, M),
    word("腹膜透析", I::Dialysis, M),
    // ⑫ 導尿
    kind("間欠的導尿", V::Intermittent, M),
    kind("間欠導尿", V::Intermittent, E),
    kind("自己導尿", V::Intermittent, E),
    kind("CIC", V::Intermittent, E),
    kind("尿道留置カテーテル", V::Indwelling, M),
    kind("膀胱瘻", V::Indwelling, M),
    kind("腎瘻", V::Indwelling, M),
    kind("尿路ストーマ", V::Indwelling, M),
    kind("留置カテーテル", V::Indwelling, E),
    kind("バルーンカテーテル", V::Indwelling, E),
    // ⑬ 排便管理
    kind("消化管ストーマ", V::Stoma, M),
    kind("人工肛門", V::Stoma, E),
    kind("摘便", V::ManualEvacuation, M),
    kind("洗腸", V::ManualEvacuation, M),
    kind("摘便又は洗腸", V::ManualEvacuation, M),
    kind("グリセリン浣腸", V::Enema, M),
    // ⑭ 痙攣時の処置
    word("坐剤挿入", I::SeizureResponse, M),
    word("迷走神経刺激装置", I::SeizureResponse, M),
    word("VNS", I::SeizureResponse, E),
];

/// The line a word means, when the table has it: compared after NFKC (全角・半角), without
/// white space, upper case.
pub fn find(text: &str) -> Option<&'static CareWord> {
    let key = fold(text);
    if key.is_empty() {
        return None;
    }
    CARE_WORDS.iter().find(|w| fold(w.word) == key)
}

fn fold(text: &str) -> String {
    text.nfkc()
        .filter(|c| !c.is_whitespace())
        .flat_map(char::to_uppercase)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_issues_words_mean_the_ministrys_lines() {
        let means = |text: &str| find(text).map(|w| (w.item, w.variant));
        assert_eq!(means("ハイフローセラピー"), Some((I::Ventilator, None)));
        assert_eq!(means("鼻マスク式補助換気法"), Some((I::Ventilator, None)));
        assert_eq!(means("排痰補助装置"), Some((I::Ventilator, None)));
        assert_eq!(means("ｎｐｐｖ"), Some((I::Ventilator, None)));
        for text in ["膀胱瘻", "腎瘻", "尿路ストーマ", "留置カテーテル"] {
            assert_eq!(
                means(text),
                Some((I::Catheterisation, Some(V::Indwelling))),
                "{text}"
            );
        }
        for text in ["摘便", "洗腸"] {
            assert_eq!(
                means(text),
                Some((I::BowelManagement, Some(V::ManualEvacuation))),
                "{text}"
            );
        }
        assert_eq!(means("胃瘻"), Some((I::TubeFeeding, None)));
        assert_eq!(means("経鼻胃管"), Some((I::TubeFeeding, None)));
        assert_eq!(means("在宅酸素"), Some((I::Oxygen, None)));
        assert_eq!(means("腹膜透析"), Some((I::Dialysis, None)));
        assert_eq!(means("インスリン"), Some((I::SubcutaneousInjection, None)));
        assert_eq!(means("持続血糖測定"), Some((I::BloodGlucose, None)));
        assert_eq!(means("喀痰吸引"), Some((I::Suction, None)));
        // Ambiguous or unknown: not guessed.
        assert_eq!(means("ストーマ"), None);
        assert_eq!(means(""), None);
    }

    #[test]
    fn each_word_is_listed_once_and_its_kind_belongs_to_its_item() {
        for (i, a) in CARE_WORDS.iter().enumerate() {
            for b in &CARE_WORDS[i + 1..] {
                assert_ne!(fold(a.word), fold(b.word), "{}", a.word);
            }
            if let Some(v) = a.variant {
                assert_eq!(v.item(), a.item, "{}", a.word);
            }
        }
    }
}
