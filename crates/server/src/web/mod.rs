//! What responses share: security headers, body limits, query and form parameters,
//! metrics. The page frame is `crate::view`; the router that puts the features together
//! is `crate::router`.

pub mod api_schema;
pub mod metrics;
pub mod params;
pub mod security;
