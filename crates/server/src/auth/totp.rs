//! Time-based one-time passwords (RFC 6238: HMAC-SHA-1, 6 digits, 30-second steps, one step of
//! clock drift either way), their enrolment (otpauth:// URI and a server-rendered QR code) and
//! single-use recovery codes.
//!
//! A code is accepted once: [`verify_code`] returns the time step it matched, the caller stores
//! it, and a code of that step or an earlier one is refused afterwards (RFC 6238 section 5.2).

use chrono::{DateTime, Utc};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use qrcode::{Color, EcLevel, QrCode};
use rand::RngExt;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use totp_rs::{Builder, Secret, Totp};
use unicode_normalization::UnicodeNormalization;

/// Digits of a code.
pub const DIGITS: u8 = 6;
/// Seconds per time step.
pub const STEP_SECONDS: i64 = 30;
/// Steps of clock drift accepted either side of the current one.
pub const WINDOW_STEPS: i64 = 1;
/// The issuer shown in authenticator apps.
pub const ISSUER: &str = "つなぐ";
/// Recovery codes issued at a time.
pub const RECOVERY_CODE_COUNT: usize = 10;

/// 160-bit secrets, the size RFC 4226 section 4 recommends.
const SECRET_BYTES: usize = 20;
/// Recovery code characters: lower case and digits without i, l, o, 0, 1 (31 symbols).
const RECOVERY_ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyz23456789";
const RECOVERY_GROUPS: usize = 3;
const RECOVERY_GROUP_LEN: usize = 4;
/// Everything but RFC 3986 unreserved characters is percent-encoded (a space as `%20`).
const URI_COMPONENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');
/// Modules of light margin around the QR code (the "quiet zone" the standard asks for).
const QR_QUIET_ZONE: usize = 4;

/// A new random secret, base32 (RFC 4648, upper case, 32 characters, no padding).
pub fn generate_secret() -> String {
    let mut bytes = [0u8; SECRET_BYTES];
    rand::fill(&mut bytes);
    Secret::from(bytes).to_base32()
}

/// The secret as stored or typed: spaces, dashes and `=` padding dropped, upper case.
fn normalise_secret(secret: &str) -> String {
    secret
        .nfkc()
        .filter(|c| !c.is_whitespace() && *c != '-' && *c != '=')
        .map(|c| c.to_ascii_uppercase())
        .collect()
}

fn totp(secret: &str, digits: u8) -> Option<Totp> {
    let secret = Secret::try_from_base32(normalise_secret(secret)).ok()?;
    // Refuses secrets under 128 bits.
    Builder::new()
        .with_digits(digits)
        .with_secret(secret)
        .build()
        .ok()
}

fn code_at_step(totp: &Totp, step: i64) -> Option<String> {
    let seconds = u64::try_from(step.checked_mul(STEP_SECONDS)?).ok()?;
    Some(totp.generate(seconds).to_string())
}

fn step_of(now: DateTime<Utc>) -> i64 {
    now.timestamp().div_euclid(STEP_SECONDS)
}

/// The enrolment URI for authenticator apps (Google Authenticator key URI format):
/// `otpauth://totp/ISSUER:ACCOUNT?secret=…&issuer=ISSUER&algorithm=SHA1&digits=6&period=30`,
/// issuer and account percent-encoded as UTF-8.
pub fn otpauth_uri(secret: &str, account_label: &str, issuer: &str) -> String {
    let issuer = utf8_percent_encode(issuer, URI_COMPONENT).to_string();
    let account = utf8_percent_encode(account_label, URI_COMPONENT);
    let secret = normalise_secret(secret);
    format!(
        "otpauth://totp/{issuer}:{account}?secret={secret}&issuer={issuer}&algorithm=SHA1&digits={DIGITS}&period={STEP_SECONDS}"
    )
}

