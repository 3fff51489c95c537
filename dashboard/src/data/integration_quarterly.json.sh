#!/bin/sh
# Omnichannel Integration Index by quarter (integration_index_quarterly).
exec sh query.sh "SELECT quarter, integration_index, target, channels FROM integration_index_quarterly ORDER BY quarter"
