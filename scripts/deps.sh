#!/usr/bin/env bash
# Installs the Debian packages named on the command line when one of them is
# missing, then checks the Python tools the tests drive (moto_server, boto3,
# the AWS CLI v1). Quiet when everything is present.
set -euo pipefail

missing=()
for pkg in "$@"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "deps: installing Debian packages: ${missing[*]}"
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
fi

# moto_server, boto3 and the AWS CLI v1 come only with the machine image (no
# Python package registry is reachable): without them, make test runs every
# hermetic suite and says which interop suites it could not run; on CI
# (CI=true) a missing one is a failure.
missing_tools=()
for tool in moto_server python3 aws; do
  command -v "$tool" >/dev/null || missing_tools+=("$tool")
done
python3 -c 'import boto3' 2>/dev/null || missing_tools+=("boto3")
if [ ${#missing_tools[@]} -gt 0 ]; then
  if [ "${CI:-}" = "true" ]; then
    echo "deps: missing on CI: ${missing_tools[*]} (they come with the machine image)" >&2
    exit 1
  fi
  echo "deps: missing: ${missing_tools[*]}: the moto and AWS CLI v1 interop suites will not run (CI runs them all)" >&2
fi
