//! What reaches a child besides its owner: the family's consents (to organisations, to
//! departments of its town, for the registry, disaster plans and mentors), shares with
//! organisations, and the family's own accounts. Decided here only: the child's record
//! and every list compose this feature's reach (its SQL fragments in [`repo`]); the policy
//! (`tsunagu_core::access::may`) decides on what they return. The consents page is part of
//! the child's record (`features::children::consents`).

pub mod repo;

pub use repo::{
    Consent, LinkedGuardian, NewConsent, Purpose, active, add_guardian, for_child,
    linked_guardians, reassign, record, remove_guardian, share, withdraw,
};
pub(crate) use repo::{
    consent_in_force, of_the_childs_town, reach_by_consent, reach_by_guardian, reach_by_share,
    reach_rows,
};
