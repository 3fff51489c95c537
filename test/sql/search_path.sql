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

-- Only the demonstration call above was caught.
SELECT what, count(*) AS trap_calls FROM public.trap_calls GROUP BY what;

DROP OWNED BY omnikpi_attacker;
DROP ROLE omnikpi_attacker;
