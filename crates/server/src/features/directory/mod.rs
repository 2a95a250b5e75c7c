//! The resource directory (資源調査): which organisations offer which services, the care
//! each accepts and on what conditions, its places and vacancies kept fresh by the
//! facility itself, a search for staff and one for the public, and the services that fit
//! one child (called from the child's record), and a town's import of the facilities it
//! lists ([`import`]). `routes()` is all this file holds.

pub mod cache;
pub mod hsds;
pub mod import;
pub mod pages;
pub mod repo;
pub mod service;
pub mod survey_pages;
pub mod surveys;

use tsunagu_core::access::Permission;

use crate::auth::guard::{Access, Routes};

pub fn routes() -> Routes {
    use Permission as P;
    Routes::new()
        .get(
            "/directory",
            Access::Permission(P::ReadDirectory),
            pages::search,
        )
        .get(
            "/directory/mine",
            Access::Permission(P::EditDirectory),
            pages::mine,
        )
        .get(
            "/directory/services/new",
            Access::Permission(P::EditDirectory),
            pages::new_form,
        )
        .post(
            "/directory/services",
            Access::Permission(P::EditDirectory),
            pages::create,
        )
        .get(
            "/directory/services/{id}",
            Access::Permission(P::ReadDirectory),
            pages::detail,
        )
        .post(
            "/directory/services/{id}",
            Access::Permission(P::EditDirectory),
            pages::update,
        )
        .get(
            "/directory/services/{id}/edit",
            Access::Permission(P::EditDirectory),
            pages::edit_form,
        )
        .post(
            "/directory/services/{id}/vacancies",
            Access::Permission(P::EditDirectory),
            pages::vacancies,
        )
        .post(
            "/directory/services/{id}/confirm",
            Access::Permission(P::EditDirectory),
            pages::confirm,
        )
        // Survey rounds (資源調査): a town or the prefecture runs them; whoever keeps an
        // entry answers for it.
        .get(
            "/directory/surveys",
            Access::Permission(P::RunSurvey),
            survey_pages::list,
        )
        .get(
            "/directory/surveys/new",
            Access::Permission(P::RunSurvey),
            survey_pages::new_form,
        )
        .post(
            "/directory/surveys",
            Access::Permission(P::RunSurvey),
            survey_pages::create,
        )
        .get(
            "/directory/surveys/{id}",
            Access::Permission(P::RunSurvey),
            survey_pages::detail,
        )
        .post(
            "/directory/surveys/{id}/remind",
            Access::Permission(P::RunSurvey),
            survey_pages::remind,
        )
        .post(
            "/directory/surveys/{id}/close",
            Access::Permission(P::RunSurvey),
            survey_pages::close,
        )
        .get(
            "/directory/surveys/{id}/results.xlsx",
            Access::Permission(P::RunSurvey),
            survey_pages::results_xlsx,
        )
        .get(
            "/directory/surveys/{id}/results.csv",
            Access::Permission(P::RunSurvey),
            survey_pages::results_csv,
        )
        .get(
            "/directory/surveys/{round}/services/{service}",
            Access::Permission(P::EditDirectory),
            survey_pages::answer_form,
        )
        .post(
            "/directory/surveys/{round}/services/{service}",
            Access::Permission(P::EditDirectory),
            survey_pages::answer,
        )
        // A town's sheet of its facilities: upload, mapping, dry run, commit (its staff only).
        .get(
            "/directory/import",
            Access::Permission(P::EditDirectory),
            import::upload_form,
        )
        .post_upload(
            "/directory/import",
            Access::Permission(P::EditDirectory),
            import::upload,
        )
        .get(
            "/directory/import/template.csv",
            Access::Permission(P::EditDirectory),
            import::template_csv,
        )
        .get(
            "/directory/import/{id}",
            Access::Permission(P::EditDirectory),
            import::mapping_page,
        )
        .post(
            "/directory/import/{id}/check",
            Access::Permission(P::EditDirectory),
            import::check,
        )
        .post(
            "/directory/import/{id}/commit",
            Access::Permission(P::EditDirectory),
            import::commit,
        )
        // Families look too: public fields only, no sign-in.
        .get("/public/directory", Access::Public, pages::public_search)
        .get(
            "/public/directory/{id}",
            Access::Public,
            pages::public_detail,
        )
        // Open Referral HSDS 3.1, read-only: public fields, staff fields when signed in.
        .get("/api/hsds/", Access::Public, hsds::meta)
        .get("/api/hsds/services", Access::Public, hsds::services)
        .get("/api/hsds/services/{id}", Access::Public, hsds::service)
        .get(
            "/api/hsds/service_at_locations",
            Access::Public,
            hsds::service_at_locations,
        )
        .get(
            "/api/hsds/service_at_locations/{id}",
            Access::Public,
            hsds::service_at_location,
        )
        .get(
            "/api/hsds/organizations",
            Access::Public,
            hsds::organizations,
        )
        .get(
            "/api/hsds/organizations/{id}",
            Access::Public,
            hsds::organization,
        )
        .get(
            "/api/hsds/taxonomies",
            Access::Public,
            hsds::taxonomies_list,
        )
        .get("/api/hsds/taxonomies/{id}", Access::Public, hsds::taxonomy)
        .get(
            "/api/hsds/taxonomy_terms",
            Access::Public,
            hsds::taxonomy_terms,
        )
        .get(
            "/api/hsds/taxonomy_terms/{id}",
            Access::Public,
            hsds::taxonomy_term,
        )
        .get("/api/hsds/export.zip", Access::Public, hsds::export)
}
