-- test/pgbench/interaction_writer.sql: new contacts arriving while the KPIs
-- are read and refreshed, at random times between 2024-04-01 and 2024-04-03
-- (after the data loaded before the run, and never older than the refresh's
-- late-data window can reach).
\set minute random(0, 2879)
\set channel random(1, 5)
\set rating random(1, 5)
\set phase random(1, 5)
INSERT INTO shop.interactions (customer_id, journey_id, channel, occurred_at, phase, satisfaction, effort,
	nps, context_carried, issue_id, resolved)
VALUES (1000 + :client_id, NULL, (ARRAY['web', 'app', 'store', 'call_center', 'chat'])[:channel],
	timestamptz '2024-04-01 00:00+00' + :minute * interval '1 minute',
	(ARRAY['awareness', 'consideration', 'decision', 'service', 'loyalty'])[:phase],
	:rating, NULL, 2 * :rating, :rating > 2, NULL, false);
