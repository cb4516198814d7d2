#!/usr/bin/env bash
# Starts one more RADOS Gateway, named NAME, on PORT, against the cluster under $D, so a test can
# kill a gateway mid-request without disturbing the others.
#   D=/tmp/ceph-s3 scripts/ceph-s3-gateway.sh NAME PORT     (its pid: $D/run/client.rgw.NAME.pid)
set -euo pipefail
# Close the descriptors the caller left open (see the sourced file).
source "$(dirname "${BASH_SOURCE[0]}")/close-inherited-fds.sh"
D=${D:-/tmp/ceph-s3}
name="$1"; port="$2"
grep -q "^\[client.rgw.$name\]" "$D/ceph.conf" || printf '[client.rgw.%s]\nrgw frontends = beast endpoint=127.0.0.1:%s tcp_nodelay=1\n' "$name" "$port" >> "$D/ceph.conf"
radosgw -c "$D/ceph.conf" -n "client.rgw.$name" >>"$D/log/daemons.log" 2>&1
for _ in $(seq 300); do curl -sf "http://127.0.0.1:$port/" >/dev/null 2>&1 && exit 0; sleep 0.2; done
echo "ceph-s3-gateway: $name did not answer on $port" >&2; exit 1
