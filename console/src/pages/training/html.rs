//! The training page of an anomaly: the series it was judged on with its
//! mean and 3σ band, the metric over longer durations, the algorithms
//! that fired, the seasonal verdict with the long series it judged, the
//! metric's profiles, and the form that says "not anomalous" (optionally
//! LEARN, optionally with layers).

use fingerprint::matching::layers::{Condition, DAYS, DAY_LABELS};
use maud::{html, Markup};

use crate::graph::GraphOptions;
use crate::pages::anomalies::html::{lasted, state_badge};
use crate::pages::mutes::html::{delivery_table, mute_form};
use crate::pages::seasonal::html::{series_title, verdict};
use crate::pages::{duration, graph, layout, short, utc, utc_ms, value, PageContext, Section};
use crate::views::{GraphsAt, LongerSeries, TrainingView};

/// How many of the judged series' last datapoints the layers form shows.
const REFERENCE_POINTS: usize = 30;

/// What the label form was last given, to show it again with an error.
#[derive(Debug, Clone, Default)]
pub struct FormState {
    /// What was wrong with the form as sent.
    pub error: Option<String>,
    /// What was done (the label saved).
    pub notice: Option<String>,
    /// Field values as submitted (name, value), repeated for `es`.
    pub fields: Vec<(String, String)>,
}

impl FormState {
    fn get(&self, name: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    fn has(&self, name: &str, value: &str) -> bool {
        self.fields.iter().any(|(k, v)| k == name && v == value)
    }
}

fn condition_select(form: &FormState, name: &str, default: &str) -> Markup {
    let chosen = form.get(name).unwrap_or(default);
    html! {
        select name=(name) {
            @for c in Condition::ALL.map(Condition::symbol) { option value=(c) selected[chosen == c] { (c) } }
        }
    }
}

/// Whether the form was last sent with layers.
fn with_layers(form: &FormState) -> bool {
    form.has("layers", "1")
}

/// A layer input the layers need (`needed`): `required` only while *With
/// layers* is ticked — the script keeps it so as the box changes — so that
/// a label without layers is never refused for an empty boundary.
fn number(form: &FormState, name: &str, placeholder: &str, needed: bool) -> Markup {
    html! {
        input type="number" step="any" name=(name) placeholder=(placeholder)
            value=[form.get(name)] required[needed && with_layers(form)] data-layer-required[needed];
    }
}

fn times(form: &FormState, name: &str, needed: bool) -> Markup {
    html! {
        input type="number" min="1" step="1" name=(name) placeholder="times in row"
            value=[form.get(name)] required[needed && with_layers(form)] data-layer-required[needed];
    }
}

fn layers_form(view: &TrainingView, form: &FormState) -> Markup {
    let tail: Vec<(i64, f64)> = view
        .check
        .as_ref()
        .map(|c| {
            let n = c.series.len();
            c.series[n.saturating_sub(REFERENCE_POINTS)..].to_vec()
        })
        .unwrap_or_default();
    html! {
        fieldset.layers #layers {
            legend {
                label { input type="checkbox" name="layers" value="1" checked[with_layers(form)]; " With layers" }
            }
            p.hint { "D discards (never deflects) when the last value meets it; D1 discards when any of the last n values does; E matches when any of the last n values meets it. Es and F1–F2 limit the days and hours (UTC) the layers apply." }
            // Disabled (by the script) while the box is unticked: neither
            // checked by the browser nor sent.
            fieldset.layer-fields {
            div.layer-grid {
                span.layer-name { "D" } (condition_select(form, "d_condition", ">")) (number(form, "d_boundary", "boundary", true)) span {}
                span.layer-name { "D1" } (condition_select(form, "d1_condition", ">")) (number(form, "d1_boundary", "boundary (optional)", false)) (times(form, "d1_times", false))
                span.layer-name { "E" } (condition_select(form, "e_condition", "<=")) (number(form, "e_boundary", "boundary", true)) (times(form, "e_times", true))
            }
            div.days {
                span.layer-name { "Es" }
                @for (d, name) in DAYS.iter().zip(DAY_LABELS) {
                    label { input type="checkbox" name="es" value=(d) checked[form.has("es", d)]; " " (name) }
                }
            }
            div.hours {
                span.layer-name { "F1" } input type="text" name="f1" placeholder="HH:MM" pattern="([01][0-9]|2[0-3]):[0-5][0-9]" value=[form.get("f1")];
                span.layer-name { "F2" } input type="text" name="f2" placeholder="HH:MM" pattern="([01][0-9]|2[0-3]):[0-5][0-9]" value=[form.get("f2")];
            }
            }
            details.reference open {
                summary { "The last " (tail.len()) " datapoints" }
                table.compact #last-datapoints {
                    thead { tr { th { "Time" } th.num { "Value" } } }
                    tbody { @for (t, v) in tail.iter().rev() { tr { td { (utc(*t)) } td.num { (value(*v)) } } } }
                }
            }
        }
    }
}

