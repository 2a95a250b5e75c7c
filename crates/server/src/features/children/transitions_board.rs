//! The transition board: children in reach whose next step (nursery entry, 就学, junior
//! high, upper secondary, graduation) falls in the next 18 months, grouped by 年度 and kind,
//! so nursery places, school consultations and services are ready in time.

use std::collections::{BTreeMap, HashMap};
use tsunagu_core::ids::ChildId;

use askama::Template;
use axum::extract::{Query, State};
use axum::response::Html;
use tsunagu_core::access::{Permission, scope_filter};
use tsunagu_core::calendar::{class_age, fiscal_year, format_wareki, life_stage};
use tsunagu_core::care::{CareItem, Tier};
use tsunagu_core::device::DeviceKind;
use tsunagu_core::directory::Needs;
use tsunagu_core::transitions::{
    BOARD_HORIZON_MONTHS, Transition, TransitionKind, attends_nursery, upcoming,
};

use super::{filters, repo};
use crate::auth::session::CurrentSession;
use crate::error::PageError;
use crate::state::AppState;
use crate::view::Chrome;

/// One child on the board.
struct BoardRow {
    child_id: ChildId,
    name: String,
    kana: String,
    municipality: String,
    stage_now: String,
    date: String,
    prepare_from: String,
    tier: &'static str,
    preparing: bool,
    /// Services of the kinds that take the child at this step that fit them now, with a
    /// vacancy; `None` when the directory holds no such kind (卒業).
    places: Option<usize>,
    /// The step falls in a later 年度 (the matching page's 「来年度」).
    later_year: bool,
}

/// One 年度 × kind group.
struct BoardGroup {
    fiscal_year: String,
    kind: &'static str,
    rows: Vec<BoardRow>,
}

#[derive(Template)]
#[template(path = "children/transitions.html")]
struct BoardPage {
    chrome: Chrome,
    groups: Vec<BoardGroup>,
    total: usize,
    chosen: filters::Chosen,
    horizon: u32,
    today: String,
    /// What the board covers, for its printed header: the chosen town or the whole reach.
    scope: String,
}

impl BoardPage {
    fn value(&self, key: &str) -> &str {
        self.chosen.value(key)
    }
}

pub async fn board(
    State(state): State<AppState>,
    current: CurrentSession,
    parts: axum::http::request::Parts,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Html<String>, PageError> {
    let today = state.clock.today_jst();
    let mut chosen = filters::parse(&q, today)?;
    chosen.filter.status = "active".into();
    let scope = scope_filter(&current.actor, Permission::ReadChild);
    let (children, _) = repo::list(&state.db, &scope, &chosen.filter, today, 100_000, 0).await?;
    let fy = fiscal_year(today);
    // Each child's steps, worked out once.
    let steps: Vec<Vec<Transition>> = children
        .iter()
        .map(|c| upcoming(c.birth_date, today, BOARD_HORIZON_MONTHS))
        .collect();
    // Where the children whose first step is nursery entry go now: one at a nursery has
    // that step behind it (asked for these few only; lists do not carry the 在籍先).
    let nursery_next: Vec<&ChildId> = children
        .iter()
        .zip(&steps)
        .filter(|(_, s)| {
            s.first()
                .is_some_and(|t| t.kind == TransitionKind::NurseryEntry)
        })
        .map(|(c, _)| &c.id)
        .collect();
    let attending = super::store::attending_of(&state.db, &nursery_next).await?;
    let all_ids: Vec<&ChildId> = children.iter().map(|c| &c.id).collect();
    let devices = super::store::device_masks_of(&state.db, &all_ids).await?;
    let mut shown = Vec::new();
    // What each shown child needs at their step, to count the places that fit.
    let mut asks = Vec::new();
    let mut groups: BTreeMap<(i32, TransitionKind), Vec<BoardRow>> = BTreeMap::new();
    for (child, steps) in children.into_iter().zip(steps) {
        let at_nursery = attending
            .get(child.id.as_str())
            .is_some_and(|place| attends_nursery(place));
        // The next transition only: what this child's people must prepare for first.
        let Some(next) = steps
            .into_iter()
            .find(|t| !(at_nursery && t.kind == TransitionKind::NurseryEntry))
        else {
            continue;
        };
        shown.push(child.id.clone());
        let kinds = tsunagu_core::directory::kinds_for(next.kind);
        asks.push((
            Needs {
                municipality_code: child.municipality_code.clone(),
                class_age: class_age(child.birth_date, next.fiscal_year),
                care: CareItem::in_mask(child.care_mask).collect(),
                tier: Tier::parse(&child.care_tier).unwrap_or(Tier::BelowThree),
                devices: {
                    let mask = devices.get(child.id.as_str()).copied().unwrap_or(0);
                    DeviceKind::ALL
                        .into_iter()
                        .filter(|d| mask & d.bit() != 0)
                        .collect()
                },
            },
            kinds,
        ));
        groups
            .entry((next.fiscal_year, next.kind))
            .or_default()
            .push(BoardRow {
                stage_now: life_stage(child.birth_date, fy).label_ja(),
                date: format_wareki(next.date),
                prepare_from: format_wareki(next.prepare_from),
                preparing: next.prepare_from <= today,
                tier: child.tier_ja(),
                child_id: child.id,
                name: child.name,
                kana: child.kana,
                municipality: child.municipality_name,
                places: (!kinds.is_empty()).then_some(0),
                later_year: next.fiscal_year > fy,
            });
    }
    // The counts, in the order the rows were made (groups keep each row's order of making).
    let counts = crate::features::directory::service::fitting_places(&state, &asks).await?;
    let mut by_child: HashMap<&ChildId, usize> = HashMap::new();
    for (id, n) in shown.iter().zip(counts) {
        by_child.insert(id, n);
    }
    for row in groups.values_mut().flatten() {
        if row.places.is_some() {
            row.places = by_child.get(&row.child_id).copied();
        }
    }
    let gate = crate::gate::Gate::page(&state, &current, &parts);
    super::service::audit_shown(&gate, "transition_board", shown.iter().map(ChildId::as_str))
        .await?;
    let total = groups.values().map(Vec::len).sum();
    let page = BoardPage {
        chrome: Chrome::for_session("移行ボード", state.settings.demo, Some(&current)),
        groups: groups
            .into_iter()
            .map(|((year, kind), rows)| BoardGroup {
                fiscal_year: tsunagu_core::calendar::format_fiscal_year(year),
                kind: kind.label_ja(),
                rows,
            })
            .collect(),
        total,
        scope: match chosen.filter.municipality.as_str() {
            "" => "担当範囲のすべての市区町村".to_string(),
            code => crate::features::municipalities::repo::name_of(code).to_string(),
        },
        chosen,
        horizon: BOARD_HORIZON_MONTHS,
        today: format_wareki(today),
    };
    Ok(Html(page.render()?))
}
