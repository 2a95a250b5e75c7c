//! `GET /api/v1/municipalities` and `/api/v1/municipalities/{code}`.

use axum::http::StatusCode;

use crate::support::{app, encode};

#[tokio::test]
async fn itabashi_by_code_with_its_area() {
    let app = app().await;
    let res = app.get("/api/v1/municipalities/131199").await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    assert!(res.header("content-type").starts_with("application/json"));
    let json = res.json();
    assert_eq!(json["code"], "131199");
    assert_eq!(json["name"], "板橋区");
    assert_eq!(json["kana"], "いたばしく");
    assert_eq!(json["kind"], "special_ward");
    assert_eq!(json["prefecture_name"], "東京都");
    assert_eq!(json["areas"][0]["name"], "区部");
}

#[tokio::test]
async fn five_digit_code_finds_the_same_municipality() {
    let app = app().await;
    let json = app.get("/api/v1/municipalities/13119").await.json();
    assert_eq!(json["code"], "131199");
}

#[tokio::test]
async fn wrong_check_digit_is_400_with_a_stable_code() {
    let app = app().await;
    let res = app.get("/api/v1/municipalities/131190").await;
    assert_eq!(res.status, StatusCode::BAD_REQUEST);
    let json = res.json();
    assert_eq!(json["error"]["code"], "invalid_municipality_code");
    assert!(
        json["error"]["message"]
            .as_str()
            .unwrap()
            .contains("検査数字")
    );
}

#[tokio::test]
async fn malformed_codes_are_400() {
    let app = app().await;
    for bad in ["abc", "1311", "1311999", "991234", "%27%20OR%201%3D1"] {
        let res = app.get(&format!("/api/v1/municipalities/{bad}")).await;
        assert_eq!(res.status, StatusCode::BAD_REQUEST, "{bad}: {}", res.body);
        assert_eq!(
            res.json()["error"]["code"],
            "invalid_municipality_code",
            "{bad}"
        );
    }
}

#[tokio::test]
async fn unknown_valid_code_is_404_with_its_own_code() {
    let app = app().await;
    // 131989 has a correct check digit but no municipality.
    let res = app.get("/api/v1/municipalities/131989").await;
    assert_eq!(res.status, StatusCode::NOT_FOUND);
    assert_eq!(res.json()["error"]["code"], "municipality_not_found");
}

/// The 北方領土's six villages are in the published code list: their codes answer with the
/// name and the flag that no one can be registered there (they were 404).
#[tokio::test]
async fn the_northern_territories_villages_answer_with_their_names_and_no_residents() {
    let app = app().await;
    for (code, name) in [
        ("016951", "色丹村"),
        ("016969", "泊村"),
        ("016977", "留夜別村"),
        ("016985", "留別村"),
        ("016993", "紗那村"),
        ("017001", "蘂取村"),
    ] {
        let res = app.get(&format!("/api/v1/municipalities/{code}")).await;
        assert_eq!(res.status, StatusCode::OK, "{code}");
        let json = res.json();
        assert_eq!(json["name"], name);
        assert_eq!(json["prefecture_code"], "01");
        assert_eq!(json["kind"], "village");
        assert_eq!(json["no_residents_registered"], true);
        assert!(json["note"].as_str().unwrap().contains("北方領土"));
        let page = app.get(&format!("/municipalities/{code}")).await;
        assert_eq!(page.status, StatusCode::OK, "{code}");
        assert!(page.body.contains(name) && page.body.contains("北方領土"));
    }
    // An ordinary municipality carries no such flag.
    let itabashi = app.get("/api/v1/municipalities/131199").await.json();
    assert!(itabashi.get("no_residents_registered").is_none());
}

