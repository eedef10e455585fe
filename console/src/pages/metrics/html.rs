//! Every metric being received, from the datapoints topic: when it was
//! last seen, its points in the window, whether it is ionosphere-enabled,
//! and its anomalies in its last 24 hours.

use maud::{html, Markup};

use crate::pages::mutes::html::mute_form;
use crate::pages::{layout, pager, utc, PageContext, Section};
use crate::views::MetricsView;

/// The metrics list.
pub fn render(ctx: &PageContext, view: &MetricsView) -> Markup {
    let q = &view.query;
    let body = html! {
        h1 { "Metrics" }
        form.filters method="get" action="/metrics" {
            label { "Metric " input type="search" name="metric" placeholder="substring or glob: web*.cpu" value=[q.metric.as_deref()]; }
            button type="submit" { "Filter" }
        }
        @if view.page.rows.is_empty() {
            p.empty { "No metric received yet matches. Send datapoints to the Graphite or HTTP listener, or list a Kafka topic in [[ingest.kafka_sources]]." }
        } @else {
            table.list #metrics {
                thead { tr {
                    th { "Metric" } th { "Last seen" } th.num { "Points in window" }
                    th.num { "Received" } th { "Ionosphere" } th.num { "Anomalies (24 h)" } th { "Alerts" }
                } }
                tbody {
                    @for (m, points) in view.page.rows.iter().zip(&view.points_in_window) {
                        tr data-metric=(m.name) {
                            td { a.metric href={ "/anomalies?metric=" (encode(&m.name)) } { (m.name) } }
                            td.time { (utc(m.last_seen)) }
                            td.num { @if let Some(n) = points { (n) } @else { "—" } }
                            td.num { (m.datapoints) }
                            td {
                                @if m.ionosphere_enabled {
                                    a href={ "/profiles?metric=" (encode(&m.name)) } { "enabled" }
                                } @else { "not yet" }
                            }
                            td.num { (m.anomalies_24h) }
                            td {
                                details.mute {
                                    summary { "Mute…" }
                                    (mute_form(ctx, &m.name, "/mutes", true))
                                }
                            }
                        }
                    }
                }
            }
        }
        (pager("/metrics", &[("metric", q.metric.clone())], view.page.page, view.page.per_page, view.page.total))
    };
    layout(ctx, "Metrics", Section::Metrics, body)
}

/// A metric name as a query value.
fn encode(name: &str) -> String {
    form_urlencoded::byte_serialize(name.as_bytes()).collect()
}
