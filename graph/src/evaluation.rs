//! The evaluation graph: one series over its whole span, its labelled
//! anomaly windows shaded, and two runs of the detector over it compared
//! in two stacked panels sharing the time axis — on top the untrained run's
//! alerts, below the trained run's alerts, deflections and the simulated
//! operator's labels. A mark inside a window is where an anomaly was
//! labelled: an alert there is true (green), a deflection there is wrong
//! (orange); outside, an alert is false (red), a deflection right (blue).

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use crate::{
    encode_png, format_value, register_font, time_label, time_range, time_ticks, value_range,
    within_budget, GraphError, LABEL_PX, PNG_BUDGET,
};

/// What one series' evaluation graph shows besides the series.
#[derive(Debug, Clone, Copy, Default)]
pub struct EvaluationMarks<'a> {
    /// The caption, e.g. the series' file in the corpus
    /// (`realAWSCloudwatch/ec2_cpu_utilization_825cc2.csv`).
    pub title: &'a str,
    /// The labelled anomaly windows, `(start, end)` inclusive, unix
    /// seconds.
    pub windows: &'a [(i64, i64)],
    /// When the untrained run alerted: timestamps of series points.
    pub untrained_alerts: &'a [i64],
    /// When the trained run alerted.
    pub trained_alerts: &'a [i64],
    /// The trained run's deflections: anomalies a profile matched, so not
    /// alerted.
    pub deflections: &'a [i64],
    /// When, in the data's time, the simulated operator labelled during the
    /// trained run.
    pub labels: &'a [i64],
}

/// The smallest and largest side accepted, in pixels: below the smallest
/// the two panels, their captions and the key do not fit; above the
/// largest the bitmap alone would take hundreds of megabytes.
const MIN_WIDTH: u32 = 480;
const MIN_HEIGHT: u32 = 240;
const MAX_SIDE: u32 = 8192;

// The layout, in pixels. Both panels share the left and right edges of
// their plots, so one time maps to one column in both.
/// Space left of the value axis' labels.
const MARGIN_LEFT: u32 = 12;
/// The value axis' labels.
const VALUE_AXIS: u32 = 64;
/// Right of the plot: a time label on the last second is centred on it.
const MARGIN_RIGHT: u32 = 26;
/// Above each plot, where its caption (the run and its counts) goes.
const CAPTION_ROW: u32 = 24;
/// Below each plot.
const MARGIN_BOTTOM: u32 = 4;
/// The time axis' labels, under the bottom panel only.
const TIME_AXIS: u32 = 30;
/// The key along the bottom edge.
const KEY_ROW: u32 = 28;

/// Captions' text size, in pixels (axis labels are [`LABEL_PX`]).
const CAPTION_PX: f64 = 14.0;
/// The title's.
const TITLE_PX: f64 = 16.0;

/// The part of the value range below the series' lowest value (besides the
/// axis' usual 5 % padding) kept free for the operator's label ticks, so
/// they never cover the line.
const LABEL_STRIP: f64 = 0.08;

const TEXT: RGBColor = RGBColor(52, 64, 84);
const GRID: RGBColor = RGBColor(236, 236, 240);
const LINE: RGBColor = RGBColor(96, 104, 118);
const WINDOW: RGBColor = RGBColor(255, 236, 179);
const TRUE_ALERT: RGBColor = RGBColor(40, 167, 69);
const FALSE_ALERT: RGBColor = RGBColor(220, 38, 38);
const RIGHT_DEFLECTION: RGBColor = RGBColor(13, 110, 253);
const WRONG_DEFLECTION: RGBColor = RGBColor(253, 126, 20);
const LABEL: RGBColor = RGBColor(111, 66, 193);

