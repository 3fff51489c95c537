-- demo/generate.sql: a deterministic demo company for omnikpi.
--
--   psql -X -v ON_ERROR_STOP=1 -v interactions=1000000 -v seed=1 -v schema=omnikpi_demo \
--        -f demo/generate.sql
--
-- Creates (replacing them) the four source tables of create_kpi_views in
-- :schema, with omnikpi's default column names and types:
--   interactions  one row per customer contact (exactly :interactions rows)
--   orders        one order per converted journey (order_id = journey_id)
--   touchpoints   the pre-purchase contacts of every journey, with their cost
--   conversions   the converted journeys (journey_id, converted_at, value)
-- covering twelve months, 2025-10-01 to 2026-09-30 (UTC), so that every run
-- with the same :interactions and :seed gives the same rows.
--
-- How it stays fast: everything is set-based and server-side.  Each random
-- number is a hash of (a row's key, a salt, :seed) (hashint8extended), so any
-- value can be recomputed anywhere from its key, no row depends on the one
-- before it, and no sort is needed to generate the rows (only the keys of the
-- journeys and issues are sorted, to pick and number them).  Subqueries end in
-- OFFSET 0 so that the planner computes each column once per row instead of
-- copying its expression into every place that uses it.
--
-- Dropping the old tables CASCADEs to views on them (a previous
-- create_kpi_views in another schema); demo/run.sh creates those again.

\set ON_ERROR_STOP on
\if :{?interactions}
\else
	\set interactions 1000000
\endif
\if :{?seed}
\else
	\set seed 1
\endif
\if :{?schema}
\else
	\set schema omnikpi_demo
\endif
-- recorded in the schema's comment; demo/run.sh passes a checksum of this file
\if :{?generator}
\else
	\set generator unknown
\endif

SET client_min_messages = warning;
-- Sorting the journeys and building the indexes want more than the defaults.
SET work_mem = '256MB';
SET maintenance_work_mem = '512MB';
-- Month boundaries below are in UTC; keep to_timestamp() output in UTC too.
SET TimeZone = 'UTC';
-- JIT compiling these long expressions takes a second or two per statement:
-- more than it saves below a few million interactions.
SELECT (:'interactions')::bigint < 3000000 AS gen_small \gset
\if :gen_small
	SET jit = off;
\endif

BEGIN;

-- ---------------------------------------------------------------------------
-- Random numbers
-- ---------------------------------------------------------------------------

-- u(key, salt): uniform in (0, 1), a pure function of (key, salt, :seed): 53
-- bits of a 64-bit hash.  The key's high half goes into the hash's seed, as
-- hashint8extended would fold it onto the low half.  Built with \gexec because
-- psql does not substitute variables inside the quoted body.  These helpers
-- are single SQL expressions, so the planner inlines them.
SELECT format($f$
CREATE FUNCTION pg_temp.u(k bigint, salt bigint) RETURNS double precision
	LANGUAGE sql IMMUTABLE PARALLEL SAFE
	AS 'SELECT ((hashint8extended(k & 4294967295, ((k >> 32) * 1000003 + salt) * 1000003 + %s)
				 & 9007199254740991)::double precision + 0.5) / 9007199254740992.0'
$f$, (:'seed')::bigint) \gexec

-- z(key, salt): standard normal (Box-Muller), from salts salt and salt + 1.
CREATE FUNCTION pg_temp.z(k bigint, salt bigint) RETURNS double precision
	LANGUAGE sql IMMUTABLE PARALLEL SAFE
	AS 'SELECT sqrt(-2 * ln(pg_temp.u(k, salt))) * cos(2 * pi() * pg_temp.u(k, salt + 1))';

-- pick_channel: the channel of a contact in a journey phase.  A channel is
-- drawn from the phase's channel mix (u1); if the customer does not use it,
-- one of the customer's own channels is taken instead, favouring the first
-- (their preferred) ones (u2).  Channels are numbered 1 to 8 (gen_channel).
-- thresholds: per phase p, the cumulative mix shifted by p - 1 (gen_param).
CREATE FUNCTION pg_temp.pick_channel(chans integer[], phase integer, u1 double precision,
									 u2 double precision, thresholds double precision[])
	RETURNS integer LANGUAGE sql IMMUTABLE PARALLEL SAFE
	AS 'SELECT chans[coalesce(array_position(chans, width_bucket(phase - 1 + u1, thresholds) - 8 * (phase - 1)),
							  1 + floor(u2 ^ 1.7 * cardinality(chans))::integer)]';

-- at_opening_hours(ep, jitter): ep if it is within store opening hours
-- (08:00-21:00), else the next opening plus jitter seconds.
CREATE FUNCTION pg_temp.at_opening_hours(ep double precision, jitter double precision)
	RETURNS double precision LANGUAGE sql IMMUTABLE PARALLEL SAFE
	AS 'SELECT coalesce(floor(ep / 86400) * 86400
						+ CASE WHEN ep - floor(ep / 86400) * 86400 < 8 * 3600 THEN 8 * 3600
							   WHEN ep - floor(ep / 86400) * 86400 >= 21 * 3600 THEN 32 * 3600 END
						+ jitter, ep)';

