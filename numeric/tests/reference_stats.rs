//! The numeric crate's building blocks against numpy / scipy / pandas
//! (pinned in `pyref/requirements.txt`) on windows of real series, as the
//! Analyzer uses them.
//!
//! Tolerances (relative, `|a-b| / max(|a|,|b|)`):
//! * mean, std, median, MAD, histogram edges: 1e-12 (same arithmetic up to
//!   summation order); histogram counts: exact;
//! * ewm mean/std: 1e-12 (pandas accumulates recursively, we sum weights);
//! * Student t quantile `student_t_isf(0.05/(2n), n-2)`, the one the Grubbs
//!   test needs, checked directly: 1e-10 (statrs vs scipy's Boost; worst
//!   seen 6.9e-12);
//! * least-squares residual std and tail mean: 1e-8 — numpy fits `[t, 1]`
//!   with raw epoch seconds, a condition number near 1e13, so its residuals
//!   carry noise that our centred fit does not have (worst seen: 2.4e-10,
//!   on a tail mean close to zero).

use numeric::reference as support;

use numeric::{ewm_mean_std, histogram, linear_fit, mean, median, sample_std, std, student_t_isf};
use std::collections::BTreeMap;

use serde_json::json;
use support::{num, read_nab, rel_diff, shared_data};

/// Windows of real data: several lengths from several NAB series and the
/// 1-minute statsd counter.
fn windows() -> Vec<(String, Vec<(i64, f64)>)> {
    let mut out = Vec::new();
    for file in [
        "realAWSCloudwatch/ec2_cpu_utilization_825cc2.csv",
        "realAWSCloudwatch/grok_asg_anomaly.csv",
        "realAWSCloudwatch/elb_request_count_8c0756.csv",
        "realAWSCloudwatch/rds_cpu_utilization_e47b3b.csv",
        "artificialWithAnomaly/art_daily_jumpsup.csv",
        "artificialWithAnomaly/art_increase_spike_density.csv",
        "artificialNoAnomaly/art_noisy.csv",
    ] {
        let pts = read_nab(file);
        for (len, end) in [
            (100, 300),
            (288, 2000),
            (1440, 3000),
            (pts.len(), pts.len()),
        ] {
            let end = end.min(pts.len());
            let start = end.saturating_sub(len);
            out.push((format!("{file}[{start}..{end}]"), pts[start..end].to_vec()));
        }
    }
    let statsd = std::fs::read_to_string(
        shared_data().join("skyline/stats.statsd.bad_lines_seen.20161110.csv"),
    )
    .unwrap();
    let pts: Vec<(i64, f64)> = statsd
        .lines()
        .map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            (support::parse_utc(f[1]), f[2].parse().unwrap())
        })
        .collect();
    out.push(("stats.statsd.bad_lines_seen".into(), pts));
    out
}

/// Comparisons made and those out of tolerance (with their relative error).
#[derive(Default)]
struct Tally {
    compared: usize,
    failures: Vec<(f64, String)>,
    /// The largest relative difference seen per quantity, for the report.
    worst: BTreeMap<&'static str, f64>,
}

impl Tally {
    fn check(&mut self, tol: f64, quantity: &'static str, what: String, ours: f64, theirs: f64) {
        self.compared += 1;
        let d = rel_diff(ours, theirs);
        let worst = self.worst.entry(quantity).or_insert(0.0);
        *worst = worst.max(d);
        if d > tol || d.is_nan() {
            self.failures.push((
                d,
                format!("{what}: ours {ours:?} reference {theirs:?} (rel {d:e} > {tol:e})"),
            ));
        }
    }

    fn require(&mut self, ok: bool, what: String) {
        self.compared += 1;
        if !ok {
            self.failures.push((f64::INFINITY, what));
        }
    }
}

