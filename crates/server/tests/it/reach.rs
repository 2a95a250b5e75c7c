//! Who reaches a child, decided twice: by the list's SQL (`scope_filter` → `repo::list`) and
//! by the policy on one record (`repo::get` → `may`). A property test generates children
//! with owners, towns, guardians, shares and consents (to organisations, to departments of
//! this or another town, registry-only, expired, expiring today, withdrawn), and actors with
//! memberships, family accounts and break-glass grants, and checks on the backend under test
//! that a child is in an actor's list exactly when `may(ReadChild)` allows it on its scope.
//! Break-glass opens one record and never lists it.

use std::collections::BTreeSet;
use tsunagu_core::ids::{AccountId, ChildId, ConsentId};

use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use tsunagu::features::children::repo::{self as children, ListFilter, NewChild};
use tsunagu::features::consent::{self, NewConsent, Purpose};
use tsunagu_core::access::{
    Actor, Basis, Decision, Department, Membership, Permission, Role, may, scope_filter,
};
use tsunagu_core::clock::Clock;
use tsunagu_core::municipality::MunicipalityCode;

use crate::support::{TestApp, World, world};

const TOWNS: [&str; 3] = ["131199", "131202", "011002"];
const OWNERS: [&str; 4] = [
    "itabashi-welfare",
    "nerima-welfare",
    "sapporo-welfare",
    "consultation",
];
const PARTNERS: [&str; 5] = [
    "consultation",
    "nursery",
    "tokyo-centre",
    "itabashi-health",
    "nerima-welfare",
];
const DEPARTMENTS: [Department; 2] = [Department::DisabilityWelfare, Department::Health];

/// (organisation, role, its municipality, its department): the memberships actors draw from.
const MEMBERSHIPS: [(&str, Role, &str, Option<Department>); 9] = [
    (
        "itabashi-welfare",
        Role::MunicipalStaff,
        "131199",
        Some(Department::DisabilityWelfare),
    ),
    (
        "itabashi-health",
        Role::MunicipalStaff,
        "131199",
        Some(Department::Health),
    ),
    (
        "nerima-welfare",
        Role::MunicipalStaff,
        "131202",
        Some(Department::DisabilityWelfare),
    ),
    (
        "sapporo-welfare",
        Role::MunicipalStaff,
        "011002",
        Some(Department::DisabilityWelfare),
    ),
    ("consultation", Role::Coordinator, "131199", None),
    ("tokyo-centre", Role::SupportCenterStaff, "130001", None),
    ("nursery", Role::FacilityStaff, "131199", None),
    ("council", Role::CouncilViewer, "131199", None),
    ("tokyo-admin", Role::PrefectureAdmin, "130001", None),
];

#[derive(Debug, Clone)]
enum Recipient {
    Organisation(usize),
    /// A department of a town (the child's, or another: a consent given before a move).
    Department(usize, usize),
    /// Registry, disaster plan, mentor: names no one.
    Nobody,
}

#[derive(Debug, Clone, Copy)]
enum Expiry {
    Never,
    Yesterday,
    Today,
    Later,
}

#[derive(Debug, Clone)]
struct ConsentPlan {
    recipient: Recipient,
    expiry: Expiry,
    withdrawn: bool,
}

#[derive(Debug, Clone)]
struct ChildPlan {
    town: usize,
    owner: usize,
    guardians: (bool, bool),
    shares: Vec<usize>,
    consents: Vec<ConsentPlan>,
}

#[derive(Debug, Clone)]
struct ActorPlan {
    memberships: Vec<usize>,
    /// Acts as one of the two guardian accounts (or as an account of its own).
    guardian: Option<usize>,
    /// Children (by index in the case) the actor holds a break-glass grant on.
    break_glass: Vec<usize>,
}

#[derive(Debug, Clone)]
struct Scenario {
    children: Vec<ChildPlan>,
    actors: Vec<ActorPlan>,
}

