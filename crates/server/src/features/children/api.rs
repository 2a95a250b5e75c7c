//! The children JSON API.

use crate::auth::guard::Routes;

pub fn routes() -> Routes {
    Routes::new()
}
