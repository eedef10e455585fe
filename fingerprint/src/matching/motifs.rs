//! Motif inference (`spec/ionosphere.md` §7): is the end of the check's
//! series shaped like some stretch of a profile's series?
//!
//! For each batch size (1 440, 720, 360, 180 points at 60 s, rescaled to the
//! data's resolution) the last `b` values of the check are the query. Every
//! profile at the check's duration and resolution is searched with MASS
//! ([`super::mass`]): a profile with at least three whole windows of `b`
//! points gets mass2_batch's treatment (one distance per non-overlapping
//! aligned window, the `top_matches` best kept), a shorter one the full
//! sliding profile (the reference's MASS3 path). A candidate is a match when
//!
//! * its distance is at most the batch's `max_distance`,
//! * the profile's window lies inside the query's padded range and reaches
//!   within `pad` of the query's extremes (`all_in_range`), and
//! * the trapezoid areas under query and window differ by at most
//!   `max_area_percent_diff` %;
//!
//! or when it is an exact copy of the query (`find_exact_matches`). The best
//! match is the one with the smallest distance, then the smallest area
//! difference.
//!
//! **Index labelling.** On the MASS3 path the reference labels distance `i`
//! with index `i + b − 1` (the window's last point, not its start), so the
//! window it then range-checks and measures is `b − 1` points later than the
//! one the distance belongs to (and is cut short near the end of the
//! series). This implementation **fixes** that knowingly: a candidate's
//! index is the start of the window its distance was computed on, on both
//! paths, so distance, range check and area all describe the same
//! subsequence (mass2_batch's indices are starts already, so both paths now
//! agree). It also includes the last window (`n − b`), which mass3's piece
//! loop never computes.
//!
//! Everything derived from a profile's series alone (its resolution, the
//! window statistics per batch size, the FFT of its series) is computed on
//! first use and kept in the profile's [`super::ProfileCache`]; the query
//! side is computed once per check.

use std::sync::{Arc, Mutex, OnceLock};

use rustfft::num_complex::Complex;

use super::mass::{self, FftPair, Query, WindowStats};
use super::{MotifBatch, MotifKind, MotifMatch, Profile};
use crate::percent_different;

/// The resolutions (seconds) `determine_data_frequency` keeps as they are
/// below 69 s; any other gap from 1 to 68 s is taken for 60.
const KEPT_SUB_MINUTE: [i64; 10] = [1, 2, 3, 5, 6, 10, 12, 15, 20, 30];

/// Skyline's `determine_data_frequency` (`spec/seasonal.md` §7): the most
/// common gap between consecutive timestamps among the last 101 (all of
/// them for 94 or fewer), the smallest of equally common gaps; a gap from 1
/// to 68 s other than 60 and the divisors listed in [`KEPT_SUB_MINUTE`] is
/// taken for 60. `None` for fewer than two timestamps.
pub fn data_frequency(timestamps: &[i64]) -> Option<i64> {
    let ts = if timestamps.len() > 94 {
        &timestamps[timestamps.len().saturating_sub(101)..]
    } else {
        timestamps
    };
    let mut gaps: Vec<i64> = ts.windows(2).map(|w| w[1] - w[0]).collect();
    if gaps.is_empty() {
        return None;
    }
    gaps.sort_unstable();
    // runs of equal gaps, ascending: keep the first (smallest) longest run
    let (mut best, mut best_count) = (gaps[0], 0usize);
    let mut i = 0;
    while i < gaps.len() {
        let run = gaps[i..].iter().take_while(|&&g| g == gaps[i]).count();
        if run > best_count {
            best = gaps[i];
            best_count = run;
        }
        i += run;
    }
    if best != 60 && !KEPT_SUB_MINUTE.contains(&best) && (1..=68).contains(&best) {
        best = 60;
    }
    Some(best)
}

/// A batch size and its maximum distance at the data's resolution.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BatchPlan {
    /// Query length in points.
    pub size: usize,
    /// Largest z-normalised distance of a motif at this size.
    pub max_distance: f64,
}

