"""Reference for analyze/src/stats/adf.rs: statsmodels' Augmented Dickey-Fuller
test with a constant and AIC lag selection, and MacKinnon's p-value.

Input:  {"cases": [{"x": [floats], "maxlag": int or null}, ...],
         "pvalues": [{"stat": float, "regression": "c" | "n" | "ct"}, ...]}
Output: {"cases": [{"statistic", "pvalue", "usedlag", "nobs",
                    "ties": [{"statistic", "pvalue", "usedlag", "nobs"}, ...]}
                   or {"error": "ExceptionType: message"}, ...],
         "pvalues": [float, ...]}
"""
import os

# Single-threaded BLAS: several times faster for these small SVDs on a
# 2-core machine, and deterministic. Must be set before numpy loads.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")

import warnings  # noqa: E402

import numpy as np  # noqa: E402
from statsmodels.tsa.adfvalues import mackinnonp  # noqa: E402
from statsmodels.tsa.stattools import adfuller  # noqa: E402

from common import read_input, write_output  # noqa: E402


def _summary(stat, pvalue, usedlag, nobs):
    return {
        "statistic": float(stat),
        "pvalue": float(pvalue),
        "usedlag": int(usedlag),
        "nobs": int(nobs),
    }


def run_case(case):
    x = np.asarray(case["x"], dtype=np.float64)
    maxlag = case.get("maxlag")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            stat, pvalue, _, store = adfuller(
                x, maxlag=maxlag, regression="c", autolag="AIC", regresults=True
            )
            out = _summary(stat, pvalue, store.usedlag, store.nobs)
            # Lags whose AIC ties the chosen one in exact arithmetic (same
            # rank, difference at rounding level): statsmodels' pick among
            # them is rounding noise, so report each alternative's own
            # fixed-lag result too (autolag=None with maxlag = that lag).
            fits = store.autolag_results
            startlag = min(fits)
            best = fits[store.usedlag + startlag]
            tol = 1e-10 * best.nobs
            out["ties"] = []
            for col, fit in sorted(fits.items()):
                lag = col - startlag
                if (
                    lag != store.usedlag
                    and fit.model.rank == best.model.rank
                    and abs(fit.aic - best.aic) <= tol
                ):
                    alt = adfuller(x, maxlag=lag, regression="c", autolag=None)
                    out["ties"].append(_summary(*alt[:4]))
            return out
    except Exception as exc:  # the Rust side must fail exactly here
        return {"error": f"{type(exc).__name__}: {exc}"}


def main():
    data = read_input()
    out = {
        "cases": [run_case(c) for c in data.get("cases", [])],
        "pvalues": [
            float(mackinnonp(float(p["stat"]), regression=p["regression"], N=1))
            for p in data.get("pvalues", [])
        ],
    }
    write_output(out)


if __name__ == "__main__":
    main()
