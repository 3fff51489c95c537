-- test/citus/data.sql: the same demo data local and distributed.  src_local
-- holds demo/generate.sql's four source tables as ordinary tables on the
-- coordinator; src_dist gets the same rows in distributed tables laid out as
-- docs/scale-out.md says: interactions and orders by customer, co-located
-- (ROPO and engagement join them by customer); touchpoints and conversions by
-- journey, co-located (the attribution views join them by journey, and the
-- conversions carry no customer).  Then KPI views over each, plain (kpi_local,
-- kpi_dist) and materialized (mv_local, mv_dist); what create_kpi_views
-- returned is kept in made_local and made_dist for the comparisons.

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
ANALYZE src_local.interactions, src_local.orders, src_local.touchpoints, src_local.conversions,
	src_dist.interactions, src_dist.orders, src_dist.touchpoints, src_dist.conversions;

CREATE SCHEMA kpi_local;
CREATE SCHEMA kpi_dist;
CREATE SCHEMA mv_local;
CREATE SCHEMA mv_dist;
-- Views over plain tables on a coordinator would each raise Citus' "will be
-- created only locally" WARNING; docs/scale-out.md says why and how to avoid it.
BEGIN;
SET LOCAL citus.enable_ddl_propagation = off;
CREATE TABLE made_local AS
SELECT 'kpi_local' AS schema_name, view_name, status
FROM omnikpi.create_kpi_views('kpi_local', interactions => 'src_local.interactions', orders => 'src_local.orders',
							  touchpoints => 'src_local.touchpoints', conversions => 'src_local.conversions')
UNION ALL
SELECT 'mv_local', view_name, status
FROM omnikpi.create_kpi_views('mv_local', interactions => 'src_local.interactions', orders => 'src_local.orders',
							  touchpoints => 'src_local.touchpoints', conversions => 'src_local.conversions',
							  materialized => true);
COMMIT;
CREATE TABLE made_dist AS
SELECT 'kpi_dist' AS schema_name, view_name, status
FROM omnikpi.create_kpi_views('kpi_dist', interactions => 'src_dist.interactions', orders => 'src_dist.orders',
							  touchpoints => 'src_dist.touchpoints', conversions => 'src_dist.conversions')
UNION ALL
SELECT 'mv_dist', view_name, status
FROM omnikpi.create_kpi_views('mv_dist', interactions => 'src_dist.interactions', orders => 'src_dist.orders',
							  touchpoints => 'src_dist.touchpoints', conversions => 'src_dist.conversions',
							  materialized => true);

SELECT schema_name, count(*) FILTER (WHERE status NOT LIKE 'skipped%') AS made,
	count(*) FILTER (WHERE status LIKE 'skipped%') AS skipped
FROM (TABLE made_local UNION ALL TABLE made_dist) m
GROUP BY 1 ORDER BY 1;
