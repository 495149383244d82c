# llmops.ollama — one command for newcomers, one for the tests.
#
#   make demo   the main job: health and facts of the Ollama server on this host
#   make test   everything CI runs: lint, ansible-test sanity, unit, integration, molecule
#
# Both set up what they need themselves (a virtualenv from pinned requirements
# and the collection linked as ansible_collections/llmops/ollama under .build/).

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

.PHONY: help demo test deps venv collection lint sanity unit integration molecule sim-image bench clean

help:
	@sed -n '2,8p' Makefile

## ---------------------------------------------------------------- setup
deps:
	@./.ci/deps.sh

$(VENV)/.stamp: requirements/test.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements/test.txt
	touch $@

venv: $(VENV)/.stamp

collection: venv
	@mkdir -p $(dir $(COLL_LINK))
	@ln -sfn $(CURDIR) $(COLL_LINK)

## ---------------------------------------------------------------- main job
demo: collection
	$(BIN)/python -m tests.ollama_sim.ensure --api-url $(OLLAMA_API_URL) --data $(BUILD)/sim-data
	$(BIN)/ansible-playbook -i inventory/local playbooks/health.yml -e ollama_api_url=$(OLLAMA_API_URL)

## ---------------------------------------------------------------- tests
# ansible-test --venv bootstraps pip with a script from a host CI cannot reach.
GET_PIP_CACHE := $(HOME)/.ansible/test/cache/get_pip_24_2.py
$(GET_PIP_CACHE): .ci/get_pip_offline.py
	@mkdir -p $(dir $@)
	@if [ ! -e $@ ] || grep -q 'Stand-in for the get-pip script' $@; then cp $< $@; fi

test: deps collection lint sanity unit integration molecule
	@echo "make test: all stages passed"

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

unit: collection
	$(BIN)/pytest tests/unit -q

integration: collection
	$(BIN)/pytest tests/integration -q

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
