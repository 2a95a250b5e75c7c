//! The one way to open, change and audit a record in scope.
//!
//! A record type implements [`Record`] (its audit resource, how it loads with what reaches
//! it). A handler then asks a [`Gate`] — made for a page or for the API — to
//! [`open`](Gate::open) one: the gate loads it, decides with the policy (`may`), audits the
//! read (or the refusal) and hands back the record with the basis of access. Out of reach
//! and missing look the same (404), so ids cannot be probed; a page refusal offers
//! break-glass to whoever holds it. A refusal is an [`AppError::Refused`] carrying the
//! answer, so `?` is all a handler writes.
//!
//! Every change goes through [`Gate::write`]: it opens the transaction, runs the change,
//! records the audit entry with the changed fields in the same transaction and commits.

use std::future::Future;

use askama::Template;
use axum::Json;
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::{Html, IntoResponse, Response};
use chrono::NaiveDate;
use serde_json::json;
use sqlx::AnyConnection;
use tsunagu_core::access::{Actor, Basis, Decision, Permission, Target, may};
use tsunagu_core::ids::{ChildId, RecordId};

use crate::audit::{self, Action, Event, Outcome};
use crate::auth::guard::audit_context;
use crate::auth::session::CurrentSession;
use crate::db::Db;
use crate::error::{AppError, Refusal};
use crate::state::AppState;
use crate::view::Chrome;

/// How much of an id that names nothing is kept in the audit entry of its refusal.
const FORGED_ID_CHARS_KEPT: usize = 64;

/// A kind of record the gate can open.
pub trait Record: Sized + Send {
    /// The audit trail's (and break-glass's) resource type, e.g. `child`.
    const RESOURCE: &'static str;
    /// What the API says when the record is missing or out of reach.
    const NOT_FOUND_JA: &'static str;
    /// Where a refused page leads back to: `(href, label)`.
    const BACK: (&'static str, &'static str);
    /// Whether a refused page offers break-glass (a child's record, in an emergency).
    const BREAK_GLASS: bool = false;

    /// The type of its id: what a path or body names is parsed into it first, and an id
    /// that does not parse is answered like a missing record.
    type Id: RecordId;

    /// The record and what reaches it (owner, shares, consents, guardians), or `None`.
    fn load(
        db: &Db,
        id: &Self::Id,
        today: NaiveDate,
    ) -> impl Future<Output = Result<Option<(Self, Target)>, sqlx::Error>> + Send;

    /// The record's own id.
    fn id(&self) -> &Self::Id;

    /// The child the record is about, for the audit trail's child column.
    fn child_id(&self) -> Option<&ChildId>;
}

/// A record the actor may use, and why.
#[derive(Debug)]
pub struct Opened<R> {
    pub record: R,
    pub target: Target,
    pub basis: Basis,
}

impl<R: Record> Opened<R> {
    /// The access rests on a break-glass grant (read only, shown to owner and family).
    pub fn via_break_glass(&self) -> bool {
        self.basis == Basis::BreakGlass
    }

    pub fn id(&self) -> &R::Id {
        self.record.id()
    }
}

/// What the record is opened for.
#[derive(Debug, Clone, Copy)]
pub enum Use<'v> {
    /// Shown to the actor: the read is audited with this view name (e.g. `history`).
    Read(&'v str),
    /// Changed next: [`Gate::write`] audits the change; nothing is shown, so no read entry.
    Change,
}

/// A rule beyond the permission, decided on the same loaded record (e.g. the access
/// history is for the family and the owner only).
pub type Rule = fn(&Actor, &Target) -> bool;

/// How refusals are answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Answer {
    Page,
    Api,
}

/// What a change did, for its audit entry.
pub enum Written<T> {
    /// Written: audited with these field names, then committed.
    Changed { value: T, fields: Vec<String> },
    /// Nothing written (unchanged, or refused inside the transaction): rolled back, no entry.
    Nothing(T),
}

/// The gate for one request.
pub struct Gate<'a> {
    state: &'a AppState,
    current: &'a CurrentSession,
    parts: &'a Parts,
    answer: Answer,
}

impl<'a> Gate<'a> {
    /// Refusals answer with the Japanese page (and break-glass, where held).
    pub fn page(state: &'a AppState, current: &'a CurrentSession, parts: &'a Parts) -> Self {
        Self {
            state,
            current,
            parts,
            answer: Answer::Page,
        }
    }

