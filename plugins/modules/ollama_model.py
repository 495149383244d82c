#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, llmops.ollama contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: ollama_model
short_description: Pull, create, pin, load, unload and delete models on an Ollama server
version_added: 0.1.0
description:
  - Makes one model, or a list of models, be in the desired state on an Ollama server.
  - It reads C(GET /api/tags) and C(GET /api/ps) once and sends a request for a model only when that model is not yet as desired.
    A custom model is compared with its C(POST /api/show) definition.
  - Pulls show live progress in a ledger on the host (O(state_dir)), so a playbook can poll a pull started with C(async) and C(poll=0)
    through M(llmops.ollama.ollama_model_info). A stalled or broken pull is retried and resumes where it stopped.
  - Before a pull it compares the bytes the registry manifest lists (less the blobs already on disk) with the free space
    at O(models_path), and stops with status C(paused) when the disk cannot hold the model.
author:
  - llmops.ollama maintainers (@llmops)
extends_documentation_fragment:
  - llmops.ollama._connection
  - llmops.ollama._transfer
  - llmops.ollama._attributes
  - llmops.ollama._attributes.ACTIONGROUP_OLLAMA
attributes:
  check_mode:
    support: full
    details:
      - No request that changes the server is sent; the registry manifest may be read to predict O(update=true).
  diff_mode:
    support: full
    details:
      - Before and after per model, keyed by model name; for a custom model the fields that differ.
  idempotent:
    support: full
