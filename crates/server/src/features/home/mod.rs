//! The public top page (what tsunagu is and who it is for) and each person's home: their
//! account and, from each capability, the work waiting for them.

use askama::Template;
use std::collections::HashMap;

use axum::extract::{Query, State};
use axum::response::{Html, IntoResponse, Redirect, Response};

use crate::auth::guard::{Access, MaybeSession, Routes};
use crate::auth::session::CurrentSession;
use crate::error::PageError;
use crate::state::AppState;
use crate::view::Chrome;

pub fn routes() -> Routes {
    Routes::new()
        .get("/", Access::Public, top)
        .get("/home", Access::SignedIn, home)
}

#[derive(Template)]
#[template(path = "home/top.html")]
struct TopPage {
    chrome: Chrome,
    today: String,
    fiscal_year_label: String,
}

async fn top(
    State(state): State<AppState>,
    MaybeSession(current): MaybeSession,
) -> Result<Html<String>, PageError> {
    let today = state.clock.today_jst();
    let fiscal_year = tsunagu_core::calendar::fiscal_year(today);
    let page = TopPage {
        chrome: Chrome::for_session(
            "つなぐ — 医療的ケア児と家族を支える地域連携",
            state.settings.demo,
            current.as_ref(),
        ),
        today: tsunagu_core::calendar::format_wareki_with_seireki(today),
        fiscal_year_label: crate::view::fiscal_year_label(fiscal_year),
    };
    Ok(Html(page.render()?))
}

#[derive(Template)]
#[template(path = "home/home.html")]
struct HomePage {
    chrome: Chrome,
    session: CurrentSession,
    password_changed: bool,
    /// The family's own children (guardians only): the way into their records.
    own_children: Vec<crate::features::children::repo::Child>,
    /// What each capability asks of the person today.
    registry: crate::features::children::service::RegistryWork,
    /// Open break-glass grants on the records of the person's organisations.
    open_break_glass: usize,
    /// The directory entries the person keeps.
    directory: crate::features::directory::service::DirectoryWork,
    /// Survey rounds to answer or to follow.
    surveys: crate::features::directory::surveys::SurveyWork,
    /// The plan targets of the person's region.
    gaps: crate::features::gaps::service::GapsWork,
    /// The parent-mentor programme: the office's inbox, a mentor's consultations, a
    /// family's applications.
    mentoring: crate::features::mentoring::service::MentoringWork,
}

async fn home(
    State(state): State<AppState>,
    MaybeSession(current): MaybeSession,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Response, PageError> {
    let Some(current) = current else {
        return Ok(Redirect::to("/login").into_response());
    };
    let own_children = crate::features::children::own_children(&state, &current).await?;
    let registry = crate::features::children::service::work_for(&state, &current).await?;
    let directory = crate::features::directory::service::work_for(&state, &current).await?;
    let surveys = crate::features::directory::surveys::work_for(&state, &current).await?;
    let gaps = crate::features::gaps::service::work_for(&state, &current.actor).await?;
    let mentoring = crate::features::mentoring::service::work_for(&state, &current).await?;
    let open_break_glass = if tsunagu_core::access::may(
        &current.actor,
        tsunagu_core::access::Permission::ReviewBreakGlass,
        None,
    )
    .allowed()
    {
        crate::features::break_glass::open_on_records_of(&state, &current).await?
    } else {
        0
    };
    let page = HomePage {
        registry,
        open_break_glass,
        directory,
        surveys,
        gaps,
        mentoring,
        chrome: Chrome::for_session("マイページ", state.settings.demo, Some(&current)),
        password_changed: q.contains_key("password_changed"),
        own_children,
        session: current,
    };
    Ok(Html(page.render()?).into_response())
}
