//! Features profiles: the metrics that have them, one metric's profiles
//! with their graphs, a profile's page (what it matched, validate, disable)
//! and the side-by-side view that validates a learnt profile against its
//! parent.

use maud::{html, Markup};
use projections::browse::ProfileDetail;

use crate::graph::GraphOptions;
use crate::pages::{duration, graph, layout, short, utc, utc_ms, value, PageContext, Section};
use crate::views::{ProfileView, ProfilesView};

/// The profiles index: the metrics that have profiles, or one metric's
/// profiles as cards with their graphs.
pub fn render_index(ctx: &PageContext, view: &ProfilesView) -> Markup {
    let body = html! {
        h1 { "Profiles" @if let Some(m) = &view.metric { " of " span.metric { (m) } } }
        form.filters method="get" action="/profiles" {
            label { "Metric " input type="search" name="metric" placeholder="a metric name or pattern" value=[view.metric.as_deref()]; }
            button type="submit" { "Show" }
        }
        @if view.profiles.is_empty() {
            @if view.metrics.is_empty() {
                p.empty { "No metric has profiles yet" @if view.metric.is_some() { " matching that" } "." }
            } @else {
                ul.metrics #metrics {
                    @for m in &view.metrics {
                        li { a href={ "/profiles?metric=" (urlencode(m)) } { (m) } }
                    }
                }
            }
        } @else {
            div.cards #profiles {
                @for p in &view.profiles { (card(p)) }
            }
        }
    };
    layout(ctx, "Profiles", Section::Profiles, body)
}

/// "1 descendant profile", "3 descendant profiles".
fn descendant_profiles(n: usize) -> String {
    format!("{n} descendant profile{}", if n == 1 { "" } else { "s" })
}

/// `s` as one query-string value.
pub fn urlencode(s: &str) -> String {
    form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

fn flags(p: &ProfileDetail) -> Markup {
    let r = &p.profile;
    html! {
        span class={ "flag " (if r.enabled { "enabled" } else { "disabled" }) } { (if r.enabled { "enabled" } else { "disabled" }) }
        " "
        span class={ "flag " (if r.validated { "validated" } else { "unvalidated" }) } { (if r.validated { "validated" } else { "not validated" }) }
    }
}

fn card(p: &ProfileDetail) -> Markup {
    let r = &p.profile;
    html! {
        article.card data-profile=(r.id) {
            h3 { a href={ "/profiles/" (r.id) } title=(r.id) { "Profile " (short(&r.id)) } " " (flags(p)) }
            (graph(&p.series, &GraphOptions::thumbnail()))
            dl.facts {
                dt { "Generation" } dd { (r.generation) @if let Some(parent) = r.parent { ", parent " a href={ "/profiles/" (parent) } { (short(&parent)) } } }
                dt { "Duration" } dd { (duration(r.full_duration)) }
                dt { "Features" } dd { (r.features_count) ", sum " (value(r.features_sum)) }
                dt { "Checked / matched" } dd { (r.matches.checked) " / " (r.matches.matched()) }
            }
        }
    }
}

fn facts(p: &ProfileDetail, descendants: usize) -> Markup {
    let r = &p.profile;
    html! {
        dl.facts.wide {
            dt { "Metric" } dd.metric { a href={ "/profiles?metric=" (urlencode(&p.metric)) } { (p.metric) } }
            dt { "Id" } dd { code { (r.id) } }
            dt { "Origin" } dd { (r.origin) @if let Some(d) = &r.description { " — " (d) } }
            dt { "Generation" } dd { (r.generation) @if let Some(parent) = r.parent { ", parent " a href={ "/profiles/" (parent) } { (short(&parent)) } } }
            dt { "Duration" } dd { (duration(r.full_duration)) }
            dt { "Features" } dd { (r.features_count) " features, sum " (value(r.features_sum)) }
            dt { "Checked" } dd { (r.matches.checked) " times" }
            dt { "Matched" } dd {
                (r.matches.matched()) " times (features " (r.matches.features) ", min-max " (r.matches.min_max)
                ", layers " (r.matches.layers) ", motif " (r.matches.motif) ")"
                @if let Some(t) = r.matches.last_matched { ", last " (utc(t)) }
            }
            dt { "State" } dd { (flags(p)) }
            dt { "Created" } dd { (utc_ms(r.created_at_ms)) @if let Some(op) = &p.operator { " by " (op) } }
            dt { "Progeny" } dd { (descendant_profiles(descendants)) }
            @if let Some(l) = &p.layers {
                dt { "Layers" }
                dd {
                    // The stored JSON is shown as well: it is what a script
                    // would send, and what to look at if it does not parse.
                    @match fingerprint::matching::Layers::from_json(&l.definition) {
                        Ok(layers) => { span.layers { (layers.to_string()) } " " }
                        Err(e) => { span.warning { (e.to_string()) } " " }
                    }
                    (if l.enabled { "(enabled)" } else { "(disabled)" })
                    details { summary { "definition" } code.layers { (l.definition) } }
                }
            }
        }
    }
}

/// `86400 × n` seconds as `n d`, else as a duration.
fn days(seconds: i64) -> String {
    if seconds % 86_400 == 0 {
        format!("{} d", seconds / 86_400)
    } else {
        duration(seconds)
    }
}

/// What an operator's LEARN profile waits for, or what it learnt.
fn learning(view: &ProfileView) -> Markup {
    let Some(l) = &view.learning else {
        return html! {};
    };
    let span = days(l.full_duration);
    html! {
        p.learning #learning {
            strong { "Learning at " (span) } " — "
            @if let Some(child) = l.learnt {
                "learnt: " a href={ "/profiles/" (child) } { "profile " (short(&child)) }
                ", from the " (span) " before the anomaly."
            } @else {
                @if l.waiting { "waits until " } @else { "due since " }
                strong { (utc(l.due)) }
                " (the anomaly " (duration(l.due - l.to)) " old), then learns from the " (span)
                " of data before the anomaly (" (utc(l.from)) " – " (utc(l.to)) ")"
                @match (l.window_holds_it, l.window_begins) {
                    (Some(true), _) => { ", which the long window holds." }
                    (Some(false), Some(begins)) => {
                        ". " span.warning { "The metric's long window begins " (utc(begins)) ": too late, so the learn service will skip it (it learns only from the whole " (span) ")." }
                    }
                    (Some(false), None) => { ". " span.warning { "The metric's long window holds no data: the learn service will skip it." } }
                    (None, _) => { "." }
                }
            }
        }
    }
}

