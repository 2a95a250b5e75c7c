//! The programme's operations, shared by its pages: the open slots of the coming weeks,
//! a family's application (public form or signed in), the office's inbox with mentors
//! suggested for each application, confirming and declining, and the office's mentors.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Datelike, Duration, NaiveDate, Utc};
use tsunagu_core::access::{Permission, may};
use tsunagu_core::care::CareItem;
use tsunagu_core::ids::{AccountId, ApplicationId, OrganisationId};
use tsunagu_core::mentoring::{
    self, Programme, Slot, TOPICS, WORK_SITUATIONS, may_consult, parse_wish, programme_for,
    slot_of_key, slots_between, topic_label,
};
use tsunagu_core::text::{hidden_character, hidden_character_message, normalise_typed};

use super::repo::{self, Application, Inserted, Mentor, MentorInput, NewApplication};
use crate::audit::{Action, Event, Outcome};
use crate::auth::session::CurrentSession;
use crate::error::{AppError, FieldError};
use crate::features::municipalities::repo as municipalities;
use crate::features::notices::{self, Kind};
use crate::gate::{self, Gate, Use, Written};
use crate::organisations::{Organisation, OrganisationKind};
use crate::state::AppState;

/// Public applications taken from one address per hour (a form sent by a script).
const PUBLIC_PER_HOUR: usize = 5;
/// How many weeks of open slots the public page shows.
pub const WEEKS_SHOWN: i64 = 4;

// ---------------------------------------------------------------------------------------
// The office and its programme
// ---------------------------------------------------------------------------------------

/// The mentor office of a prefecture (two digits) and its programme, if it runs one.
pub async fn office_in(
    state: &AppState,
    prefecture: &str,
) -> Result<Option<(Organisation, &'static Programme)>, AppError> {
    let Some(programme) = programme_for(prefecture) else {
        return Ok(None);
    };
    let office = crate::organisations::repo::partners_in_prefecture(&state.db, prefecture)
        .await?
        .into_iter()
        .find(|o| o.kind == OrganisationKind::MentorOffice);
    Ok(office.map(|o| (o, programme)))
}

/// The office the person works in (the office's staff, or a mentor), with its programme.
pub async fn office_of(
    state: &AppState,
    current: &CurrentSession,
) -> Result<Option<(Organisation, &'static Programme)>, AppError> {
    for m in &current.memberships {
        if !matches!(
            m.role,
            tsunagu_core::access::Role::MentorOffice | tsunagu_core::access::Role::Mentor
        ) {
            continue;
        }
        if let Some(office) = crate::organisations::repo::get(&state.db, &m.organisation_id).await?
            && let Some(programme) = programme_for(&office.municipality_code[..2])
        {
            return Ok(Some((office, programme)));
        }
    }
    Ok(None)
}

// ---------------------------------------------------------------------------------------
// Open slots
// ---------------------------------------------------------------------------------------

/// Whether a mentor's pattern and days off let them take a slot (before bookings).
fn keeps(mentor: &Mentor, slot: Slot) -> bool {
    mentor.active
        && mentor
            .weekly
            .contains(&(slot.date.weekday().num_days_from_monday(), slot.index))
        && !mentor.days_off.contains(&slot.date)
}

