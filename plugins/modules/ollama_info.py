#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, llmops.ollama contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: ollama_info
short_description: Health and facts of one Ollama server
version_added: 0.1.0
description:
  - Asks an Ollama server whether it is running and returns its version, how many models it holds and their total size,
    and the models loaded in memory.
  - A server that does not answer is not an error by default; the module returns RV(healthy=false) and the RV(reason).
  - With O(wait=true) it polls until the server answers or O(wait_timeout) passes, and fails after that.
    The P(llmops.ollama.ollama_server#role) role uses this as its health probe.
author:
  - llmops.ollama maintainers (@llmops)
extends_documentation_fragment:
  - llmops.ollama._connection
  - llmops.ollama._attributes
  - llmops.ollama._attributes.INFO_MODULE
  - llmops.ollama._attributes.ACTIONGROUP_OLLAMA
options:
  wait:
    description:
      - Poll until the server is healthy, and fail if it is not within O(wait_timeout) seconds.
    type: bool
    default: false
  wait_timeout:
    description:
      - Seconds to wait for a healthy server when O(wait=true).
      - While waiting, each request waits at most O(timeout) and never past O(wait_timeout), so a server that accepts
        connections but never answers cannot hold the module longer.
    type: int
    default: 60
  wait_interval:
    description:
      - Seconds between two probes when O(wait=true).
    type: float
    default: 1
  disk_path:
    description:
      - A path on the managed host, usually where the models live; the free and total space of its filesystem is returned
        as RV(disk). Nothing is measured when it is not set.
      - This saves a separate C(df) task per host in health reports.
    type: path
notes:
  - Only read requests are sent (C(GET /), C(/api/version), C(/api/tags), C(/api/ps)), so check mode runs it as usual.
seealso:
  - name: Ollama API
    description: The endpoints this module reads.
    link: https://github.com/ollama/ollama/blob/main/docs/api.md
"""

EXAMPLES = r"""
- name: Read the health and facts of the local Ollama server
  llmops.ollama.ollama_info:
  register: ollama

- name: Show what is loaded
  ansible.builtin.debug:
    msg: "{{ ollama.version }}: {{ ollama.models_count }} models, {{ ollama.loaded | map(attribute='name') | list }} loaded"
  when: ollama.healthy

- name: Wait up to two minutes for a freshly started server (a health probe)
  llmops.ollama.ollama_info:
    api_url: http://127.0.0.1:11434
    wait: true
    wait_timeout: 120

- name: Report the free space where the models live too
  llmops.ollama.ollama_info:
    disk_path: /var/lib/docker/volumes/ollama
  register: ollama

- name: Ask a server behind the collection's TLS proxy, with an API key
  llmops.ollama.ollama_info:
    api_url: https://ollama.example.com
    api_key: "{{ vault_ollama_api_key }}"

- name: Set the connection once for every module of the collection
  module_defaults:
    group/llmops.ollama.ollama:
      api_url: http://127.0.0.1:11434
  block:
    - name: Probe the server
      llmops.ollama.ollama_info:
"""

RETURN = r"""
api_url:
  description: The API base URL that was asked.
  returned: always
  type: str
  sample: http://127.0.0.1:11434
healthy:
  description: Whether the server answered C(GET /) and the API reads.
  returned: always
  type: bool
  sample: true
reason:
  description: Why the server is not healthy; empty when it is.
  returned: always
  type: str
  sample: "GET /: cannot reach the Ollama server at http://127.0.0.1:11434: [Errno 111] Connection refused"
version:
  description: The server's version (C(/api/version)); empty when it did not answer.
  returned: always
  type: str
  sample: 0.12.6
models:
  description: Display names of the models on the server.
  returned: always
  type: list
  elements: str
  sample: ["llama3.2:1b", "qwen2.5:0.5b"]
models_count:
  description: How many models the server holds.
  returned: always
  type: int
  sample: 2
models_total_size:
  description: The total size of those models, in bytes.
  returned: always
  type: int
  sample: 1718927360
models_total_size_human:
  description: The same total in human form, in decimal units (powers of 1000) with one decimal place.
  returned: always
  type: str
  sample: 1.7 GB
loaded:
  description: The models loaded in memory (C(/api/ps)).
  returned: always
  type: list
  elements: dict
  contains:
    name:
      description: Display name of the model.
      type: str
      sample: llama3.2:1b
    size:
      description: Memory the loaded model takes, in bytes.
      type: int
    size_vram:
      description: Of that, bytes in GPU memory (0 on CPU).
      type: int
    expires_at:
      description: When the model will be unloaded (keep_alive), RFC 3339.
      type: str
      sample: "2026-11-22T10:15:00.000000+00:00"
    digest:
      description: The model's digest (bare hex).
      type: str
    context_length:
      description: The context length it was loaded with, when the server reports it.
      type: int
    details:
      description: Format, family, parameter size and quantization of the model.
      type: dict
loaded_count:
  description: How many models are loaded.
  returned: always
  type: int
  sample: 1
disk:
  description:
    - The space of the filesystem that holds O(disk_path); null when O(disk_path) is not set.
    - When the path cannot be read, RV(disk.free) is null and RV(disk.error) says why.
  returned: always
  type: dict
  contains:
    path:
      description: The path that was measured.
      type: str
    free:
      description: Bytes available to unprivileged users.
      type: int
      sample: 75940012032
    free_human:
      description: The same in human form.
      type: str
      sample: 75.9 GB
    total:
      description: Size of the filesystem in bytes.
      type: int
    total_human:
      description: The same in human form.
      type: str
    error:
      description: Why the path could not be measured; empty when it was.
      type: str
"""

import time

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.llmops.ollama.plugins.module_utils._api import (
    InvalidApiUrl,
    client_from_params,
    connection_argument_spec,
)
from ansible_collections.llmops.ollama.plugins.module_utils._health import disk_facts, probe


def main() -> None:
    argument_spec = connection_argument_spec()
    argument_spec.update(
        wait={"type": "bool", "default": False},
        wait_timeout={"type": "int", "default": 60},
        wait_interval={"type": "float", "default": 1},
        disk_path={"type": "path"},
    )
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True)
    params = module.params
    if params["wait_timeout"] < 0 or params["wait_interval"] <= 0:
        module.fail_json(msg="wait_timeout must be 0 or more and wait_interval more than 0 (got %s and %s)" % (params["wait_timeout"], params["wait_interval"]))
    try:
        client = client_from_params(params, retries=0)
    except InvalidApiUrl as exc:
        module.fail_json(msg=str(exc))

    deadline = time.monotonic() + params["wait_timeout"]
    while True:
        # While waiting, no request may outlast wait_timeout (a server that accepts but never answers).
        facts = probe(client, deadline if params["wait"] else None)
        if facts["healthy"] or not params["wait"]:
            break
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            module.fail_json(
                msg="The Ollama server at %s did not become healthy within %s seconds. Last reason: %s. "
                "Check that the server runs and listens there (for a container: docker logs)." % (client.api_url, params["wait_timeout"], facts["reason"]),
                disk=disk_facts(params["disk_path"]),
                **facts,
            )
        time.sleep(min(params["wait_interval"], remaining))
    module.exit_json(changed=False, disk=disk_facts(params["disk_path"]), **facts)


if __name__ == "__main__":
    main()