/// The URI as an inline SVG QR code: one `<path>` of dark modules on a white `<rect>`, colours
/// as presentation attributes (the page's CSP forbids `style`), no script, no external resource.
/// Announced to screen readers as an image; the page should also show the secret as text for
/// typing in by hand.
pub fn qr_svg(uri: &str) -> String {
    const LABEL: &str = "二要素認証アプリに登録するためのQRコード";
    let Ok(code) = QrCode::with_error_correction_level(uri.as_bytes(), EcLevel::M) else {
        // Only for data beyond a QR code's capacity, which an otpauth URI never reaches.
        return r#"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 1 1" role="img" aria-label="QRコードを作成できませんでした"></svg>"#
            .to_owned();
    };
    let width = code.width();
    let size = width + 2 * QR_QUIET_ZONE;
    let colors = code.to_colors();
    let mut path = String::new();
    for (y, row) in colors.chunks(width.max(1)).enumerate() {
        let mut x = 0;
        while x < row.len() {
            if row[x] == Color::Dark {
                let start = x;
                while x < row.len() && row[x] == Color::Dark {
                    x += 1;
                }
                let run = x - start;
                path.push_str(&format!(
                    "M{} {}h{run}v1h-{run}z",
                    start + QR_QUIET_ZONE,
                    y + QR_QUIET_ZONE
                ));
            } else {
                x += 1;
            }
        }
    }
    format!(
        r##"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {size} {size}" width="240" height="240" role="img" aria-label="{LABEL}" shape-rendering="crispEdges"><rect width="{size}" height="{size}" fill="#ffffff"/><path fill="#000000" d="{path}"/></svg>"##
    )
}

/// The 6-digit code input: NFKC (full-width digits become ASCII), spaces and dashes dropped.
fn normalise_code(code: &str) -> Option<String> {
    let code: String = code
        .nfkc()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .collect();
    (code.len() == usize::from(DIGITS) && code.bytes().all(|b| b.is_ascii_digit())).then_some(code)
}

/// Checks a code typed by the user. Returns the time step it matched, within [`WINDOW_STEPS`]
/// of `now`, if that step is later than `last_used_step` (so a code, once used, is refused for
/// the rest of its window). The caller stores the returned step as the new `last_used_step`.
/// Tolerates spaces and full-width digits. An invalid secret matches nothing.
pub fn verify_code(
    secret: &str,
    code: &str,
    now: DateTime<Utc>,
    last_used_step: Option<i64>,
) -> Option<i64> {
    let code = normalise_code(code)?;
    let totp = totp(secret, DIGITS)?;
    let current = step_of(now);
    let mut matched = None;
    // Every step of the window is computed and compared in constant time, whichever matches.
    for step in current - WINDOW_STEPS..=current + WINDOW_STEPS {
        let Some(expected) = code_at_step(&totp, step) else {
            continue;
        };
        let equal: bool = expected.as_bytes().ct_eq(code.as_bytes()).into();
        let fresh = last_used_step.is_none_or(|last| step > last);
        if equal && fresh {
            matched = Some(step);
        }
    }
    matched
}

/// The code of the current step (for the demo login page and tests); None for an invalid secret
/// or a time before 1970.
pub fn current_code(secret: &str, now: DateTime<Utc>) -> Option<String> {
    code_at_step(&totp(secret, DIGITS)?, step_of(now))
}

/// Ten single-use recovery codes such as `abcd-efgh-jk2m`, each about 59 bits from the CSPRNG.
pub fn generate_recovery_codes() -> Vec<String> {
    let mut rng = rand::rng();
    let mut codes: Vec<String> = Vec::with_capacity(RECOVERY_CODE_COUNT);
    while codes.len() < RECOVERY_CODE_COUNT {
        let groups: Vec<String> = (0..RECOVERY_GROUPS)
            .map(|_| {
                (0..RECOVERY_GROUP_LEN)
                    .map(|_| {
                        char::from(RECOVERY_ALPHABET[rng.random_range(0..RECOVERY_ALPHABET.len())])
                    })
                    .collect()
            })
            .collect();
        let code = groups.join("-");
        if !codes.contains(&code) {
            codes.push(code);
        }
    }
    codes
}

