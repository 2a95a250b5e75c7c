//! The gaps of a prefecture: for each municipality and 圏域, the children who will need a
//! kind of service (the registry's counts) against the services of the directory that fit
//! them, and the plan targets of the 障害児福祉計画 met alone, through the 圏域, or not.
//! Counts of children obey the small-cell rule (`tsunagu_core::aggregate`).

use std::collections::{HashMap, HashSet};

use chrono::NaiveDate;
use tsunagu_core::access::{Actor, Permission, Scope, Target, may, scope_of};
use tsunagu_core::aggregate::Cell;
use tsunagu_core::calendar::{fiscal_year, format_fiscal_year};
use tsunagu_core::directory::{Needs, Offer, has_places, service_kind, weighs_care};
use tsunagu_core::municipality::MunicipalityCode;
use tsunagu_core::plan::{ChildFacts, Evidence, GAP_NEEDS, GapNeed, PLAN_TARGETS, TargetLevel};

use super::repo::{self, Forum};
use crate::audit::{Action, Event, Outcome};
use crate::error::{AppError, FieldError};
use crate::features::children;
use crate::features::directory::repo::ServiceDetail;
use crate::features::directory::service as directory;
use crate::features::municipalities::repo as municipalities;
use crate::gate::{Gate, Written};
use crate::state::AppState;

pub const RESOURCE_TYPE: &str = "gaps";

/// One need in one place.
#[derive(Debug, Clone)]
pub struct NeedCell {
    /// Children who will need it.
    pub children: Cell,
    /// Of them, children no service fits now (a vacancy included).
    pub uncovered: Cell,
    /// Services of the kinds serving the place that take 医療的ケア児.
    pub services: usize,
    /// Their vacancies now (latest reports).
    pub vacancies: i64,
}

/// A municipality or a 圏域 with its cells, in the order of [`GAP_NEEDS`].
#[derive(Debug, Clone)]
pub struct PlaceRow {
    pub code: String,
    pub name: String,
    pub cells: Vec<NeedCell>,
}

/// How a target stands in a municipality.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Met {
    Alone,
    /// Met by the 圏域 (its name).
    ThroughArea(String),
    Missing,
}

impl Met {
    pub fn mark(&self) -> &'static str {
        match self {
            Met::Alone => "○",
            Met::ThroughArea(_) => "△",
            Met::Missing => "×",
        }
    }

    pub fn words(&self) -> String {
        match self {
            Met::Alone => "達成".into(),
            Met::ThroughArea(area) => format!("{area}で達成"),
            Met::Missing => "未達成".into(),
        }
    }

    pub fn is_missing(&self) -> bool {
        *self == Met::Missing
    }
}

/// One municipality's plan targets, in the order of the municipal [`PLAN_TARGETS`].
#[derive(Debug, Clone)]
pub struct TargetRow {
    pub code: String,
    pub name: String,
    pub statuses: Vec<Met>,
    /// What is missing, in words.
    pub missing: Vec<&'static str>,
    /// The 協議の場 recorded for the town itself.
    pub forum: Option<Forum>,
    /// The viewer may record the town's 協議の場.
    pub may_record: bool,
}

/// A 圏域 with its forum, for the forum list.
#[derive(Debug, Clone)]
pub struct AreaForum {
    pub id: String,
    pub name: String,
    pub forum: Option<Forum>,
    pub may_record: bool,
}

/// The whole table of a prefecture.
pub struct GapTable {
    pub prefecture: String,
    pub prefecture_name: String,
    pub fiscal_year: String,
    pub as_of: NaiveDate,
    pub municipalities: Vec<PlaceRow>,
    pub areas: Vec<PlaceRow>,
    pub targets: Vec<TargetRow>,
    pub area_forums: Vec<AreaForum>,
    /// Prefecture-level targets: (label, met, what is missing).
    pub prefecture_targets: Vec<(&'static str, bool, &'static str)>,
    /// Some cells were suppressed for this viewer.
    pub suppressed: bool,
    /// Children counted, whose place of residence is not a municipality of the list.
    pub children_total: Cell,
}

