"""boto3 against credbroker's sandbox: every STS operation the sandbox
answers, and some IAM ones, as sandbox/clients_test.go runs it.

The endpoints come from AWS_ENDPOINT_URL_STS and AWS_ENDPOINT_URL_IAM and
the long-lived key from AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY, as any
program gets them; the rest from SANDBOX_* variables. It prints one JSON
object of what it got.
"""

import json
import os

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

# IAM, with the MFA session (GetSessionToken credentials reach IAM only with MFA).
iam = client("iam", session)
out["iam"] = {
    "user": iam.get_user()["User"]["Arn"],
    "keys": [k["AccessKeyId"] for k in iam.list_access_keys()["AccessKeyMetadata"]],
    "mfaDevices": [d["SerialNumber"] for d in iam.list_mfa_devices()["MFADevices"]],
}
print(json.dumps(out))
