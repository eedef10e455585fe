//! The System page.

use maud::{html, Markup};
use projections::system::{HeartbeatRow, SystemEventRow};

use crate::pages::{duration, layout, utc, PageContext, Section};
use crate::views::SystemView;

/// A figure of a heartbeat, as text (`—` when not carried).
fn figure(h: &HeartbeatRow, name: &str) -> String {
    match h.figures.get(name) {
        Some(v) if v.fract() == 0.0 => format!("{v:.0}"),
        Some(v) => format!("{v:.1}"),
        None => "—".to_owned(),
    }
}

/// A heartbeat's readiness as a badge.
fn ready_badge(h: &HeartbeatRow) -> Markup {
    match h.ready {
        Some(true) => html! { span.outcome.delivered { "ready" } },
        Some(false) => html! { span.outcome.failed { "not ready" } },
        None => html! { span.outcome.other { "—" } },
    }
}

/// A stall's or a staleness's table.
fn events_table(id: &str, rows: &[SystemEventRow], now: i64, since_label: &str) -> Markup {
    html! {
        table.list id=(id) {
            thead { tr {
                th { "Subject" } th { "State" } th { (since_label) } th { "For" } th { "Seen" } th { "Alerted" }
            } }
            tbody {
                @for r in rows {
                    tr data-subject=(r.subject) data-kind=(r.kind) {
                        td { (r.subject) }
                        td { (r.kind.replace('_', " ")) }
                        td.time { @if let Some(s) = r.since { (utc(s)) } @else { "—" } }
                        td { @if let Some(s) = r.since { (duration((now - s).max(0))) } @else { "—" } }
                        td.time { (utc(r.at)) }
                        td { @if r.alert { "yes" } @else { "no" } }
                    }
                }
            }
        }
    }
}

/// The System page.
pub fn render(ctx: &PageContext, view: &SystemView) -> Markup {
    let now = view.now_ms / 1000;
    let body = html! {
        h1 { "System" }
        p.hint { "What skyline says about itself on skyline.system: each service's heartbeat (readiness, consumer lag), the checks of the stall watchdog that are stalled now, the metrics that stopped sending, and the Analyzer's data sparsity." }
        section #services {
            h2 { "Services" }
            @if view.heartbeats.is_empty() {
                p.empty { "No heartbeat recorded yet." }
            } @else {
                table.list #heartbeats {
                    thead { tr {
                        th { "Service" } th { "Instance" } th { "Health" } th { "Reason" }
                        th.num { "Lag (records)" } th.num { "Lag (s)" } th.num { "Records" } th { "Last heartbeat" }
                    } }
                    tbody {
                        @for h in &view.heartbeats {
                            tr data-service=(h.service) data-instance=(h.instance) {
                                td { (h.service) } td { (h.instance) }
                                td { (ready_badge(h)) }
                                td.detail { @if let Some(r) = &h.reason { (r) } @else { "—" } }
                                td.num { (figure(h, "lag_records")) }
                                td.num { (figure(h, "lag_seconds")) }
                                td.num { (figure(h, "records")) }
                                td.time { (utc(h.at)) " (" (duration((now - h.at).max(0))) " ago)" }
                            }
                        }
                    }
                }
            }
        }
        section #stalls {
            h2 { "Stalled now" }
            @if view.stalls.is_empty() {
                p.empty { "Nothing is stalled." }
            } @else {
                (events_table("active-stalls", &view.stalls, now, "Last fine"))
            }
        }
        section #stale {
            h2 { "Stale metrics" }
            @if view.stale.is_empty() {
                p.empty { "No metric is stale." }
            } @else {
                (events_table("stale-metrics", &view.stale, now, "Last datapoint"))
            }
        }
        section #sparsity {
            h2 { "Data sparsity" }
            @if view.sparsity.is_empty() {
                p.empty { "No sparsity reported yet (the Analyzer's sweep sends it with its heartbeat)." }
            } @else {
                table.compact #sparsity-figures {
                    thead { tr { th { "Analyzer" } th { "Figure" } th.num { "Value" } } }
                    tbody {
                        @for (instance, name, value) in &view.sparsity {
                            tr data-figure=(name) {
                                td { (instance) } td { (name.replace('_', " ")) } td.num { (format!("{value:.2}")) }
                            }
                        }
                    }
                }
            }
        }
        section #system-latest {
            h2 { "Latest events" }
            @if view.latest.is_empty() {
                p.empty { "No stall or stale metric recorded yet." }
            } @else {
                (events_table("latest-events", &view.latest, now, "Since"))
            }
        }
    };
    layout(ctx, "System", Section::System, body)
}
