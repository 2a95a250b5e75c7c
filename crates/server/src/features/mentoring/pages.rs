//! The programme's pages: the public page with the application form, a signed-in family's
//! form and applications, the office's inbox, an application with suggested mentors, the
//! office's mentors, and a mentor's own page.

use std::collections::HashMap;

use askama::Template;
use axum::extract::{Path, Query, RawForm, State};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::{Html, IntoResponse, Redirect, Response};
use tsunagu_core::care::CareItem;
use tsunagu_core::mentoring::{Programme, Slot, earliest_day, latest_day, slot_of_key};

use super::repo::{self, Application, Consultation, Mentor};
use super::service::{self, Applicant, Applied, Decided, Suggestion};
use crate::auth::guard::{MaybeSession, audit_context};
use crate::auth::session::CurrentSession;
use crate::error::{AppError, FieldError, PageError};
use crate::gate::{Gate, Use};
use crate::organisations::Organisation;
use crate::state::AppState;
use crate::view::Chrome;
use crate::web::params;

/// The choices the forms offer.
pub struct Choices {
    pub topics: &'static [(&'static str, &'static str)],
    pub work: &'static [(&'static str, &'static str)],
    pub care: Vec<(&'static str, &'static str)>,
}

impl Choices {
    fn new() -> Self {
        Choices {
            topics: service::topic_choices(),
            work: service::work_choices(),
            care: CareItem::ALL
                .iter()
                .filter(|c| c.parent().is_none())
                .map(|c| (c.code(), c.short_label_ja()))
                .collect(),
        }
    }
}

/// One day of open slots: the day's label and each slot with whether a mentor is free.
pub struct OpenDay {
    pub label: String,
    pub slots: Vec<(String, String, usize)>,
}

fn open_days(programme: &Programme, open: &[(Slot, Vec<Mentor>)]) -> Vec<OpenDay> {
    let mut days: Vec<OpenDay> = Vec::new();
    for (slot, free) in open {
        let label = Slot {
            date: slot.date,
            index: 0,
        }
        .label_ja(programme);
        let day_label = label
            .split('）')
            .next()
            .map(|d| format!("{d}）"))
            .unwrap_or_default();
        let entry = (
            slot.key(programme),
            slot.time(programme)
                .map(|t| t.label_ja())
                .unwrap_or_default(),
            free.len(),
        );
        match days.last_mut() {
            Some(day) if day.label == day_label => day.slots.push(entry),
            _ => days.push(OpenDay {
                label: day_label,
                slots: vec![entry],
            }),
        }
    }
    days
}

#[derive(Template)]
#[template(path = "mentoring/apply.html")]
struct ApplyPage {
    chrome: Chrome,
    public: bool,
    action: &'static str,
    csrf_token: String,
    rules: Vec<String>,
    days: Vec<OpenDay>,
    /// Every slot a wish may name: (key, label).
    wishable: Vec<(String, String)>,
    towns: Vec<(String, String)>,
    mentors: Vec<Mentor>,
    choices: Choices,
    values: HashMap<String, String>,
    errors: Vec<FieldError>,
    source: &'static str,
    prefecture_name: String,
}

impl ApplyPage {
    fn value(&self, key: &str) -> String {
        self.values.get(key).cloned().unwrap_or_default()
    }

    fn checked(&self, key: &str) -> bool {
        self.values.get(key).is_some_and(|v| !v.is_empty())
    }

    fn error_of(&self, field: &str) -> Option<&FieldError> {
        self.errors.iter().find(|e| e.field == field)
    }

    fn care_words(&self, mentor: &Mentor) -> String {
        care_words(&mentor.child_care)
    }

    fn topic_words(&self, mentor: &Mentor) -> String {
        topic_words(&mentor.topics)
    }
}

fn care_words(codes: &[String]) -> String {
    codes
        .iter()
        .filter_map(|c| CareItem::parse(c).ok())
        .map(CareItem::short_label_ja)
        .collect::<Vec<_>>()
        .join("・")
}

fn topic_words(codes: &[String]) -> String {
    codes
        .iter()
        .filter_map(|t| tsunagu_core::mentoring::topic_label(t))
        .collect::<Vec<_>>()
        .join("・")
}

