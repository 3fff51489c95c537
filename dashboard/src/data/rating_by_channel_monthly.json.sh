#!/bin/sh
# Each channel's experience rating by month (experience_rating_by_channel_monthly).
exec sh query.sh "SELECT month, channel, rating_pct, interactions FROM experience_rating_by_channel_monthly ORDER BY month, channel"
