#!/usr/bin/env bash
# Installs everything Evolver needs on a fresh Debian machine: the system packages for the local trainer
# (PyTorch from Debian, with OpenBLAS, which makes it ~30x faster) and chromium (the dashboard's browser test drives
# it), then the npm dependencies, which also build the CLI (npm's prepare step). Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."

need_apt=()
/usr/bin/python3 -c "import torch, numpy" >/dev/null 2>&1 || need_apt+=(python3-torch python3-numpy)
dpkg -s libopenblas0-pthread >/dev/null 2>&1 || need_apt+=(libopenblas0-pthread)
command -v chromium >/dev/null 2>&1 || need_apt+=(chromium)
if [ ${#need_apt[@]} -gt 0 ]; then
  if [ "$(id -u)" -eq 0 ]; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${need_apt[@]}"
  else
    echo "setup: please install ${need_apt[*]} (the local trainer; chromium for the dashboard's browser test), e.g. sudo apt-get install -y --no-install-recommends ${need_apt[*]}" >&2
  fi
fi

# npm install rather than npm ci: the lock file holds only the platform binaries the registry serves here
# (node-llama-cpp's optional mac/windows builds are missing), which npm ci refuses as out of sync.
npm install --no-audit --no-fund
