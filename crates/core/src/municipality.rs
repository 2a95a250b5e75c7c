//! 全国地方公共団体コード (JIS X 0402): 2-digit prefecture, 3 digits, check digit.

use std::fmt;

use serde::{Serialize, Serializer};

/// A municipality (or prefecture) code whose check digit is known to be right.
/// Always held in its 6-digit form.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct MunicipalityCode([u8; 6]);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MunicipalityCodeError {
    #[error("団体コードは5桁または6桁の数字で入力してください（入力: {0}）")]
    Malformed(String),
    /// The message names no "right" digit: a mistyped code with its check digit mended
    /// is another town's code (131189 is not a 板橋区 typo of 131188, it is not a code).
    #[error(
        "団体コード {given} の検査数字（6桁目）が正しくありません。コードを確かめてください（検査数字のない5桁でも入力できます）"
    )]
    WrongCheckDigit { given: String },
    #[error("都道府県コード {0:02} は存在しません（01〜47）")]
    UnknownPrefecture(u8),
}

impl MunicipalityCode {
    /// Parses a 6-digit code (check digit verified) or a 5-digit code (check digit computed).
    /// Surrounding white space and full-width digits are accepted, since codes are often
    /// pasted from Excel sheets typed in Japanese input mode.
    pub fn parse(input: &str) -> Result<Self, MunicipalityCodeError> {
        let digits: Vec<u8> = input
            .trim()
            .chars()
            .map(|c| match c {
                '0'..='9' => Some(c as u8 - b'0'),
                '０'..='９' => Some((c as u32 - '０' as u32) as u8),
                _ => None,
            })
            .collect::<Option<Vec<u8>>>()
            .ok_or_else(|| MunicipalityCodeError::Malformed(input.to_string()))?;
        if digits.len() != 5 && digits.len() != 6 {
            return Err(MunicipalityCodeError::Malformed(input.to_string()));
        }
        let prefecture = digits[0] * 10 + digits[1];
        if !(1..=47).contains(&prefecture) {
            return Err(MunicipalityCodeError::UnknownPrefecture(prefecture));
        }
        let expected = check_digit([digits[0], digits[1], digits[2], digits[3], digits[4]]);
        if digits.len() == 6 && digits[5] != expected {
            return Err(MunicipalityCodeError::WrongCheckDigit {
                given: input.trim().to_string(),
            });
        }
        Ok(Self([
            digits[0], digits[1], digits[2], digits[3], digits[4], expected,
        ]))
    }

    /// The 2-digit prefecture number, 1 to 47.
    pub fn prefecture_number(&self) -> u8 {
        self.0[0] * 10 + self.0[1]
    }

    /// The prefecture's own code (e.g. 東京都 130001).
    pub fn prefecture_code(&self) -> MunicipalityCode {
        let d = [self.0[0], self.0[1], 0, 0, 0];
        MunicipalityCode([d[0], d[1], 0, 0, 0, check_digit(d)])
    }

    /// True for the code of a prefecture itself (last four digits before the check are 0).
    pub fn is_prefecture(&self) -> bool {
        self.0[2..5] == [0, 0, 0]
    }

    /// The 5-digit form without the check digit, as some statistics tables use.
    pub fn five_digit(&self) -> String {
        self.0[..5].iter().map(|d| char::from(b'0' + d)).collect()
    }
}

impl fmt::Display for MunicipalityCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for d in self.0 {
            write!(f, "{d}")?;
        }
        Ok(())
    }
}

impl Serialize for MunicipalityCode {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl std::str::FromStr for MunicipalityCode {
    type Err = MunicipalityCodeError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

/// Check = (11 − (6·d1 + 5·d2 + 4·d3 + 3·d4 + 2·d5) mod 11) mod 10.
fn check_digit(d: [u8; 5]) -> u8 {
    let sum: u32 = d
        .iter()
        .zip([6u32, 5, 4, 3, 2])
        .map(|(&digit, weight)| u32::from(digit) * weight)
        .sum();
    ((11 - sum % 11) % 10) as u8
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn published_examples_verify() {
        for code in ["131016", "131199", "412066", "011002", "130001"] {
            assert_eq!(MunicipalityCode::parse(code).unwrap().to_string(), code);
        }
    }

    #[test]
    fn five_digits_get_their_check_digit() {
        assert_eq!(
            MunicipalityCode::parse("13119").unwrap().to_string(),
            "131199"
        );
        assert_eq!(
            MunicipalityCode::parse("01100").unwrap().to_string(),
            "011002"
        );
        assert_eq!(
            MunicipalityCode::parse("13119").unwrap().five_digit(),
            "13119"
        );
    }

    #[test]
    fn wrong_check_digit_is_refused_without_suggesting_another_towns_code() {
        let err = MunicipalityCode::parse("131190").unwrap_err();
        assert_eq!(
            err,
            MunicipalityCodeError::WrongCheckDigit {
                given: "131190".into(),
            }
        );
        let message = err.to_string();
        assert!(message.contains("検査数字"));
        assert!(!message.contains("131199"), "{message}");
        assert!(!message.contains("正しくは"), "{message}");
        // 131189 (a typo of 板橋区 131199) answers without pointing to a digit.
        let typo = MunicipalityCode::parse("131189").unwrap_err().to_string();
        assert!(!typo.contains("正しくは"), "{typo}");
    }

    #[test]
    fn malformed_input_is_refused() {
        for bad in ["", "1311", "1311990", "13119a", "13-119", "１３１１９９x"] {
            assert!(
                matches!(
                    MunicipalityCode::parse(bad),
                    Err(MunicipalityCodeError::Malformed(_))
                ),
                "{bad:?} should be malformed"
            );
        }
        assert_eq!(
            MunicipalityCode::parse("481001"),
            Err(MunicipalityCodeError::UnknownPrefecture(48))
        );
        assert_eq!(
            MunicipalityCode::parse("001007"),
            Err(MunicipalityCodeError::UnknownPrefecture(0))
        );
    }

    #[test]
    fn full_width_digits_and_spaces_are_accepted() {
        assert_eq!(
            MunicipalityCode::parse(" １３１１９９ ")
                .unwrap()
                .to_string(),
            "131199"
        );
    }

    #[test]
    fn prefecture_of_a_ward() {
        let itabashi = MunicipalityCode::parse("131199").unwrap();
        assert_eq!(itabashi.prefecture_number(), 13);
        assert_eq!(itabashi.prefecture_code().to_string(), "130001");
        assert!(!itabashi.is_prefecture());
        assert!(itabashi.prefecture_code().is_prefecture());
    }

    #[test]
    fn every_five_digit_code_round_trips() {
        // Exhaustive over one prefecture: the computed digit always verifies.
        for n in 0..1000u32 {
            let five = format!("13{n:03}");
            let code = MunicipalityCode::parse(&five).unwrap();
            assert_eq!(MunicipalityCode::parse(&code.to_string()).unwrap(), code);
            for wrong in 0..10u8 {
                let six = format!("{five}{wrong}");
                if six != code.to_string() {
                    assert!(MunicipalityCode::parse(&six).is_err());
                }
            }
        }
    }
}
