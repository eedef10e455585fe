//! `skyline features FILE`: the features fingerprint of a series, one
//! `feature_name,value` line per feature in Skyline id order.
//!
//! FILE is either the CSV `skyline backtest` reads or Skyline's JSON
//! `{"results": [[ts, value], ...]}` ([`analyze::series_file::read_series`]).
//! Points are ordered by timestamp (stably) before `--first N` applies.
//! Values print with Rust's shortest round-trip formatting (`NaN`, `inf`).

use std::io::{BufWriter, Write};
use std::path::PathBuf;

use anyhow::Result;
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
    let mut points = analyze::series_file::read_series(&args.file)?;
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
