package profile

import (
	"fmt"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
)

// Endpoint is where a chain's calls go: its STS endpoint
// (RoleChain.Endpoint), or its IAM endpoint (Resolver.IAMEndpoint).
type Endpoint struct {
	// URL is "" for the endpoint the SDK's own resolver picks from the
	// chain's region (and partition), with UseFIPS and UseDualStack.
	URL string
	// Source says where URL came from, for messages.
	Source string
	// CABundle is a PEM file of the certificates to trust for it instead
	// of the system's (AWS_CA_BUNDLE, else the profile's ca_bundle, as
	// the AWS SDKs read them); "" for the system's.
	CABundle string
	// UseFIPS and UseDualStack ask the SDK's resolver for the FIPS and
	// dual-stack variants: AWS_USE_FIPS_ENDPOINT and
	// AWS_USE_DUALSTACK_ENDPOINT, else use_fips_endpoint and
	// use_dualstack_endpoint. They are never set with a URL: the SDKs'
	// endpoint rules refuse the combination ("FIPS and custom endpoint
	// are not supported"), so Resolve does too.
	UseFIPS, UseDualStack bool
}

func (e Endpoint) String() string {
	if e.URL != "" {
		return e.URL + " (from " + e.Source + ")"
	}
	var variants []string
	if e.UseFIPS {
		variants = append(variants, "FIPS")
	}
	if e.UseDualStack {
		variants = append(variants, "dual-stack")
	}
	if len(variants) == 0 {
		return "the default STS endpoint"
	}
	return "the default STS endpoint (" + strings.Join(variants, ", ") + ")"
}

// TrustDomain names the set of STS endpoints whose credentials may stand
// in for one another. The regional endpoints of one partition are one
// domain: a session token from any of them works in every region of the
// partition (and FIPS and dual-stack are other names of the same
// service). A custom endpoint (a sandbox, moto, a VPC endpoint someone
// else runs) shares nothing with any other.
func (c *RoleChain) TrustDomain() string {
	if c.Endpoint.URL != "" {
		return "endpoint:" + c.Endpoint.URL
	}
	return "partition:" + c.Partition
}

// endpoint resolves the STS endpoint the way the AWS SDKs resolve a
// service-specific endpoint: AWS_IGNORE_CONFIGURED_ENDPOINT_URLS (or the
// profile's ignore_configured_endpoint_urls) turns configured endpoints off;
// otherwise AWS_ENDPOINT_URL_STS, then AWS_ENDPOINT_URL, then the sts
// endpoint_url of the profile's [services] section, then the profile's
// endpoint_url. FIPS and dual-stack come from AWS_USE_FIPS_ENDPOINT and
// AWS_USE_DUALSTACK_ENDPOINT, else the profile. Profile settings are
// inherited along source_profile, the nearest profile to the one asked
// winning.
func (r *Resolver) endpoint(path []string) (Endpoint, error) {
	var (
		fips, dual             bool
		fipsSource, dualSource string
	)
	for i := len(path) - 1; i >= 0; i-- {
		p := r.Config.Profiles[path[i]]
		if p == nil || p.handsOff() {
			continue
		}
		if p.UseFIPSEndpoint != nil {
			fips, fipsSource = *p.UseFIPSEndpoint, "use_fips_endpoint in profile "+p.Name
		}
		if p.UseDualStackEndpoint != nil {
			dual, dualSource = *p.UseDualStackEndpoint, "use_dualstack_endpoint in profile "+p.Name
		}
	}
	for _, v := range []struct {
		name   string
		dst    *bool
		source *string
	}{{"AWS_USE_FIPS_ENDPOINT", &fips, &fipsSource}, {"AWS_USE_DUALSTACK_ENDPOINT", &dual, &dualSource}} {
		if s := r.Getenv(v.name); s != "" {
			b, err := parseSwitch(s)
			if err != nil {
				return Endpoint{}, &ConfigError{Msg: fmt.Sprintf("%s=%q must be true or false", v.name, clip(s))}
			}
			*v.dst, *v.source = b, v.name
		}
	}
	c, err := r.configured(path)
	if err != nil {
		return Endpoint{}, err
	}
	ep := Endpoint{UseFIPS: fips, UseDualStack: dual}
	if !c.ignore {
		if ep.URL, ep.Source, err = r.configuredURL(c.services, c.profile); err != nil {
			return Endpoint{}, err
		}
	}
	if ep.URL != "" {
		for _, v := range []struct {
			on              bool
			variant, source string
		}{{fips, "FIPS", fipsSource}, {dual, "dual-stack", dualSource}} {
			if v.on {
				return Endpoint{}, &ConfigError{Msg: fmt.Sprintf("%s asks for the %s endpoint, but STS is at the custom endpoint %s (from %s): the AWS SDKs refuse %s with a custom endpoint; unset one of them", v.source, v.variant, ep.URL, ep.Source, v.variant)}
			}
		}
	}
	return ep, nil
}

// configured is what the profiles along a chain's path, and the
// environment, say about configured endpoints, for every service alike:
// profile settings are inherited along source_profile, the nearest
// profile to the one asked winning, and
// AWS_IGNORE_CONFIGURED_ENDPOINT_URLS overrides the profiles'
// ignore_configured_endpoint_urls.
type configured struct {
	// ignore turns configured endpoints off: the SDK's own resolver
	// picks the endpoint.
	ignore bool
	// services names the [services] section that applies ("" for none).
	services string
	// profile is the nearest profile with an endpoint_url (nil for none).
	profile *Profile
}

