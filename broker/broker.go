package broker

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/aws-sdk-go-v2/service/sts/types"
	"golang.org/x/sync/singleflight"

	"github.com/credbroker/credbroker/cache"
	"github.com/credbroker/credbroker/keystore"
	"github.com/credbroker/credbroker/mfa"
	"github.com/credbroker/credbroker/profile"
)

// STS is the part of the STS client the broker calls, declared here so
// that a fake (internal/fakests) replaces it in tests. Credentials are
// passed per call as an option: the client has none of its own.
type STS interface {
	GetSessionToken(ctx context.Context, in *sts.GetSessionTokenInput, optFns ...func(*sts.Options)) (*sts.GetSessionTokenOutput, error)
	AssumeRole(ctx context.Context, in *sts.AssumeRoleInput, optFns ...func(*sts.Options)) (*sts.AssumeRoleOutput, error)
	GetCallerIdentity(ctx context.Context, in *sts.GetCallerIdentityInput, optFns ...func(*sts.Options)) (*sts.GetCallerIdentityOutput, error)
}

// CodeSource supplies MFA codes for a chain's device.
type CodeSource interface {
	Code(ctx context.Context, chain *profile.RoleChain) (string, error)
	// Unattended reports whether Code makes a code for chain without a
	// human (a stored seed), so that the MFA session can be renewed ahead
	// and a code a caller submits is not wanted.
	Unattended(chain *profile.RoleChain) bool
}

// Options configure a Broker.
type Options struct {
	Keys *keystore.Store
	// NewSTS returns a client for a region and endpoint; nil means the
	// real STS client (newSTSClient).
	NewSTS func(region string, ep profile.Endpoint) (STS, error)
	// Codes supplies MFA codes; nil means seeds from the keystore, then
	// Prompter.
	Codes CodeSource
	// Prompter asks a human for a code when no seed is stored; nil means
	// no prompting (ErrMFARequired).
	Prompter mfa.Prompter
	// StateDir holds the per-device MFA step locks (StepStore.LockDir);
	// "" locks within this process only.
	StateDir string
	// Warn reports something the user should know that is not an error
	// (a clamped duration, a wait for a fresh MFA code); nil discards.
	Warn func(string)
	Now  func() time.Time
}

// Broker turns role chains into temporary credentials. It holds no
// config: callers resolve a profile to a chain (package profile) with the
// config they serve from, so a reload swaps what they resolve with, never
// half of it.
type Broker struct {
	flights singleflight.Group
	keys    *keystore.Store
	cache   *cache.Store
	newSTS  func(region string, ep profile.Endpoint) (STS, error)
	codes   CodeSource
	warn    func(string)
	now     func() time.Time
	// clock is the last reading of STS's clock (see Clock).
	clock atomic.Pointer[ClockReading]
	// keyUsers holds the IAM user name of each long-lived key (access
	// key id -> name) that named a role session (defaultSessionName).
	keyUsers sync.Map
	// keyIDs holds the access key id last read for each source profile
	// (profile -> id; an id is no secret): while the keyring does not
	// answer, it still names the cache entries made from the key, so that
	// what they serve goes on (sourceKey). Forget drops a profile's.
	keyIDs sync.Map
}

// New builds a Broker from opts.
func New(opts Options) (*Broker, error) {
	if opts.Keys == nil {
		return nil, errors.New("broker needs a keystore")
	}
	b := &Broker{keys: opts.Keys, newSTS: opts.NewSTS, codes: opts.Codes, warn: opts.Warn, now: opts.Now}
	if b.now == nil {
		b.now = time.Now
	}
	if b.warn == nil {
		b.warn = func(string) {}
	}
	if b.newSTS == nil {
		b.newSTS = func(region string, ep profile.Endpoint) (STS, error) {
			return newWatchedSTSClient(region, ep, b.sawDate)
		}
	}
	newSTS := b.newSTS
	b.newSTS = func(region string, ep profile.Endpoint) (STS, error) {
		c, err := newSTS(region, ep)
		return budgetedSTS{STS: c, endpoint: ep.URL}, err
	}
	b.cache = cache.New(sessionStore{opts.Keys}, b.now)
	if b.codes == nil {
		b.codes = &SeedCodes{
			Keys:     opts.Keys,
			Prompter: opts.Prompter,
			Generator: &mfa.Generator{
				Steps: StepStore{Keys: opts.Keys, LockDir: lockDir(opts.StateDir)},
				Now:   b.now,
				Sleep: sleepForStep,
				Notify: func(d time.Duration) {
					b.warn(fmt.Sprintf("waiting %s for a fresh MFA code (AWS rejects a code used twice)", d.Round(time.Second)))
				},
			},
		}
	}
	return b, nil
}

