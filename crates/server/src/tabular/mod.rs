//! Spreadsheets in and out, for every capability: reading CSV (UTF-8 with or without BOM,
//! or CP932, detected) and .xlsx into a grid of text with hard limits checked before
//! anything large is allocated, off the async workers; writing CSV (UTF-8 with BOM, or
//! strict CP932 that names the record and character it cannot hold) and .xlsx, with the
//! formula-injection guard and text cells that keep leading zeros. [`upload`] holds what
//! every import of an uploaded sheet shares: the upload form, column mapping and keeping the
//! table between the dry run and the commit.

mod read_text;
mod read_xlsx;
pub mod upload;
mod write;

use std::time::{Duration, Instant};

pub use read_text::decode_text;
pub use write::{
    Cell, GETA, Row, Sheet, Unencodable, WriteError, cp932_problems, csv_cp932, csv_cp932_geta,
    csv_utf8_bom, formula_safe, xlsx,
};

/// Rows of text cells with their row numbers in the file (1-based, as a spreadsheet shows
/// them); rows with nothing in them are left out.
pub type Grid = Vec<(usize, Vec<String>)>;

/// What an uploaded file may hold. Each limit is checked before the memory it guards is
/// taken, and a refusal names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// The file itself.
    pub max_file_bytes: usize,
    /// Rows with content (the heading row included).
    pub max_rows: usize,
    /// Columns of any row.
    pub max_columns: usize,
    /// Cells the sheet declares (.xlsx), empty or not.
    pub max_cells: usize,
    /// All parts of an .xlsx, unzipped.
    pub max_unzipped_bytes: u64,
    /// Unzipped size over zipped size, for parts over 1 MiB.
    pub max_ratio: u64,
    /// Shared strings of an .xlsx.
    pub max_shared_strings: usize,
    /// Nesting of XML elements.
    pub max_depth: usize,
    /// Time for the whole reading.
    pub max_duration: Duration,
}

impl Limits {
    /// Limits for a list of people or places uploaded by staff: `max_rows` data rows.
    pub const fn for_rows(max_file_bytes: usize, max_rows: usize, max_columns: usize) -> Self {
        Self {
            max_file_bytes,
            max_rows: max_rows + 1,
            max_columns,
            max_cells: 2_000_000,
            max_unzipped_bytes: 64 * 1024 * 1024,
            max_ratio: 100,
            max_shared_strings: 1_000_000,
            max_depth: 64,
            max_duration: Duration::from_secs(10),
        }
    }
}

/// Why a file is not read. Each message is Japanese and names the limit.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReadError {
    #[error(
        "ファイルを読み取れませんでした。CSV（UTF-8 または Shift_JIS）か Excel（.xlsx）形式で保存したファイルを選んでください"
    )]
    Unreadable,
    #[error("ファイルが大きすぎます（{} MBまで）。ファイルを分けて取り込んでください", .0 / (1024 * 1024))]
    TooLarge(usize),
    #[error("行が多すぎます。1回に取り込めるのは{0}行までです。ファイルを分けて取り込んでください")]
    TooManyRows(usize),
    #[error("列が多すぎます（{0}列まで）")]
    TooManyColumns(usize),
    #[error(
        "Excelファイルのセルが多すぎます（{0}個まで）。不要な行や列を削除してから保存し直してください"
    )]
    TooManyCells(usize),
    #[error(
        "Excelファイルの展開後の大きさが上限（{} MB）を超えています。不要なシートや書式を削除してから保存し直してください",
        .0 / (1024 * 1024)
    )]
    TooLargeUnzipped(u64),
    #[error(
        "Excelファイルの圧縮率が異常に高いため読み取りません（展開後は元の{0}倍まで）。ファイルを作り直してください"
    )]
    CompressionRatio(u64),
    #[error("Excelファイルの文字列が多すぎます（{0}個まで）")]
    TooManySharedStrings(usize),
    #[error("Excelファイルの構造が深すぎるため読み取れません（入れ子{0}段まで）")]
    TooDeep(usize),
    #[error(
        "ファイルの読み取りに時間がかかりすぎたため中止しました（{0}秒まで）。ファイルを分けて取り込んでください"
    )]
    TooSlow(u64),
    #[error("Excelファイルにシートがありません")]
    NoSheet,
}

/// A point in time after which reading stops.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Deadline {
    at: Instant,
    limit: Duration,
}

impl Deadline {
    fn new(limit: Duration) -> Self {
        Self {
            at: Instant::now() + limit,
            limit,
        }
    }

    pub(crate) fn check(&self) -> Result<(), ReadError> {
        if Instant::now() >= self.at {
            Err(ReadError::TooSlow(self.limit.as_secs()))
        } else {
            Ok(())
        }
    }
}

/// Reads an uploaded file: .xlsx by its zip signature, otherwise CSV in UTF-8 (with or
/// without BOM) or, when not valid UTF-8, CP932. Runs on the calling thread: use
/// [`read_off_workers`] from a request.
pub fn read(bytes: &[u8], limits: &Limits) -> Result<Grid, ReadError> {
    if bytes.len() > limits.max_file_bytes {
        return Err(ReadError::TooLarge(limits.max_file_bytes));
    }
    let deadline = Deadline::new(limits.max_duration);
    if bytes.starts_with(b"PK\x03\x04") {
        read_xlsx::read(bytes, limits, &deadline)
    } else {
        read_text::read_csv(&decode_text(bytes)?, limits, &deadline)
    }
}

