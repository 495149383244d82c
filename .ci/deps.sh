#!/usr/bin/env bash
# Installs the Debian packages the test suite needs, only when they are missing.
# Idempotent; needs root (CI and the development machines run as root).
# Arguments: more packages for one target (make ee: debootstrap).
set -euo pipefail
packages=(git tar make python3 python3-venv docker.io nginx-light pebble openssl
          prometheus prometheus-node-exporter prometheus-alertmanager mtail libnginx-mod-http-js "$@")
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

# The Docker engine: no init system here, so start dockerd directly when it
# does not answer, and wait for it.
if ! docker info >/dev/null 2>&1; then
    echo "deps: starting dockerd (log: /tmp/dockerd.log)"
    setsid dockerd >/tmp/dockerd.log 2>&1 < /dev/null &
    for _ in $(seq 1 60); do
        docker info >/dev/null 2>&1 && break
        sleep 1
    done
    docker info >/dev/null 2>&1 || { echo "deps: dockerd did not start; see /tmp/dockerd.log" >&2; tail -20 /tmp/dockerd.log >&2; exit 1; }
fi
# one line when all is there (make demo's output is short)
echo "deps: ${#packages[@]} Debian packages present (${packages[*]:0:3} ...); Docker engine $(docker version --format '{{.Server.Version}}') answers"
