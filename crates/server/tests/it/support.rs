//! A fresh database per test on the backend under test, and a way to send requests.

use std::sync::Arc;
use tsunagu_core::ids::{AccountId, ChildId, ConsentId, OrganisationId};

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, Method, Request, StatusCode};
use chrono::{TimeZone, Utc};
use http_body_util::BodyExt;
use sqlx::Connection;
use tempfile::TempDir;
use tower::ServiceExt;
use tsunagu::auth::repo::accounts;
use tsunagu::config::DatabaseUrl;
use tsunagu::db::Db;
use tsunagu::state::Settings;
use tsunagu_core::access::Role;
use tsunagu_core::clock::{Clock, FixedClock, ManualClock};

/// Where a test's database lives; the SQLite folder goes away with it, and so does the
/// PostgreSQL database (a developer's own cluster would otherwise keep one per test).
pub struct TestDatabase {
    pub url: DatabaseUrl,
    _dir: Option<TempDir>,
    /// On PostgreSQL: the cluster's admin URL and the database's name, to drop it.
    postgres: Option<(String, String)>,
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        let Some((admin, name)) = self.postgres.take() else {
            return;
        };
        // Drop runs inside the test's runtime, which cannot be blocked on: a thread of its
        // own with a runtime of its own. FORCE ends the connections the app's pool still has.
        let dropped = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime");
            runtime.block_on(async {
                let mut conn = sqlx::AnyConnection::connect(&admin).await?;
                // The name was generated from a UUID: nothing from outside reaches this SQL.
                sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
                    "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
                )))
                .execute(&mut conn)
                .await?;
                conn.close().await
            })
        })
        .join();
        if let Ok(Err(err)) = dropped {
            eprintln!("test database not dropped: {err}");
        }
    }
}

pub fn on_postgres() -> bool {
    std::env::var("TEST_DATABASE_URL").is_ok_and(|u| !u.is_empty())
}

/// A new, empty database: a temp file on SQLite, a new database in the cluster on PostgreSQL.
pub async fn fresh_database() -> TestDatabase {
    match std::env::var("TEST_DATABASE_URL")
        .ok()
        .filter(|u| !u.is_empty())
    {
        None => {
            let dir = tempfile::tempdir().expect("temp dir");
            let url = format!("sqlite://{}/test.db", dir.path().display());
            TestDatabase {
                url: DatabaseUrl::parse(&url).expect("sqlite url"),
                _dir: Some(dir),
                postgres: None,
            }
        }
        Some(admin) => {
            sqlx::any::install_default_drivers();
            let name = format!("tsunagu_t_{}", uuid::Uuid::new_v4().simple());
            let mut conn = sqlx::AnyConnection::connect(&admin)
                .await
                .expect("connect to the test cluster");
            // The name is generated above from a UUID: nothing from outside reaches this SQL.
            sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
                .execute(&mut conn)
                .await
                .expect("create test database");
            let _ = conn.close().await;
            let base = admin.rsplit_once('/').map(|(b, _)| b).unwrap_or(&admin);
            TestDatabase {
                url: DatabaseUrl::parse(&format!("{base}/{name}")).expect("pg url"),
                _dir: None,
                postgres: Some((admin, name)),
            }
        }
    }
}

/// 2026-11-21 12:00 in Japan: a Saturday in 令和8年度.
pub fn test_clock() -> Arc<FixedClock> {
    Arc::new(FixedClock(
        Utc.with_ymd_and_hms(2026, 11, 21, 3, 0, 0).unwrap(),
    ))
}

pub struct TestApp {
    pub router: Router,
    pub db: Db,
    /// Kept so the SQLite folder lives as long as the app.
    pub _database: TestDatabase,
}

pub async fn app() -> TestApp {
    let database = fresh_database().await;
    let db = tsunagu::open_database(&database.url, Some(4))
        .await
        .expect("open and migrate");
    let router = tsunagu::app(db.clone(), test_clock(), Settings::default());
    TestApp {
        router,
        db,
        _database: database,
    }
}

#[derive(Debug)]
pub struct TestResponse {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: String,
}

impl TestResponse {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }

    pub fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
    }
}

