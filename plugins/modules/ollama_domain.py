#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, llmops.ollama contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: ollama_domain
short_description: Bind a domain to Ollama through an Nginx reverse proxy with TLS, an IP allowlist and API keys
version_added: 0.1.0
description:
  - Writes one Nginx virtual host per domain that proxies to one or more Ollama servers, safely for streaming
    (HTTP/1.1 to the upstream, no buffering, long timeouts, no body size limit, and the C(Host) header Ollama accepts).
  - Ollama has no authentication of its own. This module is the collection's security boundary, so every value that
    reaches the Nginx configuration is checked against a strict grammar and refused when it does not fit; nothing is escaped.
  - "Applies safely, in this order: render and compare with what is there; back up the previous files (the last O(backups));
    write atomically; run C(nginx -t), and when it fails restore the previous files byte for byte and fail with nginx's own
    message; reload nginx; with O(verify=true), check from outside that the proxy answers with the configuration just written."
  - Beside the virtual host file C(<domain>.conf) it writes C(<domain>.json) (mode 0600), the binding's metadata with the checksums
    that M(llmops.ollama.ollama_domain_info) uses to report hand edits, and with O(api_keys) a C(<domain>.keys) file
    (mode 0600) that holds the keys. A leading wildcard is spelled C(_wildcard) in these file names.
  - Another server block, managed or not, that serves one of the names on one of the ports makes the module fail and name
    the file and line, unless O(force=true). Names are matched as nginx matches them (any case, a trailing dot, C(.example.com),
    wildcards at either end, regular expressions, C($hostname)), in every file C(nginx -T) shows, and so are listen addresses
    (none, which is C(*:80) for root, a port alone, C(*), an IP address, C([::]), a host name such as C(localhost)).
    After writing, a C(conflicting server name) warning of C(nginx -t) for one of the names undoes the change as well.
  - A binding is not the default server of its address and port unless O(default_server=true). A request whose C(Host)
    is none of its names (another DNS name that points at the host, an IP address other than its O(listen_address)) gets
    HTTP 421 from it, even when nginx hands such requests to it because it is the first or only server block there.
  - "Every binding serves C(GET /healthz) for external monitors and load balancers: the allowlist applies, no API key is needed,
    and it shows no model data. A proxy binding asks Ollama's C(/api/version) through the same upstream group as clients do, so it
    answers 200 with C({\"version\": ...}) while Ollama answers, and 502 or 504 with C({\"status\": \"unavailable\"}) when it does
    not. Its C(X-Llmops-Ollama-Config) header carries the configuration's identity (16 hex digits of a digest of the virtual host,
    the njs script and the key names, never the keys)."
  - With O(access_log=true), nginx writes one JSON line per request to C(<access_log_dir>/llmops-ollama-<domain>.access.log), with
    exactly these keys in this order, every value a string - C(time), C(domain), C(key) (the key's name, never the key; C(-)
    without one), C(method), C(endpoint) (the Ollama or OpenAI path, C(other) for any other path), C(model) (the request
    body's model as C(name:tag); C(unknown) when Ollama answered 404 or 400, C(invalid) when it is not a model name),
    C(status), C(request_time), C(ttfb) (time to the upstream's first byte), C(bytes_sent), C(request_length),
    C(prompt_tokens) and C(completion_tokens) (Ollama's C(prompt_eval_count) and C(eval_count), or OpenAI's C(usage), also
    from the last chunk of a stream). The mtail program of the P(llmops.ollama.ollama_monitoring#role) role reads it.
  - The model and the token counts need nginx's njs module (see O(access_log_njs)). Its body filter hands every chunk of the
    answer on at once and unchanged, and only scans it, so streams stay unbuffered; the request bodies of the endpoints that
    name a model (small JSON) are read whole before they are sent on, up to 4 MB (beyond that the model is not logged).
  - With O(mirror_path), the binding serves a mirror directory that M(llmops.ollama.ollama_mirror) fills, as the read paths of
    a registry (C(/v2/<name>/manifests/<tag>), C(/v2/<name>/blobs/sha256:<hex>)), to Ollama servers that pull through it.
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
      - Check mode writes nothing and does not reload nginx; the diff shows what would change.
  diff_mode:
    support: full
    details:
      - The diff shows the virtual host file. The keys file is summarised, never shown.
  idempotent:
    support: full
    details:
      - A self-signed certificate is replaced when fewer than O(renew_days) days of validity remain.
options:
  domain:
    description:
      - The fully qualified domain name clients use, such as V(ollama.example.com).
      - Labels of 1 to 63 letters, digits and hyphens (not at either end), at most 253 characters in all; it is lower-cased.
        An internationalized name is converted to punycode as browsers do (IDNA 2008), with the Python package C(idna) when the
        managed node has it; without it, labels that IDNA 2003 and 2008 encode differently (with C(ß), C(ς) or a zero width
        joiner or non-joiner) are refused and must be given in punycode. A single leading wildcard V(*.example.com) is allowed.
    type: str
    required: true
  aliases:
    description:
      - More names for the same binding, validated like O(domain). With O(tls=selfsigned) they go into the certificate's
        subject alternative names.
    type: list
    elements: str
    default: []
  state:
    description:
      - V(present) writes (or updates) the binding, V(absent) removes its files (and a self-signed certificate it made) and reloads nginx.
    type: str
    choices: [present, absent]
    default: present
  upstream:
    description:
      - The Ollama server to proxy to, as V(http://HOST:PORT) or V(https://HOST:PORT). No path, credentials, query or fragment.
      - When neither O(upstream) nor O(upstreams) is given, O(api_url) is used.
      - An upstream whose host is O(domain) or one of O(aliases) is refused (the proxy would forward to itself).
    type: str
  upstreams:
    description:
      - Several Ollama servers behind one domain; they form an nginx C(upstream) group with C(least_conn), and a server
        that fails 3 times in 30 seconds is left out for 30 seconds. All must use the same scheme.
      - With https, nginx sends the upstreams' host name as TLS server name (SNI), so https upstreams must share one host
        name (their ports may differ) or all be IP addresses.
    type: list
    elements: str
  balance:
    description:
      - How requests are spread over O(upstreams), for instance the Ollama instances of one multi-GPU host
        (P(llmops.ollama.ollama_server#role) with C(ollama_server_instances)).
      - V(least_conn) sends each request to the server with the fewest open requests, for throughput when every server serves the same models.
      - V(model) keeps the requests for one model on one server (consistent hashing on the C(model) of the JSON request body), so that each
        model is loaded once rather than on every server; when that server is down (3 failures in 30 seconds) its models go to the next one.
        It needs njs, the nginx JavaScript module (C(libnginx-mod-http-js) on Debian and Ubuntu), loaded; without it the change is refused
        and the previous files stay. nginx then reads a request body (up to 16 MB in memory) before it forwards it.
    type: str
    choices: [least_conn, model]
    default: least_conn
  api_url:
    description:
      - The Ollama server to proxy to when neither O(upstream) nor O(upstreams) is given. It is the same option as in the
        collection's API modules, so that C(module_defaults) for C(group/llmops.ollama.ollama) also tell this module where Ollama is.
      - If not set, the E(OLLAMA_HOST) environment variable is used, read the way Ollama reads it.
      - It must fit the rules of O(upstream) (no path prefix).
    type: str
    default: http://127.0.0.1:11434
  listen_address:
    description:
      - The IP address nginx listens on for this binding, such as V(127.0.0.1) or V(::). All IPv4 addresses when not set.
        An IPv6 zone index (V(fe80::1%eth0)) is refused.
    type: str
  http_port:
    description:
      - The plain HTTP port. With TLS it serves the ACME challenge and redirects the rest to HTTPS (see O(redirect_http)).
    type: int
    default: 80
  https_port:
    description:
      - The HTTPS port, used when O(tls) is not V(none).
    type: int
    default: 443
  tls:
    description:
      - V(none) serves plain HTTP only (API keys then travel in clear; use it only on a trusted network).
      - V(provided) uses the PEM files in O(certificate) and O(private_key).
      - V(selfsigned) makes an EC P-256 key (mode 0600) and a self-signed certificate for O(domain) and O(aliases) with the
        C(cryptography) library, and renews it when fewer than O(renew_days) days remain.
      - V(acme) is like V(provided), for a certificate that an ACME client issued (the P(llmops.ollama.ollama_proxy#role) role
        issues it through the challenge location this module serves on O(http_port)).
    type: str
    choices: [none, provided, selfsigned, acme]
    default: none
  certificate:
    description:
      - Path of the certificate (full chain, PEM). Required with O(tls=provided) and O(tls=acme).
      - With O(tls=selfsigned), where to write it; C(<tls_dir>/<domain>.crt) by default.
      - With O(tls=provided), checked before anything is changed, and refused unless O(accept_certificate) accepts the problem
        deliberately. It must be readable PEM and within its validity period, its subject alternative names must cover
        O(domain) and every one of O(aliases) (as clients match them per RFC 6125, where a wildcard stands for exactly one left-most
        label; the common name is ignored), and O(private_key) must belong to it.
    type: path
  private_key:
    description:
      - Path of the private key (PEM). Required with O(tls=provided) and O(tls=acme).
      - With O(tls=selfsigned), where to write it (mode 0600); C(<tls_dir>/<domain>.key) by default.
    type: path
  accept_certificate:
    description:
      - Problems of a O(tls=provided) certificate to accept deliberately, with a warning, instead of refusing the certificate.
      - V(expired) and V(not_yet_valid) accept a certificate outside its validity period; V(name_mismatch) one that does not
        cover every name; V(unverifiable) skips the checks when the C(cryptography) library is missing on the managed node.
      - A key that does not belong to the certificate, or a file that cannot be read, is always refused.
    type: list
    elements: str
    choices: [expired, not_yet_valid, name_mismatch, unverifiable]
    default: []
  tls_dir:
    description:
      - Directory for self-signed certificates and keys when O(certificate) and O(private_key) are not given.
    type: path
    default: /etc/ssl/llmops-ollama
  renew_days:
    description:
      - With O(tls=selfsigned), make a new certificate when fewer than this many days of validity remain.
    type: int
    default: 30
  selfsigned_days:
    description:
      - With O(tls=selfsigned), how many days a new certificate is valid.
    type: int
    default: 365
  redirect_http:
    description:
      - With TLS, answer plain HTTP with a 301 redirect to HTTPS, except C(/.well-known/acme-challenge/).
        When false, plain HTTP proxies to Ollama as well, with the same allowlist and keys.
    type: bool
    default: true
  hsts:
    description:
      - With TLS, send C(Strict-Transport-Security max-age=31536000). Browsers then refuse plain HTTP for a year.
    type: bool
    default: false
  tls_protocols:
    description:
      - The TLS versions nginx accepts.
    type: list
    elements: str
    choices: [TLSv1.2, TLSv1.3]
    default: [TLSv1.2, TLSv1.3]
  allow:
    description:
      - IP addresses and CIDR networks (IPv4 and IPv6) that may use the proxy; every other address gets HTTP 403.
      - An empty list is refused unless O(public=true), so that an unauthenticated Ollama is never exposed by accident.
      - A network with host bits set (V(10.0.0.1/8)), a prefix of 0 and an IPv6 zone index (V(fe80::1%eth0)) are refused.
    type: list
    elements: str
    default: []
  public:
    description:
      - Accept requests from every address. Must be set explicitly, and cannot be combined with O(allow).
        Use it with O(api_keys); without keys the module warns.
    type: bool
    default: false
  api_keys:
    description:
      - Bearer tokens. A request without C(Authorization Bearer <key>) for one of them gets HTTP 401 with C(WWW-Authenticate Bearer).
      - Each entry is a key, or a dictionary C({name, key}). The name goes into the access log and the metrics; it has 1 to 64
        letters, digits, C(.), C(_) or C(-), starts with a letter or digit, and is unique without regard to case. A key given
        as a plain string gets the id C(key-) and the first 8 hex digits of its SHA-256. The same key under two names is refused.
      - Each must be an RFC 6750 C(b64token) (letters, digits and C(- . _ ~ + /), optionally ending in C(=)), at most 512 characters.
        Keys shorter than 16 characters are accepted with a warning. A key that ends with a newline (as a YAML C(|) block
        leaves it) is refused, not stripped.
      - The keys live in a separate include file of mode 0600, never in the virtual host file, the metadata, the diff or the result.
        The proxy does not forward the C(Authorization) header to Ollama. Key names are not secret and are shown.
      - Not O(api_key), the key the collection's API modules send, which this module does not use.
    type: list
    elements: raw
    default: []
  access_log:
    description:
      - Write the binding's JSON access log (see the description), one line per request.
      - The P(llmops.ollama.ollama_proxy#role) role turns it on by default.
    type: bool
    default: false
  access_log_dir:
    description:
      - The directory of the access log; it must exist. Debian's logrotate rotates C(/var/log/nginx/*.log).
    type: path
    default: /var/log/nginx
  access_log_njs:
    description:
      - V(auto) fills the model and the token counts when nginx has loaded the njs module (C(load_module ... ngx_http_js_module.so)
        in C(nginx -T), or njs built in), and otherwise logs everything else and warns, naming what is missing and the package
        to install (Debian C(libnginx-mod-http-js)).
      - V(required) fails instead when njs is missing. V(disabled) never uses njs (those fields stay empty, with a warning).
    type: str
    choices: [auto, required, disabled]
    default: auto
  default_server:
    description:
      - Make this binding the default server of its address and ports (nginx C(listen ... default_server)), so that it answers
        requests for any C(Host), also those that name none of O(domain) and O(aliases).
      - When false (the default), such requests get HTTP 421 (Misdirected Request) from this binding, also where nginx makes it
        the default because it is the first server block on the port; another server block with C(default_server) keeps them.
        A request addressed by IP to a specific O(listen_address) (a health probe to V(http://127.0.0.1:PORT/)) is served.
      - Only one server block may be the default of an address and port; the module refuses when another one already is.
    type: bool
    default: false
  mirror_path:
    description:
      - Serve this directory, a mirror filled by M(llmops.ollama.ollama_mirror) (its O(llmops.ollama.ollama_mirror#module:path)),
        instead of proxying to Ollama. Ollama servers then pull C(<domain>[:port]/<namespace>/<model>:<tag>) from it.
      - "Only the registry read paths under C(<mirror_path>/v2) are served: GET and HEAD (other methods get HTTP 405), C(Range)
        requests, sendfile; manifests as C(application/vnd.docker.distribution.manifest.v2+json) with C(Cache-Control: no-cache),
        blobs as C(application/octet-stream), cached as immutable. Everything else gets HTTP 404."
      - O(allow), O(public), O(api_keys), O(rate_limit) and TLS apply as for any binding. Ollama sends no API key when it pulls,
        so a mirror for Ollama servers is protected with O(allow).
      - The directory must exist, and nginx's worker processes must be able to read it. Their user is the C(user) of nginx's main
        configuration (its compiled-in default, usually C(nobody), without one). When a directory on the way does not let that user
        through (a parent of mode 0700 is enough) or a manifest is not readable for it, the binding is refused before anything is
        written, naming the path and the user. Mode bits are checked, not ACLs.
      - Manifests carry the C(X-Llmops-Ollama-Config) header. A C(403) that nginx gives for a file it may not read says so; the
        C(forbidden - this address may not use this Ollama server) answer is only for addresses outside O(allow).
      - Cannot be combined with O(upstream) or O(upstreams) (O(api_url) is ignored).
    type: path
  rate_limit:
    description:
      - Requests per second allowed per client IP address (nginx C(limit_req)); beyond it, HTTP 429. No limit when not set.
    type: int
  rate_limit_burst:
    description:
      - Requests above O(rate_limit) that are still served at once. Defaults to O(rate_limit).
    type: int
  read_timeout:
    description:
      - Seconds nginx waits for the next data from Ollama (C(proxy_read_timeout)). nginx's own default of 60 cuts long generations.
    type: int
    default: 600
  send_timeout:
    description:
      - Seconds nginx waits while sending to Ollama or to the client (C(proxy_send_timeout), C(send_timeout)).
    type: int
    default: 600
  config_dir:
    description:
      - The directory whose C(*.conf) files nginx includes in its C(http) block. Only C(*.conf) files there are virtual hosts
        for nginx, so directories that nginx includes entirely (such as Debian's C(sites-enabled)) do not fit.
    type: path
    default: /etc/nginx/conf.d
  backup_dir:
    description:
      - Where backups of the previous files go, one directory per change. C(<config_dir>/.llmops-ollama-backups) by default.
    type: path
  backups:
    description:
      - How many backups to keep per domain; V(0) keeps none.
    type: int
    default: 5
  acme_webroot:
    description:
      - The directory served at C(/.well-known/acme-challenge/) on O(http_port), for ACME http-01 challenges.
        This location is open to every address and needs no key, as ACME servers must reach it.
    type: path
    default: /var/lib/llmops-ollama/acme
  nginx_binary:
    description:
      - The nginx program, for C(nginx -t), C(nginx -T) (to find conflicting server blocks) and the default reload.
    type: str
    default: nginx
  nginx_conf:
    description:
      - The main nginx configuration file, passed as C(-c) to nginx. nginx's compiled-in default when not set.
    type: path
  nginx_prefix:
    description:
      - The nginx prefix directory, passed as C(-p) to nginx. nginx's compiled-in default when not set.
    type: path
  reload_command:
    description:
      - The command that reloads nginx, split like a shell would split it and run without a shell,
        such as V(systemctl reload nginx). C(nginx -s reload) (with O(nginx_prefix) and O(nginx_conf)) when not set.
    type: str
  reload:
    description:
      - Reload nginx after a change. Set it to false when a handler reloads later; C(nginx -t) runs in any case.
    type: bool
    default: true
  force:
    description:
      - Go ahead even when another server block serves one of the names on one of the ports, or when a file that this
        module did not write is in the way. Conflicts are then reported as warnings.
    type: bool
    default: false
  verify:
    description:
      - After applying, check the binding from outside (to O(listen_address) or 127.0.0.1, with the domain as TLS server name
        and C(Host)), and fail unless all of this holds within O(verify_timeout) seconds.
      - C(GET /healthz) answers HTTP 200 with the C(X-Llmops-Ollama-Config) header of the configuration just written, so that
        another process answering on the port, or an nginx that did not load the new files, fails the check.
      - C(GET /api/version) with the first API key answers 200; with O(mirror_path), a real manifest of the mirror is read instead
        (the first by name, compared byte for byte with the file, with the identity header), or C(GET /v2/) while the mirror is empty.
      - With TLS, the proxy presents the configured certificate. With O(api_keys), the same request without a key answers HTTP 401.
      - A failure names the process that holds the port when it is not this nginx.
    type: bool
    default: false
  verify_timeout:
    description:
      - Seconds O(verify=true) keeps trying. (O(timeout) is not used by this module.)
    type: int
    default: 10
requirements:
  - nginx on the managed node.
  - The C(cryptography) Python library on the managed node for O(tls=selfsigned), and to report certificate facts.
notes:
  - Run it as root (or a user that may write O(config_dir) and reload nginx).
  - The module writes configuration for nginx's C(http) context. The C(Host) header sent to Ollama is C(localhost:11434),
    which Ollama accepts also when it listens on loopback only.
seealso:
  - module: llmops.ollama.ollama_domain_info
  - name: Nginx reverse proxy for Ollama (Ollama FAQ)
    description: How the Ollama project suggests putting it behind a proxy.
    link: https://github.com/ollama/ollama/blob/main/docs/faq.md
"""

EXAMPLES = r"""
- name: Serve Ollama at https://ollama.example.com to the office network, with an API key
  llmops.ollama.ollama_domain:
    domain: ollama.example.com
    tls: provided
    certificate: /etc/ssl/certs/ollama.example.com.fullchain.pem
    private_key: /etc/ssl/private/ollama.example.com.key
    allow:
      - 10.20.0.0/16
      - 2001:db8::/32
    api_keys:
      - name: ci
        key: "{{ vault_ollama_ci_key }}"
      - "{{ vault_ollama_api_key }}"
    rate_limit: 20
    access_log: true
  register: bound

- name: Show where it answers
  ansible.builtin.debug:
    msg: "{{ bound.binding.url }} -> {{ bound.binding.upstreams | join(', ') }}"

- name: One public name in front of three Ollama servers, self-signed, keys required
  llmops.ollama.ollama_domain:
    domain: llm.internal.example
    aliases: [ollama.internal.example]
    upstreams:
      - http://10.0.0.11:11434
      - http://10.0.0.12:11434
      - http://10.0.0.13:11434
    tls: selfsigned
    public: true
    api_keys: "{{ vault_ollama_api_keys }}"
    verify: true

- name: One endpoint for the four Ollama instances of a four-GPU host, each model kept on its own instance
  llmops.ollama.ollama_domain:
    domain: ollama.example.com
    upstreams:
      - http://127.0.0.1:11434
      - http://127.0.0.1:11435
      - http://127.0.0.1:11436
      - http://127.0.0.1:11437
    balance: model
    tls: selfsigned
    api_keys: "{{ vault_ollama_api_keys }}"

- name: Preview a change without touching anything
  llmops.ollama.ollama_domain:
    domain: ollama.example.com
    allow: [10.20.0.0/16]
  check_mode: true
  diff: true

- name: Serve a model mirror to the fleet's Ollama servers (they pull mirror.example.com/library/llama3.2:1b)
  llmops.ollama.ollama_domain:
    domain: mirror.example.com
    mirror_path: /srv/ollama-mirror
    tls: provided
    certificate: /etc/ssl/certs/mirror.example.com.fullchain.pem
    private_key: /etc/ssl/private/mirror.example.com.key
    allow: [10.20.0.0/16]

- name: Remove a binding
  llmops.ollama.ollama_domain:
    domain: old-ollama.example.com
    state: absent
"""

RETURN = r"""
binding:
  description:
    - The binding as written (or as it would be written in check mode); for O(state=absent), the binding that was removed.
  returned: always
  type: dict
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
      description: The allowed addresses and networks, normalised; empty with O(public=true).
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
      description: The JSON access log; null without O(access_log).
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
    backup_file:
      description: The backup of the previous virtual host file (or the backup directory), when this run made one.
      type: str
verified:
  description: What the check from outside saw (O(verify=true)).
  returned: when O(verify=true) and not in check mode
  type: dict
  contains:
    address:
      description: The address the check connected to.
      type: str
    port:
      description: The port the check connected to.
      type: int
    path:
      description: The path requested with the key (C(/api/version), or the manifest read from a mirror).
      type: str
    identity:
      description: The configuration identity that C(/healthz) answered with, equal to RV(binding.identity).
      type: str
    certificate_sha256:
      description: SHA-256 fingerprint (hex) of the certificate the proxy presented, equal to the configured one; null without TLS.
      type: str
    with_key:
      description: The HTTP status with the first API key (or without a key when there are none).
      type: int
    without_key:
      description: The HTTP status without a key (401); null when the binding has no API keys.
      type: int
  sample: {address: 127.0.0.1, port: 8443, path: /api/version, certificate_sha256: 9f86d0..., identity: 3f2a9c1b7d4e5f60, with_key: 200, without_key: 401}
certificate_renewed:
  description: Why a self-signed certificate was (or in check mode would be) made.
  returned: when a self-signed certificate was made
  type: str
  sample: no certificate yet
nginx_message:
  description: nginx's own message when C(nginx -t) or the reload failed (the module then failed and restored the previous files).
  returned: on failure
  type: str
certificate_issues:
  description:
    - What is wrong with a O(tls=provided) certificate that was refused (V(unreadable), V(key_mismatch), V(expired),
      V(not_yet_valid), V(name_mismatch), V(unverifiable)).
  returned: on failure because of the certificate
  type: list
  elements: str
conflicts:
  description: The server blocks that conflict with the binding, by file and line.
  returned: on failure because of a conflict
  type: list
  elements: str
"""

from ansible_collections.llmops.ollama.plugins.module_utils.proxy.domain_module import argument_spec, run_module  # noqa: F401 (argument_spec: read by the tests)  # pylint: disable=unused-import


def main() -> None:
    run_module()


if __name__ == "__main__":
    main()