// Resolver resolves profiles of cfg, with getenv as the caller's
// environment, and the profiles whose key is in the keystore.
func (b *Broker) Resolver(cfg *profile.Config, getenv func(string) string) *profile.Resolver {
	if getenv == nil {
		getenv = func(string) string { return "" }
	}
	return &profile.Resolver{Config: cfg, Getenv: getenv, Stored: b.StoredProfiles}
}

// MakesOwnCodes reports whether the chain's MFA codes are made without a
// human (a stored seed, or a custom CodeSource that says so).
func (b *Broker) MakesOwnCodes(chain *profile.RoleChain) bool { return b.codes.Unattended(chain) }

// StoredProfiles lists the profiles with an access key in the keystore.
func (b *Broker) StoredProfiles() ([]string, error) {
	items, err := b.keys.List()
	if err != nil {
		return nil, fmt.Errorf("list keystore: %w", err)
	}
	var names []string
	for _, it := range items {
		if it.Kind == keystore.KindAccessKey {
			names = append(names, it.Name)
		}
	}
	return names, nil
}

// FetchOptions change how Fetch walks a chain.
type FetchOptions struct {
	// Renew treats cached steps inside their renewal window as stale
	// (refresh-ahead). The MFA session is renewed only when no human is
	// needed: without an MFA device, or with a stored seed.
	Renew bool
	// MFACode is a code a human submitted for the chain's device; it is
	// used instead of the CodeSource.
	MFACode string
}

// Result is what Fetch made: the credentials to hand out and where they
// came from.
type Result struct {
	cache.Entry
	Chain *profile.RoleChain
	// RoleARN is the role of the last step ("" for a session).
	RoleARN string
}

// Fetch returns temporary credentials for chain: from the cache while they
// are fresh, otherwise from STS along the chain. The result carries the
// cache entry (with when it was issued, for refresh scheduling).
func (b *Broker) Fetch(ctx context.Context, chain *profile.RoleChain, opts FetchOptions) (Result, error) {
	e, err := b.walk(ctx, chain, opts)
	if errors.Is(err, ErrExpiredToken) && opts.MFACode == "" {
		// Cached temporary credentials were revoked or expired early (a
		// changed clock, a revoked session): forget what signed the call
		// that failed, and what was made from it, and walk once more. Not
		// with a code a human gave: it was spent, and AWS refuses it twice.
		b.forgetFrom(chain, err)
		e, err = b.walk(ctx, chain, opts)
	}
	if err != nil {
		return Result{Chain: chain}, err
	}
	res := Result{Entry: e, Chain: chain}
	if n := len(chain.Steps); n > 0 {
		res.RoleARN = chain.Steps[n-1].RoleARN
	}
	return res, nil
}