/// `7h` → `7 h`.
fn spaced(label: &str) -> String {
    match label.find(|c: char| c.is_ascii_alphabetic()) {
        Some(at) => format!("{} {}", &label[..at], &label[at..]),
        None => label.to_owned(),
    }
}

/// How a duration's graph sits in time, in words.
fn placement(l: &LongerSeries) -> &'static str {
    match l.placement {
        "centred" => "centred on the anomaly",
        "ending" => "ending at the anomaly",
        _ => "ending at the newest data",
    }
}

/// The resolution of a duration's graph, in words.
fn resolution(l: &LongerSeries, bucket: Option<i64>) -> String {
    let means = match bucket {
        Some(b) if b % 60 == 0 => format!("{}-minute means", b / 60),
        Some(b) => format!("{b}-second means"),
        None => "bucket means".to_owned(),
    };
    match l.resolution {
        "full" => "full resolution".to_owned(),
        "rollup" => means,
        "mixed" => format!("full resolution, {means} where there is none"),
        _ => "no data".to_owned(),
    }
}

/// The graphs of the metric over 7 h, 24 h, 7 d and 30 d, and the link
/// between the view around the anomaly and the current one.
fn durations(view: &TrainingView) -> Markup {
    let a = &view.detail.anomaly;
    let unit = view.unit.as_deref();
    html! {
        section #longer {
            @match view.graphs_at {
                GraphsAt::Anomaly => {
                    h2 { "The metric around the anomaly" }
                    p.graphs-at {
                        "7 h and 24 h centred on the anomaly, 7 d and 30 d ending at it; the red line and dot mark it. "
                        a #graphs-now href={ "/anomalies/" (a.id) "?graphs=now" } { "Now: the newest data →" }
                    }
                }
                GraphsAt::Now => {
                    h2 { "The metric now" }
                    p.graphs-at {
                        "Each graph ends at the newest data; the anomaly is marked where it falls within one. "
                        a #graphs-anomaly href={ "/anomalies/" (a.id) } { "← Around the anomaly" }
                    }
                }
            }
            @if !view.windows_available {
                p.empty { "The windows are not available to this console (run it with --redis to see them): the graphs show the judged series only." }
            }
            div.durations {
                @for l in &view.longer {
                    figure data-duration=(l.label) data-from=(l.from) data-to=(l.to) {
                        figcaption {
                            strong { (spaced(l.label)) } " " (placement(l)) " · "
                            (utc(l.from)) " – " (utc(l.to)) " · " (resolution(l, view.rollup_resolution))
                        }
                        (graph(&l.series, &GraphOptions::duration((l.from, l.to), Some((a.timestamp, a.value))).with_unit(unit)))
                    }
                }
            }
        }
    }
}