func (r *Resolver) configured(path []string) (configured, error) {
	var c configured
	for i := len(path) - 1; i >= 0; i-- {
		p := r.Config.Profiles[path[i]]
		if p == nil || p.handsOff() {
			continue
		}
		if p.IgnoreSet {
			c.ignore = p.IgnoreConfiguredEndpointURLs
		}
		if p.Services != "" {
			c.services = p.Services
		}
		if p.EndpointURL != "" {
			c.profile = p
		}
	}
	if v := r.Getenv("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return c, &ConfigError{Msg: fmt.Sprintf("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS=%q must be true or false", clip(v))}
		}
		c.ignore = b
	}
	return c, nil
}

// IAMEndpoint is where IAM calls for chain go, found as the AWS SDKs find
// a service's endpoint, from the settings chain's STS endpoint is found
// with: nothing configured when AWS_IGNORE_CONFIGURED_ENDPOINT_URLS (or
// the profile's ignore_configured_endpoint_urls) is true; else
// AWS_ENDPOINT_URL_IAM, AWS_ENDPOINT_URL, the iam endpoint_url of the
// profile's [services] section, the profile's endpoint_url. URL "" is the
// partition's IAM endpoint, which the SDK resolves from the chain's
// region (IAM is global in each partition: iam.amazonaws.com,
// iam.us-gov.amazonaws.com, iam.cn-north-1.amazonaws.com.cn) and signs
// for the partition's region. CABundle is the chain's.
func (r *Resolver) IAMEndpoint(chain *RoleChain) (Endpoint, error) {
	ep := Endpoint{CABundle: chain.Endpoint.CABundle}
	c, err := r.configured(chain.Path)
	if err != nil || c.ignore {
		return ep, err
	}
	for _, env := range []string{"AWS_ENDPOINT_URL_IAM", "AWS_ENDPOINT_URL"} {
		if v := r.Getenv(env); v != "" {
			ep.URL, ep.Source = v, env
			return ep, checkIAMEndpoint(ep)
		}
	}
	if v := r.Config.Services[c.services]["iam"]["endpoint_url"]; c.services != "" && v != "" {
		ep.URL, ep.Source = v, "[services "+c.services+"]"
		return ep, checkIAMEndpoint(ep)
	}
	if c.profile != nil {
		ep.URL, ep.Source = c.profile.EndpointURL, "endpoint_url of profile "+c.profile.Name
		return ep, checkIAMEndpoint(ep)
	}
	return ep, nil
}

// configuredURL is the custom endpoint from the environment, the
// [services] section or the profile, in that order ("" for none).
func (r *Resolver) configuredURL(services string, profile *Profile) (u, source string, err error) {
	for _, env := range []string{"AWS_ENDPOINT_URL_STS", "AWS_ENDPOINT_URL"} {
		if v := r.Getenv(env); v != "" {
			if err := checkEndpoint(env, v); err != nil {
				return "", "", &ConfigError{Msg: err.Error()}
			}
			return v, env, nil
		}
	}
	if v := r.Config.Services[services]["sts"]["endpoint_url"]; services != "" && v != "" {
		at, ok := r.Config.servicesAt[services]
		if !ok {
			at.file = r.Config.Path
		}
		if err := checkEndpoint("[services "+services+"] sts endpoint_url", v); err != nil {
			return "", "", &ConfigError{Path: at.file, Line: at.line, Msg: err.Error()}
		}
		return v, "[services " + services + "] in " + at.file, nil
	}
	if profile != nil {
		return profile.EndpointURL, "profile " + profile.Name + " in " + firstNonEmpty(profile.File, r.Config.Path), nil
	}
	return "", "", nil
}

// checkEndpoint accepts what endpointURL does. The error names source,
// where the URL came from.
func checkEndpoint(source, v string) error {
	switch isURL, safe := endpointURL(v); {
	case !isURL:
		return fmt.Errorf("%s: %q is not an http:// or https:// URL", source, clip(v))
	case !safe:
		return fmt.Errorf("%s %s: plain http is accepted only on loopback: use https", source, clip(v))
	}
	return nil
}

// checkIAMEndpoint accepts what endpointURL does, for IAM: a request
// signed with a long-lived key, and the secret of a new key in
// CreateAccessKey's answer, never cross a network in clear either.
func checkIAMEndpoint(ep Endpoint) error {
	switch isURL, safe := endpointURL(ep.URL); {
	case !isURL:
		return fmt.Errorf("IAM endpoint %q (from %s) is not an http:// or https:// URL", ep.URL, ep.Source)
	case !safe:
		return fmt.Errorf("IAM endpoint %s (from %s): plain http is accepted only on loopback: use https", ep.URL, ep.Source)
	}
	return nil
}

// endpointURL says whether v is an http:// or https:// URL, and whether
// it is safe to send requests to: https://, or http:// on a loopback host
// only. A plain-http endpoint elsewhere would carry a long-lived key's
// signed request, and the credentials STS returns, across a network in
// clear.
func endpointURL(v string) (isURL, safe bool) {
	u, err := url.Parse(v)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return false, false
	}
	return true, u.Scheme == "https" || LoopbackHost(u.Hostname())
}

// LoopbackHost reports whether the host name h (no port, no brackets) is
// this machine's loopback: localhost, 127.0.0.0/8 or ::1 (IPv4-mapped
// too).
func LoopbackHost(h string) bool {
	if strings.EqualFold(h, "localhost") {
		return true
	}
	a, err := netip.ParseAddr(h)
	return err == nil && a.Unmap().IsLoopback()
}
