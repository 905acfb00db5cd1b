package policy

import (
	"slices"
	"testing"
)

// The IAM User Guide's worked examples, as named tests.

// rwRolePolicy gives a role read and write on my_bucket (IAM User Guide,
// "Amazon S3: Allows read and write access to objects in an S3 Bucket").
const rwRolePolicy = `{
  "Version": "2012-10-17",
  "Statement": [
    {
      "Sid": "ListObjectsInBucket",
      "Effect": "Allow",
      "Action": ["s3:ListBucket"],
      "Resource": ["arn:aws:s3:::my_bucket"]
    },
    {
      "Sid": "AllObjectActions",
      "Effect": "Allow",
      "Action": "s3:*Object",
      "Resource": ["arn:aws:s3:::my_bucket/*"]
    }
  ]
}`

func bucketPolicyFor(effect string) string {
	return `{
  "Version": "2012-10-17",
  "Statement": [{
    "Sid": "RoleOnBucket",
    "Effect": "` + effect + `",
    "Principal": {"AWS": "arn:aws:iam::111122223333:role/S3Access"},
    "Action": "s3:*",
    "Resource": ["arn:aws:s3:::my_bucket", "arn:aws:s3:::my_bucket/*"]
  }]
}`
}

const noS3Policy = `{"Version": "2012-10-17", "Statement": [{"Sid": "EC2Only", "Effect": "Allow", "Action": "ec2:Describe*", "Resource": "*"}]}`

const denyS3Policy = `{"Version": "2012-10-17", "Statement": [{"Sid": "NoS3", "Effect": "Deny", "Action": "s3:*", "Resource": "*"}]}`

func TestTextbookS3Role(t *testing.T) {
	session := "arn:aws:sts::111122223333:assumed-role/S3Access/app"
	tests := []struct {
		name     string
		rule     string
		identity string
		bucket   string // "" for no bucket policy
		action   string
		want     Decision
		wantSids []string
	}{
		{
			name: "RoleAllowsReadWriteNoBucketPolicy", identity: rwRolePolicy, action: "s3:PutObject", want: Allowed,
			rule:     "IAM User Guide, Policy evaluation logic: if only identity-based policies apply, AWS checks them for at least one Allow",
			wantSids: []string{"AllObjectActions"},
		},
		{
			name: "RoleAllowsReadWriteBucketPolicyDeniesRole", identity: rwRolePolicy, bucket: bucketPolicyFor("Deny"), action: "s3:GetObject", want: ExplicitDeny,
			rule:     "IAM User Guide, Policy evaluation logic: an explicit deny in either of these policies overrides the allow",
			wantSids: []string{"RoleOnBucket"},
		},
		{
			name: "RoleWithoutS3BucketPolicyAllowsRole", identity: noS3Policy, bucket: bucketPolicyFor("Allow"), action: "s3:GetObject", want: Allowed,
			rule:     "IAM User Guide, Policy evaluation logic: if an action is allowed by an identity-based policy, a resource-based policy, or both, then AWS allows the action",
			wantSids: []string{"RoleOnBucket"},
		},
		{
			name: "RoleDeniedBucketPolicyAllowsRole", identity: denyS3Policy, bucket: bucketPolicyFor("Allow"), action: "s3:GetObject", want: ExplicitDeny,
			rule:     "IAM User Guide, Policy evaluation logic: an explicit deny in any policy overrides any allows",
			wantSids: []string{"NoS3"},
		},
		{
			name: "RoleWithoutS3NoBucketPolicy", identity: noS3Policy, action: "s3:GetObject", want: ImplicitDeny,
			rule: "IAM User Guide, Policy evaluation logic: by default, all requests are implicitly denied",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			set := PolicySet{Identity: []*Policy{mustParse(t, "role.json", tt.identity)}}
			if tt.bucket != "" {
				set.Resource = mustParse(t, "bucket.json", tt.bucket)
			}
			r := set.Evaluate(&Request{Principal: mustPrincipal(t, session), Action: tt.action, Resource: "arn:aws:s3:::my_bucket/report.csv"})
			if r.Decision != tt.want {
				t.Fatalf("%s: got %s, want %s", tt.rule, describe(r), tt.want)
			}
			var sids []string
			for _, m := range r.Matched {
				sids = append(sids, m.Sid)
			}
			if !slices.Equal(sids, tt.wantSids) {
				t.Errorf("matched statements %q, want %q", sids, tt.wantSids)
			}
		})
	}
}

// homeFolderPolicy is IAM User Guide, "IAM policy elements: Variables and
// tags": one policy giving each user their own folder.
const homeFolderPolicy = `{
  "Version": "2012-10-17",
  "Statement": [
    {
      "Sid": "ListOwnFolder",
      "Action": ["s3:ListBucket"],
      "Effect": "Allow",
      "Resource": ["arn:aws:s3:::mybucket"],
      "Condition": {"StringLike": {"s3:prefix": ["home/${aws:username}/*"]}}
    },
    {
      "Sid": "OwnObjects",
      "Action": ["s3:GetObject", "s3:PutObject"],
      "Effect": "Allow",
      "Resource": ["arn:aws:s3:::mybucket/home/${aws:username}/*"]
    }
  ]
}`

