#!/bin/sh
# IP-KVM lab by hand: boot Debian's kernel under QEMU with USB gadgets on
# dummy_hcd (PiKVM + PiKVM EDID, TinyPilot, JetKVM with the Logitech preset,
# a gadget keyboard, a plain keyboard) and print the agent's findings for each.
# Needs qemu-system-x86 and linux-image-amd64 (.ci/debian-packages.txt).
#   lab/kvm-gadget/run.sh [-scenarios pikvm,tinypilot] [-v] [-workdir DIR] [-accel kvm]
set -e
cd "$(dirname "$0")/../.."
exec go run ./lab/kvm-gadget/cmd/kvmlab "$@"
