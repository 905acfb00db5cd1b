// Package profile reads credbroker's config file and the AWS CLI's
// ~/.aws/config, and resolves a profile to the chain of STS calls that
// makes its credentials.
//
// # The files
//
// Both files have the syntax and keys of ~/.aws/config: [profile NAME]
// and [default] sections with role_arn, source_profile, mfa_serial,
// external_id, role_session_name, duration_seconds, region, endpoint_url,
// services, ca_bundle, ignore_configured_endpoint_urls,
// use_fips_endpoint, use_dualstack_endpoint, credential_process,
// session_policy, policy_arns, source_identity, and aws-vault's
// include_profile and mfa_process; [services NAME] sections with per-service
// endpoints. credbroker's own file also has [daemon] and [access NAME]
// sections. A lexer yields (section, key, value, line); each file's
// sections are collected, the files merged, include_profile applied, and
// each profile typed and checked. A profile with a stored key needs no
// section.
//
// LoadSources merges the two files. A profile defined in both is taken
// whole from credbroker's file (keys are not merged across files), so
// ~/.aws/config can hold `[profile admin] credential_process = credbroker
// ...` while credbroker's file holds admin's role. [services NAME] comes
// from both, credbroker's file winning per name; [daemon] and [access]
// only from credbroker's file (in ~/.aws/config they are a Warning).
// ~/.aws/config is read with botocore's section rules (configloader's
// build_profile_map): a section that is not [default], [profile NAME],
// [sso-session NAME] or [services NAME] is not a profile, and is ignored
// with a Warning (in credbroker's file it is an error, as before).
//
// What is wrong is reported where it is written. In credbroker's file
// any problem is a *ConfigError naming the file and line: its owner fixes
// it. In ~/.aws/config, which other tools share and the AWS CLI reads
// lazily, a problem with one profile is a Warning and the error of
// resolving that profile; the other profiles keep working. A malformed
// line or a repeated section or key fails the whole file in either (as it
// fails botocore's strict configparser). Config.Warnings also names
// unknown keys (with the known key a typo is closest to), static keys
// written in a config file (never read), and sections ignored.
//
// # Keys credbroker does not support yet
//
// Keys the AWS CLI or aws-vault read to make credentials another way:
// any sso_* (IAM Identity Center), credential_source,
// web_identity_token_file, web_identity_token_process, login_session,
// and the role-session settings session_tags, transitive_session_tags. A
// profile is read with them, and resolving it (or a chain through it) is
// an *UnsupportedError: credbroker never makes credentials that differ
// from what the profile says. Other tools' keys (output, cli_*, s3,
// retry_mode, max_attempts, sts_regional_endpoints ...) are fine.
//
// # include_profile
//
// As aws-vault documents it (USAGE.md, "include_profile"): a profile
// takes each key it does not set from the profile it includes, then from
// the one that includes, and so on. A loop or an include of no profile is
// a *ConfigError at the include_profile line. aws-vault's "mixin" fragments
// (a profile with source_profile and no role_arn, only ever included) are
// checked when resolved, not when read, and a source_profile naming the
// profile itself means its own key. aws-vault 5's parent_profile is read
// as include_profile, with a Warning. Unlike aws-vault, credbroker does
// not also fall back to [default]: the AWS CLI does not either.
//
// # credential_process that runs credbroker
//
// The AWS CLI tries role_arn before credential_process (botocore's
// resolver order: assume-role, ..., process). So a profile with role_arn
// whose credential_process runs credbroker for that same profile is never
// served by credbroker: resolving it is a *SelfReferenceError, whose Hint
// is the pattern that works, role in one profile and credential_process in
// another:
//
//	[profile admin]
//	source_profile = base
//	role_arn = arn:aws:iam::210987654321:role/Admin
//	[profile admin-cb]
//	credential_process = credbroker credential-process --profile admin
//
// Asking credbroker for admin-cb is a *DelegatedProfileError naming
// admin: credbroker answers for the profile it is asked, as access rules
// name profiles, and handing admin's credentials out as admin-cb would
// step around a rule about admin. As the source_profile of another
// profile, admin-cb stands for admin (that is what the AWS CLI would get
// from it). A credential_process running credbroker for the profile
// itself without role_arn (what credbroker configure writes) is fine.
//
// # The chain
//
// Resolver.Resolve follows source_profile down to the profile whose
// long-lived key is in the keystore (cycles are named) and builds a
// RoleChain: with an MFA device, GetSessionToken with a TOTP code, then
// AssumeRole for each role_arn with those session credentials (AWS limits
// a role assumed with temporary credentials to one hour, so longer
// durations are lowered and the step says so); without one, AssumeRole
// straight from the long-lived key, or GetSessionToken when there is no
// role, so the long-lived key itself is never handed out.
//
// The MFA device is the asked profile's mfa_serial, else the first one
// down the source_profile chain, as aws-vault does. The AWS CLI differs:
// botocore's AssumeRoleProvider reads mfa_serial only from the profile
// with role_arn and sends it with that AssumeRole call (no
// GetSessionToken), so there an mfa_serial on the source profile alone
// asks for no code, and each role profile needs its own. credbroker's way
// asks once per source and device, and the MFA session serves every role
// built on it. Except for a first role (the one its key assumes) whose
// duration_seconds is over an hour, which an MFA session could never give
// it: that AssumeRole carries the device and a code itself
// (RoleStep.MFA), as the AWS CLI sends it, and gets its full duration.
//
// A role step's SessionName is role_session_name, or "" for the broker to
// name the session after the key's IAM user; its SourceIdentity is
// source_identity. mfa_serial may not name a FIDO security key
// (arn:aws:iam::ACCOUNT:u2f/...): STS takes only TOTP codes. MFAProcess
// is the first mfa_process down the chain: the client that is asked for a
// code runs it, never the daemon.
//
// # Partition, region and endpoint
//
// RoleChain.Partition comes from the role ARNs and the MFA device's ARN
// (a chain never crosses partitions), or from the region's name when no
// ARN names one (cn-* aws-cn, us-gov-* aws-us-gov, us-iso-* aws-iso,
// us-isob-* aws-iso-b, eu-isoe-* aws-iso-e, us-isof-* aws-iso-f, eusc-*
// aws-eusc, else aws, as the SDKs' partitions.json). A region in another
// partition than the ARNs is a *ConfigError saying what to set.
// RoleChain.Region is never empty: the profile's region (inherited along
// source_profile), else AWS_REGION, else AWS_DEFAULT_REGION, else the
// partition's default region.
//
// The STS endpoint is resolved as the AWS SDKs resolve it:
// AWS_ENDPOINT_URL_STS, AWS_ENDPOINT_URL, the profile's [services]
// section, the profile's endpoint_url; AWS_IGNORE_CONFIGURED_ENDPOINT_URLS
// turns them off. Otherwise the broker turns region, partition and the
// FIPS and dual-stack switches (AWS_USE_FIPS_ENDPOINT and
// AWS_USE_DUALSTACK_ENDPOINT, else the profile's keys) into a URL with the
// SDK's own resolver; a switch together with a custom endpoint is a
// *ConfigError, as the SDKs refuse it. A plain http:// endpoint is accepted
// on loopback only. RoleChain.TrustDomain says which credentials may stand
// in for one another: one per partition for AWS's own endpoints, one per
// URL for a custom endpoint. The environment is the Resolver's Getenv,
// never the process's own.
//
// # Concurrency
//
// A Config and a Resolver are not changed after they are made, and are
// safe for concurrent use.
//
// # What it never does
//
// It never reads a secret: a key written in a config file is a Warning,
// and never read. It never runs credential_process. It never makes a
// network call.
package profile
