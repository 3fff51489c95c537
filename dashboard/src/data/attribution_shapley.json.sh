#!/bin/sh
# Conversions credited by Shapley values, per characteristic (attribution_shapley_monthly).
exec sh query.sh "SELECT month, channel, characteristic, attributed_conversions FROM attribution_shapley_monthly ORDER BY month, channel, characteristic"
