# Two commands matter: `make run` and `make test`. Both set up first.
PY ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
SYSSTAMP := $(VENV)/.system-packages
SYSTEM_PACKAGES := tesseract-ocr tesseract-ocr-vie poppler-utils fonts-dejavu-core chromium catdoc antiword

.PHONY: setup system run test lint bench fuzz train clean

setup: $(STAMP) $(SYSSTAMP)
	@mkdir -p data/raw/inbox data/raw/processed data/raw/quarantine

# System packages are installed only when running as root (CI, fresh machines);
# otherwise README lists what to install by hand.
$(SYSSTAMP):
	@python3 -m venv $(VENV) 2>/dev/null || true
	@if [ "$$(id -u)" = "0" ] && command -v apt-get >/dev/null; then \
	  missing=""; for p in $(SYSTEM_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	  if [ -n "$$missing" ]; then echo "installing system packages:$$missing"; \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing) >/dev/null; fi; \
	else echo "not root: install $(SYSTEM_PACKAGES) by hand (see README)"; fi
	@touch $@

$(STAMP): pyproject.toml constraints.txt
	@command -v $(PY) >/dev/null || { echo "need $(PY)"; exit 1; }
	@test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -c constraints.txt -e ".[dev]"
	@touch $@

# Ingest the bundled samples (read in place: only the inbox is drained) and compare communes.
# Run it twice: the second time every file is "unchanged".
run: setup
	$(BIN)/commune-metrics ingest data/raw/samples
	$(BIN)/commune-metrics compare

test: setup
	$(BIN)/ruff check .
	$(BIN)/python -m pytest -q

lint: setup
	$(BIN)/ruff check .

bench: setup
	$(BIN)/python -m tools.bench

# Rebuild the verifier (commune_metrics/extract/models/verifier.json) from the generated corpora
# and the real dev split; deterministic: the same rules and corpora give the same file.
# `make train REVIEWED="DIR ..."` also learns from folders written by `export-labels --docs`
# (tests/corpus/reviewed/* always count)
train: setup
	$(BIN)/python -m tools.train_verifier $(foreach d,$(REVIEWED),--reviewed $(d))

fuzz: setup
	$(BIN)/python -m tools.fuzz --files 1000

clean:
	rm -rf $(VENV) data/warehouse/*.duckdb data/.prefect
