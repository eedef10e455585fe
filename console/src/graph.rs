//! Graphs of time series as inline SVG (plotters' SVG backend), so a page
//! needs no script, font file or network to show them.
//!
//! A training graph shows what the three-sigma algorithms look at: the
//! series, its mean, the band mean ± 3σ (σ the population standard
//! deviation, `sqrt(Σ(x − x̄)² / n)`, numpy's default, as the reference's
//! algorithms use) and the anomalous datapoint marked.

use chrono::{TimeZone, Utc};
use plotters::prelude::*;

/// What to draw besides the series.
#[derive(Debug, Clone, Copy, Default)]
pub struct GraphOptions {
    pub width: u32,
    pub height: u32,
    /// Draw the mean and the mean ± 3σ band.
    pub bands: bool,
    /// Mark the datapoint at (or nearest before) this timestamp.
    pub mark: Option<i64>,
}

impl GraphOptions {
    /// A full-width graph with bands.
    pub fn training(mark: Option<i64>) -> GraphOptions {
        GraphOptions {
            width: 1120,
            height: 320,
            bands: true,
            mark,
        }
    }

    /// A small graph for lists (matches, profiles).
    pub fn thumbnail() -> GraphOptions {
        GraphOptions {
            width: 460,
            height: 180,
            bands: false,
            mark: None,
        }
    }
}

/// Mean and population standard deviation of the finite values, or `None`
/// when there are none.
pub fn mean_and_sigma(values: impl Iterator<Item = f64> + Clone) -> Option<(f64, f64)> {
    let (n, sum) = values
        .clone()
        .filter(|v| v.is_finite())
        .fold((0usize, 0.0), |(n, s), v| (n + 1, s + v));
    if n == 0 {
        return None;
    }
    let mean = sum / n as f64;
    let var = values
        .filter(|v| v.is_finite())
        .map(|v| (v - mean) * (v - mean))
        .sum::<f64>()
        / n as f64;
    Some((mean, var.sqrt()))
}

fn time_label(ts: &i64, span: i64) -> String {
    let format = if span > 3 * 86_400 {
        "%m-%d"
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

/// The series as an SVG document. Non-finite values are skipped; an empty
/// series draws a "no data" box.
pub fn series_svg(series: &[(i64, f64)], options: &GraphOptions) -> String {
    let points: Vec<(i64, f64)> = series.iter().copied().filter(|p| p.1.is_finite()).collect();
    if points.is_empty() {
        return empty_svg(options, "no data");
    }
    match draw(&points, options) {
        Ok(svg) => svg,
        Err(e) => {
            tracing::warn!(error = %e, "drawing a graph");
            empty_svg(options, "the graph could not be drawn")
        }
    }
}

fn draw(points: &[(i64, f64)], options: &GraphOptions) -> Result<String, String> {
    let x0 = points[0].0;
    let mut x1 = points[points.len() - 1].0;
    if x1 <= x0 {
        x1 = x0 + 1;
    }
    let stats = if options.bands {
        mean_and_sigma(points.iter().map(|p| p.1))
    } else {
        None
    };
    let (mut lo, mut hi) = points
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), p| {
            (lo.min(p.1), hi.max(p.1))
        });
    if let Some((mean, sigma)) = stats {
        lo = lo.min(mean - 3.0 * sigma);
        hi = hi.max(mean + 3.0 * sigma);
    }
    let pad = if hi > lo {
        (hi - lo) * 0.05
    } else {
        lo.abs().max(1.0) * 0.1
    };
    let (lo, hi) = (lo - pad, hi + pad);
    let span = x1 - x0;

    let mut svg = String::new();
    {
        let root =
            SVGBackend::with_string(&mut svg, (options.width, options.height)).into_drawing_area();
        root.fill(&WHITE).map_err(|e| e.to_string())?;
        let mut chart = ChartBuilder::on(&root)
            .margin(8)
            .x_label_area_size(24)
            .y_label_area_size(56)
            .build_cartesian_2d(x0..x1, lo..hi)
            .map_err(|e| e.to_string())?;
        chart
            .configure_mesh()
            .x_labels(6)
            .y_labels(5)
            .x_label_formatter(&|ts| time_label(ts, span))
            .y_label_formatter(&|v| format_value(*v))
            .light_line_style(RGBColor(238, 238, 242))
            .label_style(("sans-serif", 11))
            .draw()
            .map_err(|e| e.to_string())?;
        if let Some((mean, sigma)) = stats {
            let band = RGBColor(220, 53, 69).mix(0.10);
            chart
                .draw_series(std::iter::once(Rectangle::new(
                    [(x0, mean - 3.0 * sigma), (x1, mean + 3.0 * sigma)],
                    band.filled(),
                )))
                .map_err(|e| e.to_string())?;
            for (y, color) in [
                (mean + 3.0 * sigma, RGBColor(220, 53, 69).mix(0.6)),
                (mean - 3.0 * sigma, RGBColor(220, 53, 69).mix(0.6)),
                (mean, RGBColor(40, 167, 69).mix(0.9)),
            ] {
                chart
                    .draw_series(LineSeries::new([(x0, y), (x1, y)], color.stroke_width(1)))
                    .map_err(|e| e.to_string())?;
            }
        }
        chart
            .draw_series(LineSeries::new(
                points.iter().copied(),
                RGBColor(31, 97, 171).stroke_width(1),
            ))
            .map_err(|e| e.to_string())?;
        if let Some(mark) = options.mark {
            // The datapoint judged anomalous: the last one at or before
            // the anomaly's timestamp.
            let at = points.partition_point(|p| p.0 <= mark);
            if at > 0 && points[at - 1].0 >= x0 {
                let p = points[at - 1];
                chart
                    .draw_series(std::iter::once(Circle::new(p, 5, RED.filled())))
                    .map_err(|e| e.to_string())?;
            }
        }
        root.present().map_err(|e| e.to_string())?;
    }
    Ok(svg)
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
        let svg = series_svg(&series, &GraphOptions::training(Some(1_700_012_000)));
        assert!(svg.starts_with("<svg"), "{}", &svg[..80]);
        assert!(svg.contains("<polyline"), "the series is a line");
        assert!(svg.contains("<circle"), "the anomaly is marked");
        assert!(svg.contains("<rect"), "the band is drawn");
        let plain = series_svg(&series, &GraphOptions::thumbnail());
        assert!(!plain.contains("<circle"));
    }

    #[test]
    fn degenerate_series_still_draw() {
        let o = GraphOptions::thumbnail();
        assert!(series_svg(&[], &o).contains("no data"));
        assert!(series_svg(&[(5, f64::NAN)], &o).contains("no data"));
        assert!(series_svg(&[(5, 1.0)], &o).contains("<svg"));
        assert!(
            series_svg(&[(5, 1.0), (6, 1.0)], &GraphOptions::training(Some(6))).contains("<circle")
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
