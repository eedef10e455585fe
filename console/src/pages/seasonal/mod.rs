//! The seasonal page (`/seasonal`, `GET /api/v1/seasonal`): how many
//! seasonal (Mirage) verdicts of each outcome and reason, and the latest
//! verdicts — cleared, confirmed and skipped alike, so that a skipped
//! check is seen rather than silently dropped. An anomaly's own verdict,
//! with the series judged, is on its page ([`super::training`]).

pub mod html;

use std::sync::Arc;

use axum::extract::State;

use crate::access::{ApiReader, PageReader};
use crate::reply::{self, JsonResult, PageResult};
use crate::views::{self, SeasonalView};
use crate::Console;

/// `GET /seasonal`.
pub(crate) async fn page(
    State(console): State<Arc<Console>>,
    PageReader(ctx): PageReader,
) -> PageResult {
    reply::page(&ctx, views::seasonal(&console.db), html::render).await
}

/// `GET /api/v1/seasonal`.
pub(crate) async fn api(
    State(console): State<Arc<Console>>,
    _: ApiReader,
) -> JsonResult<SeasonalView> {
    reply::json(views::seasonal(&console.db)).await
}