/// The municipality a code is counted under: a designated city's ward under its city.
fn place_of(code: &str) -> String {
    municipalities::parent_of(code).unwrap_or(code).to_string()
}

/// Whether the viewer's aggregates reach a municipality.
fn reaches(actor: &Actor, code: &str) -> bool {
    MunicipalityCode::parse(code).is_ok_and(|c| {
        may(
            actor,
            Permission::ViewAggregates,
            Some(&Target::place(RESOURCE_TYPE, c)),
        )
        .allowed()
    })
}

/// Whether the viewer keeps the registry of a municipality (its own town's staff, or staff
/// reading children prefecture-wide): they see small counts, which are their own records.
fn sees_records(actor: &Actor, code: &str) -> bool {
    actor
        .memberships
        .iter()
        .any(|m| match scope_of(m.role, Permission::ReadChild) {
            Some(Scope::Everything) => true,
            Some(Scope::Prefecture) => code.starts_with(&m.municipality_code.to_string()[..2]),
            Some(Scope::OwnMunicipality) => m.municipality_code.to_string() == code,
            _ => false,
        })
}

/// The prefectures whose table the viewer may open: those of their memberships.
pub fn prefectures_of(actor: &Actor) -> Vec<String> {
    let mut found: Vec<String> = actor
        .memberships
        .iter()
        .filter(|m| scope_of(m.role, Permission::ViewAggregates).is_some())
        .map(|m| m.municipality_code.to_string()[..2].to_string())
        .collect();
    found.sort();
    found.dedup();
    found
}

/// The municipalities a service is located in or serves, each as [`place_of`] counts it.
fn served_by(detail: &ServiceDetail) -> Vec<String> {
    let mut served: Vec<String> = std::iter::once(&detail.service.municipality_code)
        .chain(&detail.areas)
        .map(|c| place_of(c))
        .collect();
    served.sort();
    served.dedup();
    served
}

/// Whether a service takes 医療的ケア児 at all (any care accepted, or a kind not weighed
/// by care such as 相談支援).
fn takes_care_children(detail: &ServiceDetail) -> bool {
    service_kind(&detail.service.kind).is_none_or(|k| !weighs_care(k))
        || detail.service.care_mask != 0
}

fn vacancies_now(detail: &ServiceDetail) -> i64 {
    let places = service_kind(&detail.service.kind).is_some_and(has_places);
    if places {
        detail.vacancies.iter().map(|v| v.vacancies).sum()
    } else {
        0
    }
}

/// One town's raw figures for one need, before the small-cell rule.
#[derive(Debug, Default, Clone)]
struct Counted {
    needing: i64,
    /// Needing children no service fits.
    uncovered: i64,
    /// The services (indexes into the copy) serving the town that take 医療的ケア児.
    taking: Vec<usize>,
}

/// What each service offers, made once per request (matching thousands of children
/// against thousands of services reuses them); only the vacancy changes with the age.
struct Offers<'a> {
    services: &'a [ServiceDetail],
    made: HashMap<usize, Offer>,
}

impl Offers<'_> {
    fn fits(&mut self, service: usize, needs: &Needs) -> bool {
        let detail = &self.services[service];
        let offer = self
            .made
            .entry(service)
            .or_insert_with(|| directory::offer_for(detail, needs.class_age));
        offer.vacancies = directory::vacancies_for(detail, needs.class_age);
        tsunagu_core::directory::fit(needs, offer).fits()
    }
}

/// A town's figures for every need: its children against the services serving it. A
/// child is only ever fitted by a service serving their own town, so a 圏域's figures are
/// the sums of its towns' (services counted once).
fn count_town(
    town: &str,
    children: &[&ChildFacts],
    served: &[Vec<String>],
    by_need: &[Vec<usize>],
    offers: &mut Offers<'_>,
) -> Vec<Counted> {
    let services = offers.services;
    GAP_NEEDS
        .iter()
        .zip(by_need)
        .map(|(need, of_kinds)| {
            let candidates: Vec<usize> = of_kinds
                .iter()
                .copied()
                .filter(|&i| served[i].iter().any(|p| p == town))
                .collect();
            let mut counted = Counted::default();
            for child in children.iter().filter(|c| need.who.counts(c)) {
                counted.needing += 1;
                if !candidates.iter().any(|&i| offers.fits(i, &child.needs)) {
                    counted.uncovered += 1;
                }
            }
            counted.taking = candidates
                .into_iter()
                .filter(|&i| takes_care_children(&services[i]))
                .collect();
            counted
        })
        .collect()
}

