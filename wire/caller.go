package wire

import (
	"crypto/sha256"
	"encoding/hex"
	"net/url"
	"path/filepath"
	"strings"
)

// ContextVars are the environment variables an AWS SDK in the calling
// process would read to find STS (region, endpoints, FIPS and dual-stack,
// CA bundle). Each request carries the caller's values, and the daemon
// answers as that SDK would: the daemon's own environment decides none of
// them.
var ContextVars = []string{
	"AWS_REGION", "AWS_DEFAULT_REGION",
	"AWS_ENDPOINT_URL_STS", "AWS_ENDPOINT_URL", "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS",
	"AWS_USE_FIPS_ENDPOINT", "AWS_USE_DUALSTACK_ENDPOINT",
	"AWS_CA_BUNDLE",
}

// KeyringVars are the variables that choose a keyring and where it lives.
// One daemon serves one keyring: a caller whose values differ is served by
// a daemon of its own (a socket of its own, see UserSocket).
var KeyringVars = []string{
	"CREDBROKER_KEYRING", "CREDBROKER_FILE_DIR", "CREDBROKER_SECRET_SERVICE_COLLECTION",
	"PASSWORD_STORE_DIR", "GNUPGHOME", "CREDBROKER_PASS_PREFIX", "CREDBROKER_KEYCTL_SCOPE",
}

// Caller is what a request carries of its caller's settings.
type Caller struct {
	// Env holds the caller's ContextVars that are set.
	Env map[string]string
	// Config is credbroker's profile file as the caller names it
	// (CREDBROKER_CONFIG, or the per-user default), AWSConfig the AWS
	// CLI's (AWS_CONFIG_FILE, or ~/.aws/config); both absolute, "" when
	// unknown.
	Config, AWSConfig string
	// Keyring identifies the keyring the caller's settings choose (""
	// for the defaults): see KeyringID.
	Keyring string
}

// CallerFrom reads a caller's settings from its environment.
func CallerFrom(getenv func(string) string) Caller {
	c := Caller{Env: map[string]string{}, Config: ConfigPath(getenv), AWSConfig: AWSConfigPath(getenv), Keyring: KeyringID(getenv)}
	for _, k := range ContextVars {
		if v := getenv(k); v != "" {
			c.Env[k] = v
		}
	}
	return c
}

// Getenv reads the caller's context variables (nothing else).
func (c Caller) Getenv(k string) string { return c.Env[k] }

// Query adds the caller's settings to q (a request's query).
func (c Caller) Query(q url.Values) {
	for _, k := range ContextVars {
		if v, ok := c.Env[k]; ok {
			q.Set("env."+k, v)
		}
	}
	if c.Config != "" {
		q.Set("config", c.Config)
	}
	if c.AWSConfig != "" {
		q.Set("aws_config", c.AWSConfig)
	}
	if c.Keyring != "" {
		q.Set("keyring", c.Keyring)
	}
}

// CallerOf reads what Query wrote; ok is false when the request carries no
// caller settings (an older client).
func CallerOf(q url.Values) (c Caller, ok bool) {
	c = Caller{Env: map[string]string{}, Config: q.Get("config"), AWSConfig: q.Get("aws_config"), Keyring: q.Get("keyring")}
	for _, k := range ContextVars {
		if v := q.Get("env." + k); v != "" {
			c.Env[k] = v
		}
	}
	return c, c.Config != "" || c.AWSConfig != "" || len(c.Env) > 0 || c.Keyring != ""
}

// ConfigPath is credbroker's profile file: CREDBROKER_CONFIG, else
// $XDG_CONFIG_HOME/credbroker/config, else ~/.config/credbroker/config.
func ConfigPath(getenv func(string) string) string {
	if p := getenv("CREDBROKER_CONFIG"); p != "" {
		return absolute(p)
	}
	dir := getenv("XDG_CONFIG_HOME")
	if !filepath.IsAbs(dir) {
		home := getenv("HOME")
		if home == "" {
			return ""
		}
		dir = filepath.Join(home, ".config")
	}
	return filepath.Join(dir, "credbroker", "config")
}

// AWSConfigPath is the AWS CLI's config file: AWS_CONFIG_FILE, else
// ~/.aws/config.
func AWSConfigPath(getenv func(string) string) string {
	if p := getenv("AWS_CONFIG_FILE"); p != "" {
		return absolute(p)
	}
	if home := getenv("HOME"); home != "" {
		return filepath.Join(home, ".aws", "config")
	}
	return ""
}

func absolute(p string) string {
	if a, err := filepath.Abs(p); err == nil {
		return a
	}
	return p
}

// KeyringID names the keyring a caller's settings choose: "" when none of
// KeyringVars is set (the defaults), else a short hash of their values.
// Folders are made absolute first, so that two spellings of one folder are
// one keyring.
func KeyringID(getenv func(string) string) string {
	var b strings.Builder
	set := false
	for _, k := range KeyringVars {
		v := getenv(k)
		if v != "" {
			set = true
			if strings.HasSuffix(k, "_DIR") || k == "GNUPGHOME" {
				v = absolute(v)
			}
		}
		b.WriteString(k + "=" + v + "\x00")
	}
	if !set {
		return ""
	}
	sum := sha256.Sum256([]byte(b.String()))
	return hex.EncodeToString(sum[:6])
}
