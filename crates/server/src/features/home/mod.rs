//! The public top page: what tsunagu is and who it is for.

use askama::Template;
use axum::extract::State;
use axum::response::Html;

use crate::auth::guard::{Access, MaybeSession, Routes};
use crate::error::PageError;
use crate::state::AppState;
use crate::web::layout::Chrome;

pub fn routes() -> Routes {
    Routes::new().get("/", Access::Public, top)
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
        fiscal_year_label: crate::web::layout::fiscal_year_label(fiscal_year),
    };
    Ok(Html(page.render()?))
}
