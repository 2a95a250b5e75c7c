//! Multi-row INSERTs for the national data set: tens of thousands of rows in a few hundred
//! statements instead of one round trip each (which is what makes PostgreSQL slow).

use sqlx::AnyConnection;

use crate::config::Backend;
use crate::db::backend;

/// Bound parameters per statement. PostgreSQL: far under its 65,535, few round trips, and
/// no statement slow enough for sqlx to log it whole. SQLite: small, because sqlx looks up
/// each parameter's name with `sqlite3_bind_parameter_name`, a linear scan, so binding one
/// statement costs O(parameters²) (with 6,000 parameters that was 57 % of the time).
fn max_params(backend: Backend) -> usize {
    match backend {
        Backend::Sqlite => 200,
        Backend::Postgres => 6_000,
    }
}

/// One bound value.
pub enum Val {
    Text(String),
    OptText(Option<String>),
    Int(i64),
    OptInt(Option<i64>),
    Flag(bool),
}

impl From<String> for Val {
    fn from(v: String) -> Self {
        Val::Text(v)
    }
}

impl From<&str> for Val {
    fn from(v: &str) -> Self {
        Val::Text(v.to_string())
    }
}

impl From<Option<String>> for Val {
    fn from(v: Option<String>) -> Self {
        Val::OptText(v)
    }
}

impl From<i64> for Val {
    fn from(v: i64) -> Self {
        Val::Int(v)
    }
}

impl From<Option<i64>> for Val {
    fn from(v: Option<i64>) -> Self {
        Val::OptInt(v)
    }
}

impl From<bool> for Val {
    fn from(v: bool) -> Self {
        Val::Flag(v)
    }
}

/// Rows waiting for one table; written when enough have gathered and at [`Batch::flush`].
pub struct Batch {
    head: &'static str,
    columns: usize,
    max_params: usize,
    values: Vec<Val>,
    pub rows_written: u64,
}

impl Batch {
    /// `head` is `INSERT INTO table (a, b, c)`: a constant, never built from data.
    pub fn new(head: &'static str, columns: usize, backend: Backend) -> Batch {
        Batch {
            head,
            columns,
            max_params: max_params(backend),
            values: Vec::new(),
            rows_written: 0,
        }
    }

    fn rows_per_statement(&self) -> usize {
        (self.max_params / self.columns).max(1)
    }

    /// Adds one row (exactly `columns` values). Nothing is written before [`Batch::flush`],
    /// so the caller decides the order in which tables are written (foreign keys).
    pub fn push(&mut self, row: Vec<Val>) {
        debug_assert_eq!(row.len(), self.columns, "{}", self.head);
        self.values.extend(row);
    }

    pub fn pending_rows(&self) -> usize {
        self.values.len() / self.columns
    }

    /// Writes every pending row, in statements of at most [`max_params`] parameters.
    pub async fn flush(&mut self, conn: &mut AnyConnection) -> Result<(), sqlx::Error> {
        let per_statement = self.rows_per_statement() * self.columns;
        while !self.values.is_empty() {
            let take = per_statement.min(self.values.len());
            let rows = take / self.columns;
            // Only the constant head and generated `$n` placeholders are in the SQL; every
            // value is bound.
            let sql = format!(
                "{} VALUES {}",
                self.head,
                backend::placeholder_rows(rows, self.columns)
            );
            let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
            for value in self.values.drain(..take) {
                query = match value {
                    Val::Text(v) => query.bind(v),
                    Val::OptText(v) => query.bind(v),
                    Val::Int(v) => query.bind(v),
                    Val::OptInt(v) => query.bind(v),
                    Val::Flag(v) => query.bind(v),
                };
            }
            query.execute(&mut *conn).await?;
            self.rows_written += rows as u64;
        }
        Ok(())
    }
}
