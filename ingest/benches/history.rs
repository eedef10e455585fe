//! Throughput of the history parser (`skyline import`), one core: a NAB
//! CSV (4,730 five-minute points, `YYYY-MM-DD HH:MM:SS` timestamps) and the
//! same points as Graphite render JSON. Criterion reports elements/s: one
//! element is one datapoint parsed.

use std::path::{Path, PathBuf};

use criterion::{black_box, criterion_group, criterion_main, Criterion, Throughput};
use ingest::history::parse_history;

const NAB: &str = "realAWSCloudwatch/ec2_network_in_5abac7.csv";

fn shared_data() -> PathBuf {
    std::env::var_os("SKYLINE_SHARED_DATA")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/data"))
}

fn bench(c: &mut Criterion) {
    let path = shared_data().join("nab").join(NAB);
    let csv = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{}: {e} (set SKYLINE_SHARED_DATA)", path.display()));
    let parsed = parse_history(&path, &csv, None, false).expect("the NAB file parses");
    let points = parsed.len();
    let json = format!(
        r#"[{{"target": "ec2_network_in_5abac7", "datapoints": [{}]}}]"#,
        parsed
            .datapoints()
            .map(|d| format!("[{:?}, {}]", d.value, d.timestamp))
            .collect::<Vec<_>>()
            .join(", ")
    );

    let mut group = c.benchmark_group("history");
    group.throughput(Throughput::Elements(points as u64));
    group.bench_function("nab_csv", |b| {
        b.iter(|| parse_history(&path, black_box(&csv), None, false).map(|h| h.len()))
    });
    group.bench_function("graphite_json", |b| {
        b.iter(|| {
            parse_history(Path::new("render.json"), black_box(&json), None, false).map(|h| h.len())
        })
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
