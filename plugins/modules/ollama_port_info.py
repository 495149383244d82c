#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, llmops.ollama contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: ollama_port_info
short_description: Name the processes that listen on TCP ports of the managed host
version_added: 0.2.0
description:
  - Reads the listening TCP sockets and their owners from C(/proc) (Linux), with no other tool.
  - The role M(llmops.ollama.ollama_server) asks it before it starts its instances, so that a port range that collides with
    another program fails before any container changes, naming the program.
author:
  - llmops.ollama maintainers (@llmops)
extends_documentation_fragment:
  - llmops.ollama._connection
  - llmops.ollama._attributes
  - llmops.ollama._attributes.INFO_MODULE
  - llmops.ollama._attributes.ACTIONGROUP_OLLAMA
options:
  ports:
    description:
      - The TCP ports to look at.
      - Not set, the port of O(api_url) (what the Ollama API of this host listens on); no request is sent to it.
    type: list
    elements: int
  address:
    description:
      - The address a server would bind; a socket on the wildcard address, or on this one, counts. Any address when not set.
    type: str
requirements:
  - Linux (C(/proc/net/tcp)). Processes of other users are seen only as root; they are reported without a command.
"""

EXAMPLES = r"""
- name: Who holds the ports of four Ollama instances
  llmops.ollama.ollama_port_info:
    ports: [11434, 11435, 11436, 11437]
    address: 127.0.0.1
  register: ports

- name: Fail when one is taken
  ansible.builtin.assert:
    that: ports.busy | length == 0
    fail_msg: "{{ ports.listeners | map(attribute='summary') | join('; ') }}"
"""

RETURN = r"""
busy:
  description: The ports something listens on.
  returned: always
  type: list
  elements: int
  sample: [11435]
free:
  description: The ports nothing listens on.
  returned: always
  type: list
  elements: int
  sample: [11434, 11436, 11437]
listeners:
  description: One entry per busy port.
  returned: always
  type: list
  elements: dict
  contains:
    port:
      description: The port.
      type: int
    holders:
      description:
        - The processes that listen on the port, as RV(llmops.ollama.ollama_info#module:port_holders) of M(llmops.ollama.ollama_info).
        - A process the module's user may not see has a null C(pid).
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
    summary:
      description: The holders in words.
      type: str
      sample: "port 11435: pid 812 (nginx: master process /usr/sbin/nginx)"
"""

from ansible_collections.llmops.ollama.plugins.module_utils.core.port_info_module import argument_spec, run_module  # noqa: F401 (argument_spec: read by the tests)  # pylint: disable=unused-import


def main() -> None:
    run_module()


if __name__ == "__main__":
    main()