/// The slots from `from` to `to` with the mentors free in each (pattern, days off, not
/// booked, monthly cap not reached), in order.
pub async fn open_slots(
    state: &AppState,
    office: &OrganisationId,
    programme: &Programme,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<Vec<(Slot, Vec<Mentor>)>, AppError> {
    let mentors = repo::mentors_of(&state.db, office).await?;
    free_in(state, office, programme, &mentors, from, to).await
}

/// [`open_slots`] for mentors the caller has read already.
async fn free_in(
    state: &AppState,
    office: &OrganisationId,
    programme: &Programme,
    mentors: &[Mentor],
    from: NaiveDate,
    to: NaiveDate,
) -> Result<Vec<(Slot, Vec<Mentor>)>, AppError> {
    let taken: HashSet<(String, String)> = repo::taken(
        &state.db,
        office,
        &from.to_string(),
        &(to + Duration::days(1)).to_string(),
    )
    .await?
    .into_iter()
    .collect();
    // Bookings per mentor and month, for the cap.
    let mut load: HashMap<(String, String), i64> = HashMap::new();
    for (mentor, slot) in &taken {
        *load
            .entry((mentor.clone(), slot.chars().take(7).collect()))
            .or_default() += 1;
    }
    Ok(slots_between(programme, from, to)
        .into_iter()
        .map(|slot| {
            let key = slot.key(programme);
            let month: String = key.chars().take(7).collect();
            let free = mentors
                .iter()
                .filter(|m| keeps(m, slot))
                .filter(|m| !taken.contains(&(m.id.to_string(), key.clone())))
                .filter(|m| {
                    load.get(&(m.id.to_string(), month.clone()))
                        .copied()
                        .unwrap_or(0)
                        < m.monthly_cap
                })
                .cloned()
                .collect();
            (slot, free)
        })
        .collect())
}

// ---------------------------------------------------------------------------------------
// Applying
// ---------------------------------------------------------------------------------------

/// Public applications per client address in the last hour.
#[derive(Default)]
pub struct PublicLimit {
    seen: std::sync::Mutex<HashMap<String, Vec<DateTime<Utc>>>>,
}

impl PublicLimit {
    /// Counts one more from `client` now; false when it is over the limit.
    fn admit(&self, client: &str, now: DateTime<Utc>) -> bool {
        let mut seen = self
            .seen
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let hour_ago = now - Duration::hours(1);
        seen.retain(|_, times| {
            times.retain(|t| *t > hour_ago);
            !times.is_empty()
        });
        let times = seen.entry(client.to_string()).or_default();
        if times.len() >= PUBLIC_PER_HOUR {
            return false;
        }
        times.push(now);
        true
    }
}

/// Who applies: signed in (a guardian's account), or the public form from an address.
pub enum Applicant<'a> {
    Guardian(&'a CurrentSession),
    Public { client: &'a str },
}

/// What an application came to.
pub enum Applied {
    /// Stored (or stored before, for a form sent twice): the application.
    Stored(Box<Application>),
    Invalid(Vec<FieldError>),
    /// Too many from one address: try later.
    Limited,
}

fn looks_like_email(text: &str) -> bool {
    let Some((local, domain)) = text.split_once('@') else {
        return false;
    };
    !local.is_empty()
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !text.chars().any(|c| c.is_whitespace() || c.is_control())
        && text.chars().count() <= 254
}

/// A reference the family can quote: 「PM-」 and six letters and digits without look-alikes.
fn new_reference() -> String {
    use rand::RngExt;
    const ALPHABET: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let mut rng = rand::rng();
    let code: String = (0..6)
        .map(|_| ALPHABET[rng.random_range(0..ALPHABET.len())] as char)
        .collect();
    format!("PM-{code}")
}

/// One text field of a form, typed width folded and trimmed, checked: no hidden
/// characters (line breaks only where `multiline`), present if `required`, at most `max`
/// characters. A problem is added beside its field.
fn text_field(
    form: &HashMap<String, String>,
    errors: &mut Vec<FieldError>,
    (key, label): (&str, &str),
    max: usize,
    required: bool,
    multiline: bool,
) -> String {
    let value = form
        .get(key)
        .map(|v| normalise_typed(v).trim().to_string())
        .unwrap_or_default();
    if let Some(c) = hidden_character(&value, multiline) {
        errors.push(FieldError::new(
            key,
            "format",
            hidden_character_message(label, c),
        ));
    } else if required && value.is_empty() {
        errors.push(FieldError::new(
            key,
            "required",
            format!("{label}を入力してください"),
        ));
    } else if value.chars().count() > max {
        errors.push(FieldError::new(
            key,
            "too_long",
            format!("{label}は{max}文字以内で入力してください"),
        ));
    }
    value
}

/// Checks and stores an application from the form. Every problem is said beside its
/// field; nothing is written then.
pub async fn apply(
    ctx: &crate::audit::Context,
    state: &AppState,
    office: &Organisation,
    programme: &Programme,
    applicant: Applicant<'_>,
    form: &HashMap<String, String>,
) -> Result<Applied, AppError> {
    let now = state.clock.now();
    if let Applicant::Public { client } = applicant
        && !state.copies.of::<PublicLimit>().admit(client, now)
    {
        return Ok(Applied::Limited);
    }
    let today = state.clock.today_jst();
    let get = |k: &str| {
        form.get(k)
            .map(|v| normalise_typed(v).trim().to_string())
            .unwrap_or_default()
    };
    let mut errors = Vec::new();
    let name = text_field(
        form,
        &mut errors,
        ("name", "お名前（ニックネーム可）"),
        50,
        true,
        false,
    );
    let email = text_field(
        form,
        &mut errors,
        ("email", "メールアドレス"),
        254,
        true,
        false,
    );
    let message = text_field(
        form,
        &mut errors,
        ("message", "相談したいこと"),
        1000,
        false,
        true,
    );
    if !email.is_empty() && !looks_like_email(&email) {
        errors.push(FieldError::new(
            "email",
            "format",
            "メールアドレスを name@example.jp のように入力してください",
        ));
    }
    // Living in the programme's prefecture.
    let town = get("municipality_code");
    let in_prefecture = municipalities::lookup(&town)
        .is_some_and(|m| m.prefecture_code == programme.prefecture && m.kind != "prefecture");
    if !in_prefecture {
        errors.push(FieldError::new(
            "municipality_code",
            "outside",
            format!(
                "この相談は{}にお住まいの方が対象です。お住まいの市区町村を選んでください",
                prefecture_name(programme.prefecture)
            ),
        ));
    }
    let work = get("work");
    if !WORK_SITUATIONS.iter().any(|(c, _)| *c == work) {
        errors.push(FieldError::new(
            "work",
            "required",
            "いまのお仕事の状況を選んでください",
        ));
    } else if !may_consult(&work) {
        errors.push(FieldError::new(
            "work",
            "not_eligible",
            "個別相談は、働いている方・働きたい方が対象です。いまは働いていない方も「おしゃべりcafe」（グループ相談会）に参加できます",
        ));
    }
    if form.get("raising").is_none_or(|v| v.is_empty()) {
        errors.push(FieldError::new(
            "raising",
            "required",
            "医療的ケア児を育てている保護者の方が対象です。あてはまる場合はチェックしてください",
        ));
    }
    let topics: Vec<String> = TOPICS
        .iter()
        .filter(|(code, _)| {
            form.get(&format!("topic_{code}"))
                .is_some_and(|v| !v.is_empty())
        })
        .map(|(code, _)| (*code).to_string())
        .collect();
    let child_care: Vec<String> = CareItem::ALL
        .iter()
        .filter(|c| {
            form.get(&format!("care_{}", c.code()))
                .is_some_and(|v| !v.is_empty())
        })
        .map(|c| c.code().to_string())
        .collect();
    let preference = match get("preference").as_str() {
        p @ ("same_care" | "same_work" | "") => p.to_string(),
        _ => String::new(),
    };
    // Up to three wishes, each a slot of the programme inside its window.
    let mut wishes: Vec<String> = Vec::new();
    for i in 1..=3 {
        let key = format!("wish_{i}");
        let value = get(&key);
        if value.is_empty() {
            continue;
        }
        match parse_wish(programme, &value, today) {
            Ok(slot) => {
                let k = slot.key(programme);
                if !wishes.contains(&k) {
                    wishes.push(k);
                }
            }
            Err(e) => errors.push(FieldError::new(
                &key,
                e.code(),
                format!("第{i}希望：{}", e.message_ja(programme)),
            )),
        }
    }
    if wishes.is_empty() && !errors.iter().any(|e| e.field.starts_with("wish_")) {
        errors.push(FieldError::new(
            "wish_1",
            "required",
            "希望の日時を1つ以上選んでください",
        ));
    }
    let key = get("idempotency_key");
    if uuid::Uuid::parse_str(&key).is_err() {
        errors.push(FieldError::new(
            "form",
            "stale",
            "画面が古くなっています。もう一度お申し込みの画面を開いてください",
        ));
    }
    if !errors.is_empty() {
        return Ok(Applied::Invalid(errors));
    }
    let account = match applicant {
        Applicant::Guardian(current) => Some(current.account.id.clone()),
        Applicant::Public { .. } => None,
    };
    let family_key = match &account {
        Some(a) => format!("account:{a}"),
        None => format!("email:{}", email.to_lowercase()),
    };
    let id = ApplicationId::from_uuid(uuid::Uuid::new_v4());
    let reference = new_reference();
    let new = NewApplication {
        id: id.as_str(),
        reference: &reference,
        office_id: &office.id,
        idempotency_key: &key,
        family_key: &family_key,
        account_id: account.as_ref(),
        name: &name,
        email: &email,
        municipality_code: &town,
        child_care: &child_care,
        work: &work,
        topics: &topics,
        preference: &preference,
        message: &message,
        wishes: &wishes,
    };
    let event = Event::new(Action::Create, Outcome::Allowed)
        .resource(repo::APPLICATION, &id)
        .detail(format!("reference={reference}; wishes={}", wishes.len()));
    let office_staff = {
        let mut conn = state.db.pool().acquire().await?;
        // The office's own staff only: a mentor learns of a family when a consultation is
        // confirmed with them, not before.
        crate::auth::repo::accounts::with_role(
            &mut conn,
            &office.id,
            tsunagu_core::access::Role::MentorOffice,
        )
        .await?
        .into_iter()
        .map(|(id, _)| id)
        .collect::<Vec<_>>()
    };
    let limit = i64::from(programme.pending_per_family);
    // Not through the gate: a public applicant has no session. The audit entry is written
    // in the same transaction all the same.
    let inserted = {
        let _turn = state.db.sqlite_writer_turn().await;
        let mut tx = state.db.pool().begin().await?;
        let inserted = repo::insert_application(&mut tx, &new, limit, now).await?;
        if inserted == Inserted::Stored {
            notices::notify(
                &mut tx,
                &office_staff,
                Kind::Mentoring,
                &format!("ペアレントメンターへの相談の申込がありました（受付番号 {reference}）"),
                &format!("/mentoring/applications/{id}"),
                now,
            )
            .await?;
            crate::audit::record(&mut tx, ctx, &event, now).await?;
            tx.commit().await?;
        } else {
            tx.rollback().await?;
        }
        inserted
    };
    match inserted {
        Inserted::TooMany => Ok(Applied::Invalid(vec![FieldError::new(
            "form",
            "pending",
            format!(
                "受付中のお申し込みがすでに{}件あります。事務局からの連絡をお待ちください",
                programme.pending_per_family
            ),
        )])),
        Inserted::Stored | Inserted::Again => {
            match repo::application_by_key(&state.db, &key).await? {
                Some(stored) => Ok(Applied::Stored(Box::new(stored))),
                None => Err(AppError::Internal(
                    "application not found after insert".into(),
                )),
            }
        }
    }
}

fn prefecture_name(prefecture: &str) -> String {
    municipalities::prefecture_list()
        .into_iter()
        .find(|p| p.prefecture_code == prefecture)
        .map(|p| p.name)
        .unwrap_or_default()
}

// ---------------------------------------------------------------------------------------
// The office's work
// ---------------------------------------------------------------------------------------

/// A mentor suggested for an application: the wished slots they are free in, and why.
#[derive(Debug, Clone)]
pub struct Suggestion {
    pub mentor: Mentor,
    /// The wished slots the mentor is free in: (key, label).
    pub slots: Vec<(String, String)>,
    pub score: i64,
    pub reasons: Vec<String>,
}

/// Mentors ranked for an application: free in more of the wished slots first, then by the
/// overlap of their child's care and their topics with the family's.
pub async fn suggestions(
    state: &AppState,
    programme: &Programme,
    application: &Application,
) -> Result<Vec<Suggestion>, AppError> {
    let wished: Vec<Slot> = application
        .wishes
        .iter()
        .filter_map(|k| slot_of_key(programme, k))
        .collect();
    let (Some(first), Some(last)) = (
        wished.iter().map(|s| s.date).min(),
        wished.iter().map(|s| s.date).max(),
    ) else {
        return Ok(Vec::new());
    };
    let mentors = repo::mentors_of(&state.db, &application.office_id).await?;
    let open = free_in(
        state,
        &application.office_id,
        programme,
        &mentors,
        first,
        last,
    )
    .await?;
    let mut out: Vec<Suggestion> = mentors
        .into_iter()
        .filter(|m| m.active)
        .map(|mentor| {
            let slots: Vec<(String, String)> = wished
                .iter()
                .filter(|w| {
                    open.iter()
                        .any(|(s, free)| s == *w && free.iter().any(|f| f.id == mentor.id))
                })
                .map(|s| (s.key(programme), s.label_ja(programme)))
                .collect();
            let mut reasons = Vec::new();
            let mut score = 100 * slots.len() as i64;
            if slots.is_empty() {
                reasons.push("希望の日時はどれも対応できません".to_string());
            } else {
                reasons.push(format!("希望の日時のうち{}つに対応できます", slots.len()));
            }
            let same_care: Vec<&str> = mentor
                .child_care
                .iter()
                .filter(|c| application.child_care.contains(c))
                .filter_map(|c| CareItem::parse(c).ok())
                .map(CareItem::short_label_ja)
                .collect();
            if !same_care.is_empty() {
                score += 10 * same_care.len() as i64;
                if application.preference == "same_care" {
                    score += 30;
                }
                reasons.push(format!("お子さんのケアが同じ（{}）", same_care.join("・")));
            }
            let same_topics: Vec<&str> = mentor
                .topics
                .iter()
                .filter(|t| application.topics.contains(t))
                .filter_map(|t| topic_label(t))
                .collect();
            if !same_topics.is_empty() {
                score += 5 * same_topics.len() as i64;
                reasons.push(format!("相談内容を担当（{}）", same_topics.join("・")));
            }
            if application.preference == "same_work" && !mentor.work_style.is_empty() {
                score += 10;
                reasons.push(format!("働き方：{}", mentor.work_style));
            }
            Suggestion {
                mentor,
                slots,
                score,
                reasons,
            }
        })
        .collect();
    out.sort_by(|a, b| {
        b.score
            .cmp(&a.score)
            .then(a.mentor.nickname.cmp(&b.mentor.nickname))
    });
    Ok(out)
}

/// What confirming or declining came to.
pub enum Decided {
    Done,
    Invalid(Vec<FieldError>),
    /// The application changed meanwhile (someone else decided it).
    Changed,
}

/// Confirms an application with a mentor, one of the slots, and the meeting URL the office
/// entered. The database refuses a second confirmed consultation of one mentor in one slot
/// whoever confirms: that answer is a conflict and nothing is written.
pub async fn confirm(
    gate: &Gate<'_>,
    state: &AppState,
    programme: &Programme,
    id: &str,
    form: &HashMap<String, String>,
) -> Result<Decided, AppError> {
    let opened = gate
        .open::<Application>(id, Permission::ManageMentoring, Use::Change)
        .await?;
    let application = &opened.record;
    let get = |k: &str| {
        form.get(k)
            .map(|v| v.trim().to_string())
            .unwrap_or_default()
    };
    let mut errors = Vec::new();
    let mentor = repo::mentor(&state.db, &get("mentor_id"))
        .await?
        .filter(|m| m.office_id == application.office_id && m.active);
    if mentor.is_none() {
        errors.push(FieldError::new(
            "mentor_id",
            "unknown",
            "メンターを選んでください",
        ));
    }
    let slot_key = get("slot");
    let slot = slot_of_key(programme, &slot_key);
    match (&slot, &mentor) {
        (None, _) => errors.push(FieldError::new("slot", "unknown", "日時を選んでください")),
        (Some(s), Some(m)) if !keeps(m, *s) => errors.push(FieldError::new(
            "slot",
            "unavailable",
            format!("{}さんはこの日時に対応できません", m.nickname),
        )),
        (Some(s), _) if s.date <= state.clock.today_jst() => errors.push(FieldError::new(
            "slot",
            "past",
            "過ぎた日時では確定できません",
        )),
        _ => {}
    }
    let url = get("meeting_url");
    if !(url.starts_with("https://") && url.len() > 8 && url.len() <= 500)
        || url.chars().any(|c| c.is_whitespace() || c.is_control())
    {
        errors.push(FieldError::new(
            "meeting_url",
            "format",
            "オンライン相談のURLを https:// から入力してください",
        ));
    }
    let expected = get("version").parse::<i64>().unwrap_or(-1);
    let (Some(mentor), Some(slot), true) = (mentor, slot, errors.is_empty()) else {
        return Ok(Decided::Invalid(errors));
    };
    if expected != application.version || application.status != "pending" {
        return Ok(Decided::Changed);
    }
    let now = state.clock.now();
    let account = gate.current().account.id.clone();
    let consultation = uuid::Uuid::new_v4().to_string();
    let key = slot.key(programme);
    let label = slot.label_ja(programme);
    let family = application.account_id.clone();
    let mentor_account = mentor.account_id.clone();
    let event = gate::change_event(&opened, Action::Update)
        .detail(format!("confirm; mentor={}; slot={key}", mentor.id));
    let written = gate
        .write(event, async |tx| {
            let confirmed = repo::confirm(
                tx,
                opened.id().as_str(),
                expected,
                &consultation,
                &mentor.id,
                &key,
                &url,
                &account,
                now,
            )
            .await;
            match confirmed {
                Ok(true) => {}
                Ok(false) => return Ok(Written::Nothing(false)),
                Err(e) if is_unique_violation(&e) => {
                    return Err(AppError::Conflict(format!(
                        "{}さんは{label}にすでに別の相談が確定しています。別のメンターか日時を選んでください",
                        mentor.nickname
                    )));
                }
                Err(e) => return Err(e.into()),
            }
            if let Some(family) = &family {
                notices::notify(
                    tx,
                    std::slice::from_ref(family),
                    Kind::Mentoring,
                    &format!("ペアレントメンターとの相談が{label}に決まりました（メンター：{}）", mentor.nickname),
                    "/mentoring/applications/mine",
                    now,
                )
                .await?;
            }
            if let Some(m) = &mentor_account {
                notices::notify(
                    tx,
                    std::slice::from_ref(m),
                    Kind::Mentoring,
                    &format!("{label}に相談が入りました"),
                    "/mentoring/me",
                    now,
                )
                .await?;
            }
            Ok(Written::Changed {
                value: true,
                fields: vec!["status".into(), "consultation".into()],
            })
        })
        .await;
    match written {
        Ok(true) => Ok(Decided::Done),
        Ok(false) => Ok(Decided::Changed),
        Err(AppError::Conflict(message)) => Ok(Decided::Invalid(vec![FieldError::new(
            "slot", "taken", message,
        )])),
        Err(e) => Err(e),
    }
}

fn is_unique_violation(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::Database(db) => db.is_unique_violation(),
        _ => false,
    }
}

/// Declines an application with a reason the family is told.
pub async fn decline(
    gate: &Gate<'_>,
    state: &AppState,
    id: &str,
    form: &HashMap<String, String>,
) -> Result<Decided, AppError> {
    let opened = gate
        .open::<Application>(id, Permission::ManageMentoring, Use::Change)
        .await?;
    let reason = form
        .get("reason")
        .map(|v| normalise_typed(v).trim().to_string())
        .unwrap_or_default();
    if reason.is_empty() || reason.chars().count() > 500 {
        return Ok(Decided::Invalid(vec![FieldError::new(
            "reason",
            "required",
            "お断りの理由を500文字以内で入力してください（ご家族に伝わります）",
        )]));
    }
    if let Some(c) = hidden_character(&reason, true) {
        return Ok(Decided::Invalid(vec![FieldError::new(
            "reason",
            "format",
            hidden_character_message("理由", c),
        )]));
    }
    let expected = form
        .get("version")
        .and_then(|v| v.parse::<i64>().ok())
        .unwrap_or(-1);
    let now = state.clock.now();
    let family = opened.record.account_id.clone();
    let event = gate::change_event(&opened, Action::Update).detail("decline");
    let done = gate
        .write(event, async |tx| {
            if !repo::decline(tx, opened.id().as_str(), expected, &reason, now).await? {
                return Ok(Written::Nothing(false));
            }
            if let Some(family) = &family {
                notices::notify(
                    tx,
                    std::slice::from_ref(family),
                    Kind::Mentoring,
                    "ペアレントメンターへの相談のお申し込みについて、事務局からお知らせがあります",
                    "/mentoring/applications/mine",
                    now,
                )
                .await?;
            }
            Ok(Written::Changed {
                value: true,
                fields: vec!["status".into(), "decline_reason".into()],
            })
        })
        .await?;
    Ok(if done {
        Decided::Done
    } else {
        Decided::Changed
    })
}

// ---------------------------------------------------------------------------------------
// Mentors
// ---------------------------------------------------------------------------------------

/// Reads the office's mentor form. `Err` lists the problems.
pub fn parse_mentor(
    programme: &Programme,
    form: &HashMap<String, String>,
) -> Result<MentorInput, Vec<FieldError>> {
    let get = |k: &str| {
        form.get(k)
            .map(|v| normalise_typed(v).trim().to_string())
            .unwrap_or_default()
    };
    let checked = |k: &str| form.get(k).is_some_and(|v| !v.is_empty());
    let mut errors = Vec::new();
    let nickname = text_field(
        form,
        &mut errors,
        ("nickname", "ニックネーム"),
        30,
        true,
        false,
    );
    let industry = text_field(
        form,
        &mut errors,
        ("industry", "仕事の業種"),
        50,
        false,
        false,
    );
    let work_style = text_field(
        form,
        &mut errors,
        ("work_style", "働き方"),
        50,
        false,
        false,
    );
    let story = text_field(form, &mut errors, ("story", "体験談"), 2000, false, true);
    let work_path = match get("work_path").as_str() {
        p @ ("return_to_work" | "new_job" | "") => p.to_string(),
        _ => {
            errors.push(FieldError::new(
                "work_path",
                "unknown",
                "復職か再就職かを選んでください",
            ));
            String::new()
        }
    };
    let monthly_cap = match get("monthly_cap").parse::<i64>() {
        Ok(n) if (0..=60).contains(&n) => n,
        _ => {
            errors.push(FieldError::new(
                "monthly_cap",
                "format",
                "1か月に受ける相談の上限を0から60の整数で入力してください",
            ));
            0
        }
    };
    let mut weekly = Vec::new();
    for day in programme.weekdays {
        let d = day.num_days_from_monday();
        for index in 0..programme.slots.len() {
            if checked(&format!("slot_{d}_{index}")) {
                weekly.push((d, index));
            }
        }
    }
    let mut days_off = Vec::new();
    for part in get("days_off").split([',', '、', '\n', ' ']) {
        let part = part.trim();
        if part.is_empty() {
            continue;
        }
        match tsunagu_core::calendar::parse_date_ja(part) {
            Some(d) => days_off.push(d),
            None => errors.push(FieldError::new(
                "days_off",
                "format",
                format!("「{part}」は日付として読めません。2026-12-24 のように入力してください"),
            )),
        }
    }
    days_off.sort();
    days_off.dedup();
    if !errors.is_empty() {
        return Err(errors);
    }
    Ok(MentorInput {
        account_id: None,
        nickname,
        child_care: CareItem::ALL
            .iter()
            .filter(|c| checked(&format!("care_{}", c.code())))
            .map(|c| c.code().to_string())
            .collect(),
        industry,
        work_style,
        work_path,
        story,
        topics: TOPICS
            .iter()
            .filter(|(c, _)| checked(&format!("topic_{c}")))
            .map(|(c, _)| (*c).to_string())
            .collect(),
        public_consent: checked("public_consent"),
        monthly_cap,
        active: checked("active"),
        weekly,
        days_off,
    })
}

/// The mentor's own account: a login of the office's mentor accounts (`mentor_login`),
/// or none.
pub async fn mentor_account(
    state: &AppState,
    office: &OrganisationId,
    login: &str,
) -> Result<Result<Option<AccountId>, FieldError>, AppError> {
    if login.trim().is_empty() {
        return Ok(Ok(None));
    }
    let mut conn = state.db.pool().acquire().await?;
    let staff = crate::auth::repo::accounts::with_role(
        &mut conn,
        office,
        tsunagu_core::access::Role::Mentor,
    )
    .await?;
    Ok(staff
        .into_iter()
        .find(|(_, l)| l == login.trim())
        .map(|(id, _)| Some(id))
        .ok_or_else(|| {
            FieldError::new(
                "account_login",
                "unknown",
                "この事務局のメンターのアカウントに、そのログインIDはありません",
            )
        }))
}

/// Saves a mentor (new when `id` is `None`). `Ok(Err)` lists problems; `Ok(Ok(None))` is a
/// version conflict.
pub async fn save_mentor(
    gate: &Gate<'_>,
    state: &AppState,
    office: &OrganisationId,
    id: Option<&str>,
    input: MentorInput,
    expected: i64,
) -> Result<Result<Option<String>, Vec<FieldError>>, AppError> {
    if !may(&gate.current().actor, Permission::ManageMentoring, None).allowed() {
        return Err(AppError::NotFound);
    }
    let now = state.clock.now();
    match id {
        None => {
            let id = uuid::Uuid::new_v4().to_string();
            let event = Event::new(Action::Create, Outcome::Allowed)
                .resource("mentor", &id)
                .detail(input.nickname.clone());
            let written = gate
                .write(event, async |tx| {
                    match repo::insert_mentor(tx, &id, office, &input, now).await {
                        Ok(()) => Ok(Written::Changed {
                            value: true,
                            fields: vec!["mentor".into()],
                        }),
                        Err(e) if is_unique_violation(&e) => Ok(Written::Nothing(false)),
                        Err(e) => Err(e.into()),
                    }
                })
                .await?;
            if !written {
                return Ok(Err(vec![account_taken()]));
            }
            Ok(Ok(Some(id)))
        }
        Some(id) => {
            let before = gate
                .open::<Mentor>(id, Permission::ManageMentoring, Use::Change)
                .await?
                .record;
            let event = Event::new(Action::Update, Outcome::Allowed)
                .resource("mentor", id)
                .detail(input.nickname.clone());
            let written = gate
                .write(event, async |tx| {
                    match repo::update_mentor(tx, before.id.as_str(), expected, &input, now).await {
                        Ok(true) => Ok(Written::Changed {
                            value: Some(true),
                            fields: vec!["mentor".into()],
                        }),
                        Ok(false) => Ok(Written::Nothing(None)),
                        Err(e) if is_unique_violation(&e) => Ok(Written::Nothing(Some(false))),
                        Err(e) => Err(e.into()),
                    }
                })
                .await?;
            match written {
                Some(true) => Ok(Ok(Some(before.id.to_string()))),
                Some(false) => Ok(Err(vec![account_taken()])),
                None => Ok(Ok(None)),
            }
        }
    }
}

fn account_taken() -> FieldError {
    FieldError::new(
        "account_login",
        "taken",
        "このアカウントは、すでに別のメンターに結びついています",
    )
}

// ---------------------------------------------------------------------------------------
// Home
// ---------------------------------------------------------------------------------------

/// What the programme asks of a person today.
#[derive(Debug, Default)]
pub struct MentoringWork {
    /// The office: applications waiting for a decision.
    pub waiting: Option<i64>,
    /// A mentor: their next confirmed consultations, (label, family's first name part).
    pub upcoming: Vec<String>,
    /// A mentor without a profile yet.
    pub mentor_without_profile: bool,
    /// A family: their applications, (reference, status in words).
    pub applications: Vec<(String, String)>,
    /// A family may apply (their prefecture runs the programme).
    pub may_apply: bool,
}

pub fn status_ja(status: &str) -> &'static str {
    match status {
        "pending" => "受付中（事務局が調整しています）",
        "confirmed" => "確定",
        "declined" => "お断り",
        "cancelled" => "取り消し",
        _ => "",
    }
}