impl TestApp {
    pub async fn request(&self, request: Request<Body>) -> TestResponse {
        let method = request.method().clone();
        let path = request.uri().path().to_string();
        let response = self
            .router
            .clone()
            .oneshot(request)
            .await
            .expect("infallible");
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = response
            .into_body()
            .collect()
            .await
            .expect("body")
            .to_bytes();
        let body = String::from_utf8_lossy(&bytes).into_owned();
        let content_type = headers
            .get(axum::http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default();
        crate::described::check(&method, &path, status, content_type, &body);
        TestResponse {
            status,
            headers,
            body,
        }
    }

    pub async fn get(&self, uri: &str) -> TestResponse {
        self.request(
            Request::builder()
                .method(Method::GET)
                .uri(uri)
                .body(Body::empty())
                .unwrap(),
        )
        .await
    }
}

/// A request with a JSON body, the session's cookie and (when `csrf`) its token header.
pub async fn send_json(
    app: &TestApp,
    session: &Session,
    method: Method,
    uri: &str,
    body: &serde_json::Value,
    csrf: Option<&str>,
) -> TestResponse {
    let mut req = request_as(session, method, uri).header("content-type", "application/json");
    if let Some(token) = csrf {
        req = req.header("x-csrf-token", token);
    }
    app.request(req.body(Body::from(body.to_string())).unwrap())
        .await
}

/// Percent-encodes a query value (Japanese text in URLs).
pub fn encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

// ---------------------------------------------------------------------------------------
// Signed-in tests: a clock the test moves, a realistic set of organisations, one account per
// role, children in three municipalities, and sessions obtained through the real sign-in.
// ---------------------------------------------------------------------------------------

/// The instant of [`test_clock`], for a [`ManualClock`] that starts at the same moment.
pub fn test_now() -> chrono::DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 21, 3, 0, 0).unwrap()
}

/// A clock the test moves by hand, starting at [`test_now`].
pub fn manual_clock() -> Arc<ManualClock> {
    Arc::new(ManualClock::at(test_now()))
}

/// Like [`app`], but the application reads the given clock (idle expiry, lockouts, TOTP steps).
pub async fn app_with_clock(clock: Arc<ManualClock>) -> TestApp {
    app_with(clock, Settings::default()).await
}

/// Like [`app`], with any clock and settings.
pub async fn app_with(clock: Arc<dyn Clock>, settings: Settings) -> TestApp {
    let database = fresh_database().await;
    let db = tsunagu::open_database(&database.url, Some(4))
        .await
        .expect("open and migrate");
    let router = tsunagu::app(db.clone(), clock, settings);
    TestApp {
        router,
        db,
        _database: database,
    }
}

/// The password of every account a [`World`] creates.
pub const PASSWORD: &str = "Kusunoki-no-Kage-2026";

/// The argon2id hash of [`PASSWORD`], computed once per test binary (hashing is slow in debug
/// builds): every account shares it, which changes nothing for the code under test.
pub async fn password_hash() -> String {
    static HASH: tokio::sync::OnceCell<String> = tokio::sync::OnceCell::const_new();
    HASH.get_or_init(|| async {
        tsunagu::auth::password::hash(PASSWORD)
            .await
            .expect("hash the test password")
    })
    .await
    .clone()
}

/// One account of the [`World`].
#[derive(Debug, Clone)]
pub struct Person {
    pub id: AccountId,
    pub login: String,
    pub display_name: String,
    pub password: String,
    /// The enabled TOTP secret, if the account has two-factor.
    pub totp_secret: Option<String>,
    pub role: Role,
    pub organisation_id: OrganisationId,
}

/// What [`World::add_person`] creates.
#[derive(Debug, Clone, Copy)]
pub struct NewPerson<'a> {
    pub login: &'a str,
    pub display_name: &'a str,
    /// A key of [`World::organisations`].
    pub organisation: &'a str,
    pub role: Role,
    pub must_change_password: bool,
    /// Enrol (and enable) a TOTP secret.
    pub totp: bool,
}

impl<'a> NewPerson<'a> {
    /// An account as staff normally have it: two-factor for every role but the guardian's.
    pub fn new(login: &'a str, display_name: &'a str, organisation: &'a str, role: Role) -> Self {
        Self {
            login,
            display_name,
            organisation,
            role,
            must_change_password: false,
            totp: role.requires_two_factor(),
        }
    }
}

/// A signed-in session: the cookie value and the CSRF token the API returned.
#[derive(Debug, Clone)]
pub struct Session {
    pub cookie: String,
    pub csrf: String,
}