    /// Refusals answer 404 `not_found` in the API's JSON shape.
    pub fn api(state: &'a AppState, current: &'a CurrentSession, parts: &'a Parts) -> Self {
        Self {
            state,
            current,
            parts,
            answer: Answer::Api,
        }
    }

    pub fn current(&self) -> &CurrentSession {
        self.current
    }

    /// Opens a record for reading (`ReadChild`) and audits the read as `view`.
    pub async fn read<R: Record>(&self, id: &str, view: &str) -> Result<Opened<R>, AppError> {
        self.open(id, Permission::ReadChild, Use::Read(view)).await
    }

    /// Opens a record the actor may use with `permission`; see [`Use`] for what is audited.
    pub async fn open<R: Record>(
        &self,
        id: &str,
        permission: Permission,
        using: Use<'_>,
    ) -> Result<Opened<R>, AppError> {
        self.open_where(id, permission, using, |_, _| true).await
    }

    /// [`open`](Self::open), with `rule` required as well.
    pub async fn open_where<R: Record>(
        &self,
        id: &str,
        permission: Permission,
        using: Use<'_>,
        rule: Rule,
    ) -> Result<Opened<R>, AppError> {
        let Ok(parsed) = R::Id::parse(id) else {
            return Err(self.refuse::<R>(id, using).await);
        };
        let loaded = R::load(&self.state.db, &parsed, self.state.clock.today_jst()).await?;
        let Some((record, target)) = loaded else {
            return Err(self.refuse::<R>(id, using).await);
        };
        let basis = match may(&self.current.actor, permission, Some(&target)) {
            Decision::Allow(basis) if rule(&self.current.actor, &target) => basis,
            _ => return Err(self.refuse::<R>(id, using).await),
        };
        let opened = Opened {
            record,
            target,
            basis,
        };
        if let Use::Read(view) = using {
            self.audit_read(&opened, view).await?;
        }
        Ok(opened)
    }

    /// A refusal found after opening (a sub-record that is not this record's, a record
    /// gone meanwhile): audited and answered exactly like an out-of-scope id.
    pub async fn refused<R: Record>(&self, id: &str) -> AppError {
        self.refuse::<R>(id, Use::Change).await
    }

    /// Audits showing a record opened for a change after all (a refused change's page
    /// shows what it would have changed).
    pub async fn audit_read<R: Record>(
        &self,
        opened: &Opened<R>,
        view: &str,
    ) -> Result<(), AppError> {
        if cfg!(feature = "bench-unaudited-reads") {
            return Ok(());
        }
        let api = if self.answer == Answer::Api {
            "api"
        } else {
            ""
        };
        let via = if opened.via_break_glass() {
            "break_glass"
        } else {
            ""
        };
        let detail = [via, api, view]
            .into_iter()
            .filter(|s| !s.is_empty())
            .collect::<Vec<_>>()
            .join(";");
        let mut event = Event::new(Action::Read, Outcome::Allowed)
            .resource(R::RESOURCE, opened.id().as_str())
            .detail(detail);
        if let Some(child) = opened.record.child_id() {
            event = event.child(child.as_str());
        }
        let ctx = audit_context(self.parts, Some(self.current));
        audit::record_standalone(&self.state.db, &ctx, &event, self.state.clock.now()).await?;
        Ok(())
    }

    /// Audits the refusal and builds the answer. Failing to audit is itself the error.
    async fn refuse<R: Record>(&self, id: &str, using: Use<'_>) -> AppError {
        let detail = match using {
            Use::Read(view) if !view.is_empty() => view,
            Use::Read(_) => "read",
            Use::Change => "write",
        };
        // A forged id is kept as sent, but not at any length.
        let id: String = id.chars().take(FORGED_ID_CHARS_KEPT).collect();
        let id = id.as_str();
        let ctx = audit_context(self.parts, Some(self.current));
        let event = Event::new(Action::Denied, Outcome::Denied)
            .resource(R::RESOURCE, id)
            .detail(detail);
        if let Err(err) =
            audit::record_standalone(&self.state.db, &ctx, &event, self.state.clock.now()).await
        {
            return err.into();
        }
        let response = match self.answer {
            Answer::Api => not_found_json(R::NOT_FOUND_JA),
            Answer::Page => match self.denied_page::<R>(id) {
                Ok(page) => page,
                Err(err) => return err,
            },
        };
        AppError::Refused(Refusal(Box::new(response)))
    }

