//! The anomalies list: newest first, filtered by metric pattern, state and
//! time range, with what each anomaly came to.

use maud::{html, Markup};
use projections::browse::{AnomalyListRow, AnomalyState};

use crate::pages::{duration, layout, pager, short, utc, value, PageContext, Section};
use crate::views::AnomaliesView;

/// Every state, in the order the filter lists them, with its wording.
pub const STATES: [(AnomalyState, &str); 9] = [
    (AnomalyState::Alerted, "alerted"),
    (AnomalyState::DeflectedByProfile, "deflected by profile"),
    (AnomalyState::DeflectedByLayer, "deflected by layer"),
    (AnomalyState::Motif, "deflected by motif"),
    (AnomalyState::Pending, "awaiting fingerprint"),
    (AnomalyState::ClearedBySeasonal, "cleared by seasonal"),
    (AnomalyState::ConfirmedBySeasonal, "confirmed by seasonal"),
    (AnomalyState::SeasonalSkipped, "seasonal check skipped"),
    (AnomalyState::NotAlerted, "not alerted"),
];

/// How a state reads in the list.
pub fn state_label(state: AnomalyState) -> &'static str {
    STATES
        .iter()
        .find(|(s, _)| *s == state)
        .map_or("unknown", |(_, l)| l)
}

/// A state as a coloured badge.
pub fn state_badge(state: AnomalyState) -> Markup {
    html! { span class={ "state " (state.as_str()) } { (state_label(state)) } }
}

/// How long an anomaly lasted (end − start), or "ongoing" until it ends.
pub fn lasted(a: &AnomalyListRow) -> String {
    a.duration().map_or_else(|| "ongoing".to_owned(), duration)
}

/// The anomalies list.
pub fn render(ctx: &PageContext, view: &AnomaliesView) -> Markup {
    let q = &view.query;
    let selected = q.state.as_deref().unwrap_or("");
    let body = html! {
        h1 { "Anomalies" }
        form.filters method="get" action="/anomalies" {
            label { "Metric " input type="search" name="metric" placeholder="substring or glob: web*.cpu" value=[q.metric.as_deref()]; }
            label { "State "
                select name="state" {
                    option value="" selected[selected.is_empty()] { "any" }
                    @for (s, l) in STATES {
                        option value=(s.as_str()) selected[selected == s.as_str()] { (l) }
                    }
                }
            }
            label { "From " input type="text" name="since" placeholder="YYYY-MM-DDTHH:MM (UTC)" value=[q.since.as_deref()]; }
            label { "Until " input type="text" name="until" placeholder="YYYY-MM-DDTHH:MM (UTC)" value=[q.until.as_deref()]; }
            button type="submit" { "Filter" }
        }
        @if view.page.rows.is_empty() {
            p.empty { "No anomalies match." }
        } @else {
            table.list #anomalies {
                thead { tr { th { "Time" } th { "Metric" } th.num { "Value" } th { "Source" } th { "Algorithms" } th.num { "Points" } th { "Duration" } th { "State" } } }
                tbody {
                    @for a in &view.page.rows {
                        tr data-anomaly=(a.id) {
                            td.time { (utc(a.timestamp)) }
                            td.metric { a href={ "/anomalies/" (a.id) } title=(a.id) { (a.metric) } }
                            td.num { (value(a.value)) }
                            td { (a.source) }
                            td.algorithms { (a.triggered_algorithms.join(", ")) }
                            td.num.count { (a.count) }
                            td.duration { (lasted(a)) }
                            td {
                                (state_badge(a.state))
                                @if let Some(p) = a.matched_profile {
                                    " " a href={ "/profiles/" (p) } title=(p) { "profile " (short(&p)) }
                                }
                            }
                        }
                    }
                }
            }
        }
        (pager("/anomalies", &[
            ("metric", q.metric.clone()),
            ("state", q.state.clone()),
            ("since", q.since.clone()),
            ("until", q.until.clone()),
        ], view.page.page, view.page.per_page, view.page.total))
    };
    layout(ctx, "Anomalies", Section::Anomalies, body)
}
