//! Writing a sheet: CSV in UTF-8 with a BOM (what Excel opens correctly), CSV in CP932
//! for older software (refused, naming the record and the character, when a character has
//! no CP932 code), and .xlsx.

use chrono::{Datelike, NaiveDate};

/// One cell.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    /// Written as text everywhere, so 090… and 〒 codes keep their leading zeros.
    Text(String),
    /// A date cell in .xlsx (shown yyyy-mm-dd), `YYYY-MM-DD` in CSV.
    Date(NaiveDate),
    Number(i64),
}

impl Cell {
    fn text(&self) -> String {
        match self {
            Cell::Text(t) => t.clone(),
            Cell::Date(d) => d.format("%Y-%m-%d").to_string(),
            Cell::Number(n) => n.to_string(),
        }
    }
}

/// One row, with what it is about for messages, as a sentence names it (「山田 はると」さん).
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    pub about: String,
    pub cells: Vec<Cell>,
}

/// A sheet: its name (the .xlsx tab), the headings, the rows.
#[derive(Debug, Clone, PartialEq)]
pub struct Sheet {
    pub name: String,
    pub header: Vec<String>,
    pub rows: Vec<Row>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WriteError {
    #[error(
        "{about}の{heading}にある「{character}」はShift_JISで表せません。UTF-8のCSVかExcel形式で出力してください"
    )]
    NotInCp932 {
        about: String,
        heading: String,
        character: char,
    },
    #[error("ファイルを作成できませんでした（{0}）")]
    Failed(String),
}

/// A cell a spreadsheet will not run as a formula (CSV injection): text starting with
/// = + - @, a tab or a carriage return (OWASP's list), or the full-width ＝＋－＠ that
/// Japanese input turns into formulas as well, gets a leading apostrophe.
pub fn formula_safe(text: &str) -> String {
    if text.starts_with(['=', '+', '-', '@', '\t', '\r', '＝', '＋', '－', '＠']) {
        format!("'{text}")
    } else {
        text.to_string()
    }
}

/// The characters that JIS X 0208 and Windows (CP932) give different Unicode code points —
/// the "wave dash problem". Text typed on a Mac or produced by our own labels (「3〜15点」)
/// uses the first; CP932 holds the same character under the second, so they are swapped
/// before encoding rather than refused. Nothing else is ever substituted.
const CP932_EQUIVALENTS: [(char, char); 6] = [
    ('\u{301C}', '\u{FF5E}'), // 〜 WAVE DASH → ～
    ('\u{2016}', '\u{2225}'), // ‖ → ∥
    ('\u{2212}', '\u{FF0D}'), // − MINUS SIGN → －
    ('\u{00A2}', '\u{FFE0}'), // ¢ → ￠
    ('\u{00A3}', '\u{FFE1}'), // £ → ￡
    ('\u{00AC}', '\u{FFE2}'), // ¬ → ￢
];

/// `text` with the JIS forms above replaced by their CP932 forms.
fn to_cp932_forms(text: &str) -> String {
    text.chars()
        .map(|c| {
            CP932_EQUIVALENTS
                .iter()
                .find(|(jis, _)| *jis == c)
                .map_or(c, |(_, windows)| *windows)
        })
        .collect()
}

/// The first character of `text` that CP932 cannot hold, if any.
fn unencodable_char(text: &str) -> Option<char> {
    let (_, _, had_errors) = encoding_rs::SHIFT_JIS.encode(text);
    if !had_errors {
        return None;
    }
    text.chars().find(|c| {
        let mut buf = [0u8; 4];
        encoding_rs::SHIFT_JIS.encode(c.encode_utf8(&mut buf)).2
    })
}

/// The CSV text, rows ended CRLF (RFC 4180), every cell through the formula guard; for
/// CP932, every cell checked first.
fn csv_text(sheet: &Sheet, cp932: bool) -> Result<String, WriteError> {
    let failed = |e: csv::Error| WriteError::Failed(e.to_string());
    let mut out = csv::WriterBuilder::new()
        .terminator(csv::Terminator::CRLF)
        .from_writer(Vec::new());
    out.write_record(&sheet.header).map_err(failed)?;
    for row in &sheet.rows {
        let texts: Vec<String> = row
            .cells
            .iter()
            .map(|c| {
                let text = formula_safe(&c.text());
                if cp932 { to_cp932_forms(&text) } else { text }
            })
            .collect();
        if cp932 {
            for (heading, text) in sheet.header.iter().zip(&texts) {
                if let Some(character) = unencodable_char(text) {
                    return Err(WriteError::NotInCp932 {
                        about: row.about.clone(),
                        heading: heading.clone(),
                        character,
                    });
                }
            }
        }
        out.write_record(&texts).map_err(failed)?;
    }
    let bytes = out
        .into_inner()
        .map_err(|e| WriteError::Failed(e.to_string()))?;
    String::from_utf8(bytes).map_err(|e| WriteError::Failed(e.to_string()))
}

