//! Text folding for Japanese search: the same key for ひらがな and カタカナ,
//! half-width and full-width, upper and lower case.

use unicode_normalization::UnicodeNormalization;

/// Folds text for matching: NFKC (half-width ｶﾀｶﾅ → カタカナ, full-width ＡＢＣ１ → abc1),
/// katakana → hiragana, small kana → full-size, lower case, white space removed.
/// Small kana fold because official readings are often typed without them
/// (しようないまち for 庄内町), and ヶ/ケ vary in place names (茅ヶ崎, 龍ケ崎).
pub fn search_key(text: &str) -> String {
    text.nfkc()
        .filter(|c| !c.is_whitespace())
        .map(katakana_to_hiragana)
        .map(small_to_full_size)
        .flat_map(char::to_lowercase)
        .collect()
}

fn small_to_full_size(c: char) -> char {
    match c {
        'ぁ' => 'あ',
        'ぃ' => 'い',
        'ぅ' => 'う',
        'ぇ' => 'え',
        'ぉ' => 'お',
        'っ' => 'つ',
        'ゃ' => 'や',
        'ゅ' => 'ゆ',
        'ょ' => 'よ',
        'ゎ' => 'わ',
        'ゕ' => 'か',
        'ゖ' => 'け',
        _ => c,
    }
}

/// ァ (U+30A1) … ヶ (U+30F6) map to ぁ … ゖ by a fixed offset; ー and others stay.
fn katakana_to_hiragana(c: char) -> char {
    match c {
        '\u{30A1}'..='\u{30F6}' => char::from_u32(c as u32 - 0x60).unwrap_or(c),
        _ => c,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kana_forms_fold_together() {
        let expected = "いたばしく";
        for input in ["いたばしく", "イタバシク", "ｲﾀﾊﾞｼｸ", " イタバシ ク "]
        {
            assert_eq!(search_key(input), expected, "{input}");
        }
    }

    #[test]
    fn width_and_case_fold() {
        assert_eq!(search_key("１３１１９９"), "131199");
        assert_eq!(search_key("ＡＢＣ"), "abc");
        assert_eq!(search_key("板橋区"), "板橋区");
        assert_eq!(search_key("ヴ"), "ゔ");
    }

    #[test]
    fn small_kana_and_ke_fold() {
        assert_eq!(search_key("しょうない"), search_key("しようない"));
        assert_eq!(search_key("茅ヶ崎"), "茅け崎");
        assert_eq!(search_key("龍ケ崎"), "龍け崎");
        assert_eq!(search_key("チャタン"), "ちやたん");
    }
}

/// Login ids are compared after NFKC and lower-casing, so ｔａｎａｋａ and Tanaka are one id.
pub fn fold_login_id(text: &str) -> String {
    text.trim().nfkc().flat_map(char::to_lowercase).collect()
}

#[cfg(test)]
mod login_tests {
    #[test]
    fn login_ids_fold_width_and_case() {
        assert_eq!(super::fold_login_id(" Ｔａｎａｋａ "), "tanaka");
    }
}
