//! The registry's operations, shared by the pages and the API: register, edit, decide a
//! family's proposal. Each opens the record through the gate and writes through its
//! write counterpart, so the policy and the audit entry cannot be skipped.

use sqlx::Any;
use sqlx::pool::PoolConnection;
use std::collections::HashMap;
use tsunagu_core::ids::{AccountId, ChildId, ConsentId, OrganisationId, ProposalId};

use tsunagu_core::access::{Permission, is_family_or_owner, may, scope_filter};

use super::profile::{self, Change, FamilyChange, Profile};
use super::repo::proposals as proposals_repo;
use super::repo::{self, Child, merges};
use super::store::{self, Edit, HistoryEntry};
use crate::audit::{self, Action, AuditEntry, AuditQuery, Event, Outcome};
use crate::auth::session::CurrentSession;
use crate::error::{AppError, FieldError};
use crate::features::break_glass::{self, GrantView};
use crate::features::consent::{self, NewConsent};
use crate::gate::{self, Gate, Opened, Use, Written};
use crate::state::AppState;

/// Registers a child owned by `owner`: the record and its audit entry in one transaction.
async fn register(
    gate: &Gate<'_>,
    state: &AppState,
    owner: &OrganisationId,
    profile: &Profile,
) -> Result<ChildId, AppError> {
    let id = ChildId::from_uuid(uuid::Uuid::new_v4());
    let fields = profile.filled_fields();
    let event = Event::new(Action::Create, Outcome::Allowed)
        .resource(repo::RESOURCE_TYPE, &id)
        .child(&id);
    let now = state.clock.now();
    gate.write(event, async |tx| {
        store::create(tx, &id, owner, profile, now).await?;
        Ok(Written::Changed { value: (), fields })
    })
    .await?;
    Ok(id)
}

/// A registration that would make a second record of a child already registered in the
/// municipality (the same kana and birth date).
#[derive(Debug, Clone)]
pub(crate) enum Duplicate {
    /// A record the registrant can open: (id, name).
    Readable { id: ChildId, name: String },
    /// A record of another department of the registrant's own town, which the registrant
    /// cannot open: only that it exists and whose it is are said, nothing of its content.
    InTown { owner: String },
}

impl Duplicate {
    pub fn message(&self) -> String {
        match self {
            Duplicate::Readable { name, .. } => format!(
                "同じふりがな・生年月日の児童（{name} さん）がすでに登録されています。同じ児童なら、その記録を開いて更新してください。別の児童なら、理由を書いて登録できます"
            ),
            Duplicate::InTown { owner } => format!(
                "同じふりがな・生年月日の児童が、この市区町村の{owner}で登録されています（内容は表示できません）。同じ児童なら、{owner}に記録の共有を依頼してください。別の児童なら、理由を書いて登録できます（{owner}に通知されます）"
            ),
        }
    }
}

/// How long the reason for registering despite a match must be, in characters.
pub const DUPLICATE_REASON_CHARS: std::ops::RangeInclusive<usize> = 10..=500;

/// Registers `profile` for `writer`'s organisation unless the municipality already has a
/// child with the same kana and birth date that the registrant may know of: a record they
/// can open, or one of another department of their own town. Given a reason (10–500
/// characters) it registers anyway; a match in another department's records tells that
/// department, with the reason. An outside organisation hears of nothing it cannot read,
/// and registers its own record (the town reviews duplicates).
pub(crate) async fn register_unless_duplicate(
    gate: &Gate<'_>,
    state: &AppState,
    writer: &tsunagu_core::access::Membership,
    profile: &Profile,
    reason: Option<&str>,
) -> Result<Result<ChildId, (Duplicate, Vec<FieldError>)>, AppError> {
    let today = state.clock.today_jst();
    let code = profile.municipality_code.to_string();
    let mut readable = None;
    let mut in_town = None;
    for id in repo::same_child_in(&state.db, &code, profile.birth_date, &profile.kana).await? {
        let Some((child, target)) = repo::get(&state.db, &id, today).await? else {
            continue;
        };
        if may(&gate.current().actor, Permission::ReadChild, Some(&target)).allowed() {
            readable = Some(Duplicate::Readable {
                id: child.id,
                name: child.name,
            });
            break;
        }
        let own_town = writer.role == tsunagu_core::access::Role::MunicipalStaff
            && writer.municipality_code == profile.municipality_code;
        if own_town && in_town.is_none() {
            in_town = Some((
                Duplicate::InTown {
                    owner: child.owner_organisation_name.clone(),
                },
                target.owner_organisation_id.clone(),
            ));
        }
    }
    let found = readable
        .map(|d| (d, None))
        .or(in_town.map(|(d, owner)| (d, Some(owner))));
    let Some((duplicate, tell)) = found else {
        return Ok(Ok(
            register(gate, state, &writer.organisation_id, profile).await?
        ));
    };
    let reason = reason.map(str::trim).unwrap_or_default();
    if reason.is_empty() {
        return Ok(Err((duplicate, Vec::new())));
    }
    if !DUPLICATE_REASON_CHARS.contains(&reason.chars().count())
        || tsunagu_core::text::hidden_character(reason, true).is_some()
    {
        let problem = FieldError::new(
            "duplicate_reason",
            "format",
            "別の児童として登録する理由を、10文字以上500文字以内で入力してください",
        );
        return Ok(Err((duplicate, vec![problem])));
    }
    let id = register(gate, state, &writer.organisation_id, profile).await?;
    if let Some(owner) = tell {
        let mut conn = state.db.pool().acquire().await?;
        let staff = crate::auth::repo::accounts::staff_of(&mut conn, &owner).await?;
        let registrant = gate.current();
        let from = registrant
            .memberships
            .iter()
            .find(|m| m.organisation_id == writer.organisation_id)
            .map(|m| m.organisation_name.clone())
            .unwrap_or_default();
        crate::features::notices::notify(
            &mut conn,
            &staff,
            crate::features::notices::Kind::PossibleDuplicate,
            &format!(
                "{from}の{}さんが、貴課の記録と同じふりがな・生年月日の児童を、別の児童として登録しました。理由：{reason}",
                registrant.account.display_name
            ),
            "/children",
            state.clock.now(),
        )
        .await?;
    }
    Ok(Ok(id))
}

/// The outcome of saving an edit, for the form and the API to answer in their own way.
/// A record out of reach (or gone) is the gate's refusal, an `Err`.
pub(crate) enum EditOutcome {
    Saved {
        version: i64,
        changes: Vec<Change>,
    },
    Invalid(Vec<FieldError>),
    Conflict {
        current: i64,
        others: Vec<HistoryEntry>,
    },
}

