//! Accounts: the list within reach (with lockout and two-factor state), creation with an
//! initial password shown once, roles, deactivation, unlocking and resets. Every change is
//! audited in the transaction that makes it.
//!
//! An account is in reach when one of its memberships is in an organisation in reach. It
//! can be changed only when ALL its memberships are in reach and hold roles the
//! administrator may grant: a prefecture's administrator sees a colleague administrator
//! but cannot reset their password, and cannot touch an account that also works in
//! another prefecture. Nobody changes their own roles or deactivates themselves here.

use std::collections::HashMap;
use tsunagu_core::ids::{AccountId, OrganisationId};

use askama::Template;
use axum::extract::{Path, Query, RawForm, State};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::{Html, IntoResponse, Redirect, Response};
use tsunagu_core::access::{Permission, Role};

use super::{PAGE_SIZE, check_kana, check_name, field, not_found, page_number, pages, reach};
use crate::audit::{self, Action, Event, Outcome};
use crate::auth::guard::{Access, Routes, audit_context};
use crate::auth::password;
use crate::auth::repo::accounts::{
    self as repo, Account, AccountSummary, AdminMembership, NewAccount, login_taken_message,
    parse_login_id,
};
use crate::auth::session::{self, CurrentSession};
use crate::error::{AppError, PageError};
use crate::organisations::OrganisationKind;
use crate::organisations::repo::{self as organisations, Reach};
use crate::state::AppState;
use crate::view::Chrome;
use crate::web::params;

pub const RESOURCE_TYPE: &str = "account";
const PERMISSION: Permission = Permission::ManageAccounts;

pub fn routes() -> Routes {
    let access = Access::Permission(PERMISSION);
    Routes::new()
        .get("/admin/accounts", access, list)
        .get("/admin/accounts/new", access, new_form)
        .post("/admin/accounts", access, create)
        .get("/admin/accounts/{id}", access, detail)
        .post("/admin/accounts/{id}/roles", access, add_role)
        .post("/admin/accounts/{id}/roles/remove", access, remove_role)
        .post("/admin/accounts/{id}/deactivate", access, deactivate)
        .post("/admin/accounts/{id}/reactivate", access, reactivate)
        .post("/admin/accounts/{id}/unlock", access, unlock)
        .post(
            "/admin/accounts/{id}/reset-password",
            access,
            reset_password,
        )
        .post(
            "/admin/accounts/{id}/reset-two-factor",
            access,
            reset_two_factor,
        )
}

/// Whether an administrator with this reach may grant (or take away) a role: the two
/// administrator roles only by one who reaches everything.
fn may_grant(reach: &Reach, role: Role) -> bool {
    reach.everything || !matches!(role, Role::SystemAdmin | Role::PrefectureAdmin)
}

fn membership_in_reach(reach: &Reach, m: &AdminMembership) -> bool {
    match OrganisationKind::parse(&m.organisation_kind) {
        Some(kind) => reach.covers(kind, &m.municipality_code),
        None => reach.everything,
    }
}

/// The roles this administrator may grant, with their Japanese names.
fn grantable_roles(reach: &Reach) -> Vec<(&'static str, &'static str)> {
    Role::ALL
        .into_iter()
        .filter(|r| *r != Role::Guardian && may_grant(reach, *r))
        .map(|r| (r.as_str(), r.label_ja()))
        .collect()
}

/// Organisations to choose from: `(id, "name（code）")`.
async fn organisation_choices(
    state: &AppState,
    reach: &Reach,
) -> Result<Vec<(String, String)>, AppError> {
    Ok(organisations::active_in_reach(&state.db, reach)
        .await?
        .into_iter()
        .map(|o| {
            let label = format!("{}（{}・{}）", o.name, o.kind_label(), o.municipality_code);
            (o.id.into_string(), label)
        })
        .collect())
}

