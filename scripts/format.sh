#!/usr/bin/env bash
# Rewrites the Swift sources in place in the style of .swift-format; scripts/lint.sh passes after it.
#
# swift-format 6.3.1 writes `} catch  where ...` (two spaces) for a catch clause with only a
# where clause, and its lint then expects exactly that (swiftlang/swift-format#1076, fixed by
# #1203 for a later release); leave it until the toolchain carries the fix.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -d /opt/swift/usr/bin ]; then export PATH="/opt/swift/usr/bin:$PATH"; fi
swift-format format --in-place --recursive Sources Tests Benchmarks Package.swift