/// A child's record as it is read — the one shape pages, the API and print read a child
/// in: the row the gate opened (with what reaches it and why the reader may), the
/// validated profile and its version. Read before any transaction: on SQLite a read inside
/// a write transaction would hold the writer; the version check of the UPDATE catches
/// anyone in between. (A list shows [`Child`] rows alone; what is written is a
/// [`Profile`], parsed by `profile::parse` from the form, the import and the API alike.)
pub(crate) struct ChildRecord {
    pub opened: Opened<Child>,
    pub profile: Profile,
    pub version: i64,
}

/// Opens a record for `permission` (see [`Use`] for its audit) and reads its profile.
pub(crate) async fn open_record(
    gate: &Gate<'_>,
    state: &AppState,
    id: &str,
    permission: Permission,
    using: Use<'_>,
) -> Result<ChildRecord, AppError> {
    Ok(
        open_record_keeping_connection(gate, state, id, permission, using)
            .await?
            .0,
    )
}

/// [`open_record`], handing back the connection the profile was read on, for a page that
/// reads more (each connection taken from the pool costs a round trip of its own).
pub(crate) async fn open_record_keeping_connection(
    gate: &Gate<'_>,
    state: &AppState,
    id: &str,
    permission: Permission,
    using: Use<'_>,
) -> Result<(ChildRecord, PoolConnection<Any>), AppError> {
    let opened = gate.open::<Child>(id, permission, using).await?;
    let mut conn = state.db.pool().acquire().await?;
    let Some((profile, version)) = store::load_on(&mut conn, opened.id()).await? else {
        // Gone between the two reads: answered like any record out of reach. The
        // connection goes back first: refusing audits, which needs one.
        drop(conn);
        return Err(gate.refused::<Child>(id).await);
    };
    let record = ChildRecord {
        opened,
        profile,
        version,
    };
    Ok((record, conn))
}

/// Checks and saves an edit of a record opened for `WriteChild` (the form, the API);
/// audits the changed fields.
pub(crate) async fn edit(
    gate: &Gate<'_>,
    state: &AppState,
    stored: &ChildRecord,
    expected: i64,
    form: &HashMap<String, String>,
    source: &str,
) -> Result<EditOutcome, AppError> {
    let profile = match profile::parse(form, state.clock.today_jst())
        .and_then(|p| fixed_municipality(&stored.opened, p))
    {
        Ok(p) => p,
        Err(errors) => return Ok(EditOutcome::Invalid(errors)),
    };
    save(gate, state, stored, expected, &profile, source, None).await
}

/// The municipality of a record is not edited (a move is 転出 here, 転入 there); the
/// stored spelling of its code is kept.
pub(crate) fn fixed_municipality(
    opened: &Opened<Child>,
    mut profile: Profile,
) -> Result<Profile, Vec<FieldError>> {
    if profile.municipality_code.to_string() != opened.record.municipality_code {
        return Err(vec![FieldError::new(
            "municipality_code",
            "not_allowed",
            "住所地の市区町村は変更できません。転居の場合は状態を「転出」にし、転入先で登録してください",
        )]);
    }
    profile.municipality_code = opened.target.municipality_code;
    Ok(profile)
}

/// Saves `profile` over the stored record if it is still at `expected`: the record, its
/// history, the audit entry and (when deciding a proposal) the proposal's decision in one
/// transaction. A proposal decided meanwhile by someone else is an error and nothing is
/// written.
async fn save(
    gate: &Gate<'_>,
    state: &AppState,
    stored: &ChildRecord,
    expected: i64,
    profile: &Profile,
    source: &str,
    proposal: Option<(&proposals_repo::Decision<'_>, &Told<'_>)>,
) -> Result<EditOutcome, AppError> {
    let (opened, before, current) = (&stored.opened, &stored.profile, stored.version);
    let id = opened.id();
    if current != expected {
        return conflict(gate, state, opened, expected, current, profile, before).await;
    }
    let changes = profile.changes_from(before);
    if changes.is_empty() && proposal.is_none() {
        return Ok(EditOutcome::Saved {
            version: current,
            changes,
        });
    }
    let now = state.clock.now();
    let edit = Edit {
        id,
        expected,
        account_id: &gate.current().account.id,
        source,
        now,
    };
    let mut detail = source.to_string();
    if let Some((decision, _)) = proposal {
        detail = format!("{source}:{}:{}", decision.proposal_id, decision.status());
    }
    let event = gate::change_event(opened, Action::Update).detail(detail);
    let saved = gate
        .write(event, async |tx| {
            if let Some((decision, told)) = proposal {
                if !proposals_repo::decide(tx, decision, now).await? {
                    return Err(already_decided());
                }
                tell_proposer(tx, told.proposal, id, told.child_name, true, now).await?;
            }
            if !changes.is_empty() && !store::write_edit(tx, &edit, profile, &changes).await? {
                return Ok(Written::Nothing(false));
            }
            let fields = changes.iter().map(|c| c.field.clone()).collect();
            Ok(Written::Changed {
                value: true,
                fields,
            })
        })
        .await?;
    if !saved {
        return conflict(gate, state, opened, expected, expected + 1, profile, before).await;
    }
    let version = if changes.is_empty() {
        expected
    } else {
        expected + 1
    };
    Ok(EditOutcome::Saved { version, changes })
}

/// The answer to an edit made on an older version: what others changed since in the
/// fields this edit changes — those only, so a conflict shows no more of the record than
/// the editor is changing — read from the history and audited as a read of the record.
async fn conflict(
    gate: &Gate<'_>,
    state: &AppState,
    opened: &Opened<Child>,
    expected: i64,
    current: i64,
    profile: &Profile,
    before: &Profile,
) -> Result<EditOutcome, AppError> {
    let mine: Vec<String> = profile
        .changes_from(before)
        .into_iter()
        .map(|c| c.field)
        .collect();
    let mut others = store::history(&state.db, opened.id(), expected).await?;
    for entry in &mut others {
        entry.changes.retain(|c| mine.contains(&c.field));
    }
    let event = Event::new(Action::Read, Outcome::Allowed)
        .resource(repo::RESOURCE_TYPE, opened.id())
        .child(opened.id())
        .detail(format!("conflict; fields={}", mine.join(",")));
    gate.audit(event).await?;
    Ok(EditOutcome::Conflict { current, others })
}

