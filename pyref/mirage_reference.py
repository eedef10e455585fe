"""Reference for the seasonal check's judgement (seasonal.md §8): the nine
algorithms as Mirage's pandas versions compute them (analyzer.md §4 with
§8's differences), each returning True/False/None (None when it raises),
and Mirage's consensus.

Written from the spec's formulas with pandas/numpy/scipy/statsmodels:
* first_hour_average: hour (lo, lo+3600) with lo = t_last - 86400, or
  t_last - 6*res on daily data (80000 < t_last - t[-2] < 90000);
* mean_subtraction_cumulation with the sample std (pandas);
* histogram_bins with numpy.histogram;
* ks_test windows [now-3600, now-600) / [now-600, inf), or on daily data
  [t_last-90d, t_last-30d) / [t_last-30d, inf);
* timestamps de-duplicated first (first point kept), shorter than
  min_tolerable_length -> not anomalous, no votes;
* all algorithms run; anomalous = count(False) <= len(algorithms) - consensus.

And §8.1's irregular/unstable decision (numpy: np.unique step counts,
np.var of the min-max normalised values, np.round to 4 decimals).

Input:  {"cases": [{"series": [[t, v], ...], "now": n, "algorithms": [...],
                    "consensus": c, "min_tolerable_length": m}, ...],
         "irregular": [{"short": [[t, v], ...], "long": [[t, v], ...]}, ...]}
Output: {"cases": [{"judged": bool, "anomalous": bool,
                    "votes": {name: true | false | null}}, ...],
         "irregular": [{"use_30d": bool, "resolution": r, "nv7": x | null,
                        "nv30": x | null}, ...]}
"""
import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")

import warnings  # noqa: E402

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from scipy import stats  # noqa: E402
from statsmodels.tsa.stattools import adfuller  # noqa: E402

from common import read_input, write_output  # noqa: E402

DAY = 86400


def daily(ts):
    if len(ts) < 2:
        return None
    res = ts[-1][0] - ts[-2][0]
    return res if 80000 < res < 90000 else None


def tail_avg(ts):
    try:
        return (ts[-1][1] + ts[-2][1] + ts[-3][1]) / 3
    except IndexError:
        return ts[-1][1]


def first_hour_average(ts, now):
    t_last = ts[-1][0]
    res = daily(ts)
    lo = t_last - 6 * res if res else t_last - DAY
    s = pd.Series([v for t, v in ts if lo < t < lo + 3600], dtype=float)
    return bool(abs(tail_avg(ts) - s.mean()) > 3 * s.std())


def mean_subtraction_cumulation(ts, now):
    s = pd.Series([v if v else 0 for _, v in ts], dtype=float)
    s = s - s[0:len(s) - 1].mean()
    std = s[0:len(s) - 1].std()
    return bool(abs(s.iat[-1]) > 3 * std)


def stddev_from_average(ts, now):
    s = pd.Series([v for _, v in ts], dtype=float)
    return bool(abs(tail_avg(ts) - s.mean()) > 3 * s.std())


def stddev_from_moving_average(ts, now):
    s = pd.Series([v for _, v in ts], dtype=float)
    ewm = s.ewm(ignore_na=False, min_periods=0, adjust=True, com=50)
    return bool(abs(s.iat[-1] - ewm.mean().iat[-1]) > 3 * ewm.std(bias=False).iat[-1])


def least_squares(ts, now):
    x = np.array([t for t, _ in ts], dtype=float)
    y = np.array([v for _, v in ts], dtype=float)
    a = np.vstack([x, np.ones(len(x))]).T
    m, c = np.linalg.lstsq(a, y, rcond=-1)[0]
    errors = y - (m * x + c)
    if len(errors) < 3:
        return False
    std = pd.Series(errors).std()
    t = (errors[-1] + errors[-2] + errors[-3]) / 3
    return bool(abs(t) > std * 3 and round(std) != 0 and round(t) != 0)


