//! Recent match results: how each ionosphere check was judged, by which
//! profile, how close it was, with the check's series beside the
//! profile's. Training checks — of metrics with no profile yet, so that
//! nothing could match them — are listed apart (`?checks=training`), as
//! what to label to make a first profile.

use maud::{html, Markup};
use projections::browse::CheckKind;

use crate::graph::GraphOptions;
use crate::pages::{graph, layout, pager, short, utc, value, PageContext, Section};
use crate::views::{MatchWithSeries, MatchesView};

/// A verdict on a training check: the check's series and where to label
/// it; its verdict (unmatched, by none, no profile checked) says nothing.
fn training_row(m: &MatchWithSeries) -> Markup {
    let r = &m.row;
    html! {
        article.training-row data-match=(r.id) {
            h3 {
                a href={ "/anomalies/" (r.anomaly_id) } { span.metric { (r.metric) } } " at " (utc(r.timestamp))
            }
            p.facts {
                "The metric had no profile when this was checked, so nothing could match it. "
                a href={ "/anomalies/" (r.anomaly_id) } { "Label it" } " to make its first profile."
            }
            figure { figcaption { "The check's series" } (graph(&m.check_series, &GraphOptions::thumbnail())) }
        }
    }
}

/// A verdict on an ionosphere check, beside the profile it was judged by.
fn match_row(m: &MatchWithSeries) -> Markup {
    let r = &m.row;
    html! {
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

/// The matches list.
pub fn render(ctx: &PageContext, view: &MatchesView) -> Markup {
    let q = &view.query;
    let matched_only = matches!(q.matched.as_deref(), Some("1" | "true" | "on"));
    let training = view.checks == CheckKind::Training;
    let tab = |kind: CheckKind| (view.checks == kind).then_some("active");
    let body = html! {
        h1 { "Matches" }
        nav.tabs {
            a #ionosphere-checks href="/matches" class=[tab(CheckKind::Ionosphere)] { "Ionosphere checks" }
            a #training-checks href="/matches?checks=training" class=[tab(CheckKind::Training)] { "Training checks" }
        }
        p.hint {
            @if training {
                "Anomalies of metrics that had no profile yet: nothing could match them. Labelling one makes the metric's first profile."
            } @else {
                "How anomalies of metrics with profiles were judged against them."
            }
        }
        form.filters method="get" action="/matches" {
            @if view.checks != CheckKind::Ionosphere { input type="hidden" name="checks" value=[q.checks.as_deref()]; }
            label { "Metric " input type="search" name="metric" placeholder="substring or glob" value=[q.metric.as_deref()]; }
            @if !training {
                label { "Profile " input type="text" name="profile" placeholder="profile id" value=[q.profile.as_deref()]; }
                label { input type="checkbox" name="matched" value="1" checked[matched_only]; " deflected only" }
            }
            label { "From " input type="text" name="since" placeholder="YYYY-MM-DDTHH:MM (UTC)" value=[q.since.as_deref()]; }
            label { "Until " input type="text" name="until" placeholder="YYYY-MM-DDTHH:MM (UTC)" value=[q.until.as_deref()]; }
            button type="submit" { "Filter" }
        }
        @if view.rows.is_empty() {
            p.empty { @if training { "No training checks." } @else { "No match results." } }
        } @else {
            div #matches {
                @for m in &view.rows {
                    @if training { (training_row(m)) } @else { (match_row(m)) }
                }
            }
        }
        (pager("/matches", &[
            ("checks", q.checks.clone()),
            ("metric", q.metric.clone()),
            ("profile", q.profile.clone()),
            ("matched", q.matched.clone()),
            ("since", q.since.clone()),
            ("until", q.until.clone()),
        ], view.page, view.per_page, view.total))
    };
    layout(ctx, "Matches", Section::Matches, body)
}
