//! Organisations that will hold accounts: municipal departments, support centres,
//! consultation offices, facilities, mentor offices, hospitals, councils.

pub mod repo;

pub use repo::{NewOrganisation, Organisation, create, in_municipality};

use serde::Serialize;

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
}

impl OrganisationKind {
    pub const ALL: [OrganisationKind; 8] = [
        Self::MunicipalDepartment,
        Self::SupportCenter,
        Self::ConsultationOffice,
        Self::Facility,
        Self::MentorOffice,
        Self::Hospital,
        Self::Council,
        Self::System,
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
        }
    }
}

/// The five municipal departments that work with 医療的ケア児.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
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
        Self::DisabilityWelfare,
        Self::Health,
        Self::Childcare,
        Self::Education,
        Self::Disaster,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::DisabilityWelfare => "disability_welfare",
            Self::Health => "health",
            Self::Childcare => "childcare",
            Self::Education => "education",
            Self::Disaster => "disaster",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|d| d.as_str() == text)
    }

    pub fn label_ja(self) -> &'static str {
        match self {
            Self::DisabilityWelfare => "障害福祉",
            Self::Health => "保健",
            Self::Childcare => "保育",
            Self::Education => "教育",
            Self::Disaster => "防災",
        }
    }
}