/// The programme of the prefecture asked for (the only one when none is named).
async fn programme_office(
    state: &AppState,
    q: &HashMap<String, String>,
) -> Result<(Organisation, &'static Programme), AppError> {
    let prefecture = q
        .get("prefecture")
        .cloned()
        .or_else(|| {
            tsunagu_core::mentoring::PROGRAMMES
                .first()
                .map(|p| p.prefecture.to_string())
        })
        .unwrap_or_default();
    service::office_in(state, &prefecture)
        .await?
        .ok_or(AppError::NotFound)
}

#[allow(clippy::too_many_arguments)]
async fn apply_page(
    state: &AppState,
    chrome: Chrome,
    public: bool,
    csrf_token: String,
    office: Organisation,
    programme: &'static Programme,
    mut values: HashMap<String, String>,
    errors: Vec<FieldError>,
) -> Result<ApplyPage, AppError> {
    let today = state.clock.today_jst();
    let from = earliest_day(programme, today);
    let to = from + chrono::Duration::weeks(service::WEEKS_SHOWN);
    let open = service::open_slots(state, &office.id, programme, from, to).await?;
    let wishable =
        tsunagu_core::mentoring::slots_between(programme, from, latest_day(programme, today))
            .into_iter()
            .map(|s| (s.key(programme), s.label_ja(programme)))
            .collect();
    let mentors = repo::mentors_of(&state.db, &office.id)
        .await?
        .into_iter()
        .filter(|m| m.active && m.public_consent)
        .collect();
    // A new form gets its own key: sending it twice makes one application.
    if values.get("idempotency_key").is_none_or(|k| k.is_empty()) {
        values.insert("idempotency_key".into(), uuid::Uuid::new_v4().to_string());
    }
    Ok(ApplyPage {
        chrome,
        public,
        action: if public {
            "/public/mentoring"
        } else {
            "/mentoring/apply"
        },
        csrf_token,
        rules: service::rules_ja(programme),
        days: open_days(programme, &open),
        wishable,
        towns: crate::features::municipalities::repo::in_prefecture(programme.prefecture, today)
            .into_iter()
            .map(|m| (m.code, m.name))
            .collect(),
        mentors,
        choices: Choices::new(),
        values,
        errors,
        source: programme.source,
        prefecture_name: crate::features::municipalities::repo::prefecture_list()
            .into_iter()
            .find(|p| p.prefecture_code == programme.prefecture)
            .map(|p| p.name)
            .unwrap_or_default(),
    })
}

