//! Reading the cells people write by hand: lists in one cell, a bracketed group after an
//! item, and care items by label, short name, code or the words people use.

use tsunagu_core::care::{CareItem, CareVariant};
use unicode_normalization::UnicodeNormalization;

/// Splits a list cell on 、 , ; / and line breaks outside brackets (after NFKC, so the
/// full-width forms ，；／（） count too).
pub fn split_list(cell: &str) -> Vec<String> {
    let text: String = cell.nfkc().collect();
    let mut items = Vec::new();
    let mut current = String::new();
    let mut depth = 0usize;
    for c in text.chars() {
        match c {
            '(' | '[' | '「' => {
                depth += 1;
                current.push(c);
            }
            ')' | ']' | '」' => {
                depth = depth.saturating_sub(1);
                current.push(c);
            }
            '、' | ',' | ';' | '/' | '\n' | '\r' if depth == 0 => {
                items.push(std::mem::take(&mut current));
            }
            _ => current.push(c),
        }
    }
    items.push(current);
    items
        .into_iter()
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .collect()
}

/// The last bracketed group of `text` and what comes before it: `吸引(高)` → (`吸引`, `高`).
pub fn peel_group(text: &str) -> Option<(&str, &str)> {
    let body = text.trim_end().strip_suffix(')')?;
    let mut depth = 0usize;
    for (i, c) in body.char_indices().rev() {
        match c {
            ')' => depth += 1,
            '(' if depth == 0 => return Some((text[..i].trim_end(), &body[i + 1..])),
            '(' => depth -= 1,
            _ => {}
        }
    }
    None
}

/// NFKC without white space: how two spellings of one word are compared.
pub fn fold(text: &str) -> String {
    text.nfkc().filter(|c| !c.is_whitespace()).collect()
}

/// The short name of a care item as a cell may hold it: the item's short label
/// (`CareItem::short_label_ja`) folded, without 「使用」.
pub fn care_short_name(item: CareItem) -> String {
    fold(item.short_label_ja())
        .trim_end_matches("使用")
        .to_string()
}

/// The care item (and the line's kind, if the text names one) a cell's item means: its
/// code, label or short name, a kind of 導尿 or 排便管理, or a word people write for it.
pub fn care_named(text: &str) -> Option<(CareItem, Option<CareVariant>)> {
    if let Ok(item) = CareItem::parse(text).or_else(|_| CareItem::parse_label(text)) {
        return Some((item, None));
    }
    let key = fold(text);
    if let Some(item) = CareItem::ALL
        .into_iter()
        .find(|i| care_short_name(*i) == key)
    {
        return Some((item, None));
    }
    if let Ok(v) = CareVariant::parse(text) {
        return Some((v.item(), Some(v)));
    }
    // The words people write for a line (胃瘻, 膀胱瘻, ハイフローセラピー), kept as data.
    tsunagu_core::care_words::find(text).map(|w| (w.item, w.variant))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_list_cell_splits_outside_brackets_only() {
        assert_eq!(
            split_list("人工呼吸器（高）、吸引(口鼻腔・気管内)(高)；導尿(間欠的導尿,低)\n酸素"),
            vec![
                "人工呼吸器(高)",
                "吸引(口鼻腔・気管内)(高)",
                "導尿(間欠的導尿,低)",
                "酸素"
            ]
        );
        assert!(split_list(" 、 ,").is_empty());
        assert_eq!(peel_group("吸引(口鼻腔)(高)"), Some(("吸引(口鼻腔)", "高")));
        assert_eq!(peel_group("吸引"), None);
    }

    #[test]
    fn care_items_are_named_in_every_usual_way() {
        assert_eq!(care_named("ventilator"), Some((CareItem::Ventilator, None)));
        assert_eq!(
            care_named("人工呼吸器の管理"),
            Some((CareItem::Ventilator, None))
        );
        assert_eq!(care_named("人工呼吸器"), Some((CareItem::Ventilator, None)));
        assert_eq!(care_named("魔法"), None);
    }
}
