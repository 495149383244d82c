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
  probe:
    description:
      - V(version) reads C(/api/version) only, for RV(health).
      - V(inference) also makes a one-token generate (C(num_predict=1)) on O(probe_model), or an embed when that model only
        embeds (decided by the C(capabilities) the server reports, else by the model family), after the sync. RV(health.healthy)
        is true only when it answers within O(probe_timeout); this catches a server whose API answers while its runners hang.
        The same probe as O(llmops.ollama.ollama_info#module:probe=inference); its outcome is RV(health.inference).
      - The probe loads the model when it is not loaded yet; that load counts into the latency and the timeout.
    type: str
    choices: [version, inference]
    default: version
  probe_model:
    description:
      - The model the inference probe asks. Defaults to the smallest local model on the server.
      - With O(probe=inference), a server without any model is not healthy.
    type: str
  probe_timeout:
    description:
      - Seconds the inference probe may take in all, loading the model included.
    type: float
    default: 60
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
      model's own name and a C(delete) of the mirror name).
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

import os

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.llmops.ollama.plugins.module_utils.core.client import (
    OllamaError,
    OllamaModule,
    connection_argument_spec,
)
from ansible_collections.llmops.ollama.plugins.module_utils.core.files import atomic_write
from ansible_collections.llmops.ollama.plugins.module_utils.model.health_facts import read_health, unread_health
from ansible_collections.llmops.ollama.plugins.module_utils.model.ledger import unusable_message, unwritable_reason
from ansible_collections.llmops.ollama.plugins.module_utils.model.runner import (
    check_transfer_params,
    manager_from_module,
    mirror_from_params,
    summary,
    transfer_argument_spec,
)
from ansible_collections.llmops.ollama.plugins.module_utils.model.spec import InvalidSpec
from ansible_collections.llmops.ollama.plugins.module_utils.model.sync import (
    LOCK_MODES,
    MAX_CONCURRENCY,
    Sync,
    SyncError,
    check_protect,
    failure_text,
    parse_lock,
    parse_models,
    read_lock,
    render_lock,
    table_text,
)


def argument_spec() -> dict:
    spec = connection_argument_spec()
    spec.update(
        models={"type": "list", "elements": "raw", "required": True},
        exclusive={"type": "bool", "default": False},
        protect={"type": "list", "elements": "str", "default": []},
        concurrency={"type": "int", "default": 3},
        fail_fast={"type": "bool", "default": False},
        lock_file={"type": "path"},
        lock_content={"type": "str"},
        lock_mode={"type": "str", "default": "write", "choices": list(LOCK_MODES)},
        disk_path={"type": "path"},
        transfers={"type": "bool", "default": True},
        probe={"type": "str", "choices": ["version", "inference"], "default": "version"},
        probe_model={"type": "str"},
        probe_timeout={"type": "float", "default": 60},
    )
    spec.update(transfer_argument_spec())
    return spec


def check_params(params: dict) -> dict:
    """Everything that can be checked before a request; returns what was parsed. Raises SyncError."""
    if not 1 <= params["concurrency"] <= MAX_CONCURRENCY:
        raise SyncError("concurrency must be from 1 to %d, got %d" % (MAX_CONCURRENCY, params["concurrency"]))
    content = params.get("lock_content")
    if content is not None and params["lock_mode"] != "read":
        raise SyncError("lock_content is only read, with lock_mode: read; to write a lock file, name it with lock_file")
    if content is not None and params.get("lock_file"):
        raise SyncError("give lock_file (a file on the host) or lock_content (its text), not both")
    if params["lock_mode"] == "read" and not params.get("lock_file") and content is None:
        raise SyncError("lock_mode is read but no lock_file is given: name the lock file to pin the models from (or give its text as lock_content)")
    if params["probe_timeout"] <= 0:
        raise SyncError("probe_timeout must be more than 0 seconds (got %s)" % params["probe_timeout"])
    if params["probe_model"] is not None and not params["probe_model"].strip():
        raise SyncError("probe_model must name a model (got an empty string); leave it out to probe the smallest model")
    try:
        parsed = {"min_free_space": check_transfer_params(params), "mirror": mirror_from_params(params)}
    except InvalidSpec as exc:
        raise SyncError(str(exc)) from None
    parsed["protect"] = check_protect(params["protect"])
    lock = None
    if params["lock_mode"] == "read":
        lock = parse_lock(content, "given as lock_content") if content is not None else read_lock(params["lock_file"])
    source = params.get("lock_file") or ("given as lock_content" if content is not None else "")
    parsed["declared"], parsed["warnings"] = parse_models(params["models"], lock, source, parsed["mirror"])
    if params["exclusive"] and not parsed["declared"]:
        raise SyncError(
            "exclusive with an empty models list would remove every model from the server; declare the models to keep "
            "(a missing inventory variable is the usual cause), or remove models with llmops.ollama.ollama_model state: absent"
        )
    return parsed


def write_lock(module: AnsibleModule, path: str, text: str) -> bool:
    """Write the lock file when its content differs (not in check mode); whether it (would have) changed."""
    try:
        with open(path, "rb") as handle:
            current = handle.read().decode("utf-8", "replace")
    except FileNotFoundError:
        current = None
    except OSError as exc:
        module.warn("the lock file %s cannot be read (%s); it is written again" % (path, exc))
        current = None
    if current == text:
        return False
    if module.check_mode:
        return True
    directory = os.path.dirname(path) or "."
    if not os.path.isdir(directory):
        raise OSError("the directory %s of lock_file does not exist" % directory)
    atomic_write(path, text.encode("utf-8"), 0o644)
    return True


def main() -> None:
    module: AnsibleModule = OllamaModule(argument_spec=argument_spec(), supports_check_mode=True)
    params = module.params
    try:
        parsed = check_params(params)
    except SyncError as exc:
        module.fail_json(msg=str(exc))
    for warning in parsed["warnings"]:
        module.warn(warning)
    manager = manager_from_module(
        module, parsed["min_free_space"], params["max_concurrent_pulls"], check_memory=any(d.spec.check_memory for d in parsed["declared"])
    )
    client, ledger = manager.client, manager.ledger
    if not params["transfers"]:
        # the run that leaves transfers to a watched second run needs the ledger that the watching reads: refuse before any request
        reason = unwritable_reason(params["state_dir"]) if module.check_mode else ""
        unusable = ledger.error or (unusable_message(params["state_dir"], reason) if reason else "")
        if unusable:
            module.fail_json(msg="transfers is false, and the run after this one needs its ledger: %s" % unusable, ledger_error=unusable, changed=False)
    sync = Sync(
        manager,
        ledger,
        parsed["declared"],
        exclusive=params["exclusive"],
        protect=parsed["protect"],
        concurrency=params["concurrency"],
        host_limit=params["max_concurrent_pulls"],
        fail_fast=params["fail_fast"],
        transfers=params["transfers"],
    )
    try:
        outcome = sync.run()
    except OllamaError as exc:
        unread = unread_health(client, str(exc), params["disk_path"] or manager.models_path)
        module.fail_json(msg="cannot read the models on the Ollama server: %s" % exc, api_url=client.api_url, health=unread)

    results = [item.result for item in sync.items if item.result is not None]
    output = {
        "changed": outcome["changed"],
        "results": outcome["results"],
        "summary": outcome["summary"],
        "plan": outcome["plan"],
        "lock": outcome["lock"],
        "protected": outcome["protected"],
        "interrupted": outcome["interrupted"],
        "unavailable": outcome["unavailable"],
        "pull": summary(results),
        "seconds": outcome["seconds"],
        "ledger_error": ledger.error,
        "pending": outcome["pending"],
        "health": read_health(
            client, manager.state, params["disk_path"] or manager.models_path, params["probe"], params["probe_model"], params["probe_timeout"]
        ),
    }
    if module.check_mode and not ledger.error:
        reason = unwritable_reason(params["state_dir"])
        if reason:
            output["ledger_error"] = unusable_message(params["state_dir"], reason)
            module.warn("a real run could not use its ledger: " + output["ledger_error"])
    message = failure_text(outcome["failures"], outcome["skipped"], len(sync.items))
    if params["lock_file"]:
        output["lock_file_changed"] = False
        if params["lock_mode"] == "write" and not outcome["pending"]:  # written by the run that does the transfers
            if message:
                module.warn("the lock file %s was not written: not every model could be brought to its state" % params["lock_file"])
            elif manager.reread_error:
                module.warn("the lock file %s was not written: the models could not be read after the changes" % params["lock_file"])
            elif outcome["lock_errors"]:
                module.fail_json(
                    msg="the lock file %s was not written (it keeps what it held): %s" % (params["lock_file"], "; ".join(outcome["lock_errors"])), **output
                )
            else:
                try:
                    output["lock_file_changed"] = write_lock(module, params["lock_file"], render_lock(outcome["lock"]))
                except OSError as exc:
                    module.fail_json(msg="cannot write the lock file %s: %s" % (params["lock_file"], exc), **output)
                output["changed"] = output["changed"] or output["lock_file_changed"]
    if module._diff:
        output["diff"] = {"before": table_text(outcome["before"]), "after": table_text(outcome["after"])}
    if not module.check_mode and not outcome["pending"]:  # the run that does the transfers appends the history entry
        ledger.append_history(
            {
                "kind": "sync",
                "summary": outcome["summary"],
                "changed": output["changed"],
                "failed": [item.spec.name.display for item in outcome["failures"]],
                "models": len(parsed["declared"]),
                "exclusive": params["exclusive"],
                "seconds": outcome["seconds"],
                "bytes": output["pull"]["bytes"],
                "interrupted": [entry["name"] for entry in outcome["interrupted"]],
            }
        )
    if message:
        module.fail_json(msg=message, **output)
    module.exit_json(**output)


if __name__ == "__main__":
    main()
