//! Shared by the learn crate's tests: the real NAB series they learn from.
#![allow(dead_code)]

use std::path::PathBuf;

/// `ec2_cpu_utilization_825cc2` (NAB, 5-minute points over two weeks).
pub fn nab_series() -> Vec<(i64, f64)> {
    let dir = std::env::var_os("SKYLINE_SHARED_DATA")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/data"));
    let path = dir.join("nab/realAWSCloudwatch/ec2_cpu_utilization_825cc2.csv");
    let mut reader = csv::Reader::from_path(&path).expect("the NAB data");
    reader
        .records()
        .map(|r| {
            let r = r.expect("a csv row");
            let t = chrono::NaiveDateTime::parse_from_str(&r[0], "%Y-%m-%d %H:%M:%S")
                .expect("a timestamp")
                .and_utc()
                .timestamp();
            (t, r[1].parse::<f64>().expect("a value"))
        })
        .collect()
}

/// Means per `resolution` seconds (what the long window holds).
pub fn rolled_up(series: &[(i64, f64)], resolution: i64) -> Vec<(i64, f64)> {
    let mut out: Vec<(i64, f64, usize)> = Vec::new();
    for &(t, v) in series {
        let b = t - t.rem_euclid(resolution);
        match out.last_mut() {
            Some(last) if last.0 == b => {
                last.1 += v;
                last.2 += 1;
            }
            _ => out.push((b, v, 1)),
        }
    }
    out.into_iter().map(|(b, s, n)| (b, s / n as f64)).collect()
}