#[derive(Template)]
#[template(path = "admin/accounts.html")]
struct ListPage {
    chrome: Chrome,
    accounts: Vec<AccountSummary>,
    query: String,
    total: i64,
    page: i64,
    pages: i64,
    /// Failed sign-ins per client address (only for those who reach every account).
    throttled: Vec<(String, i64)>,
    address_limit: i64,
}

async fn list(
    State(state): State<AppState>,
    current: CurrentSession,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Html<String>, PageError> {
    let text = params::search_text(q.get("q").map(String::as_str))?;
    let page = page_number(&q)?;
    let reach = reach(&current, PERMISSION);
    let (accounts, total) = repo::list_in_reach(
        &state.db,
        &reach,
        &text,
        PAGE_SIZE,
        (page - 1) * PAGE_SIZE,
        state.clock.now(),
    )
    .await?;
    // Addresses belong to no organisation: only an administrator of everything sees them.
    let throttled = if reach.everything {
        crate::auth::login::recent_failures_by_address(&state.db, state.clock.now()).await?
    } else {
        Vec::new()
    };
    let page = ListPage {
        chrome: Chrome::for_session("アカウントの管理", state.settings.demo, Some(&current)),
        throttled,
        address_limit: crate::auth::login::ADDRESS_LIMIT,
        accounts,
        query: text,
        total,
        page,
        pages: pages(total, PAGE_SIZE),
    };
    Ok(Html(page.render()?))
}

#[derive(Template)]
#[template(path = "admin/account_new.html")]
struct NewPage {
    chrome: Chrome,
    csrf_token: String,
    values: HashMap<String, String>,
    errors: Vec<String>,
    organisations: Vec<(String, String)>,
    roles: Vec<(&'static str, &'static str)>,
}

impl NewPage {
    fn value(&self, key: &str) -> String {
        self.values.get(key).cloned().unwrap_or_default()
    }
}

async fn new_page(
    state: &AppState,
    current: &CurrentSession,
    values: HashMap<String, String>,
    errors: Vec<String>,
) -> Result<NewPage, AppError> {
    let reach = reach(current, PERMISSION);
    Ok(NewPage {
        chrome: Chrome::for_session("アカウントの作成", state.settings.demo, Some(current)),
        csrf_token: current.csrf_token.clone(),
        values,
        errors,
        organisations: organisation_choices(state, &reach).await?,
        roles: grantable_roles(&reach),
    })
}

async fn new_form(
    State(state): State<AppState>,
    current: CurrentSession,
) -> Result<Html<String>, PageError> {
    let page = new_page(&state, &current, HashMap::new(), Vec::new()).await?;
    Ok(Html(page.render()?))
}

/// A role in an organisation, chosen on a form; checked against the reach.
async fn parse_grant(
    state: &AppState,
    reach: &Reach,
    form: &HashMap<String, String>,
    errors: &mut Vec<String>,
) -> Result<Option<(OrganisationId, Role)>, AppError> {
    let chosen = OrganisationId::parse(&field(form, "organisation_id")).ok();
    let organisation = match chosen {
        Some(organisation_id) => organisations::get(&state.db, &organisation_id).await?,
        None => None,
    };
    let organisation = match organisation {
        Some(o)
            if o.active
                && o.kind != OrganisationKind::Family
                && reach.covers(o.kind, &o.municipality_code) =>
        {
            Some(o)
        }
        _ => {
            errors.push("所属する組織を一覧から選んでください".to_string());
            None
        }
    };
    let role = match Role::parse(&field(form, "role")) {
        // A family's account hangs on their child's record and its families' organisation.
        Some(Role::Guardian) => {
            errors.push(
                "保護者のアカウントは、児童の記録の「ご家族のアカウント」から作ってください"
                    .to_string(),
            );
            None
        }
        Some(role) if may_grant(reach, role) => Some(role),
        Some(role) => {
            errors.push(format!(
                "「{}」の権限は、システム管理者だけが付与できます",
                role.label_ja()
            ));
            None
        }
        None => {
            errors.push("権限（役割）を一覧から選んでください".to_string());
            None
        }
    };
    Ok(match (organisation, role) {
        (Some(o), Some(role)) => Some((o.id, role)),
        _ => None,
    })
}

#[derive(Template)]
#[template(path = "admin/account_password.html")]
struct PasswordPage {
    chrome: Chrome,
    account: Account,
    password: String,
    created: bool,
}

/// Shows a generated password this one time. The page is never cached (the security
/// headers say `no-store`), and the password is neither stored in plain text nor logged.
fn password_page(
    state: &AppState,
    current: &CurrentSession,
    account: Account,
    password: String,
    created: bool,
) -> Result<Response, PageError> {
    let title = if created {
        "アカウントを作成しました"
    } else {
        "パスワードを再発行しました"
    };
    let page = PasswordPage {
        chrome: Chrome::for_session(title, state.settings.demo, Some(current)),
        account,
        password,
        created,
    };
    Ok(Html(page.render()?).into_response())
}

async fn create(
    State(state): State<AppState>,
    current: CurrentSession,
    parts: Parts,
    RawForm(body): RawForm,
) -> Result<Response, PageError> {
    let form = params::form(&body)?;
    let reach = reach(&current, PERMISSION);
    let mut errors = Vec::new();
    let login_id = parse_login_id(&field(&form, "login_id"));
    if login_id.is_none() {
        errors.push(repo::LOGIN_ID_RULE.to_string());
    }
    let display_name = field(&form, "display_name");
    check_name(&display_name, "氏名（表示名）", &mut errors);
    let kana = field(&form, "kana");
    check_kana(&kana, &mut errors);
    let grant = parse_grant(&state, &reach, &form, &mut errors).await?;
    if let Some(login) = &login_id
        && repo::by_login_id(&state.db, login).await?.is_some()
    {
        errors.push(login_taken_message(login));
    }
    let (Some(login_id), Some((organisation_id, role)), true) =
        (login_id, grant, errors.is_empty())
    else {
        let page = new_page(&state, &current, form, errors).await?;
        return Ok((StatusCode::BAD_REQUEST, Html(page.render()?)).into_response());
    };
    let initial = password::generate_initial_password();
    let password_hash = password::hash(&initial)
        .await
        .map_err(|e| AppError::Internal(e.to_string()))?;
    let new = NewAccount {
        login_id: login_id.clone(),
        display_name,
        kana,
        password_hash,
        must_change_password: true,
        memberships: vec![(organisation_id.clone(), role)],
    };
    let now = state.clock.now();
    let ctx = audit_context(&parts, Some(&current));
    let mut tx = state.db.pool().begin().await.map_err(AppError::from)?;
    let id = match repo::create(&mut tx, &new, now).await {
        Ok(id) => id,
        Err(err) if repo::is_unique_violation(&err) => {
            // Another administrator took the id a moment ago.
            drop(tx);
            let page =
                new_page(&state, &current, form, vec![login_taken_message(&login_id)]).await?;
            return Ok((StatusCode::BAD_REQUEST, Html(page.render()?)).into_response());
        }
        Err(err) => return Err(AppError::from(err).into()),
    };
    let event = Event::new(Action::Create, Outcome::Allowed)
        .resource(RESOURCE_TYPE, &id)
        .fields([
            "login_id",
            "display_name",
            "kana",
            "password",
            "memberships",
        ])
        .detail(format!(
            "role={} organisation={organisation_id}",
            role.as_str()
        ));
    audit::record(&mut tx, &ctx, &event, now)
        .await
        .map_err(AppError::from)?;
    tx.commit().await.map_err(AppError::from)?;
    let mut conn = state.db.pool().acquire().await.map_err(AppError::from)?;
    let account = repo::by_id(&mut conn, &id)
        .await?
        .ok_or(AppError::NotFound)?;
    password_page(&state, &current, account, initial, true)
}

/// An account in reach, its memberships, and whether this administrator may change it.
struct Loaded {
    account: Account,
    memberships: Vec<AdminMembership>,
    manageable: bool,
    is_self: bool,
}

async fn load(
    state: &AppState,
    current: &CurrentSession,
    parts: &Parts,
    id: &str,
) -> Result<Loaded, AppError> {
    let reach = reach(current, PERMISSION);
    let account = match AccountId::parse(id) {
        Ok(account_id) => {
            let mut conn = state.db.pool().acquire().await?;
            repo::by_id(&mut conn, &account_id).await?
        }
        Err(_) => None,
    };
    if let Some(account) = account {
        let memberships = repo::all_memberships(&state.db, &account.id).await?;
        let visible =
            reach.everything || memberships.iter().any(|m| membership_in_reach(&reach, m));
        if visible {
            let manageable = reach.everything
                || memberships
                    .iter()
                    .all(|m| membership_in_reach(&reach, m) && may_grant(&reach, m.role));
            return Ok(Loaded {
                is_self: account.id == current.account.id,
                account,
                memberships,
                manageable,
            });
        }
    }
    Err(not_found(state, current, parts, RESOURCE_TYPE, id, "manage").await)
}

/// One membership on the detail page, with whether it may be removed here.
struct MembershipRow {
    m: AdminMembership,
    removable: bool,
}

#[derive(Template)]
#[template(path = "admin/account_detail.html")]
struct DetailPage {
    chrome: Chrome,
    csrf_token: String,
    account: Account,
    locked: bool,
    locked_until: String,
    memberships: Vec<MembershipRow>,
    manageable: bool,
    is_self: bool,
    organisations: Vec<(String, String)>,
    roles: Vec<(&'static str, &'static str)>,
    notice: Option<&'static str>,
    errors: Vec<String>,
}

async fn detail_response(
    state: &AppState,
    current: &CurrentSession,
    loaded: Loaded,
    notice: Option<&'static str>,
    errors: Vec<String>,
    status: StatusCode,
) -> Result<Response, PageError> {
    let reach = reach(current, PERMISSION);
    let now = state.clock.now();
    let can_change_roles = loaded.manageable && !loaded.is_self;
    let memberships = loaded
        .memberships
        .into_iter()
        .map(|m| MembershipRow {
            removable: can_change_roles && membership_in_reach(&reach, &m),
            m,
        })
        .collect();
    let page = DetailPage {
        chrome: Chrome::for_session(
            format!("{}（アカウント）", loaded.account.display_name),
            state.settings.demo,
            Some(current),
        ),
        csrf_token: current.csrf_token.clone(),
        locked: loaded.account.is_locked(now),
        locked_until: loaded
            .account
            .locked_until
            .map(crate::view::format_instant_jst)
            .unwrap_or_default(),
        account: loaded.account,
        memberships,
        manageable: loaded.manageable,
        is_self: loaded.is_self,
        organisations: if can_change_roles {
            organisation_choices(state, &reach).await?
        } else {
            Vec::new()
        },
        roles: grantable_roles(&reach),
        notice,
        errors,
    };
    Ok((status, Html(page.render()?)).into_response())
}

fn notice_for(done: &str) -> Option<&'static str> {
    Some(match done {
        "role_added" => "権限を追加しました。",
        "role_removed" => "権限を削除しました。",
        "deactivated" => {
            "アカウントを無効にしました。この人のサインイン中の画面はすべて終了しました。"
        }
        "reactivated" => "アカウントを有効にしました。",
        "unlocked" => "ロックを解除し、ログイン失敗回数を0に戻しました。",
        "two_factor_reset" => {
            "二要素認証をリセットしました。次のサインインで登録し直します。サインイン中の画面はすべて終了しました。"
        }
        "unchanged" => "変更はありません。",
        _ => return None,
    })
}

