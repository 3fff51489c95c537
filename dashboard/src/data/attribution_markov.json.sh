#!/bin/sh
# Conversions credited by removal effects (attribution_markov_monthly).
exec sh query.sh "SELECT month, channel, attributed_conversions FROM attribution_markov_monthly ORDER BY month, channel"