def grubbs(ts, now):
    s = pd.Series([v for _, v in ts], dtype=float)
    std = s.std()
    if std == 0:
        return False
    z = (tail_avg(ts) - s.mean()) / std
    n = len(s)
    thr = stats.t.isf(0.05 / (2 * n), n - 2)
    g = ((n - 1) / np.sqrt(n)) * np.sqrt(thr * thr / (n - 2 + thr * thr))
    return bool(z > g)


def histogram_bins(ts, now):
    series = np.array([v for _, v in ts], dtype=float)
    t = tail_avg(ts)
    counts, edges = np.histogram(series, bins=15)
    for i, size in enumerate(counts):
        if size <= 20:
            if i == 0:
                if t <= edges[0]:
                    return True
            elif edges[i] <= t < edges[i + 1]:
                return True
    return False


def median_absolute_deviation(ts, now):
    s = pd.Series([v for _, v in ts], dtype=float)
    med = s.median()
    dev = np.abs(s - med)
    mad = dev.median()
    if mad == 0:
        return False
    return bool(dev.iat[-1] / mad > 6)


def ks_test(ts, now):
    if daily(ts):
        t_last = ts[-1][0]
        lo, mid = t_last - 90 * DAY, t_last - 30 * DAY
    else:
        lo, mid = now - 3600, now - 600
    reference = np.array([v for t, v in ts if lo <= t < mid], dtype=float)
    probe = np.array([v for t, v in ts if t >= mid], dtype=float)
    if reference.size < 20 or probe.size < 20:
        return False
    if np.all(reference == reference[0]):
        return False
    d, p = stats.ks_2samp(reference, probe)
    if p < 0.05 and d > 0.5:
        adf = adfuller(reference, maxlag=10, regression="c", autolag="AIC")
        if adf[1] < 0.05:
            return True
    return False


ALGORITHMS = {f.__name__: f for f in [
    first_hour_average, mean_subtraction_cumulation, stddev_from_average,
    stddev_from_moving_average, least_squares, grubbs, histogram_bins,
    median_absolute_deviation, ks_test,
]}


def run(f, ts, now):
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return f(ts, now)
    except Exception:
        return None


def judge(case):
    seen, ts = set(), []
    for t, v in case["series"]:
        if t not in seen:
            seen.add(t)
            ts.append((t, v))
    if len(ts) < case["min_tolerable_length"]:
        return {"judged": False, "anomalous": False, "votes": {}}
    votes = {name: run(ALGORITHMS[name], ts, case["now"]) for name in case["algorithms"]}
    falses = sum(1 for v in votes.values() if v is False)
    anomalous = falses <= len(votes) - case["consensus"]
    return {"judged": True, "anomalous": anomalous, "votes": votes}


def normalised_variance(values):
    v = np.array(values, dtype=float)
    with np.errstate(all="ignore"):
        return float(np.round(np.var((v - v.min()) / (v.max() - v.min())), 4))


def irregular(case):
    short, long = case["short"], case["long"]
    out = {"use_30d": False, "resolution": None, "nv7": None, "nv30": None}
    ts = np.array([t for t, _ in short])
    if len(ts) < 2:
        return out
    steps, counts = np.unique(np.diff(ts), return_counts=True)
    res = int(steps[np.argmax(counts)])
    out["resolution"] = res
    if res > 900 or ts[-1] - ts[0] < 446400:
        return out
    nv7 = normalised_variance([v for _, v in short])
    out["nv7"] = nv7
    if not nv7 <= 0.009 or len(long) <= len(short):
        return out
    nv30 = normalised_variance([v for _, v in long])
    out["nv30"] = nv30
    out["use_30d"] = bool(nv30 < 0.0065)
    return out


def main():
    data = read_input()
    write_output({
        "cases": [judge(c) for c in data.get("cases", [])],
        "irregular": [irregular(c) for c in data.get("irregular", [])],
    })


main()
