#!/bin/sh
# Conversions credited by the rule-based models (attribution_by_channel_monthly).
exec sh query.sh "SELECT month, channel, model, attributed_conversions FROM attribution_by_channel_monthly ORDER BY month, channel, model"
