-- demo/report.sql: the KPI report that `make demo` prints.
--
--   psql -X -v ON_ERROR_STOP=1 -v kpi_schema=omnikpi_kpi -f demo/report.sql
--
-- Reads only the views of omnikpi.create_kpi_views in :kpi_schema (default
-- omnikpi_kpi), so it works on any data those views were created over.  Every
-- period is taken from the data itself (its last month and last quarter), not
-- from the calendar.  Targets are the field's usual ones: 80% for the
-- experience rating, 80 for the integration index (met at 80 or more).

\set ON_ERROR_STOP on
\if :{?kpi_schema}
\else
	\set kpi_schema omnikpi_kpi
\endif

\pset footer off
\pset null '-'
SET TimeZone = 'UTC';

-- The periods of the report: the first and last month with data, and the
-- last three months (the last quarter when the data ends with a quarter).
SELECT to_char(min(month), 'YYYY-MM') AS first_month,
	to_char(max(month), 'YYYY-MM') AS last_month,
	(max(month) - interval '2 months')::date AS window_start,
	to_char(max(month) - interval '2 months', 'YYYY-MM') AS window_start_label,
	max(month) AS window_end
FROM :"kpi_schema".experience_rating_monthly
WHERE interactions > 0 \gset

\echo
\echo '================================================================================'
\echo ' omnikpi demo report:' :first_month 'to' :last_month
\echo '================================================================================'

\echo
\echo 'Headline KPIs: first and latest period against the target'
\echo
SELECT kpi, period_first, value_first, period_latest, value_latest, target,
	coalesce(first_met, 'not yet') AS target_first_met
FROM (
	SELECT 1 AS position, 'Omnichannel Experience Rating (%)' AS kpi,
		to_char(min(month), 'YYYY-MM') AS period_first,
		round((array_agg(rating_pct ORDER BY month))[1]::numeric, 1) AS value_first,
		to_char(max(month), 'YYYY-MM') AS period_latest,
		round((array_agg(rating_pct ORDER BY month DESC))[1]::numeric, 1) AS value_latest,
		'80' AS target,
		to_char(min(month) FILTER (WHERE rating_pct >= 80), 'YYYY-MM') AS first_met
	FROM :"kpi_schema".experience_rating_monthly
	UNION ALL
	SELECT 2, 'Omnichannel Integration Index (0-100)',
		to_char(min(quarter), 'YYYY-"Q"Q'),
		round((array_agg(integration_index ORDER BY quarter))[1]::numeric, 1),
		to_char(max(quarter), 'YYYY-"Q"Q'),
		round((array_agg(integration_index ORDER BY quarter DESC))[1]::numeric, 1),
		'80',
		to_char(min(quarter) FILTER (WHERE integration_index >= 80), 'YYYY-"Q"Q')
	FROM :"kpi_schema".integration_index_quarterly
) s
ORDER BY position;

\echo
\echo 'Omnichannel Experience Rating by month: mean over channels of each channel''s'
\echo 'mean satisfaction, in % of the rating scale; every channel counts once.'
\echo 'Target: 80%.  In the bar, each # is 2 points above 50% and | marks 80%.'
\echo
SELECT to_char(month, 'YYYY-MM') AS month,
	round(rating_pct::numeric, 1) AS rating_pct,
	round((rating_pct - lag(rating_pct) OVER (ORDER BY month))::numeric, 1) AS change,
	CASE WHEN rating_pct >= 80 THEN 'yes' ELSE 'no' END AS meets_target,
	channels,
	interactions,
	overlay(rpad(repeat('#', greatest(0, least(25, round((rating_pct - 50) / 2)::integer))), 25)
			PLACING '|' FROM 16 FOR 1) AS "50%           80%    100%"
FROM :"kpi_schema".experience_rating_monthly
ORDER BY month;

\echo
\echo 'Omnichannel Integration Index by quarter: mean over channels of the share of'
\echo 'contacts where the channel had the customer''s context, 0-100.  Target: 80.'
\echo
SELECT to_char(quarter, 'YYYY-"Q"Q') AS quarter,
	round(integration_index::numeric, 1) AS integration_index,
	round((integration_index - lag(integration_index) OVER (ORDER BY quarter))::numeric, 1) AS change,
	CASE WHEN integration_index >= 80 THEN 'yes' ELSE 'no' END AS meets_target,
	channels
FROM :"kpi_schema".integration_index_quarterly
ORDER BY quarter;

