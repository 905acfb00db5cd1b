// The AWS SDK for JavaScript v3's signatures for sandbox/sigflip_test.go:
// through the capture listener at SANDBOX_SIGNED_URL (its path is part of
// what is signed), GetSessionToken signed with the long-lived key of
// AWS_ACCESS_KEY_ID, then GetCallerIdentity signed with that session (its
// token a signed header).
import { STSClient, GetSessionTokenCommand, GetCallerIdentityCommand } from "@aws-sdk/client-sts";

const env = process.env;
const sts = (credentials) => new STSClient({
  region: env.AWS_REGION, endpoint: env.SANDBOX_SIGNED_URL, maxAttempts: 1, ...(credentials ? { credentials } : {}),
});
const base = sts();
const c = (await base.send(new GetSessionTokenCommand({ DurationSeconds: 900 }))).Credentials;
const session = sts({ accessKeyId: c.AccessKeyId, secretAccessKey: c.SecretAccessKey, sessionToken: c.SessionToken });
await session.send(new GetCallerIdentityCommand({}));
base.destroy();
session.destroy();
