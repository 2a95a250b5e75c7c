//! The parent-mentor programme (ペアレントメンター): parents who raised a 医療的ケア児 while
//! working listen to parents who want to work. Families apply (on the public page or signed
//! in) with up to three wished slots inside the programme's rules; the office sees the
//! mentors free in those slots ranked by shared experience, and confirms one (the database
//! refuses a double booking) or declines with a reason. `routes()` only.

pub mod pages;
pub mod repo;
pub mod service;

use tsunagu_core::access::Permission;

use crate::auth::guard::{Access, Routes};

pub fn routes() -> Routes {
    use Permission as P;
    Routes::new()
        // Families look and apply without an account.
        .get("/public/mentoring", Access::Public, pages::public_page)
        .post("/public/mentoring", Access::Public, pages::public_apply)
        // A signed-in family.
        .get(
            "/mentoring/apply",
            Access::Permission(P::ApplyMentoring),
            pages::apply_form,
        )
        .post(
            "/mentoring/apply",
            Access::Permission(P::ApplyMentoring),
            pages::apply,
        )
        .get(
            "/mentoring/applications/mine",
            Access::Permission(P::ApplyMentoring),
            pages::mine,
        )
        // The office.
        .get(
            "/mentoring",
            Access::Permission(P::ManageMentoring),
            pages::inbox,
        )
        .get(
            "/mentoring/applications/{id}",
            Access::Permission(P::ManageMentoring),
            pages::application,
        )
        .post(
            "/mentoring/applications/{id}/confirm",
            Access::Permission(P::ManageMentoring),
            pages::confirm,
        )
        .post(
            "/mentoring/applications/{id}/decline",
            Access::Permission(P::ManageMentoring),
            pages::decline,
        )
        .get(
            "/mentoring/mentors",
            Access::Permission(P::ManageMentoring),
            pages::mentors,
        )
        .get(
            "/mentoring/mentors/new",
            Access::Permission(P::ManageMentoring),
            pages::new_mentor,
        )
        .post(
            "/mentoring/mentors",
            Access::Permission(P::ManageMentoring),
            pages::create_mentor,
        )
        .get(
            "/mentoring/mentors/{id}",
            Access::Permission(P::ManageMentoring),
            pages::edit_mentor,
        )
        .post(
            "/mentoring/mentors/{id}",
            Access::Permission(P::ManageMentoring),
            pages::update_mentor,
        )
        // A mentor.
        .get(
            "/mentoring/me",
            Access::Permission(P::MentorConsult),
            pages::me,
        )
}
