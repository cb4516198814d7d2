#!/usr/bin/env bash
# Runs the streaming and large-file suites with their scratch directories (and so the storage
# roots) on a loop-mounted XFS with reflink=1, so that a direct ingest of a regular file takes
# the reflink path (FICLONE) for real rather than only when the fault injector forces it.
# Needs root, mkfs.xfs (xfsprogs) and a built test bundle (`swift build --build-tests`).
# Everything it mounts and attaches is undone on exit, also on failure.
#
#   scripts/test-on-xfs.sh [extra swift test arguments]
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="/opt/swift/usr/bin:$PATH"

# The power-loss suite's prefix and this shell's pid: whoever finds it after this shell died
# (the suites at their start, .ci/run at its end) undoes what it holds.
scratch="$(mktemp -d "/tmp/localstorage-loop-$$-xfs-suites-XXXXXX")"
device=""
cleanup() {
    if mountpoint -q "$scratch/mnt"; then umount "$scratch/mnt" || umount -l "$scratch/mnt"; fi
    if [ -n "$device" ]; then losetup -d "$device" || true; fi
    rm -rf "$scratch"
}
trap cleanup EXIT

# Room for the 1 GiB files of LargeFileTests and their copies; sparse, so it costs what is written.
truncate -s 8G "$scratch/xfs.img"
device="$(losetup -f --show "$scratch/xfs.img")"
mkfs.xfs -q -f -m reflink=1 "$device"
mkdir "$scratch/mnt"
mount -t xfs "$device" "$scratch/mnt"
chmod 1777 "$scratch/mnt"
echo "== StreamingTests and LargeFileTests with scratch directories on XFS (reflink=1) at $scratch/mnt"
LOCALSTORAGE_TEST_DIR="$scratch/mnt" swift test --skip-build --filter 'StreamingTests|LargeFileTests' "$@"