/// The cells of a place made of `towns` (one, or a 圏域's), from their counts.
fn cells_of(
    actor: &Actor,
    towns: &[&str],
    counted: &HashMap<String, Vec<Counted>>,
    services: &[ServiceDetail],
) -> Vec<NeedCell> {
    let reach = towns.iter().all(|p| reaches(actor, p));
    let see = towns.iter().all(|p| sees_records(actor, p));
    (0..GAP_NEEDS.len())
        .map(|n| {
            let mut needing = 0;
            let mut uncovered = 0;
            let mut taking: Vec<usize> = Vec::new();
            for town in towns {
                if let Some(c) = counted.get(*town).and_then(|c| c.get(n)) {
                    needing += c.needing;
                    uncovered += c.uncovered;
                    taking.extend(&c.taking);
                }
            }
            taking.sort_unstable();
            taking.dedup();
            NeedCell {
                children: Cell::of(needing, reach, see),
                uncovered: Cell::of(uncovered, reach, see),
                services: taking.len(),
                vacancies: taking.iter().map(|&i| vacancies_now(&services[i])).sum(),
            }
        })
        .collect()
}

/// The towns served by at least one service of `kinds`.
fn towns_offered<'a>(
    services: &[ServiceDetail],
    served: &'a [Vec<String>],
    kinds: &[&str],
) -> HashSet<&'a str> {
    services
        .iter()
        .zip(served)
        .filter(|(d, _)| kinds.contains(&d.service.kind.as_str()))
        .flat_map(|(_, s)| s.iter().map(String::as_str))
        .collect()
}

/// The table of a prefecture (two digits) for the 年度 of `today`, as `actor` may see it.
pub async fn table(
    gate: &Gate<'_>,
    state: &AppState,
    prefecture: &str,
) -> Result<GapTable, AppError> {
    let actor = &gate.current().actor;
    let today = state.clock.today_jst();
    let fy = fiscal_year(today);
    let towns = municipalities::in_prefecture(prefecture, today);
    let Some(prefecture_row) = municipalities::prefecture_list()
        .into_iter()
        .find(|p| p.prefecture_code == prefecture)
    else {
        return Err(AppError::NotFound);
    };
    let facts = children::service::facts_in_prefecture(state, prefecture, fy).await?;
    let services = directory::services_of_prefecture(state, prefecture).await?;
    let areas = municipalities::areas_with_members(&state.db, prefecture).await?;
    let served: Vec<Vec<String>> = services.iter().map(served_by).collect();
    // The services of each need's kinds, as indexes into the copy.
    let by_need: Vec<Vec<usize>> = GAP_NEEDS
        .iter()
        .map(|need: &GapNeed| {
            services
                .iter()
                .enumerate()
                .filter(|(_, d)| need.kinds.contains(&d.service.kind.as_str()))
                .map(|(i, _)| i)
                .collect()
        })
        .collect();
    let mut by_town: HashMap<String, Vec<&ChildFacts>> = HashMap::new();
    for child in &facts {
        by_town
            .entry(place_of(&child.needs.municipality_code))
            .or_default()
            .push(child);
    }
    let mut offers = Offers {
        services: &services,
        made: HashMap::new(),
    };
    let counted: HashMap<String, Vec<Counted>> = towns
        .iter()
        .map(|m| {
            let children = by_town.get(&m.code).map_or(&[][..], Vec::as_slice);
            (
                m.code.clone(),
                count_town(&m.code, children, &served, &by_need, &mut offers),
            )
        })
        .collect();
    let mut rows: Vec<PlaceRow> = towns
        .iter()
        .map(|m| PlaceRow {
            code: m.code.clone(),
            name: m.name.clone(),
            cells: cells_of(actor, &[m.code.as_str()], &counted, &services),
        })
        .collect();
    // The towns whose figures the viewer sees come first (a town's staff: their own).
    rows.sort_by_key(|r| {
        r.cells
            .first()
            .is_some_and(|c| c.children == Cell::OutOfReach)
    });
    let area_rows: Vec<PlaceRow> = areas
        .iter()
        .map(|(area, members)| {
            let mut places: Vec<String> = members.iter().map(|c| place_of(c)).collect();
            places.sort();
            places.dedup();
            let places: Vec<&str> = places.iter().map(String::as_str).collect();
            PlaceRow {
                code: area.id.clone(),
                name: area.name.clone(),
                cells: cells_of(actor, &places, &counted, &services),
            }
        })
        .collect();
    let (targets, area_forums, prefecture_targets) =
        plan_status(state, actor, prefecture, &towns, &areas, &services, &served).await?;
    let suppressed = rows
        .iter()
        .chain(&area_rows)
        .flat_map(|r| &r.cells)
        .any(|c| c.children == Cell::Few || c.uncovered == Cell::Few);
    let all_towns: Vec<&String> = towns.iter().map(|m| &m.code).collect();
    let children_total = Cell::of(
        facts.len() as i64,
        all_towns.iter().all(|c| reaches(actor, c)),
        all_towns.iter().all(|c| sees_records(actor, c)),
    );
    // Counts drawn from children's records: the read is audited (one entry, no names).
    gate.audit(
        Event::new(Action::Read, Outcome::Allowed)
            .resource(RESOURCE_TYPE, prefecture)
            .detail(format!("aggregate; fy={fy}; children={}", facts.len())),
    )
    .await?;
    Ok(GapTable {
        prefecture: prefecture.to_string(),
        prefecture_name: prefecture_row.name,
        fiscal_year: format_fiscal_year(fy),
        as_of: today,
        municipalities: rows,
        areas: area_rows,
        targets,
        area_forums,
        prefecture_targets,
        suppressed,
        children_total,
    })
}

