//! The seasonal series against pandas (`pyref/seasonal_reference.py`):
//! `data_frequency` and `downsample` on real NAB series, at 300 s as
//! recorded and at 60 s (the same values, their timestamps compressed five
//! times, since NAB holds no minutely series), to 300, 600, 900, 3600 and
//! 7200 s.
//! Timestamps must match exactly, values within 1e-9 relative. And
//! `merge_long_and_full` against §7's pseudocode on the same series.

mod common;

use common::{points, to_json};

use numeric::reference::{read_nab, rel_diff, run_reference};
use seasonal::{data_frequency, downsample, Point};
use serde_json::json;

/// Relative tolerance on a bucket's mean: pandas and this crate both sum
/// Kahan-compensated in timestamp order, so they agree to a few ulps.
const TOLERANCE: f64 = 1e-9;

/// Regular series, series with gaps (825cc2, ac20cd, elb), with duplicate
/// timestamps and an hour-long gap (1ef3de, 5abac7), a short one (iio), a
/// flat line and a square wave.
const SERIES: [&str; 10] = [
    "realAWSCloudwatch/ec2_cpu_utilization_24ae8d.csv",
    "realAWSCloudwatch/ec2_cpu_utilization_825cc2.csv",
    "realAWSCloudwatch/ec2_cpu_utilization_ac20cd.csv",
    "realAWSCloudwatch/elb_request_count_8c0756.csv",
    "realAWSCloudwatch/ec2_disk_write_bytes_1ef3de.csv",
    "realAWSCloudwatch/ec2_network_in_5abac7.csv",
    "realAWSCloudwatch/iio_us-east-1_i-a2eb1cd9_NetworkIn.csv",
    "realAWSCloudwatch/grok_asg_anomaly.csv",
    "artificialNoAnomaly/art_flatline.csv",
    "artificialNoAnomaly/art_daily_perfect_square_wave.csv",
];

/// The series with its steps from the first point divided by five: 300 s
/// becomes 60 s (a duplicate stays a duplicate).
fn minutely(series: &[Point]) -> Vec<Point> {
    let t0 = series[0].0;
    series
        .iter()
        .map(|&(t, v)| (t0 + (t - t0) / 5, v))
        .collect()
}

#[test]
fn downsample_matches_pandas_resample_origin_end() {
    let mut cases: Vec<(String, Vec<Point>, i64, i64)> = Vec::new();
    for name in SERIES {
        let s300 = read_nab(name);
        let s60 = minutely(&s300);
        for (from, to, series) in [
            (300, 600, &s300),
            (300, 900, &s300),
            (300, 3600, &s300),
            (60, 600, &s60),
            (60, 900, &s60),
            (60, 3600, &s60),
            (60, 300, &s60),
            // the reference's '<to/from>T' rule: 24-minute buckets
            (300, 7200, &s300),
        ] {
            cases.push((format!("{name} {from}->{to}"), series.clone(), from, to));
        }
        // a day's tail, and a window not ending on a bucket edge
        let tail = s60[s60.len() - 1440.min(s60.len())..].to_vec();
        cases.push((format!("{name} last day 60->600"), tail, 60, 600));
        let cut = s300[..s300.len() - 7].to_vec();
        cases.push((format!("{name} cut 300->3600"), cut, 300, 3600));
    }
    let input = json!({
        "downsample": cases
            .iter()
            .map(|(_, s, from, to)| json!({"series": to_json(s), "from": from, "to": to}))
            .collect::<Vec<_>>(),
    });
    let out = run_reference("seasonal_reference.py", &input);
    let expected = out["downsample"].as_array().expect("results");
    assert_eq!(expected.len(), cases.len());
    let mut worst = 0.0f64;
    for ((label, series, from, to), want) in cases.iter().zip(expected) {
        let want = points(want);
        let got = downsample(series, *from, *to).expect("valid resolutions");
        assert_eq!(got.len(), want.len(), "{label}: bucket count");
        assert!(!got.is_empty(), "{label}: no buckets");
        for (i, (g, w)) in got.iter().zip(&want).enumerate() {
            assert_eq!(g.0, w.0, "{label}: bucket {i} timestamp");
            let d = rel_diff(g.1, w.1);
            assert!(
                d <= TOLERANCE,
                "{label}: bucket {i} at {}: {} vs pandas {}",
                g.0,
                g.1,
                w.1
            );
            worst = worst.max(d);
        }
    }
    eprintln!("{} cases, worst relative difference {worst:e}", cases.len());
}