func (b *Broker) walk(ctx context.Context, chain *profile.RoleChain, opts FetchOptions) (cache.Entry, error) {
	for _, s := range chain.Steps {
		if s.Clamped {
			b.warn(fmt.Sprintf("profile %s: role sessions assumed with temporary credentials last at most 1h (AWS role chaining); using duration_seconds %d", s.Profile, int(s.Duration.Seconds())))
		}
	}
	// Session policies are read and checked before any STS call: a
	// malformed one is a clear local error, not a MalformedPolicyDocument
	// after an MFA code was spent.
	policies := make([]string, len(chain.Steps))
	for i, st := range chain.Steps {
		if st.SessionPolicy == "" {
			continue
		}
		doc, err := ReadSessionPolicy(st.SessionPolicy, st.Profile)
		if err != nil {
			return cache.Entry{}, err
		}
		policies[i] = doc
	}
	// The long-lived key: its id names the cache entries; source gives
	// the key to sign a call with.
	keyID, source, err := b.sourceKey(chain)
	if err != nil {
		return cache.Entry{}, err
	}
	ep, err := STSEndpoint(chain.Region, chain.Endpoint)
	if err != nil {
		return cache.Entry{}, err
	}
	// The STS client (its HTTP transport, a CA bundle read from disk) is
	// made only when a step is not cached: a fetch served from the cache
	// makes none.
	client := sync.OnceValues(func() (STS, error) { return b.newSTS(chain.Region, ep) })
	var cur cache.Entry // the credentials of the last step (none: the long-lived key)
	temporary := false
	// One MFA session per key, device and trust domain: a regional STS
	// session token works in every region of its partition, so profiles
	// in other regions share it; a custom endpoint shares nothing.
	fp := fingerprint("key", keyID, chain.TrustDomain())

	if chain.SessionToken {
		fp = fingerprint(fp, "session", chain.MFASerial, strconv.Itoa(int(chain.SessionDuration.Seconds())))
		renew := opts.Renew && (chain.MFASerial == "" || b.codes.Unattended(chain))
		e, err := b.step(ctx, sessionCacheName(chain), fp, renew, opts.MFACode != "", func(ctx context.Context) (cache.Entry, error) {
			signer, err := source()
			if err != nil {
				return cache.Entry{}, err
			}
			c, err := client()
			if err != nil {
				return cache.Entry{}, err
			}
			return b.getSessionToken(ctx, c, chain, ep, signer, fp, opts.MFACode)
		})
		if err != nil {
			return cache.Entry{}, err
		}
		cur, temporary = e, true
	}
	for i, st := range chain.Steps {
		// Sessions made with other session policies are cached apart.
		fp = fingerprint(fp, "role", st.RoleARN, st.ExternalID, st.SessionName, strconv.Itoa(int(st.Duration.Seconds())),
			fingerprint(policies[i]), strings.Join(st.PolicyARNs, ","), st.SourceIdentity, stepMFA(chain, st))
		prev, chained, doc := cur.Credentials, temporary, policies[i]
		// A step that carries the MFA code itself is renewed ahead only
		// when no human is needed, as the MFA session is.
		renew := opts.Renew && (!st.MFA || b.codes.Unattended(chain))
		code := ""
		if st.MFA {
			code = opts.MFACode
		}
		e, err := b.step(ctx, roleCacheName(st.Profile), fp, renew, code != "", func(ctx context.Context) (cache.Entry, error) {
			signer := prev
			if !chained {
				var err error
				if signer, err = source(); err != nil {
					return cache.Entry{}, err
				}
			}
			c, err := client()
			if err != nil {
				return cache.Entry{}, err
			}
			return b.assumeRole(ctx, c, chain, ep, roleCall{step: st, policy: doc, signer: signer, keyID: keyID, source: source, temporary: chained, code: code}, fp)
		})
		if err != nil {
			return cache.Entry{}, err
		}
		cur, temporary = e, true
	}
	return cur, nil
}

// sourceKey returns the id of the long-lived key of chain's source
// profile and a func that returns the key itself. The key is read from
// the keyring on every walk (a changed or removed key is seen at once);
// when the keyring does not answer, the id kept from an earlier walk
// still names the cache entries, so what they serve (a role renewed from a
// cached MFA session) goes on, and only a call signed with the key itself
// fails, saying the keyring is not answering.
func (b *Broker) sourceKey(chain *profile.RoleChain) (string, func() (cache.Credentials, error), error) {
	key, err := b.keys.AccessKey(chain.Source)
	switch {
	case err == nil:
		b.keyIDs.Store(chain.Source, key.AccessKeyID)
		creds := cache.Credentials{AccessKeyID: key.AccessKeyID, SecretAccessKey: key.SecretAccessKey}
		return key.AccessKeyID, func() (cache.Credentials, error) { return creds, nil }, nil
	case errors.Is(err, keystore.ErrNotFound):
		b.keyIDs.Delete(chain.Source)
		return "", nil, &NoAccessKeyError{Profile: chain.Profile, Source: chain.Source}
	}
	err = fmt.Errorf("profile %s: read access key of %s: %w", chain.Profile, chain.Source, err)
	if id, ok := b.keyIDs.Load(chain.Source); ok && errors.Is(err, keystore.ErrNotAnswering) {
		return id.(string), func() (cache.Credentials, error) { return cache.Credentials{}, err }, nil
	}
	return "", nil, err
}