impl Session {
    /// The `Cookie` header value.
    pub fn cookie_header(&self) -> String {
        format!("{}={}", tsunagu::auth::session::COOKIE_NAME, self.cookie)
    }
}

/// Organisations (by key), accounts (one per role, plus a few), and children, created through
/// the repositories as `tsunagu::demo` does.
///
/// - 板橋区 (131199): `itabashi-welfare` (障害福祉), `itabashi-health` (保健), `council`,
///   `consultation` (相談支援事業所: the coordinator), `nursery` (a facility)
/// - 練馬区 (131202): `nerima-welfare`; 札幌市 (011002): `sapporo-welfare`
/// - 東京都 (130001): `tokyo-centre` (支援センター), `tokyo-admin`, `mentor-office`, `system`
///
/// Children: `itabashi_family` (owned by itabashi-welfare; the guardian's child; shared with the
/// consultation office), `itabashi_shared` (owned by itabashi-welfare; shared with the nursery),
/// `nerima` (owned by nerima-welfare; the nerima guardian's child), `sapporo` (sapporo-welfare).
pub struct World {
    pub clock: Arc<ManualClock>,
    pub organisations: std::collections::HashMap<&'static str, OrganisationId>,
    /// One account per role, in [`Role::ALL`] order (municipal staff: 板橋区 障害福祉).
    pub people: Vec<Person>,
    /// Municipal staff of 練馬区 and of 札幌市 (the owners of the other towns' children).
    pub nerima_staff: Person,
    pub sapporo_staff: Person,
    /// The guardian of the 練馬区 child.
    pub nerima_guardian: Person,
    pub children: Children,
}

#[derive(Debug, Clone)]
pub struct Children {
    pub itabashi_family: ChildId,
    pub itabashi_shared: ChildId,
    pub nerima: ChildId,
    pub sapporo: ChildId,
}

/// Child names, as the pages and exports show them.
pub const ITABASHI_FAMILY_NAME: &str = "山田 はると";
pub const ITABASHI_SHARED_NAME: &str = "佐藤 ゆい";
pub const NERIMA_NAME: &str = "高橋 めい";
pub const SAPPORO_NAME: &str = "北野 こはる";

fn code(text: &str) -> tsunagu_core::municipality::MunicipalityCode {
    tsunagu_core::municipality::MunicipalityCode::parse(text).expect("municipality code")
}

async fn create_person(
    db: &Db,
    organisation_id: &OrganisationId,
    new: NewPerson<'_>,
    now: chrono::DateTime<Utc>,
) -> Person {
    let mut conn = db.pool().acquire().await.expect("connection");
    let id = accounts::create(
        &mut conn,
        &accounts::NewAccount {
            login_id: new.login.into(),
            display_name: new.display_name.into(),
            kana: "てすと".into(),
            password_hash: password_hash().await,
            must_change_password: new.must_change_password,
            memberships: vec![(organisation_id.clone(), new.role)],
        },
        now,
    )
    .await
    .expect("create account");
    let totp_secret = new.totp.then(tsunagu::auth::totp::generate_secret);
    if let Some(secret) = &totp_secret {
        accounts::set_pending_totp(&mut conn, &id, secret)
            .await
            .expect("totp secret");
        accounts::enable_totp(&mut conn, &id, 0)
            .await
            .expect("enable totp");
    }
    Person {
        id,
        login: new.login.into(),
        display_name: new.display_name.into(),
        password: PASSWORD.into(),
        totp_secret,
        role: new.role,
        organisation_id: organisation_id.clone(),
    }
}

