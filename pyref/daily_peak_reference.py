"""Reference for the anomalous daily peak override (seasonal.md §8.2), with
scipy.signal.find_peaks(distance=...) doing the peak finding.

Written from the spec's summary and the facts of the reference algorithm
(custom_algorithms/anomalous_daily_peak.py):
* res = most common step (np.unique counts, argmax); anomalous when
  res > 900 or the series spans < 446400 s;
* the anomaly A is the last point; points before A other than
  A - d*86400 - k*res (d in 0..6, k in 0..3) take np.mean of all values;
  7 means are appended; peaks = find_peaks(y, distance=int(3600/res*23));
* the anomaly (index a) must be a peak or a - p in [-w, -2] or [1, w-1]
  for a peak p (w = 6, or 4 when res > 600), the last such p being its peak;
* peak periods p-3..p+3 (p-3..p for the last peak) in the series, newest
  first, original values; daily peaks: peak times newest first, T[i] with
  T[i] - T[i+1] in [83000, 89000) or T[i] == A;
* < n daily peaks -> anomalous; target = sum of the oldest daily peak's
  period; per daily peak (oldest first) the 4-value window of its period
  (sliding running sum) first closest to target, summed; zero sums dropped;
* < n left, or < n besides the anomaly's peak, or its sum 0 -> anomalous;
  normal when |S_a - mean| <= 3 std (np.std), or, with a non-zero
  within_percent, when |(3std - |d|) / |d| * 100| <= within_percent.

Input:  {"cases": [{"series": [[t, v], ...], "number_of_daily_peaks": n,
                    "within_percent_of_normal_peaks": p}, ...],
         "find_peaks": [{"x": [...], "distance": d}, ...]}
Output: {"cases": [{"anomalous": bool, "reason": str, "peaks": [...],
                    "daily_peaks": k | null, "scipy_reason": str}, ...],
         "find_peaks": [{"scipy": [i, ...], "stable": [i, ...]}, ...]}

The cases are judged with find_peaks_stable (scipy's steps, ties to the
later peak); "scipy_reason" is the reason with scipy.signal.find_peaks
itself, which differs only where equal heights compete.
"""
import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np  # noqa: E402
from scipy.signal import find_peaks  # noqa: E402
from scipy.signal._peak_finding_utils import (  # noqa: E402
    _local_maxima_1d,
    _select_by_peak_distance,
)

from common import read_input, write_output  # noqa: E402


def find_peaks_stable(x, distance):
    """find_peaks(x, distance) by scipy's own two steps, with the heights
    replaced by their stable ranks: scipy visits the peaks in np.argsort
    order, an unstable sort (x86-simd-sort on AVX-512), so which of two
    equal heights wins depends on numpy; with distinct ranks it is the
    later one, as a stable sort gives."""
    x = np.asarray(x, dtype=float)
    peaks, _, _ = _local_maxima_1d(x)
    rank = np.empty(len(peaks), dtype=float)
    rank[np.argsort(x[peaks], kind="stable")] = np.arange(len(peaks))
    keep = _select_by_peak_distance(peaks, rank, np.float64(distance))
    return peaks[keep]


def verdict(anomalous, reason, peaks=None, daily=None):
    return {
        "anomalous": anomalous,
        "reason": reason,
        "peaks": [] if peaks is None else [int(p) for p in peaks],
        "daily_peaks": daily,
    }