// step returns the cached entry name/fp, or fetches it. One fetch per
// entry runs at a time however many callers want it (a herd of
// credential_process calls, or two profiles sharing an MFA session, makes
// one STS call). The fetch does not inherit the caller's cancellation: a
// caller that gives up leaves it to finish for the others.
func (b *Broker) step(ctx context.Context, name, fp string, renew, withCode bool, fetch func(context.Context) (cache.Entry, error)) (cache.Entry, error) {
	if e, ok, err := b.cache.LookupFor(name, fp, renew); err != nil || ok {
		return e, err
	}
	key := name + "|" + fp + "|" + strconv.FormatBool(renew) + strconv.FormatBool(withCode)
	ch := b.flights.DoChan(key, func() (any, error) {
		// Another flight may have stored it since the lookup above.
		if e, ok, err := b.cache.LookupFor(name, fp, renew); err != nil || ok {
			return e, err
		}
		return fetch(context.WithoutCancel(ctx))
	})
	select {
	case r := <-ch:
		if r.Err != nil {
			return cache.Entry{}, r.Err
		}
		return r.Val.(cache.Entry), nil
	case <-ctx.Done():
		return cache.Entry{}, ctx.Err()
	}
}

func (b *Broker) getSessionToken(ctx context.Context, client STS, chain *profile.RoleChain, ep profile.Endpoint, signer cache.Credentials, fp, code string) (cache.Entry, error) {
	in := &sts.GetSessionTokenInput{DurationSeconds: aws.Int32(int32(chain.SessionDuration.Seconds()))}
	generated := false
	if chain.MFASerial != "" {
		if code == "" {
			var err error
			if code, err = b.codes.Code(ctx, chain); err != nil {
				return cache.Entry{}, &MFAError{Profile: chain.Profile, Device: chain.MFASerial, Err: err}
			}
			generated = b.codes.Unattended(chain)
		}
		in.SerialNumber, in.TokenCode = aws.String(chain.MFASerial), aws.String(code)
	}
	issued := b.now()
	out, err := client.GetSessionToken(ctx, in, signWith(signer), noRetryWithMFA(chain.MFASerial != ""))
	if err != nil {
		se := classify(err, "GetSessionToken", mfaTarget(chain.MFASerial), chain.Source, ep, chain.MFASerial != "", false)
		se.GeneratedCode = generated
		return cache.Entry{}, se
	}
	return b.store(sessionCacheName(chain), out.Credentials, issued, chain.SessionDuration, fp, "GetSessionToken", chain, ep)
}

// store caches what STS returned, refusing an incomplete answer rather
// than handing it out.
func (b *Broker) store(name string, c *types.Credentials, issued time.Time, requested time.Duration, fp, op string, chain *profile.RoleChain, ep profile.Endpoint) (cache.Entry, error) {
	if c == nil || aws.ToString(c.AccessKeyId) == "" || aws.ToString(c.SecretAccessKey) == "" || aws.ToString(c.SessionToken) == "" || c.Expiration == nil {
		return cache.Entry{}, &STSError{Op: op, Profile: chain.Profile, Endpoint: ep, Kind: ErrSTSUnavailable,
			Err: errors.New("STS answered without complete credentials")}
	}
	e := cache.Entry{
		Credentials: cache.Credentials{
			AccessKeyID:     aws.ToString(c.AccessKeyId),
			SecretAccessKey: aws.ToString(c.SecretAccessKey),
			SessionToken:    aws.ToString(c.SessionToken),
			Expires:         c.Expiration.UTC(),
		},
		Issued:      issued,
		Fingerprint: fp,
	}
	if !e.Expires.After(b.now()) {
		return cache.Entry{}, &STSError{Op: op, Profile: chain.Profile, Endpoint: ep, Kind: ErrSTSUnavailable,
			Err: fmt.Errorf("STS issued credentials that expired at %s: check this machine's clock", e.Expires.Format(time.RFC3339))}
	}
	if limit := issued.Add(requested + maxExpirySkew); e.Expires.After(limit) {
		// STS never issues more than was asked; an endpoint that does
		// (a misbehaving stand-in, a forged answer) is not believed: its
		// credentials would be served long after they stop working.
		return cache.Entry{}, &STSError{Op: op, Profile: chain.Profile, Endpoint: ep, Kind: ErrSTSUnavailable,
			Err: fmt.Errorf("the endpoint issued credentials expiring at %s, later than the %s asked for: refusing them", e.Expires.Format(time.RFC3339), requested)}
	}
	if err := b.cache.Save(name, e); err != nil {
		var se *cache.SaveError
		if !errors.As(err, &se) {
			return cache.Entry{}, fmt.Errorf("profile %s: %w", chain.Profile, err)
		}
		// Served anyway: they are good, and kept in memory.
		b.warn(fmt.Sprintf("profile %s: %v; serving them from memory (lost at a restart)", chain.Profile, err))
	}
	return e, nil
}

