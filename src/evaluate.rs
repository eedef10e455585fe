//! `skyline evaluate SERIES… --labels WINDOWS.json`: labelled history
//! through the whole pipeline in-process (the `evaluate` crate), untrained
//! and with a simulated operator, reported per series and in total.

use std::collections::BTreeSet;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{bail, Context, Result};
use evaluate::operator::{in_any, Operator, OperatorKind};
use evaluate::pipeline::{run_series, Log};
use evaluate::report::{Counts, Report, SeriesReport};
use evaluate::windows_file::{LabelledWindows, Window};
use rayon::prelude::*;
use stack::Config;

#[derive(clap::Args)]
pub struct EvaluateArgs {
    /// Series files (`timestamp,value` CSV, as `skyline backtest` reads),
    /// or directories: every `.csv` under them.
    #[arg(required = true)]
    series: Vec<PathBuf>,
    /// The labelled anomaly windows, in NAB's `labels_windows.json` format
    /// (`{"dir/file.csv": [["start", "end"], …]}`); a series takes the key
    /// that equals the end of its path.
    #[arg(long)]
    labels: PathBuf,
    /// Evaluate series with no key in the windows file as having no
    /// anomalies (otherwise that is an error).
    #[arg(long)]
    unlabelled_ok: bool,
    /// Who trains the trained run: `none` (it equals the untrained run) or
    /// `oracle` (labels false alerts not anomalous).
    #[arg(long, value_enum, default_value = "oracle")]
    operator: OperatorArg,
    /// Labels the operator spends per series at most.
    #[arg(long, default_value_t = 5)]
    label_budget: usize,
    /// Data time between a false alert and its label (`30m`, `1h`, `0s`).
    #[arg(long, default_value = "1h", value_parser = parse_seconds)]
    label_delay: i64,
    /// Label with LEARN: profiles learn over generations at the learn
    /// duration (`[learn]`).
    #[arg(long)]
    learn: bool,
    /// Attach layers to each label: expected up to the check's highest
    /// value.
    #[arg(long)]
    layers: bool,
    /// Print one JSON object instead of the table.
    #[arg(long)]
    json: bool,
    /// Write a CSV per series (every point: in a window, alerted untrained
    /// and trained, deflected, labelled), `series.csv` (the counts) and a
    /// PNG per series here.
    #[arg(long)]
    out: Option<PathBuf>,
    /// Settings chosen on NAB (see README "Evaluation") over the
    /// configuration's.
    #[arg(long, value_enum)]
    preset: Option<Preset>,
}

#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum OperatorArg {
    None,
    Oracle,
}

/// Settings chosen with `skyline evaluate` on a benchmark.
#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Preset {
    /// Chosen on the 28 NAB series in `../shared/data/nab` (README
    /// "Evaluation": the sweep and its scores): the ensemble without
    /// stddev_from_moving_average (8 algorithms, CONSENSUS 6), every alert
    /// rule's expiration_time 7200 s, motif matching off.
    Nab,
}

impl Preset {
    /// Applies the preset over `config`.
    pub fn apply(self, config: &mut Config) {
        match self {
            Preset::Nab => {
                config
                    .analyzer
                    .algorithms
                    .retain(|a| *a != analyze::Algorithm::StddevFromMovingAverage);
                config.analyzer.consensus = 6;
                for rule in &mut config.alerts {
                    rule.expiration_time = 7_200;
                }
                config.fingerprint.motifs_enabled = false;
            }
        }
    }

    fn name(self) -> &'static str {
        match self {
            Preset::Nab => "nab",
        }
    }
}

fn parse_seconds(text: &str) -> Result<i64, String> {
    let d = humantime::parse_duration(text.trim())
        .map_err(|e| format!("{text:?} is not a duration like 30m, 1h or 0s: {e}"))?;
    i64::try_from(d.as_secs()).map_err(|_| format!("{text:?} is too long"))
}

/// One series to evaluate.
struct Series {
    key: String,
    metric: String,
    points: Vec<(i64, f64)>,
    windows: Vec<Window>,
}

/// What the two runs of one series made.
struct Runs {
    untrained: Log,
    trained: Log,
}

