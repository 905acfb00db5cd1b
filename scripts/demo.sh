#!/usr/bin/env bash
# The whole credbroker flow on this machine, against moto_server on a
# loopback port (until the embedded STS arrives): store an IAM user's key and
# its virtual MFA seed, describe an MFA + role profile, and let the AWS CLI
# get credentials through credential_process. Everything lives in a
# temporary folder that is removed at the end; nothing leaves loopback.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

work=$(mktemp -d)
moto_pid=""
cleanup() {
  # The daemon the first credential_process started, then moto.
  pid=$(credbroker status 2>/dev/null | sed -n 's/^daemon pid \([0-9]*\) .*/\1/p')
  [ -n "$pid" ] && kill "$pid" 2>/dev/null || true
  [ -n "$moto_pid" ] && kill "$moto_pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
moto_server -H 127.0.0.1 -p "$port" >"$work/moto.log" 2>&1 &
moto_pid=$!
for _ in $(seq 100); do curl -fs "http://127.0.0.1:$port/moto-api/data.json" >/dev/null 2>&1 && break; sleep 0.1; done

export HOME="$work/home" PATH="$root/bin:$PATH"
export AWS_ENDPOINT_URL_STS="http://127.0.0.1:$port" AWS_REGION=us-east-1 AWS_DEFAULT_REGION=us-east-1 AWS_EC2_METADATA_DISABLED=true
export AWS_CONFIG_FILE="$HOME/.aws/config" AWS_SHARED_CREDENTIALS_FILE="$HOME/.aws/credentials"
export CREDBROKER_CONFIG="$HOME/.config/credbroker/config"
export CREDBROKER_KEYRING=file CREDBROKER_FILE_DIR="$HOME/.local/share/credbroker/keyring"
export CREDBROKER_FILE_PASSPHRASE="demo passphrase"
export CREDBROKER_SOCKET="$work/broker.sock"
mkdir -p "$HOME/.aws" "$(dirname "$CREDBROKER_CONFIG")"

step() { printf '\n\033[1m$ %s\033[0m\n' "$*"; }
iam() {
  curl -fs -X POST "$AWS_ENDPOINT_URL_STS/" \
    -H 'Authorization: AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20260101/us-east-1/iam/aws4_request, SignedHeaders=host, Signature=0' \
    --data "$1&Version=2010-05-08"
}
iam 'Action=CreateUser&UserName=alice' >/dev/null
key_xml=$(iam 'Action=CreateAccessKey&UserName=alice')
key_id=$(sed -n 's:.*<AccessKeyId>\(.*\)</AccessKeyId>.*:\1:p' <<<"$key_xml")
secret=$(sed -n 's:.*<SecretAccessKey>\(.*\)</SecretAccessKey>.*:\1:p' <<<"$key_xml")
seed=$(python3 -c 'import base64, os; print(base64.b32encode(os.urandom(20)).decode())')

cat >"$CREDBROKER_CONFIG" <<CONF
[profile alice]
mfa_serial = arn:aws:iam::123456789012:mfa/alice

[profile admin]
role_arn = arn:aws:iam::210987654321:role/Admin
source_profile = alice
CONF
cat >"$AWS_CONFIG_FILE" <<CONF
[profile admin]
credential_process = credbroker credential-process --profile admin
CONF

step "credbroker add alice          # key read from stdin, checked with GetCallerIdentity"
printf '%s\n%s\n' "$key_id" "$secret" | credbroker add alice
step "credbroker totp add alice     # the virtual MFA seed, from stdin"
printf '%s\n' "$seed" | credbroker totp add alice
step "credbroker list"
credbroker list
step "cat \$CREDBROKER_CONFIG"
cat "$CREDBROKER_CONFIG"
step "cat ~/.aws/config"
cat "$AWS_CONFIG_FILE"
step "aws sts get-caller-identity --profile admin   # GetSessionToken with MFA, then AssumeRole"
aws sts get-caller-identity --profile admin
step "credbroker credential-process --profile admin   # again: from the daemon's memory, no STS call (secrets elided here)"
credbroker credential-process --profile admin | sed -E 's/"(SecretAccessKey|SessionToken)":"[^"]+"/"\1":"…"/g'
step "credbroker status   # the daemon the first call started"
credbroker status
step "grep -r \"\$secret\" \$HOME   # the secret key is in no file"
if grep -rqF "$secret" "$HOME"; then echo "found the secret in a file!"; exit 1; else echo "not found"; fi
