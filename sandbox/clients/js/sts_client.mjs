// The AWS SDK for JavaScript v3 against credbroker's sandbox: every STS
// operation the sandbox answers, as sandbox/clients_test.go runs it. The
// endpoint comes from AWS_ENDPOINT_URL_STS and the long-lived key from
// AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY, as any program gets them; the
// rest from SANDBOX_* variables. It prints one JSON object of what it got.
import {
  STSClient, GetCallerIdentityCommand, GetAccessKeyInfoCommand, AssumeRoleCommand,
  DecodeAuthorizationMessageCommand, GetSessionTokenCommand, GetFederationTokenCommand,
  AssumeRoleWithWebIdentityCommand,
} from "@aws-sdk/client-sts";

const env = process.env;
const name = env.SANDBOX_CLIENT;
const sts = (credentials) => new STSClient({ region: env.AWS_REGION, maxAttempts: 1, ...(credentials ? { credentials } : {}) });
const creds = (c) => ({ accessKeyId: c.AccessKeyId, secretAccessKey: c.SecretAccessKey, sessionToken: c.SessionToken });
const failure = async (p) => {
  try {
    await p;
  } catch (e) {
    return { code: e.name, message: e.message, status: e.$metadata?.httpStatusCode ?? 0 };
  }
  return { code: "", message: "succeeded", status: 200 };
};

const out = {};
const base = sts();
out.identity = await base.send(new GetCallerIdentityCommand({}));
delete out.identity.$metadata;
out.keyAccount = (await base.send(new GetAccessKeyInfoCommand({ AccessKeyId: env.AWS_ACCESS_KEY_ID }))).Account;
out.denied = await failure(base.send(new AssumeRoleCommand({ RoleArn: env.SANDBOX_ADMIN_ROLE, RoleSessionName: name })));
const encoded = out.denied.message.split("Encoded authorization failure message: ")[1] ?? "";
out.decoded = (await base.send(new DecodeAuthorizationMessageCommand({ EncodedMessage: encoded }))).DecodedMessage;

const session = (await base.send(new GetSessionTokenCommand({
  DurationSeconds: 900, SerialNumber: env.SANDBOX_MFA_SERIAL, TokenCode: env.SANDBOX_MFA_CODE,
}))).Credentials;
out.sessionAccessKeyId = session.AccessKeyId;
out.sessionExpiration = session.Expiration.toISOString();
const mfa = sts(creds(session));
out.sessionIdentity = (await mfa.send(new GetCallerIdentityCommand({}))).Arn;
const role = await mfa.send(new AssumeRoleCommand({ RoleArn: env.SANDBOX_ADMIN_ROLE, RoleSessionName: name }));
out.roleArn = role.AssumedRoleUser.Arn;
out.roleIdentity = (await sts(creds(role.Credentials)).send(new GetCallerIdentityCommand({}))).Arn;
out.tooLong = await failure(mfa.send(new AssumeRoleCommand({ RoleArn: env.SANDBOX_ADMIN_ROLE, RoleSessionName: name, DurationSeconds: 7200 })));

const fed = await base.send(new GetFederationTokenCommand({ Name: name, Policy: env.SANDBOX_FEDERATION_POLICY }));
out.federatedArn = fed.FederatedUser.Arn;
out.federatedIdentity = (await sts(creds(fed.Credentials)).send(new GetCallerIdentityCommand({}))).Arn;

const web = await base.send(new AssumeRoleWithWebIdentityCommand({
  RoleArn: env.SANDBOX_CI_ROLE, RoleSessionName: name, WebIdentityToken: env.SANDBOX_WEB_IDENTITY_TOKEN,
}));
out.webIdentityArn = web.AssumedRoleUser.Arn;
out.webIdentitySubject = web.SubjectFromWebIdentityToken;

console.log(JSON.stringify(out));
