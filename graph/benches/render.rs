//! Drawing one alert graph: a day of minutely points (1440), as SVG for
//! the console and as PNG for a mail.

use criterion::{black_box, criterion_group, criterion_main, Criterion};
use graph::{series_png, series_svg, GraphOptions};

fn day() -> Vec<(i64, f64)> {
    (0..1440)
        .map(|i| {
            let t = 1_700_000_000 + i * 60;
            (t, 100.0 + 20.0 * ((i as f64) / 90.0).sin() + (i % 7) as f64)
        })
        .collect()
}

fn render(c: &mut Criterion) {
    let series = day();
    let mark = series[1439];
    let options = GraphOptions::alert(mark).with_title("stats.web01.requests");
    c.bench_function("series_png 1440 points", |b| {
        b.iter(|| series_png(black_box(&series), &options).unwrap())
    });
    c.bench_function("series_svg 1440 points", |b| {
        b.iter(|| series_svg(black_box(&series), &options))
    });
}

criterion_group!(benches, render);
criterion_main!(benches);