/// The evaluation graph of `series` as a PNG (8-bit RGB), `width` ×
/// `height` pixels (1600 × 500 reads well), drawn on a thread of its own
/// under [`PNG_BUDGET`]. Non-finite values are skipped and the line is
/// thinned to at most four points per pixel column (each column's first,
/// lowest, highest and last), so a series of tens of thousands of points
/// draws in well under the budget.
/// Marks are counted in the captions wherever they fall; those outside the
/// series' span are not drawn. Blocking: call it from async code through
/// `spawn_blocking`.
///
/// # Errors
///
/// [`GraphError::NoData`] when the series has no finite value;
/// [`GraphError::Drawing`] for a size outside 480 × 240 ..= 8192 × 8192 or
/// timestamps beyond what can be drawn; [`GraphError::Unavailable`] when the
/// drawing overran its budget.
pub fn evaluation_png(
    series: &[(i64, f64)],
    marks: &EvaluationMarks<'_>,
    width: u32,
    height: u32,
) -> Result<Vec<u8>, GraphError> {
    if !(MIN_WIDTH..=MAX_SIDE).contains(&width) || !(MIN_HEIGHT..=MAX_SIDE).contains(&height) {
        return Err(GraphError::Drawing(format!(
            "an evaluation graph of {width} × {height} pixels: \
             it takes {MIN_WIDTH} × {MIN_HEIGHT} to {MAX_SIDE} × {MAX_SIDE}"
        )));
    }
    let mut points: Vec<(i64, f64)> = series.iter().copied().filter(|p| p.1.is_finite()).collect();
    if points.is_empty() {
        return Err(GraphError::NoData);
    }
    // Marks are placed on the point at their time, found by binary search.
    points.sort_by_key(|p| p.0);
    let marks = Marks::from(marks);
    within_budget(PNG_BUDGET, move || {
        let mut rgb = vec![0u8; width as usize * height as usize * 3];
        {
            let root = BitMapBackend::with_buffer(&mut rgb, (width, height)).into_drawing_area();
            draw_evaluation(&root, &points, &marks)?;
        }
        encode_png(&rgb, width, height)
    })
}

/// [`EvaluationMarks`] owned, to move onto the drawing's thread; windows
/// given end first are turned round.
struct Marks {
    title: String,
    windows: Vec<(i64, i64)>,
    untrained_alerts: Vec<i64>,
    trained_alerts: Vec<i64>,
    deflections: Vec<i64>,
    labels: Vec<i64>,
}

impl From<&EvaluationMarks<'_>> for Marks {
    fn from(marks: &EvaluationMarks<'_>) -> Marks {
        Marks {
            title: marks.title.to_owned(),
            windows: marks
                .windows
                .iter()
                .map(|&(a, b)| (a.min(b), a.max(b)))
                .collect(),
            untrained_alerts: marks.untrained_alerts.to_vec(),
            trained_alerts: marks.trained_alerts.to_vec(),
            deflections: marks.deflections.to_vec(),
            labels: marks.labels.to_vec(),
        }
    }
}

/// Whether `t` falls in one of the (inclusive) windows.
fn in_window(t: i64, windows: &[(i64, i64)]) -> bool {
    windows.iter().any(|&(from, to)| (from..=to).contains(&t))
}

/// `n` and the noun, singular for one.
fn counted(n: usize, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}

/// "12 alerts (3 in a window)": how many alerted, and how many of them
/// were true.
fn alerts_phrase(alerts: &[i64], windows: &[(i64, i64)]) -> String {
    let total = counted(alerts.len(), "alert");
    if alerts.is_empty() {
        return total;
    }
    let true_ones = alerts.iter().filter(|t| in_window(**t, windows)).count();
    format!("{total} ({true_ones} in a window)")
}

/// The top panel's caption.
fn untrained_caption(marks: &Marks) -> String {
    format!(
        "untrained: {}",
        alerts_phrase(&marks.untrained_alerts, &marks.windows)
    )
}

/// The bottom panel's caption.
fn trained_caption(marks: &Marks) -> String {
    let wrong = marks
        .deflections
        .iter()
        .filter(|t| in_window(**t, &marks.windows))
        .count();
    format!(
        "trained: {}, {} ({wrong} wrong), {}",
        alerts_phrase(&marks.trained_alerts, &marks.windows),
        counted(marks.deflections.len(), "deflection"),
        counted(marks.labels.len(), "label"),
    )
}

