"""botocore's signatures for sandbox/sigflip_test.go: through the capture
listener at SANDBOX_SIGNED_URL (its path is part of what is signed),
GetSessionToken signed with the long-lived key of AWS_ACCESS_KEY_ID, then
GetCallerIdentity signed with that session (its token a signed header);
and it prints a presigned GetCallerIdentity URL for GET (signed in the
query), which the test sends itself. Sandbox keys are made up: no secrets.
"""

import os

import boto3
import botocore.config

env = os.environ
config = botocore.config.Config(retries={"max_attempts": 1, "mode": "standard"})


def sts(**keys):
    return boto3.client("sts", region_name=env["AWS_REGION"], endpoint_url=env["SANDBOX_SIGNED_URL"], config=config, **keys)


base = sts()
c = base.get_session_token(DurationSeconds=900)["Credentials"]
sts(aws_access_key_id=c["AccessKeyId"], aws_secret_access_key=c["SecretAccessKey"], aws_session_token=c["SessionToken"]).get_caller_identity()
# GET, as `aws eks get-token` presigns it (by default botocore presigns the
# operation's own method, POST).
print(base.generate_presigned_url("get_caller_identity", ExpiresIn=900, HttpMethod="GET"))
