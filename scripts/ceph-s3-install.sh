#!/usr/bin/env bash
# Installs what ceph-s3-up.sh needs from Debian's packages (Ceph 16.2 on Debian 12; about a minute).
set -euo pipefail
if command -v radosgw >/dev/null && command -v ceph-mon >/dev/null && command -v ceph-osd >/dev/null && command -v curl >/dev/null; then
    exit 0
fi
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends ceph-mon ceph-osd radosgw curl >/dev/null