/// Rescales a batch to the data's resolution: at 60 s or finer the
/// configured size and distance hold; coarser, the batch covers the same
/// time, `b = round(size·60/res)`, and the distance shrinks with it,
/// `max_distance = int(round(b / int(round(size / max_distance))))` (Python
/// rounding, half to even). `None` when that gives no point or a zero
/// divisor (the reference would fail on them).
pub fn batch_plan(batch: &MotifBatch, resolution: i64) -> Option<BatchPlan> {
    if resolution <= 60 {
        return (batch.size > 0).then_some(BatchPlan {
            size: batch.size,
            max_distance: batch.max_distance,
        });
    }
    let size = (batch.size as f64 * 60.0 / resolution as f64).round_ties_even();
    let factor = (batch.size as f64 / batch.max_distance).round_ties_even();
    if !(size >= 1.0 && factor.is_finite() && factor != 0.0) {
        return None;
    }
    Some(BatchPlan {
        size: size as usize,
        max_distance: (size / factor).round_ties_even(),
    })
}

/// The query's padded value range: `pad = (max − min)/100 · pct`; the
/// lower end is lowered by `pad` only if it stays above 0 (a positive
/// series is not padded into negatives); when the range is a single value
/// both ends move by `pct` % of themselves.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PaddedRange {
    /// The query's smallest value.
    pub min: f64,
    /// The query's largest value.
    pub max: f64,
    /// `(max − min)/100 · pct`: how close a window's extremes must come to the query's.
    pub pad: f64,
    /// Lower end of the padded range.
    pub low: f64,
    /// Upper end of the padded range.
    pub high: f64,
}

impl PaddedRange {
    /// The padded range of a query spanning `min`..`max`, padded by `padding_percent` %.
    pub fn new(min: f64, max: f64, padding_percent: f64) -> PaddedRange {
        let pad = (max - min) / 100.0 * padding_percent;
        let mut low = if min > 0.0 && min - pad > 0.0 {
            min - pad
        } else {
            min
        };
        let mut high = max + pad;
        if low == high {
            low -= low / 100.0 * padding_percent;
            high += high / 100.0 * padding_percent;
        }
        PaddedRange {
            min,
            max,
            pad,
            low,
            high,
        }
    }

    /// `all_in_range`: a window with extremes `(lo, hi)` lies inside the
    /// padded range and reaches within `pad` of both of the query's
    /// extremes.
    pub fn all_in_range(&self, lo: f64, hi: f64) -> bool {
        lo >= self.low && hi <= self.high && hi >= self.max - self.pad && lo <= self.min + self.pad
    }
}

/// numpy's `trapezoid(y, dx=1)`: `Σ (y_i + y_{i+1})/2`.
pub fn trapezoid(y: &[f64]) -> f64 {
    y.windows(2).map(|w| (w[0] + w[1]) / 2.0).sum()
}

/// How a profile is searched for one batch size.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SearchPath {
    /// Fewer than three aligned windows (or top_matches out of bounds):
    /// the full sliding distance profile, every window a candidate.
    Sliding,
    /// mass2_batch: the `k` best aligned windows.
    Blocks {
        /// How many aligned windows are kept.
        k: usize,
    },
}

/// Chooses the search for a profile of `n` points and a batch of `b`, with
/// the reference's guards. `None`: not searched.
///
/// * `floor(n/b) < 3` windows → sliding, unless mass3 would refuse: with
///   `pieces = n − b` (raised to `b + 2` when below `b`), skip when
///   `n <= pieces` or `n − int(b/10) < b`;
/// * else `k = top_matches`, or when `n/b <= top_matches`:
///   `k = round(n/b) − 2` (2 → 1, below 1 → 1); a `k` not below the number
///   of windows is out of numpy's bounds and falls back to sliding.
pub fn search_path(n: usize, b: usize, top_matches: usize) -> Option<SearchPath> {
    if b == 0 || n < b {
        return None;
    }
    let windows = n / b;
    let sliding = || {
        let (n, b) = (n as i64, b as i64);
        let pieces = if n - b < b { b + 2 } else { n - b };
        (n > pieces && n - b / 10 >= b).then_some(SearchPath::Sliding)
    };
    if windows < 3 {
        return sliding();
    }
    if top_matches < 1 {
        return None;
    }
    let ratio = n as f64 / b as f64;
    let mut k = top_matches as i64;
    if ratio <= top_matches as f64 {
        k = ratio.round_ties_even() as i64 - 2;
        if k == 2 {
            k = 1;
        }
        k = k.max(1);
    }
    if k as usize >= windows {
        return sliding();
    }
    Some(SearchPath::Blocks { k: k as usize })
}

/// A profile's motif-search data, derived from its series once.
#[derive(Debug, Default)]
pub struct MotifData {
    /// `determine_data_frequency` of the profile's (finite) series.
    pub resolution: Option<i64>,
    /// The finite values, oldest first.
    pub values: Vec<f64>,
    /// Their mean (the FFT's shift, see [`FftPair::series_spectrum`]).
    shift: f64,
    /// FFT of `values − shift` at [`FftPair::size_for`]`(n)`.
    spectrum: OnceLock<Vec<Complex<f64>>>,
    /// Window statistics per batch size.
    batches: Mutex<Vec<(usize, Arc<BatchData>)>>,
}

