//! Who may do what: roles are named sets of permissions, each with a scope, kept as data
//! in [`ROLE_GRANTS`]. [`may`] is the one function that decides; pages, the API and the
//! exports all ask it, never a role name.

use serde::Serialize;

use crate::ids::{AccountId, OrganisationId};
use crate::municipality::MunicipalityCode;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    SystemAdmin,
    PrefectureAdmin,
    SupportCenterStaff,
    MunicipalStaff,
    Coordinator,
    MentorOffice,
    Mentor,
    FacilityStaff,
    Guardian,
    CouncilViewer,
}

impl Role {
    pub const ALL: [Role; 10] = [
        Role::SystemAdmin,
        Role::PrefectureAdmin,
        Role::SupportCenterStaff,
        Role::MunicipalStaff,
        Role::Coordinator,
        Role::MentorOffice,
        Role::Mentor,
        Role::FacilityStaff,
        Role::Guardian,
        Role::CouncilViewer,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::SystemAdmin => "system_admin",
            Role::PrefectureAdmin => "prefecture_admin",
            Role::SupportCenterStaff => "support_center_staff",
            Role::MunicipalStaff => "municipal_staff",
            Role::Coordinator => "coordinator",
            Role::MentorOffice => "mentor_office",
            Role::Mentor => "mentor",
            Role::FacilityStaff => "facility_staff",
            Role::Guardian => "guardian",
            Role::CouncilViewer => "council_viewer",
        }
    }

    pub fn parse(text: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.as_str() == text)
    }

    pub fn label_ja(self) -> &'static str {
        match self {
            Role::SystemAdmin => "システム管理者",
            Role::PrefectureAdmin => "都道府県管理者",
            Role::SupportCenterStaff => "医療的ケア児支援センター職員",
            Role::MunicipalStaff => "市区町村職員",
            Role::Coordinator => "医療的ケア児等コーディネーター",
            Role::MentorOffice => "メンター事務局",
            Role::Mentor => "ペアレントメンター",
            Role::FacilityStaff => "事業所職員",
            Role::Guardian => "保護者",
            Role::CouncilViewer => "協議会委員",
        }
    }

    /// Every role but the guardian's works with other people's data: two-factor is required.
    pub fn requires_two_factor(self) -> bool {
        self != Role::Guardian
    }
}

/// The five municipal departments that work with 医療的ケア児.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Department {
    DisabilityWelfare,
    Health,
    Childcare,
    Education,
    Disaster,
}

impl Department {
    pub const ALL: [Department; 5] = [
        Department::DisabilityWelfare,
        Department::Health,
        Department::Childcare,
        Department::Education,
        Department::Disaster,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Department::DisabilityWelfare => "disability_welfare",
            Department::Health => "health",
            Department::Childcare => "childcare",
            Department::Education => "education",
            Department::Disaster => "disaster",
        }
    }

    pub fn parse(text: &str) -> Option<Department> {
        Department::ALL.into_iter().find(|d| d.as_str() == text)
    }

    pub fn label_ja(self) -> &'static str {
        match self {
            Department::DisabilityWelfare => "障害福祉",
            Department::Health => "保健",
            Department::Childcare => "保育",
            Department::Education => "教育",
            Department::Disaster => "防災",
        }
    }
}

/// What can be done. Pages and API routes each name exactly one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Permission {
    /// Read a child's record (profile, care, guardians).
    ReadChild,
    /// Create or change a child's record.
    WriteChild,
    /// Export lists of children (CSV, Excel).
    ExportChildren,
    /// Record or withdraw a consent on a child's record (the family, or staff from paper).
    RecordConsent,
    /// Propose changes to contact and care details, for staff to confirm (the family).
    ProposeChange,
    /// Open a record outside one's scope for a limited time, with a reason.
    BreakGlass,
    /// See and revoke break-glass grants on one's own records.
    ReviewBreakGlass,
    /// Create and edit organisations.
    ManageOrganisations,
    /// Create accounts, assign roles, unlock, reset two-factor.
    ManageAccounts,
    /// Search and export the audit trail.
    ViewAudit,
    /// Aggregate reports with small cells suppressed.
    ViewAggregates,
    /// The resource directory as staff see it (staff-only fields included).
    ReadDirectory,
    /// Keep a service's entry in the directory: its care, capacity and vacancies.
    EditDirectory,
    /// Open, remind and close a survey round (資源調査) of the directory.
    RunSurvey,
    /// Record what a plan target needs beyond the directory (the 協議の場 held).
    KeepPlanRecords,
    /// Run the parent-mentor programme: its mentors, the applications, the consultations.
    ManageMentoring,
    /// Keep one's own mentor profile and availability, and see one's consultations.
    MentorConsult,
    /// Apply for a parent-mentor consultation as a family (signed in).
    ApplyMentoring,
}