\echo
\echo 'Experience rating by channel (% of the rating scale): the first month and the'
\echo 'last three; best channel first.  The last row is the omnichannel rating, the'
\echo 'plain mean of the rows above it.'
\echo
SELECT channel, month, rating
FROM (
	SELECT c.channel, to_char(c.month, 'YYYY-MM') AS month,
		round(c.rating_pct::numeric, 1) AS rating,
		max(c.rating_pct) FILTER (WHERE c.month = :'window_end'::date) OVER (PARTITION BY c.channel) AS row_order
	FROM :"kpi_schema".experience_rating_by_channel_monthly c
	WHERE c.month >= :'window_start'::date OR to_char(c.month, 'YYYY-MM') = :'first_month'
	UNION ALL
	SELECT 'omnichannel rating', to_char(month, 'YYYY-MM'), round(rating_pct::numeric, 1), -1
	FROM :"kpi_schema".experience_rating_monthly
	WHERE month >= :'window_start'::date OR to_char(month, 'YYYY-MM') = :'first_month'
) s
ORDER BY row_order DESC NULLS LAST, channel, month
\crosstabview channel month rating

-- CSAT, CES and NPS per channel are an optional view; shown when it exists.
SELECT to_regclass(format('%I.%I', :'kpi_schema', 'satisfaction_by_channel_monthly')) IS NOT NULL
	AS have_satisfaction \gset
\if :have_satisfaction
\echo
\echo 'Satisfaction, effort and NPS by channel in' :last_month
\echo '(CSAT 1-5 and its top-2-box share; CES 1-7, lower is easier; NPS -100 to 100)'
\echo
SELECT channel,
	round(csat_mean::numeric, 2) AS csat_mean,
	round(csat_top2_pct::numeric, 1) AS csat_top2_pct,
	round(ces_mean::numeric, 2) AS ces_mean,
	round(nps::numeric, 1) AS nps
FROM :"kpi_schema".satisfaction_by_channel_monthly
WHERE to_char(month, 'YYYY-MM') = :'last_month'
ORDER BY csat_mean DESC NULLS LAST, channel;
\endif

-- Both attribution tables read the same months of one view: compute it once.
CREATE TEMP TABLE report_attribution AS
SELECT channel, model, attributed_conversions, attributed_value, touch_cost
FROM :"kpi_schema".attribution_by_channel_monthly
WHERE month BETWEEN :'window_start'::date AND :'window_end'::date;

\echo
\echo 'Multi-touch attribution by channel from' :window_start_label 'to' :last_month
\echo '(conversions credited to each channel under each model).  Channels that open'
\echo 'journeys (in the demo: email, social) gain under first-touch and position-based'
\echo 'credit; the channels where customers buy (store, app) gain under last-touch.'
\echo
SELECT channel, model, round(conversions::numeric) AS conversions, model_order
FROM (
	SELECT channel, model, model_order, sum(attributed_conversions) AS conversions,
		-- rows ordered by the channel's credit under the linear model
		sum(sum(attributed_conversions) FILTER (WHERE model = 'linear')) OVER (PARTITION BY channel) AS row_order
	FROM (
		SELECT channel, model, attributed_conversions,
			array_position(ARRAY['first_touch', 'last_touch', 'linear', 'position_based', 'time_decay'], model) AS model_order
		FROM report_attribution
	) a
	WHERE model_order IS NOT NULL
	GROUP BY channel, model, model_order
) a
ORDER BY row_order DESC NULLS LAST, channel, model_order
\crosstabview channel model conversions model_order

\echo
\echo 'Pathway cost per acquisition by channel, same months: the channel''s touch cost'
\echo 'divided by the conversions credited to it (currency units per conversion), and'
\echo 'the value credited under the linear model.'
\echo
SELECT channel,
	round(max(touch_cost), 2) AS touch_cost,
	round(max(value) FILTER (WHERE model = 'linear')::numeric, 2) AS linear_value,
	round((max(touch_cost) / nullif(max(conversions) FILTER (WHERE model = 'last_touch'), 0))::numeric, 2) AS cpa_last_touch,
	round((max(touch_cost) / nullif(max(conversions) FILTER (WHERE model = 'linear'), 0))::numeric, 2) AS cpa_linear,
	round((max(touch_cost) / nullif(max(conversions) FILTER (WHERE model = 'position_based'), 0))::numeric, 2) AS cpa_position_based,
	round((max(touch_cost) / nullif(max(conversions) FILTER (WHERE model = 'time_decay'), 0))::numeric, 2) AS cpa_time_decay
FROM (
	-- per channel and model over the months: touch_cost repeats on every model's row
	SELECT channel, model, sum(touch_cost) AS touch_cost, sum(attributed_conversions) AS conversions,
		sum(attributed_value) AS value
	FROM report_attribution
	GROUP BY channel, model
) a
GROUP BY channel
ORDER BY max(conversions) FILTER (WHERE model = 'linear') DESC NULLS LAST, channel;
