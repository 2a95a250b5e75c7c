//! The registry's operations, shared by the pages and the API: register, edit, decide a
//! family's proposal. Each opens the record through the gate and writes through its
//! write counterpart, so the policy and the audit entry cannot be skipped.

use std::collections::HashMap;

use tsunagu_core::access::Permission;

use super::profile::{self, Change, Profile, proposable_field};
use super::repo::proposals as proposals_repo;
use super::repo::{self, Child};
use super::store::{self, Edit, HistoryEntry};
use crate::audit::{Action, Event, Outcome};
use crate::error::{AppError, FieldError};
use crate::gate::{self, Gate, Opened, Use, Written};

/// Registers a child owned by `owner`: the record and its audit entry in one transaction.
pub(crate) async fn register(
    gate: &Gate<'_>,
    state: &crate::state::AppState,
    owner: &str,
    profile: &Profile,
) -> Result<String, AppError> {
    let id = uuid::Uuid::new_v4().to_string();
    let fields: Vec<String> = profile
        .described()
        .into_iter()
        .filter(|(_, _, v)| !v.is_empty())
        .map(|(f, _, _)| f.to_string())
        .collect();
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

/// Checks and saves an edit of a record the actor may write; audits the changed fields.
pub(crate) async fn edit(
    gate: &Gate<'_>,
    state: &crate::state::AppState,
    id: &str,
    expected: i64,
    form: &HashMap<String, String>,
    source: &str,
) -> Result<EditOutcome, AppError> {
    let profile = match profile::parse(form, state.clock.today_jst()) {
        Ok(p) => p,
        Err(errors) => return Ok(EditOutcome::Invalid(errors)),
    };
    let opened = gate
        .open::<Child>(id, Permission::WriteChild, Use::Change)
        .await?;
    let profile = match fixed_municipality(&opened, profile) {
        Ok(p) => p,
        Err(errors) => return Ok(EditOutcome::Invalid(errors)),
    };
    save(gate, state, &opened, expected, &profile, source, None).await
}

/// The municipality of a record is not edited (a move is 転出 here, 転入 there); the
/// stored spelling of its code is kept.
fn fixed_municipality(
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

/// Saves `profile` over the opened record if it is still at `expected`: the record, its
/// history, the audit entry and (when deciding a proposal) the proposal's decision in one
/// transaction. A proposal decided meanwhile by someone else is an error and nothing is
/// written.
async fn save(
    gate: &Gate<'_>,
    state: &crate::state::AppState,
    opened: &Opened<Child>,
    expected: i64,
    profile: &Profile,
    source: &str,
    proposal: Option<&proposals_repo::Decision<'_>>,
) -> Result<EditOutcome, AppError> {
    let id = opened.id();
    // Read before the transaction: on SQLite a read inside a write transaction would hold
    // the writer; the version check in the UPDATE catches anyone in between.
    let Some((before, current)) = store::load(&state.db, id).await? else {
        return Err(gate.refused::<Child>(id).await);
    };
    if current != expected {
        return Ok(EditOutcome::Conflict {
            current,
            others: store::history(&state.db, id, expected).await?,
        });
    }
    let changes = profile.changes_from(&before);
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
    if let Some(decision) = proposal {
        detail = format!("{source}:{}:{}", decision.proposal_id, decision.status());
    }
    let event = gate::change_event(opened, Action::Update).detail(detail);
    let saved = gate
        .write(event, async |tx| {
            if let Some(decision) = proposal
                && !proposals_repo::decide(tx, decision, now).await?
            {
                return Err(already_decided());
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
        return Ok(EditOutcome::Conflict {
            current: expected + 1,
            others: store::history(&state.db, id, expected).await?,
        });
    }
    let version = if changes.is_empty() {
        expected
    } else {
        expected + 1
    };
    Ok(EditOutcome::Saved { version, changes })
}

/// Staff confirm (apply the proposed values) or decline a family's pending proposal. The
/// record, the proposal's status and the audit entry change in one transaction; a
/// proposal already decided is refused and nothing changes.
pub(crate) async fn decide_proposal(
    gate: &Gate<'_>,
    state: &crate::state::AppState,
    id: &str,
    proposal_id: &str,
    decision: Option<&str>,
    note: &str,
) -> Result<(), AppError> {
    let opened = gate
        .open::<Child>(id, Permission::WriteChild, Use::Change)
        .await?;
    let pending = proposals_repo::pending(&state.db, id, proposal_id).await?;
    let Some(proposal) = pending else {
        // Not this child's, or decided already: say which without naming another record.
        return Err(
            if proposals_repo::exists(&state.db, id, proposal_id).await? {
                already_decided()
            } else {
                gate.refused::<Child>(id).await
            },
        );
    };
    if note.chars().count() > 500 {
        return Err(AppError::BadRequest(
            "確認メモは500文字以内で入力してください".into(),
        ));
    }
    let accept = match decision {
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
        return gate
            .write(event, async |tx| {
                if !proposals_repo::decide(tx, &decision, now).await? {
                    return Err(already_decided());
                }
                Ok(Written::Changed {
                    value: (),
                    fields: vec!["status".to_string()],
                })
            })
            .await;
    }
    let Some((stored, version)) = store::load(&state.db, id).await? else {
        return Err(gate.refused::<Child>(id).await);
    };
    let fields = overlay(stored.to_fields(), &proposal.fields);
    let profile = profile::parse(&fields, state.clock.today_jst())
        .map_err(|errors| {
            AppError::BadRequest(format!(
                "申出をそのまま反映できません：{}",
                messages(&errors)
            ))
        })
        .and_then(|p| {
            fixed_municipality(&opened, p).map_err(|errors| AppError::BadRequest(messages(&errors)))
        })?;
    match save(
        gate,
        state,
        &opened,
        version,
        &profile,
        "proposal",
        Some(&decision),
    )
    .await?
    {
        EditOutcome::Saved { .. } => Ok(()),
        EditOutcome::Invalid(errors) => Err(AppError::BadRequest(messages(&errors))),
        EditOutcome::Conflict { .. } => Err(AppError::Conflict(
            "記録が同時に更新されました。ページを開き直してから、もう一度反映してください".into(),
        )),
    }
}

/// A proposal that is no longer pending when staff decide it.
fn already_decided() -> AppError {
    AppError::Conflict(
        "この申出はすでに確認済みです（他の担当者が反映または見送りました）。ページを開き直してください"
            .into(),
    )
}

/// The current fields with the proposable ones replaced by the proposal's.
pub(crate) fn overlay(
    current: HashMap<String, String>,
    proposed: &HashMap<String, String>,
) -> HashMap<String, String> {
    let mut fields: HashMap<String, String> = current
        .into_iter()
        .filter(|(k, _)| !proposable_field(k))
        .collect();
    fields.extend(
        proposed
            .iter()
            .filter(|(k, _)| proposable_field(k))
            .map(|(k, v)| (k.clone(), v.clone())),
    );
    fields
}

/// The messages of a list of problems, as one line.
fn messages(errors: &[FieldError]) -> String {
    errors
        .iter()
        .map(|e| e.message.as_str())
        .collect::<Vec<_>>()
        .join("、")
}
