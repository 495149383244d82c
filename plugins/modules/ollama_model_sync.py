#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, llmops.ollama contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: ollama_model_sync
short_description: Make the models of an Ollama server match a declared list, pulling several at once
version_added: 0.1.0
description:
  - Takes the models a host should have (typically from inventory) and makes the Ollama server match them in one task.
    Each model is handled exactly as M(llmops.ollama.ollama_model) handles it (same pulls with retries that resume, digest pins,
    custom models, loads), through the same code.
  - It reads C(GET /api/tags) and C(GET /api/ps) once; a host that already matches costs those two requests and one
    C(GET /api/version) for RV(health), and nothing else.
  - With O(probe=inference) it asks one model for one token after the sync, as M(llmops.ollama.ollama_info) does; the outcome is
    RV(health.inference), and RV(health.healthy) is true only when that answer came within O(probe_timeout).
  - Removals run first (so pulls find the space they free), then unloads, then the pulls, O(concurrency) at a time, started in order of
    C(priority) and then of declaration, then loads of present models and custom models.
  - Pulls also respect a limit per host across processes (O(max_concurrent_pulls), locks in the ledger at O(state_dir)). A second
    playbook that syncs the same host waits its turn; its models show status C(queued) with their position in
    M(llmops.ollama.ollama_model_info). The same model is never pulled by two syncs at once; the second one finds it present.
  - Every run appends its counts to the ledger's history, which M(llmops.ollama.ollama_model_info) returns
    (O(llmops.ollama.ollama_model_info#module:history)).
  - A sync that was killed (even with SIGKILL) leaves its models C(downloading) or C(queued) in the ledger with its process id. The next sync
    marks each of those whose process is gone as interrupted (status C(paused), RV(interrupted)), then pulls them again,
    which resumes (the server keeps the layers it had downloaded).
author:
  - llmops.ollama maintainers (@llmops)
extends_documentation_fragment:
  - llmops.ollama._connection
  - llmops.ollama._probe
  - llmops.ollama._transfer
  - llmops.ollama._attributes
  - llmops.ollama._attributes.ACTIONGROUP_OLLAMA
attributes:
  check_mode:
    support: full
    details:
      - No request that changes the server is sent, and nothing is written (ledger, history, lock file).
        RV(plan) lists what a real run would do, in the order it would do it, including the removals of O(exclusive=true).
      - O(probe=inference) sends its generate (or embed) in check mode too, as M(llmops.ollama.ollama_info) does.
  diff_mode:
    support: full
    details:
      - The model list of the server before and after (one line per model, C(name id state)).
  idempotent:
    support: full
options:
  models:
    description:
      - The models the server should have. Each element is a model name, or a dictionary with the keys of M(llmops.ollama.ollama_model)
        (C(name), C(state), C(digest), C(update), C(force), C(insecure), C(keep_alive), C(options), C(check_memory),
        C(require_capabilities), and for a custom model C(from), C(system), C(template), C(parameters), C(messages), C(license),
        C(quantize), C(files), C(adapters)) and C(priority).
      - A cloud model (V(gpt-oss:120b-cloud), or V(gpt-oss:120b:cloud) for the same model) is declared like any other, with
        C(state) C(present) or C(absent); V(qwen3:8b:local) is the local V(qwen3:8b). C(require_capabilities) fails an entry whose
        model lacks one of them, naming what it has.
      - An element may also set C(mirror) (a URL, or V(false) to pull that model directly), C(mirror_insecure) and C(mirror_fallback),
        which replace O(mirror), O(mirror_insecure) and O(mirror_fallback) for that model.
      - C(state) is C(present) (the default), C(loaded), C(absent) or C(unloaded), as in M(llmops.ollama.ollama_model).
      - C(priority) is C(high), C(normal) (the default) or C(low); pulls start in that order, and in declaration order within a priority.
      - A model declared twice (also as V(llama3.2) and V(llama3.2:latest)), an unknown key, a bad priority or any value that
        M(llmops.ollama.ollama_model) would refuse fails the task before any request, naming the element.
    type: list
    elements: raw
    required: true
  exclusive:
    description:
      - Remove the models on the server that are not in O(models), except those matched by O(protect) and the base models of
        declared custom models. Loaded models are unloaded first.
      - With an empty O(models) list this is refused, so that a missing inventory variable cannot empty a server.
    type: bool
    default: false
  protect:
    description:
      - Globs of model names that O(exclusive=true) never removes, such as V(llama3.2:*), V(hf.co/*) or V(*embed*).
        They match case-insensitively the display name (V(llama3.2:1b)), the full name (V(registry.ollama.ai/library/llama3.2:1b)),
        and for a C(latest) tag the name without it.
      - A glob with white space, a character that cannot be in a model name, or an unbalanced C([) fails before any request.
    type: list
    elements: str
    default: []
  concurrency:
    description:
      - How many pulls run at once within this task, from 1 to 16.
    type: int
    default: 3
  fail_fast:
    description:
      - V(false) lets the other models go on when one fails; the task fails at the end with a message that names each failed model and why.
      - V(true) starts no new pull (nor any other change) once a model has failed; pulls already running finish. The models not started
        have the action C(skipped).
    type: bool
    default: false
  lock_file:
    description:
      - A YAML file on the host where the module runs with the name, digest and size of each declared model (the RV(lock)).
        It is read without PyYAML, so it must keep the layout the module writes (comments may be added); JSON with the same keys works too.
      - See O(lock_mode) for whether it is written or read.
    type: path
  lock_content:
    description:
      - The text of a lock file, as O(lock_file) holds it, to pin the models from with O(lock_mode=read) instead of reading a file on the host.
      - For a lock file kept on the controller, for example C("{{ lookup('ansible.builtin.file', 'files/models.lock.yml') }}"); the
        M(llmops.ollama.ollama_models) role does this with C(ollama_models_lock_controller_file).
      - Only with O(lock_mode=read), and not together with O(lock_file).
    type: str
  lock_content_source:
    description:
      - Where O(lock_content) was read from (for example the path of the lock file on the controller), named in every message about
        the lock instead of C(given as lock_content).
    type: str
  lock_mode:
    description:
      - V(write) writes RV(lock) to O(lock_file) after a run where no model failed, when its content changed (the task then reports a change).
      - V(read) reads O(lock_file) before any request and pins every model to be present to the digest it lists, as the C(digest) key of a
        model would; a model with another digest is pulled again, and fails (leaving the present one in place) when the registry no longer
        serves the pinned digest. A declared model missing from the lock file, or pinned to another digest by its own C(digest), fails the
        task before any request. This is how a fleet serves identical bytes. Custom models are pinned but never updated.
    type: str
    choices: [write, read]
    default: write
  disk_path:
    description:
      - A path on the managed host whose filesystem's free and total space is returned in RV(health.disk), as
        M(llmops.ollama.ollama_info) returns it for its O(llmops.ollama.ollama_info#module:disk_path).
      - Defaults to O(models_path), or to the Ollama models directory when the server runs on this host; nothing is
        measured when neither is known.
    type: path
  transfers:
    description:
      - V(false) applies only what moves no model bytes (removals, unloads, loads, copies, custom models whose base is present) and
        leaves pending the models whose plan has a transfer (a pull, a custom model whose base Ollama pulls) and the custom models
        built on one of them; RV(pending) lists them and their action is C(pending). A second run with V(true) does them, for example
        in the background with M(llmops.ollama.ollama_model_info) watching its progress; the P(llmops.ollama.ollama_models#role) role
        does that, so a host that already matches costs it one module call.
      - With V(false) the task fails before any request when the ledger in O(state_dir) cannot be used (the second run's progress
        and pull queue live there), and while a model is pending it neither appends to the history nor writes O(lock_file).
      - In check mode it has no effect; the plan covers every model.
    type: bool
    default: true
notes:
  - Run it with C(async) and poll M(llmops.ollama.ollama_model_info) to show live progress of long pulls (percent, bytes, speed, ETA);
    the P(llmops.ollama.ollama_models#role) role does that.
  - Counts in RV(summary) are per model; a model pulled and loaded counts in C(added) and in C(loaded).
seealso:
  - module: llmops.ollama.ollama_model
  - module: llmops.ollama.ollama_model_info
"""

EXAMPLES = r"""
- name: Every host of the fleet pulls through the mirror (filled once by llmops.ollama.ollama_mirror, served by llmops.ollama.ollama_domain)
  llmops.ollama.ollama_model_sync:
    mirror: https://mirror.example:8443
    models:
      - llama3.2:1b
      - name: hf.co/bartowski/Llama-3.2-1B-Instruct-GGUF:Q4_K_M
        mirror_fallback: true

- name: The models of this host, as declared in inventory
  llmops.ollama.ollama_model_sync:
    models:
      - llama3.2:1b
      - name: nomic-embed-text
        priority: high
      - name: qwen2.5:7b
        priority: low
      - name: llama3.2:1b
        state: loaded
        keep_alive: -1
      - name: support-bot
        from: llama3.2:1b
        system: You answer questions about our product, briefly.

- name: Exactly these models, keeping any embedding model
  llmops.ollama.ollama_model_sync:
    models: "{{ ollama_models }}"
    exclusive: true
    protect: ["*embed*"]
    concurrency: 4
  register: sync

- name: Show the counts
  ansible.builtin.debug:
    msg: "{{ sync.summary }}"

- name: What would change (removals included)
  llmops.ollama.ollama_model_sync:
    models: "{{ ollama_models }}"
    exclusive: true
  check_mode: true
  register: plan

- name: Record the digests on the reference host
  llmops.ollama.ollama_model_sync:
    models: "{{ ollama_models }}"
    lock_file: /etc/llmops-ollama/models.lock.yml
  when: inventory_hostname == groups['ollama_servers'][0]

- name: Serve the same bytes everywhere else
  llmops.ollama.ollama_model_sync:
    models: "{{ ollama_models }}"
    lock_file: /etc/llmops-ollama/models.lock.yml
    lock_mode: read
"""

RETURN = r"""
results:
  description: One entry per declared model, in declaration order, then the models O(exclusive) removed or would remove.
  returned: always
  type: list
  elements: dict
  contains:
    name:
      description: Canonical display name, with its tag.
      type: str
      sample: llama3.2:1b
    action:
      description:
        - What happened to the model, C(pulled), C(created) (a custom model), C(updated) (a new digest, or re-created), C(removed),
          C(loaded), C(unloaded), C(unchanged), C(failed), C(skipped) (not started because of O(fail_fast)), or C(pending)
          (its transfer is left to a run with O(transfers=true)).
        - A model pulled and loaded has the action C(pulled); RV(results[].actions) lists every step.
      type: str
      sample: pulled
    actions:
      description: Every step done to the model, as in M(llmops.ollama.ollama_model) (pulled, updated, created, re-created, loaded, unloaded, deleted, ...).
      type: list
      elements: str
    status:
      description:
        - The model's status after the task (C(running), C(stopped), C(unavailable)), or C(failed), C(paused) or C(skipped).
      type: str
      sample: stopped
    message:
      description: Why it failed, or what was done, with notes (a resumed interrupted pull, a model another process pulled meanwhile).
      type: str
    bytes:
      description: Bytes this task downloaded for the model (0 when nothing was pulled).
      type: int
    seconds:
      description: Seconds its pull or create took.
      type: float
    priority:
      description: Its priority.
      type: str
    declared:
      description: False for a model that is not declared and that O(exclusive) removed.
      type: bool
    changed:
      description: Whether the model changed.
      type: bool
    failed:
      description: Whether the model failed.
      type: bool
    digest:
      description: Its digest (bare hex) after the task (predicted in check mode when the registry manifest was read).
      type: str
    size:
      description: Its size in human form.
      type: str
    size_bytes:
      description: Its size in bytes.
      type: int
    mirror:
      description:
        - The three steps of a pull through O(mirror), present when one ran - the pull of the mirror name from the mirror
          (C(pulled), with the C(bytes) the server downloaded), the copy to the model's own name (C(copied)) and the removal
          of the mirror name (C(removed)).
      type: dict
      returned: when the model was pulled through a mirror
      contains:
        mirror:
          description: The mirror (O(mirror)).
          type: str
          sample: https://mirror.example.com
        source:
          description: The mirror name the server pulled.
          type: str
          sample: mirror.example.com/library/llama3.2:1b
        bytes:
          description: Bytes the server downloaded from the mirror.
          type: int
        pulled:
          description: Whether the pull from the mirror succeeded.
          type: bool
        copied:
          description: Whether the model was copied to its own name.
          type: bool
        removed:
          description: Whether the mirror name is gone from the server.
          type: bool
        previous_removed:
          description:
            - An update only - whether the layers that only the previous version used were removed. A copy onto the model's name
              leaves them behind (Ollama prunes unused layers at start-up, keeping those changed within the last hour), so the
              update keeps the previous version under a second name (C(<tag>-llmops-prev)) and deletes that name afterwards,
              which makes the server remove them. False when that name could not be made or deleted (a warning says so).
          type: bool
          returned: when an update went through the mirror
summary:
  description:
    - Counts of the run, by model. C(added) pulled or created, C(updated), C(removed), C(loaded) (also models pulled then loaded),
      C(unloaded), C(unchanged), C(failed), C(skipped) (O(fail_fast)), and C(unavailable) (RV(unavailable)).
  returned: always
  type: dict
  sample: {added: 2, updated: 0, removed: 1, loaded: 1, unloaded: 0, unchanged: 5, failed: 0, unavailable: 0, skipped: 0}
plan:
  description:
    - The changes, in the order they run (or would run in check mode), removals first and pulls by priority. Each has name, action,
      actions, phase (remove, unload, pull, other), priority, declared, message and steps (the model's plan, each with C(kind), C(target),
      C(reason), and C(source), C(verb) where they apply; a pull through O(mirror) is a C(pull) from the mirror name, a C(copy) to the
      model's own name and a C(delete) of the mirror name; an update through it also has a C(copy) of the previous version to a
      second name first and a C(delete) of that name last, which removes the layers only that version used).
  returned: always
  type: list
  elements: dict
  sample: [{name: old-model:latest, action: removed, actions: [deleted], phase: remove, priority: normal, declared: false, message: deleted}]
lock:
  description: The name, digest (C(sha256:<hex>)) and size in bytes of each declared model that is (or will be) present, sorted by name.
  returned: always
  type: list
  elements: dict
  sample: [{name: llama3.2:1b, digest: "sha256:baf6a787fdffd633537aa2eb51cfd54cb93ff08e28040095462bb63daf552878", size: 1321098329}]
lock_file_changed:
  description: Whether O(lock_file) was (or, in check mode, would be) written.
  returned: when O(lock_file) is set
  type: bool
protected:
  description: Models that O(exclusive) kept although they are not declared, with the reason (the glob, or the custom model built on it).
  returned: always
  type: list
  elements: dict
interrupted:
  description:
    - Pulls of earlier runs whose process was gone (killed), now marked interrupted in the ledger (name, pid, operation, status, started_at,
      completed, total). Those still declared were resumed by this run.
  returned: always
  type: list
  elements: dict
unavailable:
  description:
    - Models that should be on the server and are not after the task, declared ones that failed or were skipped, and models the ledger
      recorded as present that the server no longer has.
  returned: always
  type: list
  elements: str
pull:
  description: Pull statistics over all models (models, bytes, bytes_human, total, seconds, speed, speed_human, attempts).
  returned: always
  type: dict
seconds:
  description: How long the sync took.
  returned: always
  type: float
ledger_error:
  description:
    - Why the ledger in O(state_dir) cannot be used (the warning of the run), or an empty string when it can.
    - In check mode, whether a real run could create and write it (checked without writing anything).
  returned: always
  type: str
  sample: ""
pending:
  description:
    - With O(transfers=false), the models left for a run with transfers (see O(transfers)); empty when there is none.
  returned: always
  type: list
  elements: str
  sample: [llama3.2:1b]
health:
  description:
    - The server's health and facts after the task, with the keys and meaning of what M(llmops.ollama.ollama_info) returns,
      so that a health report needs no second module call.
    - Built from the C(GET /api/tags) and C(GET /api/ps) the sync reads anyway, one C(GET /api/version) and the free space of
      O(disk_path). RV(health.healthy) is false with RV(health.reason) when the version cannot be read.
  returned: always
  type: dict
  contains:
    api_url:
      description: The API URL that was asked.
      type: str
      sample: http://127.0.0.1:11434
    healthy:
      description: Whether the server answered.
      type: bool
      sample: true
    reason:
      description: Why it is not healthy; empty when it is.
      type: str
      sample: ""
    version:
      description: The server's version (C(GET /api/version)).
      type: str
      sample: 0.12.6
    models:
      description: The names of the models on the server, sorted.
      type: list
      elements: str
      sample: [llama3.2:1b]
    models_count:
      description: How many models the server holds.
      type: int
      sample: 1
    models_total_size:
      description: Their total size in bytes.
      type: int
      sample: 1321098329
    models_total_size_human:
      description: The same in human form.
      type: str
      sample: 1.3 GB
    loaded:
      description:
        - The models loaded in memory, as M(llmops.ollama.ollama_info) returns them (name, model, size, size_vram, digest,
          expires_at, context_length, details, gpu_percent).
      type: list
      elements: dict
      sample: [{name: llama3.2:1b, model: llama3.2:1b, size: 2019393189, size_vram: 0, expires_at: "2026-11-22T10:15:00Z", gpu_percent: 0.0}]
    loaded_count:
      description: How many models are loaded.
      type: int
      sample: 1
    disk:
      description:
        - The space of the filesystem that holds O(disk_path) (path, free, free_human, total, total_human, error); null when no
          path is known. When the path cannot be read, C(free) is null and C(error) says why.
      type: dict
      sample: {path: /var/lib/ollama/models, free: 75940012032, free_human: 75.9 GB, total: 105089261568, total_human: 105.1 GB, error: ""}
    inference:
      description:
        - The result of the inference probe (O(probe=inference)), with the keys of RV(llmops.ollama.ollama_info#module:inference)
          (healthy, reason, model, kind, latency, load_duration, timeout); null with O(probe=version) or when the server did not answer.
      type: dict
diff:
  description: The model list before and after, one line per model (C(name id state)).
  returned: when diff mode is on
  type: dict
"""

from ansible_collections.llmops.ollama.plugins.module_utils.model.sync_module import argument_spec, run_module  # noqa: F401 (argument_spec: read by the tests)  # pylint: disable=unused-import


def main() -> None:
    run_module()


if __name__ == "__main__":
    main()
