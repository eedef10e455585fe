//! Graphs of metric time series: inline SVG for the console's pages (no
//! script, font file or network needed to show them) and PNG for alert
//! mails (an RGB bitmap, text drawn with the bundled DejaVu Sans so no
//! system font lookup can fail on a bare machine).
//!
//! A graph shows what the three-sigma algorithms look at: the series, its
//! mean, the band mean ± 3σ (σ the population standard deviation,
//! `sqrt(Σ(x − x̄)² / n)`, numpy's default, as the reference's algorithms
//! use) and the anomalous datapoint marked.

#![deny(missing_docs)]

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::RecvTimeoutError;
use std::sync::OnceLock;
use std::time::Duration;

use chrono::{TimeZone, Utc};
use plotters::coord::Shift;
use plotters::prelude::*;

mod evaluation;
pub use evaluation::{evaluation_png, EvaluationMarks};

/// Why a graph could not be drawn.
#[derive(Debug, thiserror::Error)]
pub enum GraphError {
    /// Nothing finite to draw (in the range asked for).
    #[error("no data")]
    NoData,
    /// The drawing library refused (an axis it cannot divide, a font).
    #[error("drawing: {0}")]
    Drawing(String),
    /// The drawing overran [`RENDER_BUDGET`], panicked, or too many are
    /// still running.
    #[error("graph unavailable: {0}")]
    Unavailable(&'static str),
    /// Encoding the bitmap as PNG.
    #[error("encoding the PNG: {0}")]
    Png(#[from] png::EncodingError),
}

/// What to draw besides the series.
#[derive(Debug, Clone, Default)]
pub struct GraphOptions {
    /// Width, in pixels.
    pub width: u32,
    /// Height, in pixels.
    pub height: u32,
    /// Draw the mean and the mean ± 3σ band.
    pub bands: bool,
    /// The anomalous datapoint `(timestamp, value)`: a red dot on it and a
    /// line at its time, when it is in the time range.
    pub mark: Option<(i64, f64)>,
    /// The time range drawn; `None`: the series' own. Points outside it are
    /// left out.
    pub range: Option<(i64, i64)>,
    /// The values' unit, named on the value axis.
    pub unit: Option<String>,
    /// A caption above the graph (alert mails name the metric and value).
    pub title: Option<String>,
    /// Draw the band with the sample standard deviation
    /// (`s = sqrt(Σ(x − x̄)² / (n − 1))`, as the reference's alert graph
    /// and the mail's own figures) rather than the population one.
    pub sample_sigma: bool,
}

/// Axis text size in pixels. The SVGs are shown at their own size (never
/// scaled down by the page), so this is the size on screen.
pub const LABEL_PX: f64 = 12.0;

/// plotters' SVG backend writes `font-size` as the size asked for divided
/// by 1.24 (its point-to-pixel factor): asking for this many gives
/// [`LABEL_PX`].
const PLOTTERS_FONT_FACTOR: f64 = 1.24;

impl GraphOptions {
    /// A full-width graph with bands.
    pub fn training(mark: Option<(i64, f64)>) -> GraphOptions {
        GraphOptions {
            width: 1120,
            height: 320,
            bands: true,
            mark,
            ..GraphOptions::default()
        }
    }

    /// A half-width graph of a time range (the training page's durations).
    pub fn duration(range: (i64, i64), mark: Option<(i64, f64)>) -> GraphOptions {
        GraphOptions {
            width: 550,
            height: 230,
            mark,
            range: Some(range),
            ..GraphOptions::default()
        }
    }

    /// A small graph for lists (matches, profiles).
    pub fn thumbnail() -> GraphOptions {
        GraphOptions {
            width: 460,
            height: 180,
            ..GraphOptions::default()
        }
    }

    /// The graph of an alert mail: the window judged, with bands and the
    /// anomalous datapoint marked.
    pub fn alert(mark: (i64, f64)) -> GraphOptions {
        GraphOptions {
            width: 800,
            height: 360,
            bands: true,
            mark: Some(mark),
            sample_sigma: true,
            ..GraphOptions::default()
        }
    }

    /// With a caption above the graph.
    pub fn with_title(mut self, title: impl Into<String>) -> GraphOptions {
        self.title = Some(title.into());
        self
    }

    /// With the values' unit named on the value axis.
    pub fn with_unit(mut self, unit: Option<&str>) -> GraphOptions {
        self.unit = unit.map(str::to_owned);
        self
    }
}

/// Mean and population standard deviation of the finite values, or `None`
/// when there are none. Summed plainly first, which is exact where numpy
/// is; only when a sum overflows (values near ±f64::MAX) is it summed again
/// over the values scaled by the largest magnitude, so that no
/// intermediate is infinite and both results are finite.
pub fn mean_and_sigma(values: impl Iterator<Item = f64> + Clone) -> Option<(f64, f64)> {
    let finite = values.filter(|v| v.is_finite());
    let plain = moments(finite.clone(), 1.0);
    if let Some((mean, sigma)) = plain.filter(|(m, s)| m.is_finite() && s.is_finite()) {
        return Some((mean, sigma));
    }
    let scale = finite.clone().fold(0.0_f64, |m, v| m.max(v.abs()));
    let (mean, sigma) = moments(finite, scale)?;
    Some((mean * scale, sigma * scale)).filter(|(m, s)| m.is_finite() && s.is_finite())
}

/// Mean and population σ of `values / scale`.
fn moments(values: impl Iterator<Item = f64> + Clone, scale: f64) -> Option<(f64, f64)> {
    let (n, sum) = values
        .clone()
        .fold((0usize, 0.0), |(n, s), v| (n + 1, s + v / scale));
    if n == 0 {
        return None;
    }
    let mean = sum / n as f64;
    let var = values
        .map(|v| (v / scale - mean) * (v / scale - mean))
        .sum::<f64>()
        / n as f64;
    Some((mean, var.sqrt()))
}

/// Steps between time labels, round in UTC: 10 and 30 minutes, 1, 2, 3, 6
/// and 12 hours, 1, 2 and 7 days.
const TIME_STEPS: [i64; 10] = [
    600,
    1800,
    3600,
    2 * 3600,
    3 * 3600,
    6 * 3600,
    12 * 3600,
    86_400,
    2 * 86_400,
    7 * 86_400,
];

/// The time labels of `[x0, x1]`: at multiples of the smallest round step
/// that gives at most `most` of them.
pub(crate) fn time_ticks(x0: i64, x1: i64, most: i64) -> (Vec<i64>, i64) {
    let span = x1.saturating_sub(x0).max(1);
    let step = TIME_STEPS
        .iter()
        .copied()
        .find(|step| span / step < most)
        .unwrap_or_else(|| (span / most.max(1)).max(1));
    let first = x0.saturating_add(step - x0.rem_euclid(step))
        - if x0.rem_euclid(step) == 0 { step } else { 0 };
    let ticks = std::iter::successors(Some(first), |t| t.checked_add(step))
        .take_while(|t| *t <= x1)
        .collect();
    (ticks, step)
}

/// A time label: the time of day when the labels are hours apart in at
/// most a day, the date and time when they are hours apart, the date
/// when they are days apart (UTC).
pub(crate) fn time_label(ts: &i64, span: i64, step: i64) -> String {
    let format = if step >= 86_400 {
        "%m-%d"
    } else if span <= 86_400 {
        "%H:%M"
    } else {
        "%m-%d %H:%M"
    };
    Utc.timestamp_opt(*ts, 0)
        .single()
        .map(|t| t.format(format).to_string())
        .unwrap_or_default()
}

/// An SVG saying there is nothing to draw.
fn empty_svg(options: &GraphOptions, message: &str) -> String {
    format!(
        r##"<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" viewBox="0 0 {w} {h}"><rect width="100%" height="100%" fill="#f7f7f9"/><text x="50%" y="50%" text-anchor="middle" font-family="sans-serif" font-size="14" fill="#666">{message}</text></svg>"##,
        w = options.width,
        h = options.height,
    )
}

/// What a graph that could not be drawn in time, or at all, says.
pub const UNAVAILABLE: &str = "graph unavailable";

/// How long one graph may take to draw. A graph of 30 days of 10-minute
/// means takes a few milliseconds; past this the page shows
/// [`UNAVAILABLE`] in its place rather than wait.
pub const RENDER_BUDGET: Duration = Duration::from_millis(500);

/// Drawings that may run at once. A drawing that overruns its budget keeps
/// its thread (a thread cannot be stopped from outside) and its slot until
/// it ends; should some never end, they can take at most this many
/// threads, and later graphs show [`UNAVAILABLE`] at once.
const MAX_DRAWINGS: usize = 8;

static DRAWINGS: AtomicUsize = AtomicUsize::new(0);

/// A slot of [`MAX_DRAWINGS`], given back when dropped.
struct DrawingSlot;

impl DrawingSlot {
    fn take() -> Option<DrawingSlot> {
        DRAWINGS
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
                (n < MAX_DRAWINGS).then_some(n + 1)
            })
            .ok()
            .map(|_| DrawingSlot)
    }
}

