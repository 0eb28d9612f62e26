# eeszt.connect — the commands a user types.
#
#   make demo [SITES=N]   whole flow on N simulated sites of this machine
#   make test             every test: unit, lint, sanity, build, integration, Molecule
#   make bench            the fleet benchmark
#   make dist             build the collection tarball (needs only requirements.txt)
#
# Each target sets up what it needs from nothing: a virtual environment with
# pinned requirements in .venv, and this checkout linked as the collection
# eeszt.connect under .cache/collections.

SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := $(CURDIR)/.venv
BIN := $(VENV)/bin
SITES ?= 5
LAB_DIR ?= $(CURDIR)/.lab
COLLECTIONS := $(CURDIR)/.cache/collections
COLLECTION_LINK := $(COLLECTIONS)/ansible_collections/eeszt/connect
SANITY_TREE ?= $(CURDIR)/.cache/sanity/ansible_collections/eeszt/connect

export ANSIBLE_CONFIG := $(CURDIR)/ansible.cfg
export ANSIBLE_COLLECTIONS_PATH := $(COLLECTIONS)
export EESZT_LAB_DIR := $(LAB_DIR)
export EESZT_DEMO_SITES := $(SITES)
export PATH := $(BIN):$(PATH)
export PYTHONDONTWRITEBYTECODE := 1

.PHONY: help setup demo lab-up lab-down test unit lint sanity dist build build-check \
        changelog-lint integration molecule site-image mutation bench clean \
        prerequisites site-python

help:
	@echo "make demo [SITES=N]  run the whole flow on N simulated sites (default 5)"
	@echo "make test            run every test (unit, lint, sanity, build, integration, Molecule)"
	@echo "make mutation [AREA=name]  mutation testing by area (not in make test; docs/architecture.md)"
	@echo "make bench           fleet benchmark"
	@echo "make dist            build the collection tarball into build/ (light: requirements.txt only)"
	@echo "make clean           remove the virtual environment, caches and lab output"

# --- set-up -----------------------------------------------------------------

$(BIN)/.installed: requirements.txt requirements-test.txt constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements-test.txt -c constraints.txt
	touch $@

$(COLLECTION_LINK):
	mkdir -p $(dir $@)
	ln -sfn $(CURDIR) $@

setup: $(BIN)/.installed $(COLLECTION_LINK)

# --- demo ---------------------------------------------------------------------

lab-up: setup
	$(BIN)/ansible-playbook playbooks/lab.yml -i inventories/demo -e eeszt_lab_state=started

lab-down: setup
	$(BIN)/ansible-playbook playbooks/lab.yml -i inventories/demo -e eeszt_lab_state=stopped

# The verdict comes last: site.yml writes its fleet summary to the lab directory, the lab stops, and
# demo_summary.py prints the closing block (sites passed / failed / refused, each problem site with its
# category, message and hint, the report) and exits with site.yml's status. When a site failed, make adds
# its one line "make: *** [Makefile:NN: demo] Error 2" after the block (the block's last line says so): that
# is the exit status, which make always reports for a failing recipe, and only a "-" (exit 0) would hide.
demo: setup
	@echo "== eeszt.connect demo: $(SITES) simulated sites, lab in $(LAB_DIR)"
	$(BIN)/ansible-playbook playbooks/lab.yml -i inventories/demo -e eeszt_lab_state=started
	@rc=0; rm -f "$(LAB_DIR)/fleet-summary.json"; \
	EESZT_FLEET_SUMMARY_JSON="$(LAB_DIR)/fleet-summary.json" \
	  $(BIN)/ansible-playbook playbooks/site.yml -i inventories/demo || rc=$$?; \
	$(BIN)/ansible-playbook playbooks/lab.yml -i inventories/demo -e eeszt_lab_state=stopped; \
	$(BIN)/python tests/tools/demo_summary.py "$(LAB_DIR)" "$(LAB_DIR)/fleet-summary.json" $$rc