def daily_peak(series, n_peaks, within, peak_finder=find_peaks_stable):
    ts = np.array([p[0] for p in series], dtype=np.int64)
    vs = np.array([p[1] for p in series], dtype=float)
    if len(ts) < 2:
        return verdict(True, "resolution")
    steps, counts = np.unique(np.diff(ts), return_counts=True)
    res = int(steps[np.argmax(counts)])
    if res > 900 or res < 1:
        return verdict(True, "resolution")
    if ts[-1] - ts[0] < 446400:
        return verdict(True, "duration")
    anomaly = int(ts[-1])
    mean = np.mean(vs)
    keep = set()
    for d in range(7):
        for k in range(4):
            keep.add(anomaly - d * 86400 - k * res)
    y = np.array([v if (t >= anomaly or int(t) in keep) else mean for t, v in zip(ts, vs)])
    y = np.concatenate([y, np.full(7, mean)])
    peaks = [int(p) for p in peak_finder(y, int((3600 / res) * 23))]

    a = int(np.flatnonzero(ts == anomaly)[0])
    w = 4 if res > 600 else 6
    own = None
    if a in peaks:
        own = a
    else:
        for p in peaks:
            if -w <= a - p <= -2 or 1 <= a - p <= w - 1:
                own = p
    if own is None:
        return verdict(True, "not_at_peak", peaks)

    n = len(ts)
    last = peaks[-1]
    # members of each peak's period, newest first
    periods = []
    for p in peaks:
        hi = p if p == last else p + 3
        periods.append([j for j in range(min(hi, n - 1), max(p - 3, 0) - 1, -1)])
    peak_times = sorted((int(ts[p]) for p in peaks if p < n), reverse=True)
    daily = []
    for i in range(len(peak_times) - 1):
        gap = peak_times[i] - peak_times[i + 1]
        if 83000 <= gap < 89000 or peak_times[i] == anomaly:
            daily.append(peak_times[i])
    if len(daily) < n_peaks:
        return verdict(True, "few_daily_peaks", peaks, len(daily))

    def period_values(t):
        k = peaks.index(int(np.flatnonzero(ts == t)[0]))
        return [float(vs[j]) for j in periods[k]]

    target = 0
    for v in period_values(daily[-1]):
        target = target + v
    sums = []
    for t in reversed(daily):
        vals = period_values(t)
        width = min(4, len(vals))
        run = sum(vals[:width])
        best, start = run, 0
        for i in range(1, len(vals) - 3):
            run = run - vals[i - 1] + vals[i + 3]
            if abs(run - target) < abs(best - target):
                best, start = run, i
        s = sum(vals[start:start + width])
        if s != 0:
            sums.append((t, s))
    if len(sums) < n_peaks:
        return verdict(True, "few_nonzero_peaks", peaks, len(daily))
    own_t = int(ts[own])
    own_sum = 0
    others = []
    for t, s in sums:
        if t == own_t:
            own_sum = s
        else:
            others.append(s)
    if len(others) < n_peaks:
        return verdict(True, "few_other_peaks", peaks, len(daily))
    three = 3 * np.std(others)
    if own_sum == 0:
        return verdict(True, "zero_anomaly_peak", peaks, len(daily))
    d = abs(own_sum - np.mean(others))
    if not d > three:
        return verdict(False, "normal", peaks, len(daily))
    if within:
        pct = abs((three - d) / d * 100.0)
        if pct <= within:
            return verdict(False, "normal", peaks, len(daily))
    return verdict(True, "beyond", peaks, len(daily))


def main():
    inp = read_input()
    out = {}
    if "cases" in inp:
        out["cases"] = []
        for c in inp["cases"]:
            args = (c["series"], c["number_of_daily_peaks"], c["within_percent_of_normal_peaks"])
            r = daily_peak(*args)
            scipy_r = daily_peak(*args, peak_finder=lambda y, d: find_peaks(y, distance=d)[0])
            r["scipy_reason"] = scipy_r["reason"]
            out["cases"].append(r)
    if "find_peaks" in inp:
        out["find_peaks"] = [
            {
                "scipy": find_peaks(np.array(c["x"], dtype=float), distance=c["distance"])[0].tolist(),
                "stable": find_peaks_stable(c["x"], c["distance"]).tolist(),
            }
            for c in inp["find_peaks"]
        ]
    write_output(out)


if __name__ == "__main__":
    main()
