//! The directory as Open Referral HSDS 3.1: every object the API answers validates against
//! the standard's own schemas (copied in `reference/hsds-3.1`), the paging and filters
//! behave, the public reads only public fields, bad parameters are refused, and the
//! tabular export opens with Python's csv and json modules.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, LazyLock, Mutex};

use axum::http::StatusCode;
use serde_json::Value;
use tsunagu_core::access::Role;

use crate::support::{TestApp, World, world};

fn schema_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/it/reference/hsds-3.1/schema")
}

/// A schema with its `$ref`s to sibling files inlined, down to a depth where the
/// standard's cycles (an attribute's term's taxonomy …) are cut off as "anything".
fn inlined(name: &str, depth: usize) -> Value {
    if depth > 5 {
        return serde_json::json!({});
    }
    let text = std::fs::read_to_string(schema_dir().join(name)).unwrap();
    let mut schema: Value = serde_json::from_str(&text).unwrap();
    fn walk(value: &mut Value, depth: usize) {
        match value {
            Value::Object(map) => {
                if let Some(Value::String(reference)) = map.get("$ref").cloned()
                    && reference.ends_with(".json")
                    && !reference.contains('/')
                {
                    map.remove("$ref");
                    let target = inlined(&reference, depth + 1);
                    if let Value::Object(target) = target {
                        for (k, v) in target {
                            map.entry(k).or_insert(v);
                        }
                    }
                }
                for v in map.values_mut() {
                    walk(v, depth);
                }
            }
            Value::Array(items) => items.iter_mut().for_each(|v| walk(v, depth)),
            _ => {}
        }
    }
    walk(&mut schema, depth);
    schema
}

static VALIDATORS: LazyLock<Mutex<HashMap<String, Arc<jsonschema::Validator>>>> =
    LazyLock::new(|| Mutex::new(HashMap::new()));

/// Panics, naming every error, when `value` is not a valid HSDS `object`.
fn assert_valid(object: &str, value: &Value) {
    let validator = VALIDATORS
        .lock()
        .unwrap()
        .entry(object.to_string())
        .or_insert_with(|| {
            Arc::new(
                jsonschema::options()
                    .with_draft(jsonschema::Draft::Draft202012)
                    .should_validate_formats(true)
                    .build(&inlined(&format!("{object}.json"), 0))
                    .unwrap_or_else(|e| panic!("{object}.json does not compile: {e}")),
            )
        })
        .clone();
    let errors: Vec<String> = validator
        .iter_errors(value)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "{object}: {errors:#?}\n{value:#}");
}

/// A page of HSDS's `Page` shape; its contents.
fn page_contents(page: &Value) -> Vec<Value> {
    for key in ["total_items", "total_pages", "page_number", "size"] {
        assert!(page[key].is_i64(), "{key}: {page}");
    }
    for key in ["first_page", "last_page", "empty"] {
        assert!(page[key].is_boolean(), "{key}: {page}");
    }
    page["contents"].as_array().expect("contents").clone()
}

async fn json(app: &TestApp, uri: &str) -> Value {
    let res = app.get(uri).await;
    assert_eq!(res.status, StatusCode::OK, "{uri}: {}", res.body);
    res.json()
}

/// The two nurseries (`support::two_nurseries`), ひだまり with a vacancy for the 2歳児クラス.
async fn directory(app: &TestApp, world: &World) -> (String, String) {
    let (ours, theirs) = crate::support::two_nurseries(app, world).await;
    sqlx::query(
        "INSERT INTO service_vacancies (id, service_id, class_age, vacancies, as_of, recorded_at) \
         VALUES ('v-2', $1, 2, 1, '2026-11-20', 1763600000000)",
    )
    .bind(&ours)
    .execute(app.db.pool())
    .await
    .unwrap();
    crate::support::directory_changed(app).await;
    (ours, theirs)
}