/// The seasonal verdicts on the anomaly, each with the second-order
/// series it judged (days at the roll-up's resolution), drawn under the
/// 24 h series the Analyzer judged so the two read together. Nothing when
/// the anomaly had no seasonal check.
fn seasonal(view: &TrainingView) -> Markup {
    let results = &view.detail.seasonal;
    let unit = view.unit.as_deref();
    html! {
        @if !results.is_empty() {
            section #seasonal {
                h2 { "The seasonal check" }
                @for r in results {
                    figure.seasonal data-result=(r.id) {
                        figcaption {
                            "Seasonal: " (verdict(r))
                            " · decided " (utc_ms(r.decided_at_ms))
                            @if !r.algorithms_run.is_empty() {
                                " · " (r.triggered_algorithms.len()) " of " (r.algorithms_run.len()) " algorithms triggered"
                            }
                        }
                        @if r.series.is_empty() {
                            p.empty { "Not judged: the verdict carries no series." }
                        } @else {
                            (graph(&r.series, &GraphOptions::training(Some((r.timestamp, r.value))).with_title(series_title(r)).with_unit(unit)))
                            p.legend {
                                (r.series_points) " points at " (r.resolution) " s, "
                                @if let (Some(from), Some(until)) = (r.series_from, r.series_until) { (utc(from)) " – " (utc(until)) }
                                ", " (duration(r.full_duration)) " of data judged"
                            }
                        }
                    }
                }
            }
        }
    }
}

