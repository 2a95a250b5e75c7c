//! Query parameters arrive as text and are checked here, so that a bad value gets a
//! Japanese message rather than the framework's English rejection.

use crate::error::AppError;

/// Longest search text accepted; more is refused, never silently cut.
pub const MAX_SEARCH_CHARS: usize = 100;

pub fn search_text(raw: Option<&str>) -> Result<String, AppError> {
    let raw = raw.unwrap_or_default();
    // Before trimming: a control character that is also white space (U+0085) at either end
    // is still one.
    if let Some(c) = tsunagu_core::text::hidden_character(raw, false) {
        return Err(AppError::BadRequest(
            tsunagu_core::text::hidden_character_message("検索語", c),
        ));
    }
    let text = raw.trim();
    if text.chars().count() > MAX_SEARCH_CHARS {
        return Err(AppError::BadRequest(format!(
            "検索語は{MAX_SEARCH_CHARS}文字以内で入力してください"
        )));
    }
    Ok(text.to_string())
}

/// A whole number in `min..=max`, or the default when absent or empty.
pub fn number(
    raw: Option<&str>,
    label: &str,
    default: i64,
    min: i64,
    max: i64,
) -> Result<i64, AppError> {
    match raw.map(str::trim).filter(|s| !s.is_empty()) {
        None => Ok(default),
        Some(text) => text
            .parse::<i64>()
            .ok()
            .filter(|n| (min..=max).contains(n))
            .ok_or_else(|| {
                AppError::BadRequest(format!(
                    "{label}は{min}から{max}までの整数で指定してください"
                ))
            }),
    }
}

/// For the API: a parameter among `keys` sent with no value (`?offset=`, `?tier=`) is
/// refused, as the description names the values each takes; a form's empty field means
/// "any" or the default, and pages keep that.
pub fn api_no_empty(
    query: &std::collections::HashMap<String, String>,
    keys: &[&str],
) -> Result<(), AppError> {
    let empty: Vec<&str> = keys
        .iter()
        .copied()
        .filter(|key| query.get(*key).is_some_and(|v| v.trim().is_empty()))
        .collect();
    if empty.is_empty() {
        Ok(())
    } else {
        Err(AppError::BadRequest(format!(
            "値のないパラメータがあります（{}）。指定しないときは、パラメータごと省いてください",
            empty.join(", ")
        )))
    }
}

/// Every `key=value` pair of a query string, in order (a key may repeat: ticked boxes).
pub fn pairs(query: &str) -> Result<Vec<(String, String)>, AppError> {
    serde_urlencoded::from_str::<Vec<(String, String)>>(query).map_err(|_| {
        AppError::BadRequest("検索の条件を読み取れませんでした。ページを開き直してください".into())
    })
}

/// The fields of a submitted form (`application/x-www-form-urlencoded`), last value wins.
pub fn form(body: &[u8]) -> Result<std::collections::HashMap<String, String>, AppError> {
    serde_urlencoded::from_bytes::<Vec<(String, String)>>(body)
        .map(|pairs| pairs.into_iter().collect())
        .map_err(|_| {
            AppError::BadRequest(
                "送信された内容を読み取れませんでした。ページを開き直してください".into(),
            )
        })
}

/// Percent-encodes text for a URL query value.
pub fn url_encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_in_range_or_a_japanese_message() {
        assert_eq!(number(None, "ページ", 1, 1, 100).unwrap(), 1);
        assert_eq!(number(Some(""), "ページ", 1, 1, 100).unwrap(), 1);
        assert_eq!(number(Some("3"), "ページ", 1, 1, 100).unwrap(), 3);
        for bad in ["0", "101", "-1", "abc", "1.5", "99999999999999999999"] {
            let err = number(Some(bad), "ページ", 1, 1, 100).unwrap_err();
            assert!(err.to_string().contains("ページは1から100まで"), "{bad}");
        }
    }

    #[test]
    fn search_text_is_trimmed_and_bounded() {
        assert_eq!(search_text(Some(" 板橋 ")).unwrap(), "板橋");
        assert!(search_text(Some(&"あ".repeat(101))).is_err());
        assert!(search_text(Some(&"あ".repeat(100))).is_ok());
        // Invisible characters would find nothing and hide what was searched for.
        for hidden in ["板\u{200B}橋", "板橋\u{202E}", "\u{1b}[2J", "\u{85}板橋"] {
            assert!(search_text(Some(hidden)).is_err(), "{hidden:?}");
        }
    }
}
