//! The seasonal page, and how a seasonal verdict reads wherever it is
//! shown (the anomaly's page too): "cleared at 168 h (daily peak)",
//! "confirmed by seasonal at 168 h", "seasonal check skipped: stale".

use maud::{html, Markup};
use projections::seasonal::SeasonalRow;

use crate::pages::{layout, short, utc, utc_ms, value, PageContext, Section};
use crate::views::SeasonalView;

/// A reason in words (`too_short` → `too short`).
pub fn reason_words(reason: &str) -> String {
    reason.replace('_', " ")
}

/// A verdict in words, without its links: what the anomaly's page and the
/// list say of it.
pub fn verdict_words(r: &SeasonalRow) -> String {
    match r.outcome.as_str() {
        "cleared" if r.reason == "consensus" => format!("cleared at {} h", r.hours),
        "cleared" => format!("cleared at {} h ({})", r.hours, reason_words(&r.reason)),
        "anomalous" => format!("confirmed by seasonal at {} h", r.hours),
        "skipped" => format!("seasonal check skipped: {}", reason_words(&r.reason)),
        other => format!("{}: {}", reason_words(other), reason_words(&r.reason)),
    }
}

/// An outcome (`anomalous`, `cleared`, `skipped`) as a badge.
pub fn outcome_badge(outcome: &str) -> Markup {
    let class = match outcome {
        "anomalous" | "cleared" | "skipped" => outcome,
        _ => "other",
    };
    html! { span class={ "outcome " (class) } { (outcome) } }
}

/// A verdict with its badge, and for a confirmed one the link to the
/// seasonal anomaly it was handed on as.
pub fn verdict(r: &SeasonalRow) -> Markup {
    html! {
        span.verdict data-outcome=(r.outcome) data-reason=(r.reason) {
            (outcome_badge(&r.outcome)) " " (verdict_words(r))
            @if let Some(s) = r.seasonal_anomaly_id {
                " — " a.seasonal-anomaly href={ "/anomalies/" (s) } title=(s) { "seasonal anomaly " (short(&s)) }
            }
        }
    }
}

/// The graph's title for a verdict's judged series: its hours and its
/// resolution, as "seasonal: 168 h at 600 s".
pub fn series_title(r: &SeasonalRow) -> String {
    format!("seasonal: {} h at {} s", r.hours, r.resolution)
}

/// The seasonal page.
pub fn render(ctx: &PageContext, view: &SeasonalView) -> Markup {
    let body = html! {
        h1 { "Seasonal" }
        p.hint { "The seasonal (Mirage) check judges an anomaly again over days of the metric's history: cleared (not anomalous over the long window), confirmed (handed on to fingerprint and the alerts), or skipped (not judged: the check was stale, or the history too short). Periodic checks judge a metric on a schedule and name no anomaly." }
        section #seasonal-counts {
            h2 { "Verdicts" }
            @if view.counts.is_empty() {
                p.empty { "No seasonal verdict recorded yet." }
            } @else {
                table.compact #outcome-counts {
                    thead { tr { th { "Outcome" } th { "Reason" } th.num { "Checks" } } }
                    tbody {
                        @for c in &view.counts {
                            tr data-outcome=(c.outcome) data-reason=(c.reason) {
                                td { (outcome_badge(&c.outcome)) }
                                td { (reason_words(&c.reason)) }
                                td.num { (c.results) }
                            }
                        }
                    }
                }
            }
        }
        section #seasonal-latest {
            h2 { "Latest" }
            @if view.recent.is_empty() {
                p.empty { "None." }
            } @else {
                table.list #seasonal-results {
                    thead { tr {
                        th { "Decided" } th { "Metric" } th { "Checked point" } th.num { "Value" }
                        th { "Verdict" } th { "Judged" } th { "Triggered" }
                    } }
                    tbody {
                        @for r in &view.recent {
                            tr data-result=(r.id) data-outcome=(r.outcome) {
                                td.time { (utc_ms(r.decided_at_ms)) }
                                td.metric {
                                    @if r.periodic {
                                        (r.metric) " " span.periodic { "(periodic)" }
                                    } @else {
                                        a href={ "/anomalies/" (r.anomaly_id) } title=(r.anomaly_id) { (r.metric) }
                                    }
                                }
                                td.time { (utc(r.timestamp)) }
                                td.num { (value(r.value)) }
                                td { (verdict(r)) }
                                td {
                                    @if r.series_points > 0 {
                                        (r.series_points) " points at " (r.resolution) " s"
                                    } @else { "—" }
                                }
                                td.algorithms {
                                    @if r.algorithms_run.is_empty() { "—" } @else {
                                        (r.triggered_algorithms.len()) " of " (r.algorithms_run.len())
                                        @if !r.triggered_algorithms.is_empty() { ": " (r.triggered_algorithms.join(", ")) }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    };
    layout(ctx, "Seasonal", Section::Seasonal, body)
}
