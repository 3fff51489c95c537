#!/bin/sh
# Each channel's integration score by quarter (integration_index_by_channel_quarterly).
exec sh query.sh "SELECT quarter, channel, integration_score, interactions FROM integration_index_by_channel_quarterly ORDER BY quarter, channel"