// maxExpirySkew is how much later than asked an expiration may be (clocks
// differ by a little).
const maxExpirySkew = 5 * time.Minute

// ChainID names everything the credentials of chain depend on except the
// key itself: its steps and where they are made. Two callers whose
// settings resolve a profile to one ChainID may share its credentials;
// two with different ones never do.
func ChainID(chain *profile.RoleChain) string {
	parts := []string{chain.Source, chain.MFASerial, strconv.FormatBool(chain.SessionToken),
		strconv.Itoa(int(chain.SessionDuration.Seconds())), chain.TrustDomain(), chain.Endpoint.CABundle}
	for _, st := range chain.Steps {
		parts = append(parts, st.Profile, st.RoleARN, st.ExternalID, st.SessionName, strconv.Itoa(int(st.Duration.Seconds())),
			st.SessionPolicy, strings.Join(st.PolicyARNs, ","), st.SourceIdentity, stepMFA(chain, st))
	}
	return fingerprint(parts...)
}

// fingerprint hashes what produced a cache entry; it names no secret.
func fingerprint(parts ...string) string {
	h := sha256.New()
	for _, p := range parts {
		fmt.Fprintf(h, "%d:%s;", len(p), p)
	}
	return hex.EncodeToString(h.Sum(nil)[:16])
}

func sessionCacheName(chain *profile.RoleChain) string {
	if chain.MFASerial != "" {
		return chain.Source + "/mfa-session"
	}
	return chain.Source + "/session"
}

// roleCacheName names the cached role session of the step of profile name.
func roleCacheName(name string) string { return name + "/role" }

var rootARN = regexp.MustCompile(`^arn:aws[a-z-]*:iam::\d{12}:root$`)

// CheckKey asks STS who key belongs to (GetCallerIdentity, which any valid
// key may call) and refuses a root user's key unless allowRoot: AWS's
// first IAM best practice is to never use root credentials for everyday
// work. It returns the caller's ARN.
func (b *Broker) CheckKey(ctx context.Context, r *profile.Resolver, name string, key keystore.AccessKey, allowRoot bool) (string, error) {
	region, ep, err := r.Locate(name)
	if err == nil {
		ep, err = STSEndpoint(region, ep)
	}
	if err != nil {
		return "", err
	}
	client, err := b.newSTS(region, ep)
	if err != nil {
		return "", err
	}
	out, err := client.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{},
		signWith(cache.Credentials{AccessKeyID: key.AccessKeyID, SecretAccessKey: key.SecretAccessKey}))
	if err != nil {
		return "", classify(err, "GetCallerIdentity", "", name, ep, false, false)
	}
	arn := aws.ToString(out.Arn)
	if rootARN.MatchString(arn) && !allowRoot {
		return arn, fmt.Errorf("profile %s: key %s belongs to the root user of account %s (%s): %w", name, cache.LastFour(key.AccessKeyID), aws.ToString(out.Account), arn, ErrRootKey)
	}
	return arn, nil
}

func mfaTarget(serial string) string {
	if serial == "" {
		return ""
	}
	return "with MFA device " + serial
}

// lockDir is where the MFA step locks of stateDir live.
func lockDir(stateDir string) string {
	if stateDir == "" {
		return ""
	}
	return filepath.Join(stateDir, "locks")
}
