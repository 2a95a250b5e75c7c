//! Every answer of `/api/v1` that the integration tests receive is checked against the
//! OpenAPI description the server serves: its status must be described for that
//! operation, and its JSON body must validate against the described schema (JSON Schema
//! 2020-12, formats checked). A test whose answer the description does not tell fails.

use std::collections::HashMap;
use std::sync::{LazyLock, Mutex};

use axum::http::{Method, StatusCode};
use serde_json::Value;

static DESCRIPTION: LazyLock<Value> = LazyLock::new(|| {
    let routes = tsunagu::router::routes().into_parts().1;
    let mut description =
        serde_json::to_value(tsunagu::openapi::document(&routes)).expect("the description is JSON");
    closed(&mut description["components"]["schemas"]);
    description
});

/// Closes the described objects for the check: an answer carrying a member the description
/// does not name fails too. A schema that another one extends (`allOf`, serde's flatten)
/// stays open; the one extending it is closed as a whole (`unevaluatedProperties`).
fn closed(schemas: &mut Value) {
    let Some(schemas) = schemas.as_object_mut() else {
        return;
    };
    let extended: Vec<String> = schemas
        .values()
        .filter_map(|s| s["allOf"].as_array())
        .flatten()
        .filter_map(|part| part["$ref"].as_str())
        .filter_map(|r| r.rsplit('/').next())
        .map(str::to_string)
        .collect();
    for (name, schema) in schemas.iter_mut() {
        if schema.get("allOf").is_some() {
            schema["unevaluatedProperties"] = Value::Bool(false);
        } else if schema.get("properties").is_some()
            && schema.get("additionalProperties").is_none()
            && !extended.contains(name)
        {
            schema["additionalProperties"] = Value::Bool(false);
        }
    }
}

/// One validator per described answer, built on first use (the whole description is its
/// root, so `#/components/schemas/…` resolve).
static VALIDATORS: LazyLock<Mutex<HashMap<String, std::sync::Arc<jsonschema::Validator>>>> =
    LazyLock::new(|| Mutex::new(HashMap::new()));

/// The described operation's path template for a concrete path (`/api/v1/children/abc` →
/// `/api/v1/children/{id}`), if any.
fn template_of(path: &str) -> Option<&'static str> {
    let paths = DESCRIPTION["paths"].as_object()?;
    let segments: Vec<&str> = path.split('/').collect();
    paths.keys().map(String::as_str).find(|template| {
        let parts: Vec<&str> = template.split('/').collect();
        parts.len() == segments.len()
            && parts
                .iter()
                .zip(&segments)
                .all(|(t, s)| (t.starts_with('{') && !s.is_empty()) || t == s)
    })
}

fn validator(key: &str, schema: &Value) -> std::sync::Arc<jsonschema::Validator> {
    let mut cache = VALIDATORS.lock().unwrap_or_else(|e| e.into_inner());
    cache
        .entry(key.to_string())
        .or_insert_with(|| {
            let root = serde_json::json!({
                "components": DESCRIPTION["components"].clone(),
                "allOf": [schema],
            });
            std::sync::Arc::new(
                jsonschema::options()
                    .with_draft(jsonschema::Draft::Draft202012)
                    .should_validate_formats(true)
                    .build(&root)
                    .unwrap_or_else(|e| panic!("schema of {key} does not compile: {e}")),
            )
        })
        .clone()
}

/// Panics when the answer is not the one described.
pub fn check(method: &Method, path: &str, status: StatusCode, content_type: &str, body: &str) {
    if !path.starts_with("/api/v1/") {
        return;
    }
    let Some(template) = template_of(path) else {
        // No such route: the router's own 404, not an operation of the API.
        return;
    };
    let method_key = method.as_str().to_ascii_lowercase();
    let operation = &DESCRIPTION["paths"][template][&method_key];
    if !operation.is_object() {
        return; // 405: the method is not an operation of the path.
    }
    let status_key = status.as_u16().to_string();
    let Some(answer) = operation["responses"]
        .get(&status_key)
        .or_else(|| operation["responses"].get("default"))
    else {
        panic!(
            "{method} {template} answered {status}, which the OpenAPI description does not describe: {body}"
        );
    };
    let Some(content) = answer["content"].as_object() else {
        return; // described without a body (204)
    };
    if !content_type.starts_with("application/json") {
        panic!(
            "{method} {template} {status}: described as JSON, answered {content_type:?}: {body}"
        );
    }
    if !content.contains_key("application/json") {
        panic!("{method} {template} {status}: JSON body not described");
    }
    let instance: Value = serde_json::from_str(body)
        .unwrap_or_else(|e| panic!("{method} {template} {status}: not JSON ({e}): {body}"));
    let validator = validator(
        &format!("{method} {template} {status_key}"),
        &content["application/json"]["schema"],
    );
    let problems: Vec<String> = validator
        .iter_errors(&instance)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(
        problems.is_empty(),
        "{method} {path} {status}: the answer does not match the OpenAPI description:\n{}\n{body}",
        problems.join("\n")
    );
}

#[test]
fn the_description_catches_an_answer_that_breaks_it() {
    // A municipality of a kind that does not exist.
    let result = std::panic::catch_unwind(|| {
        check(
            &Method::GET,
            "/api/v1/municipalities/131199",
            StatusCode::OK,
            "application/json",
            r#"{"code":"131199","prefecture_code":"13","prefecture_name":"東京都","name":"板橋区","kana":"いたばしく","kind":"castle","parent_code":null,"areas":[]}"#,
        )
    });
    assert!(result.is_err(), "an unknown kind must fail the check");
    let result = std::panic::catch_unwind(|| {
        check(
            &Method::GET,
            "/api/v1/me",
            StatusCode::IM_A_TEAPOT,
            "application/json",
            "{}",
        )
    });
    assert!(result.is_err(), "an undescribed status must fail the check");
    let result = std::panic::catch_unwind(|| {
        check(
            &Method::GET,
            "/api/v1/municipalities/131199",
            StatusCode::OK,
            "application/json",
            r#"{"code":"131199","prefecture_code":"13","prefecture_name":"東京都","name":"板橋区","kana":"いたばしく","kind":"special_ward","parent_code":null,"areas":[],"residents":3}"#,
        )
    });
    assert!(
        result.is_err(),
        "a member the description does not name must fail the check"
    );
    // And the same answer without it passes.
    check(
        &Method::GET,
        "/api/v1/municipalities/131199",
        StatusCode::OK,
        "application/json",
        r#"{"code":"131199","prefecture_code":"13","prefecture_name":"東京都","name":"板橋区","kana":"いたばしく","kind":"special_ward","parent_code":null,"areas":[]}"#,
    );
}
