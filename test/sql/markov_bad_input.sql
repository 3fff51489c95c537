-- Markov models fed bad input get a documented result or a clear error with
-- the right SQLSTATE, never a crash: NULL arguments, orders 0, 5 and NULL,
-- negative and non-finite counts and values, multidimensional paths,
-- models without conversions, mixed orders, malformed text and binary
-- input.  The server must still be the same postmaster at the end.
\set SHOW_CONTEXT never
SELECT pg_postmaster_start_time() AS started \gset

CREATE FUNCTION markov_outcome(query text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
	result text;
	detail text;
BEGIN
	EXECUTE query INTO result;
	RETURN coalesce('= ' || result, '= NULL');
EXCEPTION WHEN OTHERS THEN
	GET STACKED DIAGNOSTICS detail = PG_EXCEPTION_DETAIL;
	RETURN 'ERROR ' || SQLSTATE || ': ' || left(SQLERRM, 72) || coalesce(' | ' || left(nullif(detail, ''), 110), '');
END
$$;

CREATE TABLE markov_cases (id serial, query text);
INSERT INTO markov_cases (query) VALUES
	-- NULL arguments: skipped rows, NULL results, or 22004 for the order
	($$SELECT markov_model(NULL::text[], NULL::boolean)::text$$),
	($$SELECT markov_model(NULL::text[], true, 1, 1)::text$$),
	($$SELECT markov_model('{a}', NULL::boolean, 1, 1)::text$$),
	($$SELECT markov_model('{a}', true, NULL, 1)::text$$),
	($$SELECT markov_model('{a}', true, 1, NULL)::text$$),
	($$SELECT markov_model(NULL::text[], true, 1, NULL)::text$$),
	($$SELECT markov_model('{a}', NULL::float8, NULL, NULL, 1)::text$$),
	($$SELECT markov_model('{a}', 1, 1, 1, NULL)::text$$),
	($$SELECT rollup(NULL::markov_model)::text$$),
	($$SELECT count(*) FROM markov_attribution(NULL)$$),
	($$SELECT count(*) FROM transitions(NULL)$$),
	-- orders 0, 5, negative, huge: 22023
	($$SELECT markov_model('{a}', true, 1, 0)::text$$),
	($$SELECT markov_model('{a}', true, 1, 5)::text$$),
	($$SELECT markov_model('{a}', true, 1, -1)::text$$),
	($$SELECT markov_model('{a}', 1, 0, 0, 2147483647)::text$$),
	-- mixed orders in one aggregate and in rollup: 22023
	($$SELECT markov_model('{a}', true, 1, o)::text FROM (VALUES (1), (2)) v(o)$$),
	($$SELECT rollup(m)::text FROM (SELECT markov_model('{a}', true, 1, 1) UNION ALL SELECT markov_model('{a}', true, 1, 2)) v(m)$$),
	-- values and counts: negative, NaN, infinite: 22003; overflow of a sum: 22003
	($$SELECT markov_model('{a}', true, -1)::text$$),
	($$SELECT markov_model('{a}', true, 'NaN')::text$$),
	($$SELECT markov_model('{a}', true, 'Infinity')::text$$),
	($$SELECT markov_model('{a}', false, 'NaN')::text$$),
	($$SELECT markov_model('{a}', -1, 0, 0, 1)::text$$),
	($$SELECT markov_model('{a}', 0, 'NaN', 0, 1)::text$$),
	($$SELECT markov_model('{a}', 'Infinity', 0, 0, 1)::text$$),
	($$SELECT markov_model('{a}', 0, 1, 5, 1)::text$$),
	($$SELECT markov_model('{a}', 1e308, 1e308, 0, 1)::text$$),
	($$SELECT markov_model('{a}', true, v)::text FROM (VALUES (1e308::float8), (1e308)) x(v)$$),
	-- paths: multidimensional (22023), empty, all NULL, empty channel name, 1 MB name
	($$SELECT markov_model('{{a,b},{c,d}}'::text[], true)::text$$),
	($$SELECT markov_model('{}'::text[], true)::text$$),
	($$SELECT markov_model('{NULL}'::text[], true)::text$$),
	($$SELECT markov_model('{""}'::text[], true)::text$$),
	($$SELECT length(markov_model(ARRAY[repeat('x', 1048576)], true)::text)$$),
	($$SELECT count(*) FROM markov_attribution((SELECT markov_model(ARRAY[repeat('x', 1048576)], true)))$$),
	-- no conversions: 22023 with a hint
	($$SELECT count(*) FROM markov_attribution((SELECT markov_model('{a,b}', false)))$$),
	($$SELECT count(*) FROM markov_attribution('{"version":1,"order":1,"transitions":[]}')$$),
	-- too many states to solve: 54000
	($$SELECT count(*) FROM markov_attribution((SELECT markov_model(ARRAY(SELECT 'c' || g FROM generate_series(1, 5000) g), true)))$$),
	-- called outside an aggregate
	($$SELECT omnikpi_markov_trans(NULL, '{a}', true)::text$$),
	($$SELECT omnikpi_markov_combine(NULL, NULL)::text$$),
	-- malformed text: 22P02 with the place and the reason
	($$SELECT ''::markov_model::text$$),
	($$SELECT '{"version":2,"order":1,"transitions":[]}'::markov_model::text$$),
	($$SELECT '{"version":1,"order":0,"transitions":[]}'::markov_model::text$$),
	($$SELECT '{"version":1,"order":5,"transitions":[]}'::markov_model::text$$),
	($$SELECT '{"version":1,"order":-1,"transitions":[]}'::markov_model::text$$),
	($$SELECT '{"version":1,"order":99999999999999999999,"transitions":[]}'::markov_model::text$$),
	($$SELECT '{"version":1,"transitions":[],"order":1}'::markov_model::text$$),
	($$SELECT '{"version":1,"order":1,"transitions":[]} x'::markov_model::text$$),
	($$SELECT '{"version":1,"order":1,"transitions":[["start",["a"],1]'::markov_model::text$$),
	($$SELECT '{"version":1,"order":1,"transitions":[["start",["a"],0]]}'::markov_model::text$$),
	($$SELECT '{"version":1,"order":1,"transitions":[["start",["a"],-1]]}'::markov_model::text$$),
	($$SELECT '{"version":1,"order":1,"transitions":[["start",["a"],NaN]]}'::markov_model::text$$),
	($$SELECT '{"version":1,"order":1,"transitions":[["start",["a"],1e999]]}'::markov_model::text$$),
	($$SELECT '{"version":1,"order":1,"transitions":[["start",["a"],"1"]]}'::markov_model::text$$),
	($$SELECT '{"version":1,"order":1,"transitions":[["start",["a"],1],[["a"],"null",1],["start",["a"],1]]}'::markov_model::text$$),
	($$SELECT '{"version":1,"order":1,"transitions":[["start",["a"],1]]}'::markov_model::text$$),
	($$SELECT '{"version":1,"order":1,"transitions":[[["a"],["b"],1],[["b"],["a"],1]]}'::markov_model::text$$),
	($$SELECT '{"version":1,"order":1,"transitions":[["start","conversion",1,0]]}'::markov_model::text$$),
	($$SELECT '{"version":1,"order":1,"transitions":[["null",["a"],1]]}'::markov_model::text$$),
	($$SELECT '{"version":1,"order":1,"transitions":[[["a"],"start",1]]}'::markov_model::text$$),
	($$SELECT '{"version":1,"order":1,"transitions":[[["a"],"conversion",1]]}'::markov_model::text$$),
	($$SELECT '{"version":1,"order":1,"transitions":[[["a"],"null",1,5]]}'::markov_model::text$$),
	($$SELECT '{"version":1,"order":1,"transitions":[[["a"],"conversion",1,-5]]}'::markov_model::text$$),
	($$SELECT '{"version":1,"order":1,"transitions":[[["a"],["a"],1]]}'::markov_model::text$$),
	($$SELECT '{"version":1,"order":2,"transitions":[["start",["a","b"],1]]}'::markov_model::text$$),
	($$SELECT '{"version":1,"order":2,"transitions":[[["a"],["b","c"],1]]}'::markov_model::text$$),
	($$SELECT '{"version":1,"order":2,"transitions":[[["a","b"],["a","c"],1]]}'::markov_model::text$$),
	($$SELECT '{"version":1,"order":2,"transitions":[[["a","a"],"null",1]]}'::markov_model::text$$),
	($$SELECT '{"version":1,"order":1,"transitions":[[["a","b"],"null",1]]}'::markov_model::text$$),
	($$SELECT '{"version":1,"order":4,"transitions":[[["a","b","c","d","e"],"null",1]]}'::markov_model::text$$),
	($$SELECT '{"version":1,"order":1,"transitions":[[[],"null",1]]}'::markov_model::text$$),
	($$SELECT '{"version":1,"order":1,"transitions":[["begin",["a"],1]]}'::markov_model::text$$),
	($$SELECT '{"version":1,"order":1,"transitions":[[["a\q"],"null",1]]}'::markov_model::text$$),
	($$SELECT '{"version":1,"order":1,"transitions":[[["a\u00e9"],"null",1]]}'::markov_model::text$$),
	($$SELECT repeat('[', 100000)::markov_model::text$$),
	($$SELECT length(('{"version":1,"order":1,"transitions":[["start",["' || repeat('\\', 1000001) || '"],1],[["' || repeat('\\', 1000001) || '"],"null",1]]}')::markov_model::text)$$);

SELECT id, markov_outcome(query) FROM markov_cases ORDER BY id;

-- Two of them in full, with their detail and hint.
\set VERBOSITY default
SELECT * FROM markov_attribution((SELECT markov_model('{a,b}', false)));
SELECT markov_model('{a}', true, 1, 5);
\set VERBOSITY sqlstate
SELECT markov_model('{a}', true, 1, 0);
SELECT * FROM markov_attribution((SELECT markov_model('{a,b}', false)));

-- Binary input: COPY FROM a crafted binary file (a valid model first, then
-- damaged ones).  Each is 22P03 with the reason.
\set VERBOSITY default
CREATE TABLE markov_recv (m markov_model);
CREATE FUNCTION markov_recv_outcome(payload bytea) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
	file bytea := '\x5047434f50590aff0d0a00'::bytea || '\x0000000000000000'::bytea
				  || '\x0001'::bytea || int4send(length(payload)) || payload || '\xffff'::bytea;
	result text;
	detail text;
BEGIN
	TRUNCATE markov_recv;
	EXECUTE format('COPY markov_recv FROM PROGRAM %L (FORMAT binary)',
				   'echo ' || translate(encode(file, 'base64'), E'\n', '') || ' | base64 -d');
	SELECT m::text INTO result FROM markov_recv;
	RETURN '= ' || result;
EXCEPTION WHEN OTHERS THEN
	GET STACKED DIAGNOSTICS detail = PG_EXCEPTION_DETAIL;
	RETURN 'ERROR ' || SQLSTATE || ': ' || SQLERRM || coalesce(' | ' || nullif(detail, ''), '');
END
$$;
-- a model: format byte 1, order byte, flags byte (1: repeats kept), int32
-- transition count, then per transition two states, float8 count and value;
-- state encodings: kind byte 0 start, 1 conversion, 2 null, 3 channel state + length byte + names
CREATE FUNCTION markov_state(VARIADIC names text[]) RETURNS bytea LANGUAGE sql AS $$
	SELECT '\x03'::bytea || set_byte('\x00'::bytea, 0, cardinality(names))
		   || string_agg(int4send(octet_length(n)) || convert_to(n, 'UTF8'), ''::bytea)
	FROM unnest(names) n
$$;
CREATE TABLE markov_binary_cases (id serial, payload bytea);
INSERT INTO markov_binary_cases (payload) VALUES
	-- valid: start -> a 2, a -> conversion 1 (value 7.5), a -> null 1
	('\x010100'::bytea || int4send(3)
	 || '\x00'::bytea || markov_state('a') || float8send(2) || float8send(0)
	 || markov_state('a') || '\x01'::bytea || float8send(1) || float8send(7.5)
	 || markov_state('a') || '\x02'::bytea || float8send(1) || float8send(0)),
	-- unknown format, order 0, order 5, unknown flags
	('\x020100'::bytea || int4send(0)),
	('\x010000'::bytea || int4send(0)),
	('\x010500'::bytea || int4send(0)),
	('\x010102'::bytea || int4send(0)),
	-- negative transition count, truncated, trailing bytes
	('\x010100'::bytea || int4send(-1)),
	('\x010100'::bytea || int4send(1) || '\x00'::bytea),
	('\x010100'::bytea || int4send(0) || '\x00'::bytea),
	-- bad state kind, bad tuple length, NaN count, value off a conversion
	('\x010100'::bytea || int4send(1) || '\x07'::bytea),
	('\x010100'::bytea || int4send(1) || '\x0003'::bytea || set_byte('\x00'::bytea, 0, 9)),
	('\x010100'::bytea || int4send(1) || '\x00'::bytea || markov_state('a') || float8send('NaN') || float8send(0)),
	('\x010100'::bytea || int4send(2) || '\x00'::bytea || markov_state('a') || float8send(1) || float8send(3)
	 || markov_state('a') || '\x02'::bytea || float8send(1) || float8send(0)),
	-- a state that is never left, a duplicate transition
	('\x010100'::bytea || int4send(1) || '\x00'::bytea || markov_state('a') || float8send(1) || float8send(0)),
	('\x010100'::bytea || int4send(3) || '\x00'::bytea || markov_state('a') || float8send(1) || float8send(0)
	 || markov_state('a') || '\x02'::bytea || float8send(1) || float8send(0)
	 || markov_state('a') || '\x02'::bytea || float8send(1) || float8send(0)),
	-- a name length beyond the message
	('\x010100'::bytea || int4send(1) || '\x00'::bytea || '\x0301'::bytea || int4send(1000) || '\x61'::bytea),
	-- a channel following itself: only in a model that keeps repeats (flag 1)
	('\x010100'::bytea || int4send(3) || '\x00'::bytea || markov_state('a') || float8send(2) || float8send(0)
	 || markov_state('a') || markov_state('a') || float8send(1) || float8send(0)
	 || markov_state('a') || '\x02'::bytea || float8send(2) || float8send(0)),
	('\x010101'::bytea || int4send(3) || '\x00'::bytea || markov_state('a') || float8send(2) || float8send(0)
	 || markov_state('a') || markov_state('a') || float8send(1) || float8send(0)
	 || markov_state('a') || '\x02'::bytea || float8send(2) || float8send(0)),
	-- what send writes, read back: a model that keeps repeats, at order 2
	(omnikpi_markov_send((SELECT markov_model('{b,a,a,c}'::text[], true, 10, 2, 'keep'))));
SELECT id, markov_recv_outcome(payload) FROM markov_binary_cases ORDER BY id;

-- Still the same server: nothing crashed.
SELECT pg_postmaster_start_time() = :'started' AS same_postmaster;