/// The line as drawn: at most four points per pixel column of the plot —
/// each column's first, lowest, highest and last point, in time order.
/// Joined by lines these light the same pixels as every point would (the
/// column's vertical extent, and its joins to both neighbours), so spikes
/// stay visible while the drawing's cost no longer grows with the series.
/// `points` must be in time order, within `x0..=x1`.
fn decimate(points: &[(i64, f64)], x0: i64, x1: i64, columns: u32) -> Vec<(i64, f64)> {
    let columns = columns.max(1);
    if points.len() <= 4 * columns as usize {
        return points.to_vec();
    }
    // Column of t: ⌊(t − x0) · columns / (x1 − x0)⌋, in i128 so that no
    // product of a drawable time span and a column count can overflow.
    let span = i128::from(x1.saturating_sub(x0).max(1));
    let column = |t: i64| (i128::from(t) - i128::from(x0)) * i128::from(columns) / span;
    let mut thinned = Vec::with_capacity(4 * columns as usize + 4);
    for group in points.chunk_by(|a, b| column(a.0) == column(b.0)) {
        let by_value = |a: &&(i64, f64), b: &&(i64, f64)| a.1.total_cmp(&b.1);
        let lowest = group.iter().enumerate().min_by(|a, b| by_value(&a.1, &b.1));
        let highest = group.iter().enumerate().max_by(|a, b| by_value(&a.1, &b.1));
        let mut kept = [
            0,
            lowest.map_or(0, |(i, _)| i),
            highest.map_or(0, |(i, _)| i),
            group.len() - 1,
        ];
        kept.sort_unstable();
        let mut previous = None;
        for i in kept {
            if previous != Some(i) {
                thinned.push(group[i]);
                previous = Some(i);
            }
        }
    }
    thinned
}

/// The value of the point nearest `t` in time (`points` in time order, not
/// empty): marks sit on the series.
fn value_at(points: &[(i64, f64)], t: i64) -> f64 {
    let after = points.partition_point(|p| p.0 < t);
    let nearest = match (after.checked_sub(1), points.get(after)) {
        (Some(before), Some(next)) if t - points[before].0 <= next.0 - t => points[before],
        (_, Some(next)) => *next,
        (Some(before), None) => points[before],
        (None, None) => return f64::NAN,
    };
    nearest.1
}

/// What both panels share: the axes' ranges, the time labels, the thinned
/// line and the windows.
struct Frame<'a> {
    points: &'a [(i64, f64)],
    line: Vec<(i64, f64)>,
    windows: Vec<(i64, i64)>,
    x0: i64,
    x1: i64,
    lo: f64,
    hi: f64,
    ticks: Vec<i64>,
    step: i64,
}

/// What one panel marks.
struct Panel<'a> {
    caption: String,
    alerts: &'a [i64],
    deflections: &'a [i64],
    labels: &'a [i64],
    /// Whether the time axis' labels go under this panel.
    time_axis: bool,
}

