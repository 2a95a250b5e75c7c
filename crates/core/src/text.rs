//! Text people type: what no one types on purpose is refused rather than stored. Control
//! characters, bidirectional overrides (which make 「ｇｐｊ.exe」 read as something else)
//! and zero-width characters (which make two equal-looking names differ) hide in
//! pasted text and break search, duplicate checks and printouts.

/// The first character of `text` that may not be stored in a one-line field (or, with
/// `multiline`, in a multi-line one, where tab and line breaks are fine).
pub fn hidden_character(text: &str, multiline: bool) -> Option<char> {
    text.chars().find(|&c| is_hidden(c, multiline))
}

/// The characters never accepted in a one-line field, as ranges: the control characters
/// (Unicode Cc) and the invisible ones that reorder or hide text (the Arabic letter mark,
/// zero-width spaces and joiners, directional marks, embeddings, overrides and isolates,
/// invisible operators, the byte-order mark). The API's description states the same ranges.
pub const HIDDEN_RANGES: [(char, char); 8] = [
    ('\u{0000}', '\u{001F}'),
    ('\u{007F}', '\u{009F}'),
    ('\u{061C}', '\u{061C}'),
    ('\u{200B}', '\u{200F}'),
    ('\u{202A}', '\u{202E}'),
    ('\u{2060}', '\u{2064}'),
    ('\u{2066}', '\u{2069}'),
    ('\u{FEFF}', '\u{FEFF}'),
];

/// One character of [`hidden_character`]'s kind; a multi-line field keeps tab and line
/// breaks.
pub fn is_hidden(c: char, multiline: bool) -> bool {
    if multiline && matches!(c, '\t' | '\n' | '\r') {
        return false;
    }
    HIDDEN_RANGES
        .iter()
        .any(|&(from, to)| (from..=to).contains(&c))
}

/// Text as typed, with what Japanese input makes inconsistent made consistent: half-width
/// katakana (ﾊﾝｶｸ, including ﾞ and ﾟ) become full-width, full-width digits and Latin letters
/// become ASCII. Everything else is kept as written, full-width punctuation included
/// (（）、「」 are how Japanese is written; NFKC on all of it would turn them into ASCII).
pub fn normalise_typed(text: &str) -> String {
    use unicode_normalization::UnicodeNormalization;
    let half_kana = |c: char| ('\u{FF61}'..='\u{FF9F}').contains(&c);
    let wide_alnum = |c: char| {
        ('\u{FF10}'..='\u{FF19}').contains(&c)
            || ('\u{FF21}'..='\u{FF3A}').contains(&c)
            || ('\u{FF41}'..='\u{FF5A}').contains(&c)
    };
    let mut out = String::with_capacity(text.len());
    let mut run = String::new();
    for c in text.chars() {
        if half_kana(c) {
            run.push(c);
            continue;
        }
        if !run.is_empty() {
            // A run at once, so ﾀﾞ composes to ダ.
            out.extend(run.nfkc());
            run.clear();
        }
        if wide_alnum(c) {
            out.extend(c.to_string().nfkc());
        } else {
            out.push(c);
        }
    }
    out.extend(run.nfkc());
    out
}

/// The Japanese message for a field holding such a character, naming it by code point.
pub fn hidden_character_message(label: &str, c: char) -> String {
    let what = if c.is_control() {
        "制御文字"
    } else {
        "目に見えない文字（文字の向きを変える文字・幅のない文字）"
    };
    format!(
        "{label}に、入力できない{what} U+{:04X} が含まれています。文字を入力し直してください（ほかの文書から貼り付けたときに紛れ込むことがあります）",
        u32::from(c)
    )
}

/// Kana as a reading is written: ひらがな or カタカナ, 「ー」「・」 and spaces.
pub fn is_kana(text: &str) -> bool {
    text.chars()
        .all(|c| matches!(c, 'ぁ'..='ゖ' | 'ァ'..='ヺ' | 'ー' | '・' | ' ' | '　'))
}

/// A phone number as typed: digits, hyphens and a leading +, 10–13 digits (full-width and
/// 「ー」 read as such); `Some("")` for an empty field, `None` for one that is no number.
pub fn normalise_phone(text: &str) -> Option<String> {
    use unicode_normalization::UnicodeNormalization;
    let text: String = text.nfkc().collect::<String>().trim().replace('ー', "-");
    if text.is_empty() {
        return Some(String::new());
    }
    let digits = text.chars().filter(char::is_ascii_digit).count();
    let allowed = text
        .chars()
        .enumerate()
        .all(|(i, c)| c.is_ascii_digit() || c == '-' || (c == '+' && i == 0));
    (allowed && (10..=13).contains(&digits)).then_some(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn half_width_kana_and_wide_digits_are_made_consistent_and_punctuation_kept() {
        assert_eq!(normalise_typed("ﾔﾏﾀﾞ ﾊﾟﾝ"), "ヤマダ パン");
        assert_eq!(normalise_typed("板橋区１－２－３"), "板橋区1－2－3");
        assert_eq!(normalise_typed("ＳＭＡ（Ⅰ型）"), "SMA（Ⅰ型）");
        assert_eq!(normalise_typed("「山田」、さん。"), "「山田」、さん。");
        assert_eq!(normalise_typed("ｶﾞ"), "ガ");
    }

    #[test]
    fn the_ranges_are_the_control_characters_and_the_invisible_ones() {
        // Every control character (Cc) is in the ranges, and nothing else of Latin-1.
        for c in '\u{0}'..='\u{FF}' {
            assert_eq!(is_hidden(c, false), c.is_control(), "{c:?}");
        }
        for c in [
            '\u{200B}', '\u{200D}', '\u{202E}', '\u{2066}', '\u{FEFF}', '\u{061C}',
        ] {
            assert!(is_hidden(c, false), "{c:?}");
        }
        for c in ['あ', '　', '・', '\u{2065}', '\u{2010}'] {
            assert!(!is_hidden(c, false), "{c:?}");
        }
        assert!(!is_hidden('\n', true) && is_hidden('\n', false));
    }

    #[test]
    fn what_no_one_types_is_found() {
        for (text, found) in [
            ("山田 はると", None),
            ("ﾔﾏﾀﾞ", None),
            ("山田\u{0000}", Some('\u{0000}')),
            ("\u{001B}[31m", Some('\u{001B}')),
            ("abc\u{202E}gpj.exe", Some('\u{202E}')),
            ("山\u{200B}田", Some('\u{200B}')),
            ("\u{FEFF}山田", Some('\u{FEFF}')),
            ("a\u{2066}b", Some('\u{2066}')),
            ("二行\n目", Some('\n')),
            ("タブ\t", Some('\t')),
            ("\u{0085}", Some('\u{0085}')),
        ] {
            assert_eq!(hidden_character(text, false), found, "{text:?}");
        }
        assert_eq!(hidden_character("一行目\r\n二行目\tタブ", true), None);
        assert_eq!(hidden_character("一行目\u{200F}", true), Some('\u{200F}'));
        assert_eq!(hidden_character("\u{0007}", true), Some('\u{0007}'));
        assert!(hidden_character_message("氏名", '\u{202E}').contains("U+202E"));
    }
}