fn consent_plan() -> impl Strategy<Value = ConsentPlan> {
    let recipient = prop_oneof![
        (0..PARTNERS.len()).prop_map(Recipient::Organisation),
        (0..DEPARTMENTS.len(), 0..TOWNS.len()).prop_map(|(d, t)| Recipient::Department(d, t)),
        Just(Recipient::Nobody),
    ];
    let expiry = prop_oneof![
        Just(Expiry::Never),
        Just(Expiry::Yesterday),
        Just(Expiry::Today),
        Just(Expiry::Later),
    ];
    (recipient, expiry, any::<bool>()).prop_map(|(recipient, expiry, withdrawn)| ConsentPlan {
        recipient,
        expiry,
        withdrawn,
    })
}

fn child_plan() -> impl Strategy<Value = ChildPlan> {
    (
        0..TOWNS.len(),
        0..OWNERS.len(),
        (any::<bool>(), any::<bool>()),
        prop::collection::vec(0..PARTNERS.len(), 0..3),
        prop::collection::vec(consent_plan(), 0..4),
    )
        .prop_map(|(town, owner, guardians, shares, consents)| ChildPlan {
            town,
            owner,
            guardians,
            shares,
            consents,
        })
}

fn actor_plan(children: usize) -> impl Strategy<Value = ActorPlan> {
    (
        prop::collection::vec(0..MEMBERSHIPS.len(), 0..3),
        prop::option::of(0..2usize),
        prop::collection::vec(0..children.max(1), 0..2),
    )
        .prop_map(|(memberships, guardian, break_glass)| ActorPlan {
            memberships,
            guardian,
            break_glass,
        })
}

fn scenario() -> impl Strategy<Value = Scenario> {
    prop::collection::vec(child_plan(), 1..7).prop_flat_map(|children| {
        let n = children.len();
        prop::collection::vec(actor_plan(n), 1..6).prop_map(move |actors| Scenario {
            children: children.clone(),
            actors,
        })
    })
}

fn code(text: &str) -> MunicipalityCode {
    MunicipalityCode::parse(text).expect("a municipality code")
}

/// Writes the scenario's children; their ids in plan order.
async fn write(app: &TestApp, world: &World, plan: &Scenario) -> Vec<ChildId> {
    let now = world.clock.now();
    let today = world.clock.today_jst();
    let guardians = [
        world.person(Role::Guardian).id.clone(),
        world.nerima_guardian.id.clone(),
    ];
    let recorder = world.person(Role::MunicipalStaff).id.clone();
    let mut conn = app.db.pool().acquire().await.unwrap();
    let mut ids = Vec::new();
    for (i, child) in plan.children.iter().enumerate() {
        let id = ChildId::from_uuid(uuid::Uuid::new_v4());
        let new = NewChild {
            owner_organisation_id: world.organisations[OWNERS[child.owner]].clone(),
            municipality_code: code(TOWNS[child.town]),
            name: format!("到達 {i}"),
            kana: format!("とうたつ {i}"),
            birth_date: chrono::NaiveDate::from_ymd_opt(2021, 5, 1).unwrap(),
            sex: "female".into(),
        };
        children::create(&mut conn, &id, &new, now).await.unwrap();
        for (which, on) in [child.guardians.0, child.guardians.1]
            .into_iter()
            .enumerate()
        {
            if on {
                consent::add_guardian(&mut conn, &id, &guardians[which], "母")
                    .await
                    .unwrap();
            }
        }
        for share in &child.shares {
            consent::share(
                &mut conn,
                &id,
                &world.organisations[PARTNERS[*share]],
                "referral",
                now,
            )
            .await
            .unwrap();
        }
        for plan in &child.consents {
            let (purpose, department, organisation_id, town) = match plan.recipient {
                Recipient::Organisation(o) => (
                    Purpose::Organisation,
                    None,
                    Some(world.organisations[PARTNERS[o]].clone()),
                    child.town,
                ),
                Recipient::Department(d, t) => (Purpose::Department, Some(DEPARTMENTS[d]), None, t),
                Recipient::Nobody => (Purpose::Registry, None, None, child.town),
            };
            let expires_on = match plan.expiry {
                Expiry::Never => None,
                Expiry::Yesterday => today.pred_opt(),
                Expiry::Today => Some(today),
                Expiry::Later => today.checked_add_days(chrono::Days::new(30)),
            };
            let new = NewConsent {
                purpose,
                department,
                organisation_id,
                given_on: today.checked_sub_days(chrono::Days::new(60)).unwrap(),
                method: "paper".into(),
                expires_on,
            };
            let consent_id = ConsentId::from_uuid(uuid::Uuid::new_v4());
            consent::record(
                &mut conn,
                &consent_id,
                &id,
                &code(TOWNS[town]),
                &new,
                &recorder,
                now,
            )
            .await
            .unwrap();
            if plan.withdrawn {
                consent::withdraw(&mut conn, &id, &consent_id, &recorder, "撤回", now)
                    .await
                    .unwrap();
            }
        }
        ids.push(id);
    }
    ids
}