/// Each municipality's plan targets, the 圏域 forums, and the prefecture's own targets.
async fn plan_status(
    state: &AppState,
    actor: &Actor,
    prefecture: &str,
    towns: &[municipalities::Municipality],
    areas: &[(municipalities::Area, Vec<String>)],
    services: &[ServiceDetail],
    served: &[Vec<String>],
) -> Result<
    (
        Vec<TargetRow>,
        Vec<AreaForum>,
        Vec<(&'static str, bool, &'static str)>,
    ),
    AppError,
> {
    // Forums of the towns and the areas.
    let mut forum_places: Vec<String> = towns.iter().map(|m| m.code.clone()).collect();
    forum_places.extend(areas.iter().map(|(a, _)| a.id.clone()));
    let forums: HashMap<String, Forum> = repo::forums_of(&state.db, &forum_places)
        .await?
        .into_iter()
        .map(|f| (f.place.clone(), f))
        .collect();
    // For each target met by services, the towns some service of its kinds serves.
    let offered: Vec<Option<HashSet<&str>>> = PLAN_TARGETS
        .iter()
        .map(|t| match t.evidence {
            Evidence::Services(kinds) => Some(towns_offered(services, served, kinds)),
            _ => None,
        })
        .collect();
    let members_of: Vec<Vec<String>> = areas
        .iter()
        .map(|(_, members)| members.iter().map(|c| place_of(c)).collect())
        .collect();
    let targets = towns
        .iter()
        .map(|m| {
            let own_areas: Vec<(&municipalities::Area, &Vec<String>)> = areas
                .iter()
                .zip(&members_of)
                .filter(|(_, members)| members.contains(&m.code))
                .map(|((area, _), members)| (area, members))
                .collect();
            let mut statuses = Vec::new();
            let mut missing = Vec::new();
            for (target, offered) in PLAN_TARGETS.iter().zip(&offered) {
                if target.level != TargetLevel::Municipality {
                    continue;
                }
                let met_in =
                    |places: &[String], area_id: Option<&str>| match (target.evidence, offered) {
                        (Evidence::Services(_), Some(towns)) => {
                            places.iter().any(|p| towns.contains(p.as_str()))
                        }
                        (Evidence::Forum, _) => match area_id {
                            Some(id) => forums.contains_key(id),
                            None => places.iter().any(|p| forums.contains_key(p)),
                        },
                        _ => false,
                    };
                let status = if met_in(std::slice::from_ref(&m.code), None) {
                    Met::Alone
                } else if let Some((area, _)) = own_areas.iter().find(|(area, members)| {
                    target.through_area && met_in(members, Some(area.id.as_str()))
                }) {
                    Met::ThroughArea(area.name.clone())
                } else {
                    missing.push(target.missing_ja);
                    Met::Missing
                };
                statuses.push(status);
            }
            TargetRow {
                code: m.code.clone(),
                name: m.name.clone(),
                statuses,
                missing,
                forum: forums.get(&m.code).cloned(),
                may_record: may_record_town(actor, &m.code),
            }
        })
        .collect();
    let area_forums = areas
        .iter()
        .map(|(area, members)| AreaForum {
            id: area.id.clone(),
            name: area.name.clone(),
            forum: forums.get(&area.id).cloned(),
            may_record: members.iter().all(|c| may_record_town(actor, c)),
        })
        .collect();
    let centre = crate::organisations::repo::partners_in_prefecture(&state.db, prefecture)
        .await?
        .iter()
        .any(|o| o.kind == crate::organisations::OrganisationKind::SupportCenter);
    let prefecture_targets = PLAN_TARGETS
        .iter()
        .filter(|t| t.level == TargetLevel::Prefecture)
        .map(|t| {
            let met = match t.evidence {
                Evidence::SupportCentre => centre,
                Evidence::Services(kinds) => !towns_offered(services, served, kinds).is_empty(),
                Evidence::Forum => forums.contains_key(prefecture),
            };
            (t.label, met, t.missing_ja)
        })
        .collect();
    Ok((targets, area_forums, prefecture_targets))
}

