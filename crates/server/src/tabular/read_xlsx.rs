//! .xlsx files. Every part of the archive is first unzipped through a counting reader
//! and its XML walked as a stream, so sizes, compression ratio, nesting, shared strings
//! and cells are known before the workbook is opened (calamine reserves memory by what a
//! file declares). The first sheet is then read cell by cell, keeping only cells with
//! content within the limits: a sheet that declares a huge dimension or a cell far away
//! allocates nothing.

use std::collections::BTreeMap;
use std::io::{BufReader, Cursor, Read};

use calamine::{DataRef, Reader, Xlsx};
use quick_xml::events::Event;

use super::{Deadline, Grid, Limits, ReadError};

/// Parts over this size are held to the compression ratio limit (small parts compress
/// oddly without meaning anything).
const RATIO_FROM_BYTES: u64 = 1024 * 1024;

/// Counts what passes through and stops at the cap, or as soon as the part has unzipped to
/// more than `max_ratio` times its zipped size (the ratio only grows while reading, so a
/// bomb is stopped early, not after it has been unzipped whole).
struct Capped<R> {
    inner: R,
    read: u64,
    cap: u64,
    zipped: u64,
    max_ratio: u64,
    over_ratio: bool,
}

impl<R: Read> Read for Capped<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.read > self.cap || self.over_ratio {
            return Err(std::io::Error::other("limit reached"));
        }
        let n = self.inner.read(buf)?;
        self.read += n as u64;
        if self.read > RATIO_FROM_BYTES && self.read / self.zipped.max(1) > self.max_ratio {
            self.over_ratio = true;
        }
        Ok(n)
    }
}

pub(super) fn read(bytes: &[u8], limits: &Limits, deadline: &Deadline) -> Result<Grid, ReadError> {
    check_parts(bytes, limits, deadline)?;
    read_first_sheet(bytes, limits, deadline)
}

/// Unzips every part once, counting, and walks the XML ones.
fn check_parts(bytes: &[u8], limits: &Limits, deadline: &Deadline) -> Result<(), ReadError> {
    let mut archive =
        zip::ZipArchive::new(Cursor::new(bytes)).map_err(|_| ReadError::Unreadable)?;
    let mut unzipped_total: u64 = 0;
    for index in 0..archive.len() {
        deadline.check()?;
        let part = archive.by_index(index).map_err(|_| ReadError::Unreadable)?;
        if part.is_dir() {
            continue;
        }
        let name = part.name().map_err(|_| ReadError::Unreadable)?.into_owned();
        let zipped = part.compressed_size();
        // The declared size is a first filter; the count below is what holds.
        if part.size() > limits.max_unzipped_bytes {
            return Err(ReadError::TooLargeUnzipped(limits.max_unzipped_bytes));
        }
        let remaining = limits.max_unzipped_bytes.saturating_sub(unzipped_total);
        let mut capped = Capped {
            inner: part,
            read: 0,
            cap: remaining,
            zipped,
            max_ratio: limits.max_ratio,
            over_ratio: false,
        };
        let walked = if name.ends_with(".xml") || name.ends_with(".rels") {
            walk_xml(&mut capped, &name, limits, deadline)
        } else {
            std::io::copy(&mut capped, &mut std::io::sink())
                .map(|_| ())
                .map_err(|_| ReadError::Unreadable)
        };
        if capped.over_ratio {
            return Err(ReadError::CompressionRatio(limits.max_ratio));
        }
        if capped.read > remaining {
            return Err(ReadError::TooLargeUnzipped(limits.max_unzipped_bytes));
        }
        walked?;
        unzipped_total += capped.read;
    }
    Ok(())
}

