//! A whole seasonal check against an independent computation: for 50
//! checks on real NAB series, the verdict of [`seasonal::judge_check`]
//! (roll-up read from the windows' own `bucket_means`, merged by this
//! crate) equals the analyze ensemble run on the series pandas builds
//! (`pyref/seasonal_reference.py`: the roll-up as epoch-aligned 600 s bucket
//! means, the 7 days of it merged with the last day resampled backward, as
//! spec §7). Timestamps of the two series must be equal, values within
//! 1e-9 relative, and the verdicts (anomalous, triggered algorithms) equal.
//!
//! The 30-day choice (§8.1) and the daily-peak override (§8.2) are off
//! here: each has its own reference test (`reference_judge.rs`,
//! `reference_daily_peak.rs`); this one checks that the pieces are put
//! together on the right series.

mod common;

use common::{points, to_json, window, DAY};
use numeric::reference::{read_nab, rel_diff, run_reference};
use seasonal::{judge, judge_check, CheckInput, Point, SeasonalSettings};
use serde_json::json;
use topics::SeasonalOutcome;

const TOLERANCE: f64 = 1e-9;
const ROLLUP: i64 = 600;

/// Ten series of two weeks at 300 s: AWS CloudWatch, and the artificial
/// daily ones with and without anomalies.
const SERIES: [&str; 10] = [
    "realAWSCloudwatch/ec2_cpu_utilization_24ae8d.csv",
    "realAWSCloudwatch/ec2_cpu_utilization_825cc2.csv",
    "realAWSCloudwatch/ec2_cpu_utilization_5f5533.csv",
    "realAWSCloudwatch/rds_cpu_utilization_cc0c53.csv",
    "realAWSCloudwatch/ec2_network_in_257a54.csv",
    "artificialWithAnomaly/art_daily_jumpsup.csv",
    "artificialWithAnomaly/art_daily_flatmiddle.csv",
    "artificialNoAnomaly/art_daily_small_noise.csv",
    "artificialWithAnomaly/art_increase_spike_density.csv",
    "realAWSCloudwatch/ec2_cpu_utilization_77c1ca.csv",
];

#[test]
fn fifty_checks_judge_the_series_pandas_builds() {
    let settings = SeasonalSettings {
        irregular_unstable: false,
        check_repetitive_daily_peaks: 0,
        ..SeasonalSettings::default()
    };
    // label, the history up to the check, the check's timestamp
    let mut cases: Vec<(String, Vec<Point>, i64)> = Vec::new();
    for name in SERIES {
        let mut series = read_nab(name);
        windows::sort_dedup(&mut series);
        let (first, last) = (series[0].0, series[series.len() - 1].0);
        assert!(last - first >= 9 * DAY, "{name} is shorter than 9 days");
        // Five checks after day 8, on recorded points: the three points
        // furthest from the series' mean (hours apart; the ones an Analyzer
        // would have flagged) and two at regular places.
        let start = series.partition_point(|p| p.0 < first + 8 * DAY);
        let mean = series.iter().map(|p| p.1).sum::<f64>() / series.len() as f64;
        let mut by_distance: Vec<usize> = (start..series.len()).collect();
        by_distance.sort_by(|&a, &b| {
            (series[b].1 - mean)
                .abs()
                .total_cmp(&(series[a].1 - mean).abs())
        });
        let mut picked: Vec<usize> = Vec::new();
        for i in by_distance {
            if picked.len() == 3 {
                break;
            }
            if picked
                .iter()
                .all(|&j| (series[i].0 - series[j].0).abs() >= 6 * 3_600)
            {
                picked.push(i);
            }
        }
        picked.push(start + (series.len() - start) / 3);
        picked.push(series.len() - 1);
        for at in picked {
            let ts = series[at].0;
            cases.push((format!("{name} at {ts}"), series[..=at].to_vec(), ts));
        }
    }
    let input = json!({
        "rollup": cases
            .iter()
            .map(|(_, history, _)| json!({"series": to_json(history), "resolution": ROLLUP}))
            .collect::<Vec<_>>(),
    });
    let rollups = run_reference("seasonal_reference.py", &input)["rollup"].clone();
    let rollups: Vec<Vec<Point>> = rollups
        .as_array()
        .expect("rollups")
        .iter()
        .map(points)
        .collect();
    let merge_input = json!({
        "merge": cases
            .iter()
            .zip(&rollups)
            .map(|((_, history, ts), rollup)| json!({
                "long": to_json(&window(rollup, *ts, 7 * DAY + 1)),
                "full": to_json(&window(history, *ts, DAY)),
                "full_res": 300,
                "analysis_resolution": 0,
                "derivative": false,
            }))
            .collect::<Vec<_>>(),
    });
    let merged = run_reference("seasonal_reference.py", &merge_input)["merge"].clone();
    let merged: Vec<Vec<Point>> = merged
        .as_array()
        .expect("merged")
        .iter()
        .map(points)
        .collect();

    let (mut equal, mut anomalous) = (0, 0);
    for ((label, history, ts), want_series) in cases.iter().zip(&merged) {
        let rollup = windows::log::bucket_means(history, ROLLUP);
        let full = window(history, *ts, DAY);
        let input = CheckInput {
            metric: "nab.series",
            timestamp: *ts,
            hours: 168,
            full: &full,
            full_duration: DAY,
            derivative: false,
        };
        let got = judge_check(&input, &rollup, &settings);
        assert_eq!(got.series.len(), want_series.len(), "{label}: length");
        for (i, (g, w)) in got.series.iter().zip(want_series).enumerate() {
            assert_eq!(g.0, w.0, "{label}: point {i} timestamp");
            assert!(
                rel_diff(g.1, w.1) <= TOLERANCE,
                "{label}: point {i}: {} vs {}",
                g.1,
                w.1
            );
        }
        let want = judge(want_series, *ts, &settings.mirage());
        assert!(
            want.judged(),
            "{label}: the reference series is too short to judge"
        );
        assert_eq!(got.verdict.anomalous, want.anomalous, "{label}");
        assert_eq!(got.verdict.triggered, want.triggered, "{label}");
        let outcome = if want.anomalous {
            SeasonalOutcome::Anomalous
        } else {
            SeasonalOutcome::Cleared
        };
        assert_eq!(got.outcome, outcome, "{label}");
        equal += 1;
        anomalous += usize::from(want.anomalous);
    }
    eprintln!(
        "{equal}/{} seasonal checks equal the reference ({anomalous} anomalous)",
        cases.len()
    );
    assert_eq!(equal, 50);
}
