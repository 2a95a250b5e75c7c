//! The gaps of a region (課題抽出): the children who will need each kind of service against
//! the directory's services that fit them, per municipality and 圏域, and the plan targets
//! of the 障害児福祉計画 met or not. Counts only; small cells suppressed. `routes()` only.

pub mod pages;
pub mod repo;
pub mod service;

use tsunagu_core::access::Permission;

use crate::auth::guard::{Access, Routes};

pub fn routes() -> Routes {
    use Permission as P;
    Routes::new()
        .get("/gaps", Access::Permission(P::ViewAggregates), pages::page)
        .get(
            "/gaps/export.xlsx",
            Access::Permission(P::ViewAggregates),
            pages::export_xlsx,
        )
        .get(
            "/gaps/export.csv",
            Access::Permission(P::ViewAggregates),
            pages::export_csv,
        )
        .post(
            "/gaps/forums",
            Access::Permission(P::KeepPlanRecords),
            pages::record_forum,
        )
        .post(
            "/gaps/forums/remove",
            Access::Permission(P::KeepPlanRecords),
            pages::remove_forum,
        )
}
