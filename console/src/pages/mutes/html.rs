//! The mutes page, and what the other pages share of it: the Mute form
//! (on the anomaly and metrics pages too) and how a delivery's outcome
//! reads.

use maud::{html, Markup};
use projections::alerting::{DeliveryRow, DeliverySummary, MuteRow};

use crate::pages::{layout, short, utc_ms, NoticeQuery, PageContext, Section};
use crate::views::MutesView;

/// The mute length the forms offer first.
pub const DEFAULT_DURATION: &str = "2h";

/// What the page says after a mute or an unmute.
pub(crate) fn notice(q: &NoticeQuery) -> Option<String> {
    if let Some(id) = &q.muted {
        Some(format!(
            "Muted (mute {id}). The alerter records matching alerts as muted until it ends."
        ))
    } else {
        q.unmuted
            .as_ref()
            .map(|id| format!("Unmuted (mute {id}). Alerts of its metrics are delivered again."))
    }
}

/// An outcome (`delivered`, `failed`, `gave_up`, `muted`) as a badge.
pub fn outcome_badge(outcome: &str) -> Markup {
    let (class, label) = match outcome {
        "delivered" => ("delivered", "delivered"),
        "failed" => ("failed", "failed"),
        "gave_up" => ("gave_up", "gave up"),
        "muted" => ("muted", "muted"),
        _ => ("other", outcome),
    };
    html! { span class={ "outcome " (class) } { (label) } }
}

/// Each alerter's standing for an anomaly's alerts, as a table.
pub fn delivery_table(outcomes: &[DeliverySummary]) -> Markup {
    html! {
        table.list #deliveries {
            thead { tr {
                th { "Alert" } th { "Alerter" } th { "Kind" } th { "Outcome" }
                th.num { "Attempts" } th { "Detail" } th { "Last attempt" }
            } }
            tbody {
                @for d in outcomes {
                    tr data-alerter=(d.alerter) data-outcome=(d.outcome) {
                        td { span title=(d.alert_id) { (short(&d.alert_id)) } }
                        td { (d.alerter) } td { (d.kind) }
                        td { (outcome_badge(&d.outcome)) }
                        td.num { (d.attempts) }
                        td.detail { @if let Some(x) = &d.detail { (x) } @else { "—" } }
                        td.time { (utc_ms(d.at_ms)) }
                    }
                }
            }
        }
    }
}

/// The Mute form: `pattern` prefilled, back to `next` once muted. For an
/// operator who may not write, a link to log in.
pub fn mute_form(ctx: &PageContext, pattern: &str, next: &str, compact: bool) -> Markup {
    if !ctx.can_write() {
        return html! { p.empty { a href="/login" { "Log in" } " to mute alerts." } };
    }
    html! {
        form.mute method="post" action="/mutes" class=[compact.then_some("inline-mute")] {
            input type="hidden" name="csrf" value=[ctx.csrf.as_deref()];
            input type="hidden" name="next" value=(next);
            label { "Pattern " input type="text" name="pattern" value=(pattern) required maxlength="1000" placeholder="e.g. web01.cpu or ^db\\."; }
            label { "For " input type="text" name="duration" required size="6" placeholder="2h" value=(DEFAULT_DURATION); }
            label { "Reason " input type="text" name="reason" maxlength="500" placeholder="why (optional)"; }
            button type="submit" { "Mute" }
        }
    }
}

fn mute_rows(ctx: &PageContext, mutes: &[MuteRow], active: bool) -> Markup {
    html! {
        tbody {
            @for m in mutes {
                tr data-mute=(m.id) {
                    td { code { (m.pattern) } }
                    td.time { (utc_ms(m.from_ms)) }
                    td.time { (utc_ms(m.until_ms)) }
                    td { (m.operator.as_deref().unwrap_or("—")) }
                    td { (m.reason.as_deref().unwrap_or("—")) }
                    @if active {
                        td {
                            @if ctx.can_write() {
                                form.inline method="post" action={ "/mutes/" (m.id) "/unmute" } data-confirm={ "End the mute of " (m.pattern) "?" } {
                                    input type="hidden" name="csrf" value=[ctx.csrf.as_deref()];
                                    button type="submit" { "Unmute" }
                                }
                            }
                        }
                    } @else {
                        td { @if let Some(by) = &m.unmuted_by { "unmuted by " (by) } @else if m.unmuted_at_ms.is_some() { "unmuted" } @else { "expired" } }
                    }
                }
            }
        }
    }
}

fn deliveries_table(rows: &[DeliveryRow]) -> Markup {
    html! {
        table.list #latest-deliveries {
            thead { tr {
                th { "When" } th { "Metric" } th { "Alerter" } th { "Outcome" }
                th.num { "Attempt" } th { "Detail" }
            } }
            tbody {
                @for d in rows {
                    tr data-outcome=(d.outcome) {
                        td.time { (utc_ms(d.at_ms)) }
                        td { a.metric href={ "/anomalies/" (d.anomaly_id) } { (d.metric) } }
                        td { (d.alerter) " (" (d.kind) ")" }
                        td { (outcome_badge(&d.outcome)) }
                        td.num { (d.attempt) }
                        td.detail { @if let Some(x) = &d.detail { (x) } @else { "—" } }
                    }
                }
            }
        }
    }
}

/// The mutes page.
pub fn render(ctx: &PageContext, view: &MutesView, notice: Option<&str>) -> Markup {
    let body = html! {
        h1 { "Mutes" }
        @if let Some(n) = notice { p.notice role="status" { (n) } }
        p.hint { "A mute holds back the alerts of every metric its pattern matches (as an alert rule's pattern) until it ends; the alerter records them as muted." }
        section #mute-new {
            h2 { "Mute" }
            (mute_form(ctx, "", "/mutes", false))
        }
        section #mutes-active {
            h2 { "In force" }
            @if view.active.is_empty() {
                p.empty { "No mute is in force: every alert is delivered." }
            } @else {
                table.list #active-mutes {
                    thead { tr { th { "Pattern" } th { "From" } th { "Until" } th { "By" } th { "Reason" } th {} } }
                    (mute_rows(ctx, &view.active, true))
                }
            }
        }
        section #mutes-ended {
            h2 { "Recently ended" }
            @if view.ended.is_empty() {
                p.empty { "None." }
            } @else {
                table.list #ended-mutes {
                    thead { tr { th { "Pattern" } th { "From" } th { "Ended" } th { "By" } th { "Reason" } th {} } }
                    (mute_rows(ctx, &view.ended, false))
                }
            }
        }
        section #deliveries-latest {
            h2 { "Latest deliveries" }
            @if view.deliveries.is_empty() {
                p.empty { "No alert delivery recorded yet." }
            } @else {
                (deliveries_table(&view.deliveries))
            }
        }
    };
    layout(ctx, "Mutes", Section::Mutes, body)
}