pub async fn public_page(
    State(state): State<AppState>,
    MaybeSession(current): MaybeSession,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Response, PageError> {
    let (office, programme) = programme_office(&state, &q).await?;
    let chrome = Chrome::for_session(
        "ペアレントメンターに相談する",
        state.settings.demo,
        current.as_ref(),
    );
    let page = apply_page(
        &state,
        chrome,
        true,
        String::new(),
        office,
        programme,
        HashMap::new(),
        Vec::new(),
    )
    .await?;
    Ok(Html(page.render()?).into_response())
}

#[derive(Template)]
#[template(path = "mentoring/applied.html")]
struct AppliedPage {
    chrome: Chrome,
    application: Application,
    wishes: Vec<String>,
    signed_in: bool,
}

async fn applied(
    state: &AppState,
    current: Option<&CurrentSession>,
    programme: &Programme,
    application: Application,
) -> Result<Response, PageError> {
    let page = AppliedPage {
        chrome: Chrome::for_session("お申し込みを受け付けました", state.settings.demo, current),
        wishes: application
            .wishes
            .iter()
            .filter_map(|k| slot_of_key(programme, k))
            .map(|s| s.label_ja(programme))
            .collect(),
        signed_in: current.is_some(),
        application,
    };
    Ok(Html(page.render()?).into_response())
}

pub async fn public_apply(
    State(state): State<AppState>,
    MaybeSession(current): MaybeSession,
    parts: Parts,
    Query(q): Query<HashMap<String, String>>,
    RawForm(body): RawForm,
) -> Result<Response, PageError> {
    let form = params::form(&body)?;
    let (office, programme) = programme_office(&state, &q).await?;
    let ctx = audit_context(&parts, current.as_ref());
    let applicant = Applicant::Public {
        client: &ctx.client_addr,
    };
    let (errors, status) = match service::apply(&ctx, &state, &office, programme, applicant, &form)
        .await?
    {
        Applied::Stored(application) => {
            return applied(&state, current.as_ref(), programme, *application).await;
        }
        Applied::Invalid(errors) => (errors, StatusCode::BAD_REQUEST),
        Applied::Limited => (
            vec![FieldError::new(
                "form",
                "limited",
                "お申し込みが続いたため、しばらく受け付けを止めています。1時間ほどたってから、もう一度お試しください",
            )],
            StatusCode::TOO_MANY_REQUESTS,
        ),
    };
    let chrome = Chrome::for_session(
        "ペアレントメンターに相談する",
        state.settings.demo,
        current.as_ref(),
    );
    let page = apply_page(
        &state,
        chrome,
        true,
        String::new(),
        office,
        programme,
        form,
        errors,
    )
    .await?;
    Ok((status, Html(page.render()?)).into_response())
}

/// A signed-in family's form: the programme of their town, prefilled from their account
/// and their child's record.
pub async fn apply_form(
    State(state): State<AppState>,
    current: CurrentSession,
) -> Result<Response, PageError> {
    let Some((office, programme, values)) = family_programme(&state, &current).await? else {
        return Err(AppError::NotFound.into());
    };
    let chrome = Chrome::for_session(
        "ペアレントメンターに相談する",
        state.settings.demo,
        Some(&current),
    );
    let page = apply_page(
        &state,
        chrome,
        false,
        current.csrf_token.clone(),
        office,
        programme,
        values,
        Vec::new(),
    )
    .await?;
    Ok(Html(page.render()?).into_response())
}

/// The programme of the family's town and the form's values from their record.
async fn family_programme(
    state: &AppState,
    current: &CurrentSession,
) -> Result<Option<(Organisation, &'static Programme, HashMap<String, String>)>, AppError> {
    let children = crate::features::children::own_children(state, current).await?;
    let Some(child) = children.first() else {
        return Ok(None);
    };
    let prefecture = &child.municipality_code[..2];
    let Some((office, programme)) = service::office_in(state, prefecture).await? else {
        return Ok(None);
    };
    let mut values = HashMap::from([
        ("name".to_string(), current.account.display_name.clone()),
        (
            "municipality_code".to_string(),
            child.municipality_code.clone(),
        ),
        ("raising".to_string(), "1".to_string()),
    ]);
    for item in CareItem::in_mask(child.care_mask) {
        values.insert(format!("care_{}", item.code()), "1".into());
    }
    Ok(Some((office, programme, values)))
}

pub async fn apply(
    State(state): State<AppState>,
    current: CurrentSession,
    parts: Parts,
    RawForm(body): RawForm,
) -> Result<Response, PageError> {
    let form = params::form(&body)?;
    let Some((office, programme, _)) = family_programme(&state, &current).await? else {
        return Err(AppError::NotFound.into());
    };
    let ctx = audit_context(&parts, Some(&current));
    match service::apply(
        &ctx,
        &state,
        &office,
        programme,
        Applicant::Guardian(&current),
        &form,
    )
    .await?
    {
        Applied::Stored(application) => {
            applied(&state, Some(&current), programme, *application).await
        }
        Applied::Invalid(errors) => {
            let chrome = Chrome::for_session(
                "ペアレントメンターに相談する",
                state.settings.demo,
                Some(&current),
            );
            let page = apply_page(
                &state,
                chrome,
                false,
                current.csrf_token.clone(),
                office,
                programme,
                form,
                errors,
            )
            .await?;
            Ok((StatusCode::BAD_REQUEST, Html(page.render()?)).into_response())
        }
        Applied::Limited => Err(AppError::NotFound.into()),
    }
}

/// One application as a list or page shows it.
pub struct ApplicationView {
    pub application: Application,
    pub wishes: Vec<String>,
    pub town: String,
    pub status: &'static str,
    pub work: &'static str,
    pub topics: String,
    pub care: String,
    pub received: String,
    pub consultation: Option<(String, String, String)>,
}

async fn view_of(
    state: &AppState,
    programme: &Programme,
    application: Application,
) -> Result<ApplicationView, AppError> {
    let consultation = repo::consultation_of(&state.db, application.id.as_str())
        .await?
        .map(|c: Consultation| {
            (
                slot_of_key(programme, &c.slot)
                    .map(|s| s.label_ja(programme))
                    .unwrap_or(c.slot.clone()),
                c.mentor_nickname,
                c.meeting_url,
            )
        });
    Ok(ApplicationView {
        wishes: application
            .wishes
            .iter()
            .filter_map(|k| slot_of_key(programme, k))
            .map(|s| s.label_ja(programme))
            .collect(),
        town: crate::features::municipalities::repo::name_of(&application.municipality_code)
            .to_string(),
        status: service::status_ja(&application.status),
        work: service::work_ja(&application.work),
        topics: topic_words(&application.topics),
        care: care_words(&application.child_care),
        received: crate::view::format_instant_jst(application.created_at.timestamp_millis()),
        consultation,
        application,
    })
}

#[derive(Template)]
#[template(path = "mentoring/mine.html")]
struct MinePage {
    chrome: Chrome,
    applications: Vec<ApplicationView>,
    may_apply: bool,
}

pub async fn mine(
    State(state): State<AppState>,
    current: CurrentSession,
) -> Result<Response, PageError> {
    let family = family_programme(&state, &current).await?;
    let programme = family
        .as_ref()
        .map(|(_, p, _)| *p)
        .unwrap_or(&tsunagu_core::mentoring::TOKYO);
    let mut applications = Vec::new();
    for a in repo::applications_by(&state.db, &current.account.id).await? {
        applications.push(view_of(&state, programme, a).await?);
    }
    let page = MinePage {
        chrome: Chrome::for_session(
            "ペアレントメンターへのお申し込み",
            state.settings.demo,
            Some(&current),
        ),
        applications,
        may_apply: family.is_some(),
    };
    Ok(Html(page.render()?).into_response())
}

#[derive(Template)]
#[template(path = "mentoring/inbox.html")]
struct InboxPage {
    chrome: Chrome,
    office: Organisation,
    applications: Vec<ApplicationView>,
    waiting: usize,
}

async fn office_or_404(
    state: &AppState,
    current: &CurrentSession,
) -> Result<(Organisation, &'static Programme), AppError> {
    service::office_of(state, current)
        .await?
        .ok_or(AppError::NotFound)
}

pub async fn inbox(
    State(state): State<AppState>,
    current: CurrentSession,
) -> Result<Response, PageError> {
    let (office, programme) = office_or_404(&state, &current).await?;
    let mut applications = Vec::new();
    for a in repo::applications_of(&state.db, &office.id, 200).await? {
        applications.push(view_of(&state, programme, a).await?);
    }
    let page = InboxPage {
        chrome: Chrome::for_session("相談の申込", state.settings.demo, Some(&current)),
        waiting: applications
            .iter()
            .filter(|a| a.application.status == "pending")
            .count(),
        applications,
        office,
    };
    Ok(Html(page.render()?).into_response())
}

#[derive(Template)]
#[template(path = "mentoring/application.html")]
struct ApplicationPage {
    chrome: Chrome,
    csrf_token: String,
    view: ApplicationView,
    suggestions: Vec<Suggestion>,
    errors: Vec<FieldError>,
    values: HashMap<String, String>,
    notice: &'static str,
}

impl ApplicationPage {
    fn error_of(&self, field: &str) -> Option<&FieldError> {
        self.errors.iter().find(|e| e.field == field)
    }

    fn value(&self, key: &str) -> String {
        self.values.get(key).cloned().unwrap_or_default()
    }
}

async fn application_page(
    state: &AppState,
    current: &CurrentSession,
    parts: &Parts,
    id: &str,
    values: HashMap<String, String>,
    errors: Vec<FieldError>,
    notice: &'static str,
) -> Result<Response, PageError> {
    let (_, programme) = office_or_404(state, current).await?;
    let gate = Gate::page(state, current, parts);
    let opened = gate
        .open::<Application>(
            id,
            tsunagu_core::access::Permission::ManageMentoring,
            Use::Read("view"),
        )
        .await?;
    let view = view_of(state, programme, opened.record).await?;
    let suggestions = if view.application.status == "pending" {
        service::suggestions(state, programme, &view.application).await?
    } else {
        Vec::new()
    };
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::BAD_REQUEST
    };
    let page = ApplicationPage {
        chrome: Chrome::for_session(
            format!("申込 {}", view.application.reference),
            state.settings.demo,
            Some(current),
        ),
        csrf_token: current.csrf_token.clone(),
        view,
        suggestions,
        errors,
        values,
        notice,
    };
    Ok((status, Html(page.render()?)).into_response())
}

