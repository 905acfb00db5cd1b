// The AWS SDK for JavaScript v3 against credbroker's sandbox: every STS
// and IAM operation the sandbox answers, as sandbox/clients_test.go runs
// it. The endpoints come from AWS_ENDPOINT_URL_STS and AWS_ENDPOINT_URL_IAM
// and the long-lived key from AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY, as
// any program gets them; the rest from SANDBOX_* variables. It prints one
// JSON object of what it got.
import { createHmac } from "node:crypto";
import {
  IAMClient, GetUserCommand, ListAccessKeysCommand, CreateAccessKeyCommand, UpdateAccessKeyCommand,
  DeleteAccessKeyCommand, GetAccessKeyLastUsedCommand, CreateVirtualMFADeviceCommand, EnableMFADeviceCommand,
  DeactivateMFADeviceCommand, ListMFADevicesCommand, SimulateCustomPolicyCommand, SimulatePrincipalPolicyCommand,
} from "@aws-sdk/client-iam";
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
const mfaCode = (code) => new GetSessionTokenCommand({ DurationSeconds: 900, SerialNumber: env.SANDBOX_MFA_SERIAL, TokenCode: code });
out.refusals = {
  wrongCode: await failure(base.send(mfaCode(env.SANDBOX_WRONG_CODE))),
  reusedCode: await failure(base.send(mfaCode(env.SANDBOX_MFA_CODE))),
  untrusted: await failure(base.send(new AssumeRoleCommand({ RoleArn: env.SANDBOX_ELSEWHERE_ROLE, RoleSessionName: name }))),
  noExternalId: await failure(base.send(new AssumeRoleCommand({ RoleArn: env.SANDBOX_PARTNER_ROLE, RoleSessionName: name }))),
  // Signed by a clock 10 minutes behind (the SDK's systemClockOffset).
  tenMinutesOld: await failure(new STSClient({ region: env.AWS_REGION, maxAttempts: 1, systemClockOffset: -600000 })
    .send(new GetCallerIdentityCommand({}))),
};
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

// IAM, with the MFA session (GetSessionToken credentials reach IAM only
// with MFA): every action the sandbox answers, each answer parsed.
const iam = new IAMClient({ region: env.AWS_REGION, maxAttempts: 1, credentials: creds(session) });
const keys = async () => (await iam.send(new ListAccessKeysCommand({}))).AccessKeyMetadata.map((k) => `${k.AccessKeyId}:${k.Status}`);
const devices = async () => (await iam.send(new ListMFADevicesCommand({}))).MFADevices.map((d) => d.SerialNumber);
const user = (await iam.send(new GetUserCommand({}))).User;
out.iam = {
  user: user.Arn,
  keys: (await iam.send(new ListAccessKeysCommand({}))).AccessKeyMetadata.map((k) => k.AccessKeyId),
  mfaDevices: await devices(),
};
const round = {};
const created = (await iam.send(new CreateAccessKeyCommand({}))).AccessKey;
round.createdKey = created.AccessKeyId;
round.createdSecretLength = created.SecretAccessKey.length;
round.keysAfterCreate = await keys();
await iam.send(new UpdateAccessKeyCommand({ AccessKeyId: created.AccessKeyId, Status: "Inactive" }));
round.keysAfterUpdate = await keys();
const last = await iam.send(new GetAccessKeyLastUsedCommand({ AccessKeyId: env.AWS_ACCESS_KEY_ID }));
round.lastUsed = {
  user: last.UserName, service: last.AccessKeyLastUsed.ServiceName, region: last.AccessKeyLastUsed.Region,
  date: last.AccessKeyLastUsed.LastUsedDate?.toISOString() ?? "",
};
await iam.send(new DeleteAccessKeyCommand({ AccessKeyId: created.AccessKeyId }));
round.keysAfterDelete = await keys();

// A second virtual MFA device, enabled with two consecutive codes of its
// seed (RFC 6238: HMAC-SHA1, 6 digits, 30 s steps), then deactivated.
const device = (await iam.send(new CreateVirtualMFADeviceCommand({ VirtualMFADeviceName: `${name}-2` }))).VirtualMFADevice;
const seed = Buffer.from(device.Base32StringSeed).toString("ascii");
round.virtualSerial = device.SerialNumber;
round.virtualSeedLength = seed.length;
const step = Math.floor(Date.now() / 1000 / 30);
await iam.send(new EnableMFADeviceCommand({
  UserName: user.UserName, SerialNumber: device.SerialNumber,
  AuthenticationCode1: totp(seed, step - 1), AuthenticationCode2: totp(seed, step),
}));
round.devicesAfterEnable = await devices();
await iam.send(new DeactivateMFADeviceCommand({ UserName: user.UserName, SerialNumber: device.SerialNumber }));
round.devicesAfterDeactivate = await devices();

const decisions = (r) => r.EvaluationResults.map((e) => `${e.EvalActionName}:${e.EvalDecision}`);
round.customDecisions = decisions(await iam.send(new SimulateCustomPolicyCommand({
  PolicyInputList: [env.SANDBOX_FEDERATION_POLICY], ActionNames: ["s3:GetObject", "s3:PutObject"],
})));
round.principalDecisions = decisions(await iam.send(new SimulatePrincipalPolicyCommand({
  PolicySourceArn: user.Arn, ActionNames: ["iam:ListAccessKeys", "iam:CreateUser"], ResourceArns: [user.Arn],
})));
out.iam.round = round;

console.log(JSON.stringify(out));

// totp is the code of a base32 seed at a time step.
function totp(base32, step) {
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  let bits = "";
  for (const c of base32.replace(/=+$/, "")) {
    const v = alphabet.indexOf(c);
    if (v < 0) throw new Error("the seed is not base32");
    bits += v.toString(2).padStart(5, "0");
  }
  const key = Buffer.from(bits.match(/.{8}/g).map((b) => parseInt(b, 2)));
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(step));
  const mac = createHmac("sha1", key).update(counter).digest();
  const offset = mac[mac.length - 1] & 15;
  return String((mac.readUInt32BE(offset) & 0x7fffffff) % 1000000).padStart(6, "0");
}
