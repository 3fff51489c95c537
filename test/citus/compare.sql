-- test/citus/compare.sql: helpers of the Citus suite, session-local (pg_temp),
-- so test/citus/run.sh runs every later file in the same psql session.
--
--   pg_temp.rows_differences(local_query, distributed_query): NULL when both
--     queries give the same rows in any order, else a sentence naming the
--     first differences.  Columns of type double precision or real are
--     compared with a relative tolerance of 1e-9, because a distributed sum
--     adds the same numbers in another order; every other column is compared
--     by its text form (omnikpi's types have no equality operator), the
--     numbers in an omnikpi state (markov_model, journey_paths: sums of
--     conversion values) rounded to 6 decimals, for the same reason.
--   pg_temp.pushdown(query, function_name): how Citus runs query, from
--     EXPLAIN (VERBOSE): 'worker partials' (worker_partial_agg on the workers,
--     combined on the coordinator), 'full pushdown' (the workers' queries call
--     function_name themselves) or 'coordinator' (neither: the rows come to
--     the coordinator and it computes the function).
--   pg_temp.pulls_raw_rows(query): whether a worker query of the plan reads a
--     shard and ships rows to the coordinator as they are, or one per
--     customer, journey or issue: at its top level (subqueries and
--     parentheses left out) it neither aggregates nor groups, or it groups by
--     customer_id, journey_id or issue_id.  Such rows come back when Citus
--     plans a part of the query apart (a CTE read twice, a join it cannot
--     push down) or when the coordinator computes the rest (a window over
--     another key, an ordered-set aggregate).

\set ON_ERROR_STOP on
SET client_min_messages = warning;
-- Citus would try to propagate these functions to the workers, and warn that
-- it cannot (they live in pg_temp).
SET citus.enable_ddl_propagation = off;

-- The text of a state with every decimal number in it rounded to 6 places.
CREATE FUNCTION pg_temp.rounded_numbers(state_text text)
	RETURNS text
	LANGUAGE sql
AS $fn$
	SELECT string_agg(CASE WHEN p ~ '^-?[0-9]+\.[0-9]+([eE][-+]?[0-9]+)?$' THEN round(p::numeric, 6)::text ELSE p END,
					  '' ORDER BY n)
	FROM regexp_split_to_table(state_text, '(?<![-0-9.eE+])(?=-?[0-9])|(?<=[0-9])(?![-+0-9.eE])') WITH ORDINALITY AS s(p, n)
$fn$;

CREATE FUNCTION pg_temp.rows_differences(local_query text, distributed_query text)
	RETURNS text
	LANGUAGE plpgsql
AS $fn$
DECLARE
	key_text text;		-- the row's non-float columns as one text
	float_order text;	-- ORDER BY of the float columns, to pair equal keys
	floats_match text;	-- all float columns within the tolerance
	local_count bigint;
	distributed_count bigint;
	differences text;
BEGIN
	DROP TABLE IF EXISTS pg_temp.local_rows, pg_temp.distributed_rows;
	EXECUTE 'CREATE TEMP TABLE local_rows AS ' || local_query;
	EXECUTE 'CREATE TEMP TABLE distributed_rows AS ' || distributed_query;
	SELECT count(*) INTO local_count FROM pg_temp.local_rows;
	SELECT count(*) INTO distributed_count FROM pg_temp.distributed_rows;
	IF local_count <> distributed_count THEN
		RETURN format('local: %s rows, distributed: %s rows', local_count, distributed_count);
	END IF;
	IF local_count = 0 THEN
		-- Two empty results agree without testing anything.
		RETURN 'no rows on either side';
	END IF;

	SELECT coalesce('row(' || string_agg(format(CASE WHEN is_state THEN 'pg_temp.rounded_numbers(%I::text)' ELSE '%I::text' END,
												attname), ', ' ORDER BY attnum)
						FILTER (WHERE NOT is_float) || ')::text', $$''$$),
		   coalesce(string_agg(format('%I', attname), ', ' ORDER BY attnum) FILTER (WHERE is_float), 'NULL::integer'),
		   coalesce(string_agg(format('((l.r).%1$I::text = (d.r).%1$I::text
										OR abs((l.r).%1$I - (d.r).%1$I)
										   <= 1e-9 * greatest(1, abs((l.r).%1$I), abs((d.r).%1$I)))',
									  attname), ' AND ') FILTER (WHERE is_float), 'true')
	INTO key_text, float_order, floats_match
	FROM (SELECT a.attname, a.attnum, a.atttypid IN ('float4'::regtype, 'float8'::regtype) AS is_float,
				 t.typtype = 'b' AND t.typnamespace <> 'pg_catalog'::regnamespace AS is_state
		  FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid
		  WHERE a.attrelid = 'pg_temp.local_rows'::regclass AND a.attnum > 0 AND NOT a.attisdropped) c;

	EXECUTE format($q$
		WITH l AS (SELECT r, %1$s AS k, row_number() OVER (PARTITION BY %1$s ORDER BY %2$s) AS pair
				   FROM pg_temp.local_rows r),
		d AS (SELECT r, %1$s AS k, row_number() OVER (PARTITION BY %1$s ORDER BY %2$s) AS pair
			  FROM pg_temp.distributed_rows r)
		SELECT string_agg(format('local %%s, distributed %%s', x.local_row, x.distributed_row), '; ')
		FROM (SELECT l.r AS local_row, d.r AS distributed_row
			  FROM l FULL JOIN d ON l.k = d.k AND l.pair = d.pair
			  WHERE l.pair IS NULL OR d.pair IS NULL OR NOT (%3$s)
			  LIMIT 3) x$q$,
		key_text, float_order, floats_match)
	INTO differences;
	RETURN differences;
