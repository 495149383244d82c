# llmops.ollama — one command for newcomers, one for the tests.
#
#   make demo   the main job: site.yml on this host (Ollama, models, TLS proxy, health)
#               ports: OLLAMA_PORT=, PROXY_PORT=, PROXY_HTTP_PORT= (free ones when not given)
#   make demo-down  stops what the demo started (its container and nginx; the models volume is kept)
#   make env    prints how to run the collection's commands (ansible-playbook ...) after the demo
#   make test   everything CI runs: lint, ansible-test sanity and unit side by side, then integration, awx, molecule
#   make ee     the AWX execution environment image llmops/ollama-ee:<version>
#
# Each sets up what it needs itself (demo: .build/demo-venv with only what running the
# collection needs; test: .venv with the test tool chain; both with the collection
# linked as ansible_collections/llmops/ollama under .build/).

SHELL        := /bin/bash
.SHELLFLAGS  := -eu -o pipefail -c
PYTHON       ?= python3
VENV         := .venv
BIN          := $(CURDIR)/$(VENV)/bin
BUILD        := $(CURDIR)/.build
COLL_ROOT    := $(BUILD)/collections
COLL_LINK    := $(COLL_ROOT)/ansible_collections/llmops/ollama
SANITY_ROOT  := $(BUILD)/sanity/ansible_collections/llmops/ollama
SANITY_PY    ?= 3.11
OLLAMA_API_URL ?= http://127.0.0.1:11434

export ANSIBLE_COLLECTIONS_PATH := $(COLL_ROOT)
export ANSIBLE_COLLECTIONS_SCAN_SYS_PATH := true
export ANSIBLE_NOCOLOR := 1
export PATH := $(BIN):$(PATH)

.PHONY: help demo demo-down env test checks deps venv demo-venv link collection lint sanity unit integration awx ee surveys molecule sim-image bench clean

help:
	@sed -n '2,13p' Makefile

## ---------------------------------------------------------------- setup
deps:
	@./.ci/deps.sh

$(VENV)/.stamp: requirements/test.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements/test.txt
	touch $@

venv: $(VENV)/.stamp

link:
	@mkdir -p $(dir $(COLL_LINK))
	@ln -sfn $(CURDIR) $(COLL_LINK)

collection: venv link

# make demo's own virtualenv: the pinned ansible package and requirements.txt, nothing of the tests.
# Under .build/ so that collection builds, linters and git leave it alone. --no-compile: the
# ansible package's tens of thousands of files are not byte-compiled up front (two thirds of
# the install time); Python compiles what a run imports.
DEMO_VENV := $(BUILD)/demo-venv
DEMO_BIN  := $(DEMO_VENV)/bin
$(DEMO_VENV)/.stamp: requirements/run.txt requirements.txt
	$(PYTHON) -m venv $(DEMO_VENV)
	$(DEMO_BIN)/pip install --quiet --disable-pip-version-check --no-compile -r requirements/run.txt
	touch $@

demo-venv: $(DEMO_VENV)/.stamp

## ---------------------------------------------------------------- main job
# The whole product on this host: Ollama in Docker, the declared models, a TLS
# proxy with an allowlist and an API key, and the health report (site.yml with
# inventory/local). With internet it runs the real ollama/ollama image; offline
# it says so and runs the locally built simulator image instead.
DEMO_IMAGE ?= docker.io/ollama/ollama:0.32.15
DEMO        := $(BUILD)/demo

# Its ports and names belong to this checkout (tools/demo_settings.py writes them to
# $(DEMO)/settings.yml): two checkouts' demos run side by side, and the user's own Ollama
# on 11434 is left alone. A port given that another process holds stops the demo before
# anything starts, naming the holder.
OLLAMA_PORT     ?=
PROXY_PORT      ?=
PROXY_HTTP_PORT ?=
DEMO_SHOW = $(DEMO_BIN)/python tools/demo_settings.py show $(DEMO)

