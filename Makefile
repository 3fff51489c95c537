# omnikpi: PGXS build.  `make test` and `make demo` also work on a machine that
# has no PostgreSQL development files yet: their scripts install what is missing
# first, so the PGXS part below is only included once pg_config can point at it.

EXTENSION    = omnikpi
MODULE_big   = omnikpi
OBJS         = $(patsubst %.c,%.o,$(sort $(wildcard src/*.c src/*/*.c)))

# Versions.  sql/omnikpi--<version>.sql installs a version whole and
# sql/omnikpi--<from>--<to>.sql updates from the release before; both are
# written by hand, and test/suites/upgrade.sh checks that every released
# version updated to the current one has the same objects as a fresh install.
# Released scripts are frozen (sql/released.sha256).
DATA         = $(sort $(wildcard sql/omnikpi--*.sql))
REGRESS      = $(patsubst test/sql/%.sql,%,$(sort $(wildcard test/sql/*.sql)))
REGRESS_OPTS = --inputdir=test --load-extension=$(EXTENSION)
PG_CPPFLAGS  = -I$(srcdir)/src
PG_CFLAGS    = -Wextra -Wno-unused-parameter -Wmissing-prototypes
PG_CONFIG   ?= pg_config

PGXS := $(shell $(PG_CONFIG) --pgxs 2>/dev/null)
PG_SERVER_INCLUDEDIR := $(shell $(PG_CONFIG) --includedir-server 2>/dev/null)

# `make` alone builds the extension, as in any PGXS project.
.DEFAULT_GOAL := all

.PHONY: test demo demo-stop dashboard bench test-asan fuzz sqlsmith bench-refresh bench-check-sources test-docs mutation coverage test-random

# Installs missing packages, builds with -Werror, installs, runs every suite in
# a throw-away cluster and exits non-zero on any failure.
test:
	bash test/run.sh

# Runs every SQL example of README.md, CONTRIBUTING.md and docs/*.md and
# compares what it prints with the output shown under it (`make test` runs it
# too); OMNIKPI_DOCS="README.md docs/x.md" runs some.  Needs omnikpi installed.
test-docs:
	bash test/docs/run.sh

# Builds and installs like `make test`, times omnikpi against PostgreSQL's own
# aggregates and plain SQL in a throw-away cluster, writes bench/results/latest.md.
bench:
	bash bench/run.sh

# Builds and installs like `make test`, starts the demo cluster in
# /tmp/omnikpi-demo (or uses the server the PG* variables name), generates a
# demo company (INTERACTIONS=1000000 by default), creates the KPI views,
# prints a report and leaves the server running.  `make demo-stop` stops it.
demo:
	@bash demo/run.sh

demo-stop:
	@bash demo/stop.sh

# Builds the dashboard (dashboard/, Observable Framework) against the demo's
# database as its BI role, serves it on 127.0.0.1 and prints the address.
dashboard:
	@bash dashboard/build.sh

# The regression suite against a server running omnikpi built with
# AddressSanitizer and UndefinedBehaviorSanitizer (`make test` runs it too).
test-asan:
	bash test/asan/run.sh

# omnikpi on a Citus coordinator and two workers on loopback, compared with
# local tables; skipped (with the reason) when Citus is not installed for the
# server.  `make test` runs it too.  See docs/scale-out.md.
.PHONY: test-citus
test-citus:
	bash test/citus/run.sh

# The channel_summary parsers under libFuzzer for FUZZ_SECONDS (default 600);
# `make test` runs a short bounded round.
fuzz:
	bash test/fuzz/run.sh

# sqlsmith against omnikpi for SQLSMITH_QUERIES random queries (default 20000);
# `make test` runs a short bounded round.
sqlsmith:
	bash test/sqlsmith/run.sh

# Mutation testing of src/: each mutant built into a private PostgreSQL copy
# and the pg_regress suite run against it; writes the mutation score and the
# surviving mutants to test/mutation/results/latest.md.  The whole run takes
# hours; MUTATION_SAMPLE, MUTATION_FILES and MUTATION_JOBS bound it (see
# test/mutation/run.sh).
mutation:
	bash test/mutation/run.sh

# Line and branch coverage of src/ by the pg_regress suite, from a build with
# gcov instrumentation in a private PostgreSQL copy; writes a summary to
# test/coverage/latest.md and an HTML report to coverage/.
coverage:
	bash test/coverage/run.sh

# The randomized suites with fresh seeds and longer budgets than make test's
# fixed-seed rounds: differential, sqlsmith, libFuzzer and materialized_random;
# prints each seed.
test-random:
	bash test/random.sh

# Reading every materialized KPI view against its plain form, and the
# incremental refresh after one new day against a full rebuild, on the demo
# data at 2.5, 5 and 10 million interactions; writes bench/results/refresh.md.
bench-refresh:
	bash bench/refresh.sh

# omnikpi.check_sources on the running demo data (make demo INTERACTIONS=10000000),
# against count(*) of the sources, with the scans it takes; writes
# bench/results/check_sources.md.
bench-check-sources:
	bash bench/check_sources.sh

ifneq ($(wildcard $(PG_SERVER_INCLUDEDIR)/postgres.h),)
include $(PGXS)
else
all install installcheck:
	@echo "PostgreSQL server development files not found (pg_config: $(PG_CONFIG))." >&2
	@echo "Install postgresql-server-dev-15, or run 'make test', which installs it." >&2
	@exit 1
endif