#[test]
fn building_blocks_match_numpy_scipy_pandas() {
    let windows = windows();
    let t_isf_n: Vec<usize> = vec![
        3, 4, 5, 10, 20, 50, 99, 100, 101, 288, 1000, 1439, 1440, 4032, 8640, 10_080,
    ];
    let input = json!({
        "series": windows.iter().map(|(_, pts)| json!({
            "t": pts.iter().map(|p| p.0).collect::<Vec<_>>(),
            "v": pts.iter().map(|p| p.1).collect::<Vec<_>>(),
        })).collect::<Vec<_>>(),
        "t_isf_n": t_isf_n,
    });
    let reference = support::run_reference("analyzer_stats.py", &input);
    let mut tally = Tally::default();

    for ((name, pts), r) in windows.iter().zip(reference["series"].as_array().unwrap()) {
        let t: Vec<f64> = pts.iter().map(|p| p.0 as f64).collect();
        let v: Vec<f64> = pts.iter().map(|p| p.1).collect();
        let f = |k: &str| num(&r[k]);
        let mut c = |tol, what: &'static str, ours, theirs| {
            tally.check(tol, what, format!("{name} {what}"), ours, theirs)
        };
        c(1e-12, "mean", mean(&v), f("mean"));
        c(1e-12, "std ddof 0", std(&v, 0), f("std0"));
        c(1e-12, "std ddof 1", sample_std(&v), f("std1"));
        let med = median(&v);
        c(1e-12, "median", med, f("median"));
        let dev: Vec<f64> = v.iter().map(|x| (x - med).abs()).collect();
        c(1e-12, "median absolute deviation", median(&dev), f("mad"));
        let (mu, sigma) = ewm_mean_std(&v, 50.0);
        c(1e-12, "ewm mean", mu, f("ewm_mean"));
        c(1e-12, "ewm std", sigma, f("ewm_std"));
        let (m, b) = linear_fit(&t, &v).unwrap();
        let e: Vec<f64> = t.iter().zip(&v).map(|(x, y)| y - (m * x + b)).collect();
        let n = e.len();
        c(
            1e-8,
            "least squares residual std",
            sample_std(&e),
            f("lsq_std"),
        );
        c(
            1e-8,
            "least squares residual tail",
            (e[n - 1] + e[n - 2] + e[n - 3]) / 3.0,
            f("lsq_tail"),
        );
        let (counts, edges) = histogram(&v, 15);
        let ref_counts: Vec<u64> = r["hist_counts"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x.as_u64().unwrap())
            .collect();
        let ours: Vec<u64> = counts.iter().map(|&x| u64::from(x)).collect();
        for (k, (a, b)) in edges
            .iter()
            .zip(r["hist_edges"].as_array().unwrap())
            .enumerate()
        {
            tally.check(
                1e-12,
                "histogram edge",
                format!("{name} histogram edge {k}"),
                *a,
                num(b),
            );
        }
        tally.require(
            ours == ref_counts,
            format!("{name} histogram counts: ours {ours:?} numpy {ref_counts:?}"),
        );
    }
    for (n, r) in t_isf_n.iter().zip(reference["t_isf"].as_array().unwrap()) {
        let nf = *n as f64;
        let t = student_t_isf(0.05 / (2.0 * nf), nf - 2.0).unwrap();
        tally.check(
            1e-10,
            "student t isf",
            format!("t.isf(0.05/(2·{n}), {n}-2)"),
            t,
            num(r),
        );
    }
    let Tally {
        compared,
        mut failures,
        worst,
    } = tally;
    for (quantity, d) in &worst {
        eprintln!("worst relative difference, {quantity}: {d:e}");
    }
    failures.sort_by(|a, b| b.0.total_cmp(&a.0));
    for (_, f) in failures.iter().take(20) {
        eprintln!("{f}");
    }
    assert!(
        failures.is_empty(),
        "{} of {compared} comparisons out of tolerance",
        failures.len()
    );
    eprintln!(
        "{compared} comparisons within tolerance on {} windows",
        windows.len()
    );
}
