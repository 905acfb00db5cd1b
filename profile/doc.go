// Package profile reads credbroker's config file and resolves a profile
// to the chain of STS calls that makes its credentials.
//
// # The file
//
// The syntax and keys of ~/.aws/config: [profile NAME] and [default]
// sections with role_arn, source_profile, mfa_serial, external_id,
// role_session_name, duration_seconds, region, endpoint_url, services,
// ca_bundle, ignore_configured_endpoint_urls; [services NAME] sections
// with per-service endpoints; credbroker's own [daemon] and [access NAME]
// sections. A lexer yields (section, key, value, line); each section is a
// typed value (Profile, Services, DaemonSettings, AccessRule) that takes
// its own keys. A malformed file is a *ConfigError naming the file, the
// line and what is wrong; a profile with a stored key needs no section.
//
// # The chain
//
// Resolver.Resolve follows source_profile down to the profile whose
// long-lived key is in the keystore (cycles are named) and builds a
// RoleChain: with an MFA device (mfa_serial on any profile of the chain),
// GetSessionToken with a TOTP code, then AssumeRole for each role_arn with
// those session credentials (AWS limits a role assumed with temporary
// credentials to one hour, so longer durations are lowered and the step
// says so); without one, AssumeRole straight from the long-lived key, or
// GetSessionToken when there is no role, so the long-lived key itself is
// never handed out.
//
// The STS endpoint is resolved as the AWS SDKs resolve it:
// AWS_ENDPOINT_URL_STS, AWS_ENDPOINT_URL, the profile's [services]
// section, the profile's endpoint_url; AWS_IGNORE_CONFIGURED_ENDPOINT_URLS
// turns them off. The environment is the Resolver's Getenv, never the
// process's own.
//
// # Concurrency
//
// A Config and a Resolver are not changed after they are made, and are
// safe for concurrent use.
//
// # What it never does
//
// It never reads a secret: the config file holds none.
package profile