/// Draws the title, both panels and the key on `root`.
fn draw_evaluation<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    points: &[(i64, f64)],
    marks: &Marks,
) -> Result<(), GraphError> {
    register_font()?;
    let failed = |e: DrawingAreaErrorKind<DB::ErrorType>| GraphError::Drawing(e.to_string());
    let (x0, x1) = time_range(points, None).map_err(GraphError::Drawing)?;
    let (lo, hi) = value_range(points, None, None).map_err(GraphError::Drawing)?;
    let lo = lo - (hi - lo) * LABEL_STRIP;
    root.fill(&WHITE).map_err(failed)?;
    let body = root
        .titled(
            &marks.title,
            ("sans-serif", TITLE_PX).into_font().color(&TEXT),
        )
        .map_err(failed)?;
    let (width, height) = body.dim_in_pixel();
    let (panels, key) = body.split_vertically(height.saturating_sub(KEY_ROW));
    // The bottom panel is taller by the time axis, so both plots are the
    // same height.
    let plot_panel = height.saturating_sub(KEY_ROW + TIME_AXIS) / 2;
    let (top, bottom) = panels.split_vertically(plot_panel);
    let columns = width.saturating_sub(MARGIN_LEFT + VALUE_AXIS + MARGIN_RIGHT);
    let (ticks, step) = time_ticks(x0, x1, i64::from(width / 150).clamp(4, 12));
    let windows = marks
        .windows
        .iter()
        .filter(|&&(from, to)| from <= x1 && to >= x0)
        .map(|&(from, to)| (from.max(x0), to.min(x1)))
        .collect();
    let frame = Frame {
        points,
        line: decimate(points, x0, x1, columns),
        windows,
        x0,
        x1,
        lo,
        hi,
        ticks,
        step,
    };
    draw_panel(
        &top,
        &frame,
        &Panel {
            caption: untrained_caption(marks),
            alerts: &marks.untrained_alerts,
            deflections: &[],
            labels: &[],
            time_axis: false,
        },
    )?;
    draw_panel(
        &bottom,
        &frame,
        &Panel {
            caption: trained_caption(marks),
            alerts: &marks.trained_alerts,
            deflections: &marks.deflections,
            labels: &marks.labels,
            time_axis: true,
        },
    )?;
    draw_key(&key)?;
    root.present().map_err(failed)
}

/// Draws one panel: the windows' bands under the grid, the line, then the
/// operator's labels, deflections and alerts over it.
fn draw_panel<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    frame: &Frame<'_>,
    panel: &Panel<'_>,
) -> Result<(), GraphError> {
    let failed = |e: DrawingAreaErrorKind<DB::ErrorType>| GraphError::Drawing(e.to_string());
    let (x0, x1, lo, hi) = (frame.x0, frame.x1, frame.lo, frame.hi);
    let on_graph = |v: f64| v.clamp(lo, hi);
    let mut chart = ChartBuilder::on(area)
        .margin_left(MARGIN_LEFT)
        .margin_right(MARGIN_RIGHT)
        .margin_top(CAPTION_ROW)
        .margin_bottom(MARGIN_BOTTOM)
        .x_label_area_size(if panel.time_axis { TIME_AXIS } else { 0 })
        .y_label_area_size(VALUE_AXIS)
        .build_cartesian_2d((x0..x1).with_key_points(frame.ticks.clone()), lo..hi)
        .map_err(failed)?;
    chart
        .draw_series(
            frame
                .windows
                .iter()
                .map(|&(from, to)| Rectangle::new([(from, lo), (to, hi)], WINDOW.filled())),
        )
        .map_err(failed)?;
    let span = x1 - x0;
    let time_text = |ts: &i64| time_label(ts, span, frame.step);
    let value_text = |v: &f64| format_value(*v);
    chart
        .configure_mesh()
        .y_labels(5)
        .x_label_formatter(&time_text)
        .y_label_formatter(&value_text)
        // Only the labelled lines: the finer grid between them striped
        // the band and added nothing to read.
        .light_line_style(TRANSPARENT)
        .bold_line_style(GRID)
        .label_style(("sans-serif", LABEL_PX).into_font().color(&TEXT))
        .draw()
        .map_err(failed)?;
    chart
        .draw_series(LineSeries::new(
            frame.line.iter().map(|&(t, v)| (t, on_graph(v))),
            LINE.stroke_width(1),
        ))
        .map_err(failed)?;

    let drawn = |t: &&i64| (x0..=x1).contains(*t);
    // Labels: short ticks in the strip kept free under the line.
    let tick_top = lo + (hi - lo) * LABEL_STRIP * 0.8;
    for &t in panel.labels.iter().filter(drawn) {
        chart
            .draw_series(LineSeries::new(
                [(t, lo), (t, tick_top)],
                LABEL.stroke_width(2),
            ))
            .map_err(failed)?;
    }
    // Marks on the series' point at their time, each on a white halo so it
    // stands out of a dense line.
    let on_series = |t: i64| (t, on_graph(value_at(frame.points, t)));
    let deflections: Vec<(i64, RGBColor)> = panel
        .deflections
        .iter()
        .filter(drawn)
        .map(|&t| {
            let wrong = in_window(t, &frame.windows);
            (
                t,
                if wrong {
                    WRONG_DEFLECTION
                } else {
                    RIGHT_DEFLECTION
                },
            )
        })
        .collect();
    chart
        .draw_series(
            deflections
                .iter()
                .map(|&(t, _)| TriangleMarker::new(on_series(t), 9, WHITE.filled())),
        )
        .map_err(failed)?;
    chart
        .draw_series(
            deflections
                .iter()
                .map(|&(t, colour)| TriangleMarker::new(on_series(t), 6, colour.filled())),
        )
        .map_err(failed)?;
    let alerts: Vec<(i64, RGBColor)> = panel
        .alerts
        .iter()
        .filter(drawn)
        .map(|&t| {
            let true_alert = in_window(t, &frame.windows);
            (t, if true_alert { TRUE_ALERT } else { FALSE_ALERT })
        })
        .collect();
    chart
        .draw_series(
            alerts
                .iter()
                .map(|&(t, _)| Circle::new(on_series(t), 7, WHITE.filled())),
        )
        .map_err(failed)?;
    chart
        .draw_series(
            alerts
                .iter()
                .map(|&(t, colour)| Circle::new(on_series(t), 5, colour.filled())),
        )
        .map_err(failed)?;

    let caption = ("sans-serif", CAPTION_PX).into_font().color(&TEXT);
    area.draw_text(
        &panel.caption,
        &caption,
        ((MARGIN_LEFT + VALUE_AXIS) as i32, 5),
    )
    .map_err(failed)
}

