//! `skyline backtest --all-algorithms` on every NAB series in
//! `../shared/data/nab/`: the output has the documented shape, its verdicts
//! follow from its votes, and anomalies fall in NAB's labelled windows more
//! often than outside them (the rates are printed for the record).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

const HEADER: &str = "timestamp,value,histogram_bins,first_hour_average,stddev_from_average,grubbs,ks_test,mean_subtraction_cumulation,median_absolute_deviation,stddev_from_moving_average,least_squares,anomalous,alert";

fn nab_dir() -> PathBuf {
    let dir = std::env::var_os("SKYLINE_SHARED_DATA")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/data"))
        .join("nab");
    assert!(
        dir.is_dir(),
        "NAB data not found at {} (set SKYLINE_SHARED_DATA)",
        dir.display()
    );
    dir
}

fn epoch(s: &str) -> i64 {
    chrono::NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S%.f")
        .unwrap_or_else(|e| panic!("{s}: {e}"))
        .and_utc()
        .timestamp()
}

#[derive(Default)]
struct Rates {
    in_points: usize,
    in_anomalous: usize,
    out_points: usize,
    out_anomalous: usize,
}

#[test]
fn every_nab_series_backtests_with_plausible_output() {
    let dir = nab_dir();
    let labels: BTreeMap<String, Vec<[String; 2]>> =
        serde_json::from_str(&std::fs::read_to_string(dir.join("labels_windows.json")).unwrap())
            .unwrap();
    let mut total = Rates::default();
    let mut files = 0;
    for (rel, windows) in &labels {
        let path = dir.join(rel);
        let out = Command::new(env!("CARGO_BIN_EXE_skyline"))
            .args(["backtest", "--all-algorithms"])
            .arg(&path)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{rel}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let text = String::from_utf8(out.stdout).unwrap();
        // One row per distinct timestamp: like the live window, the backtest
        // keeps the first point of a timestamp seen twice.
        let input_rows = std::fs::read_to_string(&path)
            .unwrap()
            .lines()
            .skip(1)
            .filter_map(|l| l.split(',').next().map(epoch))
            .collect::<std::collections::BTreeSet<_>>()
            .len();
        let mut lines = text.lines();
        assert_eq!(lines.next(), Some(HEADER), "{rel}");
        let windows: Vec<(i64, i64)> = windows.iter().map(|[a, b]| (epoch(a), epoch(b))).collect();
        let mut rates = Rates::default();
        let mut rows = 0;
        let mut last_ts = i64::MIN;
        for line in lines {
            rows += 1;
            let f: Vec<&str> = line.split(',').collect();
            assert_eq!(f.len(), 13, "{rel}: {line}");
            let ts: i64 = f[0].parse().unwrap();
            assert!(ts > last_ts, "{rel}: timestamps ascend");
            last_ts = ts;
            f[1].parse::<f64>().unwrap();
            let votes = &f[2..11];
            assert!(
                votes.iter().all(|v| ["", "0", "1"].contains(v)),
                "{rel}: {line}"
            );
            let (anomalous, alert) = (f[11], f[12]);
            assert!(
                ["0", "1"].contains(&anomalous) && ["0", "1"].contains(&alert),
                "{rel}: {line}"
            );
            let cast = votes.iter().filter(|v| !v.is_empty()).count();
            let falses = votes.iter().filter(|v| **v == "0").count();
            // --all-algorithms: a judged row has all nine votes cast (no
            // algorithm errors on these series); an unjudged row none.
            assert!(cast == 0 || cast == 9, "{rel}: {line}");
            // CONSENSUS 6 of 9: anomalous iff at most three False votes.
            assert_eq!(anomalous == "1", cast > 0 && falses <= 3, "{rel}: {line}");
            assert!(
                alert == "0" || anomalous == "1",
                "{rel}: alert without anomaly: {line}"
            );
            let inside = windows.iter().any(|&(a, b)| a <= ts && ts <= b);
            let is_anomalous = anomalous == "1";
            if inside {
                rates.in_points += 1;
                rates.in_anomalous += usize::from(is_anomalous);
            } else {
                rates.out_points += 1;
                rates.out_anomalous += usize::from(is_anomalous);
            }
        }
        assert_eq!(
            rows, input_rows,
            "{rel}: one output row per distinct input timestamp"
        );
        files += 1;
        let pct = |a: usize, n: usize| {
            if n == 0 {
                f64::NAN
            } else {
                100.0 * a as f64 / n as f64
            }
        };
        eprintln!(
            "{rel}: anomalous in labelled windows {}/{} ({:.2}%), outside {}/{} ({:.2}%)",
            rates.in_anomalous,
            rates.in_points,
            pct(rates.in_anomalous, rates.in_points),
            rates.out_anomalous,
            rates.out_points,
            pct(rates.out_anomalous, rates.out_points)
        );
        total.in_points += rates.in_points;
        total.in_anomalous += rates.in_anomalous;
        total.out_points += rates.out_points;
        total.out_anomalous += rates.out_anomalous;
    }
    assert!(files >= 28, "expected every NAB file, saw {files}");
    let in_rate = total.in_anomalous as f64 / total.in_points as f64;
    let out_rate = total.out_anomalous as f64 / total.out_points as f64;
    eprintln!(
        "all NAB files: anomalous in labelled windows {:.3}% of {} points, outside {:.3}% of {} points",
        100.0 * in_rate,
        total.in_points,
        100.0 * out_rate,
        total.out_points
    );
    // Plausibility, not a benchmark: flagged points concentrate where NAB
    // says anomalies are.
    assert!(
        in_rate > out_rate,
        "anomalies do not cluster in labelled windows"
    );
}