impl Permission {
    pub fn label_ja(self) -> &'static str {
        match self {
            Permission::ReadChild => "児童記録の閲覧",
            Permission::WriteChild => "児童記録の登録・更新",
            Permission::ExportChildren => "児童一覧の出力",
            Permission::RecordConsent => "同意の記録・撤回",
            Permission::ProposeChange => "記録の変更の申出",
            Permission::BreakGlass => "緊急時の記録閲覧",
            Permission::ReviewBreakGlass => "緊急閲覧の確認・取消",
            Permission::ManageOrganisations => "組織の管理",
            Permission::ManageAccounts => "アカウントの管理",
            Permission::ViewAudit => "監査ログの閲覧",
            Permission::ViewAggregates => "集計の閲覧",
            Permission::ReadDirectory => "資源情報の閲覧（職員向け）",
            Permission::EditDirectory => "資源情報の更新",
            Permission::RunSurvey => "資源調査の実施",
            Permission::KeepPlanRecords => "計画目標の記録",
            Permission::ManageMentoring => "ペアレントメンター事業の運営",
            Permission::MentorConsult => "メンターとしての相談対応",
            Permission::ApplyMentoring => "ペアレントメンターへの相談の申込",
        }
    }
}

/// How far a permission reaches, narrowest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Scope {
    /// Records of the guardian's own children.
    OwnRecords,
    /// Records owned by, or shared with, the member's organisation.
    OwnOrganisation,
    /// Records of the organisation's municipality.
    OwnMunicipality,
    /// Records anywhere in the organisation's prefecture.
    Prefecture,
    /// Everywhere.
    Everything,
}

use Permission as P;
use Scope as S;

