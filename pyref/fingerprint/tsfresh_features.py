"""Reference features for the fingerprint crate's test.

Reads JSON on stdin: {"series": [[x0, x1, ...], ...]}. For each series it
prints, under Skyline's feature names, the value tsfresh 0.20.3 computes for
every calculator whose definition today's tsfresh shares with Skyline's fork
(the name mapping of spec/features.md, appendix), and, for the fork's legacy
calculators tsfresh no longer has, an independent numpy/scipy/pandas
one-liner of the fork's formula. Output: {"results": [{"values": {name:
value}, "source": {name: "tsfresh" | "numpy"}}, ...]} (non-finite values as
the strings "nan", "inf", "-inf").
"""
import json
import math
import sys
import warnings

import numpy as np
import pandas as pd
from tsfresh import extract_features

warnings.simplefilter("ignore")

QS = [0.1, 0.2, 0.3, 0.4, 0.6, 0.7, 0.8, 0.9]
QLS = [0.0, 0.2, 0.4, 0.6, 0.8]
QHS = [0.2, 0.4, 0.6, 0.8, 1.0]
RS_APEN = [0.1, 0.3, 0.5, 0.7, 0.9]
WIDTHS = (2, 5, 10, 20)
# tsfresh's approximate_entropy holds an N×N×m array: above this length the
# same formula is evaluated in blocks (numpy) instead.
APEN_TSFRESH_MAX = 5000

SIMPLE = [
    "abs_energy", "absolute_sum_of_changes", "count_above_mean", "count_below_mean",
    "first_location_of_maximum", "first_location_of_minimum", "has_duplicate",
    "has_duplicate_max", "has_duplicate_min", "kurtosis", "last_location_of_maximum",
    "last_location_of_minimum", "length", "longest_strike_above_mean",
    "longest_strike_below_mean", "maximum", "mean", "mean_abs_change", "mean_change",
    "mean_second_derivative_central", "median", "minimum",
    "percentage_of_reoccurring_datapoints_to_all_datapoints",
    "percentage_of_reoccurring_values_to_all_values",
    "ratio_value_number_to_time_series_length", "skewness", "standard_deviation",
    "sum_of_reoccurring_data_points", "sum_values", "variance",
    "variance_larger_than_standard_deviation",
]


def fc_parameters(n):
    fc = {name: None for name in SIMPLE}
    fc.update({
        "augmented_dickey_fuller": [{"attr": "teststat", "autolag": "AIC"}],
        "binned_entropy": [{"max_bins": 10}],
        "quantile": [{"q": q} for q in QS],
        "large_standard_deviation": [{"r": k * 0.05} for k in range(1, 10)],
        "symmetry_looking": [{"r": k * 0.05} for k in range(20)],
        "number_cwt_peaks": [{"n": 1}, {"n": 5}],
        "number_peaks": [{"n": 1}, {"n": 3}, {"n": 5}],
        "index_mass_quantile": [{"q": q} for q in QS],
        "cwt_coefficients": [
            {"widths": WIDTHS, "coeff": c, "w": w} for w in WIDTHS for c in range(15)
        ],
        "spkt_welch_density": [{"coeff": c} for c in (2, 5, 8)],
        "ar_coefficient": [{"coeff": c, "k": 10} for c in range(5)],
        "change_quantiles": [
            {"ql": ql, "qh": qh, "isabs": True, "f_agg": "mean"} for ql in QLS for qh in QHS
        ],
        "value_count": [{"value": 0}, {"value": 1}],
        "range_count": [{"min": -1, "max": 1}],
    })
    if n <= APEN_TSFRESH_MAX:
        fc["approximate_entropy"] = [{"m": 2, "r": r} for r in RS_APEN]
    return fc


