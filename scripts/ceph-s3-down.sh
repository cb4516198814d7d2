#!/usr/bin/env bash
# Stops what ceph-s3-up.sh and ceph-s3-gateway.sh started under $D (by the pids in their pid
# files, gateways first; SIGKILL after 2 s: the memstore data is discarded anyway) and removes $D.
# Safe to run twice.
D=${D:-/tmp/ceph-s3}
[ -d "$D/run" ] || exit 0
stop() {
    local file="$1" pid
    [ -f "$file" ] || return 0
    pid=$(cat "$file")
    kill "$pid" 2>/dev/null || return 0
    for _ in $(seq 20); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
}
for f in "$D"/run/client.rgw.*.pid; do stop "$f"; done
stop "$D/run/osd.0.pid"
stop "$D/run/mon.a.pid"
rm -rf "$D"
