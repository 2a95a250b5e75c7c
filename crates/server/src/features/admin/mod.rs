//! Administration: organisations, accounts, the audit trail.

use crate::auth::guard::Routes;

pub fn routes() -> Routes {
    Routes::new()
}
