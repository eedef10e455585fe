"""Times tsfresh 0.20.3 the way Skyline calls it (one series,
EfficientFCParameters, no multiprocessing) on the inputs the criterion
benchmark uses, and prints {"n": median seconds} as JSON.

    bench_tsfresh.py SHARED_DATA_DIR N [N ...]
"""
import json
import pathlib
import statistics
import sys
import time
import warnings

import numpy as np
import pandas as pd
from tsfresh import extract_features
from tsfresh.feature_extraction import EfficientFCParameters

warnings.simplefilter("ignore")


def real_values(shared):
    files = sorted(pathlib.Path(shared, "nab", "realAWSCloudwatch").glob("*.csv"))
    out = []
    for f in files:
        for line in f.read_text().splitlines()[1:]:
            try:
                out.append(float(line.rsplit(",", 1)[1]))
            except (IndexError, ValueError):
                pass
    return out


def main():
    shared = sys.argv[1]
    lengths = [int(a) for a in sys.argv[2:]]
    values = real_values(shared)
    params = EfficientFCParameters()
    result = {}
    for n in lengths:
        df = pd.DataFrame({"metric": "m", "timestamp": np.arange(n), "value": values[:n]})
        reps = 5 if n <= 10_080 else 3
        times = []
        for _ in range(reps):
            t0 = time.perf_counter()
            extract_features(df, default_fc_parameters=params, column_id="metric",
                             column_sort="timestamp", n_jobs=0, disable_progressbar=True)
            times.append(time.perf_counter() - t0)
        result[str(n)] = statistics.median(times)
        print(f"tsfresh n={n}: median {result[str(n)]:.4f} s over {reps}", file=sys.stderr)
    json.dump(result, sys.stdout)


if __name__ == "__main__":
    main()
