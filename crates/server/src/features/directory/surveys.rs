//! Survey rounds (資源調査): a town (its own services) or the prefecture (all of its towns)
//! asks the services of some kinds to confirm or correct their entries by a date. Each
//! facility answers in tsunagu, from its entry as it stands (its last answer or later
//! edits); the town answers for facilities without accounts. The people asked hear it in
//! their notice area when the round opens and when reminded; the runner sees progress per
//! municipality and takes the results as a spreadsheet.

use std::collections::{BTreeMap, HashMap};

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use tsunagu_core::access::{Permission, Scope, Target, may, scope_of};
use tsunagu_core::directory::{has_places, service_kind};
use tsunagu_core::ids::{OrganisationId, ServiceId, SurveyId};
use tsunagu_core::municipality::MunicipalityCode;
use tsunagu_core::text::{hidden_character, hidden_character_message, normalise_typed};

use super::repo::surveys::{self as repo, Asked, NewRound, Round};
use super::repo::{self as directory_repo, Service, ServiceDetail};
use super::service::{self as entries, Saved};
use crate::audit::{Action, Event, Outcome};
use crate::auth::repo::accounts;
use crate::auth::session::CurrentSession;
use crate::error::{AppError, FieldError};
use crate::features::municipalities::repo as municipalities;
use crate::features::notices::{self, Kind};
use crate::gate::{self, Gate, Opened, Use, Written};
use crate::state::AppState;
use crate::tabular::{Cell, Row, Sheet};

/// The longest a round may run.
const MAX_DAYS: i64 = 366;

/// The form's fields an answer may change; the rest of the entry stays as it is.
fn answer_field(key: &str) -> bool {
    matches!(
        key,
        "capacity" | "care_children_now" | "waiting_list" | "nurse_hours"
    ) || key.starts_with("accept_")
        || key.starts_with("cond_")
        || key.starts_with("dev_")
}

/// The figures as answered, kept with the answer (the round's results).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Answer {
    pub capacity: Option<i64>,
    pub care_children_now: Option<i64>,
    pub waiting_list: Option<i64>,
    /// Accepted care items, by code.
    pub care: Vec<String>,
    /// `(class age or -1, vacancies)`.
    pub vacancies: Vec<(i64, i64)>,
    pub as_of: Option<NaiveDate>,
}

impl Answer {
    pub fn care_words(&self) -> String {
        self.care
            .iter()
            .filter_map(|c| tsunagu_core::care::CareItem::parse(c).ok())
            .map(|c| c.short_label_ja())
            .collect::<Vec<_>>()
            .join("、")
    }

    pub fn vacancy_words(&self) -> String {
        self.vacancies
            .iter()
            .map(|(age, n)| format!("{}{}人", entries::class_age_label(*age), n))
            .collect::<Vec<_>>()
            .join("、")
    }
}

// ---------------------------------------------------------------------------------------
// Opening a round
// ---------------------------------------------------------------------------------------

/// Where the person may run rounds: `(municipality code or "" for the whole prefecture,
/// label)`, with the prefecture of each.
pub fn places_for(current: &CurrentSession, today: NaiveDate) -> Vec<(String, String, String)> {
    let mut out: Vec<(String, String, String)> = Vec::new();
    for m in &current.actor.memberships {
        let prefecture = m.municipality_code.to_string()[..2].to_string();
        match scope_of(m.role, Permission::RunSurvey) {
            Some(Scope::Prefecture | Scope::Everything) => {
                let name = prefecture_name(&prefecture);
                if !out.iter().any(|(c, p, _)| c.is_empty() && *p == prefecture) {
                    out.push((String::new(), prefecture.clone(), format!("{name}の全域")));
                }
                for town in municipalities::in_prefecture(&prefecture, today) {
                    if !out.iter().any(|(c, _, _)| *c == town.code) {
                        out.push((town.code.clone(), prefecture.clone(), town.name.clone()));
                    }
                }
            }
            Some(_) => {
                let code = m.municipality_code.to_string();
                if !out.iter().any(|(c, _, _)| *c == code) {
                    let name = municipalities::name_of(&code).to_string();
                    out.push((code, prefecture, name));
                }
            }
            None => {}
        }
    }
    out
}

fn prefecture_name(prefecture: &str) -> String {
    municipalities::prefecture_list()
        .into_iter()
        .find(|p| p.prefecture_code == prefecture)
        .map(|p| p.name)
        .unwrap_or_default()
}

