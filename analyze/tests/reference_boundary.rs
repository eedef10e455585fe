//! Boundary's `detect_drop_off_cliff` against the reference's definition
//! (`pyref/boundary_reference.py`, numpy as the reference uses it, quirks
//! included), point by point on every NAB series in `../shared/data/`: at
//! each point the window of the last 120 points is judged, as Boundary
//! judges each new point. Verdicts are booleans: they must be equal, every
//! one. The series include real drops to zero (`ec2_disk_write_bytes_c0d644`
//! falls from 9 830 to 0 within minutes) and series that never fire.

use numeric::reference::{read_nab, run_reference, shared_data};

/// Points judged at each step: enough for the cliff's 30-point minimum and
/// its 20-interval look-back.
const WINDOW: usize = 120;

/// Every NAB series, by its path under `nab/`.
fn nab_series() -> Vec<String> {
    let mut out = Vec::new();
    for group in [
        "realAWSCloudwatch",
        "artificialWithAnomaly",
        "artificialNoAnomaly",
    ] {
        let dir = shared_data().join("nab").join(group);
        let mut files: Vec<String> = std::fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
            .filter_map(|e| e.ok()?.file_name().into_string().ok())
            .filter(|f| f.ends_with(".csv"))
            .map(|f| format!("{group}/{f}"))
            .collect();
        files.sort();
        out.extend(files);
    }
    out
}

fn ours(points: &[(i64, f64)], min_average: f64, min_average_seconds: i64) -> Vec<bool> {
    let (t, v): (Vec<i64>, Vec<f64>) = points.iter().copied().unzip();
    (1..=points.len())
        .map(|end| {
            let start = end.saturating_sub(WINDOW);
            analyze::boundary::detect_drop_off_cliff(
                &t[start..end],
                &v[start..end],
                min_average,
                min_average_seconds,
            )
        })
        .collect()
}

#[test]
fn drop_off_cliff_equals_the_reference_point_by_point() {
    let names = nab_series();
    assert!(names.len() >= 20, "NAB series found: {names:?}");
    let series: Vec<Vec<(i64, f64)>> = names.iter().map(|n| read_nab(n)).collect();
    let input_series: Vec<serde_json::Value> = series
        .iter()
        .map(|s| {
            serde_json::json!({
                "t": s.iter().map(|p| p.0).collect::<Vec<_>>(),
                "v": s.iter().map(|p| p.1).collect::<Vec<_>>(),
            })
        })
        .collect();
    // Without and with the minimum-average guard (mean of the last hour at
    // least 1.0).
    for (min_average, min_average_seconds) in [(0.0, 0), (1.0, 3600)] {
        let reference = run_reference(
            "boundary_reference.py",
            &serde_json::json!({
                "series": input_series,
                "windows": WINDOW,
                "min_average": min_average,
                "min_average_seconds": min_average_seconds,
            }),
        );
        let reference = reference.as_array().expect("one list per series");
        let mut fired = 0;
        for ((name, points), expected) in names.iter().zip(&series).zip(reference) {
            let expected: Vec<bool> = expected
                .as_array()
                .expect("verdicts")
                .iter()
                .map(|b| b.as_bool().expect("a boolean"))
                .collect();
            let got = ours(points, min_average, min_average_seconds);
            let differ: Vec<usize> = (0..got.len()).filter(|&i| got[i] != expected[i]).collect();
            assert!(
                differ.is_empty(),
                "{name} (min_average {min_average}/{min_average_seconds}s): {} of {} verdicts differ, first at point {} ({:?}): ours {}, reference {}",
                differ.len(),
                got.len(),
                differ[0],
                points[differ[0]],
                got[differ[0]],
                expected[differ[0]]
            );
            fired += got.iter().filter(|&&f| f).count();
        }
        // Both verdicts occur in quantity, so equality means something.
        assert!(fired > 1_000, "only {fired} cliffs over every series");
    }
}

#[test]
fn a_real_drop_to_zero_is_a_cliff() {
    let points = read_nab("realAWSCloudwatch/ec2_disk_write_bytes_c0d644.csv");
    let verdicts = ours(&points, 0.0, 0);
    let first = verdicts.iter().position(|&f| f).expect("the drop is found");
    // Of the series' first cliffs, one lands on a zero that follows
    // thousands of bytes written.
    let drop = (first..first + 10)
        .find(|&i| verdicts[i] && points[i].1 == 0.0 && points[i - 1].1 > 1_000.0)
        .expect("a cliff on a drop to zero");
    assert!(points[drop - 1].1 > 1_000.0);
}
