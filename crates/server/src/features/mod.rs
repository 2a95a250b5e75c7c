//! One folder per capability: its routes, its SQL, its views.

pub mod admin;
pub mod break_glass;
pub mod children;
pub mod consent;
pub mod directory;
pub mod gaps;
pub mod health;
pub mod home;
pub mod mentoring;
pub mod municipalities;
pub mod notices;