impl World {
    /// Builds the world in the app's database; `clock` must be the app's clock.
    pub async fn build(app: &TestApp, clock: Arc<ManualClock>) -> World {
        use tsunagu::features::children::repo as children;
        use tsunagu::features::consent;
        use tsunagu::organisations::{self, Department, NewOrganisation, OrganisationKind};
        let now = clock.now();
        let org = |name: &str, kana: &str, kind, department, at: &str| NewOrganisation {
            name: name.into(),
            kana: kana.into(),
            kind,
            department,
            municipality_code: code(at),
        };
        let dept = OrganisationKind::MunicipalDepartment;
        let welfare = Some(Department::DisabilityWelfare);
        let all = [
            (
                "itabashi-welfare",
                org(
                    "板橋区 福祉部 障害サービス課",
                    "いたばしく しょうがいさーびすか",
                    dept,
                    welfare,
                    "131199",
                ),
            ),
            (
                "itabashi-health",
                org(
                    "板橋区 健康生きがい部 健康推進課",
                    "いたばしく けんこうすいしんか",
                    dept,
                    Some(Department::Health),
                    "131199",
                ),
            ),
            (
                "nerima-welfare",
                org(
                    "練馬区 福祉部 障害者サービス調整課",
                    "ねりまく しょうがいしゃさーびすちょうせいか",
                    dept,
                    welfare,
                    "131202",
                ),
            ),
            (
                "sapporo-welfare",
                org(
                    "札幌市 保健福祉局 障がい福祉課",
                    "さっぽろし しょうがいふくしか",
                    dept,
                    welfare,
                    "011002",
                ),
            ),
            (
                "tokyo-admin",
                org(
                    "東京都 福祉局 障害者施策推進部",
                    "とうきょうと しょうがいしゃしさくすいしんぶ",
                    dept,
                    welfare,
                    "130001",
                ),
            ),
            (
                "tokyo-centre",
                org(
                    "東京都医療的ケア児支援センター（区部）",
                    "とうきょうといりょうてきけあじしえんせんたー",
                    OrganisationKind::SupportCenter,
                    None,
                    "130001",
                ),
            ),
            (
                "mentor-office",
                org(
                    "東京都ペアレントメンター事務局",
                    "とうきょうとぺあれんとめんたーじむきょく",
                    OrganisationKind::MentorOffice,
                    None,
                    "130001",
                ),
            ),
            (
                "consultation",
                org(
                    "相談支援事業所 みどりのて（架空）",
                    "そうだんしえんじぎょうしょ みどりのて",
                    OrganisationKind::ConsultationOffice,
                    None,
                    "131199",
                ),
            ),
            (
                "nursery",
                org(
                    "ひだまり保育園（架空）",
                    "ひだまりほいくえん",
                    OrganisationKind::Facility,
                    None,
                    "131199",
                ),
            ),
            (
                "council",
                org(
                    "板橋区医療的ケア児等支援協議会",
                    "いたばしくいりょうてきけあじとうしえんきょうぎかい",
                    OrganisationKind::Council,
                    None,
                    "131199",
                ),
            ),
            (
                "system",
                org(
                    "つなぐ運用管理",
                    "つなぐうんようかんり",
                    OrganisationKind::System,
                    None,
                    "130001",
                ),
            ),
        ];
        let mut organisations = std::collections::HashMap::new();
        for (key, new) in all {
            let created = organisations::create(&app.db, &new, now)
                .await
                .expect("create organisation");
            organisations.insert(key, created.id);
        }
        let mut people = Vec::new();
        for role in Role::ALL {
            let (login, name, org_key) = match role {
                Role::SystemAdmin => ("admin", "運用 太郎", "system"),
                Role::PrefectureAdmin => ("tokyo.admin", "都庁 花子", "tokyo-admin"),
                Role::SupportCenterStaff => ("center.staff", "支援 一郎", "tokyo-centre"),
                Role::MunicipalStaff => ("itabashi.welfare", "板橋 福子", "itabashi-welfare"),
                Role::Coordinator => ("coordinator", "調整 結衣", "consultation"),
                Role::MentorOffice => ("mentor.office", "事務 局子", "mentor-office"),
                Role::Mentor => ("mentor", "先輩 ママ", "mentor-office"),
                Role::FacilityStaff => ("nursery.staff", "日向 保", "nursery"),
                Role::Guardian => ("guardian", "山田 さくら", "itabashi-welfare"),
                Role::CouncilViewer => ("council", "協議 委員", "council"),
            };
            let new = NewPerson::new(login, name, org_key, role);
            people.push(create_person(&app.db, &organisations[org_key], new, now).await);
        }
        let person = async |login, name, org_key: &str, role| {
            let new = NewPerson::new(login, name, org_key, role);
            create_person(&app.db, &organisations[org_key], new, now).await
        };
        let nerima_staff = person(
            "nerima.welfare",
            "練馬 守",
            "nerima-welfare",
            Role::MunicipalStaff,
        )
        .await;
        let sapporo_staff = person(
            "sapporo.welfare",
            "札幌 雪子",
            "sapporo-welfare",
            Role::MunicipalStaff,
        )
        .await;
        let nerima_guardian = person(
            "nerima.guardian",
            "高橋 みどり",
            "nerima-welfare",
            Role::Guardian,
        )
        .await;
        let mut conn = app.db.pool().acquire().await.expect("connection");
        let mut children_ids = Vec::new();
        for (name, kana, owner, at) in [
            (
                ITABASHI_FAMILY_NAME,
                "やまだ はると",
                "itabashi-welfare",
                "131199",
            ),
            (
                ITABASHI_SHARED_NAME,
                "さとう ゆい",
                "itabashi-welfare",
                "131199",
            ),
            (NERIMA_NAME, "たかはし めい", "nerima-welfare", "131202"),
            (SAPPORO_NAME, "きたの こはる", "sapporo-welfare", "011002"),
        ] {
            let new = children::NewChild {
                owner_organisation_id: organisations[owner].clone(),
                municipality_code: code(at),
                name: name.into(),
                kana: kana.into(),
                birth_date: chrono::NaiveDate::from_ymd_opt(2022, 6, 14).unwrap(),
                sex: "female".into(),
            };
            let id = ChildId::from_uuid(uuid::Uuid::new_v4());
            children::create(&mut conn, &id, &new, now)
                .await
                .expect("create child");
            children_ids.push(id);
        }
        let [itabashi_family, itabashi_shared, nerima, sapporo] =
            <[ChildId; 4]>::try_from(children_ids).expect("four children");
        let guardian = people
            .iter()
            .find(|p| p.role == Role::Guardian)
            .expect("guardian");
        consent::add_guardian(&mut conn, &itabashi_family, &guardian.id, "母")
            .await
            .expect("guardian");
        consent::add_guardian(&mut conn, &nerima, &nerima_guardian.id, "母")
            .await
            .expect("guardian");
        // Families consented to share with the consultation office, the nursery and the
        // prefecture's support centre (recorded from paper by the owner's staff).
        let recorder = people
            .iter()
            .find(|p| p.role == Role::MunicipalStaff)
            .expect("municipal staff");
        for (child, organisation, at) in [
            (&itabashi_family, "consultation", "131199"),
            (&itabashi_shared, "nursery", "131199"),
            (&itabashi_family, "tokyo-centre", "131199"),
            (&itabashi_shared, "tokyo-centre", "131199"),
            (&nerima, "tokyo-centre", "131202"),
        ] {
            let new = consent::NewConsent {
                purpose: consent::Purpose::Organisation,
                department: None,
                organisation_id: Some(organisations[organisation].clone()),
                given_on: now.date_naive(),
                method: "paper".into(),
                expires_on: None,
            };
            let consent_id = ConsentId::from_uuid(uuid::Uuid::new_v4());
            consent::record(
                &mut conn,
                &consent_id,
                child,
                &code(at),
                &new,
                &recorder.id,
                now,
            )
            .await
            .expect("consent");
        }
        World {
            clock,
            organisations,
            people,
            nerima_staff,
            sapporo_staff,
            nerima_guardian,
            children: Children {
                itabashi_family,
                itabashi_shared,
                nerima,
                sapporo,
            },
        }
    }

