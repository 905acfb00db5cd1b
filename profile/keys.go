package profile

import (
	"errors"
	"fmt"
	"slices"
	"strings"
)

// keyKind is what credbroker makes of a key in a profile section.
type keyKind int

const (
	// keyUnknown: no tool credbroker knows of reads it; most often a typo,
	// so it is a Warning.
	keyUnknown keyKind = iota
	// keySupported: credbroker reads it.
	keySupported
	// keyUnsupported: it changes which credentials a profile stands for
	// (SSO, web identity, a credential source, session policies), and
	// credbroker cannot honour it yet. The profile is recorded, and
	// resolving it is an *UnsupportedError: never silently a different
	// chain.
	keyUnsupported
	// keyOtherTool: another tool's setting (the AWS CLI's output, the
	// SDKs' retries); harmless to the chain.
	keyOtherTool
	// keySecret: a long-lived secret written in a config file, which
	// credbroker never reads; a Warning says where it is.
	keySecret
)

// supportedKeys are the profile keys credbroker reads.
var supportedKeys = []string{
	"region", "mfa_serial", "role_arn", "source_profile", "external_id",
	"role_session_name", "duration_seconds", "endpoint_url", "services",
	"ca_bundle", "ignore_configured_endpoint_urls", "include_profile",
	"use_fips_endpoint", "use_dualstack_endpoint", "credential_process",
	"session_policy", "policy_arns", "source_identity", "mfa_process",
}

// unsupportedKeys are keys the AWS CLI (or aws-vault) reads to make
// credentials in a way credbroker does not yet: any sso_* key (IAM
// Identity Center), a credential source or web identity, aws login
// sessions, and the role-session settings that arrive in later versions.
var unsupportedKeys = []string{
	"sso_session", "sso_start_url", "sso_region", "sso_account_id",
	"sso_role_name", "sso_registration_scopes",
	"credential_source", "web_identity_token_file", "web_identity_token_process",
	"login_session",
	"session_tags", "transitive_session_tags",
}

// otherToolKeys are read by the AWS CLI or the SDKs and do not change
// the chain (the AWS CLI's configuration variables and the SDK reference
// guide's settings).
var otherToolKeys = []string{
	"output", "s3", "api_versions", "retry_mode", "max_attempts",
	"parameter_validation", "tcp_keepalive", "endpoint_discovery_enabled",
	"sts_regional_endpoints", "metadata_service_timeout",
	"metadata_service_num_attempts", "ec2_metadata_service_endpoint",
	"ec2_metadata_service_endpoint_mode", "ec2_metadata_v1_disabled",
	"defaults_mode", "account_id_endpoint_mode", "aws_account_id",
	"disable_request_compression", "request_min_compression_size_bytes",
	"sigv4a_signing_region_set", "request_checksum_calculation",
	"response_checksum_validation", "auth_scheme_preference", "sdk_ua_app_id",
	"csm_enabled", "csm_port", "csm_host", "csm_client_id",
}

// otherToolPrefixes name families of keys of other tools: the AWS CLI's
// cli_* settings, and Granted's.
var otherToolPrefixes = []string{"cli_", "granted_", "common_fate_"}

// secretKeys are static credentials, which botocore also reads from the
// config file.
var secretKeys = []string{"aws_access_key_id", "aws_secret_access_key", "aws_session_token"}

func classifyKey(key string) keyKind {
	switch {
	case slices.Contains(supportedKeys, key):
		return keySupported
	case slices.Contains(unsupportedKeys, key), strings.HasPrefix(key, "sso_"):
		return keyUnsupported
	case slices.Contains(secretKeys, key):
		return keySecret
	case slices.Contains(otherToolKeys, key):
		return keyOtherTool
	}
	for _, p := range otherToolPrefixes {
		if strings.HasPrefix(key, p) {
			return keyOtherTool
		}
	}
	return keyUnknown
}

// unknownKeyMessage says a key is unknown and, when a known key is a
// likely typo away, which.
func unknownKeyMessage(key, profile string) string {
	msg := fmt.Sprintf("unknown key %s in profile %s", key, profile)
	if s := nearestKey(key); s != "" {
		msg += " (a typo of " + s + "?)"
	}
	return msg
}

// nearestKey is the known key closest to key by edit distance, if it is
// close: at most two edits, and at most a quarter of the key's length, so
// short keys are not matched to anything.
func nearestKey(key string) string {
	best, bestDist := "", 3
	for _, list := range [][]string{supportedKeys, unsupportedKeys, secretKeys, otherToolKeys} {
		for _, k := range list {
			if d := editDistance(key, k); d < bestDist && d*4 <= len(key) {
				best, bestDist = k, d
			}
		}
	}
	return best
}

// editDistance counts the insertions, deletions, substitutions and
// swaps of adjacent characters between two ASCII keys (optimal string
// alignment distance): "regoin" is one swap from "region".
func editDistance(a, b string) int {
	d := make([][]int, len(a)+1)
	for i := range d {
		d[i] = make([]int, len(b)+1)
		d[i][0] = i
	}
	for j := range d[0] {
		d[0][j] = j
	}
	for i := 1; i <= len(a); i++ {
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			d[i][j] = min(d[i-1][j]+1, d[i][j-1]+1, d[i-1][j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				d[i][j] = min(d[i][j], d[i-2][j-2]+1)
			}
		}
	}
	return d[len(a)][len(b)]
}

// ErrUnsupported: a profile uses a setting credbroker does not support
// yet; the profile is fine for the AWS CLI, but credbroker cannot make its
// credentials.
var ErrUnsupported = errors.New("unsupported profile setting")

// UnsupportedError is a profile on the chain that uses a key credbroker
// cannot honour yet (see the package doc).
type UnsupportedError struct {
	Profile, Key string
	// File and Line are where Key is written.
	File string
	Line int
}

func (e *UnsupportedError) Error() string {
	return fmt.Sprintf("profile %s uses %s, which credbroker does not support yet", e.Profile, e.Key)
}

// Hint says what still works.
func (e *UnsupportedError) Hint() string {
	return fmt.Sprintf("let the AWS CLI and SDKs use profile %s themselves (%s:%d), without credbroker", e.Profile, e.File, e.Line)
}

// Is makes errors.Is(err, ErrUnsupported) work.
func (e *UnsupportedError) Is(target error) bool { return target == ErrUnsupported }

// unsupportedLead are the keys an *UnsupportedError names first, as they
// say what kind of credentials the profile stands for (sso_session rather
// than sso_account_id); otherwise the first in file order.
var unsupportedLead = []string{"sso_session", "sso_start_url", "credential_source", "web_identity_token_file", "login_session"}
