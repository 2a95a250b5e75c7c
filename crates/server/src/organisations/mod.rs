//! Organisations that hold accounts: municipal departments, support centres,
//! consultation offices, facilities, mentor offices, hospitals, councils, and each
//! municipality's families (a guardian's account belongs to no office).

pub mod repo;

pub use repo::{NewOrganisation, Organisation, create, families_of, in_municipality};

use serde::Serialize;
pub use tsunagu_core::access::Department;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum OrganisationKind {
    MunicipalDepartment,
    SupportCenter,
    ConsultationOffice,
    Facility,
    MentorOffice,
    Hospital,
    Council,
    System,
    /// A municipality's families: holds guardians' accounts only, never owns or receives a
    /// record, and is made by tsunagu when a family first gets an account.
    Family,
}

impl OrganisationKind {
    pub const ALL: [OrganisationKind; 9] = [
        Self::MunicipalDepartment,
        Self::SupportCenter,
        Self::ConsultationOffice,
        Self::Facility,
        Self::MentorOffice,
        Self::Hospital,
        Self::Council,
        Self::System,
        Self::Family,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::MunicipalDepartment => "municipal_department",
            Self::SupportCenter => "support_center",
            Self::ConsultationOffice => "consultation_office",
            Self::Facility => "facility",
            Self::MentorOffice => "mentor_office",
            Self::Hospital => "hospital",
            Self::Council => "council",
            Self::System => "system",
            Self::Family => "family",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == text)
    }

    pub fn label_ja(self) -> &'static str {
        match self {
            Self::MunicipalDepartment => "市区町村の担当課",
            Self::SupportCenter => "医療的ケア児支援センター",
            Self::ConsultationOffice => "相談支援事業所",
            Self::Facility => "事業所・施設",
            Self::MentorOffice => "ペアレントメンター事務局",
            Self::Hospital => "医療機関",
            Self::Council => "協議会",
            Self::System => "システム管理",
            Self::Family => "ご家族",
        }
    }

    /// Whether an administrator registers organisations of this kind by hand: families'
    /// organisations are made from a child's record, the operators' only by those who
    /// reach everything.
    pub fn registered_by_administrators(self, everything: bool) -> bool {
        match self {
            Self::Family => false,
            Self::System => everything,
            _ => true,
        }
    }
}