    /// Creates one more account in an organisation of this world.
    pub async fn add_person(&self, app: &TestApp, new: NewPerson<'_>) -> Person {
        let organisation_id = self
            .organisations
            .get(new.organisation)
            .unwrap_or_else(|| panic!("no organisation {}", new.organisation));
        create_person(&app.db, organisation_id, new, self.clock.now()).await
    }

    /// The account of a role (the 板橋区 障害福祉 one for municipal staff).
    pub fn person(&self, role: Role) -> &Person {
        self.people
            .iter()
            .find(|p| p.role == role)
            .expect("one account per role")
    }

    /// Moves the clock on by one 30-second TOTP step and gives the person's code for it, so
    /// the same person can sign in again without the code being refused as a replay.
    pub fn next_code(&self, person: &Person) -> Option<String> {
        let secret = person.totp_secret.as_deref()?;
        self.clock
            .advance(chrono::Duration::seconds(tsunagu::auth::totp::STEP_SECONDS));
        tsunagu::auth::totp::current_code(secret, self.clock.now())
    }

    /// Signs a person in through `POST /api/v1/session` (password and, if any, TOTP).
    pub async fn sign_in(&self, app: &TestApp, person: &Person) -> Session {
        let code = self.next_code(person);
        sign_in(app, &person.login, &person.password, code.as_deref()).await
    }

    /// Signs in the account of a role.
    pub async fn login_as(&self, app: &TestApp, role: Role) -> Session {
        self.sign_in(app, self.person(role)).await
    }
}

