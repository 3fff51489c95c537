#!/bin/sh
# Conversions credited by fractribution (attribution_fractribution_monthly).
exec sh query.sh "SELECT month, channel, attributed_conversions FROM attribution_fractribution_monthly ORDER BY month, channel"