/// Walks one XML part as a stream: nesting, shared strings (declared and actual) and
/// cells (declared, empty or not) against the limits.
fn walk_xml(
    part: &mut impl Read,
    name: &str,
    limits: &Limits,
    deadline: &Deadline,
) -> Result<(), ReadError> {
    let shared_strings = name.ends_with("sharedStrings.xml");
    let mut xml = quick_xml::Reader::from_reader(BufReader::new(part));
    let mut buf = Vec::new();
    let (mut depth, mut strings, mut cells, mut events) = (0usize, 0usize, 0usize, 0u64);
    loop {
        events += 1;
        if events.is_multiple_of(4096) {
            deadline.check()?;
        }
        buf.clear();
        let event = xml
            .read_event_into(&mut buf)
            .map_err(|_| ReadError::Unreadable)?;
        let element = match &event {
            Event::Start(e) => {
                depth += 1;
                if depth > limits.max_depth {
                    return Err(ReadError::TooDeep(limits.max_depth));
                }
                Some(e)
            }
            Event::Empty(e) => Some(e),
            Event::End(_) => {
                depth = depth.saturating_sub(1);
                None
            }
            Event::Eof => return Ok(()),
            _ => None,
        };
        let Some(element) = element else { continue };
        match element.local_name().as_ref() {
            "sst" if shared_strings => {
                for attribute in ["uniqueCount", "count"] {
                    let declared = element
                        .try_get_attribute(attribute)
                        .map_err(|_| ReadError::Unreadable)?
                        .and_then(|a| a.value.trim().parse::<u64>().ok());
                    if declared.is_some_and(|n| n > limits.max_shared_strings as u64) {
                        return Err(ReadError::TooManySharedStrings(limits.max_shared_strings));
                    }
                }
            }
            "si" if shared_strings => {
                strings += 1;
                if strings > limits.max_shared_strings {
                    return Err(ReadError::TooManySharedStrings(limits.max_shared_strings));
                }
            }
            "c" => {
                cells += 1;
                if cells > limits.max_cells {
                    return Err(ReadError::TooManyCells(limits.max_cells));
                }
            }
            _ => {}
        }
    }
}

/// The first sheet, cell by cell: only cells with content are kept, each within the
/// row and column limits.
fn read_first_sheet(bytes: &[u8], limits: &Limits, deadline: &Deadline) -> Result<Grid, ReadError> {
    let mut book = Xlsx::new(Cursor::new(bytes)).map_err(|_| ReadError::Unreadable)?;
    let first = book
        .sheet_names()
        .first()
        .cloned()
        .ok_or(ReadError::NoSheet)?;
    let mut cells = book
        .worksheet_cells_reader(&first)
        .map_err(|_| ReadError::Unreadable)?;
    let mut rows: BTreeMap<u32, Vec<(u32, String)>> = BTreeMap::new();
    let mut seen: u64 = 0;
    while let Some(cell) = cells.next_cell().map_err(|_| ReadError::Unreadable)? {
        seen += 1;
        if seen.is_multiple_of(4096) {
            deadline.check()?;
        }
        let text = text_of(cell.get_value());
        if text.trim().is_empty() {
            continue;
        }
        let (row, col) = cell.get_position();
        if col as usize >= limits.max_columns {
            return Err(ReadError::TooManyColumns(limits.max_columns));
        }
        if !rows.contains_key(&row) && rows.len() >= limits.max_rows {
            return Err(ReadError::TooManyRows(limits.max_rows - 1));
        }
        rows.entry(row).or_default().push((col, text));
    }
    Ok(rows
        .into_iter()
        .map(|(row, mut cells)| {
            cells.sort_by_key(|(col, _)| *col);
            // Columns keep their sheet positions (A is 0) up to the last one used.
            let width = cells.last().map_or(0, |(col, _)| *col as usize + 1);
            let mut line = vec![String::new(); width];
            for (col, text) in cells {
                if let Some(slot) = line.get_mut(col as usize) {
                    *slot = text;
                }
            }
            (row as usize + 1, line)
        })
        .collect())
}

/// A cell's value as the text a person typed: whole numbers without `.0`, dates as
/// `YYYY-MM-DD`.
fn text_of(value: &DataRef<'_>) -> String {
    match value {
        DataRef::Empty => String::new(),
        DataRef::String(s) | DataRef::DateTimeIso(s) | DataRef::DurationIso(s) => s.clone(),
        DataRef::SharedString(s) => (*s).to_string(),
        DataRef::Int(n) => n.to_string(),
        #[allow(clippy::cast_possible_truncation, reason = "a whole number below 1e15")]
        DataRef::Float(f) if f.fract() == 0.0 && f.abs() < 1e15 => format!("{}", *f as i64),
        DataRef::Float(f) => f.to_string(),
        DataRef::Bool(b) => b.to_string(),
        DataRef::DateTime(dt) if dt.is_datetime() => {
            let (y, m, d, ..) = dt.to_ymd_hms_milli();
            format!("{y:04}-{m:02}-{d:02}")
        }
        DataRef::DateTime(dt) => dt.as_f64().to_string(),
        DataRef::Error(e) => format!("#{e}"),
    }
}