impl Drop for DrawingSlot {
    fn drop(&mut self) {
        DRAWINGS.fetch_sub(1, Ordering::AcqRel);
    }
}

/// The finite points of `series` inside the range asked for.
fn drawable(series: &[(i64, f64)], options: &GraphOptions) -> Vec<(i64, f64)> {
    let in_range = |t: i64| {
        options
            .range
            .is_none_or(|(from, to)| (from..=to).contains(&t))
    };
    series
        .iter()
        .copied()
        .filter(|p| p.1.is_finite() && in_range(p.0))
        .collect()
}

/// The series as an SVG document. Non-finite values and points outside the
/// range are skipped; when none is left, a "no data" box. The drawing runs
/// on a thread of its own under [`RENDER_BUDGET`], so neither a slow nor a
/// panicking drawing can hold up the page: either gives the
/// [`UNAVAILABLE`] box. Call it off the async executor (it waits up to the
/// budget).
pub fn series_svg(series: &[(i64, f64)], options: &GraphOptions) -> String {
    let points = drawable(series, options);
    if points.is_empty() {
        let message = if options.range.is_some() && !series.is_empty() {
            "no data in this time range"
        } else {
            "no data"
        };
        return empty_svg(options, message);
    }
    let drawing = options.clone();
    within_budget(RENDER_BUDGET, move || {
        let mut svg = String::new();
        {
            let root = SVGBackend::with_string(&mut svg, (drawing.width, drawing.height))
                .into_drawing_area();
            draw(root, &points, &drawing, LABEL_PX * PLOTTERS_FONT_FACTOR)?;
        }
        Ok(svg)
    })
    .unwrap_or_else(|e| {
        tracing::warn!(error = %e, "drawing a graph");
        empty_svg(options, UNAVAILABLE)
    })
}

