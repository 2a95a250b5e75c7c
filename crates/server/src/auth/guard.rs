//! Every route declares who may use it, where it is mounted, through [`Routes`].
//! The guard then resolves the session, enforces the pending sign-in step, the permission
//! and CSRF, and hands the session to the handler.

use axum::Router;
use axum::body::Body;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::MethodRouter;
use tsunagu_core::access::{Permission, may};

use super::csrf;
use super::session::{self, CurrentSession, Miss};
use crate::audit::{self, Action, Event, Outcome};
use crate::error::{ApiError, AppError, is_api, refuse};
use crate::state::AppState;
use crate::web::security;

/// Who may use a route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Anyone, signed in or not.
    Public,
    /// A person part-way through sign-in (password accepted): the second-factor,
    /// password-change and enrolment steps, and logout.
    FirstFactor,
    /// Anyone fully signed in.
    SignedIn,
    /// Fully signed in, holding this permission in at least one membership.
    Permission(Permission),
}

/// One declared route, for the coverage and authorisation tests and the body limits.
#[derive(Debug, Clone)]
pub struct RouteSpec {
    pub method: Method,
    pub path: &'static str,
    pub access: Access,
    /// The largest request body the route takes (`web::security`).
    pub body_limit: usize,
}

/// A router that only accepts routes together with their access rule.
#[derive(Default)]
pub struct Routes {
    router: Router<AppState>,
    specs: Vec<RouteSpec>,
}

