#!/bin/sh
# BOPIS and click-to-collect by channel and month (fulfillment_by_channel_monthly).
exec sh query.sh "SELECT month, channel, orders, bopis_orders, bopis_share_pct, click_to_collect_median_hours, click_to_collect_p90_hours, pickup_wait_median_hours FROM fulfillment_by_channel_monthly ORDER BY month, channel"