/// CSV in UTF-8 with a BOM.
pub fn csv_utf8_bom(sheet: &Sheet) -> Result<Vec<u8>, WriteError> {
    let mut bytes = b"\xEF\xBB\xBF".to_vec();
    bytes.extend_from_slice(csv_text(sheet, false)?.as_bytes());
    Ok(bytes)
}

/// A character of a cell that CP932 cannot hold: whose row, which column, which character.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unencodable {
    pub about: String,
    pub heading: String,
    pub character: char,
}

/// Every character of the sheet that CP932 cannot hold (after the wave-dash forms are
/// swapped), once per cell and character, in row order.
pub fn cp932_problems(sheet: &Sheet) -> Vec<Unencodable> {
    let mut found = Vec::new();
    for row in &sheet.rows {
        for (heading, cell) in sheet.header.iter().zip(&row.cells) {
            let text = to_cp932_forms(&formula_safe(&cell.text()));
            let mut seen: Vec<char> = Vec::new();
            for c in text.chars() {
                let mut buf = [0u8; 4];
                if encoding_rs::SHIFT_JIS.encode(c.encode_utf8(&mut buf)).2 && !seen.contains(&c) {
                    seen.push(c);
                    found.push(Unencodable {
                        about: row.about.clone(),
                        heading: heading.clone(),
                        character: c,
                    });
                }
            }
        }
    }
    found
}

/// The 〓 (げた) that Japanese offices print for a character a code page lacks.
pub const GETA: char = '〓';

/// CSV in CP932 with each character it cannot hold written as 〓 (げた), the way Japanese
/// systems have always marked one; the caller lists which (`cp932_problems`).
pub fn csv_cp932_geta(sheet: &Sheet) -> Result<Vec<u8>, WriteError> {
    let mut replaced = sheet.clone();
    for row in &mut replaced.rows {
        for cell in &mut row.cells {
            if let Cell::Text(text) = cell {
                *text = to_cp932_forms(text)
                    .chars()
                    .map(|c| {
                        let mut buf = [0u8; 4];
                        if encoding_rs::SHIFT_JIS.encode(c.encode_utf8(&mut buf)).2 {
                            GETA
                        } else {
                            c
                        }
                    })
                    .collect();
            }
        }
    }
    csv_cp932(&replaced)
}

/// CSV in CP932, or the record and character it cannot hold (never a replacement: encoding_rs
/// would write `&#NNNN;` into the file).
pub fn csv_cp932(sheet: &Sheet) -> Result<Vec<u8>, WriteError> {
    let text = csv_text(sheet, true)?;
    let (bytes, _, had_errors) = encoding_rs::SHIFT_JIS.encode(&text);
    if had_errors {
        return Err(WriteError::Failed(
            "Shift_JISで表せない文字があります".into(),
        ));
    }
    Ok(bytes.into_owned())
}

/// One sheet: headings bold and frozen with a filter, dates as dates, text as text.
pub fn xlsx(sheet: &Sheet) -> Result<Vec<u8>, WriteError> {
    xlsx_book(sheet).map_err(|e| WriteError::Failed(e.to_string()))
}