END
$fn$;

CREATE FUNCTION pg_temp.plan_text(query text)
	RETURNS text
	LANGUAGE plpgsql
AS $fn$
DECLARE
	line text;
	plan text := '';
BEGIN
	FOR line IN EXECUTE 'EXPLAIN (VERBOSE, COSTS OFF) ' || query LOOP
		plan := plan || line || E'\n';
	END LOOP;
	RETURN plan;
END
$fn$;

-- The queries Citus sends to the workers, one per line of the plan.
CREATE FUNCTION pg_temp.worker_queries(query text)
	RETURNS SETOF text
	LANGUAGE sql
AS $fn$
	SELECT m[1]
	FROM regexp_matches(pg_temp.plan_text(query), '^\s*Query: (.*)$', 'gn') AS m
$fn$;

CREATE FUNCTION pg_temp.pushdown(query text, function_name text)
	RETURNS text
	LANGUAGE sql
AS $fn$
	SELECT CASE
		WHEN bool_or(q LIKE '%worker_partial_agg(%') THEN 'worker partials'
		WHEN bool_or(q LIKE '%' || function_name || '(%') THEN 'full pushdown'
		ELSE 'coordinator' END
	FROM pg_temp.worker_queries(query) AS q
$fn$;

-- The top level of a query: its text without what lies in parentheses
-- (subqueries, arguments, lists).
CREATE FUNCTION pg_temp.top_level(sql_text text)
	RETURNS text
	LANGUAGE plpgsql
AS $fn$
DECLARE
	previous text;
BEGIN
	LOOP
		previous := sql_text;
		sql_text := regexp_replace(sql_text, '\([^()]*\)', '', 'g');
		EXIT WHEN sql_text = previous;
	END LOOP;
	RETURN sql_text;
END
$fn$;

-- A shard is named after its table with the shard id appended (102008 and up).
CREATE FUNCTION pg_temp.pulls_raw_rows(query text)
	RETURNS boolean
	LANGUAGE sql
AS $fn$
	SELECT coalesce(bool_or(q ~ ' FROM [^ ]+_[0-9]{6,} '
							AND (t !~ ' GROUP BY |\m(worker_partial_agg|count|sum|min|max|avg|bool_or|bool_and|array_agg)\M'
								 OR t ~ ' GROUP BY .*\m(customer_id|journey_id|issue_id)\M')),
					false)
	FROM pg_temp.worker_queries(query) AS q, pg_temp.top_level(q) AS t
$fn$;

RESET citus.enable_ddl_propagation;
