//! The house rules the compiler cannot check, checked on the server's source (`src/`), once
//! per run whatever the backend: SQL only in a
//! feature's `repo`, `db/` and `audit/`; a module's SQL names only the tables it owns, the
//! shared ones, or those it declares below with the reason. Every table of the migrations
//! has an owner here.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// Who owns each table: the only module whose SQL may write it (and read it, unless shared).
const OWNERS: &[(&str, &str)] = &[
    ("municipalities", "features/municipalities"),
    ("areas", "features/municipalities"),
    ("area_members", "features/municipalities"),
    ("reference_snapshots", "features/municipalities"),
    ("organisations", "organisations"),
    ("accounts", "auth"),
    ("memberships", "auth"),
    ("recovery_codes", "auth"),
    ("sessions", "auth"),
    ("login_failures", "auth"),
    ("audit_log", "audit"),
    ("audit_head", "audit"),
    ("break_glass_grants", "features/break_glass"),
    ("children", "features/children"),
    ("child_care_items", "features/children"),
    ("child_consents", "features/consent"),
    ("child_devices", "features/children"),
    ("child_guardians", "features/consent"),
    ("child_history", "features/children"),
    ("child_merges", "features/children"),
    ("child_proposals", "features/children"),
    ("child_shares", "features/consent"),
    ("child_siblings", "features/children"),
    ("guardians", "features/children"),
    ("notices", "features/notices"),
    ("services", "features/directory"),
    ("service_care", "features/directory"),
    ("service_device_rules", "features/directory"),
    ("service_areas", "features/directory"),
    ("service_vacancies", "features/directory"),
    ("directory_generations", "features/directory"),
    ("survey_rounds", "features/directory"),
    ("survey_answers", "features/directory"),
    ("plan_forums", "features/gaps"),
    ("mentors", "features/mentoring"),
    ("mentor_weekly", "features/mentoring"),
    ("mentor_days_off", "features/mentoring"),
    ("mentor_applications", "features/mentoring"),
    ("mentor_consultations", "features/mentoring"),
    // Uploaded sheets between an import's mapping, dry run and commit, for every import.
    ("uploads", "tabular"),
];

/// Tables any module's SQL may read (join for a name): people, organisations and places.
const SHARED_FOR_READING: &[&str] = &["accounts", "organisations", "municipalities"];

/// Reads of another module's table, each with why it is not a call to that module.
const DECLARED_READS: &[(&str, &str, &str)] = &[
    (
        "features/consent",
        "children",
        "the reach fragments join the child they reach; the children's statements compose them",
    ),
    (
        "auth",
        "break_glass_grants",
        "the session statement (every request) counts the actor's open grants in its one round trip, and reads them when there are any",
    ),
    (
        "auth",
        "notices",
        "the session statement (every request) counts the unread notices for the header in its one round trip",
    ),
];

/// Modules that may hold SQL on any table: the database layer itself and the demo and
/// national-scale data generators, which bulk-load every feature's tables for the benches.
const UNRESTRICTED: &[&str] = &["db", "demo"];

fn source_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// `features/children/repo/store.rs` → `features/children`; `auth/session.rs` → `auth`;
/// `demo.rs` → `demo`.
fn module_of(relative: &str) -> String {
    let parts: Vec<&str> = relative.split('/').collect();
    if parts.first() == Some(&"features") && parts.len() > 2 {
        return format!("features/{}", parts[1]);
    }
    parts
        .first()
        .map(|p| p.trim_end_matches(".rs").to_string())
        .unwrap_or_default()
}

/// The code of a file without comments and without its test module (tests may query
/// anything to check what was stored).
fn production_code(text: &str) -> String {
    let mut code = String::new();
    let mut lines = text.lines().peekable();
    while let Some(line) = lines.next() {
        let trimmed = line.trim_start();
        if trimmed.starts_with("#[cfg(test)]")
            && lines
                .peek()
                .is_some_and(|next| next.trim_start().starts_with("mod "))
        {
            break;
        }
        if trimmed.starts_with("//") {
            continue;
        }
        code.push_str(line);
        code.push('\n');
    }
    code
}

const SQL_MARKS: &[&str] = &[
    "sqlx::query",
    "SELECT ",
    "INSERT INTO ",
    "DELETE FROM ",
    " SET ",
];

fn holds_sql(code: &str) -> bool {
    SQL_MARKS.iter().any(|mark| code.contains(mark))
}

