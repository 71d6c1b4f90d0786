# Everything a new machine needs: `make test` and `make demo` create the
# virtual environment on first use and install skreg with its extras.

PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.skreg-installed

.PHONY: test demo doc bench lint clean

$(PY):
	$(PYTHON) -m venv $(VENV)

$(STAMP): pyproject.toml | $(PY)
	$(PY) -m pip install --upgrade pip
	$(PY) -m pip install -e ".[test,bench,doc,dev]"
	touch $(STAMP)

test: $(STAMP)
	$(PY) -m pytest

demo: $(STAMP)
	$(PY) benchmarks/demo.py

doc: $(STAMP)
	$(PY) -m sphinx -W --keep-going -b html doc doc/_build/html

lint: $(STAMP)
	$(PY) -m ruff check .

bench: $(STAMP)
	$(PY) benchmarks/bench_linear.py
	$(PY) benchmarks/bench_cv.py
	$(PY) benchmarks/bench_mlp.py
	$(PY) benchmarks/bench_mlp_floor.py
	$(PY) benchmarks/bench_mlp_sparse.py

clean:
	rm -rf doc/_build build *.egg-info
