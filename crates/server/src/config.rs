//! Where the database lives and how the server listens. Parsed once at start-up.

use std::net::SocketAddr;
use std::path::PathBuf;

use crate::error::StartupError;

/// The two backends tsunagu supports, told apart by the URL scheme.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    pub fn name(self) -> &'static str {
        match self {
            Backend::Sqlite => "SQLite",
            Backend::Postgres => "PostgreSQL",
        }
    }
}

/// A database URL whose scheme is known. An unknown scheme is refused here,
/// before anything could create an empty SQLite file by accident.
#[derive(Debug, Clone)]
pub struct DatabaseUrl {
    backend: Backend,
    url: String,
}

pub const DEFAULT_DATABASE_URL: &str = "sqlite://./data/tsunagu.db";
pub const DEFAULT_LISTEN: &str = "127.0.0.1:8080";

impl DatabaseUrl {
    pub fn parse(url: &str) -> Result<Self, StartupError> {
        let url = url.trim();
        let backend = if url.starts_with("sqlite:") {
            Backend::Sqlite
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Backend::Postgres
        } else {
            return Err(StartupError::UnknownDatabaseScheme(url.to_string()));
        };
        let parsed = Self {
            backend,
            url: url.to_string(),
        };
        if backend == Backend::Sqlite && parsed.sqlite_path().is_none() {
            return Err(StartupError::UnknownDatabaseScheme(url.to_string()));
        }
        Ok(parsed)
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    pub fn as_str(&self) -> &str {
        &self.url
    }

    /// The file of a SQLite URL (`sqlite://./data/x.db` or `sqlite:x.db`), without query.
    /// `None` for PostgreSQL and for in-memory SQLite, which tsunagu does not use.
    pub fn sqlite_path(&self) -> Option<PathBuf> {
        if self.backend != Backend::Sqlite {
            return None;
        }
        let rest = self.url.strip_prefix("sqlite:")?;
        let rest = rest.strip_prefix("//").unwrap_or(rest);
        let path = rest.split('?').next().unwrap_or_default();
        if path.is_empty() || path == ":memory:" {
            return None;
        }
        Some(PathBuf::from(path))
    }

    /// The URL handed to the driver: SQLite files are created when missing.
    pub fn connect_url(&self) -> String {
        match self.backend {
            Backend::Sqlite if !self.url.contains("mode=") => {
                let sep = if self.url.contains('?') { '&' } else { '?' };
                format!("{}{sep}mode=rwc", self.url)
            }
            _ => self.url.clone(),
        }
    }

    /// The URL without a password, for logs and `tsunagu check`.
    pub fn redacted(&self) -> String {
        match (self.url.find("://"), self.url.rfind('@')) {
            (Some(scheme_end), Some(at)) if at > scheme_end => {
                let userinfo = &self.url[scheme_end + 3..at];
                let user = userinfo.split(':').next().unwrap_or_default();
                format!(
                    "{}{}:***{}",
                    &self.url[..scheme_end + 3],
                    user,
                    &self.url[at..]
                )
            }
            _ => self.url.clone(),
        }
    }
}

/// Parses a listen address such as `127.0.0.1:8080`.
pub fn parse_listen(addr: &str) -> Result<SocketAddr, StartupError> {
    addr.trim()
        .parse()
        .map_err(|_| StartupError::BadListenAddress(addr.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schemes() {
        assert_eq!(
            DatabaseUrl::parse(DEFAULT_DATABASE_URL).unwrap().backend(),
            Backend::Sqlite
        );
        assert_eq!(
            DatabaseUrl::parse("postgres://u:p@127.0.0.1/db")
                .unwrap()
                .backend(),
            Backend::Postgres
        );
        assert_eq!(
            DatabaseUrl::parse("postgresql://127.0.0.1/db")
                .unwrap()
                .backend(),
            Backend::Postgres
        );
        for bad in [
            "mysql://x",
            "./data/x.db",
            "",
            "sqlite::memory:",
            "http://x",
        ] {
            assert!(DatabaseUrl::parse(bad).is_err(), "{bad} should be refused");
        }
    }

    #[test]
    fn sqlite_paths_and_create_mode() {
        let url = DatabaseUrl::parse("sqlite://./data/tsunagu.db").unwrap();
        assert_eq!(
            url.sqlite_path().unwrap(),
            PathBuf::from("./data/tsunagu.db")
        );
        assert_eq!(url.connect_url(), "sqlite://./data/tsunagu.db?mode=rwc");
        let url = DatabaseUrl::parse("sqlite:///tmp/a.db?mode=ro").unwrap();
        assert_eq!(url.sqlite_path().unwrap(), PathBuf::from("/tmp/a.db"));
        assert_eq!(url.connect_url(), "sqlite:///tmp/a.db?mode=ro");
    }

    #[test]
    fn passwords_never_reach_logs() {
        let url = DatabaseUrl::parse("postgres://app:secret@db.example:5432/tsunagu").unwrap();
        assert_eq!(url.redacted(), "postgres://app:***@db.example:5432/tsunagu");
    }
}