pub async fn work_for(
    state: &AppState,
    current: &CurrentSession,
) -> Result<MentoringWork, AppError> {
    let mut work = MentoringWork::default();
    let actor = &current.actor;
    if may(actor, Permission::ManageMentoring, None).allowed()
        && let Some((office, _)) = office_of(state, current).await?
    {
        work.waiting = Some(repo::pending_count(&state.db, &office.id).await?);
    }
    if may(actor, Permission::MentorConsult, None).allowed() {
        match repo::mentor_of_account(&state.db, &current.account.id).await? {
            Some(mentor) => {
                if let Some((_, programme)) = office_of(state, current).await? {
                    let today = state.clock.today_jst().to_string();
                    work.upcoming = repo::consultations_of_mentor(&state.db, &mentor.id, &today)
                        .await?
                        .iter()
                        .take(5)
                        .filter_map(|c| slot_of_key(programme, &c.slot))
                        .map(|s| s.label_ja(programme))
                        .collect();
                }
            }
            None => work.mentor_without_profile = true,
        }
    }
    if may(actor, Permission::ApplyMentoring, None).allowed() {
        work.applications = repo::applications_by(&state.db, &current.account.id)
            .await?
            .into_iter()
            .map(|a| (a.reference, status_ja(&a.status).to_string()))
            .collect();
        let prefecture = current
            .memberships
            .first()
            .map(|m| m.municipality_code.to_string()[..2].to_string())
            .unwrap_or_default();
        work.may_apply = office_in(state, &prefecture).await?.is_some();
    }
    Ok(work)
}

