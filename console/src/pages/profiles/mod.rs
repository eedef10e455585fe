//! Features profiles: the metrics that have them and one metric's profiles
//! with their graphs (`/profiles`, `GET /api/v1/profiles`), a profile's
//! page — what it matched, validate, disable — (`/profiles/{id}`,
//! `GET /api/v1/profiles/{id}`) and the side-by-side view that validates a
//! learnt profile against its parent (`/profiles/{id}/compare`). The
//! validate and disable forms are answered by
//! [`crate::writes::profiles`].

pub mod html;

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::Deserialize;
use uuid::Uuid;

use crate::access::{ApiReader, PageReader};
use crate::pages::{NoticeQuery, PageContext};
use crate::reply::{self, ApiQuery, JsonResult, LenientQuery, PageQuery, PageResult};
use crate::views::{self, ProfileView, ProfilesView, ViewError};
use crate::Console;

/// The query string of the profiles list.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct MetricQuery {
    /// A metric name or pattern.
    metric: Option<String>,
}

/// `GET /profiles`.
pub(crate) async fn index_page(
    State(console): State<Arc<Console>>,
    PageReader(ctx): PageReader,
    PageQuery(query): PageQuery<MetricQuery>,
) -> PageResult {
    let view = views::profiles(&console.db, query.metric);
    reply::graphs_page(&ctx, StatusCode::OK, view, html::render_index).await
}

/// `GET /api/v1/profiles`.
pub(crate) async fn index_api(
    State(console): State<Arc<Console>>,
    _: ApiReader,
    ApiQuery(query): ApiQuery<MetricQuery>,
) -> JsonResult<ProfilesView> {
    reply::json(views::profiles(&console.db, query.metric)).await
}

async fn profile_view(console: &Console, id: &str) -> Result<ProfileView, ViewError> {
    let id = Uuid::parse_str(id)
        .map_err(|e| ViewError::BadRequest(format!("{id:?} is not a profile id: {e}")))?;
    views::profile(
        &console.db,
        &console.writes.profiles,
        console.windows.as_ref(),
        id,
    )
    .await
}

/// `GET /profiles/{id}`: after a validate or disable (`?done=`), saying
/// so.
pub(crate) async fn page(
    State(console): State<Arc<Console>>,
    Path(id): Path<String>,
    PageReader(ctx): PageReader,
    LenientQuery(NoticeQuery { done, .. }): LenientQuery<NoticeQuery>,
) -> PageResult {
    let notice = done.map(|done| match done.as_str() {
        "disabled" => "Disabled (with its progeny). The page shows it once the projections have folded the events.",
        "validated" => "Validated. The page shows it once the projections have folded the event.",
        _ => "Done.",
    });
    let render =
        move |ctx: &PageContext, view: &ProfileView| html::render_profile(ctx, view, notice);
    reply::graphs_page(&ctx, StatusCode::OK, profile_view(&console, &id), render).await
}

/// `GET /api/v1/profiles/{id}`.
pub(crate) async fn api(
    State(console): State<Arc<Console>>,
    Path(id): Path<String>,
    _: ApiReader,
) -> JsonResult<ProfileView> {
    reply::json(profile_view(&console, &id)).await
}

/// `GET /profiles/{id}/compare`.
pub(crate) async fn compare_page(
    State(console): State<Arc<Console>>,
    Path(id): Path<String>,
    PageReader(ctx): PageReader,
) -> PageResult {
    let view = profile_view(&console, &id);
    reply::graphs_page(&ctx, StatusCode::OK, view, html::render_compare).await
}
