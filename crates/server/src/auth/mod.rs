//! Authentication and authorisation: passwords, two-factor, sessions, CSRF, and the guard
//! through which every route declares who may use it. The decision itself is
//! `tsunagu_core::access::may`.

pub mod api;
pub mod csrf;
pub mod guard;
pub mod login;
pub mod pages;
pub mod password;
pub mod repo;
pub mod session;
pub mod totp;