/// An app on a manual clock with a [`World`] in its database.
pub async fn world() -> (TestApp, World) {
    let clock = manual_clock();
    let app = app_with_clock(clock.clone()).await;
    let world = World::build(&app, clock).await;
    (app, world)
}

/// An app, its world, and a session of the given role.
pub async fn signed_in(role: Role) -> (TestApp, World, Session) {
    let (app, world) = world().await;
    let session = world.login_as(&app, role).await;
    (app, world, session)
}

/// `POST /api/v1/session` with a JSON body; the raw answer.
pub async fn try_sign_in(
    app: &TestApp,
    login: &str,
    password: &str,
    totp: Option<&str>,
) -> TestResponse {
    let mut body = serde_json::json!({"login": login, "password": password});
    if let Some(code) = totp {
        body["totp"] = serde_json::Value::from(code);
    }
    app.request(
        Request::builder()
            .method(Method::POST)
            .uri("/api/v1/session")
            .header("content-type", "application/json")
            .body(Body::from(body.to_string()))
            .unwrap(),
    )
    .await
}

/// `POST /login` as a browser sends it.
pub async fn page_login(app: &TestApp, login: &str, password: &str) -> TestResponse {
    app.request(
        Request::builder()
            .method(Method::POST)
            .uri("/login")
            .header("content-type", "application/x-www-form-urlencoded")
            .body(Body::from(form_body(&[
                ("login_id", login),
                ("password", password),
                ("next", "/home"),
            ])))
            .unwrap(),
    )
    .await
}

/// Signs in through the API and panics unless it succeeds.
pub async fn sign_in(app: &TestApp, login: &str, password: &str, totp: Option<&str>) -> Session {
    let res = try_sign_in(app, login, password, totp).await;
    assert_eq!(
        res.status,
        StatusCode::OK,
        "sign-in of {login}: {}",
        res.body
    );
    Session {
        cookie: session_cookie(&res).expect("a session cookie"),
        csrf: res.json()["csrf_token"]
            .as_str()
            .expect("csrf_token")
            .to_string(),
    }
}

/// The session token a response sets (`Some("")` when it clears the cookie).
pub fn session_cookie(res: &TestResponse) -> Option<String> {
    let prefix = format!("{}=", tsunagu::auth::session::COOKIE_NAME);
    res.headers
        .get_all(axum::http::header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|v| v.strip_prefix(&prefix))
        .map(|rest| rest.split(';').next().unwrap_or_default().to_string())
}

/// The value of the first `<input type="hidden" name="csrf_token" value="…">` of a page.
pub fn csrf_in_page(html: &str) -> Option<String> {
    const FIELD: &str = "name=\"csrf_token\" value=\"";
    let at = html.find(FIELD)? + FIELD.len();
    html[at..].split('"').next().map(str::to_string)
}

/// application/x-www-form-urlencoded from pairs.
pub fn form_body(fields: &[(&str, &str)]) -> String {
    fields
        .iter()
        .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
        .collect::<Vec<_>>()
        .join("&")
}

/// A request carrying the session's cookie (and no CSRF token).
pub fn request_as(session: &Session, method: Method, uri: &str) -> axum::http::request::Builder {
    Request::builder()
        .method(method)
        .uri(uri)
        .header(axum::http::header::COOKIE, session.cookie_header())
}

impl TestApp {
    /// `GET` with the session's cookie.
    pub async fn get_as(&self, session: &Session, uri: &str) -> TestResponse {
        self.request(
            request_as(session, Method::GET, uri)
                .body(Body::empty())
                .unwrap(),
        )
        .await
    }

    /// A form `POST` with the session's cookie and its CSRF token in the `csrf_token` field.
    pub async fn post_form_as(
        &self,
        session: &Session,
        uri: &str,
        fields: &[(&str, &str)],
    ) -> TestResponse {
        let mut all = vec![("csrf_token", session.csrf.as_str())];
        all.extend_from_slice(fields);
        self.request(
            request_as(session, Method::POST, uri)
                .header("content-type", "application/x-www-form-urlencoded")
                .body(Body::from(form_body(&all)))
                .unwrap(),
        )
        .await
    }

    /// Any method with the session's cookie and its CSRF token in the `X-CSRF-Token` header.
    pub async fn send_as(&self, session: &Session, method: Method, uri: &str) -> TestResponse {
        self.request(
            request_as(session, method, uri)
                .header("x-csrf-token", &session.csrf)
                .body(Body::empty())
                .unwrap(),
        )
        .await
    }

