#!/bin/sh
# Channel-to-channel moves within journeys (channel_transitions_monthly).
exec sh query.sh "SELECT month, from_channel, to_channel, transitions FROM channel_transitions_monthly ORDER BY month, from_channel, to_channel"
