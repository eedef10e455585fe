"""MASS distance profiles with mass-ts 0.1.4, for
fingerprint/tests/reference_mass.rs.

Reads {"cases": [{"series": [...], "query": [...], "pieces": int,
"top_matches": int}, ...]} on stdin and writes, per case:

* "mass2": mts.mass2(series, query), the full sliding profile;
* "mass3": mts.mass3(series, query, pieces), the piecewise profile Skyline's
  MASS3 path uses (its values, in its own order);
* "blocks": one distance per non-overlapping aligned window
  series[j*m:(j+1)*m], from mts.mass2 on each window (what mass2_batch
  computes before choosing);
* "batch": mts.mass2_batch(series, query, batch_size=len(query),
  top_matches) as [[index, distance], ...].

Distances are complex in mass-ts; the real part is taken, as Skyline does.
Non-finite values are written as the strings "nan", "inf", "-inf".
"""
import json
import math
import sys
import warnings

import numpy as np

# mass-ts 0.1.4 uses np.warnings, removed in numpy 2: restore the alias.
if not hasattr(np, "warnings"):
    np.warnings = warnings

with warnings.catch_warnings():
    # "GPU support will not work" (cupy is not installed): irrelevant here
    warnings.simplefilter("ignore")
    import mass_ts as mts  # noqa: E402


def clean(v):
    v = float(v)
    if math.isnan(v):
        return "nan"
    if math.isinf(v):
        return "inf" if v > 0 else "-inf"
    return v


def real(a):
    return [clean(np.real(v)) for v in np.asarray(a)]


def main():
    cases = json.load(sys.stdin)["cases"]
    out = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for c in cases:
            x = np.asarray(c["series"], dtype=float)
            q = np.asarray(c["query"], dtype=float)
            m = len(q)
            blocks = [
                real(mts.mass2(x[j * m:(j + 1) * m], q))[0]
                for j in range(len(x) // m)
            ]
            idx, dist = mts.mass2_batch(x, q, batch_size=m, top_matches=c["top_matches"])
            out.append({
                "mass2": real(mts.mass2(x, q)),
                "mass3": real(mts.mass3(x, q, c["pieces"])),
                "blocks": blocks,
                "batch": [[int(i), clean(np.real(d))] for i, d in zip(idx, dist)],
            })
    json.dump({"results": out}, sys.stdout)


if __name__ == "__main__":
    main()