    /// `SELECT count(*) …` with text parameters `$1`, `$2`, …
    pub async fn count(&self, sql: &str, binds: &[&str]) -> i64 {
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql.to_string()));
        for b in binds {
            query = query.bind(b.to_string());
        }
        let row = query.fetch_one(self.db.pool()).await.expect("count");
        sqlx::Row::try_get::<i64, _>(&row, 0).expect("count value")
    }

    /// The text in the first column of the first row (an id the test goes on with).
    pub async fn text(&self, sql: &str, binds: &[&str]) -> String {
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql.to_string()));
        for b in binds {
            query = query.bind(b.to_string());
        }
        let row = query.fetch_one(self.db.pool()).await.expect("a row");
        sqlx::Row::try_get::<String, _>(&row, 0).expect("text value")
    }

    /// Audit entries of an account with this action and outcome.
    pub async fn audit_count(&self, actor: &str, action: &str, outcome: &str) -> i64 {
        self.count(
            "SELECT count(*) FROM audit_log WHERE actor_account_id = $1 AND action = $2 AND outcome = $3",
            &[actor, action, outcome],
        )
        .await
    }
}

/// Whether a page shows `raw` as escaped text, with named (`&lt;`) or numeric (`&#60;`) entities.
pub fn shows_escaped(body: &str, raw: &str) -> bool {
    let named = raw
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;");
    let numeric = raw
        .replace('&', "&#38;")
        .replace('<', "&#60;")
        .replace('>', "&#62;")
        .replace('"', "&#34;")
        .replace('\'', "&#39;");
    body.contains(&named) || body.contains(&numeric)
}

/// A facility organisation in a town (one the world does not have).
pub async fn facility(app: &TestApp, name: &str, town: &str) -> OrganisationId {
    tsunagu::organisations::create(
        &app.db,
        &tsunagu::organisations::NewOrganisation {
            name: name.into(),
            kana: "しせつ".into(),
            kind: tsunagu::organisations::OrganisationKind::Facility,
            department: None,
            municipality_code: code(town),
        },
        test_clock().now(),
    )
    .await
    .expect("a facility")
    .id
}

/// A directory entry of `organisation`, located in `town`: a nursery for class ages 1–5
/// accepting 吸引 and 経管栄養, 90 places, no vacancy reported yet.
pub async fn directory_service(
    app: &TestApp,
    organisation: &OrganisationId,
    town: &str,
    name: &str,
) -> tsunagu_core::ids::ServiceId {
    use tsunagu_core::care::CareItem;
    directory_service_accepting(
        app,
        organisation,
        town,
        name,
        &[CareItem::Suction, CareItem::TubeFeeding],
    )
    .await
}

/// [`directory_service`], accepting these care items.
pub async fn directory_service_accepting(
    app: &TestApp,
    organisation: &OrganisationId,
    town: &str,
    name: &str,
    care: &[tsunagu_core::care::CareItem],
) -> tsunagu_core::ids::ServiceId {
    let entry = tsunagu::features::directory::repo::Entry {
        kind: "nursery".into(),
        name: name.into(),
        kana: "ほいくえん".into(),
        description: String::new(),
        address: "東京都".into(),
        municipality_code: code(town),
        latitude: None,
        longitude: None,
        phone: "03-1234-5678".into(),
        email: String::new(),
        url: String::new(),
        weekdays: "1111100".into(),
        opens_at: "07:30".into(),
        closes_at: "18:30".into(),
        closed_on_holidays: true,
        closed_year_end: true,
        nurse_hours: "平日 9:00〜17:00".into(),
        age_from: Some(1),
        age_to: Some(5),
        max_tier: None,
        capacity: Some(90),
        care_children_now: Some(1),
        waiting_list: None,
        care: care.iter().map(|c| (*c, String::new())).collect(),
        device_rules: Vec::new(),
        areas: Vec::new(),
        staff_only: vec!["phone".into(), "nurse_hours".into()],
    };
    let id = tsunagu_core::ids::ServiceId::from_uuid(uuid::Uuid::new_v4());
    let mut conn = app.db.pool().acquire().await.expect("a connection");
    tsunagu::features::directory::repo::insert(
        &mut conn,
        &id,
        organisation,
        &entry,
        None,
        test_clock().now(),
    )
    .await
    .expect("a directory entry");
    id
}

