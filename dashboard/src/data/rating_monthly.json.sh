#!/bin/sh
# Omnichannel Experience Rating by month (experience_rating_monthly).
exec sh query.sh "SELECT month, rating_pct, target_pct, channels, interactions FROM experience_rating_monthly ORDER BY month"
