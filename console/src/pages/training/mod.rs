//! The training page of an anomaly (`/anomalies/{id}`,
//! `GET /api/v1/anomalies/{id}`): the series it was judged on with its
//! mean and 3σ band, the metric over longer durations, the algorithms
//! that fired, the metric's profiles, and the label form (which
//! [`crate::writes::labels`] answers).

pub mod html;

use std::sync::Arc;

use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use uuid::Uuid;

use crate::access::{ApiReader, PageReader};
use crate::pages::{NoticeQuery, PageContext};
use crate::reply::{self, JsonResult, LenientQuery, PageResult};
use crate::views::{self, GraphsAt, TrainingView, ViewError};
use crate::Console;
use html::FormState;

fn anomaly_id(id: &str) -> Result<Uuid, ViewError> {
    Uuid::parse_str(id).map_err(|e| ViewError::BadRequest(format!("{id:?} is not an id: {e}")))
}

/// `GET /anomalies/{id}`.
pub(crate) async fn page(
    State(console): State<Arc<Console>>,
    Path(id): Path<String>,
    PageReader(ctx): PageReader,
    LenientQuery(query): LenientQuery<NoticeQuery>,
) -> PageResult {
    let notice = match &query.labelled {
        Some(_) => Some(
            "Label saved. skyline makes the profile from it: it is listed below once learnt."
                .to_owned(),
        ),
        None => crate::pages::mutes::html::notice(&query),
    };
    let graphs = query.graphs;
    let form = FormState {
        notice,
        ..FormState::default()
    };
    let graphs_at = GraphsAt::parse(graphs.as_deref());
    show(&console, &ctx, &id, graphs_at, form, StatusCode::OK).await
}

/// The training page of anomaly `id` with the label form as `form` left
/// it, answered with `status`.
pub(crate) async fn show(
    console: &Console,
    ctx: &PageContext,
    id: &str,
    graphs_at: GraphsAt,
    form: FormState,
    status: StatusCode,
) -> PageResult {
    let view = async {
        let id = anomaly_id(id)?;
        let windows = console.windows.as_ref();
        views::training(&console.db, windows, &console.units, id, graphs_at).await
    };
    let render = move |ctx: &PageContext, view: &TrainingView| html::render(ctx, view, &form);
    reply::graphs_page(ctx, status, view, render).await
}

/// `GET /anomalies/{id}/graph.png`: the series the anomaly was judged on as
/// a PNG, with its mean, the 3σ band and the anomalous datapoint — the
/// graph an alert mail carries, for the links in webhook, Slack and
/// PagerDuty alerts. 404 when the anomaly has no judged series.
pub(crate) async fn graph_png(
    State(console): State<Arc<Console>>,
    Path(id): Path<String>,
    PageReader(ctx): PageReader,
) -> Result<Response, Response> {
    let refuse = |status: StatusCode, message: String| {
        reply::error_page(
            &ctx,
            status,
            status.canonical_reason().unwrap_or("Error"),
            &message,
        )
    };
    let id = anomaly_id(&id).map_err(|e| refuse(StatusCode::BAD_REQUEST, e.to_string()))?;
    // Only the anomaly and its judged series: none of the training page's
    // windows, profiles or mutes.
    let (detail, check) = views::judged(&console.db, id).await.map_err(|e| match e {
        ViewError::NotFound(m) => refuse(StatusCode::NOT_FOUND, m),
        ViewError::BadRequest(m) => refuse(StatusCode::BAD_REQUEST, m),
        ViewError::Unavailable(m) => refuse(StatusCode::SERVICE_UNAVAILABLE, m),
    })?;
    let a = &detail.anomaly;
    let Some(series) = check.map(|c| c.series) else {
        return Err(refuse(
            StatusCode::NOT_FOUND,
            format!("anomaly {id} has no judged series to draw"),
        ));
    };
    let options = graph::GraphOptions::alert((a.timestamp, a.value))
        .with_title(format!(
            "{} - anomalous value: {}",
            a.metric,
            graph::format_value(a.value)
        ))
        .with_unit(crate::units::unit_of(&console.units, &a.metric).as_deref());
    let drawn = tokio::task::spawn_blocking(move || graph::series_png(&series, &options)).await;
    match drawn {
        Ok(Ok(png)) => Ok(([(header::CONTENT_TYPE, "image/png")], png).into_response()),
        Ok(Err(e)) => Err(refuse(StatusCode::SERVICE_UNAVAILABLE, e.to_string())),
        Err(e) => Err(refuse(StatusCode::INTERNAL_SERVER_ERROR, e.to_string())),
    }
}

/// `GET /api/v1/anomalies/{id}`.
pub(crate) async fn api(
    State(console): State<Arc<Console>>,
    Path(id): Path<String>,
    _: ApiReader,
    query: Result<Query<NoticeQuery>, QueryRejection>,
) -> JsonResult<TrainingView> {
    // The id is checked before the query string.
    let id = anomaly_id(&id).map_err(reply::view_api)?;
    let Query(query) = query.map_err(reply::query_error)?;
    let graphs_at = GraphsAt::parse(query.graphs.as_deref());
    let windows = console.windows.as_ref();
    reply::json(views::training(
        &console.db,
        windows,
        &console.units,
        id,
        graphs_at,
    ))
    .await
}
