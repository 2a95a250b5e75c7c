//! Browser tests: the real `tsunagu` binary driven through chromedriver + headless Chromium.
//!
//! Run with `cargo test -p tsunagu-server --test e2e` (scripts/test installs Chromium,
//! chromedriver and the Noto CJK fonts first). Screenshots land in `target/e2e/`.
//! Accessibility is checked with the vendored axe-core against WCAG 2.0 A/AA, the level
//! JIS X 8341-3:2016 AA asks for.

// Test code: a failed expectation is the test failing.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod a11y;
mod directory;
mod harness;
mod mentoring;
mod pages;
mod registry;
mod selfcheck;
mod signin;
