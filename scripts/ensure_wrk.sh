#!/bin/sh
# `make bench` loads the server with wrk: a C load generator that costs far less CPU than
# the server it measures. Install it from Debian's packages where it is missing: as root,
# or through sudo when that needs no password; otherwise say how, and exit 2.
set -e
if command -v wrk >/dev/null 2>&1; then exit 0; fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "wrk is not installed and there is no apt-get here: install wrk (https://github.com/wg/wrk) and run make bench again." >&2
  exit 2
fi
if [ "$(id -u)" = 0 ]; then
  as_root=""
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
  as_root="sudo -n"
else
  echo "wrk is not installed: run \`sudo apt-get install -y wrk\` (or as root \`apt-get install -y wrk\`), then make bench again." >&2
  exit 2
fi
echo "installing wrk: $as_root apt-get install -y wrk" >&2
# A fresh container has no package lists yet: fetch them only when the install needs them.
$as_root apt-get install -y wrk || { $as_root apt-get update && $as_root apt-get install -y wrk; }
command -v wrk >/dev/null 2>&1 || { echo "apt-get ran but wrk is still missing" >&2; exit 2; }
