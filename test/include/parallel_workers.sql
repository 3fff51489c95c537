-- pg_temp.parallel_workers(query): runs query under EXPLAIN ANALYZE and
-- returns how many parallel workers its Gather nodes planned and how many
-- really started.  A plan that shows a Gather proves nothing when the server
-- then starts no worker (all slots busy, max_parallel_workers = 0): the
-- leader runs the whole plan alone, even with parallel_leader_participation
-- off, and no state travels between processes.  Included by the parallel
-- tests with \i; the query's own output is not shown.
CREATE FUNCTION pg_temp.parallel_workers(query text, OUT planned integer, OUT launched integer)
LANGUAGE plpgsql AS $$
DECLARE
	plan jsonb;
BEGIN
	EXECUTE 'EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF, FORMAT JSON) ' || query INTO plan;
	SELECT coalesce(sum((node ->> 'Workers Planned')::integer), 0),
		   coalesce(sum((node ->> 'Workers Launched')::integer), 0)
	INTO planned, launched
	FROM jsonb_path_query(plan, 'lax $.**') AS node
	WHERE jsonb_typeof(node) = 'object' AND node ? 'Workers Planned';
END
$$;
