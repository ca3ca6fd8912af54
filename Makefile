# The two commands a newcomer needs: `make run` and `make test`.
PY      ?= python3
VENV    := .venv
BIN     := $(VENV)/bin
STAMP   := $(VENV)/.installed
export FLASK_APP := wsgi
# The app defaults to production (safe if forgotten); these commands are development.
export PORTAL_CONFIG ?= development
# Two workers by default (the CI machines have two cores); PYTEST_ARGS= runs serially.
PYTEST_ARGS ?= -n auto

.PHONY: run test install translations db demo lint bench worker clean extract-messages

$(STAMP): requirements.txt requirements-dev.txt
	$(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $(STAMP)

install: $(STAMP)

translations: install
	$(BIN)/pybabel compile --use-fuzzy -d portal/translations

db: install
	mkdir -p instance
	$(BIN)/flask db upgrade

demo: db
	$(BIN)/flask demo

run: translations demo
	@echo "Serving on http://127.0.0.1:5000 (Ctrl-C to stop)"
	$(BIN)/flask run --host 127.0.0.1 --port 5000

test: translations
	$(BIN)/pytest $(PYTEST_ARGS)

worker: db
	$(BIN)/flask notifications worker

lint: install
	$(BIN)/ruff check portal tests bench config.py wsgi.py

# Re-extract messages and merge them into the catalogues (then translate the new ones).
extract-messages: install
	$(BIN)/pybabel extract -F babel.cfg -k _l -o portal/translations/messages.pot .
	$(BIN)/pybabel update -i portal/translations/messages.pot -d portal/translations --no-fuzzy-matching --ignore-obsolete

bench: install
	@command -v wrk >/dev/null || apt-get install -y -qq wrk >/dev/null 2>&1 || echo "wrk not installed: using the slower Python client"
	$(BIN)/python -m bench.run

clean:
	rm -rf $(VENV) instance/*.sqlite3
