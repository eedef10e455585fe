//! Our MASS distance profiles against mass-ts 0.1.4 (with numpy) on real
//! series from `../shared/data/`: the full sliding profile
//! ([`mass::distance_profile`]) against `mts.mass2` and against
//! `mts.mass3` with the pieces Skyline's MASS3 path passes, the aligned
//! window distances ([`mass::block_distances`]) against `mts.mass2` per
//! window, and [`mass::mass2_batch`] against `mts.mass2_batch`.
//!
//! The reference is `pyref/fingerprint/mass_distances.py`, run in the venv
//! of `pyref/fingerprint/ensure-venv.sh` (which installs mass-ts).
//!
//! Tolerance: `|ours − theirs| <= 1e-6 · max(|theirs|, 1)`, i.e. 1e-6
//! relative for distances of 1 and more and 1e-6 absolute below (a distance
//! near 0 is the square root of a difference of nearly equal numbers, where
//! both sides carry rounding noise of ~1e-7). Windows with no spread
//! (constant; σ = 0) are NaN here; mass-ts divides by a σ of 0 (inf/NaN)
//! or by a rounding residue of ~1e-16 (a huge or NaN distance): for them we
//! require NaN here and a non-finite or impossible (> 2√m) value there.

use fingerprint::matching::mass;
use numeric::reference::{run_python, shared_data};
use serde_json::{json, Value};

fn values(rel: &str) -> Vec<f64> {
    let path = shared_data().join(rel);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    text.lines()
        .skip(1)
        .filter_map(|l| l.rsplit(',').next()?.trim().parse::<f64>().ok())
        .collect()
}

fn window(rel: &str, start: usize, len: usize) -> Vec<f64> {
    let v = values(rel);
    assert!(v.len() >= start + len, "{rel} has {} values", v.len());
    v[start..start + len].to_vec()
}

struct Case {
    label: String,
    series: Vec<f64>,
    query: Vec<f64>,
    /// Skyline's MASS3 pieces: `len(F) − len(q)`, raised to `len(q) + 2`
    /// when smaller.
    pieces: usize,
    top_matches: usize,
}

fn case(label: &str, series: Vec<f64>, query: Vec<f64>) -> Case {
    let (n, m) = (series.len(), query.len());
    let pieces = if n - m < m { m + 2 } else { n - m };
    let top_matches = (n / m - 1).clamp(1, 3);
    Case {
        label: label.to_string(),
        series,
        query,
        pieces,
        top_matches,
    }
}

fn cases() -> Vec<Case> {
    let aws = |f: &str| format!("nab/realAWSCloudwatch/{f}");
    let rds = aws("rds_cpu_utilization_e47b3b.csv");
    let net = aws("ec2_network_in_257a54.csv");
    let grok = aws("grok_asg_anomaly.csv");
    let elb = aws("elb_request_count_8c0756.csv");
    let disk = aws("ec2_disk_write_bytes_1ef3de.csv");
    let noise = "nab/artificialNoAnomaly/art_daily_small_noise.csv".to_string();
    let elb_series = window(&elb, 0, 1440);
    vec![
        // a day at one minute, the 720 batch (Skyline's MASS3 path)
        case(
            "rds 1440 / 720",
            window(&rds, 100, 1440),
            window(&rds, 2500, 720),
        ),
        // large values (1e5–1e7 bytes)
        case(
            "network 1440 / 360",
            window(&net, 0, 1440),
            window(&net, 3000, 360),
        ),
        case(
            "grok 1000 / 180",
            window(&grok, 1000, 1000),
            window(&grok, 3000, 180),
        ),
        // the query is a piece of the series: distance 0 at 500
        case(
            "elb 1440 / 100 (self)",
            elb_series.clone(),
            elb_series[500..600].to_vec(),
        ),
        case(
            "noise 2016 / 288",
            window(&noise, 0, 2016),
            window(&noise, 3000, 288),
        ),
        // long zero stretches: constant windows
        case(
            "disk 1440 / 144",
            window(&disk, 0, 1440),
            window(&disk, 2000, 144),
        ),
    ]
}