/// The round's place as the policy sees it (a town, or the prefecture itself).
fn place_target(prefecture: &str, town: Option<&str>) -> Option<Target> {
    let code = match town {
        Some(code) => code.to_string(),
        None => {
            municipalities::prefecture_list()
                .into_iter()
                .find(|p| p.prefecture_code == prefecture)?
                .code
        }
    };
    Some(Target::place(
        repo::RESOURCE_TYPE,
        MunicipalityCode::parse(&code).ok()?,
    ))
}

/// Opens a round from the form: a title, the kinds asked, the place and the last day.
/// Every service of those kinds located there is asked, and the people who keep each
/// entry are told. `Err` holds the problems beside their fields; nothing is written then.
pub async fn open(
    gate: &Gate<'_>,
    state: &AppState,
    form: &HashMap<String, String>,
) -> Result<Result<SurveyId, Vec<FieldError>>, AppError> {
    let current = gate.current();
    let mut errors = Vec::new();
    let get = |k: &str| {
        form.get(k)
            .map(|v| normalise_typed(v).trim().to_string())
            .unwrap_or_default()
    };
    let title = get("title");
    if let Some(c) = hidden_character(&title, false) {
        errors.push(FieldError::new(
            "title",
            "format",
            hidden_character_message("調査の名前", c),
        ));
    } else if title.is_empty() {
        errors.push(FieldError::new(
            "title",
            "required",
            "調査の名前を入力してください",
        ));
    } else if title.chars().count() > 100 {
        errors.push(FieldError::new(
            "title",
            "too_long",
            "調査の名前は100文字以内で入力してください",
        ));
    }
    let mut kinds: Vec<String> = Vec::new();
    for (key, value) in form {
        if let Some(code) = key.strip_prefix("kind_")
            && !value.is_empty()
        {
            if service_kind(code).is_none() {
                errors.push(FieldError::new(
                    "kinds",
                    "unknown",
                    format!("「{code}」という種別はありません"),
                ));
            } else {
                kinds.push(code.to_string());
            }
        }
    }
    kinds.sort_by_key(|k| {
        tsunagu_core::directory::SERVICE_KINDS
            .iter()
            .position(|s| s.code == k)
    });
    if kinds.is_empty() && !errors.iter().any(|e| e.field == "kinds") {
        errors.push(FieldError::new(
            "kinds",
            "required",
            "調査する種別を1つ以上選んでください",
        ));
    }
    let today = state.clock.today_jst();
    let closes_on = match tsunagu_core::calendar::parse_date_ja(&get("closes_on")) {
        None => {
            errors.push(FieldError::new(
                "closes_on",
                "format",
                "締切日を、2027-01-31 や 令和9年1月31日 のように入力してください",
            ));
            None
        }
        Some(d) if d < today => {
            errors.push(FieldError::new(
                "closes_on",
                "past",
                "締切日に過去の日付は入力できません",
            ));
            None
        }
        Some(d) if (d - today).num_days() > MAX_DAYS => {
            errors.push(FieldError::new(
                "closes_on",
                "too_far",
                "締切日は1年以内にしてください",
            ));
            None
        }
        Some(d) => Some(d),
    };
    // The place: one the person may run rounds for.
    let place = get("place");
    // A town by its code, the whole prefecture by its two digits.
    let places = places_for(current, today);
    let Some((town, prefecture, place_label)) = places
        .into_iter()
        .find(|(c, p, _)| (c.is_empty() && *p == place) || (!c.is_empty() && *c == place))
    else {
        errors.push(FieldError::new(
            "place",
            "not_allowed",
            "調査できる範囲の市区町村を選んでください",
        ));
        return Ok(Err(errors));
    };
    let town = (!town.is_empty()).then_some(town);
    let Some(target) = place_target(&prefecture, town.as_deref()) else {
        return Err(AppError::NotFound);
    };
    if !may(&current.actor, Permission::RunSurvey, Some(&target)).allowed() {
        errors.push(FieldError::new(
            "place",
            "not_allowed",
            "調査できる範囲の市区町村を選んでください",
        ));
    }
    let (Some(closes_on), true) = (closes_on, errors.is_empty()) else {
        return Ok(Err(errors));
    };
    // The services asked: every active one of the kinds located in the place.
    let services = entries::services_of_prefecture(state, &prefecture).await?;
    let asked: Vec<(ServiceId, OrganisationId, String)> = services
        .iter()
        .map(|d| &d.service)
        .filter(|s| kinds.contains(&s.kind))
        .filter(|s| town.as_ref().is_none_or(|t| s.municipality_code == *t))
        .map(|s| {
            (
                s.id.clone(),
                s.organisation_id.clone(),
                s.municipality_code.clone(),
            )
        })
        .collect();
    if asked.is_empty() {
        return Ok(Err(vec![FieldError::new(
            "kinds",
            "none",
            format!("{place_label}には、選んだ種別の事業所が登録されていません"),
        )]));
    }
    let id = SurveyId::from_uuid(uuid::Uuid::new_v4());
    let now = state.clock.now();
    let account = current.account.id.clone();
    let event = Event::new(Action::Create, Outcome::Allowed)
        .resource(repo::RESOURCE_TYPE, &id)
        .detail(format!(
            "{place_label}; kinds={}; asked={}; closes_on={closes_on}",
            kinds.join(","),
            asked.len()
        ));
    let message = format!(
        "資源調査「{title}」への回答をお願いします（締切：{}）。受け入れている医療的ケアと空き状況を確認して回答してください。",
        tsunagu_core::calendar::format_wareki(closes_on)
    );
    let round = NewRound {
        id: &id,
        title: &title,
        prefecture_code: &prefecture,
        municipality_code: town.as_deref(),
        kinds: &kinds,
        closes_on,
        asked: &asked,
    };
    gate.write(event, async |tx| {
        repo::insert(tx, &round, &account, now).await?;
        tell_keepers(tx, &asked, &message, now).await?;
        Ok(Written::Changed {
            value: (),
            fields: vec!["title".into(), "kinds".into(), "closes_on".into()],
        })
    })
    .await?;
    Ok(Ok(id))
}

