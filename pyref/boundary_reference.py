"""Reference for Boundary's `detect_drop_off_cliff`, written from the
reference's definition (spec/boundary.md §5.3), numpy included, so its
quirks come along: `len(np.where(...))` is the number of dimensions (always
1), so the "similar low points" guards never fire, and the last value is
truncated with `int()`.

Input: {"series": [{"t": [...], "v": [...]}, ...], "windows": W,
        "min_average": A, "min_average_seconds": S}
For every series and every end index i >= 1 it judges the window of the
last W points ending at i (all points up to i when W is 0) and returns the
list of booleans per series.
"""
import numpy as np

from common import read_input, write_output


def detect_drop_off_cliff(ts, min_average, min_average_seconds):
    if len(ts) < 30:
        return False
    t_end = int(ts[-1][0])
    resolution = t_end - int(ts[-2][0])
    ten = np.array([v for (t, v) in ts if t_end - 10 * resolution < t <= t_end])
    if len(ten) <= 3:
        return False
    lowest = np.min(ten)
    highest = np.max(ten)
    if lowest < 0:
        return False
    if highest == 0:
        return False
    if lowest == highest:
        return False
    total = np.sum(ten)
    average = total / len(ten)
    last = int(ten[-1])
    if len(np.where(ten <= lowest)) > 2:
        return False
    twenty = np.array([v for (t, v) in ts if t_end - 20 * resolution < t <= t_end])
    if len(np.where(twenty <= lowest)) > 2:
        return False
    if min_average > 0 and min_average_seconds > 0:
        recent = [v for (t, v) in ts if t_end - min_average_seconds < t <= t_end]
        if sum(recent) / len(recent) < min_average:
            return False
    if highest < 101:
        trigger = 15
    if highest < 20:
        trigger = average / 2
    if highest > 100:
        trigger = 100
    if last == 0:
        last = 0.1
    if last == 1:
        trigger = 1
    if last == 1 and highest < 10:
        trigger = 0.1
    if last == 0.1 and average < 1 and total < 7:
        trigger = 7
    return bool(int(average / last) > trigger)


def main():
    request = read_input()
    width = request["windows"]
    out = []
    for s in request["series"]:
        points = list(zip(s["t"], s["v"]))
        verdicts = []
        for end in range(1, len(points) + 1):
            start = max(0, end - width) if width else 0
            verdicts.append(
                detect_drop_off_cliff(
                    points[start:end],
                    request["min_average"],
                    request["min_average_seconds"],
                )
            )
        out.append(verdicts)
    write_output(out)


if __name__ == "__main__":
    main()