/// [`read`] on the blocking pool, so a slow or hostile file never holds an async worker
/// (other requests and `/healthz` go on), and given up after the time limit. A panic in a
/// parser is an unreadable file, not a crashed request.
pub async fn read_off_workers(bytes: Vec<u8>, limits: Limits) -> Result<Grid, ReadError> {
    let task = tokio::task::spawn_blocking(move || read(&bytes, &limits));
    // The reader checks the same deadline itself and stops; this bounds the wait regardless.
    let grace = limits.max_duration + Duration::from_secs(1);
    match tokio::time::timeout(grace, task).await {
        Ok(Ok(result)) => result,
        Ok(Err(_panicked)) => Err(ReadError::Unreadable),
        Err(_elapsed) => Err(ReadError::TooSlow(limits.max_duration.as_secs())),
    }
}

/// A sheet as a download: .xlsx, or CSV in UTF-8 with a BOM, named `{name}.xlsx|csv` in
/// Japanese with `{fallback}.xlsx|csv` for older clients.
pub fn download(
    sheet: &Sheet,
    xlsx: bool,
    fallback: &str,
    name: &str,
) -> Result<axum::response::Response, crate::error::AppError> {
    use axum::http::header;
    use axum::response::IntoResponse;
    let failed = |e: WriteError| crate::error::AppError::Internal(e.to_string());
    let (bytes, kind, suffix) = if xlsx {
        (
            self::xlsx(sheet).map_err(failed)?,
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            "xlsx",
        )
    } else {
        (
            csv_utf8_bom(sheet).map_err(failed)?,
            "text/csv; charset=utf-8",
            "csv",
        )
    };
    Ok((
        [
            (header::CONTENT_TYPE, kind.to_string()),
            (
                header::CONTENT_DISPOSITION,
                attachment(&format!("{fallback}.{suffix}"), &format!("{name}.{suffix}")),
            ),
        ],
        bytes,
    )
        .into_response())
}

/// A `Content-Disposition` for a download named in Japanese, with an ASCII `fallback` for
/// older clients (RFC 6266 `filename*`).
pub fn attachment(fallback: &str, name: &str) -> String {
    let encoded = percent_encoding::utf8_percent_encode(name, percent_encoding::NON_ALPHANUMERIC);
    format!("attachment; filename=\"{fallback}\"; filename*=UTF-8''{encoded}")
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIMITS: Limits = Limits::for_rows(1024 * 1024, 3, 4);

    #[test]
    fn csv_within_the_limits_is_read_and_blank_rows_are_left_out() {
        let grid = read("氏名,ふりがな\n\n山田,やまだ\n,\n".as_bytes(), &LIMITS).unwrap();
        assert_eq!(
            grid,
            vec![
                (1, vec!["氏名".to_string(), "ふりがな".to_string()]),
                (3, vec!["山田".to_string(), "やまだ".to_string()]),
            ]
        );
    }

    #[test]
    fn each_limit_is_named_when_crossed() {
        assert_eq!(
            read("a\nb\nc\nd\ne\n".as_bytes(), &LIMITS),
            Err(ReadError::TooManyRows(3))
        );
        assert_eq!(
            read("a,b,c,d,e\n".as_bytes(), &LIMITS),
            Err(ReadError::TooManyColumns(4))
        );
        let small = Limits::for_rows(4, 3, 4);
        assert_eq!(read(b"12345", &small), Err(ReadError::TooLarge(4)));
        let no_time = Limits {
            max_duration: Duration::ZERO,
            ..LIMITS
        };
        assert_eq!(read(b"a\n", &no_time), Err(ReadError::TooSlow(0)));
        assert_eq!(
            ReadError::TooManyRows(5000).to_string(),
            "行が多すぎます。1回に取り込めるのは5000行までです。ファイルを分けて取り込んでください"
        );
        assert_eq!(
            read(b"PK\x03\x04truncated", &LIMITS),
            Err(ReadError::Unreadable)
        );
    }

    /// A workbook of `rows` × 3 text cells, written by this module.
    fn workbook(rows: usize) -> Vec<u8> {
        xlsx(&Sheet {
            name: "名簿".into(),
            header: vec!["氏名".into(), "ふりがな".into(), "電話".into()],
            rows: (0..rows)
                .map(|i| Row {
                    about: format!("{i}"),
                    cells: vec![
                        Cell::Text(format!("山田 {i}")),
                        Cell::Text("やまだ".into()),
                        Cell::Text(format!("0312345{i:03}")),
                    ],
                })
                .collect(),
        })
        .unwrap()
    }

    #[test]
    fn an_xlsx_is_read_with_its_leading_zeros_and_held_to_its_cell_and_row_limits() {
        let limits = Limits::for_rows(1024 * 1024, 10, 4);
        let grid = read(&workbook(3), &limits).unwrap();
        assert_eq!(grid.len(), 4);
        assert_eq!(grid[0].1, vec!["氏名", "ふりがな", "電話"]);
        assert_eq!(
            grid[1],
            (
                2,
                vec!["山田 0".into(), "やまだ".into(), "0312345000".into()]
            )
        );
        assert_eq!(
            read(&workbook(11), &limits),
            Err(ReadError::TooManyRows(10))
        );
        let few_cells = Limits {
            max_cells: 20,
            ..limits
        };
        assert_eq!(
            read(&workbook(8), &few_cells),
            Err(ReadError::TooManyCells(20))
        );
        let narrow = Limits::for_rows(1024 * 1024, 10, 2);
        assert_eq!(
            read(&workbook(1), &narrow),
            Err(ReadError::TooManyColumns(2))
        );
    }

    #[tokio::test]
    async fn reading_off_the_workers_gives_the_same_answer() {
        let grid = read_off_workers(b"a,b\n".to_vec(), LIMITS).await.unwrap();
        assert_eq!(grid, vec![(1, vec!["a".to_string(), "b".to_string()])]);
        assert_eq!(
            read_off_workers(vec![0xFF, 0xFE, 0x00], LIMITS).await,
            Err(ReadError::Unreadable)
        );
    }
}