-- Salts: customer-level 9000000 + n (key customer_id), episode-level
-- 8000000 + n (key ckey), order-level 7000000 + n (key ckey), store-level
-- 6000000 + n (key store number), contact-level 100 * t + n (key ckey, t the
-- contact's number within its episode, n < 100).

-- ---------------------------------------------------------------------------
-- Parameters
-- ---------------------------------------------------------------------------

-- Per channel.  Satisfaction (CSAT 1-5) and effort (CES 1-7, 1 = very easy)
-- are the means of the underlying score at the start and at the end of the
-- year (the program improves every channel); the observed means differ a
-- little, since scores are rounded and clipped to their scale and shifted by
-- the customer's mood and by whether the context was carried over.  Store and
-- chat rate best, call center and kiosk worst; context is carried over most
-- often on app and web, least on call center and kiosk.
CREATE TEMP TABLE gen_channel (
	ci integer PRIMARY KEY,				-- channel number
	channel text NOT NULL,
	usage_weight double precision,		-- how likely a customer is to use the channel at all
	csat_start double precision,		-- mean CSAT, October 2025
	csat_end double precision,			-- mean CSAT, September 2026
	holiday_dip double precision,		-- CSAT lost in December (queues, crowds)
	csat_response double precision,		-- share of contacts with a CSAT answer
	ces_start double precision,			-- mean effort, October 2025
	ces_end double precision,			-- mean effort, September 2026
	nps_shift double precision,			-- likelihood to recommend, relative to the mean
	context_start double precision,		-- share of contacts with the context carried over
	context_end double precision,
	fcr_start double precision,			-- first-contact resolution of a service issue
	fcr_end double precision,
	touch_cost double precision,		-- mean cost of a touch (media, staff or agent time)
	purchase_ci integer,				-- where a journey ending here buys
	order_median double precision		-- median order amount of a purchase on the channel
);
INSERT INTO gen_channel VALUES
	(1, 'web',         0.24, 3.58, 4.60, 0.05, 0.22, 3.0, 2.3,  0.0, 0.80, 0.94, 0.55, 0.70, 0.40, 1, 62),
	(2, 'app',         0.20, 3.83, 4.80, 0.05, 0.30, 2.6, 2.0,  0.4, 0.85, 0.97, 0.62, 0.76, 0.15, 2, 48),
	(3, 'store',       0.22, 4.03, 4.90, 0.15, 0.15, 2.4, 1.9,  0.9, 0.65, 0.87, 0.80, 0.88, 6.00, 3, 41),
	(4, 'call_center', 0.10, 3.28, 4.30, 0.20, 0.35, 4.2, 3.2, -0.9, 0.50, 0.74, 0.62, 0.74, 5.50, 4, 85),
	(5, 'chat',        0.09, 3.98, 4.80, 0.05, 0.40, 2.4, 1.9,  0.5, 0.75, 0.92, 0.70, 0.82, 2.20, 1, NULL),
	(6, 'email',       0.08, 3.53, 4.50, 0.02, 0.12, 3.4, 2.7, -0.2, 0.65, 0.84, 0.48, 0.60, 0.05, 1, NULL),
	(7, 'social',      0.05, 3.43, 4.50, 0.02, 0.10, 3.5, 2.8, -0.4, 0.55, 0.77, 0.45, 0.58, 0.80, 2, NULL),
	(8, 'kiosk',       0.02, 3.23, 4.20, 0.10, 0.25, 3.9, 3.0, -1.0, 0.45, 0.67, 0.60, 0.70, 0.50, 8, 70);

-- The channel mix of each journey phase (before the customer's own channels
-- narrow it down), in channel order web, app, store, call_center, chat,
-- email, social, kiosk.  Each row sums to 1.
CREATE TEMP TABLE gen_phase (phase integer PRIMARY KEY, name text NOT NULL, mix double precision[] NOT NULL);
INSERT INTO gen_phase VALUES
	(1, 'awareness',     '{0.22, 0.08, 0.12, 0.02, 0.02, 0.22, 0.28, 0.04}'),
	(2, 'consideration', '{0.34, 0.22, 0.18, 0.04, 0.08, 0.07, 0.04, 0.03}'),
	(3, 'decision',      '{0.30, 0.25, 0.30, 0.05, 0.03, 0.01, 0.01, 0.05}'),
	(4, 'service',       '{0.10, 0.10, 0.10, 0.32, 0.25, 0.10, 0.03, 0.00}'),
	(5, 'loyalty',       '{0.15, 0.30, 0.15, 0.02, 0.03, 0.25, 0.10, 0.00}');

DO $$
BEGIN
	IF EXISTS (SELECT 1 FROM gen_phase p
			   WHERE abs((SELECT sum(x) FROM unnest(p.mix) x) - 1) > 1e-9 OR cardinality(p.mix) <> 8) THEN
		RAISE EXCEPTION 'a channel mix in gen_phase does not have 8 shares summing to 1';
	END IF;
END
$$;

-- Everything as one row of arrays (indexed by channel number), joined into
-- every statement below.  toast_tuple_target keeps the arrays uncompressed,
-- or every use of one would decompress it again.
CREATE TEMP TABLE gen_param WITH (toast_tuple_target = 8160) AS
SELECT
	(:'interactions')::bigint AS interactions,
	-- Customers: about one per 21 interactions asked for.  With the rates of
	-- gen_customer this makes about a quarter more contacts than needed; the
	-- surplus is dropped at random below, which keeps the count exact.
	greatest(ceil((:'interactions')::bigint / 21.0), 1)::bigint AS customers,
	extract(epoch FROM timestamptz '2025-10-01 00:00+00')::double precision AS start_ep,	-- first day
	extract(epoch FROM timestamptz '2026-10-01 00:00+00')::double precision AS end_ep,	-- day after the last
	extract(epoch FROM timestamptz '2026-10-01 00:00+00' - timestamptz '2025-10-01 00:00+00')::double precision AS period,
	extract(epoch FROM timestamptz '2025-11-20 00:00+00')::double precision AS peak_start_ep,	-- holiday season
	extract(epoch FROM timestamptz '2025-12-24 00:00+00')::double precision AS peak_end_ep,
	extract(epoch FROM timestamptz '2025-12-01 00:00+00')::double precision AS december_ep,
	extract(epoch FROM timestamptz '2026-01-01 00:00+00')::double precision AS january_ep,
	array_agg(c.channel ORDER BY c.ci) AS channel,
	array_agg(c.usage_weight ORDER BY c.ci) AS usage_weight,
	array_agg(c.csat_start ORDER BY c.ci) AS csat_start,
	array_agg(c.csat_end - c.csat_start ORDER BY c.ci) AS csat_gain,
	array_agg(c.holiday_dip ORDER BY c.ci) AS holiday_dip,
	array_agg(c.csat_response ORDER BY c.ci) AS csat_response,
	array_agg(c.ces_start ORDER BY c.ci) AS ces_start,
	array_agg(c.ces_end - c.ces_start ORDER BY c.ci) AS ces_gain,
	array_agg(c.nps_shift ORDER BY c.ci) AS nps_shift,
	array_agg(c.context_start ORDER BY c.ci) AS context_start,
	array_agg(c.context_end - c.context_start ORDER BY c.ci) AS context_gain,
	array_agg(c.fcr_start ORDER BY c.ci) AS fcr_start,
	array_agg(c.fcr_end - c.fcr_start ORDER BY c.ci) AS fcr_gain,
	array_agg(c.purchase_ci ORDER BY c.ci) AS purchase_ci,
	array_agg(c.order_median ORDER BY c.ci) AS order_median,
	(SELECT array_agg(name ORDER BY phase) FROM gen_phase) AS phase_name,
	-- For pick_channel: phase p's boundaries p - 1 + (0, s1, s1 + s2, ...).
	(SELECT array_agg(p.phase - 1 + m.lower_bound ORDER BY p.phase, m.ci)
	 FROM gen_phase p,
		  LATERAL (SELECT ci, coalesce(sum(share) OVER (ORDER BY ci ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0) AS lower_bound
				   FROM unnest(p.mix) WITH ORDINALITY AS s(share, ci)) m) AS phase_thresholds
FROM gen_channel c;

-- ---------------------------------------------------------------------------
-- Customers
-- ---------------------------------------------------------------------------

-- Each customer uses a set of channels, best-liked first: 26% one channel,
-- 32% two, 24% three, 18% four or more (so about three in four are
-- omnichannel, as in the field; customers with few contacts show fewer
-- channels in the data).  75% are customers when the year starts, the rest
-- join during it; churn is a monthly hazard (2.4% to 2.7%) that is lower the
-- more channels a customer uses (multichannel customers retain better).  An
-- active customer starts about 8 journeys and 3 stand-alone service issues a
-- year; activity varies (log-normal) and grows with the number of channels.
CREATE TEMP TABLE gen_customer AS
SELECT c.customer_id, c.m, ch.chans, c.lo_ep, c.hi_ep, c.zc,
	floor(8.0 * c.activity * c.years + pg_temp.u(c.customer_id, 9000010))::integer AS journeys,
	floor(3.0 * c.activity * c.years + pg_temp.u(c.customer_id, 9000011))::integer AS issues
FROM (
	SELECT customer_id, m, lo_ep, zc,
		least(lo_ep + lifetime_months * 30.44 * 86400, p.end_ep - 3600) AS hi_ep,
		(least(lo_ep + lifetime_months * 30.44 * 86400, p.end_ep - 3600) - lo_ep) / (365.25 * 86400) AS years,
		exp(0.7 * pg_temp.z(customer_id, 9000004) - 0.245) * (0.85 + 0.075 * m) AS activity
	FROM (
		SELECT id AS customer_id, m,
			CASE WHEN pg_temp.u(id, 9000002) < 0.75 THEN p.start_ep
				 ELSE p.start_ep + pg_temp.u(id, 9000003) * (p.period - 14 * 86400) END AS lo_ep,
			-ln(pg_temp.u(id, 9000006)) / (ARRAY[0.027, 0.026, 0.025, 0.024, 0.024, 0.024])[m] AS lifetime_months,
			0.35 * pg_temp.z(id, 9000008) AS zc	-- the customer's mood: shifts all their ratings
		FROM (
			SELECT id, width_bucket(pg_temp.u(id, 9000001), ARRAY[0.26, 0.58, 0.82, 0.93, 0.98]) + 1 AS m
			FROM gen_param p, generate_series(1, p.customers) id
			OFFSET 0) s, gen_param p
		OFFSET 0) s, gen_param p
	OFFSET 0) c
CROSS JOIN LATERAL (
	-- m channels drawn by usage_weight without replacement: the m smallest
	-- exponential keys -ln(u) / weight (Efraimidis-Spirakis), best-liked first.
	SELECT (array_agg(ci ORDER BY -ln(pg_temp.u(c.customer_id, 9000100 + ci)) / p.usage_weight[ci]))[1:c.m] AS chans
	FROM gen_param p, generate_series(1, 8) ci
) ch;

-- ---------------------------------------------------------------------------
-- Episodes: journeys and stand-alone service issues
-- ---------------------------------------------------------------------------

-- A journey moves through the phases in order: it starts at awareness (70%),
-- consideration (20%) or decision (10%); 50% go on from awareness to
-- consideration and 55% from consideration to decision; 66% of those at
-- decision buy (74% by the year's end), the rest abandon.  After a purchase
-- 55% have a service issue, and half of those reach loyalty (a review, a
-- referral, a loyalty-app visit).  Pre-purchase contacts: one per phase
-- passed plus a geometric number of extra ones (at most 12); the service
-- issue takes 1 contact if its first contact resolves it (first-contact
-- resolution of that channel), otherwise 2 to 6; loyalty 1 or 2.  So a
-- journey has 1 to 20 contacts.  A stand-alone issue (journey_id NULL) is a
-- service case outside any tracked journey, sized the same way.
--
-- Times: the journey is anchored uniformly in the customer's active period
-- (5% of them in the holiday peak, 20 November to 23 December).  Research
-- takes a log-normal time (median two days, longer with more contacts), the
-- purchase follows the last pre-purchase contact (minutes in a store, up to
-- hours online), the service issue starts days later and lasts a day or two,
-- loyalty follows weeks later.  A journey that would not fit in the
-- customer's active period is squeezed into it.
CREATE TEMP TABLE gen_candidate AS
SELECT e.customer_id, e.ckey, e.chans, e.zc, e.is_journey, e.s, e.e_pre, e.bought,
	e.k_pre, e.k_svc, e.k_loy, e.k_all, e.ch_last_pre, e.ch_service,
	e.f, e.d_pre, e.d_svc, e.d_loy, e.begin_ep,
	-- absolute times of the stages (epoch seconds); the purchase is at least a
	-- minute after the last pre-purchase contact, even when squeezed
	e.begin_ep + e.f * e.d_pre + greatest(60, e.f * e.d_buy) AS bought_ep,
	e.begin_ep + e.f * e.d_pre + greatest(60, e.f * e.d_buy) + e.f * e.delay_svc AS svc_ep,
	e.begin_ep + e.f * e.d_pre + greatest(60, e.f * e.d_buy) + e.f * (e.delay_svc + e.d_svc + e.delay_loy) AS loy_ep
FROM (
	SELECT e.*,
		-- placed in the customer's active period so that it ends there
		greatest(e.lo_ep, least(e.anchor_ep, e.hi_ep - e.f * e.duration)) AS begin_ep
	FROM (
		SELECT e.*,
			-- all of the episode's time, squeezed to fit (f <= 1)
			least(1, (e.hi_ep - e.lo_ep) / nullif(e.duration, 0)) AS f,
			e.k_pre * e.is_journey::integer + e.k_svc + e.k_loy AS k_all
		FROM (
			SELECT e.*,
				CASE WHEN e.is_journey
					 THEN e.d_pre + e.d_buy + CASE WHEN e.k_svc > 0 THEN e.delay_svc + e.d_svc ELSE 0 END
						+ CASE WHEN e.k_loy > 0 THEN e.delay_loy + e.d_loy ELSE 0 END
					 ELSE e.d_svc END AS duration
			FROM (
				SELECT e.*,
					-- service: the first contact resolves the issue, or 2 to 6 contacts are needed
					CASE WHEN NOT e.is_journey OR e.svc THEN
						CASE WHEN pg_temp.u(e.ckey, 8000020) < p.fcr_start[e.ch_service] + p.fcr_gain[e.ch_service] * e.tf
							 THEN 1 ELSE least(6, 2 + floor(-ln(pg_temp.u(e.ckey, 8000021)) * 0.9))::integer END
						 ELSE 0 END AS k_svc,
					CASE WHEN e.loy THEN least(2, 1 + floor(-ln(pg_temp.u(e.ckey, 8000022)) * 0.7))::integer ELSE 0 END AS k_loy,
					-- durations in seconds
					CASE WHEN e.k_pre > 1 THEN least(30 * 86400, 2 * 86400 * sqrt(e.k_pre - 1) * exp(1.0 * pg_temp.z(e.ckey, 8000030))) ELSE 0 END AS d_pre,
					CASE WHEN e.ch_last_pre = 3 THEN 120 + 900 * pg_temp.u(e.ckey, 8000032)
						 ELSE least(2 * 86400, 600 * exp(1.5 * pg_temp.z(e.ckey, 8000032))) END AS d_buy,
					least(30 * 86400, 3 * 86400 * exp(0.8 * pg_temp.z(e.ckey, 8000034))) AS delay_svc,
					least(20 * 86400, 1.5 * 86400 * exp(0.9 * pg_temp.z(e.ckey, 8000036))) AS d_svc,
					least(90 * 86400, 20 * 86400 * exp(0.6 * pg_temp.z(e.ckey, 8000038))) AS delay_loy,
					least(60 * 86400, 10 * 86400 * exp(0.5 * pg_temp.z(e.ckey, 8000040))) AS d_loy
				FROM (
					SELECT e.*,
						-- the channel of the last pre-purchase contact (where the journey buys) and of
						-- the first service contact; the same draws as for those contacts themselves
						CASE WHEN e.is_journey THEN
							pg_temp.pick_channel(e.chans, e.e_pre, pg_temp.u(e.ckey, 100 * e.k_pre + 1),
												 pg_temp.u(e.ckey, 100 * e.k_pre + 2), p.phase_thresholds) END AS ch_last_pre,
						pg_temp.pick_channel(e.chans, 4, pg_temp.u(e.ckey, 100 * e.t_service + 1),
											 pg_temp.u(e.ckey, 100 * e.t_service + 2), p.phase_thresholds) AS ch_service
					FROM (
						SELECT e.*,
							least(12, e.e_pre - e.s + 1 + floor(-ln(pg_temp.u(e.ckey, 8000012)) * 2.2))::integer AS k_pre,
							-- contact number of the first service contact
							CASE WHEN e.is_journey
								 THEN least(12, e.e_pre - e.s + 1 + floor(-ln(pg_temp.u(e.ckey, 8000012)) * 2.2))::integer + 1
								 ELSE 1 END AS t_service,
							e.bought AND pg_temp.u(e.ckey, 8000014) < 0.55 AS svc,
							e.bought AND pg_temp.u(e.ckey, 8000014) < 0.55 AND pg_temp.u(e.ckey, 8000015) < 0.5 AS loy
						FROM (
							SELECT e.*,
								e.is_journey AND e.e_pre = 3 AND pg_temp.u(e.ckey, 8000013) < 0.66 + 0.08 * e.tf AS bought
							FROM (
								SELECT e.*,
									(e.anchor_ep - p.start_ep) / p.period AS tf,	-- 0 at the start of the year, 1 at its end
									CASE WHEN NOT e.is_journey THEN 4
										 WHEN e.s = 3 THEN 3
										 WHEN e.s = 1 AND pg_temp.u(e.ckey, 8000010) >= 0.50 THEN 1
										 WHEN pg_temp.u(e.ckey, 8000011) < 0.55 THEN 3
										 ELSE 2 END AS e_pre	-- the last phase before a purchase (or the abandonment)
								FROM (
									SELECT c.customer_id, c.chans, c.lo_ep, c.hi_ep, c.zc,
										c.customer_id * 1024 + n AS ckey,	-- key of the episode's random numbers
										n <= c.journeys AS is_journey,
										CASE WHEN n > c.journeys THEN 4
											 ELSE width_bucket(pg_temp.u(c.customer_id * 1024 + n, 8000002), ARRAY[0.70, 0.90]) + 1 END AS s,
										CASE WHEN pg_temp.u(c.customer_id * 1024 + n, 8000003) < 0.05
												  AND c.lo_ep < p.peak_end_ep AND c.hi_ep > p.peak_start_ep
											 THEN greatest(c.lo_ep, p.peak_start_ep) + pg_temp.u(c.customer_id * 1024 + n, 8000004)
												  * (least(c.hi_ep, p.peak_end_ep) - greatest(c.lo_ep, p.peak_start_ep))
											 ELSE c.lo_ep + pg_temp.u(c.customer_id * 1024 + n, 8000004) * (c.hi_ep - c.lo_ep) END AS anchor_ep
									FROM gen_customer c, gen_param p,
										 LATERAL generate_series(1, least(c.journeys + c.issues, 1000)) n
									OFFSET 0) e, gen_param p
								OFFSET 0) e
							OFFSET 0) e
						OFFSET 0) e, gen_param p
					OFFSET 0) e, gen_param p
				OFFSET 0) e, gen_param p
			OFFSET 0) e
		OFFSET 0) e
	OFFSET 0) e;

-- Keep a random subset of the candidates that holds exactly :interactions
-- contacts (the last one kept is cut short), then number the episodes and
-- their contacts in time order, as an operational system would have.  Only
-- the keys are sorted, which is much cheaper than sorting whole episodes; with
-- enough memory the sorts need no temporary files (about 450MB at 10 million
-- interactions).
SET LOCAL work_mem = '1GB';
CREATE TEMP TABLE gen_number AS
SELECT ckey, k, row_number() OVER w AS episode_no,
	coalesce(sum(k) OVER (w ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0) AS first_id
FROM (
	SELECT ckey, begin_ep, least(k_all, p.interactions - before) AS k
	FROM (
		SELECT ckey, begin_ep, k_all,
			coalesce(sum(k_all) OVER (ORDER BY pg_temp.u(ckey, 8000001) ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0) AS before
		FROM gen_candidate) e, gen_param p
	WHERE before < p.interactions
) e
WINDOW w AS (ORDER BY begin_ep, ckey);

CREATE TEMP TABLE gen_episode AS
SELECT n.episode_no, n.first_id, n.k, c.*
FROM gen_candidate c JOIN gen_number n USING (ckey);
SET LOCAL work_mem = '256MB';

-- ---------------------------------------------------------------------------
-- interactions
-- ---------------------------------------------------------------------------

DROP TABLE IF EXISTS :"schema".interactions, :"schema".orders, :"schema".touchpoints,
	:"schema".conversions CASCADE;
CREATE SCHEMA IF NOT EXISTS :"schema";

CREATE TABLE :"schema".interactions (
	interaction_id bigint NOT NULL,
	customer_id bigint,
	journey_id bigint,
	channel text,
	occurred_at timestamptz,
	phase text,
	satisfaction double precision,
	effort double precision,
	nps integer,
	context_carried boolean,
	issue_id bigint,
	resolved boolean
);

-- Per contact: its stage (1 pre-purchase, 2 the journey's service issue,
-- 3 loyalty, 4 a stand-alone issue), its number i within the stage, time,
-- phase and channel; then whether the context was carried over, and the
-- survey answers, which depend on the channel, the time of year (the
-- program's improvement, and a December dip), the customer's mood, whether
-- the context was carried over and how many contacts the issue has taken so
-- far.  CSAT is answered at the channel's response rate, CES mostly after
-- service contacts (45%, else 8%), NPS mostly in the loyalty phase (45%,
-- else 5%).  A repeated service contact stays on the issue's first channel
-- 45% of the time.
INSERT INTO :"schema".interactions
SELECT first_id + t,
	customer_id,
	CASE WHEN is_journey THEN episode_no END,
	p.channel[ci],
	to_timestamp(occurred_ep),
	p.phase_name[phase],
	CASE WHEN pg_temp.u(ckey, 100 * t + 10) < p.csat_response[ci] THEN
		greatest(1, least(5, round(p.csat_start[ci] + p.csat_gain[ci] * tf
			- CASE WHEN occurred_ep >= p.december_ep AND occurred_ep < p.january_ep THEN p.holiday_dip[ci] ELSE 0 END
			+ zc + CASE WHEN context_carried THEN 0.12::float8 ELSE -0.30::float8 END
			- 0.15 * repeat_contacts + 0.8 * z1))) END,
	CASE WHEN pg_temp.u(ckey, 100 * t + 11) < CASE WHEN phase = 4 THEN 0.45::float8 ELSE 0.08::float8 END THEN
		greatest(1, least(7, round(p.ces_start[ci] + p.ces_gain[ci] * tf - 0.8 * zc
			+ CASE WHEN context_carried THEN -0.25::float8 ELSE 0.70::float8 END
			+ 0.35 * repeat_contacts + 1.1 * (0.87 * z2 - 0.5 * z1)))) END,
	CASE WHEN pg_temp.u(ckey, 100 * t + 12) < CASE WHEN phase = 5 THEN 0.45::float8 ELSE 0.05::float8 END THEN
		greatest(0, least(10, round(7.8 + p.nps_shift[ci] + 1.3 * tf + 3 * zc
			+ CASE WHEN context_carried THEN 0.2::float8 ELSE -0.5::float8 END
			+ 2.0 * (0.6 * z1 + 0.8 * z2))))::integer END,
	context_carried,
	CASE WHEN stage IN (2, 4) THEN episode_no END,
	-- the issue's last contact resolves it (always when it is its only one; 90% otherwise)
	stage IN (2, 4) AND i = stage_k AND (stage_k = 1 OR pg_temp.u(ckey, 8000050) < 0.90)
FROM (
	SELECT c.*,
		pg_temp.u(c.ckey, 100 * c.t + 5) < p.context_start[c.ci] + p.context_gain[c.ci] * c.tf AS context_carried,
		pg_temp.z(c.ckey, 100 * c.t + 6) AS z1,
		pg_temp.z(c.ckey, 100 * c.t + 8) AS z2,
		(CASE WHEN c.stage IN (2, 4) THEN c.i - 1 ELSE 0 END)::double precision AS repeat_contacts
	FROM (
		SELECT c.*,
			(c.occurred_ep - p.start_ep) / p.period AS tf,
			CASE WHEN c.stage = 1 AND c.i = c.k_pre THEN c.ch_last_pre
				 WHEN c.stage IN (2, 4) AND (c.i = 1 OR pg_temp.u(c.ckey, 100 * c.t + 4) < 0.45) THEN c.ch_service
				 ELSE pg_temp.pick_channel(c.chans, c.phase, pg_temp.u(c.ckey, 100 * c.t + 1),
										   pg_temp.u(c.ckey, 100 * c.t + 2), p.phase_thresholds) END AS ci
		FROM (
			SELECT c.*,
				-- evenly spread slots over the stage, jittered within each slot
				floor(c.stage_start + c.stage_length * (c.i - 1 + 0.9 * pg_temp.u(c.ckey, 100 * c.t + 3)) / c.stage_k) AS occurred_ep,
				(CASE c.stage WHEN 1 THEN c.s + ((c.i - 1) * (c.e_pre - c.s + 1)) / c.k_pre
							  WHEN 3 THEN 5 ELSE 4 END)::integer AS phase
			FROM (
				SELECT c.*,
					c.t - CASE c.stage WHEN 2 THEN c.k_pre WHEN 3 THEN c.k_pre + c.k_svc ELSE 0 END AS i,
					CASE c.stage WHEN 1 THEN c.k_pre WHEN 2 THEN c.k_svc WHEN 3 THEN c.k_loy ELSE c.k_svc END AS stage_k,
					CASE c.stage WHEN 2 THEN c.svc_ep WHEN 3 THEN c.loy_ep ELSE c.begin_ep END AS stage_start,
					c.f * CASE c.stage WHEN 1 THEN c.d_pre WHEN 3 THEN c.d_loy ELSE c.d_svc END AS stage_length
				FROM (
					SELECT e.episode_no, e.first_id, e.ckey, e.customer_id, e.is_journey, e.chans, e.zc,
						e.s, e.e_pre, e.k_pre, e.k_svc, e.k_loy, e.ch_last_pre, e.ch_service,
						e.f, e.d_pre, e.d_svc, e.d_loy, e.begin_ep, e.svc_ep, e.loy_ep,
						t,
						CASE WHEN NOT e.is_journey THEN 4
							 WHEN t <= e.k_pre THEN 1
							 WHEN t <= e.k_pre + e.k_svc THEN 2
							 ELSE 3 END AS stage
					FROM gen_episode e, LATERAL generate_series(1, e.k) t
					OFFSET 0) c
				OFFSET 0) c
			OFFSET 0) c, gen_param p
		OFFSET 0) c, gen_param p
	OFFSET 0) c, gen_param p;

-- ---------------------------------------------------------------------------
-- orders and conversions
-- ---------------------------------------------------------------------------

CREATE TABLE :"schema".orders (
	order_id bigint NOT NULL,
	customer_id bigint,
	channel text,
	ordered_at timestamptz,
	amount numeric(12,2),
	fulfillment text,
	ready_at timestamptz,
	collected_at timestamptz,
	returned_at timestamptz,
	return_channel text
);

-- One order per converted journey (a journey cut short before its purchase
-- does not convert), on the channel where the journey bought: chat and email
-- journeys buy on the web, social ones in the app.  Amounts are log-normal
-- around the channel's median; customers of several channels spend 4% more
-- in store and 10% more online.  Fulfillment depends on the channel, and
-- buy-online-pickup-in-store grows over the year.  Pickup orders are ready
-- after a time that depends on the store (40 stores, each faster or slower)
-- and, for BOPIS, gets shorter over the year; a time outside opening hours
-- (08:00-21:00) moves to the next opening.  4% of pickups are never
-- collected.  Returns: 6-12% depending on fulfillment, a week or so after
-- delivery or pickup; an online order is returned on its own channel 40% of
-- the time, else mostly in store, a store order mostly in store.  Nothing is
-- dated after the end of the data: later events have not happened yet.
INSERT INTO :"schema".orders
SELECT episode_no, customer_id, p.channel[pci], to_timestamp(ordered_ep), amount, fulfillment,
	to_timestamp(ready_ep), to_timestamp(collected_ep),
	to_timestamp(CASE WHEN returned THEN returned_ep END),
	CASE WHEN returned THEN p.channel[CASE WHEN pci = 3 THEN
		CASE WHEN r < 0.85 THEN 3 WHEN r < 0.95 THEN 1 ELSE 4 END
		ELSE CASE WHEN r < 0.40 THEN pci WHEN r < 0.85 THEN 3 WHEN r < 0.95 THEN 1 ELSE 4 END END] END
FROM (
	-- 5. returned or not, and where
	SELECT o.*,
		pg_temp.u(o.ckey, 7000030) < CASE o.fulfillment WHEN 'delivery' THEN 0.12::float8 WHEN 'bopis' THEN 0.08::float8
														WHEN 'ship_to_store' THEN 0.09::float8 ELSE 0.06::float8 END
			AND o.returned_ep < p.end_ep AS returned,
		pg_temp.u(o.ckey, 7000031) AS r
	FROM (
		-- 4. a return about a week after the customer got the goods (an uncollected pickup is not returned)
		SELECT o.*,
			floor(CASE WHEN o.fulfillment IN ('bopis', 'ship_to_store') AND o.collected_ep IS NULL THEN NULL
					   ELSE coalesce(o.collected_ep,
									 o.ordered_ep + CASE o.fulfillment WHEN 'delivery' THEN 3 * 86400 ELSE 0 END)
							+ 7 * 86400 * exp(0.6 * pg_temp.z(o.ckey, 7000032)) END) AS returned_ep
		FROM (
			-- 3. collected in opening hours, unless never collected or not yet
			SELECT o.*,
				floor(CASE WHEN pg_temp.at_opening_hours(o.collect_raw_ep, 7200 * pg_temp.u(o.ckey, 7000021)) < p.end_ep
						   THEN pg_temp.at_opening_hours(o.collect_raw_ep, 7200 * pg_temp.u(o.ckey, 7000021)) END) AS collected_ep
			FROM (
				-- 2. ready in opening hours (unless not yet); collection about 18 hours later (median)
				SELECT o.*,
					floor(CASE WHEN o.ready_open_ep < p.end_ep THEN o.ready_open_ep END) AS ready_ep,
					CASE WHEN o.ready_open_ep < p.end_ep AND pg_temp.u(o.ckey, 7000020) >= 0.04
						 THEN o.ready_open_ep + 18 * 3600 * exp(0.9 * pg_temp.z(o.ckey, 7000016)) END AS collect_raw_ep
				FROM (
					SELECT o.*,
						pg_temp.at_opening_hours(o.ready_raw_ep, 5400 * pg_temp.u(o.ckey, 7000015)) AS ready_open_ep
					FROM (
						-- 1. pickup orders: ready after a store-dependent time
						SELECT o.*,
							CASE o.fulfillment
								WHEN 'bopis' THEN o.ordered_ep + 3600 * 2.0 * (1.25 - 0.5 * o.tf) * o.store_speed
												  * exp(0.6 * pg_temp.z(o.ckey, 7000012))
								WHEN 'ship_to_store' THEN o.ordered_ep + 3600 * 60 * o.store_speed
														  * exp(0.35 * pg_temp.z(o.ckey, 7000012))
							END AS ready_raw_ep
						FROM (
							SELECT e.episode_no, e.ckey, e.customer_id, p.purchase_ci[e.ch_last_pre] AS pci,
								floor(e.bought_ep) AS ordered_ep,
								(e.bought_ep - p.start_ep) / p.period AS tf,
								-- the store's speed: its own random factor, shared by all its orders
								exp(0.35 * pg_temp.z(1 + floor(40 * pg_temp.u(e.ckey, 7000010))::bigint, 6000001)) AS store_speed,
								(p.order_median[p.purchase_ci[e.ch_last_pre]]
									* CASE WHEN cardinality(e.chans) = 1 THEN 1.0::float8
										   WHEN p.purchase_ci[e.ch_last_pre] = 3 THEN 1.04::float8
										   WHEN p.purchase_ci[e.ch_last_pre] IN (1, 2) THEN 1.10::float8
										   ELSE 1.0::float8 END
									* exp(0.75 * pg_temp.z(e.ckey, 7000001)))::numeric(12,2) AS amount,
								CASE p.purchase_ci[e.ch_last_pre]
									WHEN 3 THEN CASE WHEN pg_temp.u(e.ckey, 7000003) < 0.88 THEN 'in_store' ELSE 'delivery' END
									WHEN 4 THEN (ARRAY['delivery', 'bopis', 'ship_to_store'])[width_bucket(pg_temp.u(e.ckey, 7000003), ARRAY[0.80, 0.92]) + 1]
									WHEN 8 THEN CASE WHEN pg_temp.u(e.ckey, 7000003) < 0.55 THEN 'ship_to_store' ELSE 'delivery' END
									ELSE (ARRAY['delivery', 'bopis', 'ship_to_store'])[
										width_bucket(pg_temp.u(e.ckey, 7000003),
													 ARRAY[0.58 - 0.08 * (e.bought_ep - p.start_ep) / p.period, 0.85]) + 1]
								END AS fulfillment
							FROM gen_episode e, gen_param p
							WHERE e.bought AND e.k >= e.k_pre
							OFFSET 0) o
						OFFSET 0) o
					OFFSET 0) o, gen_param p
				OFFSET 0) o, gen_param p
			OFFSET 0) o
		OFFSET 0) o, gen_param p
	OFFSET 0) o, gen_param p;

CREATE TABLE :"schema".conversions (
	journey_id bigint NOT NULL,
	converted_at timestamptz,
	value numeric(12,2)
);
-- A conversion is the journey's order: after all of its touchpoints.
INSERT INTO :"schema".conversions
SELECT order_id, ordered_at, amount FROM :"schema".orders;

-- ---------------------------------------------------------------------------
-- touchpoints
-- ---------------------------------------------------------------------------

CREATE TABLE :"schema".touchpoints (
	touch_id bigint NOT NULL,
	journey_id bigint,
	customer_id bigint,
	channel text,
	touched_at timestamptz,
	cost numeric(10,2)
);
-- The pre-purchase contacts of every journey, converted or not (touch_id =
-- interaction_id), at the channel's mean cost +-50%: cents for email and
-- push, tens of cents for paid search and social, euros for staff and agents.
INSERT INTO :"schema".touchpoints
SELECT i.interaction_id, i.journey_id, i.customer_id, i.channel, i.occurred_at,
	(c.touch_cost * (0.5 + pg_temp.u(i.interaction_id, 7000100)))::numeric(10,2)
FROM :"schema".interactions i
JOIN gen_channel c ON c.channel = i.channel
WHERE i.journey_id IS NOT NULL AND i.phase IN ('awareness', 'consideration', 'decision');

-- ---------------------------------------------------------------------------
-- Keys, indexes, comments, statistics
-- ---------------------------------------------------------------------------

-- Built after loading (faster than maintaining them row by row): the keys,
-- the time columns every monthly KPI filters on, and the columns the journey,
-- issue, customer and attribution views partition or join by.
ALTER TABLE :"schema".interactions ADD PRIMARY KEY (interaction_id);
CREATE INDEX ON :"schema".interactions (occurred_at);
CREATE INDEX ON :"schema".interactions (journey_id, occurred_at) WHERE journey_id IS NOT NULL;
CREATE INDEX ON :"schema".interactions (issue_id, occurred_at) WHERE issue_id IS NOT NULL;
CREATE INDEX ON :"schema".interactions (customer_id, occurred_at);
ALTER TABLE :"schema".orders ADD PRIMARY KEY (order_id);
CREATE INDEX ON :"schema".orders (ordered_at);
CREATE INDEX ON :"schema".orders (customer_id, ordered_at);
-- an order changes again when it is ready, collected or returned: the
-- refresh of the materialized form finds those in its window by these
CREATE INDEX ON :"schema".orders (ready_at);
CREATE INDEX ON :"schema".orders (collected_at);
CREATE INDEX ON :"schema".orders (returned_at);
ALTER TABLE :"schema".touchpoints ADD PRIMARY KEY (touch_id);
CREATE INDEX ON :"schema".touchpoints (journey_id, touched_at);
CREATE INDEX ON :"schema".touchpoints (touched_at);
ALTER TABLE :"schema".conversions ADD PRIMARY KEY (journey_id);
CREATE INDEX ON :"schema".conversions (converted_at);

COMMENT ON TABLE :"schema".interactions IS
	'omnikpi demo data: one row per customer contact on a channel (generated by demo/generate.sql)';
COMMENT ON TABLE :"schema".orders IS
	'omnikpi demo data: one order per converted journey, order_id = journey_id (generated by demo/generate.sql)';
COMMENT ON TABLE :"schema".touchpoints IS
	'omnikpi demo data: the pre-purchase contacts of each journey with their cost, touch_id = interaction_id (generated by demo/generate.sql)';
COMMENT ON TABLE :"schema".conversions IS
	'omnikpi demo data: the converted journeys with their order value (generated by demo/generate.sql)';
-- demo/run.sh reads this to tell whether the data can be reused.
SELECT format('COMMENT ON SCHEMA %I IS %L', :'schema',
			  format('omnikpi demo data: interactions=%s seed=%s generator=%s',
					 :'interactions', :'seed', :'generator')) \gexec

COMMIT;

ANALYZE :"schema".interactions, :"schema".orders, :"schema".touchpoints, :"schema".conversions;

\pset footer off
\echo
\echo 'Demo company in schema' :schema '(data from 2025-10-01 to 2026-09-30, UTC):'
-- Counted from the generator's own tables where that is cheaper than
-- scanning the interactions again.
SELECT (SELECT count(*) FROM :"schema".interactions) AS interactions,
	count(DISTINCT customer_id) AS customers,
	count(*) FILTER (WHERE is_journey) AS journeys,
	count(*) FILTER (WHERE NOT is_journey OR (k_svc > 0 AND k > k_pre)) AS issues,
	(SELECT count(*) FROM :"schema".touchpoints) AS touchpoints,
	(SELECT count(*) FROM :"schema".orders) AS orders
FROM gen_episode;
