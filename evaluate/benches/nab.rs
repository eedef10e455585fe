//! Time to evaluate the whole shared NAB set (not a test; `cargo bench -p
//! skyline-evaluate --bench nab`): every series through the in-process
//! pipeline with the shipped defaults, untrained (nobody labels) and
//! trained (the oracle, 5 labels per series, 1 h delay), series in
//! parallel on every core as `skyline evaluate` runs them.

use std::path::{Path, PathBuf};

use criterion::{criterion_group, criterion_main, Criterion};
use evaluate::operator::{Operator, OperatorKind};
use evaluate::pipeline::{run_series, Pipeline};
use evaluate::windows_file::{LabelledWindows, Window};
use rayon::prelude::*;

fn nab_dir() -> PathBuf {
    std::env::var_os("SKYLINE_SHARED_DATA")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/data"))
        .join("nab")
}

type Labelled = (String, Vec<(i64, f64)>, Vec<Window>);

fn nab_series() -> Vec<Labelled> {
    let dir = nab_dir();
    let windows = LabelledWindows::read(&dir.join("labels_windows.json")).expect("NAB windows");
    let mut out = Vec::new();
    let mut families: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("NAB data")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_dir())
        .collect();
    families.sort();
    for family in families {
        let mut files: Vec<PathBuf> = std::fs::read_dir(&family)
            .expect("a NAB family")
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|e| e == "csv"))
            .collect();
        files.sort();
        for file in files {
            let mut points = analyze::series_file::read_series_csv(&file, false)
                .expect("a NAB series")
                .points;
            analyze::series::sort_dedup(&mut points);
            let found = windows
                .for_series(&file)
                .expect("unambiguous")
                .map(|(_, w)| w.to_vec())
                .unwrap_or_default();
            let metric = file.file_stem().unwrap().to_string_lossy().into_owned();
            out.push((metric, points, found));
        }
    }
    out
}

/// The shipped defaults, as `stack` builds each service's settings.
fn pipeline() -> Pipeline {
    Pipeline {
        analyzer: analyze::service::Rules {
            settings: analyze::Settings::default(),
            alerts: vec![analyze::alert_rules::AlertRule::catch_all()],
            boundary: Vec::new(),
            boundary_limits: Default::default(),
            interval: 0,
            periodic: None,
        },
        seasonal: seasonal::SeasonalSettings::default(),
        fingerprint: fingerprint::matching::MatchSettings::default(),
        learn: learn::LearnConfig::default()
            .policy()
            .expect("default [learn]"),
        windows: windows::WindowSettings::default(),
    }
}

fn evaluate_all(pipeline: &Pipeline, series: &[Labelled], operator: &Operator) -> usize {
    series
        .par_iter()
        .map(|(metric, points, windows)| {
            run_series(pipeline, metric, points, windows, operator)
                .alerts
                .len()
        })
        .sum()
}

fn bench(c: &mut Criterion) {
    let series = nab_series();
    let pipeline = pipeline();
    let points: usize = series.iter().map(|s| s.1.len()).sum();
    eprintln!("NAB: {} series, {points} points", series.len());
    let oracle = Operator {
        kind: OperatorKind::Oracle,
        budget: 5,
        delay: 3_600,
        learn: false,
        layers: false,
    };
    let mut group = c.benchmark_group("evaluate_nab");
    group.sample_size(10);
    group.bench_function("untrained", |b| {
        b.iter(|| evaluate_all(&pipeline, &series, &Operator::none()))
    });
    group.bench_function("trained_oracle_5", |b| {
        b.iter(|| evaluate_all(&pipeline, &series, &oracle))
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
