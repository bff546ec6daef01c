# Xinqiao — the two commands of the quick start are `make run` and `make test`.
# Both create .venv and install the pinned dependencies (requirements.lock) on first use.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-$(shell cat requirements.lock pyproject.toml | sha1sum | cut -c1-12)
PYTEST_ARGS ?=

.PHONY: run test lint fmt browser lock messages docs clean

$(STAMP): requirements.lock pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements.lock
	$(BIN)/pip install --quiet --disable-pip-version-check --no-deps -e .
	rm -f $(VENV)/.installed-*
	touch $(STAMP)

## Run the platform on the embedded default (SQLite, web + worker, demo data on first run).
## The Debian packages (CJK font, Pango for PDF sheets) are optional for running: a warning only.
run: $(STAMP)
	-@scripts/ensure-chromium || echo "warning: without fonts-wqy-microhei and libpango the PDF sheets cannot be made"
	$(BIN)/xinqiao run

## Run the whole test suite (SQLite by default; set DATABASE_URL for PostgreSQL).
test: $(STAMP) browser
	XINQIAO_TESTING=1 XINQIAO_JOBS_IMMEDIATE=1 DB_CONN_MAX_AGE=0 XINQIAO_DATA_DIR=$$(mktemp -d) $(BIN)/pytest $(PYTEST_ARGS)

## Debian packages: the Chromium the browser tests drive, a CJK font, Pango (root or sudo).
browser:
	@scripts/ensure-chromium

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy xinqiao
	XINQIAO_DATA_DIR=$$(mktemp -d) $(BIN)/xinqiao makemigrations --check --dry-run
	XINQIAO_DATA_DIR=$$(mktemp -d) $(BIN)/xinqiao permissions_doc --check
	XINQIAO_DATA_DIR=$$(mktemp -d) $(BIN)/xinqiao risk_doc --check
	XINQIAO_DATA_DIR=$$(mktemp -d) $(BIN)/xinqiao spectacular --validate --fail-on-warn > /dev/null
	scripts/check-messages

fmt: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

## Re-extract translatable strings and compile the catalogues (needs GNU gettext).
messages: $(STAMP)
	cd xinqiao && XINQIAO_DATA_DIR=$$(mktemp -d) ../$(BIN)/django-admin makemessages --settings=xinqiao.settings --pythonpath=.. -l zh_Hans --no-location --no-obsolete
	cd xinqiao && XINQIAO_DATA_DIR=$$(mktemp -d) ../$(BIN)/django-admin compilemessages --settings=xinqiao.settings --pythonpath=..

docs: $(STAMP)
	XINQIAO_DATA_DIR=$$(mktemp -d) $(BIN)/xinqiao permissions_doc
	XINQIAO_DATA_DIR=$$(mktemp -d) $(BIN)/xinqiao risk_doc

## Re-pin every dependency from a fresh resolution of pyproject.toml.
lock:
	rm -rf /tmp/xinqiao-lock && $(PYTHON) -m venv /tmp/xinqiao-lock
	/tmp/xinqiao-lock/bin/pip install --quiet -e '.[dev]'
	( echo "# Pinned versions of every dependency (runtime and dev). Regenerate with \`make lock\`."; \
	  /tmp/xinqiao-lock/bin/pip freeze --exclude-editable | grep -vi '^xinqiao' ) > requirements.lock

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
