// The AWS SDK for JavaScript v3 with its default credential chain and no
// profile: it finds the container credentials endpoint through
// AWS_CONTAINER_CREDENTIALS_FULL_URI and AWS_CONTAINER_AUTHORIZATION_TOKEN
// (serve_ecs.txtar), or IMDS through AWS_EC2_METADATA_SERVICE_ENDPOINT
// (serve_imds.txtar). It prints the key id (never the secret) and
// the identity STS sees, or the error on stderr with exit status 1.
import { STSClient, GetCallerIdentityCommand } from "@aws-sdk/client-sts";

const sts = new STSClient({ region: process.env.AWS_REGION, maxAttempts: 1 });
try {
  const creds = await sts.config.credentials();
  const id = await sts.send(new GetCallerIdentityCommand({}));
  console.log(`key=${creds.accessKeyId} expiration=${creds.expiration?.toISOString()}`);
  console.log(id.Arn);
} catch (e) {
  console.error(`${e.name}: ${e.message}`);
  process.exit(1);
}