/// A profile's window statistics for one batch size.
#[derive(Debug, Default)]
struct BatchData {
    /// Every window (the sliding path).
    sliding: OnceLock<WindowStats>,
    /// The aligned non-overlapping windows (the blocks path).
    blocks: OnceLock<WindowStats>,
}

impl MotifData {
    fn new(series: &[(i64, f64)]) -> MotifData {
        let finite: Vec<(i64, f64)> = series.iter().copied().filter(|p| p.1.is_finite()).collect();
        let ts: Vec<i64> = finite.iter().map(|p| p.0).collect();
        let values: Vec<f64> = finite.iter().map(|p| p.1).collect();
        let shift = if values.is_empty() {
            0.0
        } else {
            values.iter().sum::<f64>() / values.len() as f64
        };
        MotifData {
            resolution: data_frequency(&ts),
            values,
            shift,
            ..MotifData::default()
        }
    }

    fn batch(&self, b: usize) -> Arc<BatchData> {
        let mut list = self.batches.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((_, d)) = list.iter().find(|(size, _)| *size == b) {
            return Arc::clone(d);
        }
        let d = Arc::new(BatchData::default());
        list.push((b, Arc::clone(&d)));
        d
    }

    fn sliding<'b>(&self, batch: &'b BatchData, b: usize) -> &'b WindowStats {
        batch
            .sliding
            .get_or_init(|| mass::window_stats(&self.values, b, 1))
    }

    fn spectrum(&self, fft: &mut FftPair) -> &[Complex<f64>] {
        self.spectrum
            .get_or_init(|| fft.series_spectrum(&self.values, self.shift))
    }
}

/// The profile's motif data (computed on first use).
pub fn motif_data(profile: &Profile) -> &MotifData {
    profile
        .cache
        .motif
        .get_or_init(|| MotifData::new(&profile.series))
}

/// Computes ahead what searching `profile` with `batches` needs (window
/// statistics, the series' FFT), so a first check does not pay for it.
pub fn prepare(profile: &Profile, batches: &[MotifBatch]) {
    let data = motif_data(profile);
    let Some(res) = data.resolution else {
        return;
    };
    let n = data.values.len();
    for cfg in batches {
        let Some(plan) = batch_plan(cfg, res) else {
            continue;
        };
        let b = plan.size;
        match search_path(n, b, cfg.top_matches) {
            Some(SearchPath::Sliding) => {
                let bd = data.batch(b);
                data.sliding(&bd, b);
                let mut fft = FftPair::new(FftPair::size_for(n));
                data.spectrum(&mut fft);
            }
            Some(SearchPath::Blocks { .. }) => {
                let bd = data.batch(b);
                bd.blocks
                    .get_or_init(|| mass::window_stats(&data.values, b, b));
            }
            None => {}
        }
    }
}

/// One batch size as the check searches with it.
struct BatchQuery<'c> {
    cfg: &'c MotifBatch,
    plan: BatchPlan,
    query: Query,
    range: PaddedRange,
    area: f64,
    /// The reversed query's spectrum per FFT size.
    spectra: Vec<(usize, Vec<Complex<f64>>)>,
}

/// A window within `max_distance` and in range (or an exact copy).
#[derive(Debug, Clone, Copy)]
struct Candidate {
    profile: usize,
    batch: usize,
    start: usize,
    distance: f64,
    exact: bool,
}

