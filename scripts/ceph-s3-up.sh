#!/usr/bin/env bash
# Starts a one-node Ceph cluster (1 monitor, 1 OSD on memstore, no manager) and a RADOS Gateway
# on 127.0.0.1, everything under $D, and creates the S3 user the tests use. About 2 seconds.
#
#   D=/tmp/ceph-s3 RGW_PORT=7480 MON_PORT=13300 scripts/ceph-s3-up.sh
#   scripts/ceph-s3-down.sh            (same D) stops it by pid and removes $D
#
# Needs Debian's ceph-mon, ceph-osd, radosgw and curl (scripts/ceph-s3-install.sh).
# OWNER_PID=<pid>: also stop the cluster when that process exits (the tests' own setup uses it,
# so a crashed or killed test run leaves no daemons behind).
# Prints, on its last line, the endpoint and keys as shell assignments.
set -euo pipefail
# Close the descriptors the caller left open (see the sourced file).
source "$(dirname "${BASH_SOURCE[0]}")/close-inherited-fds.sh"
D=${D:-/tmp/ceph-s3}
RGW_PORT=${RGW_PORT:-7480}
MON_PORT=${MON_PORT:-13300}
here="$(cd "$(dirname "$0")" && pwd)"
ACCESS_KEY=TESTACCESSKEY
SECRET_KEY=TESTSECRETKEY123

rm -rf "$D"; mkdir -p "$D"/{mon,osd,log,run,rgw}
# /proc's uuid instead of uuidgen: Debian 12 ships uuidgen in uuid-runtime, not in its own package.
FSID=$(cat /proc/sys/kernel/random/uuid); OSD_UUID=$(cat /proc/sys/kernel/random/uuid)
cat > "$D/ceph.conf" <<CONF
[global]
fsid = $FSID
mon host = v2:127.0.0.1:$MON_PORT
public addr = 127.0.0.1
cluster addr = 127.0.0.1
ms bind ipv6 = false
# No cephx: nothing but this machine's loopback reaches the cluster, and no keys to manage.
auth cluster required = none
auth service required = none
auth client required = none
run dir = $D/run
admin socket = $D/run/\$name.asok
log file = $D/log/\$name.log
pid file = $D/run/\$name.pid
keyring = $D/keyring
osd pool default size = 1
osd pool default min size = 1
osd pool default pg num = 8
osd pool default pgp num = 8
osd pool default pg autoscale mode = off
osd crush chooseleaf type = 0
mon allow pool size one = true
mon warn on pool no redundancy = false
mon max pg per osd = 1000
# Default 1 s: the gateway creates its pools at first start about ten times faster.
paxos propose interval = 0.05
paxos min wait = 0.01
mon data avail warn = 2
mon data avail crit = 1
[mon]
mon data = $D/mon/\$id
[osd]
osd data = $D/osd/\$id
# Data lives in the OSD's memory: no block device. A full OSD makes writes hang, not fail, so a
# test run keeps what it writes well under 1 GiB.
osd objectstore = memstore
memstore device bytes = 4294967296
osd memory target = 1073741824
[client]
rgw data = $D/rgw
# radosgw defaults to 'secure', which cannot work without cephx.
ms mon client mode = crc
# Deleted objects give their space back within seconds instead of two hours.
rgw gc obj min wait = 0
rgw gc processor period = 2
rgw gc processor max time = 2
[client.rgw.a]
rgw frontends = beast endpoint=127.0.0.1:$RGW_PORT tcp_nodelay=1
CONF
C=(-c "$D/ceph.conf"); CT=(--connect-timeout 30)
wait_for() {
    for _ in $(seq 300); do "$@" >/dev/null 2>&1 && return 0; sleep 0.2; done
    echo "ceph-s3-up: timed out waiting for: $*" >&2
    "$here/ceph-s3-down.sh" >/dev/null 2>&1 || true
    exit 1
}
ceph-authtool --create-keyring "$D/keyring" --gen-key -n mon. --cap mon 'allow *' >/dev/null
monmaptool --create --fsid "$FSID" --addv a "[v2:127.0.0.1:$MON_PORT]" "$D/monmap" >/dev/null
ceph-mon "${C[@]}" -i a --mkfs --monmap "$D/monmap"
# The daemons get no stdout of the caller's: a caller reading this script's output to its end
# would otherwise wait for them to exit.
ceph-mon "${C[@]}" -i a >>"$D/log/daemons.log" 2>&1       # daemonizes; pid in $D/run/mon.a.pid
ceph "${C[@]}" "${CT[@]}" osd new "$OSD_UUID" 0 >/dev/null
mkdir -p "$D/osd/0"
ceph-osd "${C[@]}" -i 0 --mkfs --osd-uuid "$OSD_UUID" 2>>"$D/log/mkfs.log"
ceph-osd "${C[@]}" -i 0 >>"$D/log/daemons.log" 2>&1       # pid in $D/run/osd.0.pid
wait_for sh -c "ceph -c '$D/ceph.conf' --connect-timeout 30 osd stat | grep -q ' 1 up'"
radosgw "${C[@]}" -n client.rgw.a >>"$D/log/daemons.log" 2>&1   # pid in $D/run/client.rgw.a.pid
wait_for curl -sf "http://127.0.0.1:$RGW_PORT/"
radosgw-admin "${C[@]}" user create --uid=test --display-name=test \
    --access-key="$ACCESS_KEY" --secret-key="$SECRET_KEY" >/dev/null

if [ -n "${OWNER_PID:-}" ]; then
    # A watchdog outside the caller's process group: stops the cluster once the owner is gone.
    setsid bash -c 'while kill -0 "$0" 2>/dev/null; do sleep 1; done; D="$1" "$2"' \
        "$OWNER_PID" "$D" "$here/ceph-s3-down.sh" </dev/null >/dev/null 2>&1 &
fi
echo "S3_TEST_ENDPOINT=http://127.0.0.1:$RGW_PORT S3_TEST_ACCESS_KEY_ID=$ACCESS_KEY S3_TEST_SECRET_ACCESS_KEY=$SECRET_KEY S3_TEST_CEPH_DIR=$D"
