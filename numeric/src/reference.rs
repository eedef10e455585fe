//! The numerical references and the real series, for tests (feature
//! `reference`; the numeric crate's own tests and the Analyzer's use it):
//! series from `../shared/data/` and the Python references
//! (numpy/scipy/pandas/statsmodels in a pinned venv, see `pyref/`), run as
//! `pyref/<script>` with JSON on stdin and stdout.

use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Mutex, OnceLock};

/// The repository root (the workspace directory).
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("crate sits in the workspace")
        .to_path_buf()
}

/// `../shared/data` beside the repository (override with `SKYLINE_SHARED_DATA`).
pub fn shared_data() -> PathBuf {
    let dir = std::env::var_os("SKYLINE_SHARED_DATA")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo_root().join("../shared/data"));
    assert!(
        dir.is_dir(),
        "shared data not found at {} (set SKYLINE_SHARED_DATA)",
        dir.display()
    );
    dir
}

/// Reads a NAB CSV (`rel` under `nab/`, e.g. `realAWSCloudwatch/x.csv`) (`timestamp,value` with a header, timestamps as
/// `YYYY-MM-DD HH:MM:SS` UTC) into `(epoch seconds, value)` points.
pub fn read_nab(rel: &str) -> Vec<(i64, f64)> {
    let path = shared_data().join("nab").join(rel);
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
    text.lines()
        .skip(1)
        .filter(|l| !l.trim().is_empty())
        .map(|line| {
            let (ts, v) = line.split_once(',').expect("two columns");
            let t = parse_utc(ts.trim());
            (t, v.trim().parse::<f64>().expect("numeric value"))
        })
        .collect()
}

/// `YYYY-MM-DD HH:MM:SS` (UTC) to epoch seconds.
pub fn parse_utc(s: &str) -> i64 {
    chrono::NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S")
        .unwrap_or_else(|e| panic!("{s}: {e}"))
        .and_utc()
        .timestamp()
}

/// The python of the venv that `ensure_venv` (a script under the
/// repository, printing the interpreter's path) makes sure exists; each
/// venv is asked for once per test binary.
fn python(ensure_venv: &str) -> PathBuf {
    static READY: OnceLock<Mutex<HashMap<String, PathBuf>>> = OnceLock::new();
    let mut ready = READY
        .get_or_init(Mutex::default)
        .lock()
        .unwrap_or_else(|p| p.into_inner());
    ready
        .entry(ensure_venv.to_owned())
        .or_insert_with(|| {
            let out = Command::new("bash")
                .arg(repo_root().join(ensure_venv))
                .stderr(Stdio::inherit())
                .output()
                .unwrap_or_else(|e| panic!("running {ensure_venv}: {e}"));
            assert!(
                out.status.success(),
                "{ensure_venv} failed (it needs python3 with venv and PyPI access)"
            );
            PathBuf::from(String::from_utf8(out.stdout).expect("utf-8 path").trim())
        })
        .clone()
}

/// Runs `script` (a path under the repository) with the python of the venv
/// `ensure_venv` makes, `input` as JSON on stdin; returns the JSON it
/// prints.
pub fn run_python(ensure_venv: &str, script: &str, input: &serde_json::Value) -> serde_json::Value {
    let mut child = Command::new(python(ensure_venv))
        .arg(repo_root().join(script))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("starting the reference python");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(input.to_string().as_bytes())
        .expect("writing reference input");
    let out = child.wait_with_output().expect("reference python");
    assert!(out.status.success(), "{script} failed");
    serde_json::from_slice(&out.stdout).expect("reference output is JSON")
}

/// The python of the reference venv (`pyref/ensure-venv.sh`), for tests
/// that run a reference program of their own (the alert tests' SMTP
/// server).
pub fn reference_python() -> PathBuf {
    python("pyref/ensure-venv.sh")
}

/// Runs `pyref/<script>` in the numpy/scipy/pandas/statsmodels venv
/// (`pyref/ensure-venv.sh`).
pub fn run_reference(script: &str, input: &serde_json::Value) -> serde_json::Value {
    run_python("pyref/ensure-venv.sh", &format!("pyref/{script}"), input)
}

/// Relative difference `|a-b| / max(|a|,|b|,tiny)`; NaN == NaN counts as equal.
pub fn rel_diff(a: f64, b: f64) -> f64 {
    if a.is_nan() && b.is_nan() || a == b {
        return 0.0;
    }
    (a - b).abs() / a.abs().max(b.abs()).max(f64::MIN_POSITIVE)
}

/// A float from reference JSON: a number, or "nan" / "inf" / "-inf".
pub fn num(v: &serde_json::Value) -> f64 {
    match v {
        serde_json::Value::Number(n) => n.as_f64().expect("f64"),
        serde_json::Value::String(s) => match s.as_str() {
            "nan" => f64::NAN,
            "inf" => f64::INFINITY,
            "-inf" => f64::NEG_INFINITY,
            other => panic!("not a number: {other}"),
        },
        serde_json::Value::Null => f64::NAN,
        other => panic!("not a number: {other}"),
    }
}

/// The fingerprint features' tolerances against tsfresh 0.20.3 (the
/// reasons are in `fingerprint/tests/reference_tsfresh.rs`): relative 1e-9;
/// 1e-6 for the least-squares, convolution and FFT features; 2e-3 for
/// `number_cwt_peaks`.
pub fn tsfresh_tolerance(name: &str) -> f64 {
    if name.contains("number_cwt_peaks") {
        return 2e-3;
    }
    let loose = [
        "augmented_dickey_fuller",
        "ar_coefficient",
        "cwt_coefficients",
        "spkt_welch_density",
    ];
    if loose.iter().any(|f| name.contains(f)) {
        1e-6
    } else {
        1e-9
    }
}

/// The absolute allowance for a feature that is 0 in exact arithmetic, where
/// both sides return rounding noise: `fft_coefficient` within
/// `1e-13·Σ|x[..18]|`, `ar_coefficient` within `1e-12·max|φ|` (the
/// reference's coefficients, by name in `reference`); 0 otherwise.
pub fn tsfresh_floor(
    name: &str,
    x: &[f64],
    reference: &serde_json::Map<String, serde_json::Value>,
) -> f64 {
    if name.contains("fft_coefficient") {
        1e-13 * x.iter().take(18).map(|v| v.abs()).sum::<f64>()
    } else if name.contains("ar_coefficient") {
        let max = (0..5)
            .filter_map(|c| reference.get(&format!("value__ar_coefficient__k_10__coeff_{c}")))
            .map(|v| num(v).abs())
            .filter(|v| v.is_finite())
            .fold(0.0, f64::max);
        1e-12 * max
    } else {
        0.0
    }
}
