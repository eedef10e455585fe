//! Every feature against tsfresh 0.20.3 (and, for the fork's legacy
//! calculators tsfresh no longer has, numpy/scipy/pandas one-liners of the
//! fork's formula) on real series from `../shared/data/`: lengths 60, 1 440
//! (a day at one-minute resolution) and ≥ 10 000 (real NAB series joined
//! end to end: no single file in the data set is that long).
//!
//! The reference is `pyref/fingerprint/tsfresh_features.py`, run in the venv
//! `pyref/fingerprint/ensure-venv.sh` creates. Relative tolerance 1e-9;
//! 1e-6 for `augmented_dickey_fuller`, `ar_coefficient`, `cwt_coefficients`
//! and `spkt_welch_density` (least squares, convolution and FFT done with a
//! different summation order than LAPACK/numpy's, on values that may be
//! small next to the terms that produced them). Two more allowances, each
//! for a value that is zero or a tie in exact arithmetic, so that only
//! rounding decides it:
//!
//! * an absolute floor where the exact value is 0 and both sides return
//!   rounding noise: `fft_coefficient` within `1e-13·Σ|x[..18]|` (the
//!   DFT's rounding bound; a square wave gives exact zeros in pocketfft and
//!   ±3e-14 here), `ar_coefficient` within `1e-12·max|φ|` (an exactly
//!   fitting AR model, e.g. a square wave, has coefficients that are pure
//!   noise at 1e-15 on both sides).
//! * `number_cwt_peaks` within a relative 2e-3 (a count off by one or two in
//!   a thousand): scipy's `find_peaks_cwt` compares neighbouring CWT values
//!   with a strict `>`, and on mirror-symmetric stretches of real data the
//!   two are equal in exact arithmetic, so the last bit of the Ricker
//!   samples decides; numpy's AVX-512 `exp` differs from the C library's by
//!   an ulp there. Counts on the 60- and 1 440-point series are exact.

use fingerprint::{FeatureSet, Features, FEATURE_NAMES};
use numeric::reference::{run_python, shared_data, tsfresh_floor, tsfresh_tolerance};
use serde_json::{json, Value};

/// The values (last column) of a CSV under `shared/data`, header skipped.
fn values(rel: &str) -> Vec<f64> {
    let path = shared_data().join(rel);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    text.lines()
        .filter_map(|l| l.rsplit(',').next()?.trim().parse::<f64>().ok())
        .collect()
}

fn window(rel: &str, start: usize, len: usize) -> Vec<f64> {
    let v = values(rel);
    assert!(v.len() >= start + len, "{rel} has {} values", v.len());
    v[start..start + len].to_vec()
}

/// Real series joined end to end, cut to `len`.
fn joined(rels: &[&str], len: usize) -> Vec<f64> {
    let v: Vec<f64> = rels.iter().flat_map(|r| values(r)).collect();
    assert!(v.len() >= len);
    v[..len].to_vec()
}

fn cases() -> Vec<(String, Vec<f64>)> {
    let aws = |f: &str| format!("nab/realAWSCloudwatch/{f}");
    let art = |f: &str| format!("nab/artificialWithAnomaly/{f}");
    let flat = |f: &str| format!("nab/artificialNoAnomaly/{f}");
    let statsd = "skyline/stats.statsd.bad_lines_seen.20161110.csv".to_string();
    let mut out = Vec::new();
    for (rel, start) in [
        (aws("ec2_cpu_utilization_825cc2.csv"), 0),
        (aws("grok_asg_anomaly.csv"), 1000),
        (aws("elb_request_count_8c0756.csv"), 2000),
        (art("art_daily_jumpsup.csv"), 500),
        (statsd.clone(), 600),
    ] {
        out.push((format!("{rel}[{start}..+60]"), window(&rel, start, 60)));
    }
    for (rel, start) in [
        (aws("ec2_network_in_257a54.csv"), 100),
        (aws("rds_cpu_utilization_cc0c53.csv"), 2000),
        (aws("ec2_disk_write_bytes_1ef3de.csv"), 0),
        (flat("art_daily_small_noise.csv"), 0),
        (flat("art_daily_perfect_square_wave.csv"), 300),
    ] {
        out.push((format!("{rel}[{start}..+1440]"), window(&rel, start, 1440)));
    }
    out.push((format!("{statsd} (all 1439)"), values(&statsd)));
    let cpu = [
        aws("ec2_cpu_utilization_825cc2.csv"),
        aws("ec2_cpu_utilization_24ae8d.csv"),
        aws("ec2_cpu_utilization_53ea38.csv"),
    ];
    let cpu: Vec<&str> = cpu.iter().map(String::as_str).collect();
    out.push((
        "ec2_cpu 825cc2+24ae8d+53ea38 [..10080]".into(),
        joined(&cpu, 10_080),
    ));
    let mixed = [
        aws("ec2_disk_write_bytes_1ef3de.csv"),
        aws("ec2_network_in_5abac7.csv"),
        aws("grok_asg_anomaly.csv"),
    ];
    let mixed: Vec<&str> = mixed.iter().map(String::as_str).collect();
    out.push((
        "disk_1ef3de+network_5abac7+grok_asg [..12000]".into(),
        joined(&mixed, 12_000),
    ));
    out
}

