# One command to run the bot, one to run the tests; both set up .venv/ first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# The PIAF evaluation set (articles/ and questions.jsonl), kept outside the repository.
PIAF ?= ../shared/eval/piaf

.PHONY: setup run test lint bench bench-build bench-scale eval piaf piaf-check soak clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	# The CPU build of torch first (set PIP_EXTRA_INDEX_URL to the CPU wheel index elsewhere).
	$(BIN)/python -m pip install --quiet "torch==2.13.0"
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

setup: $(STAMP)

run: $(STAMP)
	$(BIN)/python -m bot

lint: $(STAMP)
	$(BIN)/ruff check bot index tests bench
	$(BIN)/ruff format --check bot index tests bench
	$(BIN)/mypy

test: lint
	$(BIN)/python -m pytest -q

# Answer latency of the real bot through the loopback Bot API server, on the seed collection.
bench: $(STAMP)
	$(BIN)/python -m bench.latency

# Where a cold build's time goes (docs/benchmarks.md, "Build"): 30 PIAF articles, an empty
# cache; ~1 minute.
bench-build: $(STAMP)
	$(BIN)/python -m bench.build

# The store at 10k, 100k and 1M passages (docs/benchmarks.md, "Scale");
# DATABASE_URL=postgresql://… for PostgreSQL (each size in a new database of that server).
# Minutes, and ~6 GB of RAM at 1M.
bench-scale: $(STAMP)
	$(BIN)/python -m bench.scale $(if $(DATABASE_URL),--database-url $(DATABASE_URL))

# Load, Bot API faults, kill -9 during changes and a full disk (docs/operations.md, "Load and
# faults"). The disk phase mounts a tmpfs: run as root, or it says it skipped.
soak: $(STAMP)
	$(BIN)/python -m bench.soak
	$(BIN)/python -m bench.crash

# The evaluations of docs/evaluation.md: PIAF test with the off-topic test questions (the
# reported figures), then the multilingual dev set.
# Minutes of CPU on an empty embedding cache (data/eval-piaf keeps it between runs).
eval: piaf-check $(STAMP)
	$(BIN)/python -m index eval --articles $(PIAF)/articles \
	    --questions $(PIAF)/questions.jsonl --split test --data data/eval-piaf \
	    --offtopic eval/offtopic.jsonl
	$(BIN)/python -m index eval --articles $(PIAF)/articles \
	    --questions eval/multilingual_dev.jsonl --split dev --data data/eval-piaf

# PIAF v1.0 (etalab-ia/piaf-code, piaf-v1.0.json, MIT) made into $(PIAF)/articles and
# $(PIAF)/questions.jsonl, with the same dev/test split as the README's figures. Online.
piaf: $(STAMP)
	$(BIN)/python -m bench.fetch_piaf --out $(PIAF)

piaf-check:
	@test -d $(PIAF)/articles -a -f $(PIAF)/questions.jsonl || { \
	    echo "make eval needs PIAF v1.0 in $(PIAF) (articles/ and questions.jsonl), not there."; \
	    echo "It is piaf-v1.0.json of https://github.com/etalab-ia/piaf-code (MIT), converted:"; \
	    echo "  make piaf                 (online: fetches and converts it into $(PIAF))"; \
	    echo "  python -m bench.fetch_piaf --source piaf-v1.0.json --out $(PIAF)  (a file you downloaded)"; \
	    echo "or point PIAF=folder at a copy (make eval PIAF=...)."; \
	    exit 1; }

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
