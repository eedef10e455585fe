//! The anomalies list (`/anomalies`, `GET /api/v1/anomalies`): newest
//! first, filtered by metric pattern, state and time range, with what each
//! anomaly came to.

pub mod html;

use std::sync::Arc;

use axum::extract::State;

use crate::access::{ApiReader, PageReader};
use crate::reply::{self, ApiQuery, JsonResult, PageQuery, PageResult};
use crate::views::{self, AnomaliesView, AnomalyQuery};
use crate::Console;

/// `GET /anomalies`.
pub(crate) async fn page(
    State(console): State<Arc<Console>>,
    PageReader(ctx): PageReader,
    PageQuery(query): PageQuery<AnomalyQuery>,
) -> PageResult {
    reply::page(&ctx, views::anomalies(&console.db, query), html::render).await
}

/// `GET /api/v1/anomalies`.
pub(crate) async fn api(
    State(console): State<Arc<Console>>,
    _: ApiReader,
    ApiQuery(query): ApiQuery<AnomalyQuery>,
) -> JsonResult<AnomaliesView> {
    reply::json(views::anomalies(&console.db, query)).await
}
