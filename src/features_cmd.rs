//! `skyline features FILE`: the features fingerprint of a series, one
//! `feature_name,value` line per feature in Skyline id order.
//!
//! FILE is either the CSV `skyline backtest` reads (`timestamp,value`,
//! header optional) or Skyline's JSON `{"results": [[ts, value], ...]}`
//! (points whose value is `null` are dropped, as Skyline drops them).
//! Points are ordered by timestamp (stably) before `--first N` applies.
//! Values print with Rust's shortest round-trip formatting (`NaN`, `inf`).

use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use fingerprint::{FeatureSet, Features};

#[derive(clap::Args)]
pub struct FeaturesArgs {
    /// CSV `timestamp,value` or JSON `{"results": [[ts, value], ...]}`.
    file: PathBuf,
    /// Use only the first N points (after ordering by timestamp).
    #[arg(long)]
    first: Option<usize>,
    /// `comprehensive` (all 216, Skyline's baselines) or `efficient` (the
    /// 210 production profiles store).
    #[arg(long, default_value = "comprehensive")]
    set: FeatureSet,
}

pub fn run(args: FeaturesArgs) -> Result<()> {
    let mut points = read_points(&args.file)?;
    points.sort_by_key(|p| p.0);
    let n = args.first.unwrap_or(points.len()).min(points.len());
    let values: Vec<f64> = points[..n].iter().map(|p| p.1).collect();
    let features = Features::compute_parallel(&values, args.set);
    let mut out = BufWriter::new(std::io::stdout().lock());
    for (_, name, value) in features.iter() {
        writeln!(out, "{name},{value:?}")?;
    }
    out.flush()?;
    Ok(())
}

/// `(timestamp, value)` points of a CSV or JSON series file.
fn read_points(path: &Path) -> Result<Vec<(i64, f64)>> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    if text.trim_start().starts_with('{') {
        read_json(path, &text)
    } else {
        Ok(analyze::series_file::read_series_csv(path, false)?.points)
    }
}

fn read_json(path: &Path, text: &str) -> Result<Vec<(i64, f64)>> {
    let doc: serde_json::Value = serde_json::from_str(text)
        .with_context(|| format!("{}: not valid JSON", path.display()))?;
    let Some(results) = doc.get("results").and_then(|r| r.as_array()) else {
        bail!(
            "{}: expected an object with a \"results\" array",
            path.display()
        );
    };
    let mut points = Vec::with_capacity(results.len());
    for (i, item) in results.iter().enumerate() {
        let bad = |why: &str| anyhow::anyhow!("{}: results[{i}]: {why}: {item}", path.display());
        let pair = item
            .as_array()
            .filter(|a| a.len() == 2)
            .ok_or_else(|| bad("expected [timestamp, value]"))?;
        let ts = pair[0]
            .as_f64()
            .filter(|t| t.is_finite())
            .ok_or_else(|| bad("timestamp is not a number"))?;
        if pair[1].is_null() {
            continue;
        }
        let value = pair[1]
            .as_f64()
            .ok_or_else(|| bad("value is not a number"))?;
        points.push((ts.floor() as i64, value));
    }
    Ok(points)
}
