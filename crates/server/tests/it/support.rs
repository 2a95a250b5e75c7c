//! A fresh database per test on the backend under test, and a way to send requests.

use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, Method, Request, StatusCode};
use chrono::{TimeZone, Utc};
use http_body_util::BodyExt;
use sqlx::Connection;
use tempfile::TempDir;
use tower::ServiceExt;
use tsunagu::config::DatabaseUrl;
use tsunagu::db::Db;
use tsunagu::state::Settings;
use tsunagu_core::clock::FixedClock;

/// Where a test's database lives; the SQLite folder goes away with it.
pub struct TestDatabase {
    pub url: DatabaseUrl,
    _dir: Option<TempDir>,
}

pub fn on_postgres() -> bool {
    std::env::var("TEST_DATABASE_URL").is_ok_and(|u| !u.is_empty())
}

/// A new, empty database: a temp file on SQLite, a new database in the cluster on PostgreSQL.
pub async fn fresh_database() -> TestDatabase {
    match std::env::var("TEST_DATABASE_URL")
        .ok()
        .filter(|u| !u.is_empty())
    {
        None => {
            let dir = tempfile::tempdir().expect("temp dir");
            let url = format!("sqlite://{}/test.db", dir.path().display());
            TestDatabase {
                url: DatabaseUrl::parse(&url).expect("sqlite url"),
                _dir: Some(dir),
            }
        }
        Some(admin) => {
            sqlx::any::install_default_drivers();
            let name = format!("tsunagu_t_{}", uuid::Uuid::new_v4().simple());
            let mut conn = sqlx::AnyConnection::connect(&admin)
                .await
                .expect("connect to the test cluster");
            // The name is generated above from a UUID: nothing from outside reaches this SQL.
            sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
                .execute(&mut conn)
                .await
                .expect("create test database");
            let _ = conn.close().await;
            let base = admin.rsplit_once('/').map(|(b, _)| b).unwrap_or(&admin);
            TestDatabase {
                url: DatabaseUrl::parse(&format!("{base}/{name}")).expect("pg url"),
                _dir: None,
            }
        }
    }
}

/// 2026-11-21 12:00 in Japan: a Saturday in 令和8年度.
pub fn test_clock() -> Arc<FixedClock> {
    Arc::new(FixedClock(
        Utc.with_ymd_and_hms(2026, 11, 21, 3, 0, 0).unwrap(),
    ))
}

pub struct TestApp {
    pub router: Router,
    pub db: Db,
    /// Kept so the SQLite folder lives as long as the app.
    pub _database: TestDatabase,
}

pub async fn app() -> TestApp {
    let database = fresh_database().await;
    let db = tsunagu::open_database(&database.url, Some(4))
        .await
        .expect("open and migrate");
    let router = tsunagu::app(db.clone(), test_clock(), Settings::default());
    TestApp {
        router,
        db,
        _database: database,
    }
}

#[derive(Debug)]
pub struct TestResponse {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: String,
}

impl TestResponse {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }

    pub fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
    }
}

impl TestApp {
    pub async fn request(&self, request: Request<Body>) -> TestResponse {
        let response = self
            .router
            .clone()
            .oneshot(request)
            .await
            .expect("infallible");
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = response
            .into_body()
            .collect()
            .await
            .expect("body")
            .to_bytes();
        TestResponse {
            status,
            headers,
            body: String::from_utf8_lossy(&bytes).into_owned(),
        }
    }

    pub async fn get(&self, uri: &str) -> TestResponse {
        self.request(
            Request::builder()
                .method(Method::GET)
                .uri(uri)
                .body(Body::empty())
                .unwrap(),
        )
        .await
    }
}

/// Percent-encodes a query value (Japanese text in URLs).
pub fn encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}
