//! CONSENSUS: running the configured algorithms and deciding by vote.

use crate::algorithms::{Algorithm, Variant, Vote};
use crate::series::Series;

/// The votes of one analysis, indexed by [`Algorithm`] (algorithms not
/// configured read [`Vote::Skipped`]), and the verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ensemble {
    /// Each algorithm's vote, at index `Algorithm as usize`.
    pub votes: [Vote; 9],
    /// The CONSENSUS verdict.
    pub anomalous: bool,
}

impl Ensemble {
    /// `algorithm`'s vote.
    pub fn vote(&self, algorithm: Algorithm) -> Vote {
        self.votes[algorithm as usize]
    }

    /// The algorithms that voted anomalous (`triggered_algorithms`).
    pub fn triggered(&self) -> impl Iterator<Item = Algorithm> + '_ {
        Algorithm::ALL
            .into_iter()
            .filter(|a| self.votes[*a as usize] == Vote::Anomalous)
    }
}

/// Runs `algorithms` in order and applies CONSENSUS, as the reference's
/// `run_selected_algorithm`:
///
/// * with `early_exit`, once `max_false = N - consensus + 1` algorithms have
///   voted False the rest are not run ([`Vote::Skipped`]) — the verdict can
///   no longer be anomalous, so this only saves time;
/// * if no algorithm cast a vote the series is not anomalous;
/// * otherwise anomalous iff `#False <= N - consensus`. Errored and skipped
///   algorithms are *not* False, so an algorithm that errors helps reach
///   consensus (3 True + 3 Error + 3 False is anomalous) — the reference
///   behaves so and we keep it so that verdicts match.
pub fn run_ensemble(
    series: &Series,
    algorithms: &[Algorithm],
    consensus: usize,
    early_exit: bool,
    now: i64,
    full_duration: i64,
) -> Ensemble {
    let (votes, falses, cast) = run_votes(
        Variant::Analyzer,
        series,
        algorithms,
        early_exit.then(|| algorithms.len() as i64 - consensus as i64 + 1),
        now,
        full_duration,
    );
    let anomalous = cast > 0 && falses <= algorithms.len() as i64 - consensus as i64;
    Ensemble { votes, anomalous }
}

/// Runs `algorithms` in Mirage's versions ([`Variant::Mirage`]) and applies
/// Mirage's CONSENSUS (`mirage_algorithms.run_selected_algorithm`): every
/// algorithm runs (no early exit), and the series is anomalous iff
/// `#False <= N - consensus`. Errors (`None`) count as not False and there is
/// no "no vote cast" guard: nine errors are anomalous.
pub fn run_mirage_ensemble(
    series: &Series,
    algorithms: &[Algorithm],
    consensus: usize,
    now: i64,
) -> Ensemble {
    // full_duration is unused by Mirage's versions.
    let (votes, falses, _) = run_votes(Variant::Mirage, series, algorithms, None, now, 0);
    let anomalous = falses <= algorithms.len() as i64 - consensus as i64;
    Ensemble { votes, anomalous }
}

/// Mirage's verdict from a list of votes: `#False <= len - consensus`, with
/// no guard for "no vote cast".
pub fn mirage_consensus_verdict(votes: &[Vote], consensus: usize) -> bool {
    let falses = votes.iter().filter(|v| **v == Vote::NotAnomalous).count() as i64;
    falses <= votes.len() as i64 - consensus as i64
}

/// The shared loop: each algorithm's vote (Skipped when not run), how many
/// voted False and how many cast a vote. With `max_false`, stops once that
/// many voted False.
fn run_votes(
    variant: Variant,
    series: &Series,
    algorithms: &[Algorithm],
    max_false: Option<i64>,
    now: i64,
    full_duration: i64,
) -> ([Vote; 9], i64, usize) {
    let mut votes = [Vote::Skipped; 9];
    let mut falses = 0i64;
    let mut cast = 0usize;
    for &alg in algorithms {
        if max_false.is_some_and(|m| falses >= m) {
            break;
        }
        let vote = alg.run_as(variant, series, now, full_duration);
        votes[alg as usize] = vote;
        match vote {
            Vote::NotAnomalous => falses += 1,
            Vote::Anomalous => {}
            Vote::Error | Vote::Skipped => continue,
        }
        cast += 1;
    }
    (votes, falses, cast)
}

