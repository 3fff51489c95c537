-- omnikpi 0.2.0 to 0.3.0, run by ALTER EXTENSION omnikpi UPDATE.  Every
-- statement runs on a 0.2.0 database: what changes is replaced in place or,
-- where its signature changed, re-created with the privileges and comment a
-- DBA gave it.  Each change here is also made in omnikpi--0.3.0.sql;
-- test/suites/upgrade.sh holds the two to the same objects.
\echo Use "ALTER EXTENSION omnikpi UPDATE TO '0.3.0'" to load this file. \quit