/// What the plan targets ask of a person today, for their home page: the municipalities of
/// their reach with a target not met (their own town's missing targets named).
#[derive(Debug, Default)]
pub struct GapsWork {
    pub may_view: bool,
    /// Municipalities of the prefecture with at least one target not met.
    pub towns_missing: usize,
    pub towns: usize,
    /// The person's own town (municipal staff, the council): what it misses.
    pub own_town: Option<(String, Vec<&'static str>)>,
}

pub async fn work_for(state: &AppState, actor: &Actor) -> Result<GapsWork, AppError> {
    let Some(prefecture) = prefectures_of(actor).into_iter().next() else {
        return Ok(GapsWork::default());
    };
    let today = state.clock.today_jst();
    let towns = municipalities::in_prefecture(&prefecture, today);
    let services = directory::services_of_prefecture(state, &prefecture).await?;
    let areas = municipalities::areas_with_members(&state.db, &prefecture).await?;
    let served: Vec<Vec<String>> = services.iter().map(served_by).collect();
    let (targets, _, _) = plan_status(
        state,
        actor,
        &prefecture,
        &towns,
        &areas,
        &services,
        &served,
    )
    .await?;
    let own: Vec<String> = actor
        .memberships
        .iter()
        .filter(|m| scope_of(m.role, Permission::ViewAggregates) == Some(Scope::OwnMunicipality))
        .map(|m| m.municipality_code.to_string())
        .collect();
    Ok(GapsWork {
        may_view: true,
        towns_missing: targets.iter().filter(|t| !t.missing.is_empty()).count(),
        towns: targets.len(),
        own_town: targets
            .iter()
            .find(|t| own.contains(&t.code))
            .map(|t| (t.name.clone(), t.missing.clone())),
    })
}

fn may_record_town(actor: &Actor, code: &str) -> bool {
    MunicipalityCode::parse(code).is_ok_and(|c| {
        may(
            actor,
            Permission::KeepPlanRecords,
            Some(&Target::place("plan_forum", c)),
        )
        .allowed()
    })
}

/// Where a forum may be recorded: a municipality of the prefecture the person keeps plan
/// records for, or a 圏域 all of whose municipalities they do.
async fn forum_place(
    state: &AppState,
    actor: &Actor,
    place: &str,
) -> Result<Option<(String, String)>, AppError> {
    if let Some(m) = municipalities::lookup(place)
        && m.kind != "prefecture"
    {
        return Ok(may_record_town(actor, place).then(|| (m.prefecture_code.clone(), m.name)));
    }
    for prefecture in prefectures_of(actor) {
        let areas = municipalities::areas_with_members(&state.db, &prefecture).await?;
        if let Some((area, members)) = areas.iter().find(|(a, _)| a.id == place) {
            let all = members.iter().all(|c| may_record_town(actor, c));
            return Ok(all.then(|| (prefecture.clone(), area.name.clone())));
        }
    }
    Ok(None)
}

/// Records that a place holds a 協議の場 since a date. `Err` lists the problems; nothing
/// is written then. Returns the prefecture of the place.
pub async fn record_forum(
    gate: &Gate<'_>,
    state: &AppState,
    place: &str,
    established_on: &str,
    note: &str,
) -> Result<Result<String, Vec<FieldError>>, AppError> {
    let Some((prefecture, name)) = forum_place(state, &gate.current().actor, place).await? else {
        return Err(refused(gate, place).await);
    };
    let mut errors = Vec::new();
    let today = state.clock.today_jst();
    let on = match tsunagu_core::calendar::parse_date_ja(established_on.trim()) {
        None => {
            errors.push(FieldError::new(
                "established_on",
                "format",
                "設置日を、2024-04-01 や 令和6年4月1日 のように入力してください",
            ));
            None
        }
        Some(d) if d > today => {
            errors.push(FieldError::new(
                "established_on",
                "future",
                "設置日に未来の日付は入力できません",
            ));
            None
        }
        Some(d) => Some(d),
    };
    let note = tsunagu_core::text::normalise_typed(note).trim().to_string();
    if let Some(c) = tsunagu_core::text::hidden_character(&note, false) {
        errors.push(FieldError::new(
            "note",
            "format",
            tsunagu_core::text::hidden_character_message("メモ", c),
        ));
    } else if note.chars().count() > 200 {
        errors.push(FieldError::new(
            "note",
            "too_long",
            "メモは200文字以内で入力してください",
        ));
    }
    let (Some(on), true) = (on, errors.is_empty()) else {
        return Ok(Err(errors));
    };
    let now = state.clock.now();
    let account = gate.current().account.id.clone();
    let event = Event::new(Action::Update, Outcome::Allowed)
        .resource("plan_forum", place)
        .detail(format!("{name}; established_on={on}"));
    gate.write(event, async |tx| {
        repo::record(tx, place, on, &note, &account, now).await?;
        Ok(Written::Changed {
            value: (),
            fields: vec!["established_on".into(), "note".into()],
        })
    })
    .await?;
    Ok(Ok(prefecture))
}

/// Removes the 協議の場 recorded for a place (recorded by mistake). Returns its prefecture.
pub async fn remove_forum(
    gate: &Gate<'_>,
    state: &AppState,
    place: &str,
) -> Result<String, AppError> {
    let Some((prefecture, name)) = forum_place(state, &gate.current().actor, place).await? else {
        return Err(refused(gate, place).await);
    };
    let event = Event::new(Action::Delete, Outcome::Allowed)
        .resource("plan_forum", place)
        .detail(name);
    gate.write(event, async |tx| {
        if repo::remove(tx, place).await? {
            Ok(Written::Changed {
                value: (),
                fields: vec!["established_on".into()],
            })
        } else {
            Ok(Written::Nothing(()))
        }
    })
    .await?;
    Ok(prefecture)
}

/// A place the person may not record for (or no such place): 404, audited.
async fn refused(gate: &Gate<'_>, place: &str) -> AppError {
    let event = Event::new(Action::Denied, Outcome::Denied)
        .resource("plan_forum", place)
        .detail("record forum");
    match gate.audit(event).await {
        Ok(()) => AppError::NotFound,
        Err(e) => e,
    }
}
