package broker

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"
	"github.com/credbroker/credbroker/mfa"
	"github.com/credbroker/credbroker/profile"
)

// A Wait is something a fetch waits for that the callers waiting on it
// should hear of as it happens: the next MFA time step, a retry against
// STS. A client says it on its terminal ("waiting 17 s for the next MFA
// code of arn:aws:iam::123456789012:mfa/alice").
type Wait struct {
	// What is waited for, as the words after "waiting 17 s for".
	What  string
	Until time.Time
}

type waitsKey struct{}

// WithWaits returns a context whose fetches report what they wait for to
// report (called from the fetching goroutine, before the wait).
func WithWaits(ctx context.Context, report func(Wait)) context.Context {
	return context.WithValue(ctx, waitsKey{}, report)
}

// ReportWait tells whoever waits on the fetch of ctx (WithWaits) what it
// waits for: the broker's own waits, and a CodeSource's.
func ReportWait(ctx context.Context, w Wait) {
	if report, ok := ctx.Value(waitsKey{}).(func(Wait)); ok {
		report(w)
	}
}

type mfaDeviceKey struct{}

// withMFADevice names the device a code is made for, for the wait
// reported while its next time step comes.
func withMFADevice(ctx context.Context, device string) context.Context {
	return context.WithValue(ctx, mfaDeviceKey{}, device)
}

// sleepForStep is the MFA code generator's wait for a fresh time step:
// reported, then slept (cancellable).
func sleepForStep(ctx context.Context, d time.Duration) error {
	device, _ := ctx.Value(mfaDeviceKey{}).(string)
	if device == "" {
		device = "the MFA device"
	}
	ReportWait(ctx, Wait{What: "the next MFA code of " + device + " (AWS refuses a code used twice)", Until: time.Now().Add(d)})
	return mfa.SleepContext(ctx, d)
}

// budgetedSTS gives each call of an STS client a deadline of STSBudget
// (or the caller's, when sooner), makes only the retries that fit in it,
// reports each retry as a Wait, and names an endpoint that does not
// answer (noAnswerError).
type budgetedSTS struct {
	STS
	endpoint string
}

func (c budgetedSTS) GetSessionToken(ctx context.Context, in *sts.GetSessionTokenInput, optFns ...func(*sts.Options)) (*sts.GetSessionTokenOutput, error) {
	ctx, cancel, fit := c.budget(ctx)
	defer cancel()
	out, err := c.STS.GetSessionToken(ctx, in, append(optFns, fit.option)...)
	return out, fit.explain(err)
}

func (c budgetedSTS) AssumeRole(ctx context.Context, in *sts.AssumeRoleInput, optFns ...func(*sts.Options)) (*sts.AssumeRoleOutput, error) {
	ctx, cancel, fit := c.budget(ctx)
	defer cancel()
	out, err := c.STS.AssumeRole(ctx, in, append(optFns, fit.option)...)
	return out, fit.explain(err)
}

func (c budgetedSTS) GetCallerIdentity(ctx context.Context, in *sts.GetCallerIdentityInput, optFns ...func(*sts.Options)) (*sts.GetCallerIdentityOutput, error) {
	ctx, cancel, fit := c.budget(ctx)
	defer cancel()
	out, err := c.STS.GetCallerIdentity(ctx, in, append(optFns, fit.option)...)
	return out, fit.explain(err)
}

func (c budgetedSTS) budget(ctx context.Context) (context.Context, context.CancelFunc, *fitting) {
	start := time.Now()
	ctx, cancel := context.WithTimeout(ctx, STSBudget)
	deadline, _ := ctx.Deadline()
	return ctx, cancel, &fitting{ctx: ctx, endpoint: c.endpoint, start: start, deadline: deadline, attempts: 1}
}

// fitting is one call's retry plan: another attempt only when one more
// answer timeout still fits before the deadline.
type fitting struct {
	ctx             context.Context
	endpoint        string
	start, deadline time.Time
	attempts        int
}

// option fits the SDK's retries of one call into its budget.
func (f *fitting) option(o *sts.Options) {
	if r, ok := o.Retryer.(aws.RetryerV2); ok {
		o.Retryer = fittedRetryer{r, f}
	}
}

type fittedRetryer struct {
	aws.RetryerV2
	f *fitting
}

// RetryDelay implements aws.Retryer: the SDK's backoff, unless another
// attempt would not end before the call's deadline, in which case the
// last error stands.
func (r fittedRetryer) RetryDelay(attempt int, opErr error) (time.Duration, error) {
	d, err := r.RetryerV2.RetryDelay(attempt, opErr)
	if err != nil {
		return d, err
	}
	// The SDK's jitter may make it nothing at all; at once would most
	// likely meet the same trouble.
	d = max(d, stsMinBackoff)
	if time.Now().Add(d + stsAnswerTimeout).After(r.f.deadline) {
		return 0, opErr
	}
	r.f.attempts++
	ReportWait(r.f.ctx, Wait{What: fmt.Sprintf("a retry against STS at %s (attempt %d: %s)", r.f.endpoint, attempt, attemptReason(opErr)),
		Until: time.Now().Add(d)})
	return d, nil
}

