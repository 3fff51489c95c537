# omnikpi: PGXS build.  `make test` and `make demo` also work on a machine that
# has no PostgreSQL development files yet: their scripts install what is missing
# first, so the PGXS part below is only included once pg_config can point at it.

EXTENSION    = omnikpi
MODULE_big   = omnikpi
OBJS         = $(patsubst %.c,%.o,$(sort $(wildcard src/*.c)))
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

.PHONY: test demo demo-stop bench

# Installs missing packages, builds with -Werror, installs, runs every suite in
# a throw-away cluster and exits non-zero on any failure.
test:
	bash test/run.sh

# Builds and installs like `make test`, times omnikpi against PostgreSQL's own
# aggregates and plain SQL in a throw-away cluster, writes bench/results/latest.md.
bench:
	bash bench/run.sh

# Builds and installs like `make test`, starts the demo cluster in
# /tmp/omnikpi-demo (or uses the server the PG* variables name), generates a
# demo company (INTERACTIONS=1000000 by default), creates the KPI views,
# prints a report and leaves the server running.  `make demo-stop` stops it.
demo:
	bash demo/run.sh

demo-stop:
	bash demo/stop.sh

ifneq ($(wildcard $(PG_SERVER_INCLUDEDIR)/postgres.h),)
include $(PGXS)
else
all install installcheck:
	@echo "PostgreSQL server development files not found (pg_config: $(PG_CONFIG))." >&2
	@echo "Install postgresql-server-dev-15, or run 'make test', which installs it." >&2
	@exit 1
endif