/// Searches `profiles` (those at the check's full duration, in order) for
/// the best motif match with the end of `check_series`. Returns the index
/// (into `profiles`) of the matched profile and the match.
pub fn find_motif(
    check_series: &[(i64, f64)],
    profiles: &[&Profile],
    batches: &[MotifBatch],
) -> Option<(usize, MotifMatch)> {
    let finite: Vec<(i64, f64)> = check_series
        .iter()
        .copied()
        .filter(|p| p.1.is_finite())
        .collect();
    let ts: Vec<i64> = finite.iter().map(|p| p.0).collect();
    let values: Vec<f64> = finite.iter().map(|p| p.1).collect();
    let resolution = data_frequency(&ts)?;

    let mut queries: Vec<BatchQuery> = batches
        .iter()
        .filter_map(|cfg| {
            let plan = batch_plan(cfg, resolution)?;
            // A check shorter than the batch has no query of that size (the
            // reference would search with a shorter query against windows
            // of the batch size; there is no such window to compare).
            let start = values.len().checked_sub(plan.size)?;
            let q = &values[start..];
            let query = Query::new(q)?;
            let range = PaddedRange::new(query.min, query.max, cfg.range_padding_percent);
            Some(BatchQuery {
                cfg,
                plan,
                area: trapezoid(q),
                query,
                range,
                spectra: Vec::new(),
            })
        })
        .collect();
    if queries.is_empty() {
        return None;
    }

    let mut ffts: Vec<FftPair> = Vec::new();
    let mut buf: Vec<Complex<f64>> = Vec::new();
    let mut dots: Vec<f64> = Vec::new();
    let mut blocks: Vec<(usize, f64)> = Vec::new();
    let mut candidates: Vec<Candidate> = Vec::new();

    for (pi, profile) in profiles.iter().enumerate() {
        let data = motif_data(profile);
        if data.resolution != Some(resolution) {
            continue;
        }
        let x = &data.values;
        let n = x.len();
        for (bi, bq) in queries.iter_mut().enumerate() {
            let b = bq.plan.size;
            let max_distance = bq.plan.max_distance;
            let Some(path) = search_path(n, b, bq.cfg.top_matches) else {
                continue;
            };
            let bd = data.batch(b);
            match path {
                SearchPath::Sliding => {
                    let stats = data.sliding(&bd, b);
                    let len = FftPair::size_for(n);
                    let fi = match ffts.iter().position(|f| f.len == len) {
                        Some(i) => i,
                        None => {
                            ffts.push(FftPair::new(len));
                            ffts.len() - 1
                        }
                    };
                    let fft = &mut ffts[fi];
                    let qi = match bq.spectra.iter().position(|s| s.0 == len) {
                        Some(i) => i,
                        None => {
                            bq.spectra.push((len, fft.query_spectrum(&bq.query)));
                            bq.spectra.len() - 1
                        }
                    };
                    let xs = data.spectrum(fft);
                    fft.sliding_dots(xs, &bq.spectra[qi].1, n, b, &mut buf, &mut dots);
                    let q_const = bq.query.is_constant();
                    for (j, &num) in dots.iter().enumerate() {
                        let (lo, hi) = (stats.min[j], stats.max[j]);
                        let d = mass::z_distance(
                            num,
                            b,
                            bq.query.std,
                            stats.std[j],
                            q_const || lo == hi,
                        );
                        // NaN fails the comparison: dropped like the reference's isnan filter
                        if d <= max_distance && bq.range.all_in_range(lo, hi) {
                            candidates.push(Candidate {
                                profile: pi,
                                batch: bi,
                                start: j,
                                distance: d,
                                exact: false,
                            });
                        }
                    }
                }
                SearchPath::Blocks { k } => {
                    let stats = bd.blocks.get_or_init(|| mass::window_stats(x, b, b));
                    blocks.clear();
                    for j in 0..stats.len() {
                        let w = &x[j * b..(j + 1) * b];
                        let constant = stats.min[j] == stats.max[j];
                        let d = mass::window_distance(
                            &bq.query,
                            w,
                            stats.mean[j],
                            stats.std[j],
                            constant,
                        );
                        blocks.push((j, d));
                    }
                    blocks.sort_by(|a, b| mass::nan_last(a.1, b.1).then(a.0.cmp(&b.0)));
                    for &(j, d) in blocks.iter().take(k) {
                        if d <= max_distance && bq.range.all_in_range(stats.min[j], stats.max[j]) {
                            candidates.push(Candidate {
                                profile: pi,
                                batch: bi,
                                start: j * b,
                                distance: d,
                                exact: false,
                            });
                        }
                    }
                    if bq.cfg.find_exact_matches {
                        // every offset holding an exact copy of the query
                        // (mass2_batch's aligned windows would miss them)
                        let q = &bq.query.values;
                        for s in 0..=n - b {
                            if x[s..s + b] == q[..] {
                                candidates.push(Candidate {
                                    profile: pi,
                                    batch: bi,
                                    start: s,
                                    distance: 0.0,
                                    exact: true,
                                });
                            }
                        }
                    }
                }
            }
        }
    }

    // Smallest distance first; the first candidate whose area passes wins,
    // and among candidates at that same distance the smallest area
    // difference.
    candidates.sort_by(|a, b| a.distance.total_cmp(&b.distance));
    let mut best: Option<(usize, MotifMatch)> = None;
    for c in &candidates {
        if let Some((_, m)) = &best {
            if c.distance > m.distance {
                break;
            }
        }
        let bq = &queries[c.batch];
        let b = bq.plan.size;
        let data = motif_data(profiles[c.profile]);
        let Some(w) = data.values.get(c.start..c.start + b) else {
            continue;
        };
        let profile_area = trapezoid(w);
        // base = the profile's area; None (zero or non-finite area) → 100
        let apd = percent_different(profile_area, bq.area).unwrap_or(100.0);
        if apd > bq.cfg.max_area_percent_diff {
            continue;
        }
        let kind = if c.exact || (apd == 0.0 && c.distance == 0.0) {
            MotifKind::Exact
        } else {
            MotifKind::AllInRange
        };
        let m = MotifMatch {
            index: c.start,
            size: b,
            distance: c.distance,
            kind,
            area: bq.area,
            profile_area,
            area_percent_diff: apd,
        };
        if best
            .as_ref()
            .is_none_or(|(_, cur)| apd < cur.area_percent_diff)
        {
            best = Some((c.profile, m));
        }
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frequency() {
        let ts: Vec<i64> = (0..200).map(|i| i * 60).collect();
        assert_eq!(data_frequency(&ts), Some(60));
        let ts: Vec<i64> = (0..200).map(|i| i * 300).collect();
        assert_eq!(data_frequency(&ts), Some(300));
        // 61 s → 60; 10 s kept
        assert_eq!(data_frequency(&[0, 61, 122]), Some(60));
        assert_eq!(data_frequency(&[0, 10, 20]), Some(10));
        // ties: the smallest gap
        assert_eq!(data_frequency(&[0, 300, 900, 1200, 1800]), Some(300));
        assert_eq!(data_frequency(&[0, 600, 900]), Some(300));
        assert_eq!(data_frequency(&[5]), None);
        // only the last 101 count
        let mut ts: Vec<i64> = (0..300).map(|i| i * 600).collect();
        let last = *ts.last().unwrap();
        ts.extend((1..=101).map(|i| last + i * 120));
        assert_eq!(data_frequency(&ts), Some(120));
    }

    #[test]
    fn rescaled_batches_as_the_spec_example() {
        let d = crate::matching::MatchSettings::default();
        let plans: Vec<(usize, f64)> = d
            .motif_batches
            .iter()
            .map(|b| {
                batch_plan(b, 600)
                    .map(|p| (p.size, p.max_distance))
                    .unwrap()
            })
            .collect();
        assert_eq!(plans, vec![(144, 3.0), (72, 2.0), (36, 2.0), (18, 2.0)]);
        let p = batch_plan(&d.motif_batches[1], 60).unwrap();
        assert_eq!((p.size, p.max_distance), (720, 25.0));
    }

    #[test]
    fn search_paths_for_a_day_at_one_minute() {
        assert_eq!(search_path(1440, 1440, 50), None);
        assert_eq!(search_path(1450, 1440, 50), None);
        assert_eq!(search_path(1440, 720, 50), Some(SearchPath::Sliding));
        // 4 windows: k = round(4) − 2 = 2 → 1
        assert_eq!(
            search_path(1440, 360, 50),
            Some(SearchPath::Blocks { k: 1 })
        );
        assert_eq!(
            search_path(1440, 180, 50),
            Some(SearchPath::Blocks { k: 6 })
        );
        assert_eq!(
            search_path(10080, 180, 50),
            Some(SearchPath::Blocks { k: 50 })
        );
        // k out of bounds → sliding
        assert_eq!(search_path(550, 100, 5), Some(SearchPath::Sliding));
    }

    #[test]
    fn padding() {
        let r = PaddedRange::new(10.0, 20.0, 10.0);
        assert_eq!((r.pad, r.low, r.high), (1.0, 9.0, 21.0));
        let r = PaddedRange::new(0.5, 20.0, 10.0);
        assert_eq!(r.low, 0.5);
        let r = PaddedRange::new(5.0, 5.0, 10.0);
        assert_eq!((r.low, r.high), (4.5, 5.5));
        assert!(PaddedRange::new(10.0, 20.0, 10.0).all_in_range(9.5, 19.5));
        assert!(!PaddedRange::new(10.0, 20.0, 10.0).all_in_range(12.0, 19.5));
        assert_eq!(trapezoid(&[1.0, 2.0, 3.0]), 4.0);
        assert_eq!(trapezoid(&[1.0]), 0.0);
    }
}
