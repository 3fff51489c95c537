-- The families agree: the same journeys give the same totals in
-- markov_model and journey_paths, and so in every attribution function;
-- the same mistake gives the same SQLSTATE in both; the accessors have one
-- name for one thing (channel_count of all three types); the attribution
-- functions return the same first columns in the same order.  The rules are
-- those of common/journey_input.h and common/channel_credits.h.

-- 1. Rows with NULLs, one journey per row: a NULL path or outcome skips the
-- row, a NULL value adds nothing, a non-converting journey's value is not
-- used, a path without a channel is skipped.  Both count 4 journeys, 3
-- conversions, value 130.
CREATE TABLE mixed_journeys (path text[], converted boolean, value float8);
INSERT INTO mixed_journeys VALUES
	('{web,email}', true, 100), ('{web}', false, 999), ('{email,store}', true, NULL),
	(NULL, true, 50), ('{store}', NULL, 50), ('{}', true, 10), ('{NULL}', false, NULL),
	('{web,NULL,store}', true, 30);
SELECT (SELECT sum(transitions) FROM transitions(m) WHERE from_state = '(start)') AS markov_journeys,
	   (SELECT sum(transitions) FROM transitions(m) WHERE to_state = '(conversion)') AS markov_conversions,
	   (SELECT sum(conversions + non_conversions) FROM paths(p)) AS paths_journeys,
	   (SELECT sum(conversions) FROM paths(p)) AS paths_conversions,
	   (SELECT sum(value) FROM paths(p)) AS paths_value,
	   (SELECT sum(value) FROM markov_attribution(m)) AS markov_value,
	   (SELECT sum(value) FROM shapley_attribution(p)) AS shapley_value,
	   (SELECT sum(value) FROM fractribution_attribution(p)) AS fractribution_value
FROM (SELECT markov_model(path, converted, value) AS m, journey_paths(path, converted, value) AS p
	  FROM mixed_journeys) x;

-- 2. Counted rows: a NULL count skips the row in both families (the journeys
-- behind it are unknown), a NULL value adds nothing, a row of no journeys
-- is skipped.  Both count 3 journeys, 2 conversions, value 5.
CREATE TABLE counted (path text[], conversions float8, non_conversions float8, value float8);
INSERT INTO counted VALUES
	('{web}', 1, 1, 5), ('{email}', 1, 0, NULL), ('{store}', NULL, 4, NULL),
	('{store}', 2, NULL, 9), ('{chat}', 0, 0, NULL), (NULL, 1, 1, 1), ('{app}', 0, 0, 0),
	('{web,app}', 0, 0, NULL), ('{email,web}', 0, 0, 0), ('{app}', 0, 0, NULL), ('{web}', 0, 0, 2 - 2);
SELECT (SELECT sum(transitions) FROM transitions(m) WHERE from_state = '(start)') AS markov_journeys,
	   (SELECT sum(conversions) FROM markov_attribution(m)) AS markov_conversions,
	   (SELECT sum(value) FROM markov_attribution(m)) AS markov_value,
	   (SELECT sum(conversions + non_conversions) FROM paths(p)) AS paths_journeys,
	   (SELECT sum(conversions) FROM shapley_attribution(p)) AS shapley_conversions,
	   (SELECT sum(value) FROM fractribution_attribution(p)) AS fractribution_value
FROM (SELECT markov_model(path, conversions, non_conversions, value, 1) AS m,
			 journey_paths(path, conversions, non_conversions, value) AS p
	  FROM counted) x;

-- 3. The same mistake, the same SQLSTATE, in both families.
CREATE FUNCTION sqlstate_of(query text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
	EXECUTE query;
	RETURN 'ok';
EXCEPTION WHEN OTHERS THEN
	RETURN SQLSTATE;
END
$$;
SELECT mistake,
	   sqlstate_of(format('SELECT markov_model(%s, 1)', args)) AS markov_model,
	   sqlstate_of(format('SELECT journey_paths(%s)', args)) AS journey_paths
FROM (VALUES ('negative count', $$'{a}'::text[], -1::float8, 1::float8, 0::float8$$),
			 ('NaN count', $$'{a}'::text[], 1::float8, 'NaN'::float8, 0::float8$$),
			 ('infinite count', $$'{a}'::text[], 'Infinity'::float8, 1::float8, 0::float8$$),
			 ('negative value', $$'{a}'::text[], 1::float8, 1::float8, -5::float8$$),
			 ('NaN value', $$'{a}'::text[], 1::float8, 1::float8, 'NaN'::float8$$),
			 ('value without conversions', $$'{a}'::text[], 0::float8, 1::float8, 5::float8$$),
			 ('two-dimensional path', $$'{{a,b},{c,d}}'::text[], 1::float8, 1::float8, 0::float8$$))
	 v(mistake, args);
SELECT mistake,
	   sqlstate_of(format('SELECT markov_model(%s)', args)) AS markov_model,
	   sqlstate_of(format('SELECT journey_paths(%s)', args)) AS journey_paths
FROM (VALUES ('negative value', $$'{a}'::text[], true, -5::float8$$),
			 ('infinite value', $$'{a}'::text[], true, 'Infinity'::float8$$),
			 ('two-dimensional path', $$'{{a,b},{c,d}}'::text[], true, 1::float8$$))
	 v(mistake, args);
SELECT sqlstate_of($$SELECT * FROM markov_attribution((SELECT markov_model('{a}'::text[], false)))$$) AS markov_attribution,
	   sqlstate_of($$SELECT * FROM shapley_attribution((SELECT journey_paths('{a}'::text[], false)))$$) AS shapley_attribution,
	   sqlstate_of($$SELECT * FROM fractribution_attribution((SELECT journey_paths('{a}'::text[], false)))$$) AS fractribution_attribution;

-- 4. One name for one thing: channel_count of all three types.
SELECT channel_count(channel_summary(c, 1)) AS summary_channels,
	   channel_count(markov_model(ARRAY[c], true)) AS model_channels,
	   channel_count(journey_paths(ARRAY[c], true)) AS paths_channels
FROM unnest('{web,app,store}'::text[]) c;

-- 5. The attribution functions return (channel, conversions, value, share)
-- first, in that order; a model's own column comes after.
SELECT p.proname,
	   (SELECT string_agg(n, ', ' ORDER BY o)
		FROM unnest(p.proargnames, p.proargmodes) WITH ORDINALITY a(n, m, o) WHERE m = 't' OR m = 'o') AS columns
FROM pg_proc p
WHERE p.proname IN ('markov_attribution', 'shapley_attribution', 'fractribution_attribution')
ORDER BY p.proname;
-- and their shares add up to 1, their conversions to the summary's
SELECT round(sum(share)::numeric, 12) AS markov_shares, round(sum(conversions)::numeric, 12) AS markov_conversions
FROM markov_attribution((SELECT markov_model(path, converted, value) FROM mixed_journeys));

-- 6. No parameter is named after a reserved word: named notation needs no quotes.
SELECT p.proname, a.name
FROM pg_proc p, unnest(p.proargnames) a(name)
WHERE p.pronamespace = (SELECT oid FROM pg_namespace WHERE nspname = 'public')
  AND a.name IN (SELECT word FROM pg_get_keywords() WHERE catcode IN ('R', 'T'));
