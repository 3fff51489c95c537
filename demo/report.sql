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
\echo 'Target: 80%.  In the bar, each # is one point above 50% (a started point does'
\echo 'not count, so a bar reaches the | at 80% only when the month meets the target).'
\echo
-- The marker is a column of its own between the 30th and the 31st point, so
-- it never hides a point: 80.1 draws 30 marks, 81.8 draws 31.
SELECT to_char(month, 'YYYY-MM') AS month,
	round(rating_pct::numeric, 1) AS rating_pct,
	round((rating_pct - lag(rating_pct) OVER (ORDER BY month))::numeric, 1) AS change,
	CASE WHEN rating_pct >= 80 THEN 'yes' ELSE 'no' END AS meets_target,
	channels,
	interactions,
	left(bar, 30) || '|' || substr(bar, 31) AS "50%                           80%              100%"
FROM (
	SELECT *, rpad(repeat('#', greatest(0, least(50, floor(rating_pct - 50)::integer))), 50) AS bar
	FROM :"kpi_schema".experience_rating_monthly
) m
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

-- Every attribution model, one row per channel and model, over the report's
-- last three months: the rule-based ones from attribution_by_channel_monthly,
-- the data-driven ones from their own views.  Read once, used three times.
CREATE TEMP TABLE report_attribution AS
SELECT channel, model, sum(attributed_conversions) AS conversions, sum(attributed_value) AS value,
	sum(touch_cost) AS touch_cost
FROM :"kpi_schema".attribution_by_channel_monthly
WHERE month BETWEEN :'window_start'::date AND :'window_end'::date
GROUP BY channel, model
UNION ALL
SELECT channel, 'markov', sum(attributed_conversions), sum(attributed_value), NULL
FROM :"kpi_schema".attribution_markov_monthly
WHERE month BETWEEN :'window_start'::date AND :'window_end'::date
GROUP BY channel
UNION ALL
SELECT channel, 'shapley_' || characteristic, sum(attributed_conversions), sum(attributed_value), NULL
FROM :"kpi_schema".attribution_shapley_monthly
WHERE month BETWEEN :'window_start'::date AND :'window_end'::date
GROUP BY channel, characteristic
UNION ALL
SELECT channel, 'fractribution', sum(attributed_conversions), sum(attributed_value), NULL
FROM :"kpi_schema".attribution_fractribution_monthly
WHERE month BETWEEN :'window_start'::date AND :'window_end'::date
GROUP BY channel;

-- The models in the report's order, with the short names of its columns.
CREATE TEMP TABLE report_models (model text, label text, position int);
INSERT INTO report_models VALUES
	('last_touch', 'last', 1), ('first_touch', 'first', 2), ('linear', 'linear', 3),
	('position_based', 'u_shape', 4), ('j_curve', 'j_curve', 5), ('inverse_j', 'inv_j', 6),
	('time_decay', 'decay', 7), ('markov', 'markov', 8), ('shapley_conversions', 'shapley', 9),
	('shapley_conversion_rate', 'shap_cr', 10), ('fractribution', 'fract', 11);

\echo
\echo 'Attribution: conversions credited to each channel from' :window_start_label 'to' :last_month
\echo 'under every model.  Rule-based: last, first, linear, u_shape (position-based),'
\echo 'j_curve, inv_j (inverse J) and decay (time decay, 7-day half-life) credit touches'
\echo 'by position.  Data-driven, learning from the journeys that did not convert too:'
\echo 'markov (removal effects), shapley (Shapley values of the conversions), shap_cr'
\echo '(Shapley values of the conversion rate; negative for a channel whose journeys'
\echo 'convert less) and fract (fractribution).  Every column adds up to the same'
\echo 'conversions; channels by their credit under markov.'
\echo
SELECT a.channel, m.label, round(a.conversions::numeric) AS conversions, m.position
FROM report_attribution a
JOIN report_models m USING (model)
ORDER BY max(a.conversions) FILTER (WHERE a.model = 'markov') OVER (PARTITION BY a.channel) DESC NULLS LAST,
	a.channel, m.position
\crosstabview channel label conversions position

\echo
\echo 'What to notice (channels whose credit moves by 15% or more between models):'
\echo
-- Last touch is what ad platforms and most reports show; markov says what a
-- channel adds to the journeys through it, and shap_cr against shapley whether
-- those journeys convert better or worse than the others.
WITH credit AS (
	SELECT channel,
		max(conversions) FILTER (WHERE model = 'last_touch') AS last_touch,
		max(conversions) FILTER (WHERE model = 'first_touch') AS first_touch,
		max(conversions) FILTER (WHERE model = 'markov') AS markov,
		max(conversions) FILTER (WHERE model = 'shapley_conversions') AS shapley,
		max(conversions) FILTER (WHERE model = 'shapley_conversion_rate') AS shapley_rate
	FROM report_attribution
	GROUP BY channel
), notes AS (
	SELECT 1 AS kind, markov / last_touch AS weight,
		format('%s: markov %s, last touch %s (+%s%%): it opens or assists journeys that end elsewhere; last-touch reports undervalue it.',
			channel, round(markov), round(last_touch), round(100 * (markov / last_touch - 1))) AS note
	FROM credit WHERE last_touch > 0 AND markov >= 1.15 * last_touch
	UNION ALL
	SELECT 2, last_touch / markov,
		format('%s: last touch %s, markov %s (+%s%%): journeys end here after other channels did the work.',
			channel, round(last_touch), round(markov), round(100 * (last_touch / markov - 1)))
	FROM credit WHERE markov > 0 AND last_touch >= 1.15 * markov
	UNION ALL
	SELECT 3, first_touch / last_touch,
		format('%s opens journeys: first touch %s, last touch %s.', channel, round(first_touch), round(last_touch))
	FROM credit WHERE last_touch > 0 AND first_touch >= 1.15 * last_touch
	UNION ALL
	SELECT 4, shapley_rate / shapley,
		format('%s: shap_cr %s, shapley %s: journeys through it convert at a higher rate than its share of conversions suggests.',
			channel, round(shapley_rate), round(shapley))
	FROM credit WHERE shapley > 0 AND shapley_rate >= 1.15 * shapley
	UNION ALL
	SELECT 5, shapley / nullif(shapley_rate, 0),
		format('%s: shap_cr %s, shapley %s: journeys through it convert at a lower rate than its share of conversions suggests%s.',
			channel, round(shapley_rate), round(shapley),
			CASE WHEN shapley_rate < 0 THEN ', so it gets negative credit' ELSE '' END)
	FROM credit WHERE shapley > 0 AND shapley_rate * 1.15 <= shapley
)
SELECT '- ' || note
FROM notes
ORDER BY kind, weight DESC NULLS FIRST
\g (tuples_only=on)

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
	round((max(touch_cost) / nullif(max(conversions) FILTER (WHERE model = 'markov'), 0))::numeric, 2) AS cpa_markov
FROM report_attribution
GROUP BY channel
ORDER BY max(conversions) FILTER (WHERE model = 'linear') DESC NULLS LAST, channel;
