//! tsunagu's domain rules: pure functions and types, no I/O, no async.
//! Time always comes in as a parameter (see [`clock`]) so tests can fix "today".

pub mod access;
pub mod aggregate;
pub mod calendar;
pub mod care;
pub mod care_words;
pub mod clock;
pub mod device;
pub mod directory;
pub mod ids;
pub mod kana;
pub mod mentoring;
pub mod municipality;
pub mod plan;
pub mod text;
pub mod transitions;
