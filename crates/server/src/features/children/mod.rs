//! Children's records: the registry. `routes()` is all this file holds; the operations are
//! in [`service`], the pages in [`pages`], [`form`], [`consents`], [`proposals`],
//! [`transitions_board`], [`import`] and [`export`], the JSON API in [`api`], the SQL in
//! [`repo`] (what reaches a child is `features::consent`).

pub mod api;
pub mod consents;
pub mod duplicates;
pub mod export;
pub mod filters;
pub mod form;
pub mod guardians;
pub mod import;
pub mod matching;
pub mod pages;
pub mod profile;
pub mod proposals;
pub mod repo;
pub mod service;
pub mod transitions_board;

pub use repo::store;
pub use service::own_children;

use tsunagu_core::access::Permission;

use crate::auth::guard::{Access, Routes};
use pages::{access_log, detail, list};

pub fn routes() -> Routes {
    use Permission as P;
    Routes::new()
        .get("/children", Access::Permission(P::ReadChild), list)
        .get(
            "/children/new",
            Access::Permission(P::WriteChild),
            form::new_form,
        )
        .post("/children", Access::Permission(P::WriteChild), form::create)
        .post(
            "/children/access-requests",
            Access::Permission(P::WriteChild),
            form::request_access,
        )
        .get(
            "/children/duplicates",
            Access::Permission(P::WriteChild),
            duplicates::review,
        )
        .get(
            "/children/transitions",
            Access::Permission(P::ReadChild),
            transitions_board::board,
        )
        .get("/children/{id}", Access::Permission(P::ReadChild), detail)
        .post(
            "/children/{id}",
            Access::Permission(P::WriteChild),
            form::update,
        )
        .get(
            "/children/{id}/edit",
            Access::Permission(P::WriteChild),
            form::edit_form,
        )
        .get(
            "/children/{id}/services",
            Access::Permission(P::ReadChild),
            matching::page,
        )
        .get(
            "/children/{id}/history",
            Access::Permission(P::ReadChild),
            form::history_page,
        )
        .get(
            "/children/{id}/consents",
            Access::Permission(P::ReadChild),
            consents::page,
        )
        .post(
            "/children/{id}/consents",
            Access::Permission(P::RecordConsent),
            consents::record,
        )
        .post(
            "/children/{id}/consents/{consent_id}/withdraw",
            Access::Permission(P::RecordConsent),
            consents::withdraw,
        )
        .get(
            "/children/{id}/guardians",
            Access::Permission(P::WriteChild),
            guardians::show,
        )
        .post(
            "/children/{id}/guardians",
            Access::Permission(P::WriteChild),
            guardians::create,
        )
        .post(
            "/children/{id}/guardians/link",
            Access::Permission(P::WriteChild),
            guardians::link,
        )
        .post(
            "/children/{id}/guardians/{account_id}/unlink",
            Access::Permission(P::WriteChild),
            guardians::unlink,
        )
        .get(
            "/children/{id}/proposals/new",
            Access::Permission(P::ProposeChange),
            proposals::new_form,
        )
        .post(
            "/children/{id}/proposals",
            Access::Permission(P::ProposeChange),
            proposals::create,
        )
        .post(
            "/children/{id}/proposals/{proposal_id}/decision",
            Access::Permission(P::WriteChild),
            proposals::decide,
        )
        .post(
            "/children/{id}/merge",
            Access::Permission(P::WriteChild),
            duplicates::merge,
        )
        .get(
            "/children/{id}/access-log",
            Access::Permission(P::ReadChild),
            access_log,
        )
        .merge(export::routes())
        .merge(import::routes())
        .merge(api::routes())
}
