#!/bin/sh
# Journeys reaching each phase (journey_funnel_monthly).
exec sh query.sh "SELECT month, phase, phase_order, journeys, reached_pct, dropoff_pct FROM journey_funnel_monthly ORDER BY month, phase_order"