/// The role table. Revised 2026-11-21 from the issue "Accounts, two-factor login, roles…"
/// and DOMAIN.md (rights by job, MHLW guideline 6.0). System administrators manage
/// accounts and the audit trail but never read children's records.
pub const ROLE_GRANTS: &[(Role, &[(Permission, Scope)])] = &[
    (
        Role::SystemAdmin,
        &[
            (P::ManageOrganisations, S::Everything),
            (P::ManageAccounts, S::Everything),
            (P::ViewAudit, S::Everything),
        ],
    ),
    (
        Role::PrefectureAdmin,
        &[
            (P::ManageOrganisations, S::Prefecture),
            (P::ManageAccounts, S::Prefecture),
            (P::ViewAudit, S::Prefecture),
            (P::ViewAggregates, S::Prefecture),
            (P::ReadDirectory, S::Prefecture),
            (P::RunSurvey, S::Prefecture),
            (P::KeepPlanRecords, S::Prefecture),
        ],
    ),
    (
        Role::SupportCenterStaff,
        &[
            // Across the prefecture's municipalities, but only the children whose families
            // consented to share with the centre (a named outside organisation).
            (P::ReadChild, S::OwnOrganisation),
            (P::WriteChild, S::OwnOrganisation),
            (P::ExportChildren, S::OwnOrganisation),
            (P::RecordConsent, S::OwnOrganisation),
            (P::BreakGlass, S::Prefecture),
            (P::ReviewBreakGlass, S::OwnOrganisation),
            (P::ViewAggregates, S::Prefecture),
            (P::ReadDirectory, S::Prefecture),
            (P::EditDirectory, S::OwnOrganisation),
            (P::RunSurvey, S::Prefecture),
            (P::KeepPlanRecords, S::Prefecture),
        ],
    ),
    (
        Role::MunicipalStaff,
        &[
            (P::ReadChild, S::OwnMunicipality),
            (P::WriteChild, S::OwnMunicipality),
            (P::ExportChildren, S::OwnMunicipality),
            (P::RecordConsent, S::OwnMunicipality),
            (P::BreakGlass, S::Prefecture),
            (P::ReviewBreakGlass, S::OwnMunicipality),
            (P::ViewAggregates, S::OwnMunicipality),
            // The town keeps the entries of facilities that do not use tsunagu.
            (P::ReadDirectory, S::Prefecture),
            (P::EditDirectory, S::OwnMunicipality),
            (P::RunSurvey, S::OwnMunicipality),
            (P::KeepPlanRecords, S::OwnMunicipality),
        ],
    ),
    (
        Role::Coordinator,
        &[
            (P::ReadChild, S::OwnOrganisation),
            (P::WriteChild, S::OwnOrganisation),
            (P::ExportChildren, S::OwnOrganisation),
            (P::RecordConsent, S::OwnOrganisation),
            (P::ReviewBreakGlass, S::OwnOrganisation),
            (P::ReadDirectory, S::Prefecture),
            (P::EditDirectory, S::OwnOrganisation),
        ],
    ),
    (
        Role::MentorOffice,
        &[
            (P::ViewAggregates, S::Prefecture),
            (P::ReadDirectory, S::Prefecture),
            (P::ManageMentoring, S::Prefecture),
        ],
    ),
    (Role::Mentor, &[(P::MentorConsult, S::OwnOrganisation)]),
    (
        Role::FacilityStaff,
        &[
            (P::ReadChild, S::OwnOrganisation),
            // Their own entries, nobody else's; the rest of the directory to refer onward.
            (P::ReadDirectory, S::Prefecture),
            (P::EditDirectory, S::OwnOrganisation),
        ],
    ),
    (
        Role::Guardian,
        &[
            (P::ReadChild, S::OwnRecords),
            (P::RecordConsent, S::OwnRecords),
            (P::ProposeChange, S::OwnRecords),
            (P::ApplyMentoring, S::OwnRecords),
        ],
    ),
    (
        Role::CouncilViewer,
        &[
            (P::ViewAggregates, S::OwnMunicipality),
            (P::ReadDirectory, S::Prefecture),
        ],
    ),
];

/// The widest scope a role has for a permission, if any.
pub fn scope_of(role: Role, permission: Permission) -> Option<Scope> {
    ROLE_GRANTS
        .iter()
        .find(|(r, _)| *r == role)
        .and_then(|(_, grants)| {
            grants
                .iter()
                .filter(|(p, _)| *p == permission)
                .map(|(_, s)| *s)
                .max()
        })
}

/// One organisation membership of the person acting.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Membership {
    pub organisation_id: OrganisationId,
    pub municipality_code: MunicipalityCode,
    pub role: Role,
    pub department: Option<Department>,
}

/// Who is acting: the account, its memberships and its open break-glass grants.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    pub account_id: AccountId,
    pub memberships: Vec<Membership>,
    /// `(resource_type, resource_id)` of unexpired, unrevoked break-glass grants.
    pub break_glass: Vec<(String, String)>,
}

/// A record that belongs somewhere: its owner organisation and municipality, the
/// organisations it is shared with, and (for a child) the guardians' accounts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub resource_type: String,
    pub resource_id: String,
    pub owner_organisation_id: OrganisationId,
    pub municipality_code: MunicipalityCode,
    /// Organisations the record is shared with: by an active consent naming them, or by
    /// referral or transfer.
    pub shared_with: Vec<OrganisationId>,
    /// Departments of the child's municipality the family has consented to share with.
    pub consented_departments: Vec<Department>,
    pub guardian_account_ids: Vec<AccountId>,
}

/// What a department consent is matched on: `municipality-code:department`.
pub fn department_key(municipality: &MunicipalityCode, department: Department) -> String {
    format!("{municipality}:{}", department.as_str())
}

/// Why access was allowed, for the audit trail.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Basis {
    Scope(Scope),
    BreakGlass,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    Allow(Basis),
    Deny,
}

impl Decision {
    pub fn allowed(self) -> bool {
        matches!(self, Decision::Allow(_))
    }
}

