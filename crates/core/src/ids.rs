//! Ids of records as their own types, so a child's id cannot be passed where an
//! organisation's is meant. Every id tsunagu makes is a UUID; an id typed or sent by a person
//! is [`parse`](ChildId::parse)d (and so can never reach SQL as anything but a UUID), an id
//! read back from the database is taken as stored.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize};

/// A text that is not the id of any record (the same answer as a record out of reach).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("記録の番号の形式が正しくありません")]
pub struct InvalidId;

/// What every id type offers the code that handles ids of any kind (the gate, the audit).
pub trait RecordId: Sized + Clone + fmt::Display + Send + Sync {
    /// An id as a person typed or sent it: a UUID, in any case, hyphenated.
    fn parse(text: &str) -> Result<Self, InvalidId>;
    fn from_stored(text: String) -> Self;
    fn as_str(&self) -> &str;
}

/// For `#[serde(deserialize_with = "…")]` on a record read back from the database as JSON
/// (a page of a list): taken as stored, like a column, and not parsed again per row.
pub fn stored<'de, D: Deserializer<'de>, T: RecordId>(deserializer: D) -> Result<T, D::Error> {
    String::deserialize(deserializer).map(T::from_stored)
}

macro_rules! record_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            /// An id as a person typed or sent it (see [`RecordId::parse`]).
            pub fn parse(text: &str) -> Result<Self, InvalidId> {
                uuid::Uuid::try_parse(text.trim())
                    .map(Self::from_uuid)
                    .map_err(|_| InvalidId)
            }

            /// A new id, from a UUID made by the caller (core makes no random numbers).
            pub fn from_uuid(id: uuid::Uuid) -> Self {
                Self(id.hyphenated().to_string())
            }

            /// An id read back from the database, where only ids tsunagu made are stored.
            pub fn from_stored(text: String) -> Self {
                Self(text)
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }

            pub fn into_string(self) -> String {
                self.0
            }
        }

        impl RecordId for $name {
            fn parse(text: &str) -> Result<Self, InvalidId> {
                $name::parse(text)
            }

            fn from_stored(text: String) -> Self {
                Self(text)
            }

            fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        /// For the places that keep ids of any kind as text (the audit trail, messages).
        impl From<$name> for String {
            fn from(id: $name) -> String {
                id.0
            }
        }

        impl From<&$name> for String {
            fn from(id: &$name) -> String {
                id.0.clone()
            }
        }

        /// Read as text wherever text is taken (a URL, a message); the other way round, text
        /// becomes an id only through [`parse`](Self::parse).
        impl std::ops::Deref for $name {
            type Target = str;

            fn deref(&self) -> &str {
                &self.0
            }
        }

        impl PartialEq<str> for $name {
            fn eq(&self, other: &str) -> bool {
                self.0 == other
            }
        }

        impl PartialEq<&str> for $name {
            fn eq(&self, other: &&str) -> bool {
                self.0 == *other
            }
        }

        impl PartialEq<$name> for String {
            fn eq(&self, other: &$name) -> bool {
                *self == other.0
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        impl std::str::FromStr for $name {
            type Err = InvalidId;

            fn from_str(text: &str) -> Result<Self, InvalidId> {
                Self::parse(text)
            }
        }

        /// From a request (a JSON body, a query): parsed, so a malformed id is refused at
        /// the edge.
        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
                Self::parse(&text).map_err(serde::de::Error::custom)
            }
        }
    };
}

record_id!(
    /// A child's record in the registry.
    ChildId
);
record_id!(
    /// An organisation: a municipal department, an office, a centre, a facility.
    OrganisationId
);
record_id!(
    /// A person's account (staff, mentor, guardian).
    AccountId
);
record_id!(
    /// A family's change request.
    ProposalId
);
record_id!(
    /// A consent a family gave (or withdrew).
    ConsentId
);
record_id!(
    /// An uploaded import, staged until committed.
    ImportId
);
record_id!(
    /// A notice in someone's notice area.
    NoticeId
);
record_id!(
    /// A service an organisation offers, in the resource directory.
    ServiceId
);
record_id!(
    /// A survey round (資源調査) of the resource directory.
    SurveyId
);
record_id!(
    /// A family's application for a parent-mentor consultation.
    ApplicationId
);
record_id!(
    /// A parent mentor of a programme's office.
    MentorId
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_id_parses_only_from_a_uuid_and_is_kept_in_one_spelling() {
        let id = ChildId::parse("  6F9619FF-8B86-D011-B42D-00C04FC964FF ").unwrap();
        assert_eq!(id.as_str(), "6f9619ff-8b86-d011-b42d-00c04fc964ff");
        for forged in [
            "",
            "1",
            "../etc/passwd",
            "6f9619ff' OR '1'='1",
            "６f9619ff-8b86-d011-b42d-00c04fc964ff",
        ] {
            assert_eq!(ChildId::parse(forged), Err(InvalidId), "{forged}");
        }
    }

    #[test]
    fn a_request_with_a_malformed_id_is_refused_when_read() {
        let ok: AccountId =
            serde_json::from_str("\"6f9619ff-8b86-d011-b42d-00c04fc964ff\"").unwrap();
        assert_eq!(
            serde_json::to_string(&ok).unwrap(),
            "\"6f9619ff-8b86-d011-b42d-00c04fc964ff\""
        );
        assert!(serde_json::from_str::<AccountId>("\"staff\"").is_err());
    }
}