    fn denied_page<R: Record>(&self, id: &str) -> Result<Response, AppError> {
        let page = DeniedPage {
            chrome: Chrome::for_session(
                "記録を表示できません",
                self.state.settings.demo,
                Some(self.current),
            ),
            resource_type: R::RESOURCE,
            resource_id: id.to_string(),
            csrf_token: self.current.csrf_token.clone(),
            can_break_glass: R::BREAK_GLASS
                && may(&self.current.actor, Permission::BreakGlass, None).allowed(),
            hours: self.state.settings.break_glass_hours,
            back_href: R::BACK.0,
            back_label: R::BACK.1,
        };
        Ok((StatusCode::NOT_FOUND, Html(page.render()?)).into_response())
    }

    /// Runs `work` in one transaction and, when it wrote, records `event` with the fields
    /// it names in the same transaction before committing. A change without its audit
    /// entry cannot be written through here, and an entry without its change is rolled
    /// back with it.
    pub async fn write<T>(
        &self,
        event: Event,
        work: impl AsyncFnOnce(&mut AnyConnection) -> Result<Written<T>, AppError>,
    ) -> Result<T, AppError> {
        let now = self.state.clock.now();
        let ctx = audit_context(self.parts, Some(self.current));
        let mut tx = self.state.db.pool().begin().await?;
        match work(&mut tx).await? {
            Written::Changed { value, fields } => {
                audit::record(&mut tx, &ctx, &event.fields(fields), now).await?;
                tx.commit().await?;
                Ok(value)
            }
            Written::Nothing(value) => {
                tx.rollback().await?;
                Ok(value)
            }
        }
    }
}

impl Gate<'_> {
    /// A change that records several entries (an import: one per new record and one for
    /// the file): `work` returns them with its value, and they are appended in the change's
    /// transaction before it commits. A change that names no entry is rolled back.
    pub async fn write_all<T>(
        &self,
        work: impl AsyncFnOnce(&mut AnyConnection) -> Result<(T, Vec<Event>), AppError>,
    ) -> Result<T, AppError> {
        let now = self.state.clock.now();
        let ctx = audit_context(self.parts, Some(self.current));
        // Bulk writes take SQLite's one writer in turn rather than meet in its busy handler.
        let _turn = self.state.db.sqlite_writer_turn().await;
        let mut tx = self.state.db.pool().begin().await?;
        let (value, events) = work(&mut tx).await?;
        if events.is_empty() {
            tx.rollback().await?;
            return Err(AppError::Internal(
                "a change without an audit entry was refused".into(),
            ));
        }
        for event in &events {
            audit::record(&mut tx, &ctx, event, now).await?;
        }
        tx.commit().await?;
        Ok(value)
    }

    /// Entries with no change to commit with, written together (a list export: one for the
    /// export and one for each child in it, so each family's access history shows it).
    /// One entry with no change to commit with (a list shown, a conflict answered), through
    /// the group commit that reads use: concurrent requests share one transaction.
    pub async fn audit(&self, event: Event) -> Result<(), AppError> {
        let ctx = audit_context(self.parts, Some(self.current));
        audit::record_standalone(&self.state.db, &ctx, &event, self.state.clock.now()).await?;
        Ok(())
    }

    pub async fn audit_all(&self, events: &[Event]) -> Result<(), AppError> {
        self.write_all(async |_| Ok(((), events.to_vec()))).await
    }
}

/// The event of a change to an opened record: its resource and child.
pub fn change_event<R: Record>(opened: &Opened<R>, action: Action) -> Event {
    let event = Event::new(action, Outcome::Allowed).resource(R::RESOURCE, opened.id().as_str());
    match opened.record.child_id() {
        Some(child) => event.child(child.as_str()),
        None => event,
    }
}

fn not_found_json(message: &str) -> Response {
    (
        StatusCode::NOT_FOUND,
        Json(json!({"error": {"code": AppError::NotFound.code(), "message": message}})),
    )
        .into_response()
}

#[derive(Template)]
#[template(path = "gate/denied.html")]
struct DeniedPage {
    chrome: Chrome,
    resource_type: &'static str,
    resource_id: String,
    csrf_token: String,
    can_break_glass: bool,
    hours: i64,
    back_href: &'static str,
    back_label: &'static str,
}
