//! Importing children from CSV and Excel files.

use crate::auth::guard::Routes;

pub fn routes() -> Routes {
    Routes::new()
}
