//! All features on 1 440, 10 080 and 43 200 points of real data (NAB's
//! AWS CloudWatch series joined end to end: no single file is that long),
//! for the efficient set (what production computes) and the comprehensive
//! set, on one core and with rayon across calculators.
//!
//! `scripts/bench-fingerprint` runs this and times tsfresh 0.20.3 on the
//! same inputs in the same run (`pyref/fingerprint/bench_tsfresh.py`).

use std::path::PathBuf;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use fingerprint::{FeatureSet, Features};

pub const LENGTHS: [usize; 3] = [1_440, 10_080, 43_200];

fn shared_data() -> PathBuf {
    std::env::var_os("SKYLINE_SHARED_DATA")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/data"))
}

/// Every `nab/realAWSCloudwatch/*.csv` in name order, values joined.
fn real_values() -> Vec<f64> {
    let dir = shared_data().join("nab/realAWSCloudwatch");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "csv"))
        .collect();
    files.sort();
    files
        .iter()
        .flat_map(|p| {
            std::fs::read_to_string(p)
                .unwrap()
                .lines()
                .skip(1)
                .filter_map(|l| l.rsplit(',').next()?.trim().parse::<f64>().ok())
                .collect::<Vec<_>>()
        })
        .collect()
}

fn bench(c: &mut Criterion) {
    let all = real_values();
    // "single": `compute` runs on the calling thread only; "rayon": the
    // expensive calculators run in parallel on rayon's pool.
    let mut group = c.benchmark_group("features_efficient");
    group.sample_size(10);
    for n in LENGTHS {
        let x = &all[..n];
        group.bench_with_input(BenchmarkId::new("single", n), x, |b, x| {
            b.iter(|| Features::compute(x, FeatureSet::Efficient))
        });
        group.bench_with_input(BenchmarkId::new("rayon", n), x, |b, x| {
            b.iter(|| Features::compute_parallel(x, FeatureSet::Efficient))
        });
    }
    group.finish();
    // the comprehensive set adds approximate_entropy (quadratic in the
    // worst case): criterion at 1 440 and 10 080 points, and one timed run
    // at 43 200
    let mut group = c.benchmark_group("features_comprehensive");
    group.sample_size(10);
    for n in [1_440, 10_080] {
        let x = &all[..n];
        group.bench_with_input(BenchmarkId::new("single", n), x, |b, x| {
            b.iter(|| Features::compute(x, FeatureSet::Comprehensive))
        });
        group.bench_with_input(BenchmarkId::new("rayon", n), x, |b, x| {
            b.iter(|| Features::compute_parallel(x, FeatureSet::Comprehensive))
        });
    }
    group.finish();
    let x = &all[..43_200];
    for (label, parallel) in [("single", false), ("rayon", true)] {
        let t = std::time::Instant::now();
        let f = if parallel {
            Features::compute_parallel(x, FeatureSet::Comprehensive)
        } else {
            Features::compute(x, FeatureSet::Comprehensive)
        };
        std::hint::black_box(f);
        println!(
            "features_comprehensive/{label}/43200 (one run): {:.3} s",
            t.elapsed().as_secs_f64()
        );
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