#[tokio::test]
async fn search_by_kana_in_any_script_and_width_and_by_code() {
    let app = app().await;
    for query in ["いたばし", "イタバシ", "ｲﾀﾊﾞｼ", "板橋", "13119", "131199"] {
        let json = app
            .get(&format!("/api/v1/municipalities?q={}", encode(query)))
            .await
            .json();
        let codes: Vec<&str> = json["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["code"].as_str().unwrap())
            .collect();
        assert!(codes.contains(&"131199"), "{query}: {codes:?}");
    }
}

#[tokio::test]
async fn small_kana_in_the_official_reading_still_match() {
    let app = app().await;
    // The snapshot reads 庄内町 as しようないまち; people type しょうない.
    let json = app
        .get(&format!(
            "/api/v1/municipalities?q={}",
            encode("しょうないまち")
        ))
        .await
        .json();
    let names: Vec<&str> = json["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["name"].as_str().unwrap())
        .collect();
    assert!(names.contains(&"庄内町"), "{names:?}");
}

#[tokio::test]
async fn like_metacharacters_match_literally() {
    let app = app().await;
    for query in ["%", "_", "\\", "%'--"] {
        let json = app
            .get(&format!("/api/v1/municipalities?q={}", encode(query)))
            .await
            .json();
        assert_eq!(json["total"], 0, "{query} should match nothing");
    }
}

#[tokio::test]
async fn prefecture_filter_and_pagination() {
    let app = app().await;
    let first = app
        .get("/api/v1/municipalities?prefecture=13&limit=10")
        .await
        .json();
    // 東京都: the prefecture itself, 23 special wards, 26 cities, 5 towns, 8 villages.
    assert_eq!(first["total"], 63);
    assert_eq!(first["items"].as_array().unwrap().len(), 10);
    assert_eq!(first["items"][0]["code"], "130001");
    let second = app
        .get("/api/v1/municipalities?prefecture=13&limit=10&offset=10")
        .await
        .json();
    assert_ne!(first["items"][0]["code"], second["items"][0]["code"]);
    let all = app.get("/api/v1/municipalities?limit=500").await.json();
    assert_eq!(all["total"], 1965);
}

#[tokio::test]
async fn bad_parameters_get_japanese_messages_and_400() {
    let app = app().await;
    let long = "あ".repeat(101);
    for uri in [
        "/api/v1/municipalities?limit=0".to_string(),
        "/api/v1/municipalities?limit=501".to_string(),
        "/api/v1/municipalities?offset=-1".to_string(),
        "/api/v1/municipalities?limit=abc".to_string(),
        "/api/v1/municipalities?prefecture=48".to_string(),
        format!("/api/v1/municipalities?q={}", encode(&long)),
    ] {
        let res = app.get(&uri).await;
        assert_eq!(res.status, StatusCode::BAD_REQUEST, "{uri}");
        let json = res.json();
        assert_eq!(json["error"]["code"], "bad_request", "{uri}");
        assert!(
            json["error"]["message"].as_str().unwrap().contains("指定")
                || json["error"]["message"].as_str().unwrap().contains("入力"),
            "{uri}: {json}"
        );
    }
}

#[tokio::test]
async fn openapi_describes_every_api_route() {
    let app = app().await;
    let res = app.get("/api/openapi.json").await;
    assert_eq!(res.status, StatusCode::OK);
    let spec = res.json();
    assert_eq!(spec["openapi"], "3.1.0");
    for path in ["/api/v1/municipalities", "/api/v1/municipalities/{code}"] {
        assert!(
            spec["paths"][path]["get"].is_object(),
            "{path} missing from the spec"
        );
    }
    // Every error code the API can answer is listed in the spec's enum.
    let codes: Vec<&str> =
        spec["components"]["schemas"]["Error"]["properties"]["error"]["properties"]["code"]["enum"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c.as_str().unwrap())
            .collect();
    for code in [
        "invalid_municipality_code",
        "municipality_not_found",
        "bad_request",
        "not_found",
        "internal",
    ] {
        assert!(codes.contains(&code), "{code}");
    }
}

/// 浜松市's seven wards became three on 2024-01-01: the new codes answer, the old ones
/// still resolve (old records and files keep them) and say what took over.
#[tokio::test]
async fn hamamatsus_new_wards_answer_and_the_old_codes_lead_to_them() {
    let app = app().await;
    let chuo = app.get("/api/v1/municipalities/221384").await;
    assert_eq!(chuo.status, StatusCode::OK, "{}", chuo.body);
    let chuo = chuo.json();
    assert_eq!(chuo["name"], "浜松市中央区");
    assert_eq!(chuo["valid_from"], "2024-01-01");
    assert_eq!(chuo["valid_until"], serde_json::Value::Null);
    assert_eq!(
        app.get("/api/v1/municipalities/221392").await.json()["name"],
        "浜松市浜名区"
    );
    for (old, successor) in [
        ("221317", "221384"),
        ("221350", "221392"),
        ("22136", "221392"),
    ] {
        let res = app.get(&format!("/api/v1/municipalities/{old}")).await;
        assert_eq!(res.status, StatusCode::OK, "{old}: {}", res.body);
        let json = res.json();
        assert_eq!(json["valid_until"], "2023-12-31", "{old}");
        assert_eq!(json["successor_code"], successor, "{old}");
    }
    // The search finds the new ward by name; the city lists its wards old and new.
    let found = app
        .get(&format!("/api/v1/municipalities?q={}", encode("浜名区")))
        .await
        .json();
    assert_eq!(found["items"][0]["code"], "221392");
    let page = app.get("/municipalities/221309").await;
    assert!(page.body.contains("浜松市中央区"), "{}", page.body);
    assert!(
        page.body.contains("令和5年12月31日（2023年）まで"),
        "{}",
        page.body
    );
    let old = app.get("/municipalities/221317").await;
    assert!(old.body.contains("/municipalities/221384"), "{}", old.body);
}

/// A parameter with no value is refused as its description says, not taken as the default.
#[tokio::test]
async fn a_parameter_sent_empty_is_refused() {
    let app = app().await;
    for uri in [
        "/api/v1/municipalities?offset=",
        "/api/v1/municipalities?limit=",
        "/api/v1/municipalities?prefecture=",
    ] {
        let res = app.get(uri).await;
        assert_eq!(res.status, StatusCode::BAD_REQUEST, "{uri}: {}", res.body);
        assert!(res.body.contains("省いてください"), "{uri}: {}", res.body);
    }
    assert_eq!(
        app.get("/api/v1/municipalities?q=").await.status,
        StatusCode::OK
    );
}
