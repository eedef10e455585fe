//! The matches (`/matches`, `GET /api/v1/matches`): how each ionosphere
//! check was judged, by which profile and how closely, with the check's
//! series beside the profile's; training checks apart
//! (`?checks=training`).

pub mod html;

use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;

use crate::access::{ApiReader, PageReader};
use crate::reply::{self, ApiQuery, JsonResult, PageQuery, PageResult};
use crate::views::{self, MatchQuery, MatchesView};
use crate::Console;

/// `GET /matches`.
pub(crate) async fn page(
    State(console): State<Arc<Console>>,
    PageReader(ctx): PageReader,
    PageQuery(query): PageQuery<MatchQuery>,
) -> PageResult {
    let view = views::matches(&console.db, query);
    reply::graphs_page(&ctx, StatusCode::OK, view, html::render).await
}

/// `GET /api/v1/matches`.
pub(crate) async fn api(
    State(console): State<Arc<Console>>,
    _: ApiReader,
    ApiQuery(query): ApiQuery<MatchQuery>,
) -> JsonResult<MatchesView> {
    reply::json(views::matches(&console.db, query)).await
}