/// How one field of a pending proposal stands against the record as it is now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum FieldStanding {
    /// The record still holds what the family saw: the proposal applies.
    Applies,
    /// The record already holds the proposed value.
    Already,
    /// Someone changed the field since the family saw it: staff choose.
    Changed,
}

/// One field a proposal touches, side by side: what the family saw, what the record holds
/// now, what they propose.
#[derive(Debug, Clone)]
pub(crate) struct ReviewRow {
    pub key: String,
    pub label: String,
    pub seen: String,
    pub now: String,
    pub proposed: String,
    /// The proposed value as stored (what accepting the row writes).
    pub proposed_value: String,
    pub standing: FieldStanding,
}

/// A pending proposal against the record as it is now.
#[derive(Debug, Clone)]
pub(crate) struct Review {
    pub rows: Vec<ReviewRow>,
    /// The record changed after the version the family saw.
    pub outdated: bool,
    pub current_version: i64,
}

/// Lays `proposal` beside the record's `current` fields at `current_version`. A proposal
/// stored before the values the family saw were kept holds every proposable field: its
/// rows are the fields that differ from the record now, and if the record changed since,
/// each is for staff to choose.
pub(crate) fn review(
    proposal: &proposals_repo::Proposal,
    current: &HashMap<String, String>,
    current_version: i64,
) -> Review {
    let now = profile::proposable_values(current);
    let outdated = proposal.base_version != current_version;
    let proposed = profile::proposable_values(&proposal.fields);
    let mut rows = Vec::new();
    for (key, now_value) in &now {
        // What the family saw; `None` for an old proposal of a record changed since, where
        // it is unknown.
        let seen_value = match &proposal.seen {
            Some(seen) => match seen.get(key) {
                Some(value) => Some(value.clone()),
                None => continue, // not a field the family changed
            },
            None if proposed.get(key) == Some(now_value) => continue,
            None if outdated => None,
            None => Some(now_value.clone()),
        };
        let proposed_value = proposed.get(key).cloned().unwrap_or_default();
        let standing = if *now_value == proposed_value {
            FieldStanding::Already
        } else if seen_value.as_ref() == Some(now_value) {
            FieldStanding::Applies
        } else {
            FieldStanding::Changed
        };
        rows.push(ReviewRow {
            label: profile::field_label(key),
            seen: seen_value.map_or_else(
                || "（不明）".to_string(),
                |seen| profile::shown_value(key, &seen),
            ),
            now: profile::shown_value(key, now_value),
            proposed: profile::shown_value(key, &proposed_value),
            proposed_value,
            key: key.clone(),
            standing,
        });
    }
    Review {
        rows,
        outdated,
        current_version,
    }
}

/// Staff's decision on a pending proposal as the form sends it.
pub(crate) struct ProposalDecision<'a> {
    /// `accept` or `decline`.
    pub decision: Option<&'a str>,
    pub note: &'a str,
    /// The record's version the deciding page showed.
    pub version_seen: Option<i64>,
    /// For each field someone changed since the family saw it: `proposal` or `current`.
    pub choices: HashMap<String, String>,
}

/// Staff confirm or decline a family's pending proposal. Confirming applies only the
/// fields the family changed; a field someone else changed since the family saw it is
/// applied or kept as staff choose, never silently. The record, the proposal's status
/// and the audit entry change in one transaction; a proposal already decided is refused
/// and nothing changes.
pub(crate) async fn decide_proposal(
    gate: &Gate<'_>,
    state: &AppState,
    id: &str,
    proposal_id: &str,
    form: &ProposalDecision<'_>,
) -> Result<(), AppError> {
    let note = form.note;
    let stored = open_record(gate, state, id, Permission::WriteChild, Use::Change).await?;
    let id = stored.opened.id();
    let Ok(proposal_id) = ProposalId::parse(proposal_id) else {
        return Err(gate.refused::<Child>(id.as_str()).await);
    };
    let proposal_id = &proposal_id;
    let pending = proposals_repo::pending(&state.db, id, proposal_id).await?;
    let Some(proposal) = pending else {
        // Not this child's, or decided already: say which without naming another record.
        return Err(
            if proposals_repo::exists(&state.db, id, proposal_id).await? {
                already_decided()
            } else {
                gate.refused::<Child>(id.as_str()).await
            },
        );
    };
    if note.chars().count() > 500 {
        return Err(AppError::BadRequest(
            "確認メモは500文字以内で入力してください".into(),
        ));
    }
    if let Some(c) = tsunagu_core::text::hidden_character(note, false) {
        return Err(AppError::BadRequest(
            tsunagu_core::text::hidden_character_message("確認メモ", c),
        ));
    }
    let accept = match form.decision {
        Some("accept") => true,
        Some("decline") => false,
        _ => {
            return Err(AppError::BadRequest(
                "反映するか見送るかを選んでください".into(),
            ));
        }
    };
    let decision = proposals_repo::Decision {
        proposal_id,
        accept,
        decided_by: &gate.current().account.id,
        note,
    };
    if !accept {
        let now = state.clock.now();
        let event = Event::new(Action::Update, Outcome::Allowed)
            .resource(proposals_repo::RESOURCE_TYPE, proposal_id)
            .child(id)
            .detail(decision.status());
        let child_name = &stored.opened.record.name;
        return gate
            .write(event, async |tx| {
                if !proposals_repo::decide(tx, &decision, now).await? {
                    return Err(already_decided());
                }
                tell_proposer(tx, &proposal, id, child_name, false, now).await?;
                Ok(Written::Changed {
                    value: (),
                    fields: vec!["status".to_string()],
                })
            })
            .await;
    }
    if form.version_seen.is_some_and(|seen| seen != stored.version) {
        return Err(record_changed_meanwhile());
    }
    let mut fields = stored.profile.to_fields();
    let review = review(&proposal, &fields, stored.version);
    let mut applied = HashMap::new();
    let mut unchosen = Vec::new();
    for row in &review.rows {
        let take = match row.standing {
            FieldStanding::Already => false,
            FieldStanding::Applies => {
                form.choices.get(&row.key).map(String::as_str) != Some("current")
            }
            FieldStanding::Changed => match form.choices.get(&row.key).map(String::as_str) {
                Some("proposal") => true,
                Some("current") => false,
                _ => {
                    unchosen.push(row.label.clone());
                    false
                }
            },
        };
        if take {
            applied.insert(row.key.clone(), row.proposed_value.clone());
        }
    }
    if !unchosen.is_empty() {
        return Err(AppError::BadRequest(format!(
            "この申出のあと記録が更新されています。次の項目について、申出の値といまの値のどちらにするか選んでください：{}",
            unchosen.join("、")
        )));
    }
    profile::apply_fields(&mut fields, &applied);
    let profile = profile::parse(&fields, state.clock.today_jst())
        .map_err(|errors| {
            AppError::BadRequest(format!(
                "申出をそのまま反映できません：{}",
                messages(&errors)
            ))
        })
        .and_then(|p| {
            fixed_municipality(&stored.opened, p)
                .map_err(|errors| AppError::BadRequest(messages(&errors)))
        })?;
    let told = Told {
        proposal: &proposal,
        child_name: &stored.opened.record.name,
    };
    match save(
        gate,
        state,
        &stored,
        stored.version,
        &profile,
        "proposal",
        Some((&decision, &told)),
    )
    .await?
    {
        EditOutcome::Saved { .. } => Ok(()),
        EditOutcome::Invalid(errors) => Err(AppError::BadRequest(messages(&errors))),
        EditOutcome::Conflict { .. } => Err(record_changed_meanwhile()),
    }
}