func TestTextbookHomeFolder(t *testing.T) {
	pol := mustParse(t, "home.json", homeFolderPolicy)
	set := PolicySet{Identity: []*Policy{pol}}
	tests := []struct {
		name      string
		principal string
		action    string
		resource  string
		prefix    string
		want      Decision
	}{
		{"GeorgesOwnFolder", "arn:aws:iam::123456789012:user/georges", "s3:GetObject", "arn:aws:s3:::mybucket/home/georges/notes.txt", "", Allowed},
		{"GeorgesWritesOwnFolder", "arn:aws:iam::123456789012:user/georges", "s3:PutObject", "arn:aws:s3:::mybucket/home/georges/a/b.txt", "", Allowed},
		{"GeorgesOnSarahsFolder", "arn:aws:iam::123456789012:user/georges", "s3:GetObject", "arn:aws:s3:::mybucket/home/sarah/notes.txt", "", ImplicitDeny},
		{"GeorgesListsOwnPrefix", "arn:aws:iam::123456789012:user/georges", "s3:ListBucket", "arn:aws:s3:::mybucket", "home/georges/", Allowed},
		{"GeorgesListsSarahsPrefix", "arn:aws:iam::123456789012:user/georges", "s3:ListBucket", "arn:aws:s3:::mybucket", "home/sarah/", ImplicitDeny},
		// A role session has no aws:username ("not present"), so the
		// variable cannot resolve and the statement does not apply.
		{"NoUsernameInRequest", "arn:aws:sts::123456789012:assumed-role/Reader/georges", "s3:GetObject", "arn:aws:s3:::mybucket/home/georges/notes.txt", "", ImplicitDeny},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := NewContext()
			if tt.prefix != "" {
				ctx.Set("s3:prefix", tt.prefix)
			}
			r := set.Evaluate(&Request{Principal: mustPrincipal(t, tt.principal), Action: tt.action, Resource: tt.resource, Context: ctx})
			if r.Decision != tt.want {
				t.Fatalf("IAM User Guide, Policy variables (\"When this policy is evaluated, IAM replaces the variable ${aws:username} with the friendly name of the actual current user\"): got %s, want %s", describe(r), tt.want)
			}
		})
	}
}

// passRolePolicy lets a user run EC2 and pass only the S3Access role to it
// (IAM User Guide, "Using an IAM role to grant permissions to applications
// running on Amazon EC2 instances").
const passRolePolicy = `{
  "Version": "2012-10-17",
  "Statement": [
    {"Sid": "EC2", "Effect": "Allow", "Action": "ec2:*", "Resource": "*"},
    {"Sid": "PassS3Access", "Effect": "Allow", "Action": "iam:PassRole", "Resource": "arn:aws:iam::123456789012:role/S3Access"}
  ]
}`

func TestTextbookPassRole(t *testing.T) {
	set := PolicySet{Identity: []*Policy{mustParse(t, "passrole.json", passRolePolicy)}}
	user := mustPrincipal(t, "arn:aws:iam::123456789012:user/alice")
	tests := []struct {
		name, action, resource string
		want                   Decision
		sid                    string
	}{
		{"PassS3AccessAllowed", "iam:PassRole", "arn:aws:iam::123456789012:role/S3Access", Allowed, "PassS3Access"},
		{"PassOtherRoleImplicitlyDenied", "iam:PassRole", "arn:aws:iam::123456789012:role/Admin", ImplicitDeny, ""},
		{"RunInstancesAllowed", "ec2:RunInstances", "arn:aws:ec2:us-east-1:123456789012:instance/*", Allowed, "EC2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := set.Evaluate(&Request{Principal: user, Action: tt.action, Resource: tt.resource})
			if r.Decision != tt.want {
				t.Fatalf("IAM User Guide, \"Granting a user permissions to pass a role\": got %s, want %s", describe(r), tt.want)
			}
			if tt.sid != "" && (len(r.Matched) != 1 || r.Matched[0].Sid != tt.sid) {
				t.Errorf("matched %v, want Sid %s", r.Matched, tt.sid)
			}
		})
	}
}

// ec2TrustPolicy is the service role trust policy (IAM User Guide, "Using an
// IAM role to grant permissions to applications running on Amazon EC2
// instances").
const ec2TrustPolicy = `{
  "Version": "2012-10-17",
  "Statement": [{"Sid": "abcdTrustPolicy", "Effect": "Allow", "Action": "sts:AssumeRole", "Principal": {"Service": "ec2.amazonaws.com"}}]
}`

func TestTextbookEC2TrustPolicy(t *testing.T) {
	trust := mustParse(t, "trust.json", ec2TrustPolicy)
	tests := []struct {
		name, caller string
		want         Decision
	}{
		{"EC2MayAssume", "ec2.amazonaws.com", Allowed},
		{"LambdaMayNot", "lambda.amazonaws.com", ImplicitDeny},
		{"UserInAccountMayNot", "arn:aws:iam::111111111111:user/admin", ImplicitDeny},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := CanAssume(trust, AssumeRoleRequest{Principal: mustPrincipal(t, tt.caller), RoleARN: "arn:aws:iam::111111111111:role/abcd"})
			if r.Decision != tt.want {
				t.Fatalf("IAM User Guide, AWS service principals (a service role's trust policy names the service): got %s, want %s", describe(r), tt.want)
			}
		})
	}
}