/// A download's status and bytes as sent (a zip, a CP932 CSV), signed in or not.
pub async fn get_bytes(
    app: &TestApp,
    session: Option<&Session>,
    uri: &str,
) -> (StatusCode, Vec<u8>) {
    use http_body_util::BodyExt;
    use tower::ServiceExt;
    let request = match session {
        Some(session) => request_as(session, Method::GET, uri),
        None => Request::builder().method(Method::GET).uri(uri),
    };
    let response = app
        .router
        .clone()
        .oneshot(request.body(Body::empty()).unwrap())
        .await
        .expect("infallible");
    let status = response.status();
    let bytes = response
        .into_body()
        .collect()
        .await
        .expect("body")
        .to_bytes()
        .to_vec();
    (status, bytes)
}

/// After a test changes the directory's tables by hand: marks every prefecture changed, as
/// the directory's own writes do, so no copy in memory is used stale.
pub async fn directory_changed(app: &TestApp) {
    let mut conn = app.db.pool().acquire().await.expect("a connection");
    tsunagu::features::directory::repo::bump_all(&mut conn)
        .await
        .expect("bump");
}

/// The directory most tests search: ひだまり保育園 of the world's nursery in 板橋区 (吸引・
/// 経管栄養) and ねりま療育園, a facility of 練馬区 (経管栄養 only). Their ids.
pub async fn two_nurseries(app: &TestApp, world: &World) -> (String, String) {
    use tsunagu_core::care::CareItem;
    let ours = directory_service(
        app,
        &world.organisations["nursery"],
        "131199",
        "ひだまり保育園",
    )
    .await
    .to_string();
    let other_org = facility(app, "ねりま療育園", "131202").await;
    let theirs = directory_service_accepting(
        app,
        &other_org,
        "131202",
        "ねりま療育園",
        &[CareItem::TubeFeeding],
    )
    .await
    .to_string();
    (ours, theirs)
}

// ---------------------------------------------------------------------------------------
// Uploading files to an import
// ---------------------------------------------------------------------------------------

pub const BOUNDARY: &str = "----tsunagu-import-test-boundary";

/// A `multipart/form-data` body with the session's token and one file.
pub fn multipart_body(csrf: &str, filename: &str, bytes: &[u8]) -> Vec<u8> {
    let mut body = Vec::new();
    body.extend_from_slice(
        format!(
            "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"csrf_token\"\r\n\r\n{csrf}\r\n"
        )
        .as_bytes(),
    );
    body.extend_from_slice(
        format!(
            "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{filename}\"\r\n\
             Content-Type: application/octet-stream\r\n\r\n"
        )
        .as_bytes(),
    );
    body.extend_from_slice(bytes);
    body.extend_from_slice(format!("\r\n--{BOUNDARY}--\r\n").as_bytes());
    body
}

/// Posts one file to an import's upload route (`uri`).
pub async fn upload_to(
    app: &TestApp,
    session: &Session,
    uri: &str,
    filename: &str,
    bytes: &[u8],
) -> TestResponse {
    let body = multipart_body(&session.csrf, filename, bytes);
    app.request(
        request_as(session, Method::POST, uri)
            .header(
                "content-type",
                format!("multipart/form-data; boundary={BOUNDARY}"),
            )
            .header("content-length", body.len().to_string())
            .body(Body::from(body))
            .unwrap(),
    )
    .await
}

/// The mapping an import's page pre-selected, as form fields.
pub fn selected_mapping(html: &str) -> Vec<(String, String)> {
    let mut fields = Vec::new();
    for chunk in html.split("<select id=\"col_").skip(1) {
        let index: String = chunk.chars().take_while(char::is_ascii_digit).collect();
        let select = chunk.split("</select>").next().unwrap_or_default();
        let value = select
            .split("<option value=\"")
            .skip(1)
            .find(|o| o.contains("\" selected>"))
            .and_then(|o| o.split('"').next())
            .unwrap_or_default();
        fields.push((format!("col_{index}"), value.to_string()));
    }
    fields
}

/// CSV text as Excel writes it in UTF-8: with a BOM.
pub fn bom_csv(text: &str) -> Vec<u8> {
    let mut bytes = b"\xEF\xBB\xBF".to_vec();
    bytes.extend_from_slice(text.as_bytes());
    bytes
}