/// Tells who keeps each asked entry: the organisation's own staff, or for an organisation
/// without accounts the staff of the town it is in (who answer on its behalf).
async fn tell_keepers(
    tx: &mut sqlx::AnyConnection,
    asked: &[(ServiceId, OrganisationId, String)],
    message: &str,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<(), AppError> {
    let organisations: Vec<&OrganisationId> = {
        let mut o: Vec<&OrganisationId> = asked.iter().map(|(_, o, _)| o).collect();
        o.sort();
        o.dedup();
        o
    };
    let staff = accounts::staff_of_each(tx, &organisations).await?;
    let mut told: Vec<tsunagu_core::ids::AccountId> = Vec::new();
    let mut towns_told: Vec<&str> = Vec::new();
    for (_, organisation, town) in asked {
        match staff.get(organisation) {
            Some(people) => told.extend(people.iter().cloned()),
            None if !towns_told.contains(&town.as_str()) => {
                told.extend(accounts::municipal_staff_in(tx, town).await?);
                towns_told.push(town);
            }
            None => {}
        }
    }
    told.sort();
    told.dedup();
    notices::notify(tx, &told, Kind::Survey, message, "/directory/mine", now).await?;
    Ok(())
}

// ---------------------------------------------------------------------------------------
// The runner's view
// ---------------------------------------------------------------------------------------

/// The rounds the person may run or follow, newest first.
pub async fn rounds_for(
    state: &AppState,
    current: &CurrentSession,
) -> Result<Vec<Round>, AppError> {
    let mut out: Vec<Round> = Vec::new();
    for m in &current.actor.memberships {
        let prefecture = m.municipality_code.to_string()[..2].to_string();
        let town = match scope_of(m.role, Permission::RunSurvey) {
            Some(Scope::Prefecture | Scope::Everything) => None,
            Some(_) => Some(m.municipality_code.to_string()),
            None => continue,
        };
        for round in repo::rounds_in(&state.db, &prefecture, town.as_deref()).await? {
            if !out.iter().any(|r| r.id == round.id) {
                out.push(round);
            }
        }
    }
    out.sort_by_key(|r| std::cmp::Reverse(r.opened_at));
    Ok(out)
}

/// Progress in one municipality.
#[derive(Debug, Clone)]
pub struct TownProgress {
    pub code: String,
    pub name: String,
    pub asked: usize,
    pub answered: usize,
}

/// A round opened for its runner, with every service asked.
pub struct RoundView {
    pub round: Round,
    pub place: String,
    pub open: bool,
    pub towns: Vec<TownProgress>,
    pub asked: Vec<Asked>,
}

impl RoundView {
    pub fn kind_labels(&self) -> String {
        self.round
            .kinds
            .iter()
            .filter_map(|k| service_kind(k))
            .map(|k| k.label)
            .collect::<Vec<_>>()
            .join("、")
    }
}

fn place_label(round: &Round) -> String {
    match &round.municipality_code {
        Some(code) => municipalities::name_of(code).to_string(),
        None => format!("{}の全域", prefecture_name(&round.prefecture_code)),
    }
}

/// Opens a round for its runner (their town's or their prefecture's), audited as a read.
pub async fn view(gate: &Gate<'_>, state: &AppState, id: &str) -> Result<RoundView, AppError> {
    let opened = gate
        .open::<Round>(id, Permission::RunSurvey, Use::Read("view"))
        .await?;
    let round = opened.record;
    let asked = repo::asked_in(&state.db, &round.id).await?;
    let mut towns: BTreeMap<String, TownProgress> = BTreeMap::new();
    for a in &asked {
        let town = towns
            .entry(a.municipality_code.clone())
            .or_insert_with(|| TownProgress {
                code: a.municipality_code.clone(),
                name: municipalities::name_of(&a.municipality_code).to_string(),
                asked: 0,
                answered: 0,
            });
        town.asked += 1;
        if a.answered_at.is_some() {
            town.answered += 1;
        }
    }
    Ok(RoundView {
        place: place_label(&round),
        open: round.is_open(state.clock.today_jst()),
        round,
        towns: towns.into_values().collect(),
        asked,
    })
}

/// Reminds everyone who has not answered (in their notice area). `Ok(0)` for a closed
/// round: nothing is sent.
pub async fn remind(gate: &Gate<'_>, state: &AppState, id: &str) -> Result<usize, AppError> {
    let opened = gate
        .open::<Round>(id, Permission::RunSurvey, Use::Change)
        .await?;
    if !opened.record.is_open(state.clock.today_jst()) {
        return Ok(0);
    }
    let now = state.clock.now();
    let message = format!(
        "【再送】資源調査「{}」への回答がまだです（締切：{}）。受け入れている医療的ケアと空き状況を確認して回答してください。",
        opened.record.title,
        tsunagu_core::calendar::format_wareki(opened.record.closes_on)
    );
    let event = gate::change_event(&opened, Action::Update).detail("remind");
    gate.write(event, async |tx| {
        let waiting = repo::remind(tx, opened.id(), now).await?;
        if waiting.is_empty() {
            return Ok(Written::Nothing(0));
        }
        tell_keepers(tx, &waiting, &message, now).await?;
        Ok(Written::Changed {
            value: waiting.len(),
            fields: vec!["reminded_at".into()],
        })
    })
    .await
}

/// Closes a round before its last day; false when it was closed already.
pub async fn close(gate: &Gate<'_>, state: &AppState, id: &str) -> Result<bool, AppError> {
    let opened = gate
        .open::<Round>(id, Permission::RunSurvey, Use::Change)
        .await?;
    let now = state.clock.now();
    let account = gate.current().account.id.clone();
    let event = gate::change_event(&opened, Action::Update).detail("close");
    gate.write(event, async |tx| {
        if repo::close(tx, opened.id(), &account, now).await? {
            Ok(Written::Changed {
                value: true,
                fields: vec!["closed_at".into()],
            })
        } else {
            Ok(Written::Nothing(false))
        }
    })
    .await
}

/// The results as a sheet: one row per service asked, its answer's figures.
pub fn results_sheet(view: &RoundView) -> Sheet {
    let header = [
        "市区町村",
        "事業所",
        "サービス",
        "種別",
        "回答",
        "回答日時",
        "回答者",
        "定員",
        "医療的ケア児の受け入れ人数",
        "待機人数",
        "受け入れる医療的ケア",
        "空き",
        "空きの時点",
    ]
    .map(String::from)
    .to_vec();
    let rows = view
        .asked
        .iter()
        .map(|a| {
            let answer: Answer = a
                .answer
                .as_deref()
                .and_then(|json| serde_json::from_str(json).ok())
                .unwrap_or_default();
            let number = |n: Option<i64>| n.map_or(Cell::Text(String::new()), Cell::Number);
            let answered = a.answered_at.is_some();
            Row {
                about: format!("「{}」", a.service_name),
                cells: vec![
                    Cell::Text(municipalities::name_of(&a.municipality_code).to_string()),
                    Cell::Text(a.organisation_name.clone()),
                    Cell::Text(a.service_name.clone()),
                    Cell::Text(service_kind(&a.kind).map_or(a.kind.clone(), |k| k.label.into())),
                    Cell::Text(
                        if answered {
                            "回答済み"
                        } else {
                            "未回答"
                        }
                        .into(),
                    ),
                    Cell::Text(a.answered_at.map_or(String::new(), |t| {
                        crate::view::format_instant_jst(t.timestamp_millis())
                    })),
                    Cell::Text(a.answered_by_name.clone()),
                    number(answer.capacity),
                    number(answer.care_children_now),
                    number(answer.waiting_list),
                    Cell::Text(answer.care_words()),
                    Cell::Text(answer.vacancy_words()),
                    answer.as_of.map_or(Cell::Text(String::new()), Cell::Date),
                ],
            }
        })
        .collect();
    Sheet {
        name: "資源調査".into(),
        header,
        rows,
    }
}

// ---------------------------------------------------------------------------------------
// Answering
// ---------------------------------------------------------------------------------------

/// One open question for a person: a service they keep, asked in an open round.
#[derive(Debug, Clone)]
pub struct Question {
    pub round_id: SurveyId,
    pub title: String,
    pub closes_on: NaiveDate,
    pub service_id: ServiceId,
    pub service_name: String,
    pub organisation_name: String,
}

impl Question {
    pub fn closes_ja(&self) -> String {
        tsunagu_core::calendar::format_wareki(self.closes_on)
    }
}

/// The open questions for the entries a person keeps. A town's staff answer for the
/// facilities of their town that have no accounts of their own; a facility for itself.
pub async fn questions_for(
    state: &AppState,
    current: &CurrentSession,
) -> Result<Vec<Question>, AppError> {
    let kept = entries::organisations_kept_by(state, current).await?;
    if kept.is_empty() {
        return Ok(Vec::new());
    }
    let own: Vec<&OrganisationId> = current
        .memberships
        .iter()
        .map(|m| &m.organisation_id)
        .collect();
    let ids: Vec<&OrganisationId> = kept.iter().map(|o| &o.id).collect();
    let mut conn = state.db.pool().acquire().await?;
    let staff = accounts::staff_of_each(&mut conn, &ids).await?;
    drop(conn);
    // Their own organisations, and those nobody else answers for.
    let answering: Vec<&OrganisationId> = ids
        .into_iter()
        .filter(|id| own.contains(id) || !staff.contains_key(*id))
        .collect();
    let today = state.clock.today_jst();
    Ok(repo::open_questions(&state.db, &answering, today)
        .await?
        .into_iter()
        .map(|(a, title, closes_on)| Question {
            round_id: a.round_id,
            title,
            closes_on,
            service_id: a.service_id,
            service_name: a.service_name,
            organisation_name: a.organisation_name,
        })
        .collect())
}

/// The answer form's round, service and entry, for a person who keeps the entry.
pub struct Answering {
    pub round: Round,
    pub asked: Asked,
    pub detail: ServiceDetail,
    pub open: bool,
}

/// Opens a question: the service for a change (its keeper only) and the round's row for
/// it. A round that did not ask this service answers 404 like a missing one.
pub async fn answering(
    gate: &Gate<'_>,
    state: &AppState,
    round_id: &str,
    service_id: &str,
) -> Result<(Answering, Opened<Service>), AppError> {
    let opened = gate
        .open::<Service>(service_id, Permission::EditDirectory, Use::Change)
        .await?;
    let round = match SurveyId::parse(round_id) {
        Ok(id) => repo::get(&state.db, &id).await?,
        Err(_) => None,
    };
    let asked = match &round {
        Some(r) => repo::asked_one(&state.db, &r.id, opened.id()).await?,
        None => None,
    };
    let (Some(round), Some(asked)) = (round, asked) else {
        return Err(gate.refused::<Service>(service_id).await);
    };
    let detail = directory_repo::detail_of(&state.db, opened.record.clone()).await?;
    Ok((
        Answering {
            open: round.is_open(state.clock.today_jst()),
            round,
            asked,
            detail,
        },
        opened,
    ))
}

/// The form's values laid over the entry: only the fields an answer may change.
pub fn answer_values(
    detail: &ServiceDetail,
    form: &HashMap<String, String>,
) -> HashMap<String, String> {
    let mut values = entries::values_of(detail);
    values.retain(|k, _| !answer_field(k));
    for (k, v) in form {
        if answer_field(k) || k.starts_with("vac_") || k == "as_of" || k == "version" {
            values.insert(k.clone(), v.clone());
        }
    }
    values
}

/// Saves an answer: the entry with the answer's fields, the vacancies, the entry confirmed
/// as current and the answer recorded with its figures, in one transaction. A round closed
/// (or past its last day) takes nothing; neither does a form made on an older version.
pub async fn answer(
    gate: &Gate<'_>,
    state: &AppState,
    round_id: &str,
    service_id: &str,
    form: &HashMap<String, String>,
) -> Result<Saved, AppError> {
    let (answering, opened) = answering(gate, state, round_id, service_id).await?;
    let today = state.clock.today_jst();
    if !answering.open {
        return Ok(Saved::Invalid(vec![closed_error(&answering.round)]));
    }
    let values = answer_values(&answering.detail, form);
    let entry = match entries::parse_entry(state, &values).await? {
        Ok(entry) => entry,
        Err(errors) => return Ok(Saved::Invalid(errors)),
    };
    let service = &answering.detail.service;
    let takes_places = service_kind(&service.kind).is_some_and(has_places);
    let vacancies = if takes_places {
        match entries::vacancy_reports(form, &entries::vacancy_ages(service), entry.capacity, today)
        {
            Ok(parsed) => Some(parsed),
            Err(errors) => return Ok(Saved::Invalid(errors)),
        }
    } else {
        None
    };
    let expected = entries::sent_version(form);
    if expected != service.version {
        return Ok(Saved::Conflict);
    }
    let recorded = Answer {
        capacity: entry.capacity,
        care_children_now: entry.care_children_now,
        waiting_list: entry.waiting_list,
        care: entry
            .care
            .iter()
            .map(|(c, _)| c.code().to_string())
            .collect(),
        vacancies: vacancies.as_ref().map(|v| v.1.clone()).unwrap_or_default(),
        as_of: vacancies.as_ref().map(|v| v.0),
    };
    let answer_json =
        serde_json::to_string(&recorded).map_err(|e| AppError::Internal(e.to_string()))?;
    let now = state.clock.now();
    let account = gate.current().account.id.clone();
    let round = answering.round.id.clone();
    let event = gate::change_event(&opened, Action::Update).detail(format!("survey={round}"));
    let previous = service.municipality_code.clone();
    // The round may close between the check above and the write: the answer's own
    // statement checks it again, and a refused answer rolls everything back.
    let written = gate
        .write(event, async |tx| {
            if !directory_repo::update(tx, opened.id(), expected, &previous, &entry, &account, now)
                .await?
            {
                return Ok(Written::Nothing(Saved::Conflict));
            }
            if let Some((as_of, reports)) = &vacancies
                && !directory_repo::record_vacancies(
                    tx,
                    opened.id(),
                    expected + 1,
                    reports,
                    *as_of,
                    Some(&account),
                    now,
                )
                .await?
            {
                return Ok(Written::Nothing(Saved::Conflict));
            }
            if !repo::mark_answered(tx, &round, opened.id(), &answer_json, &account, now, today)
                .await?
            {
                return Ok(Written::Nothing(Saved::Invalid(vec![closed_error(
                    &answering.round,
                )])));
            }
            Ok(Written::Changed {
                value: Saved::Saved,
                fields: vec!["survey_answer".into(), "confirmed".into()],
            })
        })
        .await?;
    Ok(written)
}

fn closed_error(round: &Round) -> FieldError {
    FieldError::new(
        "survey",
        "closed",
        format!(
            "資源調査「{}」は締め切られました（締切：{}）。回答は保存していません。情報の更新は「資源情報」からできます",
            round.title,
            tsunagu_core::calendar::format_wareki(round.closes_on)
        ),
    )
}

/// What survey rounds ask of a person today, for their home page.
#[derive(Debug, Default)]
pub struct SurveyWork {
    /// Rounds waiting for the person's answer, and the soonest last day.
    pub questions: usize,
    pub soonest: String,
    /// Open rounds the person runs: (title, answered, asked, id).
    pub running: Vec<(String, i64, i64, String)>,
}

pub async fn work_for(state: &AppState, current: &CurrentSession) -> Result<SurveyWork, AppError> {
    let questions = if may(&current.actor, Permission::EditDirectory, None).allowed() {
        questions_for(state, current).await?
    } else {
        Vec::new()
    };
    let today = state.clock.today_jst();
    let running = if may(&current.actor, Permission::RunSurvey, None).allowed() {
        rounds_for(state, current)
            .await?
            .into_iter()
            .filter(|r| r.is_open(today))
            .map(|r| (r.title.clone(), r.answered, r.asked, r.id.to_string()))
            .collect()
    } else {
        Vec::new()
    };
    Ok(SurveyWork {
        soonest: questions.first().map(|q| q.closes_ja()).unwrap_or_default(),
        questions: questions.len(),
        running,
    })
}