pub fn run(mut config: Config, args: EvaluateArgs) -> Result<()> {
    let started = Instant::now();
    if let Some(preset) = args.preset {
        preset.apply(&mut config);
    }
    let pipeline = stack::services::evaluation_pipeline(&config)?;
    // The untrained run learns nothing by itself either: what repetitive
    // patterns deflect is part of what training gains.
    let untrained = pipeline.untrained();
    let windows = LabelledWindows::read(&args.labels)?;
    let files = series_files(&args.series)?;
    let series: Vec<Series> = files
        .iter()
        .map(|f| read_series(f, &windows, args.unlabelled_ok))
        .collect::<Result<_>>()?;
    let operator = Operator {
        kind: match args.operator {
            OperatorArg::None => OperatorKind::None,
            OperatorArg::Oracle => OperatorKind::Oracle,
        },
        budget: args.label_budget,
        delay: args.label_delay,
        learn: args.learn,
        layers: args.layers,
    };
    // Every series, and both of its runs, in parallel.
    let runs: Vec<Runs> = series
        .par_iter()
        .map(|s| {
            let (untrained, trained) = rayon::join(
                || {
                    run_series(
                        &untrained,
                        &s.metric,
                        &s.points,
                        &s.windows,
                        &Operator::none(),
                    )
                },
                || run_series(&pipeline, &s.metric, &s.points, &s.windows, &operator),
            );
            Runs { untrained, trained }
        })
        .collect();
    let report = Report {
        series: series
            .iter()
            .zip(&runs)
            .map(|(s, r)| {
                let timestamps: Vec<i64> = s.points.iter().map(|p| p.0).collect();
                SeriesReport {
                    key: s.key.clone(),
                    points: s.points.len(),
                    untrained: Counts::of(&timestamps, &s.windows, &r.untrained),
                    trained: Counts::of(&timestamps, &s.windows, &r.trained),
                }
            })
            .collect(),
    };
    if let Some(dir) = &args.out {
        write_out(dir, &series, &runs, &report)?;
    }
    let mut stdout = std::io::stdout().lock();
    if args.json {
        let about = serde_json::json!({
            "operator": operator,
            "preset": args.preset.map(Preset::name),
            "series_files": series.len(),
            "seconds": started.elapsed().as_secs_f64(),
        });
        serde_json::to_writer_pretty(&mut stdout, &report.to_json(about))?;
        writeln!(stdout)?;
    } else {
        write!(stdout, "{}", report.table())?;
    }
    stdout.flush()?;
    eprintln!(
        "evaluated {} series ({} points) in {:.1}s",
        series.len(),
        series.iter().map(|s| s.points.len()).sum::<usize>(),
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// The files named, directories expanded to every `.csv` under them,
/// sorted.
fn series_files(paths: &[PathBuf]) -> Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    for path in paths {
        if path.is_dir() {
            collect_csv(path, &mut files)?;
        } else if path.is_file() {
            files.push(path.clone());
        } else {
            bail!("{}: no such file or directory", path.display());
        }
    }
    files.sort();
    files.dedup();
    if files.is_empty() {
        bail!("no .csv series found under the paths given");
    }
    Ok(files)
}

fn collect_csv(dir: &Path, files: &mut Vec<PathBuf>) -> Result<()> {
    let entries =
        std::fs::read_dir(dir).with_context(|| format!("cannot read {}", dir.display()))?;
    for entry in entries {
        let path = entry
            .with_context(|| format!("cannot read {}", dir.display()))?
            .path();
        if path.is_dir() {
            collect_csv(&path, files)?;
        } else if path.extension().is_some_and(|e| e == "csv") {
            files.push(path);
        }
    }
    Ok(())
}

/// Reads one series and finds its windows. The metric is the file's stem,
/// as `skyline backtest` names it.
fn read_series(path: &Path, windows: &LabelledWindows, unlabelled_ok: bool) -> Result<Series> {
    let input = analyze::series_file::read_series_csv(path, false)?;
    let mut points = input.points;
    analyze::series::sort_dedup(&mut points);
    let metric = path
        .file_stem()
        .map_or_else(|| "series".to_owned(), |s| s.to_string_lossy().into_owned());
    let (key, found) = match windows.for_series(path)? {
        Some((key, found)) => (key.to_owned(), found.to_vec()),
        None if unlabelled_ok => (path.display().to_string(), Vec::new()),
        None => bail!(
            "{}: no key in the windows file ends with this path (--unlabelled-ok evaluates it as having no anomalies)",
            path.display()
        ),
    };
    Ok(Series {
        key,
        metric,
        points,
        windows: found,
    })
}

/// `--out DIR`: `series.csv`, and per series its points' CSV and PNG.
fn write_out(dir: &Path, series: &[Series], runs: &[Runs], report: &Report) -> Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let summary = dir.join("series.csv");
    let mut out = BufWriter::new(
        File::create(&summary).with_context(|| format!("cannot create {}", summary.display()))?,
    );
    writeln!(
        out,
        "series,points,windows,run,alerts,true_alerts,false_alerts,missed_windows,deflections,wrong_deflections,labels,profiles,nab_standard,nab_low_fp,nab_low_fn"
    )?;
    for s in &report.series {
        for (run, c) in [("untrained", &s.untrained), ("trained", &s.trained)] {
            let [a, b, f] = c
                .nab_normalised()
                .map(|v| v.map_or(String::new(), |v| format!("{v:.3}")));
            writeln!(
                out,
                "{},{},{},{run},{},{},{},{},{},{},{},{},{a},{b},{f}",
                csv_field(&s.key),
                s.points,
                c.windows,
                c.alerts,
                c.true_alerts,
                c.false_alerts,
                c.missed_windows,
                c.deflections,
                c.wrong_deflections,
                c.labels,
                c.profiles
            )?;
        }
    }
    out.flush()?;
    for (s, r) in series.iter().zip(runs) {
        let stem = s.key.trim_end_matches(".csv").replace(['/', '\\'], "__");
        let marks = Marks::of(r);
        let path = dir.join(format!("{stem}.csv"));
        write_points(&path, s, &marks).with_context(|| format!("writing {}", path.display()))?;
        let path = dir.join(format!("{stem}.png"));
        write_png(&path, s, &marks).with_context(|| format!("drawing {}", path.display()))?;
    }
    Ok(())
}

