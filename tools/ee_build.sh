#!/usr/bin/env bash
# Copyright: (c) 2026, llmops.ollama contributors
# SPDX-License-Identifier: GPL-3.0-or-later
#
# `make ee`: builds the execution environment image IMAGE with
# `ansible-builder build -f execution-environment.yml`.
#
#   - This checkout is built as a collection artifact and installed under
#     .build/ee/collections, which execution-environment.yml copies into the
#     image before its galaxy step.
#   - Online (the base image of execution-environment.yml can be pulled): that
#     base image, and Ansible Galaxy for the community collections.
#   - Offline (the pull fails): the base image of tools/ee_base.sh (Debian,
#     debootstrap, wheels from the host), and the community collections that
#     the pinned `ansible` package of the virtualenv bundles (llmops.ollama's
#     dependencies and theirs), so that the galaxy step, run with --offline,
#     finds every requirement installed.
#
# usage: tools/ee_build.sh IMAGE          (PATH must hold the virtualenv's bin)
# environment: EE_OFFLINE=1|0 forces a mode; EE_PULL_TIMEOUT (default 60 s)
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
image=${1:?usage: tools/ee_build.sh IMAGE}
cd "$repo"
work=.build/ee
version=$(sed -n 's/^version: *//p' galaxy.yml)
upstream=$(python -c 'import yaml, sys; print(yaml.safe_load(open("execution-environment.yml"))["images"]["base_image"]["name"])')
start=$(date +%s)

if [ -z "${EE_OFFLINE:-}" ]; then
    if docker image inspect "$upstream" >/dev/null 2>&1 || timeout "${EE_PULL_TIMEOUT:-60}" docker pull -q "$upstream" >/dev/null 2>&1; then
        EE_OFFLINE=0
    else
        EE_OFFLINE=1
    fi
fi

# The collection, as AWX would install it from its artifact: the whole of it goes in
# last (collection/, append_final), so that a change of its content costs one layer.
# Before the galaxy step goes a stand-in with what the galaxy and builder steps read
# (collections/: MANIFEST.json without the file checksums, meta/, requirements.txt,
# bindep.txt): the dependency layers stay cached while only the code changes.
rm -rf "$work/collections" "$work/collection" "$work/dist" "$work/context"
mkdir -p "$work/collections" "$work/dist"
ansible-galaxy collection build . --output-path "$work/dist" >/dev/null
ANSIBLE_COLLECTIONS_PATH="$work/dist/installed" ansible-galaxy collection install --offline --no-deps \
    -p "$work/dist/installed" "$work/dist/llmops-ollama-$version.tar.gz" >/dev/null
mv "$work/dist/installed/ansible_collections/llmops/ollama" "$work/collection"
python - "$work/collection" "$work/collections/ansible_collections/llmops/ollama" <<'EOF'
import json, shutil, sys
from pathlib import Path

source, stand_in = Path(sys.argv[1]), Path(sys.argv[2])
stand_in.mkdir(parents=True)
manifest = json.loads((source / "MANIFEST.json").read_text())
manifest["file_manifest_file"]["chksum_sha256"] = None  # the full collection replaces it in the final image
(stand_in / "MANIFEST.json").write_text(json.dumps(manifest, indent=2, sort_keys=True))
shutil.copytree(source / "meta", stand_in / "meta")
for name in ("requirements.txt", "bindep.txt"):
    if (source / name).exists():
        shutil.copy(source / name, stand_in / name)
EOF

build_args=()
if [ "$EE_OFFLINE" = 1 ]; then
    base=llmops/ollama-ee-base:$version
    echo "ee: cannot pull $upstream (no internet?): building on the local Debian base image $base"
    if ! docker image inspect "$base" >/dev/null 2>&1 || [ -n "$(find requirements/ee.txt tools/ee_base.sh -newer "$work/base.stamp" 2>/dev/null)" ] || [ ! -e "$work/base.stamp" ]; then
        PYTHON=python tools/ee_base.sh "$base"
        touch "$work/base.stamp"
    fi
    # The collection's dependencies (and theirs) from the `ansible` package.
    python - "$work/collections/ansible_collections" <<'EOF'
import json, shutil, sys
from pathlib import Path

import ansible_collections  # the collections bundled with the pinned `ansible` package
import yaml

bundled = Path(next(iter(ansible_collections.__path__)))
target = Path(sys.argv[1])
wanted = list(yaml.safe_load(Path("galaxy.yml").read_text()).get("dependencies") or {})
done = set()
while wanted:
    fqcn = wanted.pop()
    if fqcn in done:
        continue
    done.add(fqcn)
    namespace, name = fqcn.split(".")
    source = bundled / namespace / name
    if not (source / "MANIFEST.json").is_file():
        sys.exit("ee: the ansible package has no %s (%s)" % (fqcn, source))
    shutil.copytree(source, target / namespace / name, symlinks=True, ignore=shutil.ignore_patterns("__pycache__"))
    wanted += list(json.loads((source / "MANIFEST.json").read_text())["collection_info"].get("dependencies") or {})
print("ee: collections from the ansible package: " + ", ".join(sorted(done)))
EOF
    build_args=(--build-arg "EE_BASE_IMAGE=$base" --build-arg PKGMGR=/usr/local/sbin/ee-apt --build-arg PYCMD=/opt/ee/bin/python3
        --build-arg PYPKG=python3 --build-arg ANSIBLE_GALAXY_CLI_COLLECTION_OPTS=--offline)
else
    echo "ee: building on $upstream"
fi

ansible-builder build -f execution-environment.yml -c "$work/context" --container-runtime docker \
    -t "$image" "${build_args[@]}" -v 3 >"$work/build.log" 2>&1 ||
    { tail -40 "$work/build.log" >&2; echo "ee: ansible-builder build failed (log: $work/build.log)" >&2; exit 1; }
docker run --rm "$image" ansible-galaxy collection list llmops.ollama >/dev/null ||
    { echo "ee: $image does not list llmops.ollama" >&2; exit 1; }
echo "ee: built $image in $(($(date +%s) - start)) s (log: $work/build.log)"