// attemptReason is why an attempt failed, in a few words.
func attemptReason(err error) string {
	var api smithy.APIError
	var resp *smithyhttp.ResponseError
	var ne net.Error
	switch {
	case errors.As(err, &ne) && ne.Timeout():
		return fmt.Sprintf("no answer within %s", stsAnswerTimeout)
	case errors.As(err, &api):
		return api.ErrorCode()
	case errors.As(err, &resp) && resp.HTTPStatusCode() != 0:
		return fmt.Sprintf("HTTP %d", resp.HTTPStatusCode())
	}
	return networkReason(err)
}

// explain names the endpoint when the call ended without an answer.
func (f *fitting) explain(err error) error {
	var ne net.Error
	if err == nil || !(errors.Is(err, context.DeadlineExceeded) || errors.As(err, &ne) && ne.Timeout()) {
		return err
	}
	return &noAnswerError{Endpoint: f.endpoint, Attempts: f.attempts, Waited: time.Since(f.start), Err: err}
}

// noAnswerError: STS took the request (or the connection) and did not
// answer within the budget.
type noAnswerError struct {
	Endpoint string
	Attempts int
	Waited   time.Duration
	Err      error
}

func (e *noAnswerError) Error() string { return e.reason() }

// reason is the words that follow "STS unreachable at ENDPOINT: ".
func (e *noAnswerError) reason() string {
	tries := "1 attempt"
	if e.Attempts > 1 {
		tries = fmt.Sprintf("%d attempts", e.Attempts)
	}
	return fmt.Sprintf("no answer in %s (%s)", e.Waited.Round(100*time.Millisecond), tries)
}

func (e *noAnswerError) Unwrap() error   { return e.Err }
func (e *noAnswerError) Timeout() bool   { return true }
func (e *noAnswerError) Temporary() bool { return true }

// Hint says what to try.
func (e *noAnswerError) Hint() string {
	return "nothing answered at " + e.Endpoint + ": check the network, a proxy (HTTPS_PROXY) or firewall in between, and AWS_ENDPOINT_URL_STS / endpoint_url; the daemon retries with backoff"
}

// ClockReading is how far this machine's clock was from an STS
// endpoint's, measured from the Date header of its last answer (to about
// a second: the header counts whole seconds).
type ClockReading struct {
	// Skew is STS's clock minus this machine's: positive when this
	// machine's clock is behind.
	Skew     time.Duration
	At       time.Time
	Endpoint string
}

// Clock is the last clock reading, if STS has answered since the start.
func (b *Broker) Clock() (ClockReading, bool) {
	r := b.clock.Load()
	if r == nil {
		return ClockReading{}, false
	}
	return *r, true
}

// sawDate records STS's clock from an answer's Date header: the header
// counts whole seconds, so STS's time is in [date, date+1s), taken at the
// middle of the request's round trip.
func (b *Broker) sawDate(date, sent, got time.Time, endpoint string) {
	mid := sent.Add(got.Sub(sent) / 2)
	skew := date.Add(500 * time.Millisecond).Sub(mid).Round(time.Second)
	b.clock.Store(&ClockReading{Skew: skew, At: got, Endpoint: endpoint})
}

// dateWatcher hands the Date header of every answer to saw.
type dateWatcher struct {
	sts.HTTPClient
	saw func(date, sent, got time.Time, endpoint string)
}

func (w dateWatcher) Do(r *http.Request) (*http.Response, error) {
	sent := time.Now()
	resp, err := w.HTTPClient.Do(r)
	if err == nil {
		if date, perr := http.ParseTime(resp.Header.Get("Date")); perr == nil {
			w.saw(date, sent, time.Now(), r.URL.Scheme+"://"+r.URL.Host)
		}
	}
	return resp, err
}

// ErrNoSeed: a code was asked of a chain whose MFA codes are not made
// without a human (no stored seed).
var ErrNoSeed = errors.New("no totp seed stored")

// Code makes an MFA code for chain's device as a fetch would (a stored
// seed, a time step never used before, waiting for the next one and
// reporting the wait when this one's was used): for `credbroker totp
// code`, so that the codes shown and the steps the broker records agree.
func (b *Broker) Code(ctx context.Context, chain *profile.RoleChain) (string, error) {
	noSeed := fmt.Errorf("profile %s: %w for its MFA device", chain.Profile, ErrNoSeed)
	if chain.MFASerial == "" {
		return "", noSeed
	}
	if sc, ok := b.codes.(*SeedCodes); ok {
		// Say why a seed cannot be read (a locked keyring), not that
		// there is none; the seed read is the one the code is made from.
		seed, found, err := sc.Seed(chain.Path)
		if err != nil || !found {
			return "", cmp.Or(err, noSeed)
		}
		return sc.generate(ctx, chain, seed)
	}
	if !b.codes.Unattended(chain) {
		return "", noSeed
	}
	return b.codes.Code(ctx, chain)
}