/// How long a PNG may take to draw and encode: an alert mail waits for it,
/// nobody's page does, so a longer budget than [`RENDER_BUDGET`].
pub const PNG_BUDGET: Duration = Duration::from_secs(5);

/// The series as a PNG (8-bit RGB), drawn like [`series_svg`] on a thread
/// of its own under [`PNG_BUDGET`], its text in the bundled DejaVu Sans.
/// Blocking: call it from async code through `spawn_blocking`.
pub fn series_png(series: &[(i64, f64)], options: &GraphOptions) -> Result<Vec<u8>, GraphError> {
    let points = drawable(series, options);
    if points.is_empty() {
        return Err(GraphError::NoData);
    }
    let drawing = options.clone();
    within_budget(PNG_BUDGET, move || {
        let (width, height) = (drawing.width.max(1), drawing.height.max(1));
        let mut rgb = vec![0u8; width as usize * height as usize * 3];
        {
            let root = BitMapBackend::with_buffer(&mut rgb, (width, height)).into_drawing_area();
            draw(root, &points, &drawing, LABEL_PX)?;
        }
        encode_png(&rgb, width, height)
    })
}

/// An 8-bit RGB bitmap, `width` × `height`, as PNG bytes.
pub(crate) fn encode_png(rgb: &[u8], width: u32, height: u32) -> Result<Vec<u8>, GraphError> {
    let mut png = Vec::new();
    let mut encoder = png::Encoder::new(&mut png, width, height);
    encoder.set_color(png::ColorType::Rgb);
    encoder.set_depth(png::BitDepth::Eight);
    let mut writer = encoder.write_header()?;
    writer.write_image_data(rgb)?;
    writer.finish()?;
    Ok(png)
}

