"""Reference for the seasonal crate's series (seasonal.md §7):
determine_data_frequency, and pandas' backward resample
(`df.resample(rule, origin='end').mean()`) with each bucket's label
re-aligned down to the target resolution and NaN buckets removed.

And downsample_full_duration_and_merge_graphite as §7 writes it, with
Graphite's nonNegativeDerivative (negative steps dropped).

Input:  {"frequency": [[ts, ...], ...],
         "downsample": [{"series": [[t, v], ...], "from": f, "to": r}, ...],
         "merge": [{"long": [[t, v], ...], "full": [[t, v], ...], "full_res": f,
                    "analysis_resolution": r or 0, "derivative": bool}, ...],
         "rollup": [{"series": [[t, v], ...], "resolution": r}, ...]}
Output: {"frequency": [r or null, ...],
         "downsample": [[[t, v], ...], ...],
         "merge": [[[t, v], ...], ...],
         "rollup": [[[t, v], ...], ...]}

A roll-up is what the windows keep of old points: the mean of each
`resolution`-second bucket aligned to the epoch, labelled by its start
(pandas' `resample(origin='epoch', closed='left', label='left')`), empty
buckets dropped.
"""
from collections import Counter

import numpy as np
import pandas as pd

from common import read_input, write_output

KEPT = {1, 2, 3, 5, 6, 10, 12, 15, 20, 30}


def frequency(timestamps):
    ts = timestamps[-101:] if len(timestamps) > 94 else timestamps
    diffs = [b - a for a, b in zip(ts, ts[1:])]
    if not diffs:
        return None
    counts = Counter(diffs)
    top = max(counts.values())
    r = min(d for d, c in counts.items() if c == top)
    if r != 60 and r not in KEPT and 1 <= r <= 68:
        r = 60
    return r


def rule(from_res, to_res):
    """The pandas rule the reference resamples with."""
    named = {600: "10min", 900: "15min", 1200: "20min", 1800: "30min", 3600: "60min"}
    if to_res in named:
        return named[to_res]
    if to_res == 60 and from_res < 60:
        return "60s"
    return "%dmin" % int(to_res / from_res)


def downsample(series, from_res, to_res):
    if not series:
        return []
    t = np.array([p[0] for p in series], dtype=np.int64)
    v = np.array([p[1] for p in series], dtype=float)
    df = pd.DataFrame({"value": v}, index=pd.to_datetime(t, unit="s"))
    out = df.resample(rule(from_res, to_res), origin="end").mean()
    secs = out.index.asi8 // 10**9
    return [
        [int(s) // to_res * to_res, float(x)]
        for s, x in zip(secs, out["value"].to_numpy())
        if not np.isnan(x)
    ]


def non_negative_derivative(series):
    out = []
    prev = None
    for t, v in series:
        if prev is not None and v - prev >= 0:
            out.append([t, v - prev])
        prev = v
    return out


def merge(long, full, full_res, analysis_resolution, derivative):
    g_res = frequency([p[0] for p in long])
    if g_res is None or g_res == 60:
        return []
    use_res = g_res
    if analysis_resolution and g_res < analysis_resolution:
        use_res = analysis_resolution
        long = downsample(long, g_res, use_res)
    aligned = downsample(sorted(full), full_res, use_res)
    if derivative:
        aligned = non_negative_derivative(aligned)
    if not aligned:
        return []
    return [p for p in long if p[0] < aligned[0][0]] + aligned


def rollup(series, resolution):
    if not series:
        return []
    t = np.array([p[0] for p in series], dtype=np.int64)
    v = np.array([p[1] for p in series], dtype=float)
    df = pd.DataFrame({"value": v}, index=pd.to_datetime(t, unit="s"))
    out = df.resample("%ds" % resolution, origin="epoch", closed="left", label="left").mean()
    secs = out.index.asi8 // 10**9
    return [[int(s), float(x)] for s, x in zip(secs, out["value"].to_numpy()) if not np.isnan(x)]


def main():
    req = read_input()
    write_output(
        {
            "frequency": [frequency(ts) for ts in req.get("frequency", [])],
            "downsample": [
                downsample(c["series"], c["from"], c["to"]) for c in req.get("downsample", [])
            ],
            "merge": [
                merge(c["long"], c["full"], c["full_res"], c["analysis_resolution"], c["derivative"])
                for c in req.get("merge", [])
            ],
            "rollup": [rollup(c["series"], c["resolution"]) for c in req.get("rollup", [])],
        }
    )


if __name__ == "__main__":
    main()