fn within(
    scope: Scope,
    permission: Permission,
    actor: &Actor,
    membership: &Membership,
    target: &Target,
) -> bool {
    let owns = target.owner_organisation_id == membership.organisation_id;
    // Sharing is seeing: a family's consent to share (or a share) lets an organisation read
    // the record, never change it, record or withdraw its consents, or widen who sees it.
    // Those stay with the owner (and the family, through their own scope).
    let shared = if matches!(
        permission,
        Permission::WriteChild | Permission::RecordConsent | Permission::EditDirectory
    ) {
        owns
    } else {
        owns || target.shared_with.contains(&membership.organisation_id)
    };
    match scope {
        Scope::OwnRecords => target.guardian_account_ids.contains(&actor.account_id),
        Scope::OwnOrganisation => shared,
        // Other departments of the town see a child only with the family's consent to
        // share with that department (APPI: 要配慮個人情報 needs consent to be shared).
        Scope::OwnMunicipality => {
            shared
                // A town keeps the directory entries of services located in it, runs its
                // surveys, keeps its plan records and sees its own figures.
                || (matches!(
                    permission,
                    Permission::EditDirectory
                        | Permission::RunSurvey
                        | Permission::KeepPlanRecords
                        | Permission::ViewAggregates
                ) && target.municipality_code == membership.municipality_code)
                || (matches!(
                    permission,
                    Permission::ReadChild | Permission::ExportChildren
                ) && target.municipality_code == membership.municipality_code
                    && membership
                        .department
                        .is_some_and(|d| target.consented_departments.contains(&d)))
        }
        Scope::Prefecture => {
            shared
                || target.municipality_code.prefecture_number()
                    == membership.municipality_code.prefecture_number()
        }
        Scope::Everything => true,
    }
}

impl Target {
    /// A place rather than a record (a town's figures, its survey, its plan records):
    /// owned by no organisation, so only a scope that reaches the place fits.
    pub fn place(resource_type: &str, municipality_code: MunicipalityCode) -> Target {
        Target {
            resource_type: resource_type.to_string(),
            resource_id: municipality_code.to_string(),
            owner_organisation_id: OrganisationId::from_stored(String::new()),
            municipality_code,
            shared_with: Vec::new(),
            consented_departments: Vec::new(),
            guardian_account_ids: Vec::new(),
        }
    }
}

/// The one decision. Without a target: may the actor use this permission at all (to show
/// a page or a menu item). With a target: may the actor use it on this record. A break-glass
/// grant opens reading one record only, and only while the actor holds `BreakGlass` with a
/// scope that reaches the record (staff: their prefecture).
pub fn may(actor: &Actor, permission: Permission, target: Option<&Target>) -> Decision {
    let mut best: Option<Scope> = None;
    for membership in &actor.memberships {
        let Some(scope) = scope_of(membership.role, permission) else {
            continue;
        };
        let fits = target.is_none_or(|t| within(scope, permission, actor, membership, t));
        if fits && best.is_none_or(|b| scope < b) {
            // Record the narrowest scope that suffices: the most telling basis for the audit.
            best = Some(scope);
        }
    }
    if let Some(scope) = best {
        return Decision::Allow(Basis::Scope(scope));
    }
    if let Some(t) = target
        && permission == Permission::ReadChild
        && actor
            .break_glass
            .iter()
            .any(|(kind, id)| *kind == t.resource_type && *id == t.resource_id)
        && may(actor, Permission::BreakGlass, Some(t)).allowed()
    {
        return Decision::Allow(Basis::BreakGlass);
    }
    Decision::Deny
}

/// The family (a guardian of the child) or a member of the owner organisation: who may see
/// a record's access history, beyond reading the record.
pub fn is_family_or_owner(actor: &Actor, target: &Target) -> bool {
    target.guardian_account_ids.contains(&actor.account_id)
        || actor
            .memberships
            .iter()
            .any(|m| m.organisation_id == target.owner_organisation_id)
}

/// Which membership may register a new record living in `municipality`, if any. A new
/// record is owned by that membership's organisation, so ownership cannot be what makes it
/// fit: the place decides. Organisation-wide writers (consultation offices, the support
/// centre) serve their prefecture; municipal staff their own municipality.
pub fn registering_membership<'a>(
    actor: &'a Actor,
    permission: Permission,
    municipality: &MunicipalityCode,
) -> Option<&'a Membership> {
    actor
        .memberships
        .iter()
        .find(|m| match scope_of(m.role, permission) {
            Some(Scope::Everything) => true,
            Some(Scope::Prefecture | Scope::OwnOrganisation) => {
                m.municipality_code.prefecture_number() == municipality.prefecture_number()
            }
            Some(Scope::OwnMunicipality) => m.municipality_code == *municipality,
            Some(Scope::OwnRecords) | None => false,
        })
}

