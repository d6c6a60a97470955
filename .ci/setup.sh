#!/usr/bin/env bash
# Installs everything ParallelNet's tests and benchmarks need on a fresh Debian machine.
# Idempotent: safe to run again. Needs root (or sudo) for apt-get.
set -euo pipefail
packages=(python3-torch python3-grpcio protobuf-compiler libopenblas0-pthread pocl-opencl-icd libclblast-dev docker-compose)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  sudo=""; [ "$(id -u)" -ne 0 ] && sudo="sudo"
  echo "setup: installing ${missing[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
fi
command -v dotnet >/dev/null || { echo "setup: the .NET 10 SDK is required (https://dot.net); install it and run again" >&2; exit 1; }