# --- tests --------------------------------------------------------------------

# prerequisites comes first: one message naming every missing tool (a failure under CI=true).
test: prerequisites setup changelog-lint site-python unit lint sanity build-check integration molecule
	@echo "make test: all test stages passed"

unit: setup
	$(BIN)/pytest -q tests/unit

lint: setup
	$(BIN)/ansible-lint --offline

# The tools and services `make test` uses that pip does not install (README "Tests"):
# all missing ones in one message; under CI=true a missing one fails the run.
prerequisites:
	$(PYTHON) tests/tools/prerequisites.py

# The lowest Python a site may have (README "Supported sites"; tests/config.yml python_requires):
# vermin reads the code that runs on sites (the modules and module_utils; the module files that only
# document a controller action hold no code) and fails on any construct or standard-library name
# newer than SITE_PYTHON. --no-parse-comments: a `# novermin` comment cannot hide one.
SITE_PYTHON := 3.8
site-python: setup
	$(BIN)/vermin --target=$(SITE_PYTHON)- --violations --eval-annotations --no-parse-comments --no-tips \
	  plugins/modules plugins/module_utils

changelog-lint: setup
	$(BIN)/antsibull-changelog lint

# ansible-test must run inside ansible_collections/<ns>/<name>; it gets a copy of
# the files git knows (tracked and new, not ignored) and its own virtual
# environments for the sanity tools.
sanity: setup
	pipv=$$(grep -oP "pip='\K[0-9.]+" $(VENV)/lib/python*/site-packages/ansible_test/_internal/python_requirements.py | head -n1); \
	  cache=$$HOME/.ansible/test/cache/get_pip_$${pipv//./_}.py; \
	  if [ ! -f "$$cache" ] || grep -q 'eeszt.connect developers' "$$cache"; then \
	    mkdir -p "$$(dirname "$$cache")"; cp tests/tools/get_pip_offline.py "$$cache"; fi
	rm -rf $(SANITY_TREE) && mkdir -p $(SANITY_TREE)
	git ls-files -z --cached --others --exclude-standard | xargs -0 -I{} cp --parents {} $(SANITY_TREE)/ 2>/dev/null || true
	cd $(SANITY_TREE) && git init -q && git add -A && \
	  $(BIN)/ansible-test sanity --venv --python 3.11 --color no

# The tarball needs only what a vendor's controller has: requirements.txt, in
# a virtual environment of its own (not the whole test environment).
DIST_VENV := $(CURDIR)/.cache/dist-venv

$(DIST_VENV)/.installed: requirements.txt
	$(PYTHON) -m venv $(DIST_VENV)
	$(DIST_VENV)/bin/pip install --quiet -r requirements.txt
	touch $@

dist: $(DIST_VENV)/.installed
	rm -f build/eeszt-connect-*.tar.gz
	mkdir -p build
	$(DIST_VENV)/bin/ansible-galaxy collection build --force --output-path build .

build: dist

build-check: setup dist
	$(BIN)/python tests/tools/check_build.py build/eeszt-connect-*.tar.gz

integration: setup
	$(BIN)/pytest -q tests/integration

site-image:
	tests/images/build-site-image.sh

molecule: setup site-image
	$(BIN)/molecule test --all

# Mutation testing by area (mutmut makes the mutants; not part of make test): docs/architecture.md.
# make mutation AREA=pki MUTATION_ARGS="--seed 7 --markdown"; tests/tools/mutation.py --help for the options.
mutation: setup
	$(BIN)/pip install -q -r requirements-mutation.txt
	$(BIN)/python tests/tools/mutation.py $(if $(AREA),--area $(AREA)) $(MUTATION_ARGS)

bench: setup
	$(BIN)/python tests/tools/bench.py

clean:
	-$(BIN)/ansible-playbook playbooks/lab.yml -i inventories/demo -e eeszt_lab_state=stopped >/dev/null 2>&1
	rm -rf $(VENV) .cache build $(LAB_DIR) .pytest_cache
