//! Values near ±f64::MAX (finite, but overflowing in sums, variances and
//! ranges) and timestamps near the ends of i64 give a defined result in the
//! Analyzer's ensemble, the fingerprint features, min-max scaling and
//! matching: no panic, no hang (issue 14). Each case runs on its own thread
//! against a time bound.

use std::sync::mpsc;
use std::time::Duration;

use analyze::alert_rules::AlertRule;
use analyze::stream::{judge_batch, MetricState};
use analyze::{Point, Settings};
use fingerprint::matching::{
    judge, minmax, profile_features, Check, MatchSettings, Profile, ProfileCache,
};
use fingerprint::{FeatureSet, Features};
use uuid::Uuid;

/// Runs `f` on a thread; fails if it panics or takes longer than `limit`.
fn within<T: Send + 'static>(
    limit: Duration,
    what: &str,
    f: impl FnOnce() -> T + Send + 'static,
) -> T {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(f());
    });
    match rx.recv_timeout(limit) {
        Ok(v) => v,
        Err(mpsc::RecvTimeoutError::Timeout) => panic!("{what}: still running after {limit:?}"),
        Err(mpsc::RecvTimeoutError::Disconnected) => panic!("{what}: panicked"),
    }
}

// --- the Analyzer ---------------------------------------------------------

fn settings() -> Settings {
    Settings {
        enable_all_algorithms_run_metrics: true,
        ..Settings::default()
    }
}

fn judge_series(points: Vec<Point>) -> usize {
    let mut window = Vec::new();
    let mut state = MetricState::default();
    let judged = judge_batch(
        "extreme",
        &mut window,
        &points,
        &mut state,
        &settings(),
        &[AlertRule::catch_all()],
        0,
        false,
    );
    judged.len()
}

/// A day of one-minute points: ordinary noise, then the given tail.
fn day_then(tail: &[f64]) -> Vec<Point> {
    let start = 1_700_000_000;
    let mut values: Vec<f64> = (0..1440).map(|i| 10.0 + ((i * 7919) % 13) as f64).collect();
    values.extend_from_slice(tail);
    values
        .into_iter()
        .enumerate()
        .map(|(i, v)| (start + 60 * i as i64, v))
        .collect()
}

#[test]
fn values_near_the_largest_finite_double_are_judged() {
    let big = 1.7e308;
    let cases: Vec<(&str, Vec<Point>)> = vec![
        ("+max then -max", day_then(&[big, -big])),
        (
            "alternating",
            day_then(&[big, -big, big, -big, f64::MAX, f64::MIN]),
        ),
        (
            "only extremes",
            (0..300)
                .map(|i| (1_700_000_000 + 60 * i, if i % 2 == 0 { big } else { -big }))
                .collect(),
        ),
        ("tiny and huge", day_then(&[f64::MIN_POSITIVE, big, 5e-324])),
    ];
    for (what, points) in cases {
        let n = points.len();
        let judged = within(Duration::from_secs(60), what, move || judge_series(points));
        assert_eq!(judged, n, "{what}: every point judged");
    }
}

#[test]
fn timestamps_near_the_ends_of_i64_are_judged() {
    for (what, points) in [
        (
            "near i64::MIN",
            vec![
                (i64::MIN + 5, 1.0),
                (-9_223_372_036_854_700_000, 1.0),
                (0, 2.0),
            ],
        ),
        (
            "near i64::MAX",
            vec![(i64::MAX - 100, 1.0), (i64::MAX, 2.0)],
        ),
        ("both ends", vec![(i64::MIN, 1.0), (i64::MAX, 2.0)]),
    ] {
        let n = points.len();
        let judged = within(Duration::from_secs(10), what, move || judge_series(points));
        assert_eq!(judged, n, "{what}");
    }
}

// --- fingerprint -----------------------------------------------------------

const BIG: f64 = 1.7e308;

/// Series with values that overflow when summed, squared or subtracted.
fn extreme_series() -> Vec<(&'static str, Vec<f64>)> {
    let noise =
        |n: usize| -> Vec<f64> { (0..n).map(|i| 10.0 + ((i * 7919) % 13) as f64).collect() };
    let mut with_spikes = noise(1440);
    with_spikes.extend([BIG, -BIG]);
    let mut mixed = noise(200);
    mixed.extend([f64::MAX, f64::MIN, BIG, 5e-324, -BIG, f64::MIN_POSITIVE]);
    vec![
        ("a day then +max, -max", with_spikes),
        (
            "alternating ±1.7e308",
            (0..300)
                .map(|i| if i % 2 == 0 { BIG } else { -BIG })
                .collect(),
        ),
        ("all f64::MAX", vec![f64::MAX; 100]),
        ("MAX and MIN", vec![f64::MAX, f64::MIN, f64::MAX, f64::MIN]),
        ("mixed", mixed),
    ]
}

#[test]
fn features_of_extreme_values_are_defined() {
    for (what, values) in extreme_series() {
        let f = within(Duration::from_secs(120), what, move || {
            Features::compute(&values, FeatureSet::Comprehensive)
        });
        // Each feature is a number, NaN or ±inf where the reference's is
        // too; a non-finite features sum compares as "no match"
        // (`percent_different` is `None`).
        assert_eq!(f.len(), 216, "{what}");
    }
}

#[test]
fn min_max_scaling_of_extreme_values_stays_in_zero_to_one() {
    for (what, values) in extreme_series() {
        let (min, max) = values
            .iter()
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &v| {
                (lo.min(v), hi.max(v))
            });
        let scaled = minmax::scale(&values, min, max);
        assert!(
            scaled.iter().all(|v| (0.0..=1.0).contains(v)),
            "{what}: {:?}",
            &scaled[scaled.len().saturating_sub(6)..]
        );
        if min < max {
            assert_eq!(
                scaled.iter().copied().fold(f64::NAN, f64::max),
                1.0,
                "{what}"
            );
        }
        let side = within(Duration::from_secs(60), what, move || minmax::side(&values));
        assert!(side.is_some(), "{what}");
    }
}

#[test]
fn matching_extreme_values_against_a_profile_ends_with_a_verdict() {
    let normal: Vec<(i64, f64)> = (0..1440)
        .map(|i| (1_700_000_000 + 60 * i, 10.0 + ((i * 7919) % 13) as f64))
        .collect();
    for (what, values) in extreme_series() {
        let profile_series = normal.clone();
        let checked = values.clone();
        let verdict = within(Duration::from_secs(120), what, move || {
            let profile_values: Vec<f64> = profile_series.iter().map(|p| p.1).collect();
            let (features, features_sum) = profile_features(&profile_values);
            let profile = Profile {
                id: Uuid::nil(),
                full_duration: 86_400,
                generation: 1,
                features,
                features_sum,
                series: profile_series,
                layers: None,
                echo: false,
                cache: ProfileCache::default(),
            };
            let series: Vec<(i64, f64)> = checked
                .iter()
                .enumerate()
                .map(|(i, &v)| (1_700_000_000 + 60 * i as i64, v))
                .collect();
            let check = Check {
                timestamp: series.last().map_or(0, |p| p.0),
                series: &series,
                full_duration: 86_400,
                echo_series: None,
            };
            judge(&check, &[&profile], &MatchSettings::default())
        });
        assert!(
            verdict.matched.is_none(),
            "{what}: extremes are not like the profile: {:?}",
            verdict.matched
        );
        // And a profile can be made of extreme values.
        within(Duration::from_secs(120), what, move || {
            profile_features(&values)
        });
    }
}
