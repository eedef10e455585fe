//! `numeric::ks::ks_2samp` against scipy 1.14.1 `ks_2samp` on sample
//! pairs cut from real NAB series: equal and unequal sizes from 1 to 600,
//! heavy ties, different regimes (p down to underflow), shifted overlapping
//! windows (p near 1), Analyzer-shaped windows, and pairs built so that
//! scipy's exact computation falls back to the `kstwo` distribution.

use numeric::reference as support;

use numeric::ks::ks_2samp;
use serde_json::json;

/// Relative tolerance on the statistic and the p-value.
const TOL: f64 = 1e-12;

struct Pair {
    label: String,
    a: Vec<f64>,
    b: Vec<f64>,
}

/// Small deterministic generator (SplitMix64) for offsets and sizes.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// Uniform in `lo..=hi`.
    fn range(&mut self, lo: usize, hi: usize) -> usize {
        lo + (self.next() % (hi - lo + 1) as u64) as usize
    }
}

fn series(rel: &str) -> Vec<f64> {
    support::read_nab(rel).into_iter().map(|(_, v)| v).collect()
}

/// `n` equal-size sorted distinct values split so that `D = h/n` exactly:
/// the `h` smallest go to `a`, then the two samples alternate (b, a, …) and
/// `b` takes the last `h`. Used for the (n, h) where scipy's equal-size
/// series rounds above 1 and it falls back to `kstwo.sf`.
fn staircase(distinct: &[f64], n: usize, h: usize) -> (Vec<f64>, Vec<f64>) {
    let step = distinct.len() / (2 * n);
    let vals: Vec<f64> = (0..2 * n).map(|i| distinct[i * step]).collect();
    let mut a = vals[..h].to_vec();
    let mut b = Vec::new();
    for (k, &v) in vals[h..2 * n - h].iter().enumerate() {
        if k % 2 == 0 {
            b.push(v);
        } else {
            a.push(v);
        }
    }
    b.extend_from_slice(&vals[2 * n - h..]);
    // Unsorted input on purpose: the implementation sorts.
    a.reverse();
    (a, b)
}

fn build_pairs() -> Vec<Pair> {
    let names = [
        "realAWSCloudwatch/ec2_cpu_utilization_825cc2.csv",
        "artificialWithAnomaly/art_daily_jumpsup.csv",
        "realAWSCloudwatch/grok_asg_anomaly.csv",
        "realAWSCloudwatch/ec2_network_in_257a54.csv",
        "artificialWithAnomaly/art_increase_spike_density.csv", // 2 distinct values
        "realAWSCloudwatch/ec2_cpu_utilization_24ae8d.csv",     // 29 distinct values
    ];
    let all: Vec<Vec<f64>> = names.iter().map(|n| series(n)).collect();
    let short = |i: usize| names[i].rsplit('/').next().unwrap_or(names[i]);
    let mut rng = Rng(0x5EED_0FC0_FFEE);
    let mut pairs = Vec::new();
    let mut push = |label: String, a: &[f64], b: &[f64]| {
        pairs.push(Pair {
            label,
            a: a.to_vec(),
            b: b.to_vec(),
        })
    };

    // Adjacent windows of equal size.
    for (si, s) in all.iter().enumerate() {
        for n in [1, 2, 3, 5, 8, 13, 20, 31, 50, 77, 120, 200, 333, 600] {
            let o = rng.range(0, s.len() - 2 * n);
            push(
                format!("{} adjacent {n}/{n} @{o}", short(si)),
                &s[o..o + n],
                &s[o + n..o + 2 * n],
            );
        }
    }
    // Adjacent windows of unequal size.
    let sizes = [
        (1, 2),
        (2, 1),
        (3, 7),
        (10, 4),
        (25, 60),
        (61, 300),
        (300, 61),
        (97, 103),
        (150, 450),
        (599, 600),
        (600, 257),
        (13, 600),
    ];
    for (si, s) in all.iter().enumerate() {
        for (n1, n2) in sizes {
            let o = rng.range(0, s.len() - n1 - n2);
            push(
                format!("{} adjacent {n1}/{n2} @{o}", short(si)),
                &s[o..o + n1],
                &s[o + n1..o + n1 + n2],
            );
        }
    }
    // Random sizes and offsets within one series.
    for _ in 0..120 {
        let si = rng.range(0, all.len() - 1);
        let s = &all[si];
        let (n1, n2) = (rng.range(1, 600), rng.range(1, 600));
        let (oa, ob) = (rng.range(0, s.len() - n1), rng.range(0, s.len() - n2));
        push(
            format!("{}[{oa}..+{n1}] vs [{ob}..+{n2}]", short(si)),
            &s[oa..oa + n1],
            &s[ob..ob + n2],
        );
    }
    // Different series, random sizes: mostly fully separated samples.
    for _ in 0..30 {
        let (i, j) = (rng.range(0, all.len() - 1), rng.range(0, all.len() - 1));
        let (n1, n2) = (rng.range(1, 600), rng.range(1, 600));
        let (oa, ob) = (
            rng.range(0, all[i].len() - n1),
            rng.range(0, all[j].len() - n2),
        );
        push(
            format!("{}[{oa}..+{n1}] vs {}[{ob}..+{n2}]", short(i), short(j)),
            &all[i][oa..oa + n1],
            &all[j][ob..ob + n2],
        );
    }
    // Overlapping windows shifted by a few points: small D, p near 1.
    for (si, s) in all.iter().enumerate() {
        for (n, shift) in [(40, 1), (200, 3), (555, 20)] {
            let o = rng.range(0, s.len() - n - shift);
            push(
                format!("{} shifted {n} by {shift} @{o}", short(si)),
                &s[o..o + n],
                &s[o + shift..o + shift + n],
            );
        }
        // The same window twice: D = 0.
        let o = rng.range(0, s.len() - 100);
        push(
            format!("{} identical 100 @{o}", short(si)),
            &s[o..o + 100],
            &s[o..o + 100],
        );
    }
    // Early versus late stretches (regime changes, e.g. the jump).
    for (si, s) in all.iter().enumerate() {
        for (n1, n2) in [(500, 300), (250, 250)] {
            push(
                format!("{} head {n1} vs tail {n2}", short(si)),
                &s[..n1],
                &s[s.len() - n2..],
            );
        }
    }
    // Analyzer-shaped: 50 min of 10 s reference vs a 10 min probe, with
    // and without a level shift of the probe.
    for (si, s) in all.iter().enumerate() {
        let o = rng.range(0, s.len() - 361);
        let (reference, probe) = (&s[o..o + 300], &s[o + 300..o + 361]);
        push(
            format!("{} analyzer 300/61 @{o}", short(si)),
            reference,
            probe,
        );
        let spread = reference.iter().fold(0.0f64, |m, v| m.max(v.abs())) + 1.0;
        let shifted: Vec<f64> = probe.iter().map(|v| v + 0.1 * spread).collect();
        push(
            format!("{} analyzer 300/61 shifted @{o}", short(si)),
            reference,
            &shifted,
        );
    }
    // Equal sizes with D = h/n where scipy's exact series exceeds 1 and it
    // falls back to kstwo.sf (Ruben–Gambino and Durbin branches), plus
    // neighbours that stay exact.
    let mut distinct = all[3].clone();
    distinct.sort_by(f64::total_cmp);
    distinct.dedup();
    for (n, h) in [
        (5, 1),
        (7, 1),
        (15, 1),
        (30, 1),
        (60, 2),
        (74, 2),
        (135, 3),
        (157, 3),
        (264, 4),
        (282, 4),
        (399, 5),
        (445, 5),
        (579, 6),
        (588, 6),
        (8, 1),
        (100, 2),
        (300, 7),
        (600, 30),
    ] {
        let (a, b) = staircase(&distinct, n, h);
        push(format!("staircase n={n} h={h}"), &a, &b);
    }
    pairs
}

