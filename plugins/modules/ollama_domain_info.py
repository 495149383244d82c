#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, llmops.ollama contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: ollama_domain_info
short_description: List the domains bound to Ollama through Nginx, with hand edits and certificate expiry
version_added: 0.1.0
description:
  - Reads the bindings that M(llmops.ollama.ollama_domain) wrote in O(config_dir), all of them or the one for O(domain).
  - Reports RV(bindings[].drift=true) when the virtual host or keys file was edited or removed by hand since the module wrote it
    (their checksums no longer match the metadata), and the certificate's issuer, expiry and days left.
  - Files that M(llmops.ollama.ollama_domain) did not write are ignored.
author:
  - llmops.ollama maintainers (@llmops)
extends_documentation_fragment:
  - llmops.ollama._connection.UNUSED
  - llmops.ollama._attributes
  - llmops.ollama._attributes.INFO_MODULE
  - llmops.ollama._attributes.ACTIONGROUP_OLLAMA
options:
  domain:
    description:
      - Report only this domain (validated and normalised like M(llmops.ollama.ollama_domain) does). All bindings when not set.
    type: str
  config_dir:
    description:
      - The directory where M(llmops.ollama.ollama_domain) writes its files.
    type: path
    default: /etc/nginx/conf.d
requirements:
  - The C(cryptography) Python library on the managed node for the certificate facts (they are null without it).
seealso:
  - module: llmops.ollama.ollama_domain
"""

EXAMPLES = r"""
- name: List every domain bound to Ollama on this host
  llmops.ollama.ollama_domain_info:
  register: domains

- name: Fail when a binding was edited by hand or its certificate expires within 14 days
  ansible.builtin.assert:
    that:
      - not item.drift
      - item.tls.days_left is none or item.tls.days_left >= 14
    fail_msg: "{{ item.domain }}: {{ item.drift_reasons | join('; ') }} (certificate days left: {{ item.tls.days_left }})"
  loop: "{{ domains.bindings }}"
  loop_control:
    label: "{{ item.domain }}"

- name: One domain
  llmops.ollama.ollama_domain_info:
    domain: ollama.example.com
  register: one
"""

RETURN = r"""
bindings:
  description: The managed bindings, sorted by file name; empty when there are none (or O(domain) is not bound).
  returned: always
  type: list
  elements: dict
  contains:
    domain:
      description: The domain, lower-cased, IDN in punycode.
      type: str
      sample: ollama.example.com
    aliases:
      description: The other names.
      type: list
      elements: str
      sample: []
    url:
      description: The URL clients use.
      type: str
      sample: https://ollama.example.com
    upstreams:
      description: The Ollama servers behind the proxy (empty for a mirror).
      type: list
      elements: str
      sample: ["http://127.0.0.1:11434"]
    mirror_path:
      description: The mirror directory served; null when the binding proxies to Ollama.
      type: str
    balance:
      description: How requests are spread over the upstreams (V(least_conn) or V(model)); null for a mirror.
      type: str
      sample: least_conn
    default_server:
      description: Whether the binding is the default server of its address and ports.
      type: bool
    listen_address:
      description: The address nginx listens on; null for all IPv4 addresses.
      type: str
    http_port:
      description: The plain HTTP port.
      type: int
      sample: 80
    https_port:
      description: The HTTPS port; null without TLS.
      type: int
      sample: 443
    tls:
      description: The TLS mode and the certificate's facts (null when the certificate cannot be read).
      type: dict
      contains:
        mode:
          description: none, provided, selfsigned or acme.
          type: str
          sample: selfsigned
        certificate:
          description: Path of the certificate.
          type: str
        private_key:
          description: Path of the private key.
          type: str
        issuer:
          description: The certificate's issuer (RFC 4514).
          type: str
          sample: O=llmops.ollama self-signed,CN=ollama.example.com
        not_after:
          description: End of validity, UTC.
          type: str
          sample: "2027-11-22T10:00:00Z"
        days_left:
          description: Whole days of validity left (negative once expired).
          type: int
          sample: 364
    redirect_http:
      description: Whether plain HTTP redirects to HTTPS.
      type: bool
    hsts:
      description: Whether HSTS is sent.
      type: bool
    allow:
      description: The allowed addresses and networks, normalised; empty with O(llmops.ollama.ollama_domain#module:public=true).
      type: list
      elements: str
      sample: ["10.20.0.0/16"]
    public:
      description: Whether every address may connect.
      type: bool
    auth:
      description: How requests authenticate; never the keys.
      type: dict
      contains:
        mode:
          description: C(bearer) with API keys, else C(none).
          type: str
          sample: bearer
        key_count:
          description: How many keys are accepted.
          type: int
          sample: 2
    rate_limit:
      description: Requests per second per client address, or null.
      type: int
    key_names:
      description: The names of the API keys, in order (a key given as a plain string has the id C(key-<8 hex>)). Never the keys.
      type: list
      elements: str
      sample: [alice, key-3f2a9c1b]
    access_log:
      description: The JSON access log; null without O(llmops.ollama.ollama_domain#module:access_log).
      type: dict
      contains:
        path:
          description: The log file.
          type: str
          sample: /var/log/nginx/llmops-ollama-ollama.example.com.access.log
        njs:
          description: Whether njs fills the model and the token counts.
          type: bool
        fields_missing:
          description: The fields that stay empty (without njs, V(model), V(prompt_tokens) and V(completion_tokens)).
          type: list
          elements: str
    identity:
      description: The configuration's identity, served in the C(X-Llmops-Ollama-Config) header of C(/healthz).
      type: str
      sample: 3f2a9c1b7d4e5f60
    config_file:
      description: The virtual host file.
      type: str
      sample: /etc/nginx/conf.d/ollama.example.com.conf
    keys_file:
      description: The include file with the keys (mode 0600); null without keys.
      type: str
    sidecar_file:
      description: The metadata file this record was read from.
      type: str
    drift:
      description: Whether a file was edited or removed by hand since M(llmops.ollama.ollama_domain) wrote it.
      type: bool
      sample: false
    drift_reasons:
      description: Which files changed.
      type: list
      elements: str
      sample: ["/etc/nginx/conf.d/ollama.example.com.conf was edited by hand"]
"""

from ansible_collections.llmops.ollama.plugins.module_utils.proxy.domain_info_module import argument_spec, run_module  # noqa: F401 (argument_spec: read by the tests)  # pylint: disable=unused-import


def main() -> None:
    run_module()


if __name__ == "__main__":
    main()
