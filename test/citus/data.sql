-- test/citus/data.sql: the same demo data local and distributed.  src_local
-- holds demo/generate.sql's four source tables as ordinary tables on the
-- coordinator; src_dist gets the same rows in distributed tables laid out as
-- docs/scale-out.md says: interactions and orders by customer, co-located
-- (ROPO and engagement join them by customer); touchpoints and conversions by
-- journey, co-located (the attribution views join them by journey, and the
-- conversions carry no customer).  Then KPI views over each, plain (kpi_local,
-- kpi_dist) and materialized (mv_local, mv_dist); what create_kpi_views
-- returned is kept in made_local and made_dist for the comparisons.
--
-- The same KPIs again without journey ids (kpi_<side>_by_customer,
-- mv_<side>_by_customer): journeys cut per customer by the inactivity gap,
-- and conversion paths keyed by customer over the lookback.  Their touchpoints
-- and conversions (touchpoints_by_customer, conversions_by_customer: the same
-- rows, each conversion with the customer of its order) are distributed by
-- customer, co-located with the interactions and orders.

\set ON_ERROR_STOP on
SET client_min_messages = warning;
-- Two shards per worker: enough to combine partial results across shards on
-- one worker and across workers.
SET citus.shard_count = 4;

CREATE SCHEMA src_dist;
CREATE TABLE src_dist.interactions (LIKE src_local.interactions);
CREATE TABLE src_dist.orders (LIKE src_local.orders);
CREATE TABLE src_dist.touchpoints (LIKE src_local.touchpoints);
CREATE TABLE src_dist.conversions (LIKE src_local.conversions);
SELECT create_distributed_table('src_dist.interactions', 'customer_id', colocate_with => 'none');
SELECT create_distributed_table('src_dist.orders', 'customer_id', colocate_with => 'src_dist.interactions');
SELECT create_distributed_table('src_dist.touchpoints', 'journey_id', colocate_with => 'none');
SELECT create_distributed_table('src_dist.conversions', 'journey_id', colocate_with => 'src_dist.touchpoints');
INSERT INTO src_dist.interactions SELECT * FROM src_local.interactions;
INSERT INTO src_dist.orders SELECT * FROM src_local.orders;
INSERT INTO src_dist.touchpoints SELECT * FROM src_local.touchpoints;
INSERT INTO src_dist.conversions SELECT * FROM src_local.conversions;
-- A demo conversion is its journey's order (journey_id = order_id).
CREATE TABLE src_local.touchpoints_by_customer AS TABLE src_local.touchpoints;
CREATE TABLE src_local.conversions_by_customer AS
SELECT c.*, o.customer_id FROM src_local.conversions c JOIN src_local.orders o ON o.order_id = c.journey_id;
CREATE TABLE src_dist.touchpoints_by_customer (LIKE src_local.touchpoints_by_customer);
CREATE TABLE src_dist.conversions_by_customer (LIKE src_local.conversions_by_customer);
SELECT create_distributed_table('src_dist.touchpoints_by_customer', 'customer_id', colocate_with => 'src_dist.interactions');
SELECT create_distributed_table('src_dist.conversions_by_customer', 'customer_id', colocate_with => 'src_dist.interactions');
INSERT INTO src_dist.touchpoints_by_customer SELECT * FROM src_local.touchpoints_by_customer;
INSERT INTO src_dist.conversions_by_customer SELECT * FROM src_local.conversions_by_customer;
ANALYZE src_local.interactions, src_local.orders, src_local.touchpoints, src_local.conversions,
	src_local.touchpoints_by_customer, src_local.conversions_by_customer,
	src_dist.interactions, src_dist.orders, src_dist.touchpoints, src_dist.conversions,
	src_dist.touchpoints_by_customer, src_dist.conversions_by_customer;

-- One path per journey, for the data-driven attribution checks: grouped by
-- the distribution column, so Citus runs it whole on the workers.  These
-- views (queried on the coordinator only) and the pg_temp function below are
-- not propagated to the workers: Citus would warn about the local ones.
SET citus.enable_ddl_propagation = off;
DO $$
DECLARE
	sources text;
BEGIN
	FOREACH sources IN ARRAY ARRAY['src_local', 'src_dist'] LOOP
		EXECUTE format($v$CREATE VIEW %1$I.journeys AS
			SELECT t.journey_id, date_trunc('month', max(t.touched_at)) AS month,
				array_agg(t.channel ORDER BY t.touched_at, t.channel) AS path,
				bool_or(c.journey_id IS NOT NULL) AS converted, max(c.value)::double precision AS value
			FROM %1$I.touchpoints t LEFT JOIN %1$I.conversions c USING (journey_id)
			GROUP BY t.journey_id$v$, sources);
	END LOOP;
END
$$;

-- The KPI views over each side, plain (kpi_<side>) and materialized
-- (mv_<side>), with journey ids and without them (..._by_customer), and what
-- create_kpi_views returned for each.
CREATE FUNCTION pg_temp.make_kpi_views(side text)
	RETURNS TABLE (schema_name text, view_name name, status text)
	LANGUAGE plpgsql
AS $fn$
DECLARE
	materialized boolean;
	by_customer boolean;
	sources text := 'src_' || side;
	suffix text;
BEGIN
	FOREACH by_customer IN ARRAY ARRAY[false, true] LOOP
		suffix := CASE WHEN by_customer THEN '_by_customer' ELSE '' END;
		FOREACH materialized IN ARRAY ARRAY[false, true] LOOP
			schema_name := CASE WHEN materialized THEN 'mv_' ELSE 'kpi_' END || side || suffix;
			EXECUTE format('CREATE SCHEMA %I', schema_name);
			RETURN QUERY
			SELECT make_kpi_views.schema_name, v.view_name, v.status
			FROM omnikpi.create_kpi_views(schema_name, interactions => format('%I.interactions', sources)::regclass,
										  orders => format('%I.orders', sources)::regclass,
										  touchpoints => format('%I.%I', sources, 'touchpoints' || suffix)::regclass,
										  conversions => format('%I.%I', sources, 'conversions' || suffix)::regclass,
										  columns => CASE WHEN by_customer THEN
											  '{"interactions": {"journey_id": null}, "touchpoints": {"journey_id": null},
												"conversions": {"journey_id": null}}' ELSE '{}' END::jsonb,
										  materialized => materialized) v;
		END LOOP;
	END LOOP;
END
$fn$;
RESET citus.enable_ddl_propagation;

-- Over plain tables on a coordinator, create_kpi_views turns Citus' DDL
-- propagation off for the call, so that Citus does not warn, view by view,
-- that each is made on the coordinator only: test/citus/run.sh fails on any
-- WARNING in this session.
CREATE TABLE made_local AS SELECT * FROM pg_temp.make_kpi_views('local');
CREATE TABLE made_dist AS SELECT * FROM pg_temp.make_kpi_views('dist');

SELECT schema_name, count(*) FILTER (WHERE status NOT LIKE 'skipped%') AS made,
	count(*) FILTER (WHERE status LIKE 'skipped%') AS skipped
FROM (TABLE made_local UNION ALL TABLE made_dist) m
GROUP BY 1 ORDER BY 1;
