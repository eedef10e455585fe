//! Throughput of each algorithm, of the ensemble (with and without the early
//! exit) and of a whole metric analysis, on windows of real data, one core.
//! Criterion reports elements/s: here one element is one metric analysed.
//!
//! Windows: 1,440 points = the last 1,440 points of NAB's
//! `ec2_cpu_utilization_825cc2` (5-minute CPU); 8,640 points = NAB's
//! `ec2_network_in_5abac7` (4,730 points) followed by itself again, with
//! timestamps continuing at its 5-minute step (no series in the data set is
//! that long on its own). Both end on an ordinary, non-anomalous point, the
//! common case the early exit is for.

use analyze::{analyze, run_ensemble, Algorithm, MetricContext, Point, Series, Settings};
use criterion::{black_box, criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};

fn nab(rel: &str) -> Vec<Point> {
    numeric::reference::read_nab(rel)
}

fn windows() -> Vec<(usize, Vec<Point>)> {
    let cpu = nab("realAWSCloudwatch/ec2_cpu_utilization_825cc2.csv");
    let w1440 = cpu[cpu.len() - 1440..].to_vec();
    let net = nab("realAWSCloudwatch/ec2_network_in_5abac7.csv");
    let step = 300;
    let mut w8640 = net.clone();
    let mut t = net.last().unwrap().0;
    for &(_, v) in net.iter().take(8640 - net.len()) {
        t += step;
        w8640.push((t, v));
    }
    vec![(1440, w1440), (8640, w8640)]
}

fn bench(c: &mut Criterion) {
    for (n, points) in windows() {
        assert_eq!(points.len(), n);
        let series = Series::from_points(&points);
        let now = points.last().unwrap().0;
        let fd = (points.last().unwrap().0 - points[0].0) + 1;
        let settings = Settings {
            full_duration: fd,
            ..Settings::default()
        };

        let mut group = c.benchmark_group("algorithm");
        group.throughput(Throughput::Elements(1));
        for alg in Algorithm::ALL {
            group.bench_with_input(BenchmarkId::new(alg.name(), n), &series, |b, s| {
                b.iter(|| alg.run(black_box(s), now, fd))
            });
        }
        group.finish();

        let mut group = c.benchmark_group("ensemble");
        group.throughput(Throughput::Elements(1));
        for (label, early_exit) in [("early_exit", true), ("all_nine", false)] {
            let e = run_ensemble(&series, &Algorithm::ALL, 6, early_exit, now, fd);
            assert!(!e.anomalous, "benchmark windows end on a normal point");
            group.bench_with_input(BenchmarkId::new(label, n), &series, |b, s| {
                b.iter(|| run_ensemble(black_box(s), &Algorithm::ALL, 6, early_exit, now, fd))
            });
        }
        // A whole analysis: columns from points, pre-checks, ensemble.
        let ctx = MetricContext {
            metric: "bench.metric",
            now,
            high_priority: true,
            derivative: false,
        };
        let mut scratch = Series::default();
        group.bench_with_input(BenchmarkId::new("analyze_metric", n), &points, |b, p| {
            b.iter(|| analyze(black_box(p), ctx, &settings, &mut scratch))
        });
        group.finish();
    }
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(std::time::Duration::from_millis(500))
        .measurement_time(std::time::Duration::from_secs(2));
    targets = bench
}
criterion_main!(benches);
