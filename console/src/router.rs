//! The console's routes — every URL it answers, in one table — and the
//! headers every response carries.
//!
//! Who may use each route is the handler's first extractor (see
//! [`crate::access`]): pages and `GET /api/v1/...` read, everything else
//! writes. The handlers live with what they serve: one module per page in
//! [`crate::pages`], each with its HTML page and its JSON twin; the writes
//! in [`crate::writes`]; the static files in `assets`.

use std::sync::Arc;

use axum::http::{header, HeaderValue};
use axum::response::{Redirect, Response};
use axum::routing::{get, post};
use axum::Router;

use crate::pages::{
    anomalies, login, matches, metrics, mutes, profiles, seasonal, system, training,
};
use crate::writes::profiles::{self as profile_actions, Disable, Validate};
use crate::writes::{labels, mutes as mute_actions};
use crate::{assets, Console};

/// The console's routes over `console`.
pub fn router(console: Arc<Console>) -> Router {
    Router::new()
        .route("/", get(|| async { Redirect::to(login::DEFAULT_NEXT) }))
        .route("/login", get(login::page).post(login::login))
        .route("/logout", post(login::logout))
        .route("/anomalies", get(anomalies::page))
        .route("/anomalies/{id}", get(training::page))
        .route("/anomalies/{id}/label", post(labels::form))
        .route("/anomalies/{id}/graph.png", get(training::graph_png))
        .route("/profiles", get(profiles::index_page))
        .route("/profiles/{id}", get(profiles::page))
        .route("/profiles/{id}/compare", get(profiles::compare_page))
        .route(
            "/profiles/{id}/disable",
            post(profile_actions::form::<Disable>),
        )
        .route(
            "/profiles/{id}/validate",
            post(profile_actions::form::<Validate>),
        )
        .route("/matches", get(matches::page))
        .route("/metrics", get(metrics::page))
        .route("/seasonal", get(seasonal::page))
        .route("/mutes", get(mutes::page).post(mute_actions::form))
        .route("/system", get(system::page))
        .route("/mutes/{id}/unmute", post(mute_actions::unmute_form))
        .route("/assets/console.css", get(assets::css))
        .route("/assets/console.js", get(assets::js))
        .route("/api/v1/openapi.json", get(assets::openapi))
        .route("/api/v1/anomalies", get(anomalies::api))
        .route("/api/v1/anomalies/{id}", get(training::api))
        .route("/api/v1/profiles", get(profiles::index_api))
        .route("/api/v1/profiles/{id}", get(profiles::api))
        .route("/api/v1/matches", get(matches::api))
        .route("/api/v1/metrics", get(metrics::api))
        .route("/api/v1/seasonal", get(seasonal::api))
        .route("/api/v1/mutes", get(mutes::api).post(mute_actions::post))
        .route("/api/v1/system", get(system::api))
        .route("/api/v1/mutes/{id}/unmute", post(mute_actions::post_unmute))
        .route("/api/v1/labels", post(labels::post))
        .route(
            "/api/v1/profiles/{id}/disable",
            post(profile_actions::post::<Disable>),
        )
        .route(
            "/api/v1/profiles/{id}/validate",
            post(profile_actions::post::<Validate>),
        )
        .layer(axum::middleware::map_response(security_headers))
        .with_state(console)
}

/// Headers every response carries: no framing, no sniffing, and a content
/// policy that allows nothing from elsewhere (the console needs no
/// network), nor inline scripts.
async fn security_headers(mut response: Response) -> Response {
    let h = response.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; \
             frame-ancestors 'none'; form-action 'self'; base-uri 'none'",
        ),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    response
}
