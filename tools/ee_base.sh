#!/usr/bin/env bash
# Copyright: (c) 2026, llmops.ollama contributors
# SPDX-License-Identifier: GPL-3.0-or-later
#
# Builds the base image of the execution environment where the upstream base
# image cannot be pulled (no internet, only the Debian mirror and PyPI):
#
#   1. a Debian root file system with Python (debootstrap from the mirror this
#      machine's apt uses), imported with `docker import` as ROOTFS_IMAGE;
#      skipped when that image exists;
#   2. on top of it, with `docker build`, the pinned wheels of
#      requirements/ee.txt (ansible-core, ansible-runner, bindep, dumb-init and
#      the collection's requirements.txt), downloaded on the host with
#      `pip download` and installed with --no-index: the build needs no
#      registry and no network, and Docker's layer cache makes a rebuild free.
#
# ansible-builder then finds everything it would install already satisfied.
#
# usage: tools/ee_base.sh IMAGE        e.g. llmops/ollama-ee-base:0.1.0
# environment: EE_DEBIAN_SUITE (default: this machine's, e.g. bookworm),
#              EE_DEBIAN_MIRROR (default: the mirror apt uses for that suite)
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
image=${1:?usage: tools/ee_base.sh IMAGE}
work=$repo/.build/ee/base
python=${PYTHON:-python3}

suite=${EE_DEBIAN_SUITE:-$(. /etc/os-release && echo "${VERSION_CODENAME:-}")}
[ -n "$suite" ] || { echo "ee_base: no Debian suite (set EE_DEBIAN_SUITE, e.g. bookworm)" >&2; exit 1; }
rootfs_image=llmops/ee-rootfs:$suite

if docker image inspect "$rootfs_image" >/dev/null 2>&1; then
    echo "ee_base: root file system image $rootfs_image exists"
else
    command -v debootstrap >/dev/null || { echo "ee_base: debootstrap is missing: apt-get install debootstrap (make deps does)" >&2; exit 1; }
    mirror=${EE_DEBIAN_MIRROR:-$(apt-get indextargets --format '$(SITE) $(RELEASE) $(COMPONENT)' 'Identifier: Packages' |
        awk -v suite="$suite" '$2 == suite && $3 == "main" { print $1; exit }')}
    [ -n "$mirror" ] || { echo "ee_base: apt has no mirror for $suite main (set EE_DEBIAN_MIRROR)" >&2; exit 1; }
    echo "ee_base: debootstrap $suite from $mirror"
    rootfs=$work/rootfs
    rm -rf "$rootfs" && mkdir -p "$rootfs"
    trap 'rm -rf "$rootfs"' EXIT
    # python3-venv: the venv /opt/ee (with pip), and venv for ansible-builder's scripts;
    # git: bindep.txt; openssh-client: jobs that reach hosts over SSH.
    debootstrap --variant=minbase \
        --include=python3,python3-venv,ca-certificates,git,openssh-client,sshpass \
        "$suite" "$rootfs" "$mirror" >"$work/debootstrap.log" 2>&1 ||
        { tail -20 "$work/debootstrap.log" >&2; echo "ee_base: debootstrap failed (log: $work/debootstrap.log)" >&2; exit 1; }
    rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/* "$rootfs"/tmp/*
    tar --numeric-owner -C "$rootfs" -cf - . |
        docker import -c 'ENV LANG=C.UTF-8' -c 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
            -c 'CMD ["bash"]' -m "debootstrap $suite $mirror (llmops.ollama tools/ee_base.sh)" - "$rootfs_image" >/dev/null
    rm -rf "$rootfs"
    trap - EXIT
    echo "ee_base: imported $rootfs_image"
fi

# The wheels: downloaded on the host, where pip reaches the index with the
# host's configuration (mirror, CA bundle); the
# wheels are chosen for the image's Python version and glibc (Debian $suite).
context=$work/context
rm -rf "$context" && mkdir -p "$context/wheels"
cp "$repo/requirements/ee.txt" "$context/ee.txt"
py_version=$(docker run --rm "$rootfs_image" python3 -c 'import sys; print("%d.%d" % sys.version_info[:2])')
"$python" -m pip download --quiet --disable-pip-version-check --only-binary=:all: --no-deps \
    --python-version "$py_version" --implementation cp $(for v in 36 34 31 28 17 12 5; do echo --platform "manylinux_2_${v}_x86_64"; done) \
    --dest "$context/wheels" -r "$context/ee.txt"
# ansible-builder calls its package manager the way it calls dnf ("install -y
# PACKAGES", "clean all"); ee-apt makes that apt-get, with fresh package lists
# from the mirrors this machine's apt uses (the suite, its updates, security).
cat >"$context/ee-apt" <<'EOF'
#!/bin/sh
# ansible-builder's PKGMGR on the Debian base image (llmops.ollama tools/ee_base.sh).
set -e
case "$1" in
    install) shift; apt-get update -qq; DEBIAN_FRONTEND=noninteractive exec apt-get install -qq -y --no-install-recommends "$@" ;;
    clean) apt-get clean; rm -rf /var/lib/apt/lists/* ;;
    *) exec apt-get "$@" ;;
esac
EOF
apt-get indextargets --format '$(SITE) $(RELEASE) $(COMPONENT)' 'Identifier: Packages' |
    awk -v suite="$suite" '($2 == suite || $2 == suite "-updates" || $2 == suite "-security") && $3 == "main" { print "deb " $1 " " $2 " main" }' |
    sort -u >"$context/sources.list"
[ -s "$context/sources.list" ] || echo "deb ${EE_DEBIAN_MIRROR:-http://deb.debian.org/debian} $suite main" >"$context/sources.list"
cat >"$context/Dockerfile" <<EOF
FROM $rootfs_image
COPY ee.txt /tmp/ee/ee.txt
COPY wheels/ /tmp/ee/wheels/
COPY ee-apt /usr/local/sbin/ee-apt
COPY sources.list /etc/apt/sources.list
# Debian lets pip (ensurepip) into a virtual environment only: the image's
# Python is the venv /opt/ee, first in PATH (ansible-builder: PYCMD=/opt/ee/bin/python3).
RUN chmod 0755 /usr/local/sbin/ee-apt \\
    && python3 -m venv /opt/ee \\
    && /opt/ee/bin/python3 -m pip install --no-cache-dir --no-index --no-deps \\
        --find-links /tmp/ee/wheels -r /tmp/ee/ee.txt \\
    && /opt/ee/bin/python3 -m pip check \\
    && rm -rf /tmp/ee
ENV PATH=/opt/ee/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
LABEL org.opencontainers.image.description="llmops.ollama execution environment base: Debian $suite, Python $py_version, ansible-core"
EOF
docker build --quiet -t "$image" "$context" >/dev/null
echo "ee_base: built $image"
