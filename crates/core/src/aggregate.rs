//! Counts of children shown to people who may not see the records behind them. A town
//! with two children on a ventilator must not publish who they are: a count of 1 or 2 is
//! shown as 「2人以下」 unless the viewer may read those records anyway.

/// The largest count that is suppressed (1 up to this).
pub const SMALL_CELL_MAX: i64 = 2;
/// Where the rule comes from and when it was set.
pub const SMALL_CELL_SOURCE: &str = "公的統計の秘匿処理で一般的な最小度数の考え方（度数1・2のセルを秘匿）に合わせ、tsunaguの集計で統一して適用";
pub const SMALL_CELL_REVISED: &str = "2026-12-07";

/// One count as a viewer may see it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cell {
    /// The count itself.
    Count(i64),
    /// 1 to [`SMALL_CELL_MAX`], not shown.
    Few,
    /// The viewer's aggregates do not reach these records.
    OutOfReach,
}

impl Cell {
    /// The count as `viewer` may see it: `reach` whether their aggregates cover the
    /// records, `see_records` whether they may read every record counted.
    pub fn of(count: i64, reach: bool, see_records: bool) -> Cell {
        if !reach {
            Cell::OutOfReach
        } else if !see_records && (1..=SMALL_CELL_MAX).contains(&count) {
            Cell::Few
        } else {
            Cell::Count(count)
        }
    }

    /// In words, with the unit.
    pub fn label_ja(self) -> String {
        match self {
            Cell::Count(n) => format!("{n}人"),
            Cell::Few => format!("{SMALL_CELL_MAX}人以下"),
            Cell::OutOfReach => "—".to_string(),
        }
    }

    /// The figure for a spreadsheet: the number, or the words in its place.
    pub fn number(self) -> Option<i64> {
        match self {
            Cell::Count(n) => Some(n),
            _ => None,
        }
    }

    pub fn is_zero(self) -> bool {
        self == Cell::Count(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_and_two_are_hidden_unless_the_viewer_may_see_the_records() {
        assert_eq!(Cell::of(0, true, false), Cell::Count(0));
        assert_eq!(Cell::of(1, true, false), Cell::Few);
        assert_eq!(Cell::of(2, true, false), Cell::Few);
        assert_eq!(Cell::of(3, true, false), Cell::Count(3));
        assert_eq!(Cell::of(2, true, true), Cell::Count(2));
        assert_eq!(Cell::of(5, false, true), Cell::OutOfReach);
        assert_eq!(Cell::Few.label_ja(), "2人以下");
        assert_eq!(Cell::of(2, true, false).number(), None);
    }
}
