#!/bin/bash
#  test_reference: self-test of the pandas reference (tests/reference/) on
#  hand-written inputs with hand-worked answers.  Needs Debian's
#  /usr/bin/python3 with python3-pandas.
set -euo pipefail
src="${DS_SOURCE:-$(cd "$(dirname "$0")/.." && pwd)}"
if ! /usr/bin/python3 -c 'import pandas' 2>/dev/null; then
    echo "test_reference: /usr/bin/python3 has no pandas (apt-get install python3-pandas)" >&2
    exit 1
fi
exec /usr/bin/python3 "$src/tests/reference/test_reference_selftest.py"