pub async fn application(
    State(state): State<AppState>,
    current: CurrentSession,
    parts: Parts,
    Path(id): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Response, PageError> {
    let notice = if q.contains_key("confirmed") {
        "相談を確定しました。ご家族とメンターにお知らせしました。"
    } else if q.contains_key("declined") {
        "お申し込みをお断りしました。"
    } else {
        ""
    };
    application_page(
        &state,
        &current,
        &parts,
        &id,
        HashMap::new(),
        Vec::new(),
        notice,
    )
    .await
}

pub async fn confirm(
    State(state): State<AppState>,
    current: CurrentSession,
    parts: Parts,
    Path(id): Path<String>,
    RawForm(body): RawForm,
) -> Result<Response, PageError> {
    let form = params::form(&body)?;
    let (_, programme) = office_or_404(&state, &current).await?;
    let gate = Gate::page(&state, &current, &parts);
    match service::confirm(&gate, &state, programme, &id, &form).await? {
        Decided::Done => {
            Ok(Redirect::to(&format!("/mentoring/applications/{id}?confirmed=1")).into_response())
        }
        Decided::Invalid(errors) => {
            application_page(&state, &current, &parts, &id, form, errors, "").await
        }
        Decided::Changed => Err(AppError::Conflict(
            "この申込は、ほかの人がすでに確定またはお断りしました。画面を開き直してください".into(),
        )
        .into()),
    }
}

pub async fn decline(
    State(state): State<AppState>,
    current: CurrentSession,
    parts: Parts,
    Path(id): Path<String>,
    RawForm(body): RawForm,
) -> Result<Response, PageError> {
    let form = params::form(&body)?;
    let gate = Gate::page(&state, &current, &parts);
    match service::decline(&gate, &state, &id, &form).await? {
        Decided::Done => {
            Ok(Redirect::to(&format!("/mentoring/applications/{id}?declined=1")).into_response())
        }
        Decided::Invalid(errors) => {
            application_page(&state, &current, &parts, &id, form, errors, "").await
        }
        Decided::Changed => Err(AppError::Conflict(
            "この申込は、ほかの人がすでに確定またはお断りしました。画面を開き直してください".into(),
        )
        .into()),
    }
}

#[derive(Template)]
#[template(path = "mentoring/mentors.html")]
struct MentorsPage {
    chrome: Chrome,
    mentors: Vec<Mentor>,
    saved: bool,
}

impl MentorsPage {
    fn care_words(&self, mentor: &Mentor) -> String {
        care_words(&mentor.child_care)
    }

    fn topic_words(&self, mentor: &Mentor) -> String {
        topic_words(&mentor.topics)
    }
}

pub async fn mentors(
    State(state): State<AppState>,
    current: CurrentSession,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Response, PageError> {
    let (office, _) = office_or_404(&state, &current).await?;
    let page = MentorsPage {
        chrome: Chrome::for_session("メンター", state.settings.demo, Some(&current)),
        mentors: repo::mentors_of(&state.db, &office.id).await?,
        saved: q.contains_key("saved"),
    };
    Ok(Html(page.render()?).into_response())
}

#[derive(Template)]
#[template(path = "mentoring/mentor_form.html")]
struct MentorForm {
    chrome: Chrome,
    csrf_token: String,
    editing: Option<String>,
    programme: &'static Programme,
    choices: Choices,
    values: HashMap<String, String>,
    errors: Vec<FieldError>,
    conflict: bool,
}

impl MentorForm {
    fn value(&self, key: &str) -> String {
        self.values.get(key).cloned().unwrap_or_default()
    }

    fn checked(&self, key: &str) -> bool {
        self.values.get(key).is_some_and(|v| !v.is_empty())
    }

    fn error_of(&self, field: &str) -> Option<&FieldError> {
        self.errors.iter().find(|e| e.field == field)
    }

    fn action(&self) -> String {
        match &self.editing {
            Some(id) => format!("/mentoring/mentors/{id}"),
            None => "/mentoring/mentors".into(),
        }
    }

    /// The weekday's name for the availability grid.
    fn day_ja(&self, day: &chrono::Weekday) -> &'static str {
        ["月", "火", "水", "木", "金", "土", "日"][day.num_days_from_monday() as usize]
    }
}

async fn values_of(state: &AppState, mentor: &Mentor) -> Result<HashMap<String, String>, AppError> {
    let mut values = HashMap::from([
        ("nickname".to_string(), mentor.nickname.clone()),
        ("industry".to_string(), mentor.industry.clone()),
        ("work_style".to_string(), mentor.work_style.clone()),
        ("work_path".to_string(), mentor.work_path.clone()),
        ("story".to_string(), mentor.story.clone()),
        ("monthly_cap".to_string(), mentor.monthly_cap.to_string()),
        ("version".to_string(), mentor.version.to_string()),
        (
            "days_off".to_string(),
            mentor
                .days_off
                .iter()
                .map(|d| d.to_string())
                .collect::<Vec<_>>()
                .join(", "),
        ),
    ]);
    for c in &mentor.child_care {
        values.insert(format!("care_{c}"), "1".into());
    }
    for t in &mentor.topics {
        values.insert(format!("topic_{t}"), "1".into());
    }
    for (d, i) in &mentor.weekly {
        values.insert(format!("slot_{d}_{i}"), "1".into());
    }
    if mentor.public_consent {
        values.insert("public_consent".into(), "1".into());
    }
    if mentor.active {
        values.insert("active".into(), "1".into());
    }
    if let Some(account) = &mentor.account_id {
        let mut conn = state.db.pool().acquire().await?;
        let logins = crate::auth::repo::accounts::with_role(
            &mut conn,
            &mentor.office_id,
            tsunagu_core::access::Role::Mentor,
        )
        .await?;
        if let Some((_, login)) = logins.iter().find(|(id, _)| id == account) {
            values.insert("account_login".into(), login.clone());
        }
    }
    Ok(values)
}

fn mentor_form(
    state: &AppState,
    current: &CurrentSession,
    programme: &'static Programme,
    editing: Option<String>,
    values: HashMap<String, String>,
    errors: Vec<FieldError>,
    conflict: bool,
) -> MentorForm {
    MentorForm {
        chrome: Chrome::for_session(
            if editing.is_some() {
                "メンターの情報を更新"
            } else {
                "メンターを登録"
            },
            state.settings.demo,
            Some(current),
        ),
        csrf_token: current.csrf_token.clone(),
        editing,
        programme,
        choices: Choices::new(),
        values,
        errors,
        conflict,
    }
}

pub async fn new_mentor(
    State(state): State<AppState>,
    current: CurrentSession,
) -> Result<Response, PageError> {
    let (_, programme) = office_or_404(&state, &current).await?;
    let values = HashMap::from([
        ("monthly_cap".to_string(), "4".to_string()),
        ("active".to_string(), "1".to_string()),
    ]);
    let page = mentor_form(&state, &current, programme, None, values, Vec::new(), false);
    Ok(Html(page.render()?).into_response())
}

pub async fn edit_mentor(
    State(state): State<AppState>,
    current: CurrentSession,
    parts: Parts,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let (_, programme) = office_or_404(&state, &current).await?;
    let gate = Gate::page(&state, &current, &parts);
    let mentor = gate
        .open::<Mentor>(
            &id,
            tsunagu_core::access::Permission::ManageMentoring,
            Use::Read("view"),
        )
        .await?
        .record;
    let values = values_of(&state, &mentor).await?;
    let page = mentor_form(
        &state,
        &current,
        programme,
        Some(id),
        values,
        Vec::new(),
        false,
    );
    Ok(Html(page.render()?).into_response())
}

async fn save(
    state: &AppState,
    current: &CurrentSession,
    parts: &Parts,
    id: Option<String>,
    body: &[u8],
) -> Result<Response, PageError> {
    let form = params::form(body)?;
    let (office, programme) = office_or_404(state, current).await?;
    if let Some(id) = &id {
        // A mentor out of reach (or none) is refused before the form is read.
        Gate::page(state, current, parts)
            .open::<Mentor>(
                id,
                tsunagu_core::access::Permission::ManageMentoring,
                Use::Change,
            )
            .await?;
    }
    let mut errors = Vec::new();
    let account = match service::mentor_account(
        state,
        &office.id,
        form.get("account_login").map(String::as_str).unwrap_or(""),
    )
    .await?
    {
        Ok(account) => account,
        Err(e) => {
            errors.push(e);
            None
        }
    };
    let input = match service::parse_mentor(programme, &form) {
        Ok(mut input) if errors.is_empty() => {
            input.account_id = account;
            input
        }
        Ok(_) => {
            let page = mentor_form(state, current, programme, id, form, errors, false);
            return Ok((StatusCode::BAD_REQUEST, Html(page.render()?)).into_response());
        }
        Err(more) => {
            errors.extend(more);
            let page = mentor_form(state, current, programme, id, form, errors, false);
            return Ok((StatusCode::BAD_REQUEST, Html(page.render()?)).into_response());
        }
    };
    let expected = form
        .get("version")
        .and_then(|v| v.parse::<i64>().ok())
        .unwrap_or(-1);
    let gate = Gate::page(state, current, parts);
    match service::save_mentor(&gate, state, &office.id, id.as_deref(), input, expected).await? {
        Ok(Some(_)) => Ok(Redirect::to("/mentoring/mentors?saved=1").into_response()),
        Ok(None) => {
            let Some(id) = id else {
                return Err(AppError::NotFound.into());
            };
            let mentor = repo::mentor(&state.db, &id)
                .await?
                .ok_or(AppError::NotFound)?;
            let values = values_of(state, &mentor).await?;
            let page = mentor_form(
                state,
                current,
                programme,
                Some(id),
                values,
                Vec::new(),
                true,
            );
            Ok((StatusCode::CONFLICT, Html(page.render()?)).into_response())
        }
        Err(errors) => {
            let page = mentor_form(state, current, programme, id, form, errors, false);
            Ok((StatusCode::BAD_REQUEST, Html(page.render()?)).into_response())
        }
    }
}

pub async fn create_mentor(
    State(state): State<AppState>,
    current: CurrentSession,
    parts: Parts,
    RawForm(body): RawForm,
) -> Result<Response, PageError> {
    save(&state, &current, &parts, None, &body).await
}

pub async fn update_mentor(
    State(state): State<AppState>,
    current: CurrentSession,
    parts: Parts,
    Path(id): Path<String>,
    RawForm(body): RawForm,
) -> Result<Response, PageError> {
    save(&state, &current, &parts, Some(id), &body).await
}

#[derive(Template)]
#[template(path = "mentoring/me.html")]
struct MePage {
    chrome: Chrome,
    mentor: Option<Mentor>,
    /// (slot label, family's name, topics, meeting URL).
    consultations: Vec<(String, String, String, String)>,
    availability: Vec<String>,
}

pub async fn me(
    State(state): State<AppState>,
    current: CurrentSession,
) -> Result<Response, PageError> {
    let mentor = repo::mentor_of_account(&state.db, &current.account.id).await?;
    let mut consultations = Vec::new();
    let mut availability = Vec::new();
    if let (Some(m), Some((_, programme))) = (&mentor, service::office_of(&state, &current).await?)
    {
        let today = state.clock.today_jst().to_string();
        for c in repo::consultations_of_mentor(&state.db, &m.id, &today).await? {
            consultations.push((
                slot_of_key(programme, &c.slot)
                    .map(|s| s.label_ja(programme))
                    .unwrap_or(c.slot.clone()),
                c.family_name,
                topic_words(&c.topics),
                c.meeting_url,
            ));
        }
        for (d, i) in &m.weekly {
            if let Some(t) = programme.slots.get(*i) {
                availability.push(format!(
                    "{}曜日 {}",
                    ["月", "火", "水", "木", "金", "土", "日"][*d as usize % 7],
                    t.label_ja()
                ));
            }
        }
    }
    let page = MePage {
        chrome: Chrome::for_session("メンターのページ", state.settings.demo, Some(&current)),
        mentor,
        consultations,
        availability,
    };
    Ok(Html(page.render()?).into_response())
}