/// Whom a decided proposal is told to: its proposer, about this child.
struct Told<'a> {
    proposal: &'a proposals_repo::Proposal,
    child_name: &'a str,
}

/// The family hears how their request was decided, in the decision's transaction.
async fn tell_proposer(
    tx: &mut sqlx::AnyConnection,
    proposal: &proposals_repo::Proposal,
    child_id: &ChildId,
    child_name: &str,
    accepted: bool,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<(), AppError> {
    let message = if accepted {
        format!("{child_name}さんの記録の変更の申出を、担当者が確認して反映しました。")
    } else {
        format!(
            "{child_name}さんの記録の変更の申出は、担当者の確認により見送られました。確認メモをご覧ください。"
        )
    };
    crate::features::notices::notify(
        tx,
        std::slice::from_ref(&proposal.proposed_by_account),
        crate::features::notices::Kind::ProposalDecided,
        &message,
        &format!("/children/{child_id}"),
        now,
    )
    .await?;
    Ok(())
}

fn record_changed_meanwhile() -> AppError {
    AppError::Conflict(
        "記録が同時に更新されました。ページを開き直して、申出といまの記録を見比べてから、もう一度反映してください"
            .into(),
    )
}

/// A proposal that is no longer pending when staff decide it.
fn already_decided() -> AppError {
    AppError::Conflict(
        "この申出はすでに確認済みです（他の担当者が反映または見送りました）。ページを開き直してください"
            .into(),
    )
}

/// The messages of a list of problems, as one line.
fn messages(errors: &[FieldError]) -> String {
    errors
        .iter()
        .map(|e| e.message.as_str())
        .collect::<Vec<_>>()
        .join("、")
}

/// A guardian's own children (empty for everyone else), for the family's home page.
pub async fn own_children(
    state: &AppState,
    current: &CurrentSession,
) -> Result<Vec<Child>, AppError> {
    let scope = scope_filter(&current.actor, Permission::ReadChild);
    if scope.guardian_account_id.is_none() {
        return Ok(Vec::new());
    }
    let family_only = tsunagu_core::access::ScopeFilter {
        guardian_account_id: scope.guardian_account_id,
        ..Default::default()
    };
    let today = state.clock.today_jst();
    let (children, _) = repo::list(
        &state.db,
        &family_only,
        &repo::ListFilter::default(),
        today,
        20,
        0,
    )
    .await?;
    Ok(children)
}

/// One line of the access history as the family reads it.
pub(crate) struct AccessRow {
    pub at: String,
    pub who: String,
    pub organisation: String,
    pub role: String,
    pub action: String,
    pub detail: String,
}

/// Who opened a child's record: the audit trail's entries about it (newest first, 500 at
/// most), each also as the family reads it, and the break-glass grants on it.
pub(crate) struct AccessHistory {
    pub child: Child,
    pub entries: Vec<AuditEntry>,
    pub rows: Vec<AccessRow>,
    pub grants: Vec<GrantView>,
}

/// The access history, for the family and the owner organisation's members only (the page
/// and the API); opening it is an audited read.
pub(crate) async fn access_history(
    gate: &Gate<'_>,
    state: &AppState,
    id: &str,
) -> Result<AccessHistory, AppError> {
    let child = gate
        .open_where::<Child>(
            id,
            Permission::ReadChild,
            Use::Read("access_log"),
            is_family_or_owner,
        )
        .await?
        .record;
    let query = AuditQuery {
        child_id: Some(child.id.to_string()),
        limit: 500,
        ..AuditQuery::default()
    };
    let (entries, _) = audit::search(&state.db, &query).await?;
    let rows = access_rows(state, &entries).await?;
    let grants =
        break_glass::repo::for_resource(&state.db, repo::RESOURCE_TYPE, child.id.as_str()).await?;
    Ok(AccessHistory {
        child,
        entries,
        rows,
        grants,
    })
}

/// Names the actors of the entries (one lookup per distinct actor and organisation).
async fn access_rows(state: &AppState, entries: &[AuditEntry]) -> Result<Vec<AccessRow>, AppError> {
    let labels =
        crate::auth::repo::accounts::actor_labels(&state.db, entries.iter().map(AuditEntry::actor))
            .await?;
    let mut rows = Vec::with_capacity(entries.len());
    for e in entries {
        let (account, organisation) = e.actor();
        let label = labels
            .get(&(account.to_string(), organisation.to_string()))
            .cloned()
            .unwrap_or_default();
        rows.push(AccessRow {
            at: crate::view::format_instant_jst(e.at.timestamp_millis()),
            who: label.display_name,
            organisation: label.organisation_name,
            role: label
                .role
                .map(|r| r.label_ja().to_string())
                .unwrap_or_default(),
            action: e.action_label().to_string(),
            detail: if e.action == "break_glass" {
                e.detail.clone()
            } else {
                String::new()
            },
        });
    }
    Ok(rows)
}

/// One page of the children the actor may read, by kana, narrowed by `filter`, with the
/// total (the list page and the API). The page is not a read of any one record.
pub(crate) async fn list_in_reach(
    gate: &Gate<'_>,
    state: &AppState,
    filter: &repo::ListFilter,
    page: i64,
    per_page: i64,
) -> Result<(Vec<Child>, i64), AppError> {
    let scope = scope_filter(&gate.current().actor, Permission::ReadChild);
    let today = state.clock.today_jst();
    let (children, total) = repo::list(
        &state.db,
        &scope,
        filter,
        today,
        per_page,
        (page - 1) * per_page,
    )
    .await?;
    audit_shown(gate, "list", children.iter().map(|c| c.id.as_str())).await?;
    Ok((children, total))
}

/// A list of children shown to someone is a read of each of them: one entry per request,
/// naming the children shown (`view` says which list).
pub(crate) async fn audit_shown<'a>(
    gate: &Gate<'_>,
    view: &str,
    children: impl Iterator<Item = &'a str>,
) -> Result<(), AppError> {
    let ids: Vec<&str> = children.collect();
    let event = Event::new(Action::Read, Outcome::Allowed)
        .resource(LIST_RESOURCE, view)
        .detail(format!("shown={}; ids={}", ids.len(), ids.join(",")));
    gate.audit(event).await
}

