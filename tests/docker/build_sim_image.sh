#!/usr/bin/env bash
# Copyright: (c) 2026, llmops.ollama contributors
# SPDX-License-Identifier: GPL-3.0-or-later
#
# Builds a local image that stands in for ollama/ollama where no image can be
# pulled: /bin/ollama runs the Ollama API simulator (tests/ollama_sim) on
# port 11434 and answers `ollama list`, like the real image's CLI.
# The root filesystem is assembled from this host's Debian python3 and
# imported with `docker import`; nothing is downloaded.
#
# usage: tests/docker/build_sim_image.sh [TAG]     (default llmops/ollama-sim:test)
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
tag=${1:-llmops/ollama-sim:test}
python=/usr/bin/python3.11
[ -x "$python" ] || { echo "build_sim_image: $python is missing: apt-get install python3" >&2; exit 1; }

# Built once per change of its sources: the image carries their digest as a label, and
# parallel test workers (or make targets) wait for one another on a lock instead of
# building the same tag side by side. FORCE=1 rebuilds anyway.
digest=$(cd "$repo" && {
    find tests/ollama_sim -name __pycache__ -prune -o -type f -print
    echo tests/docker/ollama_cli.py; echo tests/docker/build_sim_image.sh
} | LC_ALL=C sort | xargs sha256sum | sha256sum | cut -c1-32)
mkdir -p "$repo/.build"
exec 9>"$repo/.build/sim-image.lock"
flock 9
if [ "${FORCE:-0}" != 1 ] && [ "$(docker image inspect --format '{{ index .Config.Labels "llmops.sim.sources" }}' "$tag" 2>/dev/null)" = "$digest" ]; then
    echo "build_sim_image: $tag is up to date (sources $digest)"
    exit 0
fi

root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
mkdir -p "$root"/{bin,usr/bin,usr/lib,tmp,etc,root/.ollama/models,opt/ollama-sim/tests}
chmod 1777 "$root/tmp"

# The interpreter, its standard library (less what a server never imports)...
cp "$python" "$root/usr/bin/python3"
cp -a /usr/lib/python3.11 "$root/usr/lib/"
rm -rf "$root"/usr/lib/python3.11/{test,idlelib,tkinter,turtledemo,ensurepip,lib2to3,pydoc_data,site-packages,dist-packages}
find "$root/usr/lib/python3.11" -name __pycache__ -prune -exec rm -rf {} +
# ... and every shared library they link against.
{ ldd "$python"; find "$root/usr/lib/python3.11/lib-dynload" -name '*.so' -exec ldd {} \; ; } 2>/dev/null |
    grep -oE '/[^ ]+\.so[^ ]*' | sort -u | while read -r lib; do
        cp --parents -L "$lib" "$root"
    done
printf 'root:x:0:0:root:/root:/bin/ollama\n' > "$root/etc/passwd"
printf 'root:x:0:\n' > "$root/etc/group"

# The simulator and the ollama command.
cp -r "$repo/tests/ollama_sim" "$root/opt/ollama-sim/tests/"
find "$root/opt/ollama-sim" -name __pycache__ -prune -exec rm -rf {} +
: > "$root/opt/ollama-sim/tests/__init__.py"
{ echo '#!/usr/bin/python3'; cat "$repo/tests/docker/ollama_cli.py"; } > "$root/bin/ollama"
chmod 0755 "$root/bin/ollama"

tar -C "$root" -c . | docker import \
    -c 'ENTRYPOINT ["/bin/ollama"]' \
    -c 'CMD ["serve"]' \
    -c 'ENV OLLAMA_HOST=0.0.0.0:11434 PATH=/bin:/usr/bin PYTHONDONTWRITEBYTECODE=1' \
    -c 'EXPOSE 11434' \
    -c 'LABEL org.opencontainers.image.title="Ollama API simulator (llmops.ollama tests)"' \
    -c "LABEL llmops.sim.sources=$digest" \
    - "$tag" >/dev/null
echo "build_sim_image: built $tag"
