//! Recent match results: how each check was judged, by which profile, how
//! close it was, with the check's series beside the profile's.

use maud::{html, Markup};

use super::{graph, layout, pager, short, utc, value, PageContext, Section};
use crate::graph::GraphOptions;
use crate::views::MatchesView;

pub fn render(ctx: &PageContext, view: &MatchesView) -> Markup {
    let q = &view.query;
    let matched_only = matches!(q.matched.as_deref(), Some("1" | "true" | "on"));
    let body = html! {
        h1 { "Matches" }
        form.filters method="get" action="/matches" {
            label { "Metric " input type="search" name="metric" placeholder="substring or glob" value=[q.metric.as_deref()]; }
            label { "Profile " input type="text" name="profile" placeholder="profile id" value=[q.profile.as_deref()]; }
            label { input type="checkbox" name="matched" value="1" checked[matched_only]; " deflected only" }
            label { "From " input type="text" name="since" placeholder="YYYY-MM-DDTHH:MM (UTC)" value=[q.since.as_deref()]; }
            label { "Until " input type="text" name="until" placeholder="YYYY-MM-DDTHH:MM (UTC)" value=[q.until.as_deref()]; }
            button type="submit" { "Filter" }
        }
        @if view.rows.is_empty() {
            p.empty { "No match results." }
        } @else {
            div #matches {
                @for m in &view.rows {
                    @let r = &m.row;
                    article.match-row data-match=(r.id) {
                        h3 {
                            a href={ "/anomalies/" (r.anomaly_id) } { span.metric { (r.metric) } } " at " (utc(r.timestamp)) " — "
                            @if r.matched { span.state.deflected_by_profile { "matched" } } @else { span.state.alerted { "not matched" } }
                            " by " (r.method)
                            @if r.echo { " (echo)" }
                        }
                        p.facts {
                            @if let Some(p) = r.profile_id { "Profile " a href={ "/profiles/" (p) } title=(p) { (short(&p)) } ". " }
                            @if let Some(d) = r.percent_different { "Features differ by " (value(d)) " %. " }
                            @if let Some(d) = r.distance { "Distance " (value(d)) ". " }
                            @if let Some(mo) = &r.motif {
                                "Motif at " (mo.index) ", size " (mo.size)
                                @if let Some(k) = &mo.kind { ", " (k) }
                                @if let Some(a) = mo.area_percent_diff { ", areas differ by " (value(a)) " %" }
                                ". "
                            }
                            "Profiles checked: " (r.profiles_checked) "."
                        }
                        div.pair {
                            figure { figcaption { "The check's series" } (graph(&m.check_series, &GraphOptions::thumbnail())) }
                            figure { figcaption { "The profile's series" } (graph(&m.profile_series, &GraphOptions::thumbnail())) }
                        }
                    }
                }
            }
        }
        (pager("/matches", &[
            ("metric", q.metric.clone()),
            ("profile", q.profile.clone()),
            ("matched", q.matched.clone()),
            ("since", q.since.clone()),
            ("until", q.until.clone()),
        ], view.page, view.per_page, view.total))
    };
    layout(ctx, "Matches", Section::Matches, body)
}