/// Runs `draw` on a thread of its own and waits up to `budget` for its
/// result; [`GraphError::Unavailable`] when it overruns or panics.
pub(crate) fn within_budget<T: Send + 'static>(
    budget: Duration,
    draw: impl FnOnce() -> Result<T, GraphError> + Send + 'static,
) -> Result<T, GraphError> {
    let Some(slot) = DrawingSlot::take() else {
        tracing::warn!(
            running = MAX_DRAWINGS,
            "graph drawings still running past their budget: not drawing another"
        );
        return Err(GraphError::Unavailable("too many drawings running"));
    };
    let (tx, rx) = std::sync::mpsc::sync_channel(1);
    std::thread::Builder::new()
        .name("graph".into())
        .spawn(move || {
            let _slot = slot;
            let _ = tx.send(draw());
        })
        .map_err(|_| GraphError::Unavailable("no thread to draw on"))?;
    match rx.recv_timeout(budget) {
        Ok(drawn) => drawn,
        Err(RecvTimeoutError::Timeout) => {
            tracing::error!(
                budget_ms = budget.as_millis() as u64,
                "a graph took longer than its budget to draw"
            );
            Err(GraphError::Unavailable("over its time budget"))
        }
        Err(RecvTimeoutError::Disconnected) => {
            tracing::error!("a graph drawing failed (panicked)");
            Err(GraphError::Unavailable("the drawing panicked"))
        }
    }
}

/// The bundled font, registered once as plotters' "sans-serif": the PNG
/// backend rasterises with it, and both backends measure labels with it.
static DEJAVU_SANS: &[u8] = include_bytes!("../fonts/DejaVuSans.ttf");

pub(crate) fn register_font() -> Result<(), GraphError> {
    static REGISTERED: OnceLock<bool> = OnceLock::new();
    let ok = *REGISTERED.get_or_init(|| {
        plotters::style::register_font("sans-serif", FontStyle::Normal, DEJAVU_SANS).is_ok()
    });
    if ok {
        Ok(())
    } else {
        Err(GraphError::Drawing("the bundled font does not load".into()))
    }
}

/// Values beyond this magnitude are drawn at the edge of the graph. Far
/// above anything measured, and small enough that every difference of two
/// values in range — what the axis arithmetic takes — is finite (values
/// near ±f64::MAX made `hi − lo` infinite, and the plotting library's axis
/// loop never ended).
const VALUE_LIMIT: f64 = 1e300;

/// Timestamps beyond ±this (about the year 33658) are not drawn: ingest
/// accepts up to the year 2500, and integer axis arithmetic must not
/// overflow.
const TIME_LIMIT: i64 = 1_000_000_000_000;

