#!/bin/sh
# Run uv, installing it first on a machine that has none: with pip, or — where the system
# Python refuses pip installs (Debian's "externally managed" Python) — in a private venv.
set -e
if command -v uv >/dev/null 2>&1; then exec uv "$@"; fi
if python3 -m uv --version >/dev/null 2>&1; then exec python3 -m uv "$@"; fi
if [ -x .tools/bin/uv ]; then exec .tools/bin/uv "$@"; fi
if python3 -m pip install --quiet uv >/dev/null 2>&1 && python3 -m uv --version >/dev/null 2>&1; then
  exec python3 -m uv "$@"
fi
echo "installing uv in .tools/ (a private virtualenv)" >&2
python3 -m venv .tools
.tools/bin/pip install --quiet uv
exec .tools/bin/uv "$@"