fn run_reference(cases: &[Case]) -> Vec<Value> {
    let input = json!({
        "cases": cases.iter().map(|c| json!({
            "series": c.series, "query": c.query, "pieces": c.pieces, "top_matches": c.top_matches,
        })).collect::<Vec<_>>()
    });
    let v = run_python(
        "pyref/fingerprint/ensure-venv.sh",
        "pyref/fingerprint/mass_distances.py",
        &input,
    );
    v["results"].as_array().expect("results").clone()
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

fn nums(v: &Value) -> Vec<f64> {
    v.as_array().expect("array").iter().map(num).collect()
}

/// The windows (start indices) of mass3's output, in its order: each piece
/// `x[j .. j+k]` (`j = 0, step, …` below `n − k + 1`, `step = k − m + 1`)
/// gives the windows `j .. j+step`; then a tail from `j_last + k − m` to
/// `n − 1 − m` (it re-computes that first window and never reaches the last
/// one, `n − m`, because it stops at `x[n − 2]`).
fn mass3_windows(n: usize, m: usize, k: usize) -> Vec<usize> {
    let (step, stop) = (k - m + 1, n - k + 1);
    let mut out = Vec::new();
    let mut j = 0;
    let mut last = 0;
    while j < stop {
        out.extend(j..j + step);
        last = j;
        j += step;
    }
    let j2 = last + k - m;
    let k2 = n - j2 - 1;
    if k2 >= m {
        out.extend(j2..=j2 + k2 - m);
    }
    out
}

/// (worst |Δ|/max(|theirs|, 1), where) over compared values; panics on a
/// disagreement about degenerate windows.
fn compare(
    label: &str,
    what: &str,
    m: usize,
    ours: &[f64],
    theirs: &[f64],
    worst: &mut (f64, String),
    failures: &mut Vec<String>,
) {
    let impossible = 2.0 * (m as f64).sqrt() + 1e-6;
    for (i, (&a, &b)) in ours.iter().zip(theirs).enumerate() {
        if a.is_nan() {
            if b.is_finite() && b <= impossible {
                failures.push(format!("{label} {what}[{i}]: ours NaN, reference {b}"));
            }
            continue;
        }
        let err = (a - b).abs() / b.abs().max(1.0);
        if err.is_nan() || err > 1e-6 {
            failures.push(format!(
                "{label} {what}[{i}]: ours {a}, reference {b} ({err:.2e})"
            ));
        }
        if err > worst.0 {
            *worst = (err, format!("{label} {what}[{i}]: ours {a}, reference {b}"));
        }
    }
}

#[test]
fn distance_profiles_match_mass_ts_on_real_series() {
    let cases = cases();
    let results = run_reference(&cases);
    assert_eq!(results.len(), cases.len());
    let mut worst = (0.0, String::new());
    let mut failures = Vec::new();
    let mut compared = 0usize;
    for (c, r) in cases.iter().zip(&results) {
        let (n, m) = (c.series.len(), c.query.len());
        let full = mass::distance_profile(&c.series, &c.query);
        assert_eq!(full.len(), n - m + 1, "{}", c.label);

        // mass2: the same windows in the same order
        let mass2 = nums(&r["mass2"]);
        assert_eq!(mass2.len(), full.len(), "{}: mass2 length", c.label);
        compare(
            &c.label,
            "mass2",
            m,
            &full,
            &mass2,
            &mut worst,
            &mut failures,
        );

        // mass3: its windows mapped to ours
        let mass3 = nums(&r["mass3"]);
        let windows = mass3_windows(n, m, c.pieces);
        assert_eq!(mass3.len(), windows.len(), "{}: mass3 length", c.label);
        let ours3: Vec<f64> = windows.iter().map(|&w| full[w]).collect();
        compare(
            &c.label,
            "mass3",
            m,
            &ours3,
            &mass3,
            &mut worst,
            &mut failures,
        );

        // aligned windows, and mass2_batch's choice among them
        let blocks = mass::block_distances(&c.series, &c.query);
        let theirs_blocks = nums(&r["blocks"]);
        assert_eq!(blocks.len(), theirs_blocks.len(), "{}: blocks", c.label);
        compare(
            &c.label,
            "blocks",
            m,
            &blocks,
            &theirs_blocks,
            &mut worst,
            &mut failures,
        );
        let batch: Vec<(usize, f64)> = r["batch"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| (p[0].as_u64().unwrap() as usize, num(&p[1])))
            .collect();
        let mut ours_batch = mass::mass2_batch(&c.series, &c.query, c.top_matches);
        let mut theirs_sorted = batch.clone();
        theirs_sorted.sort_by_key(|p| p.0);
        ours_batch.sort_by_key(|p| p.0);
        let idx = |v: &[(usize, f64)]| v.iter().map(|p| p.0).collect::<Vec<_>>();
        assert_eq!(
            idx(&ours_batch),
            idx(&theirs_sorted),
            "{}: mass2_batch indices",
            c.label
        );
        let (a, b): (Vec<f64>, Vec<f64>) = ours_batch
            .iter()
            .zip(&theirs_sorted)
            .map(|(o, t)| (o.1, t.1))
            .unzip();
        compare(
            &c.label,
            "mass2_batch",
            m,
            &a,
            &b,
            &mut worst,
            &mut failures,
        );
        compared += full.len() + ours3.len() + blocks.len() + a.len();
    }
    println!(
        "{compared} distances compared; worst |Δ|/max(|ref|, 1) = {:.3e} at {}",
        worst.0, worst.1
    );
    if !failures.is_empty() {
        for f in failures.iter().take(30) {
            println!("  {f}");
        }
        panic!("{} distances differ from mass-ts", failures.len());
    }
}

#[test]
fn the_self_match_is_found_at_its_start() {
    let elb = window(
        "nab/realAWSCloudwatch/elb_request_count_8c0756.csv",
        0,
        1440,
    );
    let d = mass::distance_profile(&elb, &elb[500..600]);
    let best = mass::k_smallest(&d, 1)[0];
    assert_eq!(best.0, 500);
    assert!(best.1 < 1e-6);
}
