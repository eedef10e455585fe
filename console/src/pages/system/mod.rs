//! The System page (`/system`, `GET /api/v1/system`): skyline watching
//! itself — each service process's newest heartbeat (ready or why not,
//! lag, when last heard of), the checks stalled now, the metrics stale or
//! about to go stale now, the Analyzer's data sparsity, and the latest
//! system events. Folded by the `system` projection from `skyline.system`.

pub mod html;

use std::sync::Arc;

use axum::extract::State;

use crate::access::{ApiReader, PageReader};
use crate::reply::{self, JsonResult, PageResult};
use crate::views::{self, SystemView};
use crate::Console;

/// `GET /system`.
pub(crate) async fn page(
    State(console): State<Arc<Console>>,
    PageReader(ctx): PageReader,
) -> PageResult {
    reply::page(&ctx, views::system(&console.db), html::render).await
}

/// `GET /api/v1/system`.
pub(crate) async fn api(
    State(console): State<Arc<Console>>,
    _: ApiReader,
) -> JsonResult<SystemView> {
    reply::json(views::system(&console.db)).await
}
