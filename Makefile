# Vaka: `make run` sets everything up and serves the app; `make test` runs the suite.
VENV    := .venv
PYTHON  := $(VENV)/bin/python
FLASK   := $(VENV)/bin/flask --app app
PORT    ?= 5000
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

run: $(VENV)/installed translations instance/secret_key
	SECRET_KEY=$$(cat instance/secret_key) $(FLASK) db upgrade
	SECRET_KEY=$$(cat instance/secret_key) $(FLASK) ml ensure-model
	SECRET_KEY=$$(cat instance/secret_key) $(FLASK) demo-data --if-empty --accounts-file instance/demo-accounts.txt
	@echo "Demo accounts (role, e-mail, password):"
	@cat instance/demo-accounts.txt 2>/dev/null || echo "  (none: the database was not empty when demo data would have been loaded)"
	@echo "Serving on http://127.0.0.1:$(PORT)"
	SECRET_KEY=$$(cat instance/secret_key) $(FLASK) run --host 127.0.0.1 --port $(PORT)

# The whole suite on SQLite; again on PostgreSQL when TEST_DATABASE_URL is set.
# Each run ends with its 20 slowest tests.
test: $(VENV)/installed translations
	env -u TEST_DATABASE_URL $(PYTHON) -m pytest --durations=20
	@if [ -n "$$TEST_DATABASE_URL" ]; then \
		echo "Running the suite again on PostgreSQL"; \
		$(PYTHON) -m pytest --durations=20; \
	fi

lint: $(VENV)/installed
	$(VENV)/bin/ruff check .

# After changing UI strings: extract, then update the Swedish catalog and translate.
extract-messages: $(VENV)/installed
	$(VENV)/bin/pybabel extract -F babel.cfg -k _l -o app/translations/messages.pot .
	$(VENV)/bin/pybabel update -i app/translations/messages.pot -d app/translations

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
