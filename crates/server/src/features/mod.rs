//! One folder per capability: its routes, its SQL, its views.

pub mod api_docs;
pub mod health;
pub mod home;
pub mod municipalities;
pub mod organisations;
