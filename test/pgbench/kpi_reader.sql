-- test/pgbench/kpi_reader.sql: a dashboard click.  One of five KPI queries on
-- the materialized views of schema kpi (and one roll-up of the daily layer),
-- for a random month of the test data (2024-01 to 2024-04).  A reader's last
-- transaction (number :transactions, given with -D, counted in :done) waits
-- until two refreshes have finished, so that refreshes overlap the readers
-- however fast or slow the machine is; it stops waiting when the refresher
-- has gone (failed), and the suite then reports too few refreshes.
\set done :done + 1
\if :done = :transactions
DO $$
BEGIN
	WHILE (SELECT count(*) FROM refresh_log) < 2
		AND EXISTS (SELECT FROM pg_stat_activity WHERE application_name = 'omnikpi_refresher') LOOP
		PERFORM pg_sleep(0.05);
		PERFORM pg_stat_clear_snapshot();
	END LOOP;
END
$$;
\endif
\set kpi random(1, 5)
\set month random(0, 3)
\if :kpi = 1
SELECT month, rating_pct, channels, interactions FROM kpi.experience_rating_monthly ORDER BY month;
\elif :kpi = 2
SELECT channel, rating_pct, interactions FROM kpi.experience_rating_by_channel_monthly
WHERE month = (date '2024-01-01' + :month * interval '1 month')::date ORDER BY channel;
\elif :kpi = 3
SELECT quarter, channel, integration_score FROM kpi.integration_index_by_channel_quarterly ORDER BY quarter, channel;
\elif :kpi = 4
SELECT channel, csat_mean, csat_top2_pct, ces_mean, nps FROM kpi.satisfaction_by_channel_monthly
WHERE month = (date '2024-01-01' + :month * interval '1 month')::date ORDER BY channel;
\else
SELECT date_trunc('week', day)::date AS week, experience_rating(rollup(ratings)) AS rating_pct
FROM kpi.interactions_daily GROUP BY 1 ORDER BY 1;
\endif