/// The audit trail's resource type of a list of children shown.
pub const LIST_RESOURCE: &str = "child_list";

/// Records a consent on the opened record (the family online, staff from paper), audited
/// with what it is for and whom it names. A consent in force with the same purpose and
/// recipient is refused (the family withdraws it first): the answer is `Err` with why.
pub(crate) async fn record_consent(
    gate: &Gate<'_>,
    state: &AppState,
    opened: &Opened<Child>,
    new: &NewConsent,
) -> Result<Result<(), String>, AppError> {
    let today = state.clock.today_jst();
    let active = consent::active(&state.db, opened.id(), today).await?;
    if active.iter().any(|c| {
        c.purpose == new.purpose
            && c.department == new.department
            && c.organisation_id == new.organisation_id
    }) {
        return Ok(Err(
            "同じ内容の有効な同意がすでにあります。変更するときは、いまの同意を撤回してから記録してください"
                .to_string(),
        ));
    }
    let now = state.clock.now();
    let consent_id = ConsentId::from_uuid(uuid::Uuid::new_v4());
    let event = gate::change_event(opened, Action::Update).detail(format!(
        "consent_given:{consent_id}:{}{}",
        new.purpose.code(),
        new.department
            .map(|d| format!(":{}", d.as_str()))
            .or(new.organisation_id.as_ref().map(|o| format!(":{o}")))
            .unwrap_or_default()
    ));
    let municipality = opened.target.municipality_code;
    let recorded_by = &gate.current().account.id;
    gate.write(event, async |tx| {
        consent::record(
            tx,
            &consent_id,
            opened.id(),
            &municipality,
            new,
            recorded_by,
            now,
        )
        .await?;
        Ok(Written::Changed {
            value: (),
            fields: vec!["consents".to_string()],
        })
    })
    .await?;
    Ok(Ok(()))
}

/// Ends a consent of the opened record now. A consent that is not this child's, or has
/// ended already, is refused like an id out of reach (audited as denied).
pub(crate) async fn withdraw_consent(
    gate: &Gate<'_>,
    state: &AppState,
    opened: &Opened<Child>,
    consent_id: &str,
    reason: &str,
) -> Result<(), AppError> {
    let now = state.clock.now();
    let event = gate::change_event(opened, Action::Update)
        .detail(format!("consent_withdrawn:{consent_id}"));
    let by = &gate.current().account.id;
    // An id that is no consent of anyone's is answered like another child's consent.
    let consent_id = ConsentId::parse(consent_id).ok();
    let withdrawn = gate
        .write(event, async |tx| {
            let Some(consent_id) = &consent_id else {
                return Ok(Written::Nothing(false));
            };
            let done = consent::withdraw(tx, opened.id(), consent_id, by, reason, now).await?;
            Ok(if done {
                Written::Changed {
                    value: true,
                    fields: vec!["consents".to_string()],
                }
            } else {
                Written::Nothing(false)
            })
        })
        .await?;
    if withdrawn {
        Ok(())
    } else {
        Err(gate.refused::<Child>(opened.id().as_str()).await)
    }
}

/// A family's proposal to change contact and care details. Only the proposable fields
/// the family changed — compared with the version of the record their form was made on
/// (`base_version`, and the values that form carried in `seen`) — are kept, checked with
/// the one validator laid over the record, and stored pending with that version; staff
/// decide it later. Problems (none changed, a bad value, a long message) come back as
/// `Err`.
pub(crate) async fn propose(
    gate: &Gate<'_>,
    state: &AppState,
    stored: &ChildRecord,
    form: &HashMap<String, String>,
) -> Result<Result<(), Vec<FieldError>>, AppError> {
    let (id, before, version) = (stored.opened.id(), &stored.profile, stored.version);
    let message = form
        .get("message")
        .map(|m| m.trim().to_string())
        .unwrap_or_default();
    let current = before.to_fields();
    let base_version = form
        .get("base_version")
        .and_then(|v| v.trim().parse::<i64>().ok())
        .filter(|v| (1..=version).contains(v))
        .unwrap_or(version);
    // On the version the record has now, what the family saw is what is stored; on an
    // older one, what their form carried.
    let seen = if base_version == version {
        profile::proposable_values(&current)
    } else {
        match form
            .get("seen")
            .and_then(|s| serde_json::from_str::<HashMap<String, String>>(s).ok())
        {
            Some(seen) => profile::proposable_values(&seen),
            None => {
                return Ok(Err(vec![FieldError::new(
                    "",
                    "conflict",
                    "申出の画面を開いた後に記録が更新されました。画面を開き直して、もう一度入力してください",
                )]));
            }
        }
    };
    let change = FamilyChange::between(&seen, form);
    let mut fields = current;
    profile::apply_fields(&mut fields, &change.proposed);
    let mut errors = Vec::new();
    if message.chars().count() > 500 {
        errors.push(FieldError::new(
            "message",
            "too_long",
            "連絡事項は500文字以内で入力してください",
        ));
    }
    if let Some(c) = tsunagu_core::text::hidden_character(&message, true) {
        errors.push(FieldError::new(
            "message",
            "format",
            tsunagu_core::text::hidden_character_message("連絡事項", c),
        ));
    }
    let after = match profile::parse(&fields, state.clock.today_jst()) {
        Ok(p) => Some(p),
        Err(e) => {
            errors.extend(e);
            None
        }
    };
    let changes = after.map(|a| a.changes_from(before)).unwrap_or_default();
    if errors.is_empty() && (change.proposed.is_empty() || changes.is_empty()) {
        errors.push(FieldError::new(
            "",
            "unchanged",
            "変更された項目がありません",
        ));
    }
    if !errors.is_empty() {
        return Ok(Err(errors));
    }
    let proposal_id = ProposalId::from_uuid(uuid::Uuid::new_v4());
    let new = proposals_repo::NewProposal {
        child_id: id,
        proposed_by: &gate.current().account.id,
        proposed_at: state.clock.now(),
        base_version,
        fields: change.proposed,
        seen: change.seen,
        changes,
        message: &message,
    };
    let event = Event::new(Action::Create, Outcome::Allowed)
        .resource(proposals_repo::RESOURCE_TYPE, &proposal_id)
        .child(id);
    gate.write(event, async |tx| {
        proposals_repo::insert_pending(tx, &proposal_id, &new).await?;
        Ok(Written::Changed {
            value: (),
            fields: new.changes.iter().map(|c| c.field.clone()).collect(),
        })
    })
    .await?;
    Ok(Ok(()))
}

