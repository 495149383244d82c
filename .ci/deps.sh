#!/usr/bin/env bash
# Installs the Debian packages the test suite needs, only when they are missing.
# Idempotent; needs root (CI and the development machines run as root).
set -euo pipefail
packages=(git tar make)
missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
    if [ "$(id -u)" -ne 0 ]; then
        echo "deps: missing Debian packages: ${missing[*]} (run as root, or install them)" >&2
        exit 1
    fi
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}"
fi
echo "deps: Debian packages present: ${packages[*]}"