# A converged run prints what changed or failed, the roles' reports (the server, the model sync, the health
# report) and the recap: the collection's stdout callback ollama_brief, the default callback with ok and
# skipped results hidden. Every task's line: make demo ANSIBLE_DISPLAY_OK_HOSTS=true ANSIBLE_DISPLAY_SKIPPED_HOSTS=true
demo: export ANSIBLE_STDOUT_CALLBACK ?= llmops.ollama.ollama_brief
demo: export ANSIBLE_DISPLAY_OK_HOSTS ?= false
demo: export ANSIBLE_DISPLAY_SKIPPED_HOSTS ?= false
demo: deps demo-venv link
	@mkdir -p $(DEMO) && chmod 700 $(DEMO)
	@$(DEMO_BIN)/python tools/demo_settings.py up $(DEMO) $(CURDIR) "$(OLLAMA_PORT)" "$(PROXY_PORT)" "$(PROXY_HTTP_PORT)"
	@[ -s $(DEMO)/secrets.yml ] || (umask 077 && $(DEMO_BIN)/python -c 'import secrets; print("ollama_demo_api_key: sk-demo-" + secrets.token_hex(16))' > $(DEMO)/secrets.yml)
	@if docker image inspect $(DEMO_IMAGE) >/dev/null 2>&1 || timeout 120 docker pull -q $(DEMO_IMAGE) >/dev/null 2>&1; then \
	    echo "demo: running the real image $(DEMO_IMAGE)"; echo $(DEMO_IMAGE) > $(DEMO)/image; \
	else \
	    echo "demo: cannot pull $(DEMO_IMAGE) (no internet?): running the locally built Ollama API simulator image llmops/ollama-sim:test instead"; \
	    docker image inspect llmops/ollama-sim:test >/dev/null 2>&1 || bash tests/docker/build_sim_image.sh llmops/ollama-sim:test; \
	    echo llmops/ollama-sim:test > $(DEMO)/image; \
	fi
	$(DEMO_BIN)/ansible-playbook -i inventory/local playbooks/site.yml -e @$(DEMO)/secrets.yml -e @$(DEMO)/settings.yml -e ollama_server_image=$$(cat $(DEMO)/image) -e ollama_server_image_pull=never
	@port=$$($(DEMO_SHOW) ollama_demo_https_port); \
	echo "Call Ollama through the proxy (TLS, allowlist 127.0.0.1, API key from $(DEMO)/secrets.yml):"; \
	echo "  curl --cacert $(DEMO)/tls/localhost.crt \\"; \
	echo "       -H \"Authorization: Bearer \$$(sed -n 's/^ollama_demo_api_key: //p' $(DEMO)/secrets.yml)\" https://localhost:$$port/api/tags"; \
	echo "The OpenAI SDK (pip install openai), base_url https://localhost:$$port/v1 and the demo's key:"; \
	echo "  OPENAI_API_KEY=\$$(sed -n 's/^ollama_demo_api_key: //p' $(DEMO)/secrets.yml) python3 -c 'import httpx, openai, ssl; \\"; \
	echo "    c = openai.OpenAI(base_url=\"https://localhost:$$port/v1\", http_client=httpx.Client(verify=ssl.create_default_context(cafile=\"$(DEMO)/tls/localhost.crt\"))); \\"; \
	echo "    print(\"\".join(x.choices[0].delta.content or \"\" for x in c.chat.completions.create(model=\"smollm2:135m\", stream=True, messages=[{\"role\": \"user\", \"content\": \"Hello\"}])))'"; \
	echo "Run the collection's commands: eval \"\$$(make -s env)\"; stop the demo: make demo-down"

# Stops what make demo started in this checkout: the proxy binding and its nginx, and the container (remove.yml
# with the demo's settings). The models volume is kept (docker volume rm $$(name) to free it); nothing else is touched.
demo-down: demo-venv link
	@[ -s $(DEMO)/settings.yml ] || { echo "demo-down: no demo settings in $(DEMO): nothing to stop"; exit 0; }; \
	$(DEMO_BIN)/ansible-playbook -i inventory/local playbooks/remove.yml -e @$(DEMO)/settings.yml \
	    $$([ -s $(DEMO)/secrets.yml ] && printf -- '-e @%s' $(DEMO)/secrets.yml) -e ollama_remove_confirm=yes

# The environment the demo's commands run in: eval "$$(make -s env)", then ansible-playbook ... works as in the README.
env:
	@echo "source $(DEMO_VENV)/bin/activate"
	@echo "export ANSIBLE_COLLECTIONS_PATH=$(COLL_ROOT) ANSIBLE_COLLECTIONS_SCAN_SYS_PATH=true"