def tsfresh_values(x):
    df = pd.DataFrame({"id": 0, "time": np.arange(len(x)), "value": x})
    out = extract_features(
        df, column_id="id", column_sort="time", default_fc_parameters=fc_parameters(len(x)),
        n_jobs=0, disable_progressbar=True,
    )
    return {k: float(v) for k, v in out.iloc[0].items()}


def r_name(k):
    return str(round(0.05 * k, 2))


def skyline_from_tsfresh(t):
    """Skyline name -> tsfresh value, per the spec's mapping."""
    v = {}
    same = [s for s in SIMPLE if s not in (
        "mean_second_derivative_central", "sum_of_reoccurring_data_points",
        "percentage_of_reoccurring_datapoints_to_all_datapoints",
        "percentage_of_reoccurring_values_to_all_values")]
    for s in same:
        v[f"value__{s}"] = t[f"value__{s}"]
    v["value__mean_second_derivate_central"] = t["value__mean_second_derivative_central"]
    v["value__sum_of_reoccurring_values"] = t["value__sum_of_reoccurring_data_points"]
    # the two percentage names are swapped between the fork and tsfresh
    v["value__percentage_of_reoccurring_datapoints_to_all_datapoints"] = \
        t["value__percentage_of_reoccurring_values_to_all_values"]
    v["value__percentage_of_reoccurring_values_to_all_values"] = \
        t["value__percentage_of_reoccurring_datapoints_to_all_datapoints"]
    v["value__augmented_dickey_fuller"] = t['value__augmented_dickey_fuller__attr_"teststat"__autolag_"AIC"']
    v["value__binned_entropy__max_bins_10"] = t["value__binned_entropy__max_bins_10"]
    for q in QS:
        v[f"value__quantile__q_{q}"] = t[f"value__quantile__q_{q}"]
        v[f"value__index_mass_quantile__q_{q}"] = t[f"value__index_mass_quantile__q_{q}"]
    for k in range(1, 10):
        v[f"value__large_standard_deviation__r_{r_name(k)}"] = \
            t[f"value__large_standard_deviation__r_{k * 0.05}"]
    for k in range(20):
        v[f"value__symmetry_looking__r_{r_name(k)}"] = t[f"value__symmetry_looking__r_{k * 0.05}"]
    for n in (1, 5):
        v[f"value__number_cwt_peaks__n_{n}"] = t[f"value__number_cwt_peaks__n_{n}"]
    for n in (1, 3, 5):
        v[f"value__number_peaks__n_{n}"] = t[f"value__number_peaks__n_{n}"]
        v[f"value__large_number_of_peaks__n_{n}"] = float(t[f"value__number_peaks__n_{n}"] > 5)
    for w in WIDTHS:
        for c in range(15):
            v[f'"value__cwt_coefficients__widths_(2, 5, 10, 20)__coeff_{c}__w_{w}"'] = \
                t[f"value__cwt_coefficients__coeff_{c}__w_{w}__widths_(2, 5, 10, 20)"]
    for c in (2, 5, 8):
        v[f"value__spkt_welch_density__coeff_{c}"] = t[f"value__spkt_welch_density__coeff_{c}"]
    for c in range(5):
        v[f"value__ar_coefficient__k_10__coeff_{c}"] = t[f"value__ar_coefficient__coeff_{c}__k_10"]
    for ql in QLS:
        for qh in QHS:
            v[f"value__mean_abs_change_quantiles__qh_{qh}__ql_{ql}"] = \
                t[f'value__change_quantiles__f_agg_"mean"__isabs_True__qh_{qh}__ql_{ql}']
    v["value__value_count__value_0"] = t["value__value_count__value_0"]
    v["value__value_count__value_1"] = t["value__value_count__value_1"]
    v["value__range_count__max_1__min_-1"] = t["value__range_count__max_1__min_-1"]
    for r in RS_APEN:
        key = f"value__approximate_entropy__m_2__r_{r}"
        if key in t:
            v[key] = t[key]
    return v


