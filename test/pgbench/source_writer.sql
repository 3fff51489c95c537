-- test/pgbench/source_writer.sql: new rows arriving in every source while the
-- KPIs are read and refreshed, at random times between 2024-04-01 and
-- 2024-04-03 (after the data loaded before the run, and never older than
-- the refresh's late-data window can reach): a contact, a touch, a
-- conversion of the client's journey, or an order of the client's customer.
\set minute random(0, 2879)
\set source random(1, 4)
\set channel random(1, 5)
\set rating random(1, 5)
\set phase random(1, 5)
\set journey random(1, 20)
\if :source = 1
INSERT INTO shop.interactions (customer_id, journey_id, channel, occurred_at, phase, satisfaction, effort,
	nps, context_carried, issue_id, resolved)
VALUES (1000 + :client_id, NULL, (ARRAY['web', 'app', 'store', 'call_center', 'chat'])[:channel],
	timestamptz '2024-04-01 00:00+00' + :minute * interval '1 minute',
	(ARRAY['awareness', 'consideration', 'decision', 'service', 'loyalty'])[:phase],
	:rating, NULL, 2 * :rating, :rating > 2, NULL, false);
\elif :source = 2
INSERT INTO shop.touchpoints (journey_id, customer_id, channel, touched_at, cost)
VALUES (100000 + :client_id * 100 + :journey, 1000 + :client_id, (ARRAY['web', 'app', 'store', 'email', 'social'])[:channel],
	timestamptz '2024-04-01 00:00+00' + :minute * interval '1 minute', :rating * 0.25);
\elif :source = 3
INSERT INTO shop.conversions (journey_id, customer_id, converted_at, value)
VALUES (100000 + :client_id * 100 + :journey, 1000 + :client_id,
	timestamptz '2024-04-01 00:00+00' + :minute * interval '1 minute', 20 * :rating);
\else
INSERT INTO shop.orders (order_id, customer_id, channel, ordered_at, amount, fulfillment)
SELECT coalesce(max(order_id), 0) + 1 + :client_id, 1000 + :client_id,
	(ARRAY['web', 'app', 'store', 'store', 'web'])[:channel],
	timestamptz '2024-04-01 00:00+00' + :minute * interval '1 minute', 10 * :rating,
	(ARRAY['delivery', 'bopis', 'in_store', 'delivery', 'bopis'])[:phase]
FROM shop.orders;
\endif
