//! The console's pages, one module each: its handlers — the HTML page and
//! its JSON twin under `/api/v1`, side by side — in `mod.rs`, its HTML in
//! `html.rs`. Each handler states who may ask (an extractor of
//! [`crate::access`]), gathers its [`crate::views`] value and hands it to
//! [`crate::reply`], which renders it or serves it as JSON.
//!
//! The HTML is rendered on the server with maud (which escapes every
//! interpolated value, so a metric named `<script>` shows as text); graphs
//! are inline SVG from [`crate::graph`]. The only script is
//! `/assets/console.js` (confirmations and the layers form's checks before
//! submit): every page works without it. This module holds what the pages
//! share: the frame around them ([`layout`]), the error page, and how
//! times, durations and values read.

pub mod anomalies;
pub mod login;
pub mod matches;
pub mod metrics;
pub mod mutes;
pub mod profiles;
pub mod seasonal;
pub mod system;
pub mod training;

use maud::{html, Markup, PreEscaped, DOCTYPE};
use serde::Deserialize;
use uuid::Uuid;

use crate::graph::{self, GraphOptions};

/// Who is looking, and whether they may write.
#[derive(Debug, Clone, Default)]
pub struct PageContext {
    /// The logged-in operator (`None`: anonymous, read-only).
    pub user: Option<String>,
    /// The session's CSRF token, for the forms.
    pub csrf: Option<String>,
}

impl PageContext {
    /// Whether the page may offer its forms (a logged-in operator).
    pub fn can_write(&self) -> bool {
        self.user.is_some() && self.csrf.is_some()
    }
}

/// The query string of the pages a write leads back to (the training and
/// profile pages): what to say was done, and where the graphs end.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct NoticeQuery {
    /// Set after a label was saved (its id).
    pub labelled: Option<String>,
    /// `disabled` or `validated`: what was done to the profile.
    pub done: Option<String>,
    /// `now`: the training page's graphs end at the newest data.
    pub graphs: Option<String>,
    /// Set after a mute was made (its id).
    pub muted: Option<String>,
    /// Set after a mute was ended (its id).
    pub unmuted: Option<String>,
}

/// The top navigation's sections.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Section {
    /// The anomalies and their training pages.
    Anomalies,
    /// The profiles.
    Profiles,
    /// The matches.
    Matches,
    /// The metrics.
    Metrics,
    /// The mutes and the latest deliveries.
    Mutes,
    /// The seasonal verdicts.
    Seasonal,
    /// skyline itself: heartbeats, stalls, stale metrics.
    System,
    /// None of them (the login and error pages).
    None,
}

/// The frame around every page.
pub fn layout(ctx: &PageContext, title: &str, section: Section, body: Markup) -> Markup {
    let nav = [
        (Section::Anomalies, "/anomalies", "Anomalies"),
        (Section::Profiles, "/profiles", "Profiles"),
        (Section::Matches, "/matches", "Matches"),
        (Section::Metrics, "/metrics", "Metrics"),
        (Section::Seasonal, "/seasonal", "Seasonal"),
        (Section::Mutes, "/mutes", "Mutes"),
        (Section::System, "/system", "System"),
    ];
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " · skyline" }
                link rel="stylesheet" href="/assets/console.css";
                script src="/assets/console.js" defer {}
            }
            body {
                header.top {
                    a.brand href="/anomalies" { "skyline" }
                    nav {
                        @for (s, href, name) in nav {
                            a href=(href) class=[(s == section).then_some("active")] { (name) }
                        }
                    }
                    div.who {
                        @if let Some(user) = &ctx.user {
                            span.user { (user) }
                            form.inline method="post" action="/logout" {
                                input type="hidden" name="csrf" value=[ctx.csrf.as_deref()];
                                button.link type="submit" { "Log out" }
                            }
                        } @else {
                            span.user { "read-only" }
                            a href="/login" { "Log in" }
                        }
                    }
                }
                main { (body) }
            }
        }
    }
}

/// A page saying what went wrong.
pub fn error_page(ctx: &PageContext, title: &str, message: &str) -> Markup {
    layout(
        ctx,
        title,
        Section::None,
        html! {
            h1 { (title) }
            p.error { (message) }
            p { a href="/anomalies" { "Back to the anomalies" } }
        },
    )
}

pub use topics::clock::utc;

/// A UTC time from milliseconds.
pub fn utc_ms(ms: i64) -> String {
    utc(ms.div_euclid(1000))
}

/// A duration as days, hours and minutes (`1 d 2 h`, `23 h 50 min`).
pub fn duration(seconds: i64) -> String {
    if seconds < 60 {
        return format!("{seconds} s");
    }
    let (d, h, m) = (
        seconds / 86_400,
        seconds % 86_400 / 3600,
        seconds % 3600 / 60,
    );
    let parts: Vec<String> = [(d, "d"), (h, "h"), (m, "min")]
        .iter()
        .filter(|(n, _)| *n > 0)
        .map(|(n, unit)| format!("{n} {unit}"))
        .collect();
    parts.join(" ")
}

/// A series graph, inline.
pub fn graph(series: &[(i64, f64)], options: &GraphOptions) -> Markup {
    // The SVG is ours: numbers and fixed labels only, never input text.
    html! { div.graph { (PreEscaped(graph::series_svg(series, options))) } }
}

/// A short id for tables (the full one is in the link and its title).
pub fn short(id: &Uuid) -> String {
    id.simple().to_string()[..8].to_owned()
}

/// A value formatted for tables.
pub fn value(v: f64) -> String {
    graph::format_value(v)
}

/// Previous / next links keeping the other query parameters.
pub fn pager(
    base: &str,
    params: &[(&str, Option<String>)],
    page: u32,
    per_page: u32,
    total: i64,
) -> Markup {
    let pages = ((total.max(0) as u64).div_ceil(u64::from(per_page.max(1)))).max(1);
    let link = |p: u32| {
        let mut q: Vec<(String, String)> = params
            .iter()
            .filter_map(|(k, v)| {
                v.as_ref()
                    .filter(|v| !v.trim().is_empty())
                    .map(|v| ((*k).to_owned(), v.clone()))
            })
            .collect();
        q.push(("page".into(), p.to_string()));
        let encoded: String = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(q)
            .finish();
        format!("{base}?{encoded}")
    };
    html! {
        nav.pager {
            @if page > 1 { a rel="prev" href=(link(page - 1)) { "← Newer" } }
            span { "Page " (page) " of " (pages) " · " (total) " in all" }
            @if u64::from(page) < pages { a rel="next" href=(link(page + 1)) { "Older →" } }
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn durations_read_in_whole_units() {
        assert_eq!(super::duration(86_400), "1 d");
        assert_eq!(super::duration(85_800), "23 h 50 min");
        assert_eq!(super::duration(7 * 86_400 + 3600), "7 d 1 h");
        assert_eq!(super::duration(59), "59 s");
    }
}
