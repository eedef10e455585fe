//! Encode and decode cost per event, on the hot path (`Datapoint`, the
//! hand-written codec) and for comparison through apache-avro's generic
//! serde path and for a typical decision event.

use std::hint::black_box;

use apache_avro::reader::datum::GenericDatumReader;
use apache_avro::writer::datum::GenericDatumWriter;
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use topics::codec::{decode, encode_into, Event};
use topics::{AnomalyEvent, Datapoint, SourceApp};
use uuid::Uuid;

fn datapoint() -> Datapoint {
    Datapoint {
        metric: "stats.web01.cpu.user".into(),
        timestamp: 1_700_000_000,
        value: 12.5,
    }
}

fn anomaly() -> AnomalyEvent {
    AnomalyEvent {
        id: Uuid::from_u128(1),
        metric: "stats.web01.cpu.user".into(),
        timestamp: 1_700_003_600,
        value: 97.25,
        source: SourceApp::Analyzer,
        algorithms_run: vec!["histogram_bins".into(), "grubbs".into(), "ks_test".into()],
        triggered_algorithms: vec!["grubbs".into()],
        full_duration: 86_340,
        from_timestamp: 1_699_917_200,
        check_id: Some(Uuid::from_u128(2)),
        derivative: false,
        decided_at_ms: 1_700_003_601_234,
        count: 1,
        last_timestamp: 1_700_003_600,
        max_deviation: 0.0,
    }
}

fn bench(c: &mut Criterion) {
    let mut group = c.benchmark_group("datapoint");
    group.throughput(Throughput::Elements(1));
    let dp = datapoint();
    let mut buf = Vec::with_capacity(64);
    group.bench_function("encode", |b| {
        b.iter(|| {
            buf.clear();
            encode_into(black_box(&dp), &mut buf).unwrap();
            black_box(buf.len())
        })
    });
    let bytes = topics::codec::encode(&dp).unwrap();
    group.bench_function("decode", |b| {
        b.iter(|| decode::<Datapoint>(black_box(&bytes)).unwrap())
    });

    // apache-avro's schema-aware serde path on the same record, with a
    // prepared writer and reader: what the hand-written codec replaces.
    let writer = GenericDatumWriter::builder(Datapoint::schema())
        .build()
        .unwrap();
    group.bench_function("encode_apache_avro_serde", |b| {
        b.iter(|| {
            buf.clear();
            writer.write_ser(&mut buf, black_box(&dp)).unwrap();
            black_box(buf.len())
        })
    });
    let reader = GenericDatumReader::builder(Datapoint::schema())
        .build()
        .unwrap();
    group.bench_function("decode_apache_avro_serde", |b| {
        b.iter(|| {
            let mut body = black_box(&bytes[5..]);
            reader.read_deser::<Datapoint>(&mut body).unwrap()
        })
    });
    group.finish();

    let mut group = c.benchmark_group("anomaly");
    group.throughput(Throughput::Elements(1));
    let an = anomaly();
    group.bench_function("encode", |b| {
        b.iter(|| {
            buf.clear();
            encode_into(black_box(&an), &mut buf).unwrap();
            black_box(buf.len())
        })
    });
    let bytes = topics::codec::encode(&an).unwrap();
    group.bench_function("decode", |b| {
        b.iter(|| decode::<AnomalyEvent>(black_box(&bytes)).unwrap())
    });
    // Building the writer for every message, as the trait's default body
    // methods do: what preparing it once per type saves.
    group.bench_function("encode_writer_built_per_call", |b| {
        b.iter(|| {
            buf.clear();
            let writer = GenericDatumWriter::builder(AnomalyEvent::schema())
                .human_readable(true)
                .build()
                .unwrap();
            writer.write_ser(&mut buf, black_box(&an)).unwrap();
            black_box(buf.len())
        })
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
