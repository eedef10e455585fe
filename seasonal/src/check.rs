//! One seasonal check judged (`seasonal.md` §5): the series over the
//! check's hours (the roll-up merged with the check's full-resolution
//! window, §7), the 30-day series instead when the 7 days are irregular and
//! unstable (§8.1), the ensemble (§8), then the daily-peak override (§8.2).
//! Pure: the roll-up is read by the caller.

use analyze::derivative::non_negative_derivative;
use topics::SeasonalOutcome;

use crate::{
    anomalous_daily_peak, data_frequency, irregular_unstable, judge, merge_long_and_full,
    DailyPeak, IrregularUnstable, MirageVerdict, Point, SeasonalSettings, LONG_SPAN,
};

/// What the seasonal check is asked to judge.
#[derive(Debug, Clone, Copy)]
pub struct CheckInput<'a> {
    /// The metric (for the irregular/unstable skip list).
    pub metric: &'a str,
    /// The checked point's timestamp: the end of every series judged.
    pub timestamp: i64,
    /// Hours of history to judge (SECOND_ORDER_RESOLUTION_HOURS).
    pub hours: u32,
    /// The full-resolution window the Analyzer judged (raw values).
    pub full: &'a [Point],
    /// The Analyzer's full duration: the history must reach back at least
    /// this far.
    pub full_duration: i64,
    /// Judge the derivative (a monotonic counter).
    pub derivative: bool,
}

/// The seasonal judgement of one check.
#[derive(Debug, Clone, PartialEq)]
pub struct SeasonalJudgement {
    /// Anomalous, cleared, or skipped (not judged).
    pub outcome: SeasonalOutcome,
    /// Why, in a word (see [`SeasonalJudgement::reason`]).
    pub reason: &'static str,
    /// The ensemble's verdict (no votes when not judged).
    pub verdict: MirageVerdict,
    /// The daily-peak override's verdict, when it ran.
    pub daily_peak: Option<DailyPeak>,
    /// Seconds between the judged series' points.
    pub resolution: i64,
    /// Seconds of data judged (the hours asked, or 30 days).
    pub full_duration: i64,
    /// The series judged.
    pub series: Vec<Point>,
}

/// The check's reasons: judged anomalous by the ensemble; judged not
/// anomalous by it; let off as a normal daily peak; the history does not
/// reach back a full duration or is under MIN_TOLERABLE_LENGTH points.
pub mod reason {
    /// The ensemble reached (or missed) MIRAGE_CONSENSUS.
    pub const CONSENSUS: &str = "consensus";
    /// The anomaly is on a normal daily peak (§8.2).
    pub const DAILY_PEAK: &str = "daily_peak";
    /// Not enough history to judge over days.
    pub const TOO_SHORT: &str = "too_short";
    /// The check waited longer than MIRAGE_STALE_SECONDS.
    pub const STALE: &str = "stale";
}

/// The series to judge over `seconds` ending at the check's timestamp: the
/// roll-up points in `[timestamp − seconds, timestamp]` merged with the
/// full-resolution window (§7), derived for counters. When the merge is
/// empty (no roll-up, or the roll-up is already at 60 s) the roll-up and the
/// window are joined as they are.
pub fn series_over(
    input: &CheckInput<'_>,
    rollup: &[Point],
    seconds: i64,
    analysis_resolution: i64,
) -> Vec<Point> {
    let from = input.timestamp.saturating_sub(seconds);
    let long: Vec<Point> = rollup
        .iter()
        .copied()
        .filter(|p| p.0 >= from && p.0 <= input.timestamp)
        .collect();
    let full: Vec<Point> = input
        .full
        .iter()
        .copied()
        .filter(|p| p.0 <= input.timestamp && p.1.is_finite())
        .collect();
    let full_res = data_frequency(&full.iter().map(|p| p.0).collect::<Vec<_>>()).unwrap_or(60);
    let merged = merge_long_and_full(&long, &full, full_res, Some(analysis_resolution), false)
        .unwrap_or_default();
    let raw = if merged.is_empty() {
        let first_full = full.first().map_or(i64::MAX, |p| p.0);
        let mut joined: Vec<Point> = long.into_iter().filter(|p| p.0 < first_full).collect();
        joined.extend(full);
        joined
    } else {
        merged
    };
    if input.derivative {
        non_negative_derivative(&raw)
    } else {
        raw
    }
}