/// The topics and work situations, for the forms.
pub fn topic_choices() -> &'static [(&'static str, &'static str)] {
    TOPICS
}

pub fn work_choices() -> &'static [(&'static str, &'static str)] {
    WORK_SITUATIONS
}

pub fn work_ja(code: &str) -> &'static str {
    WORK_SITUATIONS
        .iter()
        .find(|(c, _)| *c == code)
        .map(|(_, l)| *l)
        .unwrap_or("")
}

/// The programme's rules in words, for the public page.
pub fn rules_ja(programme: &Programme) -> Vec<String> {
    let days: Vec<&str> = programme
        .weekdays
        .iter()
        .map(|d| ["月", "火", "水", "木", "金", "土", "日"][d.num_days_from_monday() as usize])
        .collect();
    vec![
        format!("毎週{}曜日", days.join("・")),
        programme
            .slots
            .iter()
            .map(|s| s.label_ja())
            .collect::<Vec<_>>()
            .join("、"),
        format!("1組あたり{}分まで・無料", programme.max_minutes),
        "祝日・年末年始（12月29日〜1月3日）はお休み".to_string(),
        format!(
            "事前申込制：{}営業日前まで、{}日先まで",
            programme.min_notice_business_days, programme.max_days_ahead
        ),
    ]
}

pub use mentoring::Slot as ProgrammeSlot;