options:
  name:
    description:
      - The model, or a list of models, as C([host/][namespace/]model[:tag]), for example V(llama3.2:1b),
        V(myuser/mymodel) or V(hf.co/bartowski/Llama-3.2-1B-Instruct-GGUF:Q4_K_M).
      - Names are normalised, so V(llama3.2) and V(llama3.2:latest) are the same model (it is handled once).
      - An invalid name fails before any request, naming the part at fault and why.
      - A cloud model (run on ollama.com, not on this server) is named with its C(-cloud) tag (V(gpt-oss:120b-cloud)) or with the
        C(:cloud) source suffix (V(gpt-oss:120b:cloud), the same model); V(qwen3:8b:local) is the local V(qwen3:8b). Both suffixes at
        once fail. A cloud model has no disk check before its pull, and O(state=loaded) or O(state=unloaded) on it fails (it never
        appears in C(/api/ps)).
    type: list
    elements: str
    required: true
    aliases: [model]
  state:
    description:
      - V(present) pulls (or creates) the model when it is missing.
      - V(absent) deletes it when it is there (unloading it first when it is loaded).
      - V(loaded) makes it present, then loads it into memory with O(keep_alive) and O(options). A model already in C(/api/ps) is unchanged.
      - V(unloaded) unloads it (C(keep_alive 0)) when it is loaded. A model that is not loaded, or not there, is unchanged.
    type: str
    choices: [present, absent, loaded, unloaded]
    default: present
  update:
    description:
      - Pull the model again even when it is present. The task reports a change only when the digest in C(/api/tags) changed.
      - Applies to models pulled from a registry, not to custom models (those are re-created when their definition changes).
    type: bool
    default: false
  force:
    description:
      - Re-create the model (delete it, pull or create it afresh and verify it). Always reports a change.
      - Only with O(state=present) or O(state=loaded).
    type: bool
    default: false
  digest:
    description:
      - Pin the model to a digest, as C(sha256:<64 hex>) or the 64 hex characters alone.
      - After a pull the digest is compared; on a mismatch the task fails with both digests and removes the model
        if this task added it, so nothing unverified stays behind.
      - A present model with another digest fails unless O(update=true).
      - With O(update=true) the digest of the registry manifest is compared before the pull; when the registry serves another
        version, the task fails with both digests and pulls nothing. When the manifest cannot be read, the present version is
        kept as a copy during the pull and restored on a mismatch (the message says so when it cannot be).
      - In check mode a pin that the registry manifest does not match fails as the real run would.
      - Only with a single O(name).
    type: str
  insecure:
    description:
      - Allow a pull from a private registry over plain C(http) (Ollama's C(insecure) flag).
    type: bool
    default: false
  keep_alive:
    description:
      - How long the model stays loaded after O(state=loaded), as seconds (a number) or a Go duration string
        such as V(10m), V(1h30m) or V(-1m).
      - A negative value keeps it loaded until it is unloaded; V(0) unloads at once.
      - A string of digits such as V("3600") is taken as seconds (the server would reject it as it is).
        Anything else fails before any request.
      - When not set, the server's default (E(OLLAMA_KEEP_ALIVE), 5 minutes) applies.
    type: raw
  options:
    description:
      - Load options for O(state=loaded), such as C(num_ctx), C(num_gpu), C(num_thread), C(main_gpu), C(num_batch) or C(use_mmap).
      - A value of the wrong type (for example a string for C(num_ctx)) fails before any request;
        an option the server does not know is a warning (the server ignores it).
    type: dict
  check_memory:
    description:
      - Before a load, compare the model's size with the available memory (C(MemAvailable) in C(/proc/meminfo),
        plus free GPU memory when C(nvidia-smi) is there) and fail when it does not fit.
      - Only when O(api_url) is on this host; otherwise it is skipped with a warning.
    type: bool
    default: false
  require_capabilities:
    description:
      - Fail the model when it lacks one of these capabilities, naming the ones it has (C(capabilities) of C(/api/tags), or of
        C(/api/show) when the server does not list them there). Checked after the model is pulled or created, before it is loaded.
      - Applies to O(state=present) and O(state=loaded). In check mode a model that is not there yet is checked in the real run.
    type: list
    elements: str
    choices: [completion, tools, insert, vision, embedding, thinking]
  from:
    description:
      - Make a custom model with C(POST /api/create), built on this model (pulled first by the server when it is missing).
      - Optional when O(files) gives the model's own weights.
      - The custom model is compared with C(POST /api/show) on every run; only a difference in a field given here re-creates it,
        and the diff names the fields that differ.
    type: str
  system:
    description:
      - The system prompt of the custom model (with O(from)).
    type: str
  template:
    description:
      - The prompt template of the custom model (with O(from)), in Go template syntax.
    type: str
  parameters:
    description:
      - Model parameters of the custom model (with O(from)), such as C(temperature), C(num_ctx) or C(stop) (a list).
      - Only the parameters named here are compared. An unknown parameter or a value of the wrong type fails before any request.
    type: dict
  messages:
    description:
      - Example conversation of the custom model (with O(from)).
    type: list
    elements: dict
    suboptions:
      role:
        description:
          - Who speaks.
        type: str
        required: true
        choices: [system, user, assistant, tool]
      content:
        description:
          - What is said.
        type: str
        required: true
  license:
    description:
      - The license of the custom model (with O(from)), as a string or a list of strings.
    type: raw
  quantize:
    description:
      - Quantize the custom model's weights (with O(from) or O(files)); the weights must be F32, F16 or BF16.
      - One of V(F32), V(F16), V(BF16), V(Q8_0), V(Q4_K_S), V(Q4_K_M) or V(Q4_K) (the same as V(Q4_K_M)), in any case
        (V(q4_K_M) too), as the server takes it. Anything else fails before any request.
    type: str
  files:
    description:
      - The custom model's own weights, imported with C(POST /api/create) C(files) (O(from) is optional then).
      - Each entry is a file on the host the module runs on, with the name it has in the model; a GGUF file (V(model.gguf)), or
        safetensors weights with their C(config.json) and tokenizer files. A file on the controller is copied to the host first
        (M(ansible.builtin.copy)); a path that is not a readable file there fails before any request.
      - Each file's sha256 is computed while reading it; a blob is uploaded (streamed, C(POST /api/blobs/sha256:...)) only when
        C(HEAD /api/blobs/sha256:...) says the server lacks it.
      - The digests are recorded in the ledger; the model is re-created only when they (or another field given) change.
    type: list
    elements: dict
    suboptions:
      path:
        description:
          - The absolute path of the file on the host the module runs on.
        type: path
        required: true
      name:
        description:
          - The file name in the model, relative (no C(/) at the start, no C(..)); the base name of O(files[].path) by default.
        type: str
  adapters:
    description:
      - LoRA adapters (GGUF) applied to the custom model (C(POST /api/create) C(adapters)), with O(from) or O(files); the same
        shape, upload and comparison as O(files).
    type: list
    elements: dict
    suboptions:
      path:
        description:
          - The absolute path of the adapter file on the host the module runs on.
        type: path
        required: true
      name:
        description:
          - The file name in the model; the base name of O(adapters[].path) by default.
        type: str
notes:
  - Pulls of several models in one task run one after the other; to pull in parallel use several tasks with C(async).
  - A failure of one model of a list does not stop the others; the task fails at the end and RV(models) says which model failed and why.
  - Ollama keeps partial downloads until the server restarts (or longer with E(OLLAMA_NOPRUNE=1)), which is what lets a retry resume.
seealso:
  - module: llmops.ollama.ollama_model_info
  - module: llmops.ollama.ollama_info
  - name: Ollama API
    description: The endpoints this module uses.
    link: https://github.com/ollama/ollama/blob/main/docs/api.md
"""

EXAMPLES = r"""
- name: Pull through the fleet's mirror (filled by llmops.ollama.ollama_mirror); the model keeps its own name and digest
  llmops.ollama.ollama_model:
    name: llama3.2:1b
    mirror: https://mirror.example:8443

