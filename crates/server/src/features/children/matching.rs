//! The services that fit one child, on their record: the directory's services of the
//! child's prefecture weighed against the child's residence, class age, care, score tier
//! and devices, those that fit first, and for each that does not, why. Opening it is a
//! read of the child's record and audited as one.

use std::collections::HashMap;

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::request::Parts;
use axum::response::{Html, IntoResponse, Response};
use tsunagu_core::access::Permission;
use tsunagu_core::calendar::{class_age, fiscal_year, format_fiscal_year};
use tsunagu_core::care::CareItem;
use tsunagu_core::directory::{Needs, age_range_ja};

use super::repo::Child;
use super::service;
use crate::auth::session::CurrentSession;
use crate::error::PageError;
use crate::features::directory::service::{self as directory, Weighed};
use crate::gate::{Gate, Use};
use crate::state::AppState;
use crate::view::Chrome;

/// At most this many services of each side are shown (fits, and misfits closest first).
const SHOWN: usize = 50;

#[derive(Template)]
#[template(path = "children/matching.html")]
struct MatchingPage {
    chrome: Chrome,
    child: Child,
    /// What the child needs, in words.
    needs: Vec<(&'static str, String)>,
    year_label: String,
    next_year: bool,
    kinds: Vec<(&'static str, &'static str)>,
    kind: String,
    fits: Vec<Weighed>,
    fits_total: usize,
    misses: Vec<Weighed>,
    misses_total: usize,
    /// Where a service's page is: the staff directory, or the public one for a family.
    link_base: &'static str,
}

/// What a child's record says they need, for matching in the 年度 `fy`.
pub(crate) fn needs_of(profile: &super::profile::Profile, fy: i32) -> Needs {
    let mut care: Vec<CareItem> = profile.care.iter().map(|e| e.item).collect();
    care.sort();
    care.dedup();
    let mut devices: Vec<_> = profile.devices.iter().map(|d| d.kind).collect();
    devices.sort_by_key(|d| d.code());
    devices.dedup();
    Needs {
        municipality_code: profile.municipality_code.to_string(),
        class_age: class_age(profile.birth_date, fy),
        care,
        tier: profile
            .score()
            .map(|s| s.tier)
            .unwrap_or(tsunagu_core::care::Tier::BelowThree),
        devices,
    }
}

pub async fn page(
    State(state): State<AppState>,
    current: CurrentSession,
    parts: Parts,
    Path(id): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Response, PageError> {
    let gate = Gate::page(&state, &current, &parts);
    let stored = service::open_record(
        &gate,
        &state,
        &id,
        Permission::ReadChild,
        Use::Read("matching"),
    )
    .await?;
    let next_year = q.get("year").is_some_and(|y| y == "next");
    let fy = fiscal_year(state.clock.today_jst()) + i32::from(next_year);
    let needs = needs_of(&stored.profile, fy);
    let kind = q
        .get("kind")
        .and_then(|k| tsunagu_core::directory::service_kind(k))
        .map(|k| k.code.to_string())
        .unwrap_or_default();
    // Staff see the directory's staff fields; a family, what the public page shows.
    let staff =
        tsunagu_core::access::may(&current.actor, Permission::ReadDirectory, None).allowed();
    let weighing = directory::weigh_for(
        &state,
        &needs,
        (!kind.is_empty()).then_some(kind.as_str()),
        !staff,
        SHOWN,
    )
    .await?;
    let (fits, misses): (Vec<Weighed>, Vec<Weighed>) =
        weighing.shown.into_iter().partition(|w| w.fit.fits());
    let child = stored.opened.record;
    let mut described = vec![
        (
            "お住まい",
            crate::features::municipalities::repo::name_of(&needs.municipality_code).to_string(),
        ),
        ("年齢", age_range_ja(needs.class_age, needs.class_age)),
        (
            "医療的ケア",
            if needs.care.is_empty() {
                "なし".to_string()
            } else {
                needs
                    .care
                    .iter()
                    .map(|c| c.short_label_ja())
                    .collect::<Vec<_>>()
                    .join("、")
            },
        ),
        ("判定スコア", needs.tier.label_ja().to_string()),
    ];
    if !needs.devices.is_empty() {
        described.push((
            "医療機器",
            needs
                .devices
                .iter()
                .map(|d| d.label_ja())
                .collect::<Vec<_>>()
                .join("、"),
        ));
    }
    let page = MatchingPage {
        chrome: Chrome::for_session(
            format!("{} さんに合う資源", child.name),
            state.settings.demo,
            Some(&current),
        ),
        child,
        needs: described,
        year_label: format_fiscal_year(fy),
        next_year,
        kinds: directory::kind_choices(),
        kind,
        fits_total: weighing.fitting,
        fits,
        misses_total: weighing.total - weighing.fitting,
        misses,
        link_base: if staff {
            "/directory/services"
        } else {
            "/public/directory"
        },
    };
    Ok(Html(page.render()?).into_response())
}
