//! The mutes page (`/mutes`, `GET /api/v1/mutes`): the mutes in force with
//! an Unmute button each, the latest ended ones, a form to mute a pattern,
//! and the latest delivery attempts of the alerts. The writes are
//! [`crate::writes::mutes`].

pub mod html;

use std::sync::Arc;

use axum::extract::State;

use crate::access::{ApiReader, PageReader};
use crate::pages::NoticeQuery;
use crate::reply::{self, JsonResult, LenientQuery, PageResult};
use crate::views::{self, MutesView};
use crate::Console;

/// `GET /mutes`.
pub(crate) async fn page(
    State(console): State<Arc<Console>>,
    PageReader(ctx): PageReader,
    LenientQuery(notice): LenientQuery<NoticeQuery>,
) -> PageResult {
    let notice = html::notice(&notice);
    reply::page(&ctx, views::mutes(&console.db), move |ctx, view| {
        html::render(ctx, view, notice.as_deref())
    })
    .await
}

/// `GET /api/v1/mutes`.
pub(crate) async fn api(
    State(console): State<Arc<Console>>,
    _: ApiReader,
) -> JsonResult<MutesView> {
    reply::json(views::mutes(&console.db)).await
}
