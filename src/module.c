/*
 * module.c: the extension's module magic block.  omnikpi has no GUCs yet, so
 * there is no _PG_init.
 */
#include "postgres.h"

#include "fmgr.h"

PG_MODULE_MAGIC;