/// The same grants as [`may`], turned into what a list query filters on: a record is in
/// reach when it matches any of these. Ids are listed as `|a|b|` so one SQL statement can
/// test membership with `LIKE` on both backends.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ScopeFilter {
    pub everything: bool,
    pub prefectures: Vec<String>,
    /// Records owned by these organisations, or shared with them.
    pub organisations: Vec<OrganisationId>,
    /// [`department_key`]s: records of that municipality whose family consented to share
    /// with that department.
    pub department_keys: Vec<String>,
    pub guardian_account_id: Option<AccountId>,
}

impl ScopeFilter {
    pub fn is_empty(&self) -> bool {
        !self.everything
            && self.prefectures.is_empty()
            && self.organisations.is_empty()
            && self.department_keys.is_empty()
            && self.guardian_account_id.is_none()
    }

    /// `|x|y|`, or an empty string when there is nothing.
    pub fn joined<T: AsRef<str>>(values: &[T]) -> String {
        if values.is_empty() {
            String::new()
        } else {
            let parts: Vec<&str> = values.iter().map(AsRef::as_ref).collect();
            format!("|{}|", parts.join("|"))
        }
    }
}

pub fn scope_filter(actor: &Actor, permission: Permission) -> ScopeFilter {
    let mut filter = ScopeFilter::default();
    for membership in &actor.memberships {
        let Some(scope) = scope_of(membership.role, permission) else {
            continue;
        };
        // Every scope wider than a guardian's includes what is owned by or shared with the organisation.
        if scope != Scope::OwnRecords {
            filter
                .organisations
                .push(membership.organisation_id.clone());
        }
        match scope {
            Scope::OwnRecords => filter.guardian_account_id = Some(actor.account_id.clone()),
            Scope::OwnOrganisation => {}
            Scope::OwnMunicipality => {
                if let Some(department) = membership.department {
                    filter
                        .department_keys
                        .push(department_key(&membership.municipality_code, department));
                }
            }
            Scope::Prefecture => filter.prefectures.push(format!(
                "{:02}",
                membership.municipality_code.prefecture_number()
            )),
            Scope::Everything => filter.everything = true,
        }
    }
    filter
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code(c: &str) -> MunicipalityCode {
        MunicipalityCode::parse(c).unwrap()
    }

    fn actor(role: Role, org: &str, municipality: &str) -> Actor {
        Actor {
            account_id: AccountId::from_stored(format!("acct-{org}")),
            memberships: vec![Membership {
                organisation_id: OrganisationId::from_stored(org.into()),
                municipality_code: code(municipality),
                role,
                department: None,
            }],
            break_glass: vec![],
        }
    }

    fn child(owner: &str, municipality: &str) -> Target {
        Target {
            resource_type: "child".into(),
            resource_id: "c1".into(),
            owner_organisation_id: OrganisationId::from_stored(owner.into()),
            municipality_code: code(municipality),
            shared_with: vec![],
            consented_departments: vec![],
            guardian_account_ids: vec![AccountId::from_stored("guardian-1".into())],
        }
    }

    fn department_staff(org: &str, department: Department) -> Actor {
        let mut staff = actor(Role::MunicipalStaff, org, ITABASHI);
        staff.memberships[0].department = Some(department);
        staff
    }

    const ITABASHI: &str = "131199";
    const NERIMA: &str = "131202";
    const SAPPORO: &str = "011002";

    #[test]
    fn departments_read_their_municipality_only_with_consent() {
        let owner = department_staff("itabashi-welfare", Department::DisabilityWelfare);
        let childcare = department_staff("itabashi-childcare", Department::Childcare);
        let mut record = child("itabashi-welfare", ITABASHI);
        // The owner department always reads its record; another department needs consent.
        assert!(may(&owner, P::ReadChild, Some(&record)).allowed());
        assert_eq!(may(&childcare, P::ReadChild, Some(&record)), Decision::Deny);
        record.consented_departments.push(Department::Health);
        assert_eq!(may(&childcare, P::ReadChild, Some(&record)), Decision::Deny);
        record.consented_departments.push(Department::Childcare);
        assert_eq!(
            may(&childcare, P::ReadChild, Some(&record)),
            Decision::Allow(Basis::Scope(S::OwnMunicipality))
        );
        // Consent shares the record to be seen: changing it and its consents stays with
        // the owner.
        for permission in [P::WriteChild, P::RecordConsent] {
            assert_eq!(may(&childcare, permission, Some(&record)), Decision::Deny);
            assert!(may(&owner, permission, Some(&record)).allowed());
        }
        // Consent to 板橋区's 保育 does not reach 練馬区's 保育.
        let mut nerima = actor(Role::MunicipalStaff, "nerima-childcare", NERIMA);
        nerima.memberships[0].department = Some(Department::Childcare);
        assert_eq!(may(&nerima, P::ReadChild, Some(&record)), Decision::Deny);
        // Withdrawal: the same record without the department is closed again.
        record.consented_departments.clear();
        assert_eq!(may(&childcare, P::ReadChild, Some(&record)), Decision::Deny);
    }

    #[test]
    fn sharing_extends_an_organisation_scope() {
        let facility = actor(Role::FacilityStaff, "hidamari", ITABASHI);
        let mut record = child("itabashi-welfare", ITABASHI);
        assert_eq!(may(&facility, P::ReadChild, Some(&record)), Decision::Deny);
        record
            .shared_with
            .push(OrganisationId::from_stored("hidamari".into()));
        assert_eq!(
            may(&facility, P::ReadChild, Some(&record)),
            Decision::Allow(Basis::Scope(S::OwnOrganisation))
        );
        assert_eq!(may(&facility, P::WriteChild, Some(&record)), Decision::Deny);
    }

    #[test]
    fn guardians_see_their_own_children_only() {
        let mut guardian = actor(Role::Guardian, "family", ITABASHI);
        guardian.account_id = AccountId::from_stored("guardian-1".into());
        assert!(
            may(
                &guardian,
                P::ReadChild,
                Some(&child("itabashi-welfare", ITABASHI))
            )
            .allowed()
        );
        guardian.account_id = AccountId::from_stored("guardian-2".into());
        assert!(
            !may(
                &guardian,
                P::ReadChild,
                Some(&child("itabashi-welfare", ITABASHI))
            )
            .allowed()
        );
    }

    #[test]
    fn support_centre_reads_what_families_shared_with_it() {
        let centre = actor(Role::SupportCenterStaff, "tokyo-centre", "130001");
        let mut record = child("nerima-welfare", NERIMA);
        assert!(!may(&centre, P::ReadChild, Some(&record)).allowed());
        record
            .shared_with
            .push(OrganisationId::from_stored("tokyo-centre".into()));
        assert!(may(&centre, P::ReadChild, Some(&record)).allowed());
        assert!(may(&centre, P::ExportChildren, Some(&record)).allowed());
        // A consent to share is not a right to change: not the record, not its consents.
        for permission in [P::WriteChild, P::RecordConsent] {
            assert_eq!(may(&centre, permission, Some(&record)), Decision::Deny);
        }
        let coordinator = actor(Role::Coordinator, "consultation", ITABASHI);
        record
            .shared_with
            .push(OrganisationId::from_stored("consultation".into()));
        assert!(may(&coordinator, P::ReadChild, Some(&record)).allowed());
        assert_eq!(
            may(&coordinator, P::WriteChild, Some(&record)),
            Decision::Deny
        );
        // What the centre owns, it changes.
        let own = child("tokyo-centre", NERIMA);
        assert!(may(&centre, P::WriteChild, Some(&own)).allowed());
        // Break-glass still reaches the whole prefecture, and only it.
        assert!(
            may(
                &centre,
                P::BreakGlass,
                Some(&child("nerima-welfare", NERIMA))
            )
            .allowed()
        );
        assert!(!may(&centre, P::BreakGlass, Some(&child("sapporo", SAPPORO))).allowed());
    }

    #[test]
    fn system_admin_never_reads_children() {
        let admin = actor(Role::SystemAdmin, "system", "130001");
        assert!(!may(&admin, P::ReadChild, None).allowed());
        assert!(may(&admin, P::ManageAccounts, None).allowed());
    }

    #[test]
    fn break_glass_opens_one_record_for_reading_only() {
        let mut staff = actor(Role::MunicipalStaff, "itabashi-welfare", ITABASHI);
        let record = child("nerima-welfare", NERIMA);
        staff.break_glass.push(("child".into(), "c1".into()));
        assert_eq!(
            may(&staff, P::ReadChild, Some(&record)),
            Decision::Allow(Basis::BreakGlass)
        );
        assert_eq!(may(&staff, P::WriteChild, Some(&record)), Decision::Deny);
        let mut other = record.clone();
        other.resource_id = "c2".into();
        assert_eq!(may(&staff, P::ReadChild, Some(&other)), Decision::Deny);
        // A grant beyond the reach of the role's BreakGlass (another prefecture) opens nothing.
        let mut far = child("sapporo", SAPPORO);
        far.resource_id = "c3".into();
        staff.break_glass.push(("child".into(), "c3".into()));
        assert_eq!(may(&staff, P::ReadChild, Some(&far)), Decision::Deny);
        // A role without BreakGlass gains nothing from a stray grant.
        let mut facility = actor(Role::FacilityStaff, "hidamari", ITABASHI);
        facility.break_glass.push(("child".into(), "c1".into()));
        assert_eq!(may(&facility, P::ReadChild, Some(&record)), Decision::Deny);
    }

    #[test]
    fn new_records_are_placed_by_municipality_not_by_ownership() {
        let staff = actor(Role::MunicipalStaff, "itabashi-welfare", ITABASHI);
        assert!(registering_membership(&staff, P::WriteChild, &code(ITABASHI)).is_some());
        assert!(registering_membership(&staff, P::WriteChild, &code(NERIMA)).is_none());
        let office = actor(Role::Coordinator, "consultation", ITABASHI);
        assert!(registering_membership(&office, P::WriteChild, &code(NERIMA)).is_some());
        assert!(registering_membership(&office, P::WriteChild, &code(SAPPORO)).is_none());
        let facility = actor(Role::FacilityStaff, "hidamari", ITABASHI);
        assert!(registering_membership(&facility, P::WriteChild, &code(ITABASHI)).is_none());
    }

    #[test]
    fn list_filters_follow_the_same_grants() {
        let staff = department_staff("itabashi-welfare", Department::DisabilityWelfare);
        let filter = scope_filter(&staff, P::ReadChild);
        assert_eq!(
            filter.department_keys,
            vec![format!("{ITABASHI}:disability_welfare")]
        );
        assert_eq!(
            filter.organisations,
            vec![OrganisationId::from_stored("itabashi-welfare".into())]
        );
        assert!(!filter.everything && filter.prefectures.is_empty());
        let centre = actor(Role::SupportCenterStaff, "tokyo-centre", "130001");
        let centre_filter = scope_filter(&centre, P::ReadChild);
        assert_eq!(
            centre_filter.organisations,
            vec![OrganisationId::from_stored("tokyo-centre".into())]
        );
        assert!(centre_filter.prefectures.is_empty());
        assert!(scope_filter(&actor(Role::SystemAdmin, "s", "130001"), P::ReadChild).is_empty());
        assert_eq!(ScopeFilter::joined(&["a", "b"]), "|a|b|");
    }

    #[test]
    fn nobody_without_membership_may_anything() {
        let nobody = Actor {
            account_id: AccountId::from_stored("nobody".into()),
            memberships: vec![],
            break_glass: vec![],
        };
        for (_, grants) in ROLE_GRANTS {
            for (permission, _) in *grants {
                assert_eq!(may(&nobody, *permission, None), Decision::Deny);
            }
        }
    }

    #[test]
    fn every_role_is_in_the_table_once_and_staff_need_two_factor() {
        for role in Role::ALL {
            assert_eq!(
                ROLE_GRANTS.iter().filter(|(r, _)| *r == role).count(),
                1,
                "{role:?}"
            );
            assert_eq!(Role::parse(role.as_str()), Some(role));
        }
        assert!(!Role::Guardian.requires_two_factor());
        assert!(Role::MunicipalStaff.requires_two_factor());
    }
}