/// A family account made from one of the record's guardian entries; the initial password
/// is shown once and kept nowhere.
pub(crate) struct CreatedGuardian {
    pub login_id: String,
    pub display_name: String,
    pub initial_password: String,
}

/// What a guardian link changes on the child's record, for its audit entry.
const GUARDIAN_ACCOUNTS: &str = "guardian_accounts";

/// Staff of the record make an account for the guardian entry `entry` of the record and
/// link it to the child: the family then reads the record and proposes changes. The
/// account is a guardian's (no office, no two-factor required) and must change its
/// password at the first sign-in. Problems with the entry or the login id come back
/// as `Err`, beside their field.
pub(crate) async fn create_guardian_account(
    gate: &Gate<'_>,
    state: &AppState,
    id: &str,
    entry: &str,
    login_id: &str,
) -> Result<Result<CreatedGuardian, Vec<FieldError>>, AppError> {
    use crate::auth::repo::accounts;
    let stored = open_record(gate, state, id, Permission::WriteChild, Use::Change).await?;
    let mut errors = Vec::new();
    let guardian = entry
        .trim()
        .parse::<usize>()
        .ok()
        .and_then(|i| stored.profile.guardians.get(i))
        .filter(|g| !g.name.trim().is_empty());
    if guardian.is_none() {
        errors.push(FieldError::new(
            "entry",
            "required",
            "アカウントを作る保護者を選んでください（記録に氏名のある保護者だけです）",
        ));
    }
    let login = accounts::parse_login_id(login_id);
    match &login {
        None => errors.push(FieldError::new(
            "login_id",
            "format",
            accounts::LOGIN_ID_RULE,
        )),
        Some(login) if accounts::by_login_id(&state.db, login).await?.is_some() => {
            errors.push(FieldError::new(
                "login_id",
                "conflict",
                accounts::login_taken_message(login),
            ));
        }
        Some(_) => {}
    }
    let (Some(guardian), Some(login), true) = (guardian, login, errors.is_empty()) else {
        return Ok(Err(errors));
    };
    let initial_password = crate::auth::password::generate_initial_password();
    let password_hash = crate::auth::password::hash(&initial_password)
        .await
        .map_err(|e| AppError::Internal(e.to_string()))?;
    let relation = if guardian.relation.trim().is_empty() {
        "保護者".to_string()
    } else {
        guardian.relation.trim().to_string()
    };
    let new = accounts::NewAccount {
        login_id: login.clone(),
        display_name: guardian.name.trim().to_string(),
        kana: guardian.kana.trim().to_string(),
        password_hash,
        must_change_password: true,
        // Held in the municipality's families' organisation (made in the transaction).
        memberships: Vec::new(),
    };
    let now = state.clock.now();
    let opened = &stored.opened;
    let created = gate
        .write_all(async |tx| {
            let families =
                crate::organisations::families_of(tx, &opened.record.owner_organisation_id, now)
                    .await?;
            let new = accounts::NewAccount {
                memberships: vec![(families, tsunagu_core::access::Role::Guardian)],
                ..new.clone()
            };
            let account_id = match accounts::create(tx, &new, now).await {
                Ok(account_id) => account_id,
                // Someone took the login id a moment ago: nothing is written.
                Err(err) if accounts::is_unique_violation(&err) => {
                    return Err(AppError::Conflict(accounts::login_taken_message(&login)));
                }
                Err(err) => return Err(err.into()),
            };
            consent::add_guardian(tx, opened.id(), &account_id, &relation).await?;
            let events = vec![
                Event::new(Action::Create, Outcome::Allowed)
                    .resource("account", &account_id)
                    .fields([
                        "login_id",
                        "display_name",
                        "kana",
                        "password",
                        "memberships",
                    ])
                    .detail("role=guardian"),
                gate::change_event(opened, Action::Update)
                    .fields([GUARDIAN_ACCOUNTS])
                    .detail(format!("guardian_link:{account_id}")),
            ];
            Ok(((), events))
        })
        .await;
    match created {
        Ok(()) => Ok(Ok(CreatedGuardian {
            login_id: login,
            display_name: new.display_name,
            initial_password,
        })),
        Err(AppError::Conflict(message)) => {
            Ok(Err(vec![FieldError::new("login_id", "conflict", message)]))
        }
        Err(err) => Err(err),
    }
}

/// Staff link an existing family account (found by its login id) to the child.
pub(crate) async fn link_guardian_account(
    gate: &Gate<'_>,
    state: &AppState,
    id: &str,
    login_id: &str,
    relation: &str,
) -> Result<Result<(), Vec<FieldError>>, AppError> {
    use crate::auth::repo::accounts;
    let opened = gate
        .open::<Child>(id, Permission::WriteChild, Use::Change)
        .await?;
    let relation = relation.trim();
    if relation.chars().count() > 20 {
        return Ok(Err(vec![FieldError::new(
            "relation",
            "too_long",
            "続柄は20文字以内で入力してください",
        )]));
    }
    if let Some(c) = tsunagu_core::text::hidden_character(relation, false) {
        return Ok(Err(vec![FieldError::new(
            "relation",
            "format",
            tsunagu_core::text::hidden_character_message("続柄", c),
        )]));
    }
    let not_a_family = || {
        vec![FieldError::new(
            "existing_login_id",
            "not_allowed",
            "このログインIDの保護者アカウントはありません（職員のアカウントは連携できません）",
        )]
    };
    let Some(login) = accounts::parse_login_id(login_id) else {
        return Ok(Err(not_a_family()));
    };
    let Some(account) = accounts::by_login_id(&state.db, &login).await? else {
        return Ok(Err(not_a_family()));
    };
    let memberships = accounts::all_memberships(&state.db, &account.id).await?;
    if memberships.is_empty()
        || memberships
            .iter()
            .any(|m| m.role != tsunagu_core::access::Role::Guardian)
    {
        return Ok(Err(not_a_family()));
    }
    let relation = if relation.is_empty() {
        "保護者"
    } else {
        relation
    };
    let event =
        gate::change_event(&opened, Action::Update).detail(format!("guardian_link:{}", account.id));
    let linked = gate
        .write(event, async |tx| {
            if !consent::add_guardian(tx, opened.id(), &account.id, relation).await? {
                return Ok(Written::Nothing(false));
            }
            Ok(Written::Changed {
                value: true,
                fields: vec![GUARDIAN_ACCOUNTS.to_string()],
            })
        })
        .await?;
    if linked {
        Ok(Ok(()))
    } else {
        Ok(Err(vec![FieldError::new(
            "existing_login_id",
            "unchanged",
            "このアカウントはすでにこの児童に連携されています",
        )]))
    }
}

