//! All features on 1 440, 10 080 and 43 200 points of real data (NAB's
//! AWS CloudWatch series joined end to end: no single file is that long),
//! for both feature sets, on one core and with rayon across calculators.
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
    // one core for the "single" figures: rayon is not used by `compute`
    for set in [FeatureSet::Efficient, FeatureSet::Comprehensive] {
        let name = match set {
            FeatureSet::Efficient => "efficient",
            FeatureSet::Comprehensive => "comprehensive",
        };
        let mut group = c.benchmark_group(format!("features_{name}"));
        group.sample_size(10);
        for n in LENGTHS {
            let x = &all[..n];
            group.bench_with_input(BenchmarkId::new("single", n), x, |b, x| {
                b.iter(|| Features::compute(x, set))
            });
            group.bench_with_input(BenchmarkId::new("rayon", n), x, |b, x| {
                b.iter(|| Features::compute_parallel(x, set))
            });
        }
        group.finish();
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