/// What a profile learnt from a repetitive pattern came from: every
/// anomaly of the pattern, each with its profile.
fn pattern(view: &ProfileView) -> Markup {
    if view.pattern.is_empty() {
        return html! {};
    }
    let this = view.detail.profile.id;
    html! {
        section.pattern #pattern {
            h2 { "Learnt from a repetitive pattern" }
            p {
                "Skyline learnt this profile by itself: the metric's anomalies below came back alike — "
                "a day (or an hour) apart, or in different weeks — and none was labelled. "
                "Disabling the first profile disables the pattern."
            }
            ol.anomalies {
                @for p in &view.pattern {
                    li {
                        @match p.anomaly_timestamp { Some(t) => { "Anomaly " (utc(t)) }, None => { "Anomaly (time unknown)" } }
                        " — "
                        @if p.id == this { strong { "this profile" } } @else { a href={ "/profiles/" (p.id) } { "profile " (short(&p.id)) } }
                        @if !p.active { " (disabled)" }
                    }
                }
            }
        }
    }
}

fn actions(ctx: &PageContext, view: &ProfileView) -> Markup {
    let r = &view.detail.profile;
    let n = view.descendants.len();
    let warning = if n == 0 {
        "Disable this profile? It will no longer deflect anything.".to_owned()
    } else {
        format!(
            "Disable this profile and its {}? None of them will deflect anything.",
            descendant_profiles(n)
        )
    };
    html! {
        @if ctx.can_write() {
            div.actions {
                @if !r.validated {
                    form.inline method="post" action={ "/profiles/" (r.id) "/validate" } {
                        input type="hidden" name="csrf" value=[ctx.csrf.as_deref()];
                        button type="submit" #validate { "Validate" }
                    }
                }
                @if r.enabled {
                    form.inline method="post" action={ "/profiles/" (r.id) "/disable" } data-confirm=(warning) {
                        input type="hidden" name="csrf" value=[ctx.csrf.as_deref()];
                        button.danger type="submit" #disable { "Disable" }
                    }
                    @if n > 0 { p.warning { "Disabling it also disables its " (descendant_profiles(n)) "." } }
                }
            }
        } @else {
            p.empty { a href="/login" { "Log in" } " to validate or disable." }
        }
    }
}

/// A profile's page, saying `notice` first (what was just done to it).
pub fn render_profile(ctx: &PageContext, view: &ProfileView, notice: Option<&str>) -> Markup {
    let p = &view.detail;
    let r = &p.profile;
    let body = html! {
        h1 { "Profile " (short(&r.id)) " " span.metric { (p.metric) } }
        @if let Some(n) = notice { p.notice role="status" { (n) } }
        (graph(&p.series, &GraphOptions::training(None)))
        (facts(p, view.descendants.len()))
        (learning(view))
        (pattern(view))
        (actions(ctx, view))
        @if view.parent.is_some() {
            p { a href={ "/profiles/" (r.id) "/compare" } { "Compare with its parent to validate" } }
        }
        section #matched {
            h2 { "What it matched" }
            @if view.matched.is_empty() {
                p.empty { "Nothing yet." }
            } @else {
                @for m in &view.matched {
                    div.pair {
                        figure { figcaption { "Anomaly " (utc(m.row.timestamp)) " — " (m.row.method) } (graph(&m.check_series, &GraphOptions::thumbnail())) }
                        figure { figcaption { "This profile" } (graph(&m.profile_series, &GraphOptions::thumbnail())) }
                    }
                }
            }
        }
    };
    layout(ctx, "Profile", Section::Profiles, body)
}

/// The side-by-side view: a learnt profile next to the one it was learnt
/// from, to decide whether to validate it.
pub fn render_compare(ctx: &PageContext, view: &ProfileView) -> Markup {
    let p = &view.detail;
    let body = html! {
        h1 { "Validate profile " (short(&p.profile.id)) " " span.metric { (p.metric) } }
        div.side-by-side {
            @if let Some(parent) = &view.parent {
                section {
                    h2 { "Parent " a href={ "/profiles/" (parent.profile.id) } { (short(&parent.profile.id)) } }
                    (graph(&parent.series, &GraphOptions::thumbnail()))
                    (facts(parent, 0))
                }
            }
            section {
                h2 { "This profile (generation " (p.profile.generation) ")" }
                (graph(&p.series, &GraphOptions::thumbnail()))
                (facts(p, view.descendants.len()))
            }
        }
        (actions(ctx, view))
    };
    layout(ctx, "Validate profile", Section::Profiles, body)
}