impl Routes {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn get<H, T>(self, path: &'static str, access: Access, handler: H) -> Self
    where
        H: axum::handler::Handler<T, AppState>,
        T: 'static,
    {
        self.add(Method::GET, path, access, axum::routing::get(handler))
    }

    pub fn post<H, T>(self, path: &'static str, access: Access, handler: H) -> Self
    where
        H: axum::handler::Handler<T, AppState>,
        T: 'static,
    {
        self.add(Method::POST, path, access, axum::routing::post(handler))
    }

    /// A POST that takes a file: its body may be as large as
    /// [`security::UPLOAD_LIMIT_BYTES`] instead of [`security::BODY_LIMIT_BYTES`].
    pub fn post_upload<H, T>(self, path: &'static str, access: Access, handler: H) -> Self
    where
        H: axum::handler::Handler<T, AppState>,
        T: 'static,
    {
        self.add_limited(
            Method::POST,
            path,
            access,
            axum::routing::post(handler),
            security::UPLOAD_LIMIT_BYTES,
        )
    }

    pub fn patch<H, T>(self, path: &'static str, access: Access, handler: H) -> Self
    where
        H: axum::handler::Handler<T, AppState>,
        T: 'static,
    {
        self.add(Method::PATCH, path, access, axum::routing::patch(handler))
    }

    pub fn delete<H, T>(self, path: &'static str, access: Access, handler: H) -> Self
    where
        H: axum::handler::Handler<T, AppState>,
        T: 'static,
    {
        self.add(Method::DELETE, path, access, axum::routing::delete(handler))
    }

    fn add(
        self,
        method: Method,
        path: &'static str,
        access: Access,
        route: MethodRouter<AppState>,
    ) -> Self {
        self.add_limited(method, path, access, route, security::BODY_LIMIT_BYTES)
    }

    fn add_limited(
        mut self,
        method: Method,
        path: &'static str,
        access: Access,
        route: MethodRouter<AppState>,
        body_limit: usize,
    ) -> Self {
        let guarded = route.route_layer(middleware::from_fn(move |req: Request, next: Next| {
            guard(access, body_limit, req, next)
        }));
        self.router = self.router.route(path, guarded);
        self.specs.push(RouteSpec {
            method,
            path,
            access,
            body_limit,
        });
        self
    }

    pub fn merge(mut self, other: Routes) -> Self {
        self.router = self.router.merge(other.router);
        self.specs.extend(other.specs);
        self
    }

    pub fn into_parts(self) -> (Router<AppState>, Vec<RouteSpec>) {
        (self.router, self.specs)
    }
}

fn unsafe_method(method: &Method) -> bool {
    !matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

/// The request's audit context: who, from where, with what.
pub fn audit_context(parts: &Parts, session: Option<&CurrentSession>) -> audit::Context {
    let client_addr = parts
        .extensions
        .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
        .map(|c| c.0.ip().to_string())
        .unwrap_or_else(|| "unknown".into());
    let user_agent = parts
        .headers
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    audit::Context {
        actor_account_id: session.map(|s| s.account.id.to_string()),
        actor_organisation_id: session
            .and_then(CurrentSession::organisation_id)
            .map(String::from),
        client_addr,
        user_agent: user_agent.to_string(),
    }
}

/// For a person who is not signed in: the API says so; a page sends them to sign in and back.
fn sign_in_first(api: bool, path_and_query: &str, expired: bool, secure: bool) -> Response {
    if api {
        return ApiError(if expired {
            AppError::SessionExpired
        } else {
            AppError::Unauthenticated
        })
        .into_response();
    }
    let next = crate::web::params::url_encode(path_and_query);
    let reason = if expired { "&expired=1" } else { "" };
    let mut response = Redirect::to(&format!("/login?next={next}{reason}")).into_response();
    if expired && let Ok(v) = HeaderValue::from_str(&session::cookie(None, secure)) {
        response.headers_mut().insert(header::SET_COOKIE, v);
    }
    response
}

/// A request refused as forged (another site's origin, a missing or wrong token): on
/// record like every refusal, then answered.
async fn refuse_forged(
    state: &AppState,
    ctx: &audit::Context,
    path: &str,
    why: &str,
    api: bool,
    now: chrono::DateTime<chrono::Utc>,
) -> Response {
    let event = Event::new(Action::Denied, Outcome::Denied)
        .resource("route", path)
        .detail(format!("csrf:{why}"));
    if let Err(err) = audit::record_standalone(&state.db, ctx, &event, now).await {
        return refuse(api, err.into());
    }
    refuse(api, AppError::CsrfFailed)
}

async fn guard(access: Access, body_limit: usize, req: Request, next: Next) -> Response {
    let Some(state) = req.extensions().get::<AppState>().cloned() else {
        return refuse(is_api(&req), AppError::Internal("state missing".into()));
    };
    let api = is_api(&req);
    let (mut parts, body) = req.into_parts();
    let now = state.clock.now();
    if unsafe_method(&parts.method) && !csrf::same_origin(&parts.headers, &state.settings) {
        let ctx = audit_context(&parts, None);
        return refuse_forged(&state, &ctx, parts.uri.path(), "origin", api, now).await;
    }
    let mut expired = false;
    let current = match session::token_from_headers(&parts.headers, state.settings.secure_cookies())
    {
        None => None,
        Some(token) => {
            match session::resolve(&state.db, &token, now, state.settings.lifetimes()).await {
                Ok(Ok(current)) => Some(current),
                Ok(Err(Miss::Expired)) => {
                    expired = true;
                    None
                }
                Ok(Err(Miss::Unknown)) => None,
                Err(err) => return refuse(api, err.into()),
            }
        }
    };
    let path_and_query = parts
        .uri
        .path_and_query()
        .map(|p| p.as_str().to_string())
        .unwrap_or_default();
    match (access, &current) {
        (Access::Public, _) => {}
        (_, None) => {
            return sign_in_first(
                api,
                &path_and_query,
                expired,
                state.settings.secure_cookies(),
            );
        }
        (Access::FirstFactor, Some(_)) => {}
        (Access::SignedIn | Access::Permission(_), Some(s)) => {
            if let Some(step) = s.pending_step() {
                return if api {
                    ApiError(AppError::StepRequired(step.api_code())).into_response()
                } else {
                    Redirect::to(step.path()).into_response()
                };
            }
            if let Access::Permission(permission) = access
                && !may(&s.actor, permission, None).allowed()
            {
                let ctx = audit_context(&parts, Some(s));
                let event = Event::new(Action::Denied, Outcome::Denied)
                    .resource("route", parts.uri.path())
                    .detail(format!("{permission:?}"));
                if let Err(err) = audit::record_standalone(&state.db, &ctx, &event, now).await {
                    return refuse(api, err.into());
                }
                return refuse(api, AppError::Forbidden);
            }
        }
    }
    // Public posts (sign-in) start a session rather than act within one: the origin check
    // above covers them, and a stale half-finished session must not block signing in again.
    let req = if let Some(s) = &current
        && unsafe_method(&parts.method)
        && access != Access::Public
    {
        let ctx = audit_context(&parts, Some(s));
        let path = parts.uri.path().to_string();
        match check_token(parts, body, &s.csrf_token, body_limit).await {
            Ok(req) => req,
            Err(()) => return refuse_forged(&state, &ctx, &path, "token", api, now).await,
        }
    } else {
        let framed = framing(api, &current, &parts.headers);
        if let Some(s) = current {
            parts.extensions.insert(s);
        }
        let response = next.run(Request::from_parts(parts, body)).await;
        return in_frame(response, framed, state.settings.demo);
    };
    let mut req = req;
    let framed = framing(api, &current, req.headers());
    if let Some(s) = current {
        req.extensions_mut().insert(s);
    }
    let response = next.run(req).await;
    in_frame(response, framed, state.settings.demo)
}

/// Who an error page is for, and where they came from: a signed-in person's page request.
fn framing(
    api: bool,
    current: &Option<CurrentSession>,
    headers: &axum::http::HeaderMap,
) -> Option<(CurrentSession, Option<String>)> {
    let session = current.as_ref().filter(|_| !api)?;
    // Only a path of this site: the Referer's origin must be the request's own host.
    let host = headers.get(header::HOST).and_then(|h| h.to_str().ok());
    let came_from = headers
        .get(header::REFERER)
        .and_then(|r| r.to_str().ok())
        .and_then(|r| r.split_once("://").map(|(_, rest)| rest))
        .and_then(|rest| {
            let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
            (Some(authority) == host && !path.is_empty()).then(|| path.to_string())
        });
    Some((session.clone(), came_from))
}

/// An error page rendered without the session, shown again in the signed-in person's
/// frame: their header and menu, and a way back to where they were.
fn in_frame(
    response: Response,
    framed: Option<(CurrentSession, Option<String>)>,
    demo: bool,
) -> Response {
    let Some((session, came_from)) = framed else {
        return response;
    };
    let Some(shown) = response
        .extensions()
        .get::<crate::view::ErrorShown>()
        .cloned()
    else {
        return response;
    };
    let status = response.status();
    let page = crate::view::ErrorPage::for_viewer(
        status,
        &shown.message,
        demo,
        &session,
        came_from.as_deref(),
    );
    (status, Html(page.render_or_plain())).into_response()
}

/// The CSRF check of [`csrf::check_token`], which also finds the `csrf_token` field of a
/// `multipart/form-data` body (the children import's file upload): the body is read (within
/// the request limit), searched, and handed on intact. The header, when sent, decides.
async fn check_token(
    parts: Parts,
    body: Body,
    expected: &str,
    limit: usize,
) -> Result<Request, ()> {
    use subtle::ConstantTimeEq;
    let content_type = parts
        .headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    if !content_type.starts_with("multipart/form-data") || parts.headers.contains_key(csrf::HEADER)
    {
        return csrf::check_token(parts, body, expected, limit).await;
    }
    let bytes = axum::body::to_bytes(body, limit).await.map_err(|_| ())?;
    let mut probe = Request::builder()
        .header(header::CONTENT_TYPE, &content_type)
        .body(Body::from(bytes.clone()))
        .map_err(|_| ())?;
    // The extractor's own limit travels in the extensions (`DefaultBodyLimit`).
    *probe.extensions_mut() = parts.extensions.clone();
    let mut form = axum::extract::Multipart::from_request(probe, &())
        .await
        .map_err(|_| ())?;
    while let Ok(Some(field)) = form.next_field().await {
        if field.name() == Some(csrf::FORM_FIELD) {
            let given = field.text().await.map_err(|_| ())?;
            return if bool::from(given.as_bytes().ct_eq(expected.as_bytes())) {
                Ok(Request::from_parts(parts, Body::from(bytes)))
            } else {
                Err(())
            };
        }
    }
    Err(())
}

/// The signed-in person, for handlers on non-public routes.
impl<S: Send + Sync> FromRequestParts<S> for CurrentSession {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        parts
            .extensions
            .get::<CurrentSession>()
            .cloned()
            .ok_or_else(|| (StatusCode::UNAUTHORIZED, "サインインしてください").into_response())
    }
}

/// The signed-in person if there is one, for public pages.
pub struct MaybeSession(pub Option<CurrentSession>);

impl<S: Send + Sync> FromRequestParts<S> for MaybeSession {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Ok(MaybeSession(
            parts.extensions.get::<CurrentSession>().cloned(),
        ))
    }
}
