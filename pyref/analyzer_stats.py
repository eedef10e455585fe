"""Reference values for the Analyzer's statistical building blocks.

Input: {"series": [{"t": [...], "v": [...]}, ...], "t_isf_n": [n, ...]}
Output, per series: numpy/pandas mean, std (ddof 0 and 1), median, median
absolute deviation, 15-bin histogram, ewm(com=50) mean/std at the last
index, and the least-squares residual statistics least_squares uses; and
scipy.stats.t.isf(0.05 / (2n), n - 2) for each n.
"""
import numpy as np
import pandas as pd
from scipy import stats

from common import read_input, write_output


def one(series):
    t = np.array(series["t"], dtype=float)
    v = np.array(series["v"], dtype=float)
    s = pd.Series(v)
    med = s.median()
    mad = np.abs(s - med).median()
    counts, edges = np.histogram(v, bins=15)
    ewm = s.ewm(com=50, adjust=True, ignore_na=False, min_periods=0)
    a = np.vstack([t, np.ones(len(t))]).T
    m, c = np.linalg.lstsq(a, v, rcond=-1)[0]
    errors = v - (m * t + c)
    return {
        "mean": float(np.mean(v)),
        "std0": float(np.std(v)),
        "std1": float(s.std()),
        "median": float(med),
        "mad": float(mad),
        "hist_counts": counts.tolist(),
        "hist_edges": edges.tolist(),
        "ewm_mean": float(ewm.mean().iat[-1]),
        "ewm_std": float(ewm.std(bias=False).iat[-1]),
        "lsq_std": float(pd.Series(errors).std()),
        "lsq_tail": float((errors[-1] + errors[-2] + errors[-3]) / 3),
    }


def main():
    data = read_input()
    write_output({
        "series": [one(s) for s in data["series"]],
        "t_isf": [float(stats.t.isf(0.05 / (2 * n), n - 2)) for n in data["t_isf_n"]],
    })


main()
