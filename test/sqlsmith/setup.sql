-- test/sqlsmith/setup.sql: the database sqlsmith runs against.  omnikpi,
-- tables whose columns have the types omnikpi's functions take (text
-- channels, float8 ratings and scores, boolean flags, timestamptz touches,
-- intervals, stored channel_summary values, including odd ones, stored
-- markov_model and journey_paths values and views solving them), a
-- materialized view of summaries, the KPI views of create_kpi_views, and the
-- role sqlsmith connects as: unprivileged, so that the random queries cannot
-- call superuser functions, with a statement_timeout so that none runs away
-- (and work_mem and temp_file_limit so that none fills memory or disk).
-- psql variable: role (the role to create).

SET client_min_messages = warning;
CREATE EXTENSION omnikpi;
CREATE SCHEMA shop;

CREATE TABLE shop.interactions AS
SELECT g % 97 AS customer_id, g % 211 AS journey_id,
	   (ARRAY['web', 'app', 'store', 'call_center', 'chat', '', 'Web', E'x\ny'])[1 + (g * 7 + g / 13) % 8] AS channel,
	   timestamptz '2026-01-01' + (g % 120) * interval '1 day' + (g % 24) * interval '1 hour' AS occurred_at,
	   (ARRAY['awareness', 'consideration', 'decision', 'service', 'loyalty'])[1 + g % 5] AS phase,
	   CASE WHEN g % 17 = 0 THEN NULL ELSE (1 + (g * 31) % 5)::float8 END AS satisfaction,
	   (1 + g % 7)::float8 AS effort, (g % 11)::float8 AS nps,
	   CASE WHEN g % 19 = 0 THEN NULL ELSE g % 3 = 0 END AS context_carried,
	   CASE WHEN g % 4 = 0 THEN g % 50 END AS issue_id, g % 8 = 0 AS resolved,
	   ((g * 37) % 101)::float8 AS score
FROM generate_series(1, 3000) g;

CREATE TABLE shop.orders AS
SELECT g AS order_id, g % 97 AS customer_id,
	   (ARRAY['web', 'app', 'store'])[1 + g % 3] AS channel,
	   timestamptz '2026-01-01' + (g % 120) * interval '1 day' AS ordered_at,
	   (10 + g % 90)::numeric AS amount,
	   (ARRAY['delivery', 'bopis', 'ship_to_store', 'in_store'])[1 + g % 4] AS fulfillment,
	   timestamptz '2026-01-01' + (g % 120) * interval '1 day' + interval '3 hours' AS ready_at,
	   timestamptz '2026-01-01' + (g % 120) * interval '1 day' + interval '27 hours' AS collected_at,
	   CASE WHEN g % 9 = 0 THEN timestamptz '2026-01-01' + (g % 120 + 5) * interval '1 day' END AS returned_at,
	   CASE WHEN g % 9 = 0 THEN 'store' END AS return_channel
FROM generate_series(1, 500) g;

CREATE TABLE shop.touchpoints AS
SELECT g / 5 AS journey_id, g % 97 AS customer_id,
	   (ARRAY['web', 'email', 'social', 'store'])[1 + g % 4] AS channel,
	   timestamptz '2026-01-01' + (g % 200) * interval '1 hour' AS touched_at,
	   (g % 7)::numeric AS cost, g AS touch_id,
	   (ARRAY['linear', 'first_touch', 'u_shaped', 'j_curve'])[1 + g / 5 % 4] AS model,
	   interval '1 day' * (1 + g / 5 % 9) AS half_life
FROM generate_series(1, 1000) g;

CREATE TABLE shop.conversions AS
SELECT j AS journey_id, timestamptz '2026-02-01' + j * interval '1 hour' AS converted_at, (j % 50)::numeric AS value
FROM generate_series(0, 200, 2) j;

-- Stored summaries: per day, and some odd but valid ones.
CREATE TABLE shop.daily AS
SELECT occurred_at::date AS day, channel_summary(channel, satisfaction) AS ratings,
	   channel_summary(channel, context_carried) AS integration, channel_summary(channel, score) AS scores
FROM shop.interactions GROUP BY 1;

-- Valid but odd summaries: empty, extreme values, odd channel names, a scale.
CREATE TABLE shop.odd_summaries (id integer, summary channel_summary);
INSERT INTO shop.odd_summaries VALUES
	(1, '{"version":1,"channels":{}}'),
	(2, '{"version":1,"channels":{"web":{"n":1,"sum":-1e300,"min":-1e300,"max":-1e300}}}'),
	(3, '{"version":1,"scale":[0,1],"channels":{"":{"n":3,"sum":1,"min":0,"max":1}}}'),
	(4, '{"version":1,"channels":{"a":{"n":2,"sum":5e-324,"min":0,"max":5e-324},"b\n\"":{"n":1,"sum":-0,"min":-0,"max":-0}}}'),
	(5, NULL);

CREATE MATERIALIZED VIEW shop.monthly AS
SELECT date_trunc('month', day)::date AS month, rollup(ratings) AS ratings, rollup(integration) AS integration
FROM shop.daily WHERE day < '2027-01-01' GROUP BY 1;

