#!/usr/bin/env bash
# Installs the system libraries PackLedger links against (Debian/Ubuntu), if missing.
set -euo pipefail
need=()
for pkg in libsqlite3-dev libssl-dev; do
  dpkg -s "$pkg" >/dev/null 2>&1 || need+=("$pkg")
done
if [ ${#need[@]} -gt 0 ]; then
  as_root=()
  [ "$(id -u)" -eq 0 ] || as_root=(sudo)
  "${as_root[@]}" apt-get update -q
  DEBIAN_FRONTEND=noninteractive "${as_root[@]}" apt-get install -y -q "${need[@]}"
fi
command -v swift >/dev/null || { echo "setup: Swift 6.2 or later must be on PATH" >&2; exit 1; }
echo "setup: libsqlite3-dev and libssl-dev present; $(swift --version 2>/dev/null | head -1)"
