-- Time zones: days, months and quarters are cut in the one zone given to
-- create_kpi_views (by default the calling session's), written into the
-- views, whatever the zone of the session that creates, refreshes or reads.
-- For a timestamptz, a timestamp and a date source, each with rows half an
-- hour either side of midnight at a month's end in New York, the plain and
-- the materialized form give the same days and months, worked out by hand,
-- refreshed from sessions in UTC and in Tokyo and read from a third zone.
SET datestyle = 'ISO, YMD';
\set SHOW_CONTEXT never
SET client_min_messages = warning;

CREATE SCHEMA tz_shop;
-- New York local times: three contacts on January 31st at 23:30, two on
-- February 1st at 00:30; as timestamptz these are 04:30 and 05:30 UTC on
-- February 1st.  The date column has the New York dates.
CREATE TABLE tz_shop.contacts (customer_id int, channel text, at_tz timestamptz, at_local timestamp, on_day date,
	satisfaction int, context_carried bool);
INSERT INTO tz_shop.contacts VALUES
	(1, 'web', '2026-01-31 23:30 America/New_York', '2026-01-31 23:30', '2026-01-31', 5, true),
	(2, 'web', '2026-01-31 23:30 America/New_York', '2026-01-31 23:30', '2026-01-31', 3, true),
	(3, 'store', '2026-01-31 23:30 America/New_York', '2026-01-31 23:30', '2026-01-31', 1, false),
	(4, 'store', '2026-02-01 00:30 America/New_York', '2026-02-01 00:30', '2026-02-01', 4, false),
	(5, 'app', '2026-02-01 00:30 America/New_York', '2026-02-01 00:30', '2026-02-01', 2, true),
	-- and one in the next quarter, on March 31st at 23:30
	(6, 'app', '2026-03-31 23:30 America/New_York', '2026-03-31 23:30', '2026-03-31', 5, true);

-- Each of the three columns as occurred_at, plain and materialized, made
-- from a session in New York without naming a zone.
SET timezone = 'America/New_York';
CREATE FUNCTION pg_temp.make(target name, time_column text, materialized boolean) RETURNS bigint LANGUAGE sql AS $$
	SELECT count(*) FROM omnikpi.create_kpi_views(target, interactions => 'tz_shop.contacts', materialized => materialized,
		columns => jsonb_build_object('interactions', jsonb_build_object('occurred_at', time_column)))
$$;
CREATE SCHEMA tz_tz_plain; CREATE SCHEMA tz_tz_mat;
CREATE SCHEMA tz_local_plain; CREATE SCHEMA tz_local_mat;
CREATE SCHEMA tz_day_plain; CREATE SCHEMA tz_day_mat;
SELECT pg_temp.make('tz_tz_plain', 'at_tz', false) > 0 AS made, pg_temp.make('tz_tz_mat', 'at_tz', true) > 0 AS made,
	pg_temp.make('tz_local_plain', 'at_local', false) > 0 AS made, pg_temp.make('tz_local_mat', 'at_local', true) > 0 AS made,
	pg_temp.make('tz_day_plain', 'on_day', false) > 0 AS made, pg_temp.make('tz_day_mat', 'on_day', true) > 0 AS made;

-- The months, days and quarters of every form, as one line each, to compare.
CREATE FUNCTION pg_temp.cut(kpi name) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
	months text;
	quarters text;
	days text;
BEGIN
	EXECUTE format('SELECT string_agg(format(''%%s: %%s contacts, %%s%%%%'', month, interactions, round(rating_pct::numeric, 2)), ''; '' ORDER BY month)
					FROM %I.experience_rating_monthly', kpi) INTO months;
	EXECUTE format('SELECT string_agg(format(''%%s: %%s'', quarter, round(integration_index::numeric, 2)), ''; '' ORDER BY quarter)
					FROM %I.integration_index_quarterly', kpi) INTO quarters;
	IF to_regclass(format('%I.interactions_daily', kpi)) IS NOT NULL THEN
		EXECUTE format('SELECT string_agg(format(''%%s: %%s'', day, n), ''; '' ORDER BY day)
						FROM (SELECT day, sum(interactions) AS n FROM %I.interactions_daily GROUP BY day) d', kpi) INTO days;
	END IF;
	RETURN concat_ws(' | ', months, quarters, days);
END
$$;

-- January: web (5 + 3) / 2 -> 75, store 1 -> 0: 37.5 over 3 contacts;
-- February: store 4 -> 75, app 2 -> 25: 50 over 2; March: app 5 -> 100.
-- Q1 (March 31st included): web 2 of 2, store 0 of 2, app 2 of 2 carried: 66.67.
-- Days (materialized): January 31st 3, February 1st 2, March 31st 1.
SELECT kpi, pg_temp.cut(kpi) FROM unnest(ARRAY['tz_tz_plain', 'tz_tz_mat', 'tz_local_plain', 'tz_local_mat',
												'tz_day_plain', 'tz_day_mat']) AS kpi;

-- Refreshed from a session in UTC (as pg_cron runs), then from Tokyo,
-- with a new contact on February 1st 00:30 New York time each time.
SET timezone = 'UTC';
INSERT INTO tz_shop.contacts VALUES
	(7, 'app', '2026-02-01 00:30 America/New_York', '2026-02-01 00:30', '2026-02-01', 4, true);
CALL omnikpi.refresh_kpi_views('tz_tz_mat', full_rebuild => true);
CALL omnikpi.refresh_kpi_views('tz_local_mat', full_rebuild => true);
CALL omnikpi.refresh_kpi_views('tz_day_mat', full_rebuild => true);
SET timezone = 'Asia/Tokyo';
INSERT INTO tz_shop.contacts VALUES
	(8, 'web', '2026-01-31 23:30 America/New_York', '2026-01-31 23:30', '2026-01-31', 1, false);
CALL omnikpi.refresh_kpi_views('tz_tz_mat', late_window => '400 days');
CALL omnikpi.refresh_kpi_views('tz_local_mat', late_window => '400 days');
CALL omnikpi.refresh_kpi_views('tz_day_mat', late_window => '400 days');

-- Read from a session in Honolulu: January now web (5 + 3 + 1) / 3 -> 50,
-- store 0: 25 over 4 contacts; February store 75, app (2 + 4) / 2 -> 50:
-- 62.5 over 3.  Every form the same, plain or materialized.
SET timezone = 'Pacific/Honolulu';
SELECT kpi, pg_temp.cut(kpi) FROM unnest(ARRAY['tz_tz_plain', 'tz_tz_mat', 'tz_local_plain', 'tz_local_mat',
												'tz_day_plain', 'tz_day_mat']) AS kpi;
-- The zone is recorded: in the refresh state and in the views as a literal.
SELECT time_zone FROM tz_day_mat.kpi_refresh_state;
SELECT pg_get_viewdef('tz_day_plain.source_interactions') LIKE '%America/New_York%' AS zone_in_source_view,
	pg_get_viewdef('tz_day_plain.experience_rating_monthly') LIKE '%America/New_York%' AS zone_in_kpi_view;

-- time_zone names the zone whatever the session's: the same rows cut in
-- Tokyo put the 23:30 New York contacts (13:30 the next day in Tokyo) in
-- February and the one of March 31st in April (Q2).  February: web (5, 3,
-- 1) -> 50, store (1, 4) -> 37.5, app (2, 4) -> 50: 45.83 over 7 contacts.
CREATE SCHEMA tz_tokyo;
SELECT count(*) > 0 AS made FROM omnikpi.create_kpi_views('tz_tokyo', interactions => 'tz_shop.contacts',
	columns => '{"interactions": {"occurred_at": "at_tz"}}', time_zone => 'Asia/Tokyo');
SELECT pg_temp.cut('tz_tokyo');
-- An unknown zone is refused before anything is made.
SELECT count(*) FROM omnikpi.create_kpi_views('tz_tokyo', interactions => 'tz_shop.contacts',
	columns => '{"interactions": {"occurred_at": "at_tz"}}', time_zone => 'Mars/Olympus_Mons');
\echo :LAST_ERROR_SQLSTATE

RESET timezone;
DROP SCHEMA tz_tz_plain, tz_tz_mat, tz_local_plain, tz_local_mat, tz_day_plain, tz_day_mat, tz_tokyo, tz_shop CASCADE;