-- Views that call omnikpi on the tables, so that any random query over them
-- runs omnikpi code under random joins, filters and plans.
CREATE VIEW shop.summary_kpis AS
SELECT day, experience_rating(ratings) AS rating, experience_rating(ratings, 0, 10) AS rating_0_10,
	   integration_index(integration) AS index_flags, integration_index(scores) AS index_scores,
	   channel_count(ratings) AS channels, ratings::text AS ratings_text
FROM shop.daily;
CREATE VIEW shop.summary_channels AS
SELECT d.day, c.channel, c.n, c.mean, c.min, c.max FROM shop.daily d, channels(d.integration) c;
CREATE VIEW shop.rolling AS
SELECT occurred_at, channel,
	   omni_experience_rating(channel, satisfaction) OVER w AS rating,
	   omni_experience_rating(channel, effort, 1, 7) OVER w AS effort_rating,
	   omni_integration_index(channel, score) OVER w AS index_scores,
	   omni_integration_index(channel, context_carried) OVER w AS index_flags,
	   channel_summary(channel, nps) OVER w AS nps_summary
FROM shop.interactions
WINDOW w AS (ORDER BY occurred_at, customer_id ROWS BETWEEN 20 PRECEDING AND CURRENT ROW);
CREATE VIEW shop.attribution AS
SELECT t.journey_id, t.touch_id, t.channel,
	   attribution_share(t.model) OVER w AS model_share,
	   attribution_share('position_based') OVER w AS position_based,
	   attribution_share(0.3, 0.1, 0.6) OVER w AS custom,
	   attribution_share('time_decay', t.touched_at, t.half_life) OVER w AS decay,
	   attribution_share('time_decay', t.touched_at, interval '2 days', c.converted_at) OVER w AS decay_converted
FROM shop.touchpoints t LEFT JOIN shop.conversions c USING (journey_id)
WHERE c.converted_at IS NULL OR t.touched_at <= c.converted_at
WINDOW w AS (PARTITION BY t.journey_id ORDER BY t.touched_at, t.touch_id);

-- Stored data-driven attribution models per month, and views that solve them.
CREATE TABLE shop.journey_models AS
SELECT date_trunc('month', j.last_touch)::date AS month,
	   markov_model(j.path, c.journey_id IS NOT NULL, c.value::float8) AS markov1,
	   markov_model(j.path, c.journey_id IS NOT NULL, c.value::float8, 3) AS markov3,
	   journey_paths(j.path, c.journey_id IS NOT NULL, c.value::float8) AS paths
FROM (SELECT journey_id, array_agg(channel ORDER BY touched_at, touch_id) AS path, max(touched_at) AS last_touch
	  FROM shop.touchpoints GROUP BY journey_id) j
LEFT JOIN shop.conversions c USING (journey_id)
GROUP BY 1;
CREATE VIEW shop.data_driven AS
SELECT m.month, a.channel, a.removal_effect, a.conversions AS markov_conversions,
	   s.conversions AS shapley_conversions, f.conversions AS fractribution_conversions
FROM shop.journey_models m,
	 markov_attribution(m.markov1) a
	 LEFT JOIN LATERAL shapley_attribution(m.paths, 'conversion_rate') s ON s.channel = a.channel
	 LEFT JOIN LATERAL fractribution_attribution(m.paths) f ON f.channel = a.channel;
CREATE VIEW shop.model_parts AS
SELECT m.month, t.from_state, t.to_state, t.transitions, t.probability, p.path, p.conversions,
	   channel_count(m.paths) AS channels, m.markov3::text AS markov3_text
FROM shop.journey_models m, transitions(m.markov3) t, paths(m.paths) p;

CREATE SCHEMA kpi;
SELECT count(*) FROM omnikpi.create_kpi_views('kpi', interactions => 'shop.interactions', orders => 'shop.orders',
											  touchpoints => 'shop.touchpoints', conversions => 'shop.conversions');
ANALYZE;

SELECT format('CREATE ROLE %I LOGIN', :'role') \gexec
SELECT format('GRANT USAGE ON SCHEMA shop, kpi TO %I', :'role') \gexec
SELECT format('GRANT SELECT ON ALL TABLES IN SCHEMA shop, kpi TO %I', :'role') \gexec
-- sqlsmith rolls back every statement, so its INSERT, UPDATE, DELETE and
-- MERGE statements exercise channel_summary storage and leave the data as it is.
SELECT format('GRANT INSERT, UPDATE, DELETE ON shop.interactions, shop.orders, shop.touchpoints, shop.conversions,
			   shop.daily, shop.odd_summaries, shop.journey_models TO %I', :'role') \gexec
-- Per role, so that it holds for every connection sqlsmith opens.
SELECT format('ALTER ROLE %I SET statement_timeout = %L', :'role', '2s') \gexec
SELECT format('ALTER ROLE %I SET work_mem = %L', :'role', '16MB') \gexec
SELECT format('ALTER ROLE %I SET temp_file_limit = %L', :'role', '256MB') \gexec