#[tokio::test]
async fn every_object_validates_against_the_standard_and_filters_behave() {
    let (app, world) = world().await;
    let (ours, theirs) = directory(&app, &world).await;

    // The check can fail: a service without its status, a malformed id, a wrong enum.
    for broken in [
        serde_json::json!({"id": ours, "name": "x"}),
        serde_json::json!({"id": "not-a-uuid", "name": "x", "status": "active"}),
        serde_json::json!({"id": ours, "name": "x", "status": "open"}),
    ] {
        let result = std::panic::catch_unwind(|| assert_valid("service", &broken));
        assert!(result.is_err(), "{broken} passed");
    }

    let meta = json(&app, "/api/hsds/").await;
    assert_eq!(meta["version"], "3.1");

    let page = json(&app, "/api/hsds/services?full=true").await;
    let services = page_contents(&page);
    assert_eq!(services.len(), 2);
    for s in &services {
        assert_valid("service", s);
    }
    let one = json(&app, &format!("/api/hsds/services/{ours}")).await;
    assert_valid("service", &one);
    // The kind and the accepted care are attributes, the vacancies capacities in places.
    let attributes: Vec<&str> = one["attributes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["taxonomy_term"]["name"].as_str().unwrap())
        .collect();
    assert!(
        attributes.contains(&"保育所") && attributes.contains(&"吸引（口鼻腔・気管内）"),
        "{attributes:?}"
    );
    assert_eq!(one["capacities"][0]["available"], 1);
    assert_eq!(one["capacities"][0]["maximum"], 90);
    assert_eq!(
        one["capacities"][0]["unit"]["name"],
        "医療的ケア児の受け入れ枠（人）"
    );
    assert_eq!(one["schedules"][0]["byday"], "MO,TU,WE,TH,FR");
    // Staff-only fields stay out of the public answer.
    assert_eq!(one["phones"].as_array().unwrap().len(), 0, "{one}");
    let staff = world.login_as(&app, Role::MunicipalStaff).await;
    let as_staff = app
        .get_as(&staff, &format!("/api/hsds/services/{ours}"))
        .await
        .json();
    assert_eq!(as_staff["phones"][0]["number"], "03-1234-5678");
    assert_valid("service", &as_staff);

    let organizations = page_contents(&json(&app, "/api/hsds/organizations").await);
    assert_eq!(organizations.len(), 2);
    for o in &organizations {
        assert_valid("organization", o);
    }
    let nursery = world.organisations["nursery"].to_string();
    let organization = json(&app, &format!("/api/hsds/organizations/{nursery}")).await;
    assert_valid("organization", &organization);
    assert_eq!(organization["services"].as_array().unwrap().len(), 1);

    let sals = page_contents(&json(&app, "/api/hsds/service_at_locations").await);
    for sal in &sals {
        assert_valid("service_at_location", sal);
        assert_valid("location", &sal["location"]);
    }
    let sal = json(&app, &format!("/api/hsds/service_at_locations/{ours}")).await;
    assert_valid("service_at_location", &sal);

    let taxonomies = page_contents(&json(&app, "/api/hsds/taxonomies").await);
    assert_eq!(taxonomies.len(), 2);
    for t in &taxonomies {
        assert_valid("taxonomy", t);
        let id = t["id"].as_str().unwrap();
        assert_valid(
            "taxonomy",
            &json(&app, &format!("/api/hsds/taxonomies/{id}")).await,
        );
    }
    let terms = json(&app, "/api/hsds/taxonomy_terms?per_page=200").await;
    let terms = page_contents(&terms);
    assert!(terms.len() >= 24 + 14, "{}", terms.len());
    for t in &terms {
        assert_valid("taxonomy_term", t);
    }

    // Filters: a care term, a kind term, an organization, the search text, paging.
    let ids = tsunagu::features::directory::hsds::term_ids();
    let suction = json(
        &app,
        &format!("/api/hsds/services?taxonomy_term_id={}", ids["suction"]),
    )
    .await;
    let found: Vec<&str> = suction["contents"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_str().unwrap())
        .collect();
    assert_eq!(found, vec![ours.as_str()]);
    let nurseries = json(
        &app,
        &format!("/api/hsds/services?taxonomy_term_id={}", ids["nursery"]),
    )
    .await;
    assert_eq!(nurseries["total_items"], 2);
    let by_org = json(
        &app,
        &format!("/api/hsds/services?organization_id={nursery}"),
    )
    .await;
    assert_eq!(by_org["total_items"], 1);
    let text = json(
        &app,
        &format!(
            "/api/hsds/services?search={}",
            crate::support::encode("ネリマ")
        ),
    )
    .await;
    assert_eq!(text["contents"][0]["id"], theirs.as_str());
    let paged = json(&app, "/api/hsds/services?per_page=1&page=2").await;
    assert_eq!(paged["total_pages"], 2);
    assert_eq!(paged["size"], 1);
    assert_eq!(paged["last_page"], true);
    let unknown_term = json(
        &app,
        &format!(
            "/api/hsds/services?taxonomy_term_id={}",
            uuid::Uuid::new_v4()
        ),
    )
    .await;
    assert_eq!(unknown_term["empty"], true);

    // Bad parameters: 400 with a stable code and a Japanese message; missing ids 404.
    for uri in [
        "/api/hsds/services?per_page=0",
        "/api/hsds/services?per_page=100000",
        "/api/hsds/services?page=-1",
        "/api/hsds/services?full=yes",
        "/api/hsds/services?modified_after=yesterday",
        "/api/hsds/services?organization_id=not-a-uuid",
    ] {
        let res = app.get(uri).await;
        assert_eq!(res.status, StatusCode::BAD_REQUEST, "{uri}");
        assert_eq!(res.json()["error"]["code"], "bad_request", "{uri}");
    }
    for uri in [
        "/api/hsds/services/not-a-uuid".to_string(),
        format!("/api/hsds/services/{}", uuid::Uuid::new_v4()),
        format!(
            "/api/hsds/organizations/{}",
            world.organisations["itabashi-welfare"]
        ),
        format!("/api/hsds/taxonomy_terms/{}", uuid::Uuid::new_v4()),
    ] {
        assert_eq!(app.get(&uri).await.status, StatusCode::NOT_FOUND, "{uri}");
    }
}

#[tokio::test]
async fn the_tabular_export_opens_with_pythons_csv_and_json() {
    let (app, world) = world().await;
    directory(&app, &world).await;
    let (status, bytes) = crate::support::get_bytes(&app, None, "/api/hsds/export.zip").await;
    assert_eq!(status, StatusCode::OK);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("hsds.zip");
    std::fs::write(&path, &bytes).unwrap();
    let script = r#"
import csv, io, json, sys, zipfile
z = zipfile.ZipFile(sys.argv[1])
package = json.loads(z.read("datapackage.json"))
counts = {}
for r in package["resources"]:
    rows = list(csv.reader(io.TextIOWrapper(z.open(r["path"]), encoding="utf-8")))
    header = rows[0]
    assert header == [f["name"] for f in r["schema"]["fields"]], (r["path"], header)
    assert all(len(row) == len(header) for row in rows[1:]), r["path"]
    counts[r["name"]] = len(rows) - 1
print(json.dumps(counts))
"#;
    let out = std::process::Command::new("python3")
        .arg("-c")
        .arg(script)
        .arg(&path)
        .output()
        .expect("python3");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let counts: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(counts["services"], 2);
    assert_eq!(counts["organizations"], 2);
    assert_eq!(counts["service_capacities"], 1);
    assert!(counts["taxonomy_terms"].as_i64().unwrap() >= 38);
    // Public fields only: the staff-only phone is not exported.
    assert_eq!(counts["phones"], 0);
}