async fn detail(
    State(state): State<AppState>,
    current: CurrentSession,
    parts: Parts,
    Path(id): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Response, PageError> {
    let loaded = load(&state, &current, &parts, &id).await?;
    let notice = q.get("done").and_then(|d| notice_for(d));
    detail_response(&state, &current, loaded, notice, Vec::new(), StatusCode::OK).await
}

fn back_to(id: &str, done: &str) -> Response {
    Redirect::to(&format!("/admin/accounts/{id}?done={done}")).into_response()
}

/// Loads the account for a change: in reach, changeable by this administrator, and (when
/// `not_self` names the change) not the administrator's own. `Err(response)` is the page
/// that explains why not.
async fn load_for_change(
    state: &AppState,
    current: &CurrentSession,
    parts: &Parts,
    id: &str,
    not_self: Option<&str>,
) -> Result<Result<Loaded, Response>, PageError> {
    let loaded = load(state, current, parts, id).await?;
    if !loaded.manageable {
        let ctx = audit_context(parts, Some(current));
        let event = Event::new(Action::Denied, Outcome::Denied)
            .resource(RESOURCE_TYPE, id)
            .detail("account beyond the administrator's reach or rank");
        audit::record_standalone(&state.db, &ctx, &event, state.clock.now())
            .await
            .map_err(AppError::from)?;
        let message = "このアカウントは、あなたの管理範囲外の組織に所属しているか、あなたが付与できない権限を持っているため、変更できません。システム管理者に依頼してください".to_string();
        return Ok(Err(detail_response(
            state,
            current,
            loaded,
            None,
            vec![message],
            StatusCode::FORBIDDEN,
        )
        .await?));
    }
    if let Some(what) = not_self
        && loaded.is_self
    {
        let message = format!("自分のアカウントの{what}はできません。別の管理者に依頼してください");
        return Ok(Err(detail_response(
            state,
            current,
            loaded,
            None,
            vec![message],
            StatusCode::BAD_REQUEST,
        )
        .await?));
    }
    Ok(Ok(loaded))
}

async fn add_role(
    State(state): State<AppState>,
    current: CurrentSession,
    parts: Parts,
    Path(id): Path<String>,
    RawForm(body): RawForm,
) -> Result<Response, PageError> {
    let form = params::form(&body)?;
    let loaded = match load_for_change(&state, &current, &parts, &id, Some("権限の変更")).await?
    {
        Ok(loaded) => loaded,
        Err(response) => return Ok(response),
    };
    let reach = reach(&current, PERMISSION);
    let mut errors = Vec::new();
    let grant = parse_grant(&state, &reach, &form, &mut errors).await?;
    let Some((organisation_id, role)) = grant else {
        return detail_response(
            &state,
            &current,
            loaded,
            None,
            errors,
            StatusCode::BAD_REQUEST,
        )
        .await;
    };
    if loaded
        .memberships
        .iter()
        .any(|m| m.organisation_id == organisation_id && m.role == role)
    {
        return Ok(back_to(&id, "unchanged"));
    }
    let now = state.clock.now();
    let ctx = audit_context(&parts, Some(&current));
    let mut tx = state.db.pool().begin().await.map_err(AppError::from)?;
    repo::add_membership(&mut tx, &loaded.account.id, &organisation_id, role, now)
        .await
        .map_err(AppError::from)?;
    let event = Event::new(Action::RoleChange, Outcome::Allowed)
        .resource(RESOURCE_TYPE, &id)
        .fields(["memberships"])
        .detail(format!(
            "add role={} organisation={organisation_id}",
            role.as_str()
        ));
    audit::record(&mut tx, &ctx, &event, now)
        .await
        .map_err(AppError::from)?;
    tx.commit().await.map_err(AppError::from)?;
    Ok(back_to(&id, "role_added"))
}

async fn remove_role(
    State(state): State<AppState>,
    current: CurrentSession,
    parts: Parts,
    Path(id): Path<String>,
    RawForm(body): RawForm,
) -> Result<Response, PageError> {
    let form = params::form(&body)?;
    let loaded = match load_for_change(&state, &current, &parts, &id, Some("権限の変更")).await?
    {
        Ok(loaded) => loaded,
        Err(response) => return Ok(response),
    };
    let organisation_id = OrganisationId::parse(&field(&form, "organisation_id")).ok();
    let role = Role::parse(&field(&form, "role"));
    let found = role.zip(organisation_id).filter(|(r, o)| {
        loaded
            .memberships
            .iter()
            .any(|m| m.organisation_id == *o && m.role == *r)
    });
    let Some((role, organisation_id)) = found else {
        return detail_response(
            &state,
            &current,
            loaded,
            None,
            vec!["削除する権限が見つかりません。ページを開き直してください".to_string()],
            StatusCode::BAD_REQUEST,
        )
        .await;
    };
    let now = state.clock.now();
    let ctx = audit_context(&parts, Some(&current));
    let mut tx = state.db.pool().begin().await.map_err(AppError::from)?;
    if !repo::remove_membership(&mut tx, &loaded.account.id, &organisation_id, role)
        .await
        .map_err(AppError::from)?
    {
        // Removed by someone else meanwhile: nothing to record.
        tx.rollback().await.map_err(AppError::from)?;
        return Ok(back_to(&id, "unchanged"));
    }
    let event = Event::new(Action::RoleChange, Outcome::Allowed)
        .resource(RESOURCE_TYPE, &id)
        .fields(["memberships"])
        .detail(format!(
            "remove role={} organisation={organisation_id}",
            role.as_str()
        ));
    audit::record(&mut tx, &ctx, &event, now)
        .await
        .map_err(AppError::from)?;
    tx.commit().await.map_err(AppError::from)?;
    Ok(back_to(&id, "role_removed"))
}

async fn set_active(
    state: AppState,
    current: CurrentSession,
    parts: Parts,
    id: String,
    active: bool,
) -> Result<Response, PageError> {
    let not_self = (!active).then_some("無効化");
    let loaded = match load_for_change(&state, &current, &parts, &id, not_self).await? {
        Ok(loaded) => loaded,
        Err(response) => return Ok(response),
    };
    if loaded.account.active == active {
        return Ok(back_to(&id, "unchanged"));
    }
    let now = state.clock.now();
    let ctx = audit_context(&parts, Some(&current));
    let mut tx = state.db.pool().begin().await.map_err(AppError::from)?;
    repo::set_active(&mut tx, &loaded.account.id, active, now)
        .await
        .map_err(AppError::from)?;
    let detail = if active {
        "reactivated".to_string()
    } else {
        // A deactivated person is signed out everywhere at once.
        let ended = session::delete_all_of(&mut tx, &loaded.account.id)
            .await
            .map_err(AppError::from)?;
        format!("deactivated; sessions_ended={ended}")
    };
    let event = Event::new(Action::Update, Outcome::Allowed)
        .resource(RESOURCE_TYPE, &id)
        .fields(["active"])
        .detail(detail);
    audit::record(&mut tx, &ctx, &event, now)
        .await
        .map_err(AppError::from)?;
    tx.commit().await.map_err(AppError::from)?;
    Ok(back_to(
        &id,
        if active { "reactivated" } else { "deactivated" },
    ))
}

async fn deactivate(
    State(state): State<AppState>,
    current: CurrentSession,
    parts: Parts,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    set_active(state, current, parts, id, false).await
}

async fn reactivate(
    State(state): State<AppState>,
    current: CurrentSession,
    parts: Parts,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    set_active(state, current, parts, id, true).await
}

/// Ends a lockout and clears the count of failed sign-ins.
async fn unlock(
    State(state): State<AppState>,
    current: CurrentSession,
    parts: Parts,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let loaded = match load_for_change(&state, &current, &parts, &id, None).await? {
        Ok(loaded) => loaded,
        Err(response) => return Ok(response),
    };
    if loaded.account.locked_until.is_none() && loaded.account.failed_logins == 0 {
        return Ok(back_to(&id, "unchanged"));
    }
    let now = state.clock.now();
    let ctx = audit_context(&parts, Some(&current));
    let mut tx = state.db.pool().begin().await.map_err(AppError::from)?;
    repo::clear_failed_logins(&mut tx, &loaded.account.id)
        .await
        .map_err(AppError::from)?;
    let event = Event::new(Action::AccountUnlocked, Outcome::Allowed)
        .resource(RESOURCE_TYPE, &id)
        .fields(["failed_logins", "locked_until"])
        .detail(format!(
            "failed_logins_was={}",
            loaded.account.failed_logins
        ));
    audit::record(&mut tx, &ctx, &event, now)
        .await
        .map_err(AppError::from)?;
    tx.commit().await.map_err(AppError::from)?;
    Ok(back_to(&id, "unlocked"))
}

/// A new initial password, shown once; the person must change it at the next sign-in,
/// and every session of theirs ends now.
async fn reset_password(
    State(state): State<AppState>,
    current: CurrentSession,
    parts: Parts,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let loaded = match load_for_change(
        &state,
        &current,
        &parts,
        &id,
        Some("パスワード再発行（「パスワード変更」画面を使ってください）"),
    )
    .await?
    {
        Ok(loaded) => loaded,
        Err(response) => return Ok(response),
    };
    let initial = password::generate_initial_password();
    let password_hash = password::hash(&initial)
        .await
        .map_err(|e| AppError::Internal(e.to_string()))?;
    let now = state.clock.now();
    let ctx = audit_context(&parts, Some(&current));
    let mut tx = state.db.pool().begin().await.map_err(AppError::from)?;
    repo::set_password(&mut tx, &loaded.account.id, &password_hash, true, now)
        .await
        .map_err(AppError::from)?;
    let ended = session::delete_all_of(&mut tx, &loaded.account.id)
        .await
        .map_err(AppError::from)?;
    let event = Event::new(Action::PasswordChange, Outcome::Allowed)
        .resource(RESOURCE_TYPE, &id)
        .fields(["password", "must_change_password"])
        .detail(format!("reset by administrator; sessions_ended={ended}"));
    audit::record(&mut tx, &ctx, &event, now)
        .await
        .map_err(AppError::from)?;
    tx.commit().await.map_err(AppError::from)?;
    password_page(&state, &current, loaded.account, initial, false)
}

/// Forgets the two-factor secret and recovery codes: the person enrols again at the next
/// sign-in. Every session of theirs ends now.
async fn reset_two_factor(
    State(state): State<AppState>,
    current: CurrentSession,
    parts: Parts,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let loaded = match load_for_change(&state, &current, &parts, &id, Some("二要素認証のリセット"))
        .await?
    {
        Ok(loaded) => loaded,
        Err(response) => return Ok(response),
    };
    let now = state.clock.now();
    let ctx = audit_context(&parts, Some(&current));
    let mut tx = state.db.pool().begin().await.map_err(AppError::from)?;
    repo::reset_totp(&mut tx, &loaded.account.id)
        .await
        .map_err(AppError::from)?;
    let ended = session::delete_all_of(&mut tx, &loaded.account.id)
        .await
        .map_err(AppError::from)?;
    let event = Event::new(Action::TotpReset, Outcome::Allowed)
        .resource(RESOURCE_TYPE, &id)
        .fields(["totp_secret", "totp_enabled", "recovery_codes"])
        .detail(format!("sessions_ended={ended}"));
    audit::record(&mut tx, &ctx, &event, now)
        .await
        .map_err(AppError::from)?;
    tx.commit().await.map_err(AppError::from)?;
    Ok(back_to(&id, "two_factor_reset"))
}