- name: Make sure a model is on the server
  llmops.ollama.ollama_model:
    name: llama3.2:1b

- name: Several models at once (llama3.2 and llama3.2:latest are one model)
  llmops.ollama.ollama_model:
    name:
      - llama3.2:1b
      - qwen2.5:0.5b
      - nomic-embed-text

- name: Read the digest of the version tested on a staging host
  llmops.ollama.ollama_model_info:
    name: smollm2:135m
  delegate_to: "{{ groups['staging'][0] }}"
  run_once: true
  register: tested

- name: Pull exactly that version; fail and leave nothing behind if the registry serves another
  llmops.ollama.ollama_model:
    name: smollm2:135m
    # your own pin: here the digest from the task above; a literal works too, as sha256:<64 hex> or the bare hex
    digest: "sha256:{{ tested.model.digest }}"

- name: Pull the newest version (changed only when the digest changed)
  llmops.ollama.ollama_model:
    name: llama3.2:1b
    update: true

- name: Load a model for an hour with a bigger context
  llmops.ollama.ollama_model:
    name: llama3.2:1b
    state: loaded
    keep_alive: 1h
    options:
      num_ctx: 8192
    check_memory: true

- name: Unload it
  llmops.ollama.ollama_model:
    name: llama3.2:1b
    state: unloaded

- name: A custom model, re-created only when its definition changes
  llmops.ollama.ollama_model:
    name: support-assistant
    from: llama3.2:1b
    system: You answer questions about our product, briefly.
    parameters:
      temperature: 0.2
      num_ctx: 4096
      stop: ["<|eot_id|>"]

- name: Start a big pull in the background
  llmops.ollama.ollama_model:
    name: llama3.2:latest
    min_free_space: 10 GB
  async: 3600
  poll: 0
  register: big_pull

# Until the pull starts, the model reads unavailable (or queued while it waits for a pull slot);
# then downloading, with progress.percent, speed_human and eta_human. Poll until it is none of these:
# stopped or running when the pull is done, failed or paused when it is not.
- name: Watch its progress in the ledger
  llmops.ollama.ollama_model_info:
    name: llama3.2:latest
  register: progress
  until: progress.model.status not in ['downloading', 'queued', 'unavailable']
  retries: 360
  delay: 10

- name: Collect the result of the pull (fails here if the pull failed)
  ansible.builtin.async_status:
    jid: "{{ big_pull.ansible_job_id }}"
  register: big_pull_result
  until: big_pull_result.finished
  retries: 30
  delay: 10

- name: A cloud model (runs on ollama.com; gpt-oss:120b:cloud names the same model)
  llmops.ollama.ollama_model:
    name: gpt-oss:120b-cloud

- name: A model that must see images
  llmops.ollama.ollama_model:
    name: gemma3:4b
    require_capabilities: [vision]

- name: Copy your own GGUF weights to the host
  ansible.builtin.copy:
    src: files/my-model.gguf
    dest: /var/lib/llmops-ollama/import/my-model.gguf
    mode: "0644"

- name: Import them as a model (uploaded only when the server lacks the blob; re-created only when they change)
  llmops.ollama.ollama_model:
    name: my-model:v1
    files:
      - path: /var/lib/llmops-ollama/import/my-model.gguf
        name: model.gguf
    system: You answer briefly.

- name: Remove a model
  llmops.ollama.ollama_model:
    name: qwen2.5:0.5b
    state: absent
"""

RETURN = r"""
model:
  description:
    - The model record after the task, when O(name) named one model. The same fields as the elements of RV(models).
  returned: when one model was named
  type: dict
  sample:
    name: llama3.2:1b
    id: baf6a787fdff
    status: stopped
    changed: true
    actions: [pulled]