/// The training page, its label form as `form` left it.
pub fn render(ctx: &PageContext, view: &TrainingView, form: &FormState) -> Markup {
    let a = &view.detail.anomaly;
    let mark = Some((a.timestamp, a.value));
    let unit = view.unit.as_deref();
    let labelled = !view.detail.labels.is_empty();
    let body = html! {
        h1.metric { (a.metric) }
        p.facts {
            "Anomaly at " strong { (utc(a.timestamp)) } ", value " strong { (value(a.value)) @if let Some(u) = unit { " " (u) } }
            ", from " (a.source) ", judged on " (duration(a.full_duration)) " of data. "
            (state_badge(a.state))
        }
        p.facts #event {
            strong.count { (a.count) } @if a.count == 1 { " anomalous point" } @else { " anomalous points" }
            @if a.count > 1 { ", the last at " (utc(a.last_timestamp)) }
            ", at most " (format!("{:.2}", a.max_deviation)) " σ from the mean; "
            @match a.end_timestamp {
                Some(end) => { "ended at " (utc(end)) ", lasted " strong.duration { (lasted(a)) } "." },
                None => { strong.duration { "ongoing" } "." },
            }
        }
        @if let Some(e) = &form.error { p.error role="alert" { (e) } }
        @if let Some(n) = &form.notice { p.notice role="status" { (n) } }
        section #judged {
            h2 { "The series it was judged on" }
            @match &view.check {
                Some(c) => {
                    (graph(&c.series, &GraphOptions::training(mark).with_unit(unit)))
                    p.legend {
                        span.swatch.series {} " series "
                        span.swatch.mean {} " mean " (view.mean.map(value).unwrap_or_default())
                        span.swatch.band {} " mean ± 3σ (σ " (view.sigma.map(value).unwrap_or_default()) ") "
                        span.swatch.mark {} " the anomalous datapoint"
                    }
                },
                None => p.empty { "No check with a series was recorded for this anomaly." },
            }
        }
        (seasonal(view))
        section #algorithms {
            h2 { "Algorithms" }
            ul.algorithms {
                @for alg in &view.detail.algorithms_run {
                    @let fired = a.triggered_algorithms.contains(alg);
                    li class=(if fired { "fired" } else { "quiet" }) { (alg) @if fired { " — triggered" } }
                }
            }
        }
        section #alerts {
            h2 { "Alerts" }
            @for m in &view.muted_by {
                p.notice.muted #muted-by {
                    "This metric's alerts are muted by " code { (m.pattern) } " until " (utc_ms(m.until_ms))
                    @if let Some(o) = &m.operator { " (" (o) ")" }
                    @if let Some(r) = &m.reason { ": " (r) }
                    ". " a href="/mutes" { "Mutes →" }
                }
            }
            @if view.detail.alerts.is_empty() && view.delivery_outcomes.is_empty() {
                p.empty { "No alert was sent for this anomaly." }
            } @else {
                @if !view.detail.alerts.is_empty() {
                    ul.alerts {
                        @for al in &view.detail.alerts {
                            li { "Alert " span title=(al.id) { (short(&al.id)) } " to " strong { (al.alerter) } " (rule " code { (al.rule) } ")" }
                        }
                    }
                }
                @if view.delivery_outcomes.is_empty() {
                    p.empty #no-deliveries { "No delivery recorded yet (the alerter records each attempt)." }
                } @else {
                    (delivery_table(&view.delivery_outcomes))
                }
            }
            h3 { "Mute this metric's alerts" }
            (mute_form(ctx, &a.metric, &format!("/anomalies/{}", a.id), false))
        }
        (durations(view))
        section #profiles {
            h2 { "Profiles of this metric" }
            @if view.profiles.is_empty() {
                p.empty { "None yet." }
            } @else {
                table.list {
                    thead { tr { th { "Profile" } th { "Generation" } th { "Duration" } th.num { "Matched" } th { "State" } } }
                    tbody {
                        @for p in &view.profiles {
                            tr class=[view.resulting_profiles.contains(&p.id).then_some("resulting")] {
                                td { a href={ "/profiles/" (p.id) } title=(p.id) { (short(&p.id)) } @if view.resulting_profiles.contains(&p.id) { " (from this anomaly)" } }
                                td { (p.generation) } td { (duration(p.full_duration)) } td.num { (p.matches.matched()) }
                                td { (if p.enabled { "enabled" } else { "disabled" }) (if p.validated { ", validated" } else { "" }) }
                            }
                        }
                    }
                }
            }
        }
        @if !view.resulting_profiles.is_empty() {
            p.notice #resulting-profile {
                "Profile created from this anomaly: "
                @for id in &view.resulting_profiles { a href={ "/profiles/" (id) } { (short(id)) } " " }
            }
        } @else if labelled {
            p.notice #profile-pending { "Labelled: the profile appears here once skyline has learnt it (reload to check)." }
        }
        section #train {
            h2 { "Train" }
            @if view.check.is_none() {
                p.empty { "There is no series to train on." }
            } @else if !ctx.can_write() {
                p.empty { a href="/login" { "Log in" } " to label this anomaly." }
            } @else if let Some(check) = &view.check {
                form #label-form method="post" action={ "/anomalies/" (a.id) "/label" } data-validate-layers {
                    input type="hidden" name="csrf" value=[ctx.csrf.as_deref()];
                    input type="hidden" name="check_id" value=(check.id);
                    label.wide { "Description " input type="text" name="description" maxlength="500" placeholder="what this pattern is (e.g. nightly backup)" value=[form.get("description")]; }
                    (layers_form(view, form))
                    div.actions {
                        button type="submit" name="action" value="not_anomalous" { "Not anomalous" }
                        button.primary type="submit" name="action" value="learn" { "Not anomalous and LEARN" }
                    }
                    p.form-error #layers-error role="alert" hidden {}
                }
            }
        }
        @if labelled {
            section #labels {
                h2 { "Labels" }
                ul {
                    @for l in &view.detail.labels {
                        li { (utc_ms(l.labelled_at_ms)) " — " (l.operator) ": "
                            (if l.not_anomalous { "not anomalous" } else { "anomalous" })
                            (if l.learn { ", LEARN" } else { "" })
                            @if l.layers_json.is_some() { ", with layers" }
                            @if let Some(d) = &l.description { " — " (d) } }
                    }
                }
            }
        }
    };
    layout(ctx, &a.metric, Section::Anomalies, body)
}
