#!/usr/bin/env bash
# Checks that the Swift sources keep the one style of .swift-format; any finding fails (--strict).
# scripts/format.sh fixes the layout findings; the few lint-only rules (`try!`, implicitly
# unwrapped optionals) need a person.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -d /opt/swift/usr/bin ]; then export PATH="/opt/swift/usr/bin:$PATH"; fi
swift-format lint --strict --recursive Sources Tests Benchmarks Package.swift