#[test]
fn data_frequency_matches_the_reference() {
    let mut samples: Vec<Vec<i64>> = Vec::new();
    for name in SERIES {
        let s300 = read_nab(name);
        let s60 = minutely(&s300);
        for s in [&s300, &s60] {
            let ts: Vec<i64> = s.iter().map(|p| p.0).collect();
            // whole, short prefixes (all of it counts), and windows sliding
            // over the gaps and duplicates
            samples.push(ts.clone());
            for n in [2, 3, 10, 94, 95, 101, 102] {
                samples.push(ts[..n.min(ts.len())].to_vec());
            }
            for start in (0..ts.len().saturating_sub(120)).step_by(37) {
                samples.push(ts[start..start + 120].to_vec());
            }
        }
    }
    // jittery minutely streams and mixed steps
    for step in [4, 7, 45, 59, 61, 68, 69, 30, 15] {
        samples.push((0..200).map(|i| i * step + (i * 7919) % 3).collect());
    }
    samples.push(vec![0, 600, 1200, 1500, 1800]);
    samples.push(vec![0, 900, 1500, 1800]);
    samples.push(vec![42]);
    samples.push(vec![]);
    let out = run_reference("seasonal_reference.py", &json!({ "frequency": samples }));
    let expected = out["frequency"].as_array().expect("results");
    assert_eq!(expected.len(), samples.len());
    for (ts, want) in samples.iter().zip(expected) {
        assert_eq!(
            data_frequency(ts),
            want.as_i64(),
            "{} timestamps from {:?}",
            ts.len(),
            ts.first()
        );
    }
    eprintln!("{} samples", samples.len());
}

/// `merge_long_and_full` against §7's pseudocode in Python: each NAB series
/// at 300 s as the long series, the last day of another one at 60 s (its
/// steps compressed, shifted to end up to two minutes after the long one)
/// as the full-resolution series; plain and derivative, with and without an
/// analysis resolution. (The Rust side derives with the Analyzer's
/// `non_negative_derivative`, identical to Graphite's for more than three
/// points, which every case has.)
#[test]
fn merge_matches_the_reference() {
    /// label, long, full, analysis resolution (0: off), derivative
    type Case = (String, Vec<Point>, Vec<Point>, i64, bool);
    let mut cases: Vec<Case> = Vec::new();
    for (i, name) in SERIES.iter().enumerate() {
        let long = read_nab(name);
        let other = minutely(&read_nab(SERIES[(i + 3) % SERIES.len()]));
        let day = &other[other.len() - 1440.min(other.len())..];
        let shift = long.last().unwrap().0 + (i as i64 % 3) * 60 - day.last().unwrap().0;
        let full: Vec<Point> = day.iter().map(|&(t, v)| (t + shift, v)).collect();
        for (analysis, derivative) in [(0, false), (0, true), (1800, false), (3600, true)] {
            cases.push((
                format!("{name} analysis {analysis} derivative {derivative}"),
                long.clone(),
                full.clone(),
                analysis,
                derivative,
            ));
        }
    }
    let input = json!({
        "merge": cases
            .iter()
            .map(|(_, long, full, analysis, derivative)| json!({
                "long": to_json(long),
                "full": to_json(full),
                "full_res": 60,
                "analysis_resolution": analysis,
                "derivative": derivative,
            }))
            .collect::<Vec<_>>(),
    });
    let out = run_reference("seasonal_reference.py", &input);
    let expected = out["merge"].as_array().expect("results");
    assert_eq!(expected.len(), cases.len());
    for ((label, long, full, analysis, derivative), want) in cases.iter().zip(expected) {
        let want = points(want);
        let analysis = (*analysis > 0).then_some(*analysis);
        let got = seasonal::merge_long_and_full(long, full, 60, analysis, *derivative)
            .expect("valid resolutions");
        assert!(!got.is_empty(), "{label}: nothing merged");
        assert_eq!(got.len(), want.len(), "{label}: length");
        for (i, (g, w)) in got.iter().zip(&want).enumerate() {
            assert_eq!(g.0, w.0, "{label}: point {i} timestamp");
            let d = rel_diff(g.1, w.1);
            assert!(d <= TOLERANCE, "{label}: point {i}: {} vs {}", g.1, w.1);
        }
    }
    eprintln!("{} merge cases", cases.len());
}
