//! The metrics (`/metrics`, `GET /api/v1/metrics`): every metric being
//! received, when it was last seen, its points in the window, whether it
//! is ionosphere-enabled, and its anomalies in its last 24 hours.

pub mod html;

use std::sync::Arc;

use axum::extract::State;

use crate::access::{ApiReader, PageReader};
use crate::reply::{self, ApiQuery, JsonResult, PageQuery, PageResult};
use crate::views::{self, MetricsQuery, MetricsView};
use crate::Console;

/// `GET /metrics`.
pub(crate) async fn page(
    State(console): State<Arc<Console>>,
    PageReader(ctx): PageReader,
    PageQuery(query): PageQuery<MetricsQuery>,
) -> PageResult {
    let view = views::metrics(&console.db, console.windows.as_deref(), query);
    reply::page(&ctx, view, html::render).await
}

/// `GET /api/v1/metrics`.
pub(crate) async fn api(
    State(console): State<Arc<Console>>,
    _: ApiReader,
    ApiQuery(query): ApiQuery<MetricsQuery>,
) -> JsonResult<MetricsView> {
    reply::json(views::metrics(
        &console.db,
        console.windows.as_deref(),
        query,
    ))
    .await
}