/// The value axis' range: the values (the band, the mark) with 5 % above and
/// below, finite and of a width the axis can divide. A range narrower than
/// a billionth of its magnitude (or a flat series) is widened to ±10 % of
/// it, since ticks closer than the values' precision could not be told
/// apart (and the axis arithmetic needs a step above it).
pub(crate) fn value_range(
    points: &[(i64, f64)],
    band: Option<(f64, f64)>,
    mark: Option<f64>,
) -> Result<(f64, f64), String> {
    let clamp = |v: f64| v.clamp(-VALUE_LIMIT, VALUE_LIMIT);
    let (mut lo, mut hi) = points
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), p| {
            (lo.min(clamp(p.1)), hi.max(clamp(p.1)))
        });
    if let Some((low, high)) = band {
        lo = lo.min(clamp(low));
        hi = hi.max(clamp(high));
    }
    if let Some(v) = mark {
        lo = lo.min(clamp(v));
        hi = hi.max(clamp(v));
    }
    if !(lo.is_finite() && hi.is_finite()) {
        return Err("no finite value to draw".into());
    }
    let magnitude = lo.abs().max(hi.abs());
    let (lo, hi) = if hi - lo > (magnitude * 1e-9).max(1e-290) {
        let pad = (hi - lo) * 0.05;
        (lo - pad, hi + pad)
    } else {
        let pad = magnitude.max(1.0) * 0.1;
        (lo - pad, hi + pad)
    };
    Ok((lo, hi))
}

/// The time axis' range: the one asked for, else the series' own; at least
/// a second wide.
pub(crate) fn time_range(
    points: &[(i64, f64)],
    asked: Option<(i64, i64)>,
) -> Result<(i64, i64), String> {
    let (x0, x1) = asked.unwrap_or((points[0].0, points[points.len() - 1].0));
    if x0.abs() > TIME_LIMIT || x1.abs() > TIME_LIMIT {
        return Err(format!(
            "timestamps {x0}..{x1} are out of the drawable range"
        ));
    }
    Ok((x0, x1.max(x0 + 1)))
}

/// Draws the graph on `root`; `text_size` is the size plotters is asked
/// for (the SVG backend divides it by [`PLOTTERS_FONT_FACTOR`]).
fn draw<DB: DrawingBackend>(
    root: DrawingArea<DB, Shift>,
    points: &[(i64, f64)],
    options: &GraphOptions,
    text_size: f64,
) -> Result<(), GraphError> {
    register_font()?;
    let failed = |e: DrawingAreaErrorKind<DB::ErrorType>| GraphError::Drawing(e.to_string());
    let (x0, x1) = time_range(points, options.range).map_err(GraphError::Drawing)?;
    let mark = options
        .mark
        .filter(|(t, v)| (x0..=x1).contains(t) && v.is_finite());
    // The band only when it is finite: mean ± 3σ of values near the limits
    // is not.
    let stats = if options.bands {
        let n = points.len() as f64;
        mean_and_sigma(points.iter().map(|p| p.1))
            .map(|(m, s)| {
                // s² = σ² · n / (n − 1); one point has no sample spread.
                let ddof1 = if n > 1.0 {
                    s * (n / (n - 1.0)).sqrt()
                } else {
                    0.0
                };
                (m, if options.sample_sigma { ddof1 } else { s })
            })
            .filter(|(m, s)| (m + 3.0 * s).is_finite() && (m - 3.0 * s).is_finite())
    } else {
        None
    };
    let band = stats.map(|(m, s)| (m - 3.0 * s, m + 3.0 * s));
    let (lo, hi) = value_range(points, band, mark.map(|m| m.1)).map_err(GraphError::Drawing)?;
    let on_graph = |v: f64| v.clamp(lo, hi);
    let span = x1 - x0;

    {
        root.fill(&WHITE).map_err(failed)?;
        let text = || {
            ("sans-serif", text_size)
                .into_font()
                .color(&RGBColor(52, 64, 84))
        };
        let root = match &options.title {
            Some(title) => root
                .titled(title, ("sans-serif", text_size * 1.1).into_font())
                .map_err(failed)?,
            None => root,
        };
        let label_area = if options.unit.is_some() { 84 } else { 64 };
        let (ticks, step) = time_ticks(x0, x1, if options.width < 700 { 5 } else { 8 });
        // A wider right margin: a time label on the last second is centred
        // on the edge.
        let mut chart = ChartBuilder::on(&root)
            .margin(12)
            .margin_right(26)
            .x_label_area_size(30)
            .y_label_area_size(label_area)
            .build_cartesian_2d((x0..x1).with_key_points(ticks), lo..hi)
            .map_err(failed)?;
        let time_text = |ts: &i64| time_label(ts, span, step);
        let value_text = |v: &f64| format_value(*v);
        let mut mesh = chart.configure_mesh();
        mesh.y_labels(5)
            .x_label_formatter(&time_text)
            .y_label_formatter(&value_text)
            .light_line_style(RGBColor(238, 238, 242))
            .label_style(text());
        if let Some(unit) = &options.unit {
            mesh.y_desc(unit.as_str()).axis_desc_style(text());
        }
        mesh.draw().map_err(failed)?;
        if let Some((mean, sigma)) = stats {
            let (low, high) = (on_graph(mean - 3.0 * sigma), on_graph(mean + 3.0 * sigma));
            let band = RGBColor(220, 53, 69).mix(0.10);
            chart
                .draw_series(std::iter::once(Rectangle::new(
                    [(x0, low), (x1, high)],
                    band.filled(),
                )))
                .map_err(failed)?;
            for (y, color) in [
                (high, RGBColor(220, 53, 69).mix(0.6)),
                (low, RGBColor(220, 53, 69).mix(0.6)),
                (on_graph(mean), RGBColor(40, 167, 69).mix(0.9)),
            ] {
                chart
                    .draw_series(LineSeries::new([(x0, y), (x1, y)], color.stroke_width(1)))
                    .map_err(failed)?;
            }
        }
        chart
            .draw_series(LineSeries::new(
                points.iter().map(|&(t, v)| (t, on_graph(v))),
                RGBColor(31, 97, 171).stroke_width(1),
            ))
            .map_err(failed)?;
        if let Some((t, v)) = mark {
            // The anomalous datapoint: a line at its time, so that it can
            // be found on a month of data, and a dot on its value.
            chart
                .draw_series(LineSeries::new(
                    [(t, lo), (t, hi)],
                    RGBColor(220, 53, 69).mix(0.45).stroke_width(1),
                ))
                .map_err(failed)?;
            chart
                .draw_series(std::iter::once(Circle::new(
                    (t, on_graph(v)),
                    5,
                    RED.filled(),
                )))
                .map_err(failed)?;
        }
        root.present().map_err(failed)?;
    }
    Ok(())
}

