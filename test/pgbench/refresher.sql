-- test/pgbench/refresher.sql: what a scheduler runs, and when it finished.
CALL omnikpi.refresh_kpi_views('kpi');
INSERT INTO refresh_log VALUES (clock_timestamp());
