"""boto3 against credbroker's sandbox: every STS and IAM operation the
sandbox answers, as sandbox/clients_test.go runs it.

The endpoints come from AWS_ENDPOINT_URL_STS and AWS_ENDPOINT_URL_IAM and
the long-lived key from AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY, as any
program gets them; the rest from SANDBOX_* variables. It prints one JSON
object of what it got.
"""

import base64
import hashlib
import hmac
import json
import os
import struct
import time

import boto3
import botocore.config
import botocore.exceptions

env = os.environ
name = env["SANDBOX_CLIENT"]
config = botocore.config.Config(retries={"max_attempts": 1, "mode": "standard"})


def client(service, c=None):
    keys = {}
    if c:
        keys = dict(aws_access_key_id=c["AccessKeyId"], aws_secret_access_key=c["SecretAccessKey"], aws_session_token=c["SessionToken"])
    return boto3.client(service, region_name=env["AWS_REGION"], config=config, **keys)


def failure(call, **kwargs):
    try:
        call(**kwargs)
    except botocore.exceptions.ClientError as e:
        return {"code": e.response["Error"]["Code"], "message": e.response["Error"]["Message"],
                "status": e.response["ResponseMetadata"]["HTTPStatusCode"]}
    return {"code": "", "message": "succeeded", "status": 200}


out = {}
base = client("sts")
ident = base.get_caller_identity()
out["identity"] = {k: ident[k] for k in ("Arn", "UserId", "Account")}
out["keyAccount"] = base.get_access_key_info(AccessKeyId=env["AWS_ACCESS_KEY_ID"])["Account"]
out["denied"] = failure(base.assume_role, RoleArn=env["SANDBOX_ADMIN_ROLE"], RoleSessionName=name)
encoded = out["denied"]["message"].partition("Encoded authorization failure message: ")[2]
out["decoded"] = base.decode_authorization_message(EncodedMessage=encoded)["DecodedMessage"]

session = base.get_session_token(DurationSeconds=900, SerialNumber=env["SANDBOX_MFA_SERIAL"], TokenCode=env["SANDBOX_MFA_CODE"])["Credentials"]
out["sessionAccessKeyId"] = session["AccessKeyId"]
out["sessionExpiration"] = session["Expiration"].isoformat()
out["refusals"] = {
    "wrongCode": failure(base.get_session_token, DurationSeconds=900, SerialNumber=env["SANDBOX_MFA_SERIAL"], TokenCode=env["SANDBOX_WRONG_CODE"]),
    "reusedCode": failure(base.get_session_token, DurationSeconds=900, SerialNumber=env["SANDBOX_MFA_SERIAL"], TokenCode=env["SANDBOX_MFA_CODE"]),
    "untrusted": failure(base.assume_role, RoleArn=env["SANDBOX_ELSEWHERE_ROLE"], RoleSessionName=name),
    "noExternalId": failure(base.assume_role, RoleArn=env["SANDBOX_PARTNER_ROLE"], RoleSessionName=name),
}
mfa = client("sts", session)
out["sessionIdentity"] = mfa.get_caller_identity()["Arn"]
role = mfa.assume_role(RoleArn=env["SANDBOX_ADMIN_ROLE"], RoleSessionName=name)
out["roleArn"] = role["AssumedRoleUser"]["Arn"]
out["roleIdentity"] = client("sts", role["Credentials"]).get_caller_identity()["Arn"]
out["tooLong"] = failure(mfa.assume_role, RoleArn=env["SANDBOX_ADMIN_ROLE"], RoleSessionName=name, DurationSeconds=7200)

fed = base.get_federation_token(Name=name, Policy=env["SANDBOX_FEDERATION_POLICY"])
out["federatedArn"] = fed["FederatedUser"]["Arn"]
out["federatedIdentity"] = client("sts", fed["Credentials"]).get_caller_identity()["Arn"]

web = base.assume_role_with_web_identity(RoleArn=env["SANDBOX_CI_ROLE"], RoleSessionName=name, WebIdentityToken=env["SANDBOX_WEB_IDENTITY_TOKEN"])
out["webIdentityArn"] = web["AssumedRoleUser"]["Arn"]
out["webIdentitySubject"] = web["SubjectFromWebIdentityToken"]

# IAM, with the MFA session (GetSessionToken credentials reach IAM only
# with MFA): every action the sandbox answers, each answer parsed.
iam = client("iam", session)
user = iam.get_user()["User"]


def keys():
    return ["%s:%s" % (k["AccessKeyId"], k["Status"]) for k in iam.list_access_keys()["AccessKeyMetadata"]]


def devices():
    return [d["SerialNumber"] for d in iam.list_mfa_devices()["MFADevices"]]


out["iam"] = {
    "user": user["Arn"],
    "keys": [k["AccessKeyId"] for k in iam.list_access_keys()["AccessKeyMetadata"]],
    "mfaDevices": devices(),
}
r = {}
created = iam.create_access_key()["AccessKey"]
r["createdKey"], r["createdSecretLength"] = created["AccessKeyId"], len(created["SecretAccessKey"])
r["keysAfterCreate"] = keys()
iam.update_access_key(AccessKeyId=created["AccessKeyId"], Status="Inactive")
r["keysAfterUpdate"] = keys()
last = iam.get_access_key_last_used(AccessKeyId=env["AWS_ACCESS_KEY_ID"])
used = last["AccessKeyLastUsed"]
r["lastUsed"] = {"user": last["UserName"], "service": used["ServiceName"], "region": used["Region"],
                 "date": used["LastUsedDate"].strftime("%Y-%m-%dT%H:%M:%SZ")}
iam.delete_access_key(AccessKeyId=created["AccessKeyId"])
r["keysAfterDelete"] = keys()

# A second virtual MFA device, enabled with two consecutive codes of its
# seed (RFC 6238: HMAC-SHA1, 6 digits, 30 s steps), then deactivated.
device = iam.create_virtual_mfa_device(VirtualMFADeviceName=name + "-2")["VirtualMFADevice"]
seed = device["Base32StringSeed"].decode("ascii")
r["virtualSerial"], r["virtualSeedLength"] = device["SerialNumber"], len(seed)


def totp(seed, step):
    mac = hmac.new(base64.b32decode(seed + "=" * (-len(seed) % 8)), struct.pack(">Q", step), hashlib.sha1).digest()
    offset = mac[-1] & 15
    return "%06d" % ((struct.unpack(">I", mac[offset:offset + 4])[0] & 0x7FFFFFFF) % 1000000)


step = int(time.time()) // 30
iam.enable_mfa_device(UserName=user["UserName"], SerialNumber=device["SerialNumber"],
                      AuthenticationCode1=totp(seed, step - 1), AuthenticationCode2=totp(seed, step))
r["devicesAfterEnable"] = devices()
iam.deactivate_mfa_device(UserName=user["UserName"], SerialNumber=device["SerialNumber"])
r["devicesAfterDeactivate"] = devices()


def decisions(answer):
    return ["%s:%s" % (e["EvalActionName"], e["EvalDecision"]) for e in answer["EvaluationResults"]]


r["customDecisions"] = decisions(iam.simulate_custom_policy(
    PolicyInputList=[env["SANDBOX_FEDERATION_POLICY"]], ActionNames=["s3:GetObject", "s3:PutObject"]))
r["principalDecisions"] = decisions(iam.simulate_principal_policy(
    PolicySourceArn=user["Arn"], ActionNames=["iam:ListAccessKeys", "iam:CreateUser"], ResourceArns=[user["Arn"]]))
out["iam"]["round"] = r
print(json.dumps(out))
