# Two commands: `make demo` and `make test`. Both set up .venv first (once).
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
export PREFECT_SERVER_ANALYTICS_ENABLED ?= false
export PREFECT_HOME ?= $(CURDIR)/.prefect

.PHONY: setup demo test test-fast lint clean wheel bench engines flink-up flink-down s3-bin s3-up s3-down browser

setup: $(STAMP)

# torch first: `torch==2.13.0` takes the local CPU wheel; the project is then
# installed against constraints.txt so every machine resolves the same versions.
$(STAMP): pyproject.toml constraints.txt
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check torch==2.13.0
	$(PY) -m pip install --quiet --disable-pip-version-check -c constraints.txt -e ".[dev]"
	touch $(STAMP)

demo: setup
	$(VENV)/bin/sentiment demo

# The engine tests (-m engine) need `make engines`; without Java or Maven they skip and say so.
test: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(MAKE) --no-print-directory engines || echo "make test: engines not fetched; the engine tests will skip"
	$(MAKE) --no-print-directory s3-bin || echo "make test: no S3 server built (needs Go); the s3 tests will skip"
	$(MAKE) --no-print-directory browser || echo "make test: no chromium; the browser test will skip"
	$(VENV)/bin/pytest -q

# Everyday work: no engines, no slow tests (make test is what CI runs).
test-fast: setup
	$(VENV)/bin/pytest -q -m "not engine and not slow"

# Apache Flink and Apache Spark for Beam's portable runner, fetched once into .engines/ (see
# infra/engines/README.md): the job servers' class paths from Maven Central, and a Flink
# distribution (Flink's jars and bin/ scripts, from the apache-flink packages) in its own
# virtual environment for the standalone cluster. Offline afterwards.
ENGINES        := .engines
FLINK_VERSION  := 1.19.3
ENGINE_POMS    := infra/engines/flink-job-server.pom.xml infra/engines/spark-job-server.pom.xml
engines: $(ENGINES)/.fetched

$(ENGINES)/.fetched: $(ENGINE_POMS)
	@command -v java >/dev/null || { echo "make engines: Java 17 is needed (apt-get install openjdk-17-jre-headless)"; exit 1; }
	@command -v mvn >/dev/null || { echo "make engines: Maven is needed (apt-get install maven)"; exit 1; }
	rm -rf $(ENGINES)/flink-job-server $(ENGINES)/spark-job-server
	mvn -q -B -f infra/engines/flink-job-server.pom.xml dependency:copy-dependencies \
	    -DincludeScope=runtime -DoutputDirectory=$(CURDIR)/$(ENGINES)/flink-job-server
	mvn -q -B -f infra/engines/spark-job-server.pom.xml dependency:copy-dependencies \
	    -DincludeScope=runtime -DoutputDirectory=$(CURDIR)/$(ENGINES)/spark-job-server
	test -x $(ENGINES)/flink/bin/python || python3 -m venv $(ENGINES)/flink
	$(ENGINES)/flink/bin/python -m pip install --quiet --disable-pip-version-check --no-deps \
	    apache-flink==$(FLINK_VERSION) apache-flink-libraries==$(FLINK_VERSION)
	touch $@

# A standalone Flink cluster on 127.0.0.1 (JobManager + TaskManager, web UI on :8081),
# for infra/runners/flink-cluster.yaml.
flink-up: setup engines
	$(PY) -m pipelines.flink_cluster up

flink-down: setup
	$(PY) -m pipelines.flink_cluster down

# Debian's chromium and its chromedriver for the web page's browser test (apt-get, as root).
browser:
	@command -v chromium >/dev/null && command -v chromedriver >/dev/null || { \
	  test "$$(id -u)" = 0 && command -v apt-get >/dev/null || { echo "make browser: run as root on Debian, or: apt-get install chromium chromium-driver"; exit 1; }; \
	  apt-get install -y -q chromium chromium-driver >/dev/null || { apt-get update -q >/dev/null && apt-get install -y -q chromium chromium-driver >/dev/null; }; }

# A local S3 server (versitygw) for a warehouse at s3://: built once into .engines/bin with Go.
VERSITYGW_VERSION := v1.8.0
s3-bin: $(ENGINES)/bin/versitygw

$(ENGINES)/bin/versitygw:
	@command -v go >/dev/null || { echo "make s3-bin: Go is needed to build versitygw"; exit 1; }
	GOBIN=$(CURDIR)/$(ENGINES)/bin go install github.com/versity/versitygw/cmd/versitygw@$(VERSITYGW_VERSION)

# Starts it on 127.0.0.1:7070 (objects under .s3/data), creates bucket `demo`, prints the exports:
#   eval "$$(make -s s3-up)"; SENTIMENT_HOME=s3://demo/warehouse make demo
s3-up: setup s3-bin
	@$(PY) -m sentiment.s3server up

s3-down: setup
	@$(PY) -m sentiment.s3server down

# The project as a wheel, for Beam workers on Flink, Spark or Dataflow (--extra_packages).
wheel: setup
	rm -rf dist
	$(PY) -m pip wheel --quiet --disable-pip-version-check --no-deps -w dist .

# Scoring throughput against its peers (see bench/score.py).
bench: setup
	$(PY) -m bench.score

lint: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

clean:
	rm -rf $(VENV) .prefect warehouse dist build  # .engines stays: `rm -rf .engines` to fetch again