/// A float sent as its IEEE-754 bits (serde_json's default float parsing
/// may be an ulp off, and the comparison here is meant to be bit-level).
fn exact(v: &serde_json::Value) -> f64 {
    f64::from_bits(v.as_u64().expect("float bits as u64"))
}

#[test]
fn ks_2samp_matches_scipy_on_real_series() {
    let pairs = build_pairs();
    assert!(pairs.len() >= 200, "only {} pairs", pairs.len());
    let input = json!({
        "pairs": pairs.iter().map(|p| json!({"a": p.a, "b": p.b})).collect::<Vec<_>>()
    });
    let out = support::run_reference("ks_reference.py", &input);
    let results = out["results"].as_array().expect("results array");
    assert_eq!(results.len(), pairs.len());

    // (relative difference, label, ours, scipy)
    let mut rows = Vec::new();
    let (mut worst_d, mut worst_p) = (0.0f64, 0.0f64);
    let (mut significant, mut near_one, mut fallbacks) = (0, 0, 0);
    let mut min_positive_p = 1.0f64;
    for (pair, r) in pairs.iter().zip(results) {
        let (d_ref, p_ref) = (exact(&r["statistic_bits"]), exact(&r["pvalue_bits"]));
        let ours = ks_2samp(&pair.a, &pair.b)
            .unwrap_or_else(|e| panic!("{}: ks_2samp failed: {e}", pair.label));
        let dd = support::rel_diff(ours.statistic, d_ref);
        let dp = support::rel_diff(ours.p_value, p_ref);
        worst_d = worst_d.max(dd);
        worst_p = worst_p.max(dp);
        rows.push((
            dd.max(dp),
            format!("{} ({}/{})", pair.label, pair.a.len(), pair.b.len()),
            (ours.statistic, ours.p_value),
            (d_ref, p_ref),
        ));
        if p_ref < 0.05 && d_ref > 0.5 {
            significant += 1;
        }
        if p_ref > 0.5 {
            near_one += 1;
        }
        if r["fallback"].as_bool() == Some(true) {
            fallbacks += 1;
        }
        if p_ref > 0.0 {
            min_positive_p = min_positive_p.min(p_ref);
        }
    }
    println!(
        "{} pairs: worst relative difference D {worst_d:e}, p {worst_p:e}; \
         {significant} with p<0.05 & D>0.5, {near_one} with p>0.5, \
         {fallbacks} kstwo fallbacks, smallest non-zero p {min_positive_p:e}",
        pairs.len()
    );
    rows.sort_by(|x, y| y.0.total_cmp(&x.0));
    let bad: Vec<_> = rows.iter().filter(|r| r.0.is_nan() || r.0 > TOL).collect();
    if !bad.is_empty() {
        for (diff, label, ours, scipy) in rows.iter().take(15) {
            eprintln!(
                "rel {diff:.3e}  {label}: ours D={:e} p={:e}, scipy D={:e} p={:e}",
                ours.0, ours.1, scipy.0, scipy.1
            );
        }
        panic!(
            "{} of {} pairs differ from scipy by more than {TOL:e}",
            bad.len(),
            pairs.len()
        );
    }
    assert!(
        significant >= 20,
        "only {significant} pairs with p<0.05 & D>0.5"
    );
    assert!(near_one >= 20, "only {near_one} pairs with p>0.5");
    assert!(
        fallbacks >= 10,
        "only {fallbacks} pairs took scipy's kstwo fallback"
    );
    assert!(
        min_positive_p < 1e-100,
        "smallest non-zero p {min_positive_p:e}: tiny p-values not covered"
    );
}
