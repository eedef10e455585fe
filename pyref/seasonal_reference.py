"""Reference for the seasonal crate's series (seasonal.md §7):
determine_data_frequency, and pandas' backward resample
(`df.resample(rule, origin='end').mean()`) with each bucket's label
re-aligned down to the target resolution and NaN buckets removed.

Input:  {"frequency": [[ts, ...], ...],
         "downsample": [{"series": [[t, v], ...], "from": f, "to": r}, ...]}
Output: {"frequency": [r or null, ...],
         "downsample": [[[t, v], ...], ...]}
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


def main():
    req = read_input()
    write_output(
        {
            "frequency": [frequency(ts) for ts in req.get("frequency", [])],
            "downsample": [
                downsample(c["series"], c["from"], c["to"]) for c in req.get("downsample", [])
            ],
        }
    )


if __name__ == "__main__":
    main()