/// Staff end a family account's link to the child; the family's access ends with their
/// next request.
pub(crate) async fn unlink_guardian_account(
    gate: &Gate<'_>,
    id: &str,
    account_id: &str,
) -> Result<(), AppError> {
    let opened = gate
        .open::<Child>(id, Permission::WriteChild, Use::Change)
        .await?;
    // An id that names no account is linked to nobody: answered as already unlinked.
    let account_id = AccountId::parse(account_id).ok();
    let event = gate::change_event(&opened, Action::Update).detail(format!(
        "guardian_unlink:{}",
        account_id.as_ref().map(AccountId::as_str).unwrap_or("")
    ));
    let removed = gate
        .write(event, async |tx| {
            let Some(account_id) = &account_id else {
                return Ok(Written::Nothing(false));
            };
            if !consent::remove_guardian(tx, opened.id(), account_id).await? {
                return Ok(Written::Nothing(false));
            }
            Ok(Written::Changed {
                value: true,
                fields: vec![GUARDIAN_ACCOUNTS.to_string()],
            })
        })
        .await?;
    if removed {
        Ok(())
    } else {
        Err(AppError::Conflict(
            "この連携はすでに解除されています。ページを開き直してください".into(),
        ))
    }
}

/// What the registry asks of a person today, for their home page.
#[derive(Debug, Default)]
pub struct RegistryWork {
    /// Family change requests waiting on records the person's organisations own.
    pub proposals_to_decide: proposals_repo::PendingByChild,
    /// The person's own requests still waiting (a family's).
    pub own_pending_proposals: proposals_repo::PendingByChild,
    /// Pairs of records that look like one child in the towns the person reviews.
    pub duplicate_pairs: usize,
}

pub async fn work_for(
    state: &AppState,
    current: &CurrentSession,
) -> Result<RegistryWork, AppError> {
    let mut work = RegistryWork::default();
    // The organisations in which the person may change records: their records' requests.
    let owners: Vec<OrganisationId> = current
        .memberships
        .iter()
        .filter(|m| tsunagu_core::access::scope_of(m.role, Permission::WriteChild).is_some())
        .map(|m| m.organisation_id.clone())
        .collect();
    if !owners.is_empty() {
        let joined = tsunagu_core::access::ScopeFilter::joined(&owners);
        work.proposals_to_decide = proposals_repo::pending_for_owners(&state.db, &joined).await?;
    }
    work.duplicate_pairs = duplicate_pairs(state, current).await?.len();
    if may(&current.actor, Permission::ProposeChange, None).allowed() {
        work.own_pending_proposals =
            proposals_repo::pending_by(&state.db, &current.account.id).await?;
    }
    Ok(work)
}

/// A department asks the department that holds a child's record to share it: the record is
/// found again from what the registration form held (kana, birth date, town) — the asker
/// never learns its id — and its owner's staff are told who asks, with a link to the
/// child's consents, where sharing with a department is recorded with the family's consent.
/// `Ok(false)` when there is no such record in the asker's own town.
pub(crate) async fn request_access(
    gate: &Gate<'_>,
    state: &AppState,
    profile_hint: (
        &tsunagu_core::municipality::MunicipalityCode,
        chrono::NaiveDate,
        &str,
    ),
    message: &str,
) -> Result<bool, AppError> {
    let (code, birth, kana) = profile_hint;
    let current = gate.current();
    let Some(asker) = current.actor.memberships.iter().find(|m| {
        m.role == tsunagu_core::access::Role::MunicipalStaff && m.municipality_code == *code
    }) else {
        return Ok(false);
    };
    let today = state.clock.today_jst();
    let asker_name = current
        .memberships
        .iter()
        .find(|m| m.organisation_id == asker.organisation_id)
        .map(|m| m.organisation_name.clone())
        .unwrap_or_default();
    let mut told = false;
    for id in repo::same_child_in(&state.db, &code.to_string(), birth, kana).await? {
        let Some((child, target)) = repo::get(&state.db, &id, today).await? else {
            continue;
        };
        if target.owner_organisation_id == asker.organisation_id {
            continue;
        }
        let mut conn = state.db.pool().acquire().await?;
        let staff =
            crate::auth::repo::accounts::staff_of(&mut conn, &target.owner_organisation_id).await?;
        let note = if message.is_empty() {
            String::new()
        } else {
            format!("（連絡事項：{message}）")
        };
        crate::features::notices::notify(
            &mut conn,
            &staff,
            crate::features::notices::Kind::AccessRequest,
            &format!(
                "{asker_name}の{}さんが、{}さんの記録の共有を依頼しています{note}。ご家族の同意を確かめ、同意の記録から共有してください",
                current.account.display_name, child.name
            ),
            &format!("/children/{}/consents", child.id),
            state.clock.now(),
        )
        .await?;
        drop(conn);
        gate.audit(
            Event::new(Action::Create, Outcome::Allowed)
                .resource("access_request", &child.id)
                .child(&child.id)
                .detail(format!("from={}", asker.organisation_id)),
        )
        .await?;
        told = true;
    }
    Ok(told)
}

/// The towns whose duplicate pairs the person reviews: where they are municipal staff who
/// may change records, with the organisations they change them in (`ScopeFilter::joined`).
fn reviewed_towns(current: &CurrentSession) -> Vec<(String, String)> {
    let mut towns: Vec<(String, Vec<OrganisationId>)> = Vec::new();
    for m in &current.actor.memberships {
        if m.role != tsunagu_core::access::Role::MunicipalStaff
            || tsunagu_core::access::scope_of(m.role, Permission::WriteChild).is_none()
        {
            continue;
        }
        let code = m.municipality_code.to_string();
        match towns.iter_mut().find(|(c, _)| *c == code) {
            Some((_, owners)) => owners.push(m.organisation_id.clone()),
            None => towns.push((code, vec![m.organisation_id.clone()])),
        }
    }
    towns
        .into_iter()
        .map(|(code, owners)| (code, tsunagu_core::access::ScopeFilter::joined(&owners)))
        .collect()
}

