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
  - It reads C(GET /), C(/api/version), C(/api/tags) and C(/api/ps). An Ollama server can answer them while generation hangs. With O(probe=inference) the module
    also asks one model for one token (an embedding for an embedding model) and the server is healthy only when that
    answer comes within O(probe_timeout); RV(inference) reports the latency and the reason of a failure.
  - Every loaded model reports the share of it in GPU memory (RV(loaded[].gpu_percent)). With O(expect_gpu=true) a model
    partly or wholly on the CPU is a warning (RV(gpu_warnings)); with O(require_gpu=true) it fails the module.
author:
  - llmops.ollama maintainers (@llmops)
extends_documentation_fragment:
  - llmops.ollama._connection
  - llmops.ollama._probe
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
      - The inference probe (O(probe=inference)) never runs past O(wait_timeout) either.
    type: int
    default: 60
  wait_interval:
    description:
      - Seconds between two probes when O(wait=true).
    type: float
    default: 1
  expect_gpu:
    description:
      - For a server deployed with a GPU. Warn about every loaded model not wholly in GPU memory (fallen back to the CPU
        in part or in whole), naming the model and its share.
    type: bool
    default: false
  require_gpu:
    description:
      - Like O(expect_gpu), but a loaded model not wholly in GPU memory fails the module (RV(healthy=false)), naming the
        model and its share. Implies O(expect_gpu).
      - With O(probe=inference) the probed model is loaded, so it is judged too.
    type: bool
    default: false
  disk_path:
    description:
      - A path on the managed host, usually where the models live; the free and total space of its filesystem is returned
        as RV(disk). Nothing is measured when it is not set.
      - This saves a separate C(df) task per host in health reports.
    type: path
  port:
    description:
      - A TCP port of the managed host; the processes that listen there (read from C(/proc), Linux) are returned as RV(port_holders),
        for example to name what holds the port a server is about to publish.
      - Read as M(llmops.ollama.ollama_port_info) reads O(llmops.ollama.ollama_port_info#module:ports). A number outside 1 to 65535
        fails before anything is read.
    type: int
  port_address:
    description:
      - With O(port), only the listeners that a server bound to this address would collide with (a listener on all addresses
        collides with every address). All addresses when not set.
    type: str
  instances:
    description:
      - The API URLs of every instance of a host that runs several (the C(ollama_server_api_urls) of the
        P(llmops.ollama.ollama_server#role) role with C(ollama_server_instances)). Each is probed too (the version probe), and
        RV(instances) shows which models each lists and serves and its share of the VRAM in use.
      - The host is unhealthy when one instance is, or when one does not list a model another lists (they share one models directory).
    type: list
    elements: str
    default: []
notes:
  - With O(probe=version) only read requests are sent (C(GET /), C(/api/version), C(/api/tags), C(/api/ps)).
  - With O(probe=inference) one C(POST /api/generate) or C(POST /api/embed) is sent (and C(POST /api/show) when the
    server does not list capabilities). It changes no model on the server but may load one into memory; check mode sends
    it too, since a health probe that skipped it in check mode would report something it did not see.
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

- name: A health probe that proves the server still answers generations, on a GPU host
  llmops.ollama.ollama_info:
    probe: inference
    probe_model: llama3.2:1b
    probe_timeout: 30
    require_gpu: true
  register: ollama

- name: Every instance of a four-GPU host, with the models each serves and its share of the VRAM
  llmops.ollama.ollama_info:
    instances:
      - http://127.0.0.1:11434
      - http://127.0.0.1:11435
      - http://127.0.0.1:11436
      - http://127.0.0.1:11437
  register: ollama

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
    gpu_percent:
      description: The share of the model in GPU memory (C(size_vram / size * 100)), 0 on the CPU; null when the size is unknown.
      type: float
      sample: 100.0
    details:
      description: Format, family, parameter size and quantization of the model.
      type: dict
loaded_count:
  description: How many models are loaded.
  returned: always
  type: int
  sample: 1
instances:
  description: With O(instances), one entry per instance, in the order given; empty otherwise.
  returned: always
  type: list
  elements: dict
  contains:
    index:
      description: The position in O(instances) (the instance index of C(ollama_server_instances)).
      type: int
    api_url:
      description: Its API URL.
      type: str
    healthy:
      description: Whether it answered.
      type: bool
    reason:
      description: Why not, in the server's or the socket's words.
      type: str
    version:
      description: Its Ollama version.
      type: str
    models:
      description: The models it lists (C(/api/tags)).
      type: list
      elements: str
    models_count:
      description: How many.
      type: int
    missing:
      description: Models another instance lists and this one does not.
      type: list
      elements: str
    serves:
      description: The models it has loaded (C(/api/ps)).
      type: list
      elements: str
    loaded:
      description: Each loaded model with its bytes in GPU memory and its share there.
      type: list
      elements: dict
    vram_bytes:
      description: The GPU memory its loaded models take.
      type: int
    vram_share:
      description: Its percentage of the GPU memory that all instances' loaded models take; null when none do.
      type: float
      sample: 25.0
gpu_warnings:
  description:
    - With O(expect_gpu=true) or O(require_gpu=true), one message per loaded model not wholly in GPU memory, naming it and its share.
    - Empty otherwise.
  returned: always
  type: list
  elements: str
  sample: ["llama3.2:1b runs partly on the CPU: only 30% of it is in GPU memory, 70% in system memory"]
inference:
  description: The result of the inference probe; null with O(probe=version) or when the server did not answer the API.
  returned: always
  type: dict
  contains:
    healthy:
      description: Whether the model answered within O(probe_timeout).
      type: bool
    reason:
      description: Why not; empty when it did.
      type: str
      sample: "inference probe of smollm2:135m: POST /api/generate: no answer from the Ollama server at http://127.0.0.1:11434 within 30 seconds"
    model:
      description: The model asked.
      type: str
      sample: smollm2:135m
    kind:
      description: V(generate) or V(embed).
      type: str
    latency:
      description: Seconds from the request to the answer (loading the model plus the first token); null on failure.
      type: float
      sample: 0.412
    load_duration:
      description: Seconds the server reports it spent loading the model; null when it does not say.
      type: float
    timeout:
      description: The probe timeout, in seconds.
      type: float
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
port_holders:
  description:
    - The processes that listen on O(port) (at O(port_address)); empty when the port is free or O(port) is not set.
    - A process the module's user may not see has a null C(pid).
  returned: always
  type: list
  elements: dict
  contains:
    pid:
      description: The process id.
      type: int
    command:
      description: Its command line.
      type: str
    address:
      description: The address it listens on.
      type: str
port_holders_text:
  description: RV(port_holders) in words (C(pid 123 (ollama serve))); empty when the port is free.
  returned: always
  type: str
"""

from ansible_collections.llmops.ollama.plugins.module_utils.core.info_module import run_module


def main() -> None:
    run_module()


if __name__ == "__main__":
    main()