def approximate_entropies_blocked(x, m, rs):
    """tsfresh's approximate_entropy formula for several r, evaluated in
    row blocks (tsfresh holds the whole N×N×m distance array)."""
    x = np.asarray(x, dtype=float)
    n = x.size
    radii = [r * np.std(x) for r in rs]
    if n <= m + 1:
        return [0.0 for _ in rs]

    def phi(m):
        t = n - m + 1
        counts = np.empty((len(rs), t))
        for a in range(0, t, 500):
            b = min(a + 500, t)
            d = np.abs(x[a:b, None] - x[None, :t])
            for k in range(1, m):
                np.maximum(d, np.abs(x[a + k:b + k, None] - x[None, k:t + k]), out=d)
            for i, r in enumerate(radii):
                counts[i, a:b] = np.sum(d <= r, axis=1)
        return [np.sum(np.log(c / t)) / t for c in counts]

    return [abs(p - q) for p, q in zip(phi(m), phi(m + 1))]


def legacy_values(x):
    """The fork's calculators tsfresh no longer has, as numpy one-liners."""
    x = np.asarray(x, dtype=float)
    n = x.size
    s = pd.Series(x)
    v = {}
    for lag in range(10):
        v[f"value__autocorrelation__lag_{lag}"] = s.autocorr(lag)
    for lag in (1, 2, 3):
        if 2 * lag < n:
            val = np.mean(x[2 * lag:] ** 2 * x[:n - 2 * lag] - x[lag:n - lag] * x[:n - 2 * lag] ** 2)
        elif 2 * lag == n:
            val = x[-1] ** 2 * x[0] - x[lag - 1] * x[0] ** 2
        else:
            val = 0.0
        v[f"value__time_reversal_asymmetry_statistic__lag_{lag}"] = val
    var = np.var(x)
    if abs(var) < 1e-10 or n == 1:
        mac = 0.0
    else:
        y = x - np.mean(x)
        mac = np.nanmean(np.correlate(y, y, "full")[: n - 1] / (var * np.arange(n - 1, 0, -1)))
    v["value__mean_autocorrelation"] = mac
    tol = 0.2 * np.std(x)
    close = 0
    for a in range(0, n, 2000):
        close += int(np.sum(np.abs(x[a:a + 2000, None] - x[None, :]) < tol))
    pairs_close = (close - (n if tol > 0 else 0)) // 2
    v["value__sample_entropy"] = -np.log(pairs_close / (n * (n - 1) / 2))
    f = np.fft.rfft(x, min(n, 18)).real
    for k in range(10):
        v[f"value__fft_coefficient__coeff_{k}"] = f[k] if k < len(f) else 0.0
    v["value__value_count__value_nan"] = float(np.isnan(x).sum())
    v["value__value_count__value_inf"] = float((x == np.inf).sum())
    v["value__value_count__value_-inf"] = float((x == -np.inf).sum())
    v["value__large_standard_deviation__r_0.0"] = float(np.std(x) > 0.0)
    if n > APEN_TSFRESH_MAX:
        for r, val in zip(RS_APEN, approximate_entropies_blocked(x, 2, RS_APEN)):
            v[f"value__approximate_entropy__m_2__r_{r}"] = val
    return v


def clean(v):
    v = float(v)
    if math.isnan(v):
        return "nan"
    if math.isinf(v):
        return "inf" if v > 0 else "-inf"
    return v


def main():
    series = json.load(sys.stdin)["series"]
    results = []
    for x in series:
        x = [float(v) for v in x]
        values, source = {}, {}
        for k, val in skyline_from_tsfresh(tsfresh_values(x)).items():
            values[k] = clean(val)
            source[k] = "tsfresh"
        for k, val in legacy_values(x).items():
            values[k] = clean(val)
            source[k] = "numpy"
        results.append({"values": values, "source": source})
    json.dump({"results": results}, sys.stdout)


if __name__ == "__main__":
    main()