/// The verdict from a list of votes (for tests and re-judging stored votes).
pub fn consensus_verdict(votes: &[Vote], consensus: usize) -> bool {
    let falses = votes.iter().filter(|v| **v == Vote::NotAnomalous).count() as i64;
    let cast = votes.iter().any(|v| v.as_bool().is_some());
    cast && falses <= votes.len() as i64 - consensus as i64
}

#[cfg(test)]
mod tests {
    use super::*;
    use Vote::*;

    #[test]
    fn errors_count_as_not_false() {
        let v = [
            Anomalous,
            Anomalous,
            Anomalous,
            Error,
            Error,
            Error,
            NotAnomalous,
            NotAnomalous,
            NotAnomalous,
        ];
        assert!(consensus_verdict(&v, 6));
        let v = [
            Anomalous,
            Anomalous,
            Error,
            Error,
            Error,
            NotAnomalous,
            NotAnomalous,
            NotAnomalous,
            NotAnomalous,
        ];
        assert!(!consensus_verdict(&v, 6));
        assert!(
            !consensus_verdict(&[Error; 9], 6),
            "no vote cast: not anomalous"
        );
        assert!(consensus_verdict(&[Anomalous, Error, Error], 3));
    }

    /// A day of minutely points, flat with gentle noise: the first four
    /// algorithms vote False on it.
    fn flat_noisy_day() -> Series {
        Series {
            timestamps: (0..1440).map(|i| 1_400_000_000 + i * 60).collect(),
            values: (0..1440)
                .map(|i| 10.0 + ((i * 7919) % 13) as f64 / 13.0)
                .collect(),
        }
    }

    /// Early exit must stop after exactly four False votes.
    #[test]
    fn early_exit_after_max_false() {
        let s = flat_noisy_day();
        let now = *s.timestamps.last().unwrap();
        let fast = run_ensemble(&s, &Algorithm::ALL, 6, true, now, 86_400);
        let full = run_ensemble(&s, &Algorithm::ALL, 6, false, now, 86_400);
        assert!(!fast.anomalous && !full.anomalous);
        let run = fast.votes.iter().filter(|v| **v != Skipped).count();
        let falses = fast.votes.iter().filter(|v| **v == NotAnomalous).count();
        assert_eq!(falses, 4);
        assert!(run < 9, "early exit skipped nothing: {:?}", fast.votes);
        assert!(full.votes.iter().all(|v| *v != Skipped));
        // where both ran, they agree
        for (a, b) in fast.votes.iter().zip(full.votes.iter()) {
            if *a != Skipped {
                assert_eq!(a, b);
            }
        }
    }

    #[test]
    fn mirage_runs_all_and_has_no_all_none_guard() {
        // The same day: Mirage never skips.
        let s = flat_noisy_day();
        let now = *s.timestamps.last().unwrap();
        let m = run_mirage_ensemble(&s, &Algorithm::ALL, 6, now);
        assert!(m.votes.iter().all(|v| *v != Skipped), "{:?}", m.votes);
        assert!(!m.anomalous);
        // No "no vote cast" guard: nine errors are anomalous for Mirage.
        assert!(mirage_consensus_verdict(&[Error; 9], 6));
        assert!(!consensus_verdict(&[Error; 9], 6));
        let mut v = [Error; 9];
        v[..3].fill(NotAnomalous);
        assert!(mirage_consensus_verdict(&v, 6));
        v[3] = NotAnomalous;
        assert!(!mirage_consensus_verdict(&v, 6));
    }
}
