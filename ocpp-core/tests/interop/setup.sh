#!/usr/bin/env bash
# Creates the virtual environment of the interop test (the Python `ocpp` package, which nobody
# here wrote, with `websockets`) and prints the path of its python on the last line.
#
#   OCPP_INTEROP_PYTHON=$(ocpp-core/tests/interop/setup.sh | tail -n1) \
#       cargo test -p ocpp-core --all-features --test interop
#
# The venv goes to $OCPP_INTEROP_VENV, or target/interop-venv of the workspace.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
venv="${OCPP_INTEROP_VENV:-$here/../../../target/interop-venv}"
python="${PYTHON:-python3}"
if [ ! -x "$venv/bin/python" ]; then
    "$python" -m venv "$venv" >&2
fi
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check \
    "ocpp==2.1.0" "websockets==15.0.1" >&2
"$venv/bin/python" -c 'import ocpp.v16, ocpp.v201, websockets' >&2
cd "$venv" && echo "$(pwd)/bin/python"