## ---------------------------------------------------------------- tests
# ansible-test --venv bootstraps pip with a script from a host CI cannot reach.
GET_PIP_CACHE := $(HOME)/.ansible/test/cache/get_pip_24_2.py
$(GET_PIP_CACHE): .ci/get_pip_offline.py
	@mkdir -p $(dir $@)
	@if [ ! -e $@ ] || grep -q 'Stand-in for the get-pip script' $@; then cp $< $@; fi

test: deps collection checks integration awx molecule
	@echo "make test: all stages passed"

# lint, ansible-test sanity and the unit tests side by side: sanity runs on one core (pylint and the others
# one after another) for a minute and a half, which the linters and the unit tests use meanwhile. Each
# one's output is printed whole when it ends (-O); the first that fails fails the stage.
checks: collection
	$(MAKE) --no-print-directory -j3 -O lint sanity unit

lint: collection
	$(BIN)/ruff check .
	$(BIN)/ruff format --check plugins tests
	$(BIN)/yamllint -s .
	$(BIN)/ansible-lint --profile production

# ansible-test needs the collection at .../ansible_collections/<ns>/<name> as a
# real directory with its own git index (ansible-test lists files with git):
# copy the tracked and new (not ignored) files there.
sanity: collection $(GET_PIP_CACHE)
	@rm -rf $(SANITY_ROOT) && mkdir -p $(SANITY_ROOT)
	@git ls-files -co --exclude-standard -z | tar --null -T - -cf - | tar -xf - -C $(SANITY_ROOT)
	@cd $(SANITY_ROOT) && git init -q && git add -A
	cd $(SANITY_ROOT) && $(BIN)/ansible-test sanity --venv --python $(SANITY_PY) --color no

# two workers: the unit tests are CPU-bound and independent (about half the time on 2 cores)
unit: collection
	$(BIN)/pytest tests/unit -q -n 2

# In parallel (pytest-xdist): the tests mostly wait on ansible-playbook, nginx, Docker and the simulator,
# so more workers than cores pay off. Each test has its own ports (free_port: a slice per worker),
# directories (tmp_path), containers and volumes (docker_support.own_name); the simulator image is built
# once (its sources' digest, under a lock). loadgroup hands out single tests; tests that must run one after
# another would share an xdist_group; a timing-sensitive test (marker serial) runs alone afterwards.
# INTEGRATION_WORKERS=0 runs them all one by one.
INTEGRATION_WORKERS ?= 3
integration: collection sim-image
	$(BIN)/pytest tests/integration -q -n $(INTEGRATION_WORKERS) --dist loadgroup -m 'not serial' --ignore=tests/integration/test_awx_runner.py --durations=15
	$(BIN)/pytest tests/integration -q -m serial --ignore=tests/integration/test_awx_runner.py

## ---------------------------------------------------------------- AWX
# The execution environment image, tagged with the collection's version. Online
# on the base image of execution-environment.yml; offline on a Debian base image
# built here (tools/ee_base.sh). A rebuild reuses Docker's layer cache.
EE_VERSION := $(shell sed -n 's/^version: *//p' galaxy.yml)
EE_IMAGE   ?= llmops/ollama-ee:$(EE_VERSION)

ee: collection
	@./.ci/deps.sh debootstrap
	tools/ee_build.sh $(EE_IMAGE)

# A job as AWX runs it: ansible-runner, process isolation in the image (built
# or brought up to date first: seconds when only the collection changed).
awx: ee
	$(BIN)/pytest tests/integration/test_awx_runner.py -q

# AWX survey specs (JSON, one per playbook) from what each playbook reads (the roles' argument specs and
# tools/playbook_vars.yml). It needs PyYAML only: the demo's lean venv, not the test tool chain.
surveys: demo-venv
	$(DEMO_BIN)/python tools/awx_surveys.py --output $(BUILD)/awx/surveys

# The simulator image stands in for ollama/ollama in the Docker engine.
sim-image:
	bash tests/docker/build_sim_image.sh llmops/ollama-sim:test

molecule: collection sim-image
	NO_COLOR=1 $(BIN)/molecule test --all

# Benchmarks: figures side by side in one run, written to bench/results.md.
bench: deps collection sim-image
	$(BIN)/python -m tests.bench

clean:
	rm -rf $(BUILD) $(VENV) tests/output