/// Judges one check over `rollup` (the metric's long window, any length;
/// points outside the check's span are ignored).
pub fn judge_check(
    input: &CheckInput<'_>,
    rollup: &[Point],
    settings: &SeasonalSettings,
) -> SeasonalJudgement {
    let seconds = i64::from(input.hours) * 3_600;
    let series = series_over(input, rollup, seconds, settings.analysis_resolution);
    let mirage = settings.mirage();
    let not_judged = |series: Vec<Point>, seconds: i64| SeasonalJudgement {
        outcome: SeasonalOutcome::Skipped,
        reason: reason::TOO_SHORT,
        verdict: MirageVerdict::not_judged(),
        daily_peak: None,
        resolution: resolution_of(&series),
        full_duration: seconds,
        series,
    };
    // The history must reach back at least a full duration (§5 `valid`).
    let reaches_back = series
        .first()
        .is_some_and(|p| p.0 <= input.timestamp.saturating_sub(input.full_duration));
    if !reaches_back || series.len() < settings.min_tolerable_length {
        return not_judged(series, seconds);
    }
    let (series, seconds) = if settings.may_use_30_days(input.metric) {
        match irregular_unstable(&series, || {
            series_over(input, rollup, LONG_SPAN, settings.analysis_resolution)
        }) {
            IrregularUnstable::Use30Days { series, .. } => (series, LONG_SPAN),
            IrregularUnstable::Keep(_) => (series, seconds),
        }
    } else {
        (series, seconds)
    };
    let verdict = judge(&series, input.timestamp, &mirage);
    if !verdict.judged() {
        return not_judged(series, seconds);
    }
    let daily_peak = match settings.daily_peak() {
        Some(peak) if verdict.anomalous => Some(anomalous_daily_peak(&series, &peak)),
        _ => None,
    };
    let (outcome, why) = match (&daily_peak, verdict.anomalous) {
        (Some(p), true) if !p.is_anomalous() => (SeasonalOutcome::Cleared, reason::DAILY_PEAK),
        (_, true) => (SeasonalOutcome::Anomalous, reason::CONSENSUS),
        (_, false) => (SeasonalOutcome::Cleared, reason::CONSENSUS),
    };
    SeasonalJudgement {
        outcome,
        reason: why,
        verdict,
        daily_peak,
        resolution: resolution_of(&series),
        full_duration: seconds,
        series,
    }
}

fn resolution_of(series: &[Point]) -> i64 {
    data_frequency(&series.iter().map(|p| p.0).collect::<Vec<_>>()).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A week of 10-minute roll-up with a daily sine, and the last day at
    /// one minute.
    fn week(spike: f64) -> (Vec<Point>, Vec<Point>, i64) {
        let end = 1_700_000_000 / 600 * 600;
        let day =
            |t: i64| 50.0 + 20.0 * ((t % 86_400) as f64 / 86_400.0 * std::f64::consts::TAU).sin();
        let rollup: Vec<Point> = (0..7 * 144)
            .map(|i| end - 7 * 86_400 + i * 600)
            .map(|t| (t, day(t)))
            .collect();
        let mut full: Vec<Point> = (0..1_440)
            .map(|i| end - 86_400 + 60 + i * 60)
            .map(|t| (t, day(t)))
            .collect();
        if let Some(last) = full.last_mut() {
            last.1 += spike;
        }
        (rollup, full, end)
    }

    fn input<'a>(full: &'a [Point], end: i64) -> CheckInput<'a> {
        CheckInput {
            metric: "office.energy",
            timestamp: end,
            hours: 168,
            full,
            full_duration: 86_400,
            derivative: false,
        }
    }

    #[test]
    fn a_day_is_merged_into_the_week_at_the_rollup_resolution() {
        let (rollup, full, end) = week(0.0);
        let s = series_over(&input(&full, end), &rollup, 7 * 86_400, 0);
        assert_eq!(resolution_of(&s), 600);
        assert_eq!(s.last().map(|p| p.0), Some(end));
        assert!(s.windows(2).all(|w| w[0].0 < w[1].0));
        assert!(s.first().is_some_and(|p| p.0 >= end - 7 * 86_400));
    }

    #[test]
    fn a_normal_week_is_cleared_and_a_short_history_is_skipped() {
        let (rollup, full, end) = week(0.0);
        let j = judge_check(&input(&full, end), &rollup, &SeasonalSettings::default());
        assert_eq!(j.outcome, SeasonalOutcome::Cleared, "{:?}", j.verdict);
        assert_eq!(j.verdict.votes.len(), 9);
        // Only the last day: nothing reaches back a full duration before it.
        let j = judge_check(&input(&full, end), &[], &SeasonalSettings::default());
        assert_eq!(
            (j.outcome, j.reason),
            (SeasonalOutcome::Skipped, reason::TOO_SHORT)
        );
    }

    #[test]
    fn a_spike_no_week_has_seen_stays_anomalous() {
        let (rollup, full, end) = week(5_000.0);
        let j = judge_check(&input(&full, end), &rollup, &SeasonalSettings::default());
        assert_eq!(j.outcome, SeasonalOutcome::Anomalous, "{:?}", j.verdict);
        assert!(!j.verdict.triggered.is_empty());
    }
}
