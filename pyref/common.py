"""Shared I/O for the reference scripts: JSON on stdin, JSON on stdout.

Non-finite floats do not exist in JSON, so they travel as the strings
"nan", "inf" and "-inf" (the Rust side maps them back)."""
import json
import math
import sys


def read_input():
    return json.load(sys.stdin)


def _clean(obj):
    if isinstance(obj, float):
        if math.isnan(obj):
            return "nan"
        if math.isinf(obj):
            return "inf" if obj > 0 else "-inf"
        return obj
    if isinstance(obj, dict):
        return {k: _clean(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_clean(v) for v in obj]
    if hasattr(obj, "item"):  # numpy scalar
        return _clean(obj.item())
    if hasattr(obj, "tolist"):  # numpy array
        return _clean(obj.tolist())
    return obj


def write_output(obj):
    json.dump(_clean(obj), sys.stdout)