/// The stored form of a recovery code: SHA-256 (lower-case hex) of the code normalised (NFKC,
/// lower case, dashes and spaces removed), so `ABCD EFGH JK2M` finds `abcd-efgh-jk2m`.
///
/// A fast hash is enough here, unlike passwords: the codes are random, not chosen by people,
/// about 59 bits each (2^58 SHA-256 on average to recover one from a stolen table), single-use,
/// and a recovery code stands in only for the second factor, never for the password.
pub fn hash_recovery_code(code: &str) -> String {
    let normalised: String = code
        .nfkc()
        .flat_map(char::to_lowercase)
        .filter(|c| !c.is_whitespace() && *c != '-')
        .collect();
    Sha256::digest(normalised.as_bytes())
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    /// RFC 6238 appendix B's SHA-1 key, ASCII "12345678901234567890", in base32.
    const RFC_SECRET: &str = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ";

    fn at(seconds: i64) -> DateTime<Utc> {
        Utc.timestamp_opt(seconds, 0).single().unwrap()
    }

    fn full_width(code: &str) -> String {
        code.chars()
            .map(|c| char::from_u32(u32::from(c) - u32::from('0') + 0xFF10).unwrap())
            .collect()
    }

    #[test]
    fn rfc_6238_sha1_test_vectors() {
        let vectors = [
            (59, "94287082"),
            (1_111_111_109, "07081804"),
            (1_111_111_111, "14050471"),
            (1_234_567_890, "89005924"),
            (2_000_000_000, "69279037"),
            (20_000_000_000, "65353130"),
        ];
        let eight = totp(RFC_SECRET, 8).unwrap();
        for (time, expected) in vectors {
            assert_eq!(
                code_at_step(&eight, time / STEP_SECONDS).unwrap(),
                expected,
                "t={time}"
            );
            // 6 digits are the value mod 10^6: the last 6 of the 8.
            assert_eq!(
                current_code(RFC_SECRET, at(time)).unwrap(),
                expected[2..],
                "t={time}"
            );
            assert_eq!(
                verify_code(RFC_SECRET, &expected[2..], at(time), None),
                Some(time / STEP_SECONDS)
            );
        }
    }

    #[test]
    fn secrets_are_160_bit_base32() {
        let secret = generate_secret();
        assert_eq!(secret.len(), 32);
        assert!(
            secret
                .bytes()
                .all(|b| b.is_ascii_uppercase() || (b'2'..=b'7').contains(&b))
        );
        assert_ne!(secret, generate_secret());
        let now = Utc.with_ymd_and_hms(2026, 12, 7, 9, 30, 0).unwrap();
        let code = current_code(&secret, now).unwrap();
        assert_eq!(code.len(), 6);
        // Lower case and grouped with spaces, as people copy it, is the same secret.
        let typed = secret
            .to_lowercase()
            .as_bytes()
            .chunks(4)
            .map(|c| String::from_utf8_lossy(c).into_owned())
            .collect::<Vec<_>>()
            .join(" ");
        assert_eq!(current_code(&typed, now).unwrap(), code);
        assert_eq!(current_code("not base32!", now), None);
        assert_eq!(current_code("GEZDGNBV", now), None, "under 128 bits");
    }

    #[test]
    fn window_is_one_step_either_side() {
        let now = at(1_700_000_015);
        let step = now.timestamp() / STEP_SECONDS;
        for offset in -1..=1 {
            let then = at((step + offset) * STEP_SECONDS);
            let code = current_code(RFC_SECRET, then).unwrap();
            assert_eq!(
                verify_code(RFC_SECRET, &code, now, None),
                Some(step + offset),
                "offset {offset}"
            );
        }
        for offset in [-2, 2] {
            let then = at((step + offset) * STEP_SECONDS);
            let code = current_code(RFC_SECRET, then).unwrap();
            assert_eq!(
                verify_code(RFC_SECRET, &code, now, None),
                None,
                "offset {offset}"
            );
        }
    }

    #[test]
    fn a_used_code_is_refused_within_its_window() {
        let now = at(1_700_000_015);
        let code = current_code(RFC_SECRET, now).unwrap();
        let used = verify_code(RFC_SECRET, &code, now, None).unwrap();
        assert_eq!(verify_code(RFC_SECRET, &code, now, Some(used)), None);
        // Still refused 30 s later, when it is the previous step's code.
        let later = at(now.timestamp() + STEP_SECONDS);
        assert_eq!(verify_code(RFC_SECRET, &code, later, Some(used)), None);
        // The next step's code is fine.
        let next = current_code(RFC_SECRET, later).unwrap();
        assert_eq!(
            verify_code(RFC_SECRET, &next, later, Some(used)),
            Some(used + 1)
        );
        // A code of an earlier step than the last used one is refused too.
        let earlier = current_code(RFC_SECRET, at(now.timestamp() - STEP_SECONDS)).unwrap();
        assert_eq!(verify_code(RFC_SECRET, &earlier, now, Some(used)), None);
    }

    #[test]
    fn spaces_and_full_width_digits_are_tolerated() {
        let now = at(1_234_567_890);
        let code = current_code(RFC_SECRET, now).unwrap();
        let step = Some(now.timestamp() / STEP_SECONDS);
        let spaced = format!("{} {}", &code[..3], &code[3..]);
        let wide = format!(
            "{}\u{3000}{}",
            full_width(&code[..3]),
            full_width(&code[3..])
        );
        for input in [spaced.as_str(), wide.as_str(), &format!(" {code} ")] {
            assert_eq!(verify_code(RFC_SECRET, input, now, None), step, "{input:?}");
        }
        for input in ["", "12345", "1234567", "12a456", "１２３４５"] {
            assert_eq!(verify_code(RFC_SECRET, input, now, None), None, "{input:?}");
        }
        assert_eq!(verify_code("not base32!", &code, now, None), None);
    }

    #[test]
    fn otpauth_uri_is_percent_encoded() {
        let uri = otpauth_uri(
            "gezd gnbv gy3t qojq gezd gnbv gy3t qojq",
            "山田 太郎 (yamada@example.jp)",
            ISSUER,
        );
        assert_eq!(
            uri,
            "otpauth://totp/%E3%81%A4%E3%81%AA%E3%81%90:%E5%B1%B1%E7%94%B0%20%E5%A4%AA%E9%83%8E%20%28yamada%40example.jp%29\
             ?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=%E3%81%A4%E3%81%AA%E3%81%90&algorithm=SHA1&digits=6&period=30"
        );
        assert!(otpauth_uri(RFC_SECRET, "a:b&c", "x").contains("/x:a%3Ab%26c?"));
    }

    #[test]
    fn qr_svg_is_inline_and_csp_safe() {
        let svg = qr_svg(&otpauth_uri(&generate_secret(), "yamada.taro", ISSUER));
        assert!(svg.starts_with("<svg "), "{svg}");
        assert!(svg.ends_with("</svg>"));
        assert!(svg.contains(r#"role="img""#));
        assert!(svg.contains("aria-label=\""));
        assert!(svg.contains("<path fill=\"#000000\" d=\"M"));
        let lower = svg.to_lowercase();
        for banned in ["style", "<script", "href", "url(", "javascript:", "<image"] {
            assert!(!lower.contains(banned), "{banned}");
        }
    }

    #[test]
    fn qr_svg_draws_the_code() {
        // The path's modules are exactly the dark modules of the QR matrix.
        let uri = "otpauth://totp/x:y?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ";
        let code = QrCode::with_error_correction_level(uri.as_bytes(), EcLevel::M).unwrap();
        let dark = code
            .to_colors()
            .iter()
            .filter(|c| **c == Color::Dark)
            .count();
        let svg = qr_svg(uri);
        let path = svg
            .split(" d=\"")
            .nth(1)
            .unwrap()
            .split('"')
            .next()
            .unwrap();
        let drawn: usize = path
            .split('h')
            .skip(1)
            .step_by(2)
            .map(|run| run.split('v').next().unwrap().parse::<usize>().unwrap())
            .sum();
        assert_eq!(drawn, dark);
        let size = code.width() + 2 * QR_QUIET_ZONE;
        assert!(svg.contains(&format!(r#"viewBox="0 0 {size} {size}""#)));
    }

    #[test]
    fn recovery_codes() {
        let codes = generate_recovery_codes();
        assert_eq!(codes.len(), RECOVERY_CODE_COUNT);
        for code in &codes {
            assert_eq!(code.len(), 14, "{code}");
            let groups: Vec<&str> = code.split('-').collect();
            assert_eq!(groups.len(), 3);
            assert!(
                groups
                    .iter()
                    .all(|g| g.len() == 4 && g.bytes().all(|b| RECOVERY_ALPHABET.contains(&b)))
            );
        }
        let mut unique = codes.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), codes.len());
        assert_ne!(codes, generate_recovery_codes());
    }

    #[test]
    fn recovery_code_hash_ignores_case_width_dashes_and_spaces() {
        let stored = hash_recovery_code("abcd-efgh-jk2m");
        assert_eq!(stored.len(), 64);
        assert!(
            stored
                .bytes()
                .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
        );
        // SHA-256("abcdefghjk2m").
        assert_eq!(
            stored,
            Sha256::digest(b"abcdefghjk2m")
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect::<String>()
        );
        for typed in [
            "ABCD EFGH JK2M",
            "ａｂｃｄ－ｅｆｇｈ－ｊｋ２ｍ",
            " abcdefghjk2m ",
        ] {
            assert_eq!(hash_recovery_code(typed), stored, "{typed}");
        }
        assert_ne!(hash_recovery_code("abcd-efgh-jk2n"), stored);
    }
}
