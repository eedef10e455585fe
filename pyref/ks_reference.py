"""Reference for analyze::stats::ks::ks_2samp: scipy.stats.ks_2samp(a, b)
with its defaults (two-sided, method='auto').

Input:  {"pairs": [{"a": [...], "b": [...]}, ...]}
Output: {"results": [{"statistic": D, "pvalue": p, "fallback": bool}, ...]}

"fallback" is true when scipy warned that the exact computation failed and
it switched to the asymptotic distribution (kstwo), so the Rust test can
check that path is exercised. "statistic_bits" / "pvalue_bits" carry the
IEEE-754 bits as an unsigned integer: serde_json's default float parser may
be off by an ulp, and this comparison is meant to be bit-level."""
import struct
import warnings

import numpy as np
from scipy import stats

from common import read_input, write_output


def bits(x):
    return struct.unpack("<Q", struct.pack("<d", x))[0]


def one(a, b):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        res = stats.ks_2samp(np.asarray(a, dtype=float), np.asarray(b, dtype=float))
    fallback = any("Exact calculation unsuccessful" in str(w.message) for w in caught)
    d, p = float(res.statistic), float(res.pvalue)
    return {
        "statistic": d,
        "pvalue": p,
        "statistic_bits": bits(d),
        "pvalue_bits": bits(p),
        "fallback": fallback,
    }


def main():
    data = read_input()
    write_output({"results": [one(p["a"], p["b"]) for p in data["pairs"]]})


if __name__ == "__main__":
    main()