fn csv_field(text: &str) -> String {
    if text.contains([',', '"', '\n']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.to_owned()
    }
}

/// What one series' runs mark, by timestamp.
struct Marks {
    untrained: BTreeSet<i64>,
    trained: BTreeSet<i64>,
    deflected: BTreeSet<i64>,
    /// The labelled anomalies' timestamps.
    labelled: BTreeSet<i64>,
    /// When the operator labelled (data time).
    labelled_at: Vec<i64>,
}

impl Marks {
    fn of(r: &Runs) -> Marks {
        let alerted = |log: &Log| log.alerts.iter().map(|a| a.timestamp).collect();
        Marks {
            untrained: alerted(&r.untrained),
            trained: alerted(&r.trained),
            deflected: (r.trained.matches.iter())
                .filter(|m| m.matched)
                .map(|m| m.timestamp)
                .collect(),
            labelled: r.trained.labels.iter().map(|l| l.timestamp).collect(),
            labelled_at: (r.trained.labels.iter())
                .map(|l| l.labelled_at_ms / 1_000)
                .collect(),
        }
    }
}

/// Every point of `s`: in a window, alerted in each run, deflected or
/// labelled (the labelled anomaly's timestamp) in the trained run.
fn write_points(path: &Path, s: &Series, m: &Marks) -> Result<()> {
    let mut out = BufWriter::new(File::create(path)?);
    writeln!(
        out,
        "timestamp,value,in_window,untrained_alert,trained_alert,deflected,labelled"
    )?;
    for &(t, v) in &s.points {
        writeln!(
            out,
            "{t},{v},{},{},{},{},{}",
            u8::from(in_any(&s.windows, t)),
            u8::from(m.untrained.contains(&t)),
            u8::from(m.trained.contains(&t)),
            u8::from(m.deflected.contains(&t)),
            u8::from(m.labelled.contains(&t)),
        )?;
    }
    out.flush()?;
    Ok(())
}

/// The series' graph: windows shaded, both runs' alerts, the trained run's
/// deflections and labels.
fn write_png(path: &Path, s: &Series, m: &Marks) -> Result<()> {
    let windows: Vec<(i64, i64)> = s.windows.iter().map(|w| (w.start, w.end)).collect();
    let list = |set: &BTreeSet<i64>| set.iter().copied().collect::<Vec<i64>>();
    let png = graph::evaluation_png(
        &s.points,
        &graph::EvaluationMarks {
            title: &s.key,
            windows: &windows,
            untrained_alerts: &list(&m.untrained),
            trained_alerts: &list(&m.trained),
            deflections: &list(&m.deflected),
            labels: &m.labelled_at,
        },
        1600,
        500,
    )?;
    std::fs::write(path, png)?;
    Ok(())
}
