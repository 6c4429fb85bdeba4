# Vaka: `make run` sets everything up and serves the app; `make test` runs the suite.
VENV    := .venv
PYTHON  := $(VENV)/bin/python
FLASK   := $(VENV)/bin/flask --app app
PORT    ?= 5000
# gunicorn workers of `make run` (its writers take turns on SQLite: models/base.py).
WEB_CONCURRENCY ?= 4
CATALOG := app/translations/sv/LC_MESSAGES

.PHONY: run test lint translations extract-messages clean

$(VENV)/installed: requirements.txt
	python3.11 -m venv $(VENV) || python3 -m venv $(VENV)
	$(PYTHON) -m pip install --quiet --upgrade pip
	$(PYTHON) -m pip install --quiet -r requirements.txt
	touch $@

$(CATALOG)/messages.mo: $(CATALOG)/messages.po $(VENV)/installed
	$(VENV)/bin/pybabel compile --statistics -d app/translations

translations: $(CATALOG)/messages.mo

instance/secret_key:
	mkdir -p instance
	$(PYTHON) -c "import secrets; print(secrets.token_hex(32))" > $@
	chmod 600 $@

# The app reads its key from instance/secret_key when SECRET_KEY is not set.
# gunicorn serves as in production (gunicorn.conf.py: sync workers, each with the model
# loaded, the anonymous pages unlogged), over plain HTTP on loopback.
# The jobs worker (queue: instance/jobs.sqlite) runs beside the server and stops with it
# (SIGTERM: a background job of a script ignores SIGINT until the worker handles it).
run: $(VENV)/installed translations instance/secret_key
	$(FLASK) db upgrade
	$(FLASK) ml ensure-model
	$(FLASK) demo-data --if-empty --accounts-file instance/demo-accounts.txt
	@echo "Demo accounts (role, e-mail, password):"
	@cat instance/demo-accounts.txt 2>/dev/null || echo "  (none: the database was not empty when demo data would have been loaded)"
	@echo "Serving on http://127.0.0.1:$(PORT), jobs worker beside it"
	$(FLASK) jobs worker & worker=$$!; \
	trap 'kill -TERM $$worker 2>/dev/null; wait $$worker' EXIT INT TERM; \
	SESSION_COOKIE_SECURE=0 WEB_CONCURRENCY=$(WEB_CONCURRENCY) $(VENV)/bin/gunicorn \
		-c gunicorn.conf.py --bind 127.0.0.1:$(PORT) 'app:create_app()'

PYTEST  := $(PYTHON) -m pytest --durations=20

# The whole suite on SQLite; with TEST_DATABASE_URL set, on PostgreSQL too, the two runs
# side by side (a core each; own Redis databases each: the jobs tests' workers would take
# the other run's jobs), each printed when both are done.
# Each run ends with its 20 slowest tests.
test: $(VENV)/installed translations
	@if [ -z "$$TEST_DATABASE_URL" ]; then exec $(PYTEST); fi; \
	logs=$$(mktemp -d); \
	echo "Running the suite on SQLite and on PostgreSQL side by side..."; \
	env -u TEST_DATABASE_URL $(PYTEST) -p no:cacheprovider >$$logs/sqlite 2>&1 & sqlite=$$!; \
	TEST_REDIS_URL=redis://127.0.0.1:6379/14 TEST_JOBS_REDIS_URL=redis://127.0.0.1:6379/13 \
		$(PYTEST) -p no:cacheprovider \
		>$$logs/postgresql 2>&1; postgresql=$$?; \
	wait $$sqlite; sqlite=$$?; \
	echo "=== The suite on SQLite"; cat $$logs/sqlite; \
	echo "=== The suite on PostgreSQL"; cat $$logs/postgresql; \
	rm -r $$logs; [ $$sqlite -eq 0 ] && [ $$postgresql -eq 0 ]

lint: $(VENV)/installed
	$(VENV)/bin/ruff check .

# After changing UI strings: extract, then update the Swedish catalog and translate.
extract-messages: $(VENV)/installed
	$(VENV)/bin/pybabel extract -F babel.cfg -k _l -o app/translations/messages.pot .
	$(VENV)/bin/pybabel update -i app/translations/messages.pot -d app/translations

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
