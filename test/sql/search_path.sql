-- search_path safety (the CVE-2018-1058 pattern): an unprivileged role plants
-- functions and operators in public that shadow the built-ins the KPI views
-- use; creating the views as another role, and reading them, never calls
-- them.  create_kpi_views pins search_path to pg_catalog, pg_temp and
-- qualifies omnikpi's own objects, and views store resolved objects.
\set SHOW_CONTEXT never
SET datestyle = 'ISO, YMD';
CREATE ROLE omnikpi_attacker;
GRANT CREATE ON SCHEMA public TO omnikpi_attacker;
CREATE TABLE public.trap_calls (what text);
GRANT INSERT ON public.trap_calls TO omnikpi_attacker;

SET ROLE omnikpi_attacker;
-- Better matches than the built-ins for varchar and integer arguments, were
-- public searched first.
CREATE FUNCTION public.date_trunc(text, timestamp with time zone) RETURNS timestamp with time zone
	LANGUAGE sql AS $$ INSERT INTO public.trap_calls VALUES ('date_trunc') RETURNING now() $$;
CREATE FUNCTION public.lower(varchar) RETURNS text
	LANGUAGE sql AS $$ INSERT INTO public.trap_calls VALUES ('lower') RETURNING 'x' $$;
CREATE FUNCTION public.array_position(text[], varchar) RETURNS integer
	LANGUAGE sql AS $$ INSERT INTO public.trap_calls VALUES ('array_position') RETURNING 1 $$;
CREATE FUNCTION public.trap_text_eq(text, varchar) RETURNS boolean
	LANGUAGE sql AS $$ INSERT INTO public.trap_calls VALUES ('=') RETURNING true $$;
CREATE OPERATOR public.= (LEFTARG = text, RIGHTARG = varchar, FUNCTION = public.trap_text_eq);
CREATE FUNCTION public.format(text, VARIADIC "any") RETURNS text
	LANGUAGE sql AS $$ INSERT INTO public.trap_calls VALUES ('format') RETURNING 'SELECT 1' $$;
RESET ROLE;

CREATE SCHEMA sp_shop;
CREATE TABLE sp_shop.interactions (customer_id int, journey_id int, channel varchar, occurred_at timestamptz,
	phase varchar, satisfaction float8, effort float8, nps int, context_carried bool, issue_id int, resolved bool);
INSERT INTO sp_shop.interactions VALUES
	(1, 1, 'web', '2026-01-05', 'awareness', 5, 2, 10, false, NULL, false),
	(1, 1, 'store', '2026-01-06', 'decision', 3, 3, 7, true, 1, true);
CREATE SCHEMA sp_kpi;
SET search_path = public, pg_catalog;
-- The traps work: with public first, a plain call of lower() on a varchar is caught.
SELECT lower('ABC'::varchar) AS trapped;
SELECT count(*) AS created FROM omnikpi.create_kpi_views('sp_kpi', interactions => 'sp_shop.interactions')
WHERE status = 'created';
-- web 100, store 50 -> 75; funnel reaches decision.
SELECT month, rating_pct FROM sp_kpi.experience_rating_monthly;
SELECT phase, journeys FROM sp_kpi.journey_funnel_monthly ORDER BY phase_order;
SELECT count(*) AS dropped FROM omnikpi.drop_kpi_views('sp_kpi');
RESET search_path;

-- The materialized form and the data-driven attribution views, created and
-- refreshed by an ordinary role with public first on its search_path.
CREATE TABLE sp_shop.touchpoints (journey_id int, customer_id int, channel varchar, touched_at timestamptz, cost numeric);
CREATE TABLE sp_shop.conversions (journey_id int, converted_at timestamptz, value numeric);
INSERT INTO sp_shop.touchpoints VALUES
	(1, 1, 'web', '2026-01-04', 1), (1, 1, 'store', '2026-01-05', 2), (2, 1, 'web', '2026-01-06', 1);
INSERT INTO sp_shop.conversions VALUES (1, '2026-01-06', 100);
CREATE ROLE omnikpi_sp_analyst;
GRANT USAGE ON SCHEMA sp_shop TO omnikpi_sp_analyst;
GRANT SELECT ON ALL TABLES IN SCHEMA sp_shop TO omnikpi_sp_analyst;
CREATE SCHEMA sp_mat AUTHORIZATION omnikpi_sp_analyst;
SET ROLE omnikpi_sp_analyst;
SET search_path = public, pg_catalog;
SET client_min_messages = warning;
SELECT status, count(*) FROM omnikpi.create_kpi_views('sp_mat', interactions => 'sp_shop.interactions',
	touchpoints => 'sp_shop.touchpoints', conversions => 'sp_shop.conversions', materialized => true)
GROUP BY status ORDER BY status;
RESET ROLE;
INSERT INTO sp_shop.interactions VALUES (2, 2, 'web', '2026-01-07', 'service', 1, 2, 10, false, NULL, false);
SET ROLE omnikpi_sp_analyst;
CALL omnikpi.refresh_kpi_views('sp_mat');
-- web (5 + 1) / 2 = 3 -> 50, store 50 -> 50.
SELECT month, rating_pct FROM sp_mat.experience_rating_monthly;
-- Both touches of the converting journey are needed: removal effects 1 each.
SELECT channel, removal_effect, attributed_conversions FROM sp_mat.attribution_markov_monthly ORDER BY channel;
SELECT count(*) > 0 AS dropped FROM omnikpi.drop_kpi_views('sp_mat');
RESET client_min_messages;
RESET search_path;
RESET ROLE;
DROP SCHEMA sp_mat;

-- Only the demonstration call above was caught.
SELECT what, count(*) AS trap_calls FROM public.trap_calls GROUP BY what;

DROP OWNED BY omnikpi_attacker;
DROP ROLE omnikpi_attacker;
DROP OWNED BY omnikpi_sp_analyst;
DROP ROLE omnikpi_sp_analyst;