fn actor_of(world: &World, plan: &ActorPlan, ids: &[ChildId]) -> Actor {
    let guardians = [
        world.person(Role::Guardian).id.clone(),
        world.nerima_guardian.id.clone(),
    ];
    let mut memberships: Vec<Membership> = plan
        .memberships
        .iter()
        .map(|m| {
            let (org, role, at, department) = MEMBERSHIPS[*m];
            Membership {
                organisation_id: world.organisations[org].clone(),
                municipality_code: code(at),
                role,
                department,
            }
        })
        .collect();
    let account_id = match plan.guardian {
        Some(g) => {
            memberships.push(Membership {
                organisation_id: world.organisations["itabashi-welfare"].clone(),
                municipality_code: code("131199"),
                role: Role::Guardian,
                department: None,
            });
            guardians[g].clone()
        }
        None => AccountId::from_uuid(uuid::Uuid::new_v4()),
    };
    Actor {
        account_id,
        memberships,
        break_glass: plan
            .break_glass
            .iter()
            .filter_map(|i| ids.get(*i))
            .map(|id| ("child".to_string(), id.to_string()))
            .collect(),
    }
}

async fn check(app: &TestApp, world: &World, plan: &Scenario) -> Result<(), String> {
    let ids = write(app, world, plan).await;
    let case: BTreeSet<&ChildId> = ids.iter().collect();
    let today = world.clock.today_jst();
    for actor_plan in &plan.actors {
        let actor = actor_of(world, actor_plan, &ids);
        let scope = scope_filter(&actor, Permission::ReadChild);
        let (listed, _) =
            children::list(&app.db, &scope, &ListFilter::default(), today, 100_000, 0)
                .await
                .map_err(|e| e.to_string())?;
        let listed: BTreeSet<&ChildId> = listed
            .iter()
            .map(|c| &c.id)
            .filter_map(|id| case.get(id).copied())
            .collect();
        let mut allowed = BTreeSet::new();
        for id in &ids {
            let (_, target) = children::get(&app.db, id, today)
                .await
                .map_err(|e| e.to_string())?
                .ok_or("a child just written is missing")?;
            match may(&actor, Permission::ReadChild, Some(&target)) {
                Decision::Allow(Basis::Scope(_)) => {
                    allowed.insert(id);
                }
                // Break-glass opens the one record; it never lists it.
                Decision::Allow(Basis::BreakGlass) | Decision::Deny => {}
            }
        }
        if listed != allowed {
            return Err(format!(
                "actor {actor_plan:?}: listed {} children, may allows {}; listed only: {:?}; allowed only: {:?}",
                listed.len(),
                allowed.len(),
                listed.difference(&allowed).collect::<Vec<_>>(),
                allowed.difference(&listed).collect::<Vec<_>>(),
            ));
        }
    }
    Ok(())
}

#[test]
fn a_child_is_listed_exactly_when_the_policy_lets_the_actor_read_it() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let (app, world) = runtime.block_on(world());
    let mut runner = TestRunner::new(Config {
        cases: 40,
        // Shrinking writes more children into the same database; a few steps suffice.
        max_shrink_iters: 64,
        failure_persistence: None,
        ..Config::default()
    });
    let result = runner.run(&scenario(), |plan| {
        runtime
            .block_on(check(&app, &world, &plan))
            .map_err(TestCaseError::fail)
    });
    if let Err(err) = result {
        panic!("{err}");
    }
}