fn run_reference(series: &[Vec<f64>]) -> Value {
    run_python(
        "pyref/fingerprint/ensure-venv.sh",
        "pyref/fingerprint/tsfresh_features.py",
        &json!({ "series": series }),
    )
}

fn num(v: &Value) -> f64 {
    match v {
        Value::Number(n) => n.as_f64().unwrap(),
        Value::String(s) if s == "nan" => f64::NAN,
        Value::String(s) if s == "inf" => f64::INFINITY,
        Value::String(s) if s == "-inf" => f64::NEG_INFINITY,
        other => panic!("not a number: {other}"),
    }
}

/// Relative difference; 0 for two NaN or equal infinities.
fn rel_diff(a: f64, b: f64) -> f64 {
    if a == b || (a.is_nan() && b.is_nan()) {
        return 0.0;
    }
    if !a.is_finite() || !b.is_finite() {
        return f64::INFINITY;
    }
    (a - b).abs() / a.abs().max(b.abs())
}

#[test]
fn every_feature_matches_the_reference_on_real_series() {
    let cases = cases();
    let series: Vec<Vec<f64>> = cases.iter().map(|c| c.1.clone()).collect();
    let reference = run_reference(&series);
    let results = reference["results"].as_array().expect("results");
    assert_eq!(results.len(), cases.len());

    // (rel diff, tolerance, case, name, ours, theirs, source)
    let mut rows: Vec<(f64, f64, String, &str, f64, f64, String)> = Vec::new();
    for ((label, x), r) in cases.iter().zip(results) {
        let ours = Features::compute_parallel(x, FeatureSet::Comprehensive);
        let seq = Features::compute(x, FeatureSet::Comprehensive);
        let bits = |f: &Features| f.values().iter().map(|v| v.to_bits()).collect::<Vec<_>>();
        assert_eq!(bits(&ours), bits(&seq), "{label}: parallel != sequential");
        let values = r["values"].as_object().unwrap();
        for name in FEATURE_NAMES {
            let theirs = num(values
                .get(name)
                .unwrap_or_else(|| panic!("{label}: reference lacks {name}")));
            let mine = ours.get_by_name(name).unwrap();
            let source = r["source"][name].as_str().unwrap().to_string();
            let d = if (mine - theirs).abs() <= tsfresh_floor(name, x, values) {
                0.0
            } else {
                rel_diff(mine, theirs)
            };
            rows.push((
                d,
                tsfresh_tolerance(name),
                label.clone(),
                name,
                mine,
                theirs,
                source,
            ));
        }
    }
    let mut failures: Vec<_> = rows.iter().filter(|r| r.0.is_nan() || r.0 > r.1).collect();
    failures.sort_by(|a, b| b.0.total_cmp(&a.0));

    // the worst relative difference per calculator family
    let mut worst: std::collections::BTreeMap<String, (f64, String, String)> = Default::default();
    for r in &rows {
        let family =
            r.3.trim_matches('"')
                .trim_start_matches("value__")
                .split("__")
                .next()
                .unwrap()
                .to_string();
        let e = worst
            .entry(family)
            .or_insert((0.0, String::new(), r.6.clone()));
        if r.0 > e.0 || e.1.is_empty() {
            *e = (r.0.max(e.0), format!("{} on {}", r.3, r.2), r.6.clone());
        }
    }
    println!(
        "worst relative difference per calculator ({} series × 216 features; 0 = within the absolute floor):",
        cases.len()
    );
    for (family, (d, at, source)) in &worst {
        println!("  {family:<58} {d:9.2e}  [{source}]  {at}");
    }
    if !failures.is_empty() {
        println!("{} mismatches (worst first):", failures.len());
        for r in failures.iter().take(40) {
            println!(
                "  {:9.2e} (tol {:.0e}) {} {}: ours {:?} reference {:?} [{}]",
                r.0, r.1, r.2, r.3, r.4, r.5, r.6
            );
        }
        panic!(
            "{} feature values differ from the reference",
            failures.len()
        );
    }
}
