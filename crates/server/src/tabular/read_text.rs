//! CSV files: the encoding detected, then rows of text within the limits.

use super::{Deadline, Grid, Limits, ReadError};

/// The text of a CSV file: UTF-8 (BOM or not), else CP932 without a single error.
pub fn decode_text(bytes: &[u8]) -> Result<String, ReadError> {
    let text = if let Some(rest) = bytes.strip_prefix(b"\xEF\xBB\xBF") {
        std::str::from_utf8(rest)
            .map_err(|_| ReadError::Unreadable)?
            .to_string()
    } else if let Ok(text) = std::str::from_utf8(bytes) {
        text.to_string()
    } else {
        encoding_rs::SHIFT_JIS
            .decode_without_bom_handling_and_without_replacement(bytes)
            .ok_or(ReadError::Unreadable)?
            .into_owned()
    };
    // Binary files that happen to decode still hold control characters.
    if text
        .chars()
        .any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
    {
        return Err(ReadError::Unreadable);
    }
    Ok(text)
}

pub(super) fn read_csv(
    text: &str,
    limits: &Limits,
    deadline: &Deadline,
) -> Result<Grid, ReadError> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(text.as_bytes());
    let mut grid = Vec::new();
    for (i, record) in reader.records().enumerate() {
        if i.is_multiple_of(1024) {
            deadline.check()?;
        }
        let record = record.map_err(|_| ReadError::Unreadable)?;
        if record.len() > limits.max_columns {
            return Err(ReadError::TooManyColumns(limits.max_columns));
        }
        if record.iter().all(|c| c.trim().is_empty()) {
            continue;
        }
        if grid.len() >= limits.max_rows {
            return Err(ReadError::TooManyRows(limits.max_rows - 1));
        }
        let line = record
            .position()
            .and_then(|p| usize::try_from(p.byte()).ok())
            .and_then(|byte| line_at(text, byte))
            .unwrap_or(i + 1);
        grid.push((line, record.iter().map(str::to_string).collect()));
    }
    Ok(grid)
}

/// The line a record starts on, as an editor numbers it, from the byte where the reader
/// says it starts: the reader skips empty lines without counting them, and its position
/// may stand before them.
fn line_at(text: &str, byte: usize) -> Option<usize> {
    let before = text.get(..byte)?.matches('\n').count();
    let blank = text
        .get(byte..)?
        .bytes()
        .take_while(|b| matches!(b, b'\n' | b'\r'))
        .filter(|b| *b == b'\n')
        .count();
    Some(before + blank + 1)
}
