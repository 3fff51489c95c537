#!/bin/sh
# CSAT, CES and NPS by channel and month (satisfaction_by_channel_monthly).
exec sh query.sh "SELECT month, channel, csat_responses, csat_mean, csat_top2_pct, ces_mean, nps_responses, nps, promoters_pct, detractors_pct FROM satisfaction_by_channel_monthly ORDER BY month, channel"