/// How many duplicate pairs a page of the review shows at most.
pub const DUPLICATE_PAIRS_SHOWN: i64 = 100;

/// Possible pairs of records of one child in the person's towns, each with one side
/// theirs: the town's duplicate review. Only what tells the two apart is shown.
pub(crate) async fn duplicate_pairs(
    state: &AppState,
    current: &CurrentSession,
) -> Result<Vec<(merges::PairSide, merges::PairSide)>, AppError> {
    let mut pairs = Vec::new();
    for (code, owners) in reviewed_towns(current) {
        pairs.extend(
            merges::possible_pairs(&state.db, &code, &owners, DUPLICATE_PAIRS_SHOWN).await?,
        );
    }
    Ok(pairs)
}

/// Merges the record `merged` into the person's own record `survivor`: the same child of
/// the same town (folded kana and birth date), with a reason. In one transaction: the
/// merged record's consents, family links and shares move to the survivor, its owner keeps
/// reaching the child through a share, what it was is kept (`child_merges`), it is removed,
/// both are on the audit trail and the merged record's owner is told. Anything else about
/// `merged` (another town, not the same child, gone) is answered like an id out of reach.
pub(crate) async fn merge(
    gate: &Gate<'_>,
    state: &AppState,
    survivor: &str,
    merged: &str,
    reason: &str,
) -> Result<Result<(), String>, AppError> {
    let opened = gate
        .open::<Child>(survivor, Permission::WriteChild, Use::Change)
        .await?;
    let today = state.clock.today_jst();
    let same_child = match ChildId::parse(merged) {
        Ok(id) if id != *opened.id() => repo::get(&state.db, &id, today)
            .await?
            .map(|(child, _)| child)
            .filter(|c| {
                c.municipality_code == opened.record.municipality_code
                    && c.birth_date == opened.record.birth_date
                    && tsunagu_core::kana::search_key(&c.kana)
                        == tsunagu_core::kana::search_key(&opened.record.kana)
            }),
        _ => None,
    };
    let reviews_town = reviewed_towns(gate.current())
        .iter()
        .any(|(code, _)| *code == opened.record.municipality_code);
    let Some(other) = same_child.filter(|_| reviews_town) else {
        return Err(gate.refused::<Child>(merged).await);
    };
    let reason = reason.trim();
    if !DUPLICATE_REASON_CHARS.contains(&reason.chars().count()) {
        return Ok(Err(
            "統合する理由を、10文字以上500文字以内で入力してください".to_string(),
        ));
    }
    if let Some(c) = tsunagu_core::text::hidden_character(reason, true) {
        return Ok(Err(tsunagu_core::text::hidden_character_message(
            "統合する理由",
            c,
        )));
    }
    let Some((profile, _)) = store::load(&state.db, &other.id).await? else {
        return Err(gate.refused::<Child>(merged).await);
    };
    let history = store::history(&state.db, &other.id, 0).await?;
    let described = profile.described();
    let now = state.clock.now();
    let merger = &gate.current().account.id;
    let town_org = gate
        .current()
        .memberships
        .iter()
        .find(|m| m.organisation_id == opened.record.owner_organisation_id)
        .map(|m| m.organisation_name.clone())
        .unwrap_or_default();
    let survivor_event = gate::change_event(&opened, Action::Update)
        .fields([MERGED_RECORDS])
        .detail(format!("merge:{}", other.id));
    let merged_event = Event::new(Action::Delete, Outcome::Allowed)
        .resource(repo::RESOURCE_TYPE, other.id.as_str())
        .child(other.id.as_str())
        .detail(format!("merged_into:{}; reason={reason}", opened.id()));
    gate.write_all(async |tx| {
        consent::reassign(tx, &other.id, opened.id()).await?;
        if other.owner_organisation_id != opened.record.owner_organisation_id {
            consent::share(tx, opened.id(), &other.owner_organisation_id, "merge", now).await?;
        }
        let kept = merges::record_and_remove(
            tx,
            &merges::Merged {
                merged_id: &other.id,
                survivor_id: opened.id(),
                merged_owner: &other.owner_organisation_id,
                merged_by: merger,
                reason,
                profile: &described,
                history: &history,
                at: now,
            },
        )
        .await?;
        if !kept {
            return Err(AppError::Conflict(
                "この記録はすでに統合されています。一覧を開き直してください".into(),
            ));
        }
        let staff = crate::auth::repo::accounts::staff_of(tx, &other.owner_organisation_id).await?;
        crate::features::notices::notify(
            tx,
            &staff,
            crate::features::notices::Kind::PossibleDuplicate,
            &format!(
                "{town_org}が、同じ児童の2つの記録を1つに統合しました（{}さん）。貴課の記録の同意・家族の連携は統合後の記録に移り、貴課は共有先として引き続き参照できます。理由：{reason}",
                other.name
            ),
            &format!("/children/{}", opened.id()),
            now,
        )
        .await?;
        Ok(((), vec![survivor_event, merged_event]))
    })
    .await?;
    Ok(Ok(()))
}

/// The audit trail's name for what a merge changes on the record kept.
const MERGED_RECORDS: &str = "merged_records";

/// The active children of a prefecture as counts weigh them for the 年度 `fy` (their class
/// age then). Nobody's name or id leaves here: the caller shows counts only, and audits
/// that it read the prefecture's figures.
pub async fn facts_in_prefecture(
    state: &AppState,
    prefecture: &str,
    fy: i32,
) -> Result<Vec<tsunagu_core::plan::ChildFacts>, AppError> {
    use tsunagu_core::care::{CareItem, Tier};
    use tsunagu_core::device::DeviceKind;
    Ok(store::facts_in_prefecture(&state.db, prefecture)
        .await?
        .into_iter()
        .map(|f| tsunagu_core::plan::ChildFacts {
            needs: tsunagu_core::directory::Needs {
                class_age: tsunagu_core::calendar::class_age(f.birth_date, fy),
                care: CareItem::in_mask(f.care_mask).collect(),
                tier: Tier::parse(&f.care_tier).unwrap_or(Tier::BelowThree),
                devices: DeviceKind::ALL
                    .into_iter()
                    .filter(|d| f.device_mask & d.bit() != 0)
                    .collect(),
                municipality_code: f.municipality_code,
            },
            family_works: f.family_works,
        })
        .collect())
}