/// A value for an axis or a table: short, and exact enough to tell values
/// apart.
pub fn format_value(v: f64) -> String {
    if v == 0.0 {
        return "0".into();
    }
    let a = v.abs();
    if (0.001..1e6).contains(&a) {
        let s = format!("{v:.3}");
        let s = s.trim_end_matches('0').trim_end_matches('.');
        s.to_owned()
    } else {
        format!("{v:.3e}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mean_and_sigma_are_the_population_ones() {
        // numpy: np.mean([2,4,4,4,5,5,7,9]) = 5, np.std(...) = 2.
        let v = [2.0, 4.0, 4.0, 4.0, 5.0, 5.0, 7.0, 9.0, f64::NAN];
        let (m, s) = mean_and_sigma(v.iter().copied()).unwrap();
        assert_eq!((m, s), (5.0, 2.0));
        assert_eq!(mean_and_sigma([f64::NAN].iter().copied()), None);
    }

    #[test]
    fn a_series_draws_its_band_and_mark() {
        let series: Vec<(i64, f64)> = (0..200)
            .map(|i| (1_700_000_000 + i * 60, (i % 10) as f64))
            .chain([(1_700_000_000 + 200 * 60, 40.0)])
            .collect();
        let svg = series_svg(
            &series,
            &GraphOptions::training(Some((1_700_012_000, 40.0))),
        );
        assert!(svg.starts_with("<svg"), "{}", &svg[..80]);
        assert!(svg.contains("<polyline"), "the series is a line");
        assert!(svg.contains("<circle"), "the anomaly is marked");
        assert!(svg.contains("<rect"), "the band is drawn");
        let plain = series_svg(&series, &GraphOptions::thumbnail());
        assert!(!plain.contains("<circle"));
    }

    /// The PNG decodes to the size asked for, its series drawn in blue, the
    /// anomaly in red and its text in the bundled font (dark pixels in the
    /// caption's strip); a copy is left in `target/` to look at.
    #[test]
    fn a_png_decodes_with_its_line_mark_and_caption() {
        let series: Vec<(i64, f64)> = (0..1440)
            .map(|i| (1_700_000_000 + i * 60, 50.0 + (i as f64 / 60.0).sin() * 5.0))
            .chain([(1_700_000_000 + 1440 * 60, 90.0)])
            .collect();
        let mark = series[1440];
        let options = GraphOptions::alert(mark).with_title("stats.web01.requests - 90");
        let png = series_png(&series, &options).unwrap();
        let target = concat!(env!("CARGO_MANIFEST_DIR"), "/../target/graph-example.png");
        let _ = std::fs::write(target, &png);
        let decoder = png::Decoder::new(std::io::Cursor::new(&png));
        let mut reader = decoder.read_info().unwrap();
        let mut rgb = vec![0; reader.output_buffer_size()];
        let info = reader.next_frame(&mut rgb).unwrap();
        assert_eq!((info.width, info.height), (800, 360));
        assert_eq!(info.color_type, png::ColorType::Rgb);
        let pixels: Vec<&[u8]> = rgb.chunks(3).collect();
        let count = |f: &dyn Fn(&[u8]) -> bool| pixels.iter().filter(|p| f(p)).count();
        assert!(count(&|p| p == [31, 97, 171]) > 500, "the series line");
        assert!(count(&|p| p == [255, 0, 0]) > 20, "the anomaly's dot");
        let caption = &rgb[..800 * 3 * 24];
        let dark = caption
            .chunks(3)
            .filter(|p| p.iter().all(|c| *c < 128))
            .count();
        assert!(dark > 50, "the caption is drawn: {dark} dark pixels");
        assert!(matches!(
            series_png(&[(1, f64::NAN)], &options),
            Err(GraphError::NoData)
        ));
    }

    #[test]
    fn degenerate_series_still_draw() {
        let o = GraphOptions::thumbnail();
        assert!(series_svg(&[], &o).contains("no data"));
        assert!(series_svg(&[(5, f64::NAN)], &o).contains("no data"));
        assert!(series_svg(&[(5, 1.0)], &o).contains("<svg"));
        assert!(series_svg(
            &[(5, 1.0), (6, 1.0)],
            &GraphOptions::training(Some((6, 1.0)))
        )
        .contains("<circle"));
    }

    /// Series whose axis arithmetic once overflowed or could not step:
    /// each draws, within its budget, with its line.
    #[test]
    fn extreme_series_draw_within_the_budget() {
        let day = |values: &[f64]| -> Vec<(i64, f64)> {
            values
                .iter()
                .enumerate()
                .map(|(i, v)| (1_700_000_000 + i as i64 * 60, *v))
                .collect()
        };
        let cases = [
            ("±1.7e308", day(&[1.0, 1.7e308, -1.7e308, 2.0])),
            ("±f64::MAX", day(&[f64::MAX, f64::MIN, f64::MAX])),
            ("one huge value", day(&[1.0, 2.0, f64::MAX])),
            (
                "a step below the precision",
                day(&[1e17, 1e17 + 16.0, 1e17]),
            ),
            ("subnormal", day(&[5e-324, 1e-320, 2e-320])),
            ("tiny and huge", day(&[1e-300, 1e300, -1e-300])),
        ];
        for (name, series) in cases {
            let started = std::time::Instant::now();
            for options in [
                GraphOptions::training(Some(series[1])),
                GraphOptions::thumbnail(),
            ] {
                let svg = series_svg(&series, &options);
                assert!(
                    svg.contains("<polyline") && !svg.contains(UNAVAILABLE),
                    "{name}: {}",
                    &svg[..svg.len().min(300)]
                );
            }
            assert!(
                started.elapsed() < RENDER_BUDGET,
                "{name}: {:?}",
                started.elapsed()
            );
        }
        // Timestamps outside what ingest accepts are refused, not drawn.
        let far = [(i64::MIN, 1.0), (i64::MAX, 2.0)];
        assert!(series_svg(&far, &GraphOptions::thumbnail()).contains(UNAVAILABLE));
    }

    #[test]
    fn a_drawing_past_its_budget_or_panicking_is_unavailable() {
        let started = std::time::Instant::now();
        let slow = within_budget(RENDER_BUDGET, || {
            std::thread::sleep(RENDER_BUDGET * 4);
            Ok("<svg>late</svg>")
        });
        assert!(matches!(slow, Err(GraphError::Unavailable(_))), "{slow:?}");
        assert!(
            started.elapsed() < RENDER_BUDGET * 2,
            "{:?}",
            started.elapsed()
        );
        let panicked: Result<&str, _> = within_budget(RENDER_BUDGET, || panic!("a drawing bug"));
        assert!(matches!(panicked, Err(GraphError::Unavailable(_))));
        assert_eq!(
            within_budget(RENDER_BUDGET, || Ok("<svg/>")).unwrap(),
            "<svg/>"
        );
    }

    #[test]
    fn mean_and_sigma_of_extreme_values_are_finite() {
        let (m, s) = mean_and_sigma([f64::MAX, f64::MAX].iter().copied()).unwrap();
        assert_eq!(
            (m, s),
            (f64::MAX, 0.0),
            "the mean of two maxima, summed scaled"
        );
        let (m, s) = mean_and_sigma([f64::MAX, f64::MIN].iter().copied()).unwrap();
        assert_eq!((m, s), (0.0, f64::MAX));
    }

    #[test]
    fn time_labels_fall_on_round_times() {
        let day = 1_700_000_000 - 1_700_000_000 % 86_400;
        // 7 hours from 20:34: every 2 hours, on the hour.
        let (ticks, step) = time_ticks(day + 20 * 3600 + 34 * 60, day + 27 * 3600 + 34 * 60, 5);
        assert_eq!(step, 7200);
        assert_eq!(ticks, [day + 22 * 3600, day + 24 * 3600, day + 26 * 3600]);
        assert_eq!(time_label(&ticks[0], 7 * 3600, step), "22:00");
        // A week: daily, at midnight, as dates.
        let (ticks, step) = time_ticks(day + 600, day + 7 * 86_400, 8);
        assert_eq!((ticks.len(), step, ticks[0]), (7, 86_400, day + 86_400));
        assert!(time_label(&ticks[0], 7 * 86_400, step).len() == 5);
        // A tick on the first second is kept.
        assert_eq!(time_ticks(day, day + 3600, 5).0[0], day);
        // Beyond the steps: evenly, and no more than asked.
        let (ticks, _) = time_ticks(0, 400 * 86_400, 5);
        assert!(ticks.len() <= 6 && ticks.len() >= 4, "{ticks:?}");
    }

    #[test]
    fn axis_text_is_drawn_at_12_px() {
        let series: Vec<(i64, f64)> = (0..100)
            .map(|i| (1_700_000_000 + i * 60, i as f64))
            .collect();
        let svg = series_svg(&series, &GraphOptions::thumbnail().with_unit(Some("ms")));
        let sizes: Vec<f64> = svg
            .split("font-size=\"")
            .skip(1)
            .filter_map(|s| s.split('"').next()?.parse().ok())
            .collect();
        assert!(!sizes.is_empty());
        assert!(
            sizes.iter().all(|px| (*px - LABEL_PX).abs() < 0.01),
            "{sizes:?}"
        );
        assert!(
            svg.contains(">\nms\n</text>"),
            "the unit names the value axis"
        );
    }

    #[test]
    fn values_format_short() {
        assert_eq!(format_value(0.0), "0");
        assert_eq!(format_value(12.5), "12.5");
        assert_eq!(format_value(3.0), "3");
        assert_eq!(format_value(1.23456e9), "1.235e9");
    }
}
