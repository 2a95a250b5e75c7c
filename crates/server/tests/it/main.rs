//! Integration tests. Every test runs against a fresh database: SQLite by default,
//! PostgreSQL when `TEST_DATABASE_URL` is set (scripts/test runs both).

// Test code: a failed expectation is the test failing.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod described;
mod directory;
mod support;

mod admin;
mod api_children;
mod api_municipalities;
mod audit;
mod audit_trail;
mod audit_walk;
mod auth;
mod authz;
mod children;
mod children_import;
mod cli;
mod database;
mod demo_data;
mod directory_import;
mod duplicates;
mod gaps;
mod guardians;
mod hsds;
mod mentoring;
mod notices;
mod pages;
mod proposals;
mod reach;
mod registry;
mod slow_clients;
mod structure;
mod surveys;
mod web_shell;