models:
  description: One record per model, in the order of O(name) (duplicates after normalisation removed).
  returned: always
  type: list
  elements: dict
  contains:
    name:
      description: Canonical display name, always with its tag.
      type: str
      sample: llama3.2:1b
    id:
      description: The first 12 hex characters of the digest.
      type: str
      sample: baf6a787fdff
    digest:
      description: The manifest digest (bare hex) from C(/api/tags); empty when the model is not on the server.
      type: str
    size:
      description: Size in human form (decimal units, as Ollama prints it).
      type: str
      sample: 1.3 GB
    size_bytes:
      description: Size in bytes.
      type: int
      sample: 1321098329
    from:
      description:
        - C(official) (registry.ollama.ai/library), C(remote) (another registry or namespace), C(custom) (made by C(/api/create))
          or C(cloud) (run on a remote host; see RV(models[].remote_host)).
      type: str
      sample: official
    status:
      description:
        - C(running) (in C(/api/ps)), C(stopped) (present, not loaded), C(downloading), C(queued), C(paused), C(failed)
          (from the ledger) or C(unavailable) (not on the server).
        - C(failed) also applies to a model on the server whose last operation (an update, a load) failed, until a later operation
          on it succeeds or the server's copy of it changes; RV(models[].message) says why.
      type: str
      sample: running
    message:
      description: The message of the last operation, from the ledger.
      type: str
    progress:
      description: Progress of a pull in flight or stopped (completed, total, percent, speed, speed_human, eta, eta_human).
      type: dict
    log_file:
      description: The model's JSON-lines operation log in the ledger.
      type: str
    log_file_exists:
      description: Whether that log exists.
      type: bool
    created_at:
      description: C(modified_at) of C(/api/tags) (Ollama keeps no other date).
      type: str
    modified_at:
      description: When the model was last pulled or created, as the server reports it.
      type: str
    capabilities:
      description: What the model can do, as C(/api/tags) reports it (C(completion), C(tools), C(insert), C(vision), C(embedding), C(thinking)).
      type: list
      elements: str
      sample: [completion, tools]
    remote_host:
      description: For a cloud model, the host it runs on (C(remote_host) of C(/api/tags)); empty otherwise.
      type: str
      sample: https://ollama.com:443
    remote_model:
      description: For a cloud model, its name on that host; empty otherwise.
      type: str
      sample: gpt-oss:120b
    details:
      description: Format, family, parameter size and quantization level.
      type: dict
    loaded:
      description: When loaded, C(size), C(size_vram), C(expires_at) and C(context_length) from C(/api/ps); else null.
      type: dict
    changed:
      description: Whether this model changed.
      type: bool
    failed:
      description: Whether this model failed.
      type: bool
    msg:
      description: Why it failed; empty when it did not.
      type: str
    actions:
      description: What was done to it, among C(pulled), C(re-pulled), C(updated), C(created), C(re-created), C(loaded), C(unloaded), C(deleted).
      type: list
      elements: str
    differences:
      description: For a custom model, the definition fields that differed and made it be re-created.
      type: list
      elements: str
    pull:
      description: Statistics of its pull or create (bytes, bytes_human, total, seconds, speed, speed_human, attempts); null when none ran.
      type: dict
    cleanup_candidates:
      description: When the disk was short, the largest models that are not loaded (name, size, size_bytes).
      type: list
      elements: dict
    space:
      description: The free-space check before a pull (needed, present, total, free, min_free_space; bytes).
      type: dict
actions:
  description: Everything done, as C(<action> <model>).
  returned: always
  type: list
  elements: str
  sample: ["pulled llama3.2:1b", "loaded llama3.2:1b"]
pull:
  description: Pull statistics over all models of the task (models, bytes, bytes_human, total, seconds, speed, speed_human, attempts).
  returned: always
  type: dict
  sample: {models: 1, bytes: 1321098329, bytes_human: 1.3 GB, seconds: 41.2, speed: 32065493, speed_human: 32.1 MB/s, attempts: 1}
plan:
  description:
    - The plan of each model that had something to do (in check mode, what a real run would do), in order; each has C(name), C(before),
      C(after), C(refusal), C(failed) and C(steps) (C(kind), C(target), C(reason), and C(source), C(verb) where they apply).
    - A pull through O(mirror) is a C(pull) whose C(source) is the mirror name, a C(copy) to the model's own name and a C(delete) of the mirror name.
  returned: always
  type: list
  elements: dict
  sample:
    - name: llama3.2:1b
      steps:
        - {kind: check_space, target: "llama3.2:1b", reason: a pull must fit on the models disk}
        - {kind: pull, target: "llama3.2:1b", source: "mirror.example:8443/library/llama3.2:1b", verb: pulled, transfer: true, reason: not on the server}
        - {kind: copy, target: "llama3.2:1b", source: "mirror.example:8443/library/llama3.2:1b", reason: give the model pulled from the mirror its own name}
        - {kind: delete, target: "mirror.example:8443/library/llama3.2:1b", reason: the mirror-named model is not needed}
diff:
  description: Before and after, keyed by model name (C(state), C(digest), and for a custom model the fields that differ).
  returned: when diff mode is on
  type: dict
  sample: {before: {"llama3.2:1b": {state: absent}}, after: {"llama3.2:1b": {state: present, digest: baf6a7...}}}
"""

from ansible_collections.llmops.ollama.plugins.module_utils.model.model_module import argument_spec, run_module  # noqa: F401 (argument_spec: read by the tests)  # pylint: disable=unused-import


def main() -> None:
    run_module()


if __name__ == "__main__":
    main()
