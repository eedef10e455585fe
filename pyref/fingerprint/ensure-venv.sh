#!/usr/bin/env bash
# Creates (once) the Python venv with tsfresh 0.20.3 that the fingerprint
# crate's reference test and benchmark compare against, and prints its
# python's path. A separate venv from pyref/ensure-venv.sh because the pins
# differ (tsfresh 0.20.3 needs scipy 1.14.x).
#
#   pyref/fingerprint/ensure-venv.sh    -> /path/to/venv/bin/python
#
# The venv lives in $SKYLINE_TSFRESH_VENV (default: target/pyref-tsfresh-venv)
# and is rebuilt when requirements.txt changes; concurrent callers serialise
# on a lock file.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
venv=${SKYLINE_TSFRESH_VENV:-${CARGO_TARGET_DIR:-$root/target}/pyref-tsfresh-venv}
req=$here/requirements.txt
mkdir -p "$(dirname "$venv")"

if ! command -v python3 >/dev/null 2>&1; then
  echo "pyref: python3 is missing: install Python 3.10+ with venv (Debian: apt-get install python3 python3-venv)" >&2
  exit 3
fi

exec 9>"$venv.lock"
flock 9
stamp=$(sha256sum "$req" | cut -c1-16)
if [ ! -x "$venv/bin/python" ] || [ "$(cat "$venv/.stamp" 2>/dev/null)" != "$stamp" ]; then
  rm -rf "$venv"
  if ! python3 -m venv "$venv" >&2; then
    echo "pyref: python3 cannot create a venv: install python3-venv (Debian: apt-get install python3-venv)" >&2
    exit 3
  fi
  if ! "$venv/bin/pip" install --quiet --disable-pip-version-check -r "$req" >&2; then
    echo "pyref: pip could not install $req (needs PyPI access)" >&2
    exit 3
  fi
  echo "$stamp" >"$venv/.stamp"
fi
echo "$venv/bin/python"