/// Table names that follow FROM, JOIN, INTO or UPDATE.
fn tables_named(code: &str) -> BTreeSet<String> {
    let words: Vec<&str> = code
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .filter(|w| !w.is_empty())
        .collect();
    let known: BTreeSet<&str> = OWNERS.iter().map(|(t, _)| *t).collect();
    words
        .windows(2)
        .filter(|pair| matches!(pair[0], "FROM" | "JOIN" | "INTO" | "UPDATE" | "TABLE"))
        .map(|pair| pair[1])
        .filter(|name| known.contains(name))
        .map(str::to_string)
        .collect()
}

fn is_sql_place(relative: &str) -> bool {
    let module = module_of(relative);
    UNRESTRICTED.contains(&module.as_str())
        || module == "audit"
        || relative.ends_with("/repo.rs")
        || relative.contains("/repo/")
}

#[test]
fn sql_lives_only_in_repos_and_names_only_the_modules_own_tables() {
    let root = source_root();
    let mut files = Vec::new();
    rust_files(&root, &mut files);
    assert!(files.len() > 50, "found only {} source files", files.len());
    let mut problems = Vec::new();
    for path in &files {
        let relative = path
            .strip_prefix(&root)
            .map(|p| p.to_string_lossy().replace('\\', "/"))
            .unwrap_or_default();
        let text = std::fs::read_to_string(path).unwrap_or_default();
        let code = production_code(&text);
        if !holds_sql(&code) {
            continue;
        }
        if !is_sql_place(&relative) {
            problems.push(format!(
                "{relative}: SQL outside a repo (move it to the feature's repo module)"
            ));
        }
        let module = module_of(&relative);
        if UNRESTRICTED.contains(&module.as_str()) {
            continue;
        }
        for table in tables_named(&code) {
            let owner = OWNERS
                .iter()
                .find(|(t, _)| *t == table)
                .map(|(_, o)| *o)
                .unwrap_or_default();
            let allowed = owner == module
                || SHARED_FOR_READING.contains(&table.as_str())
                || DECLARED_READS
                    .iter()
                    .any(|(m, t, _)| *m == module && *t == table);
            if !allowed {
                problems.push(format!(
                    "{relative}: names `{table}`, owned by {owner} (call {owner}'s functions, or declare the read here)"
                ));
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// A new table needs an owner before any SQL may name it.
#[test]
fn every_table_of_the_migrations_has_an_owner() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../migrations/sqlite");
    let mut created = BTreeSet::new();
    for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
        let text = std::fs::read_to_string(entry.path()).unwrap_or_default();
        let words: Vec<&str> = text
            .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .filter(|w| !w.is_empty())
            .collect();
        for w in words.windows(3) {
            if w[0].eq_ignore_ascii_case("CREATE") && w[1].eq_ignore_ascii_case("TABLE") {
                let name = if w[2].eq_ignore_ascii_case("IF") {
                    continue;
                } else {
                    w[2]
                };
                created.insert(name.to_string());
            }
        }
    }
    assert!(created.len() >= 20, "{created:?}");
    // A table made only to rebuild another one inside its migration, then renamed to it;
    // and tables renamed since (their owner is the new name's).
    for rebuilt in [
        "children_rebuilt",
        "child_care_items_rebuilt",
        "organisations_rebuilt",
        "child_imports",
    ] {
        assert!(
            created.remove(rebuilt),
            "{rebuilt} is no longer created by a migration: drop it here"
        );
    }
    let owned: BTreeSet<String> = OWNERS.iter().map(|(t, _)| (*t).to_string()).collect();
    let missing: Vec<_> = created.difference(&owned).collect();
    assert!(missing.is_empty(), "tables without an owner: {missing:?}");
}

#[test]
fn the_checks_see_what_they_look_for() {
    assert_eq!(
        module_of("features/children/repo/store.rs"),
        "features/children"
    );
    assert_eq!(module_of("auth/session.rs"), "auth");
    assert_eq!(module_of("demo.rs"), "demo");
    assert!(is_sql_place("features/children/repo/store.rs"));
    assert!(is_sql_place("features/accounts/repo.rs"));
    // The imports' shared storage keeps its SQL in its own repo.
    assert!(is_sql_place("tabular/upload/repo.rs"));
    assert!(!is_sql_place("tabular/upload/mod.rs"));
    assert_eq!(module_of("tabular/upload/repo.rs"), "tabular");
    assert!(!is_sql_place("features/children/proposals.rs"));
    let code = production_code(
        "// SELECT x FROM children\nlet a = 1;\n#[cfg(test)]\nmod tests {\n sqlx::query(\"SELECT 1\")\n}\n",
    );
    assert!(!holds_sql(&code));
    let named =
        tables_named("\"SELECT a FROM children c JOIN guardians g ... INSERT INTO audit_log\"");
    assert_eq!(
        named.into_iter().collect::<Vec<_>>(),
        ["audit_log", "children", "guardians"]
    );
}
