//! The OpenAPI 3.1 description of the JSON API, served at `/api/openapi.json`. Generated:
//! each handler's `#[utoipa::path]` says what it answers, the answer types derive their
//! schemas, and what the route table declares (who may call, CSRF, body limits) is added
//! here from the table itself, so a route's refusals are described the way the guard
//! gives them. The integration tests validate every `/api/v1` answer against it.

use std::sync::Arc;

use axum::Extension;
use axum::http::{Method, header};
use axum::response::IntoResponse;
use tsunagu_core::access::Permission;
use utoipa::OpenApi;
use utoipa::openapi::path::{Operation, ParameterBuilder, ParameterIn};
use utoipa::openapi::schema::{ObjectBuilder, Type};
use utoipa::openapi::security::{ApiKey, ApiKeyValue, SecurityRequirement, SecurityScheme};
use utoipa::openapi::{ContentBuilder, Ref, Required, ResponseBuilder};

use crate::auth::guard::{Access, RouteSpec};
use crate::auth::session::COOKIE_NAME;
use crate::error::ErrorBody;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "tsunagu API",
        version = "1",
        description = "つなぐ（医療的ケア児 地域連携プラットフォーム）の JSON API。エラーは常に {\"error\":{\"code\",\"message\"}} の形で、code は機械可読で不変、message は日本語です。"
    ),
    servers((url = "/")),
    paths(
        crate::auth::api::create,
        crate::auth::api::destroy,
        crate::auth::api::me,
        crate::features::municipalities::api::search,
        crate::features::municipalities::api::get,
        crate::features::children::api::list,
        crate::features::children::api::create,
        crate::features::children::api::detail,
        crate::features::children::api::update,
        crate::features::children::api::transitions_of,
        crate::features::children::api::access_log,
    ),
    components(schemas(ErrorBody, crate::features::children::store::HistoryEntry)),
    tags(
        (name = "session", description = "サインインとサインアウト"),
        (name = "municipalities", description = "全国の市区町村（参照データ）"),
        (name = "children", description = "児童の記録（台帳）"),
    )
)]
struct Described;

/// The description, completed from the route table.
pub fn document(routes: &[RouteSpec]) -> utoipa::openapi::OpenApi {
    let mut doc = Described::openapi();
    let components = doc.components.get_or_insert_with(Default::default);
    components.add_security_scheme(
        "session",
        SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::with_description(
            COOKIE_NAME,
            "POST /api/v1/session が返すセッションの Cookie（https で公開するときは __Host-tsunagu_session）",
        ))),
    );
    for route in routes.iter().filter(|r| r.path.starts_with("/api/v1/")) {
        let Some(item) = doc.paths.paths.get_mut(route.path) else {
            continue;
        };
        let operation = match route.method {
            Method::GET => item.get.as_mut(),
            Method::POST => item.post.as_mut(),
            Method::PATCH => item.patch.as_mut(),
            Method::PUT => item.put.as_mut(),
            Method::DELETE => item.delete.as_mut(),
            _ => None,
        };
        if let Some(operation) = operation {
            declare(operation, route);
        }
    }
    doc
}

/// What the guard does before the handler, written into the operation.
fn declare(operation: &mut Operation, route: &RouteSpec) {
    let signed_in = route.access != Access::Public;
    if signed_in {
        operation.security = Some(vec![SecurityRequirement::new(
            "session",
            Vec::<String>::new(),
        )]);
        refusal(
            operation,
            "401",
            "サインインしていない（unauthenticated）、セッションが切れた（session_expired）、サインインの手続きが途中（totp_required / password_change_required / totp_enrolment_required）",
        );
    }
    if let Access::Permission(permission) = route.access {
        let needs = format!(
            "この操作の権限（{}）を持たない役割（forbidden）",
            permission_name(permission)
        );
        refusal(operation, "403", &needs);
        append_description(operation, &format!("権限: {}", permission_name(permission)));
    }
    let changes = !matches!(route.method, Method::GET | Method::HEAD | Method::OPTIONS);
    if changes && signed_in {
        operation.parameters.get_or_insert_with(Vec::new).push(
            ParameterBuilder::new()
                .name("X-CSRF-Token")
                .parameter_in(ParameterIn::Header)
                .required(Required::True)
                .description(Some("サインイン時に返された csrf_token"))
                .schema(Some(ObjectBuilder::new().schema_type(Type::String)))
                .build(),
        );
    }
    if changes {
        refusal(
            operation,
            "403",
            "別のサイトからの送信（Origin が一致しない）、またはサインイン中で X-CSRF-Token がない・一致しない（csrf_failed）",
        );
        refusal(
            operation,
            "413",
            &format!(
                "本文が大きすぎる（payload_too_large、{} KB まで）",
                route.body_limit / 1024
            ),
        );
    }
}

fn permission_name(permission: Permission) -> String {
    format!("{permission:?}")
}

/// Adds (or extends the description of) an error answer of the operation.
fn refusal(operation: &mut Operation, status: &str, description: &str) {
    let responses = &mut operation.responses.responses;
    if let Some(utoipa::openapi::RefOr::T(existing)) = responses.get_mut(status) {
        if !existing.description.contains(description) {
            existing.description = format!("{}。{description}", existing.description);
        }
        return;
    }
    responses.insert(
        status.to_string(),
        ResponseBuilder::new()
            .description(description)
            .content(
                "application/json",
                ContentBuilder::new()
                    .schema(Some(Ref::from_schema_name("Error")))
                    .build(),
            )
            .build()
            .into(),
    );
}

fn append_description(operation: &mut Operation, text: &str) {
    operation.description = Some(match operation.description.take() {
        Some(d) if !d.is_empty() => format!("{d}\n\n{text}"),
        _ => text.to_string(),
    });
}

/// The description as served, rendered once when the router is built.
#[derive(Clone)]
pub struct Rendered(pub Arc<String>);

impl Rendered {
    pub fn of(routes: &[RouteSpec]) -> Self {
        let json = serde_json::to_string_pretty(&document(routes))
            .unwrap_or_else(|e| format!("{{\"error\":\"{e}\"}}"));
        Rendered(Arc::new(json))
    }
}

pub async fn serve(Extension(rendered): Extension<Rendered>) -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "application/json")],
        rendered.0.as_str().to_owned(),
    )
}