/// The glyphs of the key.
#[derive(Clone, Copy)]
enum Glyph {
    Band,
    Dot,
    Triangle,
    Tick,
}

/// Draws the key in one row, left-aligned with the plots.
fn draw_key<DB: DrawingBackend>(area: &DrawingArea<DB, Shift>) -> Result<(), GraphError> {
    let failed = |e: DrawingAreaErrorKind<DB::ErrorType>| GraphError::Drawing(e.to_string());
    let entries = [
        (Glyph::Band, WINDOW, "labelled anomaly window"),
        (Glyph::Dot, TRUE_ALERT, "alert in a window (true)"),
        (Glyph::Dot, FALSE_ALERT, "alert outside (false)"),
        (
            Glyph::Triangle,
            RIGHT_DEFLECTION,
            "deflection outside (right)",
        ),
        (
            Glyph::Triangle,
            WRONG_DEFLECTION,
            "deflection in a window (wrong)",
        ),
        (Glyph::Tick, LABEL, "operator's label"),
    ];
    let text = ("sans-serif", LABEL_PX)
        .into_font()
        .color(&TEXT)
        .pos(Pos::new(HPos::Left, VPos::Center));
    let middle = (area.dim_in_pixel().1 / 2) as i32;
    let mut x = (MARGIN_LEFT + VALUE_AXIS) as i32;
    for (glyph, colour, words) in entries {
        let centre = (x + 6, middle);
        match glyph {
            Glyph::Band => area.draw(&Rectangle::new(
                [(x, middle - 6), (x + 12, middle + 6)],
                colour.filled(),
            )),
            Glyph::Dot => area.draw(&Circle::new(centre, 5, colour.filled())),
            Glyph::Triangle => area.draw(&TriangleMarker::new(centre, 6, colour.filled())),
            Glyph::Tick => area.draw(&PathElement::new(
                [(x + 6, middle - 6), (x + 6, middle + 6)],
                colour.stroke_width(2),
            )),
        }
        .map_err(failed)?;
        area.draw_text(words, &text, (x + 18, middle))
            .map_err(failed)?;
        let (words_width, _) = area.estimate_text_size(words, &text).map_err(failed)?;
        x += 18 + words_width as i32 + 28;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The PNG's width, height and RGB pixels.
    fn decode(png: &[u8]) -> (u32, u32, Vec<u8>) {
        let decoder = png::Decoder::new(std::io::Cursor::new(png));
        let mut reader = decoder.read_info().expect("a PNG header");
        let mut rgb = vec![0; reader.output_buffer_size()];
        let info = reader.next_frame(&mut rgb).expect("a PNG frame");
        assert_eq!(info.color_type, png::ColorType::Rgb);
        assert_eq!(info.bit_depth, png::BitDepth::Eight);
        (info.width, info.height, rgb)
    }

    /// The pixel at column `x`, row `y`.
    fn pixel(rgb: &[u8], width: u32, x: u32, y: u32) -> [u8; 3] {
        let at = (y as usize * width as usize + x as usize) * 3;
        [rgb[at], rgb[at + 1], rgb[at + 2]]
    }

    /// Whether `colour` is at some pixel within `reach` columns of `x`, above
    /// the key's row.
    fn colour_near(rgb: &[u8], (w, h): (u32, u32), x: f64, reach: u32, colour: RGBColor) -> bool {
        let want = [colour.0, colour.1, colour.2];
        let x = x.round() as u32;
        (x.saturating_sub(reach)..=(x + reach).min(w - 1))
            .any(|c| (0..h - KEY_ROW).any(|r| pixel(rgb, w, c, r) == want))
    }

    const T0: i64 = 1_700_000_000;
    const STEP: i64 = 300;

    /// 1000 points five minutes apart, a gentle wave.
    fn wave() -> Vec<(i64, f64)> {
        (0..1000)
            .map(|i| (T0 + i * STEP, 50.0 + 10.0 * (i as f64 / 20.0).sin()))
            .collect()
    }

    fn at(i: i64) -> i64 {
        T0 + i * STEP
    }

    /// The window over points 400..=600 is shaded where the layout puts it,
    /// and each mark is drawn in its colour at its time: the untrained
    /// run's false alert (point 200) red and true one (500) green; the
    /// trained run's true alert (520) green, its right deflection (800)
    /// blue, its wrong one (450) orange, and its labels (510, 820) purple.
    #[test]
    fn windows_are_shaded_and_marks_coloured_at_their_times() {
        let windows = [(at(400), at(600))];
        let marks = EvaluationMarks {
            title: "a wave",
            windows: &windows,
            untrained_alerts: &[at(200), at(500)],
            trained_alerts: &[at(520)],
            deflections: &[at(800), at(450)],
            labels: &[at(510), at(820)],
        };
        let (w, h) = (1600, 500);
        let (width, height, rgb) = decode(&evaluation_png(&wave(), &marks, w, h).unwrap());
        assert_eq!((width, height), (w, h));

        // The columns where most of a plot's rows have the band's colour.
        let band = [WINDOW.0, WINDOW.1, WINDOW.2];
        let banded: Vec<u32> = (0..w)
            .filter(|&x| (0..h).filter(|&y| pixel(&rgb, w, x, y) == band).count() > 150)
            .collect();
        let (first, last) = (banded[0], *banded.last().unwrap());
        // Hand-computed: the plot spans columns 76 (12 + 64) to 1573
        // (1600 − 26 − 1), 1497 columns for 999 steps; the window starts
        // 400 steps in, at 76 + 400 · 1497 / 999 ≈ 675.4, and ends at
        // 76 + 600 · 1497 / 999 ≈ 975.1.
        assert!(
            first.abs_diff(675) <= 2,
            "the band starts at column {first}"
        );
        assert!(last.abs_diff(975) <= 2, "the band ends at column {last}");
        assert!(
            banded.len() as u32 >= last - first - 5,
            "the band is unbroken: {} of {} columns",
            banded.len(),
            last - first + 1
        );

        // Columns of the marks, interpolated from the band's edges.
        let x = |i: i64| first as f64 + (i - 400) as f64 * (last - first) as f64 / 200.0;
        let size = (w, h);
        assert!(
            colour_near(&rgb, size, x(200), 3, FALSE_ALERT),
            "false alert"
        );
        assert!(colour_near(&rgb, size, x(500), 3, TRUE_ALERT), "true alert");
        assert!(
            colour_near(&rgb, size, x(520), 3, TRUE_ALERT),
            "trained alert"
        );
        assert!(
            colour_near(&rgb, size, x(800), 3, RIGHT_DEFLECTION),
            "deflection"
        );
        assert!(
            colour_near(&rgb, size, x(450), 3, WRONG_DEFLECTION),
            "wrong one"
        );
        assert!(
            colour_near(&rgb, size, x(510), 2, LABEL),
            "label in the window"
        );
        assert!(colour_near(&rgb, size, x(820), 2, LABEL), "label after it");
        // Nothing in the window is marked false or right.
        for i in [450, 500, 520] {
            assert!(!colour_near(&rgb, size, x(i), 8, FALSE_ALERT), "{i}: red");
            assert!(
                !colour_near(&rgb, size, x(i), 8, RIGHT_DEFLECTION),
                "{i}: blue"
            );
        }
        // Nor is anything marked where no mark is.
        for colour in [FALSE_ALERT, TRUE_ALERT, RIGHT_DEFLECTION, LABEL] {
            assert!(!colour_near(&rgb, size, x(100), 20, colour));
        }
    }

    #[test]
    fn captions_count_each_run() {
        let marks = Marks::from(&EvaluationMarks {
            windows: &[(100, 200), (300, 250)],
            untrained_alerts: &[50, 100, 150, 260, 400],
            trained_alerts: &[150],
            deflections: &[50, 200, 400],
            labels: &[160, 410],
            ..EvaluationMarks::default()
        });
        // In a window: 100, 150 (100..=200) and 260 (250..=300, given end
        // first); the deflection at 200 is on a window's last second.
        assert_eq!(
            untrained_caption(&marks),
            "untrained: 5 alerts (3 in a window)"
        );
        assert_eq!(
            trained_caption(&marks),
            "trained: 1 alert (1 in a window), 3 deflections (1 wrong), 2 labels"
        );
        let none = Marks::from(&EvaluationMarks::default());
        assert_eq!(untrained_caption(&none), "untrained: 0 alerts");
        assert_eq!(
            trained_caption(&none),
            "trained: 0 alerts, 0 deflections (0 wrong), 0 labels"
        );
    }

    #[test]
    fn nothing_finite_to_draw_is_an_error() {
        let marks = EvaluationMarks::default();
        assert!(matches!(
            evaluation_png(&[], &marks, 1600, 500),
            Err(GraphError::NoData)
        ));
        assert!(matches!(
            evaluation_png(
                &[(T0, f64::NAN), (T0 + 1, f64::INFINITY)],
                &marks,
                1600,
                500
            ),
            Err(GraphError::NoData)
        ));
        for (w, h) in [(0, 0), (479, 500), (1600, 9000)] {
            assert!(
                matches!(
                    evaluation_png(&wave(), &marks, w, h),
                    Err(GraphError::Drawing(_))
                ),
                "{w} × {h}"
            );
        }
    }

    /// A spike and a dip of one point each survive thinning 10 000 points
    /// to 100 columns, as do the first and last points; at most four points
    /// a column are kept, in time order.
    #[test]
    fn decimation_keeps_spikes_and_dips() {
        let points: Vec<(i64, f64)> = (0..10_000)
            .map(|i| match i {
                5_555 => (i, 1000.0),
                7_777 => (i, -1000.0),
                _ => (i, (i % 7) as f64),
            })
            .collect();
        let thinned = decimate(&points, 0, 9_999, 100);
        assert!(thinned.len() <= 400, "{} points", thinned.len());
        assert!(thinned.len() >= 200, "{} points", thinned.len());
        for kept in [(5_555, 1000.0), (7_777, -1000.0), (0, 0.0), (9_999, 3.0)] {
            assert!(thinned.contains(&kept), "{kept:?}");
        }
        assert!(thinned.windows(2).all(|p| p[0].0 < p[1].0));
        // Few enough points are drawn as they are.
        assert_eq!(decimate(&points[..300], 0, 299, 100), &points[..300]);
    }

    #[test]
    fn marks_sit_on_the_nearest_point() {
        let points = [(10, 1.0), (20, 2.0), (40, 4.0)];
        assert_eq!(value_at(&points, 20), 2.0);
        assert_eq!(value_at(&points, 29), 2.0);
        assert_eq!(value_at(&points, 31), 4.0);
        assert_eq!(value_at(&points, 0), 1.0);
        assert_eq!(value_at(&points, 99), 4.0);
    }

    /// 25 000 points (the longest series evaluated), with a thousand
    /// alerts, draw well within the budget.
    #[test]
    fn a_long_series_draws_within_the_budget() {
        let series: Vec<(i64, f64)> = (0..25_000)
            .map(|i| (T0 + i * STEP, ((i * 7919) % 1000) as f64))
            .collect();
        let alerts: Vec<i64> = series.iter().step_by(25).map(|p| p.0).collect();
        let windows = [(at(10_000), at(11_000))];
        let marks = EvaluationMarks {
            title: "long",
            windows: &windows,
            untrained_alerts: &alerts,
            trained_alerts: &alerts[..100],
            deflections: &alerts[100..],
            labels: &alerts[..50],
        };
        let started = std::time::Instant::now();
        let png = evaluation_png(&series, &marks, 1600, 500);
        let took = started.elapsed();
        assert!(png.is_ok(), "{:?}", png.err());
        assert!(took < PNG_BUDGET / 2, "{took:?}");
    }

    /// Draws a real NAB series (CPU of an EC2 instance, one labelled
    /// window) with marks made up to resemble two runs, to
    /// /tmp/evaluation_example.png, to look at. Skipped where the corpus is
    /// not at hand.
    #[test]
    fn a_nab_series_draws() {
        let path = "/work/shared/data/nab/realAWSCloudwatch/ec2_cpu_utilization_825cc2.csv";
        let Ok(csv) = std::fs::read_to_string(path) else {
            eprintln!("{path} is not here: skipped");
            return;
        };
        let time = |s: &str| {
            chrono::NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S")
                .expect("a NAB timestamp")
                .and_utc()
                .timestamp()
        };
        let series: Vec<(i64, f64)> = csv
            .lines()
            .skip(1)
            .filter_map(|line| {
                let (t, v) = line.split_once(',')?;
                Some((time(t), v.parse().ok()?))
            })
            .collect();
        assert_eq!(series.len(), 4032);
        let windows = [(time("2014-04-15 07:24:00"), time("2014-04-16 11:54:00"))];
        // Made-up runs: the untrained one alerts on every fall below 82 %
        // (seven of them); the trained one deflects all but the last of
        // those outside the window, and the first inside it (wrongly); the
        // operator labels an hour after each of its alerts.
        let drops: Vec<i64> = series
            .windows(2)
            .filter(|p| p[1].1 < 82.0 && p[0].1 >= 82.0)
            .map(|p| p[1].0)
            .collect();
        let (inside, outside): (Vec<i64>, Vec<i64>) =
            drops.iter().partition(|t| in_window(**t, &windows));
        assert!(inside.len() >= 2 && outside.len() >= 2, "{drops:?}");
        let (deflected, alerted) = outside.split_at(outside.len() - 1);
        let trained: Vec<i64> = alerted.iter().chain(&inside[1..]).copied().collect();
        let deflections: Vec<i64> = deflected.iter().chain(&inside[..1]).copied().collect();
        let labels: Vec<i64> = trained.iter().map(|t| t + 3600).collect();
        let marks = EvaluationMarks {
            title: "realAWSCloudwatch/ec2_cpu_utilization_825cc2.csv",
            windows: &windows,
            untrained_alerts: &drops,
            trained_alerts: &trained,
            deflections: &deflections,
            labels: &labels,
        };
        let png = evaluation_png(&series, &marks, 1600, 500).unwrap();
        assert_eq!(decode(&png).0, 1600);
        std::fs::write("/tmp/evaluation_example.png", &png).unwrap();
    }
}