fn xlsx_book(sheet: &Sheet) -> Result<Vec<u8>, rust_xlsxwriter::XlsxError> {
    use rust_xlsxwriter::{ExcelDateTime, Format, Workbook, XlsxError};
    let too_big = || XlsxError::ParameterError("too many rows or columns".into());
    let mut book = Workbook::new();
    let bold = Format::new().set_bold();
    let date = Format::new().set_num_format("yyyy-mm-dd");
    // Text cells stay text even when they look like numbers (leading zeros of phones and
    // postal codes): the "@" format, so a person retyping them keeps them too.
    let text = Format::new().set_num_format("@");
    let ws = book.add_worksheet();
    ws.set_name(&sheet.name)?;
    for (col, heading) in sheet.header.iter().enumerate() {
        let col = u16::try_from(col).map_err(|_| too_big())?;
        ws.write_string_with_format(0, col, heading, &bold)?;
        ws.set_column_width(col, if heading == "ID" { 12 } else { 16 })?;
    }
    for (i, row) in sheet.rows.iter().enumerate() {
        let r = u32::try_from(i + 1).map_err(|_| too_big())?;
        for (col, cell) in row.cells.iter().enumerate() {
            let col = u16::try_from(col).map_err(|_| too_big())?;
            match cell {
                Cell::Text(t) if t.is_empty() => {}
                Cell::Text(t) => {
                    ws.write_string_with_format(r, col, t, &text)?;
                }
                #[allow(
                    clippy::cast_precision_loss,
                    reason = "counts and scores, far below 2^53"
                )]
                Cell::Number(n) => {
                    ws.write_number(r, col, *n as f64)?;
                }
                Cell::Date(d) => {
                    let (Ok(y), Ok(m), Ok(day)) = (
                        u16::try_from(d.year()),
                        u8::try_from(d.month()),
                        u8::try_from(d.day()),
                    ) else {
                        continue;
                    };
                    let when = ExcelDateTime::from_ymd(y, m, day)?;
                    ws.write_datetime_with_format(r, col, &when, &date)?;
                }
            }
        }
    }
    ws.set_freeze_panes(1, 0)?;
    if let (Some(last_col), Ok(last_row)) = (
        sheet.header.len().checked_sub(1),
        u32::try_from(sheet.rows.len()),
    ) {
        ws.autofilter(
            0,
            0,
            last_row,
            u16::try_from(last_col).map_err(|_| too_big())?,
        )?;
    }
    book.save_to_buffer()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sheet(cells: Vec<Cell>) -> Sheet {
        Sheet {
            name: "児童の記録".into(),
            header: (0..cells.len()).map(|i| format!("列{i}")).collect(),
            rows: vec![Row {
                about: "「山田 はると」さん".into(),
                cells,
            }],
        }
    }

    #[test]
    fn shift_jis_coverage_is_cp932s() {
        // CP932's IBM extensions (髙, 﨑) are in encoding_rs's Shift_JIS; JIS X 0213-only
        // characters and emoji are not.
        assert_eq!(unencodable_char("髙橋 﨑山 ①"), None);
        assert_eq!(unencodable_char("𠮷野 はると"), Some('𠮷'));
        assert_eq!(unencodable_char("はると🙂"), Some('🙂'));
        // encoding_rs would write a numeric character reference: never let that through.
        assert_eq!(to_cp932_forms("3〜15点"), "3～15点");
        assert_eq!(unencodable_char(&to_cp932_forms("3〜15点 −1")), None);
        let (bytes, _, had_errors) = encoding_rs::SHIFT_JIS.encode("𠮷");
        assert!(had_errors && bytes.starts_with(b"&#"));
    }

    #[test]
    fn cp932_refuses_naming_the_record_the_column_and_the_character() {
        let err = csv_cp932(&sheet(vec![Cell::Text("𠮷野".into())])).unwrap_err();
        assert_eq!(
            err.to_string(),
            "「山田 はると」さんの列0にある「𠮷」はShift_JISで表せません。UTF-8のCSVかExcel形式で出力してください"
        );
        let ok = csv_cp932(&sheet(vec![Cell::Text("髙橋 3〜15点".into())])).unwrap();
        let (text, _, bad) = encoding_rs::SHIFT_JIS.decode(&ok);
        assert!(!bad && text.contains("髙橋 3～15点"), "{text}");
    }

    #[test]
    fn formulas_are_neutralised_and_rows_end_crlf() {
        let bytes = csv_utf8_bom(&sheet(vec![
            Cell::Text("=HYPERLINK(\"x\")".into()),
            Cell::Text("-1".into()),
            Cell::Text("@SUM(A1)".into()),
            Cell::Text("09012345678".into()),
        ]))
        .unwrap();
        let text = std::str::from_utf8(&bytes).unwrap();
        assert!(text.starts_with('\u{FEFF}'));
        assert!(
            text.contains("\"'=HYPERLINK(\"\"x\"\")\",'-1,'@SUM(A1),09012345678\r\n"),
            "{text}"
        );
    }

    #[test]
    fn xlsx_keeps_leading_zeros_as_text_and_dates_as_dates() {
        use calamine::{Data, Reader, Xlsx};
        let date = NaiveDate::from_ymd_opt(2021, 4, 1).unwrap();
        let bytes = xlsx(&sheet(vec![
            Cell::Text("0312345678".into()),
            Cell::Text("1730001".into()),
            Cell::Date(date),
            Cell::Number(32),
            Cell::Text("=1+1".into()),
        ]))
        .unwrap();
        let mut book = Xlsx::new(std::io::Cursor::new(bytes)).unwrap();
        let range = book.worksheet_range("児童の記録").unwrap();
        assert_eq!(range.get((1, 0)), Some(&Data::String("0312345678".into())));
        assert_eq!(range.get((1, 1)), Some(&Data::String("1730001".into())));
        assert!(matches!(range.get((1, 2)), Some(Data::DateTime(d)) if d.is_datetime()));
        assert_eq!(range.get((1, 3)), Some(&Data::Float(32.0)));
        // A string cell, never a formula.
        assert_eq!(range.get((1, 4)), Some(&Data::String("=1+1".into())));
    }
}
