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

for tool in moto_server python3 aws; do
  command -v "$tool" >/dev/null || { echo "deps: $tool is missing: it comes with the machine image (pip install 'moto[server]' boto3 awscli)" >&2; exit 1; }
done
python3 -c 'import boto3' 2>/dev/null || { echo "deps: boto3 is missing (pip install boto3)" >&2; exit 1; }
