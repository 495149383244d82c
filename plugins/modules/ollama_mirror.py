#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, llmops.ollama contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: ollama_mirror
short_description: Fill and keep a mirror directory of Ollama models, and write or read bundles for air gaps
version_added: 0.2.0
description:
  - Keeps a directory that is a static tree of the Docker Registry v2 read paths Ollama pulls from
    (C(v2/<namespace>/<model>/manifests/<tag>) and C(v2/<namespace>/<model>/blobs/sha256:<hex>)), so that a web server
    (M(llmops.ollama.ollama_domain) with O(llmops.ollama.ollama_domain#module:mirror_path)) can serve it to a whole fleet,
    and the models are fetched from the internet once.
  - Each blob is stored once in C(<path>/blobs/sha256-<hex>), however many models use it; the per-model blob paths under
    C(v2/) are hard links to it, so the web server needs no special mapping. C(<path>/mirror.json) indexes the models, their
    sources, digests and sizes. Only C(<path>/v2/) is meant to be served.
  - Models come from a registry (O(source)) through the registry protocol, or from a bundle file (O(bundle)). O(bundle_dest)
    writes the models as one tar file to carry across an air gap.
  - Every blob's size and sha256 are checked while it streams to disk (never held in memory). A broken download leaves its
    partial file in C(<path>/.partial/), and the next attempt (or run) resumes it with C(Range). A few blobs are fetched at once.
  - A blob or manifest appears in the tree only complete and verified (a temporary name, then a rename). When a blob does not
    match its digest or size, its partial file is removed and no manifest is placed.
  - Live progress of a fetch goes to a ledger (O(state_dir)) per model, as for pulls, readable with M(llmops.ollama.ollama_model_info).
author:
  - llmops.ollama maintainers (@llmops)
extends_documentation_fragment:
  - llmops.ollama._connection.UNUSED
  - llmops.ollama._attributes
  - llmops.ollama._attributes.ACTIONGROUP_OLLAMA
attributes:
  check_mode:
    support: full
    details:
      - Manifests are read from the registry (or the bundle's index and members are verified) to tell what would be fetched,
        with sizes; nothing is written.
  diff_mode:
    support: full
    details:
      - The models of the mirror with their digests, before and after.
  idempotent:
    support: full
    details:
      - A model already mirrored at the manifest the registry serves is not fetched again; the task reports a change only when
        something was fetched, placed, removed or written.
options:
  path:
    description:
      - The mirror directory. It is created when its parent exists.
      - V(/) and a path that exists but is not a directory are refused.
    type: path
    required: true
  models:
    description:
      - The models, with the same syntax and normalisation as M(llmops.ollama.ollama_model) (V(llama3.2) is V(llama3.2:latest)).
      - An entry is a name, a name pinned to a digest as C(name@sha256:<64 hex>), or a dictionary with C(name) and C(digest).
        A pinned model is fetched only when the source serves exactly that manifest; a mismatch fails before anything is fetched.
      - With O(bundle), leaving it out takes every model of the bundle. With O(bundle_dest) and no O(bundle), leaving it out
        writes every model of the mirror.
    type: list
    elements: raw
  state:
    description:
      - V(present) fetches the models that are missing or whose tag moved upstream.
      - V(absent) removes their manifests and per-model links; their blobs stay until O(prune).
    type: str
    choices: [present, absent]
    default: present
  prune:
    description:
      - Remove stored blobs that no model of the mirror uses any more, and left-over partial downloads.
    type: bool
    default: false
  source:
    description:
      - Base URL of the registry that C(registry.ollama.ai) names are read from. Names with another host (such as
        C(hf.co/<user>/<repo>:<quant>)) are read from C(https://<host>) (C(http) with O(insecure=true)).
      - Default V(https://registry.ollama.ai). Not with O(bundle).
    type: str
  bundle:
    description:
      - Read the models from this bundle file (written by O(bundle_dest)) instead of a registry.
      - Every manifest and blob of the bundle is verified against its index before anything is placed.
    type: path
  bundle_dest:
    description:
      - After the mirror holds the models, write them to this file as one tar file (index, manifests, each blob once).
      - An existing bundle with the same models and digests is left alone. The file is written under a temporary name and renamed.
    type: path
  insecure:
    description:
      - Read registries of names with a host of their own over plain C(http).
    type: bool
    default: false
  validate_certs:
    description:
      - Whether to verify the TLS certificates of the registries (not of an Ollama server, as this module talks to none).
    type: bool
    default: true
  timeout:
    description:
      - Seconds to wait for a registry to answer (connect, or the next bytes of a download).
    type: float
    default: 60
  retries:
    description:
      - How often a broken download or a failed manifest read is tried again within the run; each retry resumes.
    type: int
    default: 3
  parallel:
    description:
      - How many blobs are downloaded at once.
    type: int
    default: 3
  min_free_space:
    description:
      - Free space to keep on the mirror's disk after the fetch, as bytes or a size with a unit (V(10 GB)).
      - Before any download the bytes the manifests list (less the blobs already stored) are compared with the free space.
    type: raw
    default: 0
  state_dir:
    description:
      - The ledger directory that gets the live progress and status of each model's fetch.
      - Default C(<path>/.state) (not served), so a mirror's progress never mixes with the pulls of an Ollama server on the same host.
    type: path
notes:
  - The tree is served by nginx with C(root <path>) for C(location /v2/) only; see the README section "Fleets and air gaps".
  - Hosts pull C(<mirror host>/<namespace>/<model>:<tag>); the models keep the digests of their upstream registry.
  - Two registries' models that would share one C(v2/<namespace>/<model>) path are refused; use another mirror directory.
seealso:
  - module: llmops.ollama.ollama_domain
  - module: llmops.ollama.ollama_model
"""

EXAMPLES = r"""
- name: Fill the mirror from registry.ollama.ai
  llmops.ollama.ollama_mirror:
    path: /srv/ollama-mirror
    models:
      - llama3.2:1b
      - qwen2.5:0.5b
      - hf.co/bartowski/Llama-3.2-1B-Instruct-GGUF:Q4_K_M

- name: Mirror exactly one version
  llmops.ollama.ollama_mirror:
    path: /srv/ollama-mirror
    models:
      - name: smollm2:135m
        digest: "sha256:{{ smollm2_digest }}"

- name: Write a bundle to carry across the air gap
  llmops.ollama.ollama_mirror:
    path: /srv/ollama-mirror
    models: [llama3.2:1b]
    bundle_dest: /media/usb/models.tar

- name: Inside the air gap, fill the mirror from the bundle (verified before anything is placed)
  llmops.ollama.ollama_mirror:
    path: /srv/ollama-mirror
    bundle: /media/usb/models.tar

- name: Drop a model and the blobs nothing uses any more
  llmops.ollama.ollama_mirror:
    path: /srv/ollama-mirror
    models: [qwen2.5:0.5b]
    state: absent
    prune: true
"""

RETURN = r"""
models:
  description: The models the task handled, as the mirror holds them (or would, in check mode).
  returned: always
  type: list
  elements: dict
  contains:
    name:
      description: Canonical C(host/namespace/model:tag).
      type: str
    display:
      description: The short name, as C(ollama list) shows it.
      type: str
    repository:
      description: The C(namespace/model) path in the tree.
      type: str
    digest:
      description: The manifest digest (the one Ollama shows after pulling it through the mirror).
      type: str
    size:
      description: Bytes of the model's blobs.
      type: int
    source:
      description: The registry base URL, or C(bundle:<file>).
      type: str
    changed:
      description: Whether its manifest or links were (or would be) placed.
      type: bool
  sample: [{"name": "registry.ollama.ai/library/llama3.2:1b", "digest": "sha256:baf6...", "size": 1321098329, "changed": true}]
fetched:
  description: The blobs fetched (or to fetch, in check mode), each once, with C(digest), C(size) and C(resumed_from) (bytes already there).
  returned: always
  type: list
  elements: dict
fetch_bytes:
  description: Bytes still to fetch at the start of the run (sizes less partial files).
  returned: always
  type: int
transferred:
  description: Bytes that came over the network (or out of the bundle) in this run.
  returned: always
  type: int
removed:
  description: The models taken out of the mirror (O(state=absent)).
  returned: always
  type: list
  elements: dict
pruned:
  description: The stored blobs and partial files removed by O(prune), with their sizes.
  returned: always
  type: list
  elements: dict
bundle:
  description: The bundle written by O(bundle_dest), with C(path), C(changed), C(models) and C(bytes); absent without O(bundle_dest).
  returned: when bundle_dest is set
  type: dict
ledger_error:
  description: Why the progress ledger could not be used (empty when it was).
  returned: always
  type: str
"""

from ansible_collections.llmops.ollama.plugins.module_utils.mirror.mirror_module import argument_spec, run_module  # noqa: F401 (argument_spec: read by the tests)  # pylint: disable=unused-import


def main() -> None:
    run_module()


if __name__ == "__main__":
    main()
