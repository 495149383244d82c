#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, llmops.ollama contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: ollama_model_info
short_description: Search the models of an Ollama server, with their live status and detail
version_added: 0.1.0
description:
  - Returns model records for the models on an Ollama server (C(GET /api/tags), C(GET /api/ps)), joined with the host's ledger
    (O(state_dir)) that knows what the API does not, such as a pull in flight with its progress, or a pull that failed or paused.
  - Filters (all combined with AND), sorting and paging select what is returned.
  - With O(name) and O(detail=true) it adds the C(/api/show) detail of that model.
  - It only reads; it never changes anything.
author:
  - llmops.ollama maintainers (@llmops)
extends_documentation_fragment:
  - llmops.ollama._connection
  - llmops.ollama._attributes
  - llmops.ollama._attributes.INFO_MODULE
  - llmops.ollama._attributes.ACTIONGROUP_OLLAMA
options:
  name:
    description:
      - Return only this model (normalised, so V(llama3.2) means V(llama3.2:latest)), also when it is not on the server
        (status C(unavailable), or what the ledger says).
    type: str
  detail:
    description:
      - With O(name), add the model's C(/api/show) detail as RV(model.detail) (modelfile, parameters, template, system,
        license, messages, capabilities, details and a model_info summary).
    type: bool
    default: false
  query:
    description:
      - Keep the models whose name contains this text, case-insensitive.
      - When it holds C(*), C(?) or C([), it is a glob that must match the whole display name (V(llama*), V(*:1b)).
    type: str
  status:
    description:
      - Keep the models with one of these statuses.
    type: list
    elements: str
    choices: [running, stopped, downloading, queued, paused, failed, unavailable]
  source:
    description:
      - Keep the models from one of these sources. C(official) is registry.ollama.ai/library, C(remote) any other registry
        or namespace (hf.co, a private registry), C(custom) a model made by C(/api/create), C(cloud) a cloud model
        (it runs on a remote host such as ollama.com, and C(/api/tags) names its C(remote_host) and C(remote_model)).
    type: list
    elements: str
    choices: [official, remote, custom, cloud]
  capability:
    description:
      - Keep the models that have all of these capabilities, as the server reports them (C(capabilities) of C(/api/tags),
        or of C(/api/show) for a server whose C(/api/tags) does not list them).
    type: list
    elements: str
    choices: [completion, tools, insert, vision, embedding, thinking]
  min_size:
    description:
      - Keep the models at least this large, as bytes or a size with a unit (V(500 MB), V(1.5G), V(2 GiB)).
    type: raw
  max_size:
    description:
      - Keep the models at most this large, as bytes or a size with a unit.
    type: raw
  sort_by:
    description:
      - Sort by name, size, modification time, or status (in the order running, stopped, downloading, queued, paused, failed, unavailable).
      - Ties are sorted by name.
    type: str
    choices: [name, size, modified_at, status]
    default: name
  sort_desc:
    description:
      - Sort in descending order.
    type: bool
    default: false
  page:
    description:
      - The page to return, from 1.
    type: int
    default: 1
  page_size:
    description:
      - Models per page; V(0) returns all of them on page 1.
    type: int
    default: 0
  declared:
    description:
      - Models that should be on the server (for example the inventory's list). Those that are not are reported with status C(unavailable)
        (or the ledger's status, such as C(downloading)).
    type: list
    elements: str
  history:
    description:
      - Also return the last this many runs of M(llmops.ollama.ollama_model_sync) on this host as RV(history), newest first. V(0) returns none.
    type: int
    default: 0
  state_dir:
    description:
      - The ledger directory on this host (see M(llmops.ollama.ollama_model)). A missing directory is an empty ledger.
    type: path
    default: /var/lib/llmops-ollama
notes:
  - It sends C(GET /api/tags) and C(GET /api/ps) once, and C(POST /api/show) (read-only) only for O(detail=true), or with
    O(capability) for a model whose C(/api/tags) entry lists no capabilities.
seealso:
  - module: llmops.ollama.ollama_model
  - module: llmops.ollama.ollama_info
"""

EXAMPLES = r"""
- name: All models, by name
  llmops.ollama.ollama_model_info:
  register: all_models

- name: The five largest models that are not loaded
  llmops.ollama.ollama_model_info:
    status: [stopped]
    sort_by: size
    sort_desc: true
    page_size: 5

- name: Official models between 500 MB and 5 GB whose name starts with llama
  llmops.ollama.ollama_model_info:
    query: llama*
    source: [official]
    min_size: 500 MB
    max_size: 5 GB

- name: Which declared models are missing
  llmops.ollama.ollama_model_info:
    declared: "{{ ollama_models | map(attribute='name') | list }}"
    status: [unavailable, failed, paused]
  register: missing

- name: The detail of one model
  llmops.ollama.ollama_model_info:
    name: llama3.2:1b
    detail: true
  register: one

- name: Show its context length and capabilities
  ansible.builtin.debug:
    msg: "{{ one.model.detail.model_info.context_length }} / {{ one.model.detail.capabilities }}"

- name: The last five syncs of this host, with their counts
  llmops.ollama.ollama_model_info:
    history: 5
    page_size: 1
  register: syncs

# Before the pull starts, the model reads unavailable (queued while it waits for a pull slot):
# poll until it is stopped or running (done), or failed or paused (not done)
- name: Poll a pull started with async
  llmops.ollama.ollama_model_info:
    name: llama3.2:latest
  register: progress
  until: progress.model.status not in ['downloading', 'queued', 'unavailable']
  retries: 360
  delay: 10

- name: The models that can see images and call tools
  llmops.ollama.ollama_model_info:
    capability: [vision, tools]
  register: vision_tools

- name: Models whose last operation failed (a pull, an update or a load), with the reason
  llmops.ollama.ollama_model_info:
    status: [failed]
  register: failures
"""

RETURN = r"""
models:
  description:
    - The model records of the selected page. See RV(llmops.ollama.ollama_model#module:models) for the fields;
      C(progress) is set while a pull is in flight.
  returned: always
  type: list
  elements: dict
  sample:
    - name: llama3.2:1b
      id: baf6a787fdff
      digest: baf6a787fdffd633537aa2eb51cfd54cb93ff08e28040095462bb63daf552878
      size: 1.3 GB
      size_bytes: 1321098329
      from: official
      status: running
      message: ""
      progress: null
      log_file: /var/lib/llmops-ollama/logs/registry.ollama.ai%2Flibrary%2Fllama3.2%3A1b.jsonl
      log_file_exists: true
      created_at: "2026-11-20T10:00:00.123456789Z"
      modified_at: "2026-11-20T10:00:00.123456789Z"
      details: {format: gguf, family: llama, parameter_size: 1.2B, quantization_level: Q8_0}
      loaded: {size: 2000000000, size_vram: 0, expires_at: "2026-11-20T10:05:00Z"}
      capabilities: [completion, tools]
      remote_host: ""
      remote_model: ""
model:
  description:
    - The record of O(name) (also when it is not on the server), with C(detail) when O(detail=true) and the model is there.
  returned: when O(name) is given
  type: dict
  contains:
    detail:
      description: The C(/api/show) detail.
      type: dict
      contains:
        modelfile:
          description: The Modelfile the server prints for the model.
          type: str
        parameters:
          description: The parameters as a dict (a repeated one, such as C(stop), is a list).
          type: dict
        parameters_text:
          description: The parameters as the server prints them.
          type: str
        template:
          description: The prompt template.
          type: str
        system:
          description: The system prompt.
          type: str
        license:
          description: The license text.
          type: str
        messages:
          description: The model's example messages.
          type: list
          elements: dict
        capabilities:
          description: What the model can do (completion, embedding, tools, vision, ...).
          type: list
          elements: str
        details:
          description: Format, family, parameter size, quantization level, parent model.
          type: dict
        model_info:
          description: A summary of C(model_info) (architecture, parameter_count, context_length, embedding_length, block_count, ...).
          type: dict
        modified_at:
          description: When the model was last changed.
          type: str
total:
  description: How many models match the filters (on all pages).
  returned: always
  type: int
  sample: 14
page:
  description: The page returned.
  returned: always
  type: int
  sample: 1
pages:
  description: How many pages there are (0 when nothing matches).
  returned: always
  type: int
  sample: 3
page_size:
  description: The page size asked for (0 = all).
  returned: always
  type: int
  sample: 5
history:
  description:
    - The last O(history) runs of M(llmops.ollama.ollama_model_sync) on this host, newest first, from the ledger. Each has time, pid, host,
      kind (C(sync)), summary (the counts added, updated, removed, loaded, unloaded, unchanged, failed, unavailable, skipped), changed,
      failed (the names of the models that failed), models (how many were declared), exclusive, seconds, bytes and interrupted
      (the models whose earlier pull was found interrupted).
  returned: when O(history) is more than 0
  type: list
  elements: dict
  sample:
    - time: "2026-11-20T10:00:00.123456+00:00"
      kind: sync
      summary: {added: 2, updated: 0, removed: 1, loaded: 0, unloaded: 0, unchanged: 5, failed: 0, unavailable: 0, skipped: 0}
      changed: true
      failed: []
      models: 7
      seconds: 42.5
"""

from ansible_collections.llmops.ollama.plugins.module_utils.model.model_info_module import argument_spec, run_module  # noqa: F401 (argument_spec: read by the tests)  # pylint: disable=unused-import


def main() -> None:
    run_module()


if __name__ == "__main__":
    main()
