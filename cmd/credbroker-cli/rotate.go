package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/spf13/cobra"

	"github.com/credbroker/credbroker/broker"
	"github.com/credbroker/credbroker/cache"
	"github.com/credbroker/credbroker/keystore"
	"github.com/credbroker/credbroker/profile"
)

// keyPropagation bounds the wait for a new access key to work: IAM is
// eventually consistent ("changes ... can take time to become visible"
// to STS), usually a few seconds.
const keyPropagation = time.Minute

func newRotateCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:   "rotate PROFILE",
		Short: "Replace PROFILE's stored access key with a new one, and delete the old one",
		Long: `Make a new access key for the IAM user of PROFILE's stored key
(CreateAccessKey), check that it works (GetCallerIdentity, waiting while IAM
makes it known, at most a minute), store it in the keyring in place of the old
one, drop the sessions made from the old key, then delete the old key
(DeleteAccessKey). IAM calls are signed with the old key, or with an MFA
session (GetSessionToken with the profile's mfa_serial) when the profile has
one, as IAM policies that require MFA expect.

IAM calls go to AWS_ENDPOINT_URL_IAM, AWS_ENDPOINT_URL, the iam endpoint_url of
the profile's [services] section or its endpoint_url, else the partition's IAM
endpoint.

If a step fails, a working key stays stored, and credbroker says which key
exists where and what to run. An IAM user has at most two access keys: with
two already, delete the one not stored first.`,
		Args: exactProfile,
		RunE: func(c *cobra.Command, args []string) error {
			return a.rotate(c.Context(), args[0])
		},
	}
}

func (a *app) rotate(ctx context.Context, name string) error {
	k, err := a.ownKey(name, "rotate")
	if err != nil {
		return err
	}
	b, r, chain, keys, old := k.b, k.r, k.chain, k.keys, k.key
	oldID := cache.LastFour(old.AccessKeyID)
	// Who the key belongs to: CreateAccessKey names the user, and the new
	// key must turn out to be the same user's.
	arn, user, err := k.user(ctx)
	if errors.Is(err, errNotIAMUser) {
		return fmt.Errorf("%w: only an IAM user's key can be rotated", err)
	}
	if err != nil {
		return err
	}
	client, ep, err := k.iamClient()
	if err != nil {
		return err
	}
	signer := cache.Credentials{AccessKeyID: old.AccessKeyID, SecretAccessKey: old.SecretAccessKey}
	if chain.MFASerial != "" {
		// The MFA session of the profile (cached, or made now with a code).
		res, err := b.Fetch(ctx, chain, broker.FetchOptions{})
		if err != nil {
			return err
		}
		signer = res.Credentials
	}

	out, err := client.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String(user)}, signedBy(signer), sentOnce)
	if err != nil {
		return a.createFailed(ctx, client, signer, name, user, old.AccessKeyID, ep, err)
	}
	if out.AccessKey == nil {
		return fmt.Errorf("profile %s: CreateAccessKey at %s answered without a key; nothing changed", name, describeIAMEndpoint(ep))
	}
	fresh := keystore.AccessKey{AccessKeyID: aws.ToString(out.AccessKey.AccessKeyId), SecretAccessKey: aws.ToString(out.AccessKey.SecretAccessKey)}
	newID := cache.LastFour(fresh.AccessKeyID)
	// From here on two keys exist: each failure says what to do with
	// the one that is not stored.
	undo := func(what string, cause error) error {
		_, derr := client.DeleteAccessKey(ctx, &iam.DeleteAccessKeyInput{UserName: aws.String(user), AccessKeyId: aws.String(fresh.AccessKeyID)}, signedBy(signer))
		if derr == nil {
			return &hintedError{fmt.Sprintf("profile %s: %s: %v; the new key %s was deleted again, and the stored key %s is unchanged", name, what, cause, newID, oldID), ""}
		}
		return &hintedError{fmt.Sprintf("profile %s: %s: %v; the stored key %s is unchanged, but the new key %s of IAM user %s could not be deleted (%s)", name, what, cause, oldID, newID, user, iamFault(derr)),
			"delete it: aws iam delete-access-key --user-name " + user + " --access-key-id " + fresh.AccessKeyID}
	}
	if err := fresh.Validate(); err != nil {
		return undo("CreateAccessKey answered with a key that is not one", errors.New("malformed key"))
	}
	if err := a.waitForKey(ctx, b, r, name, fresh, arn); err != nil {
		return undo("the new key did not work", err)
	}
	if err := keys.PutAccessKey(name, fresh); err != nil {
		return undo("store the new key", err)
	}
	// Sessions made from the old key go: the daemon's and the sealed cache.
	if _, err := b.Forget(r, name); err != nil {
		a.warn("the sessions made from the old key were not all dropped: " + err.Error() + "; run credbroker daemon restart")
	}
	a.notifyDaemon(ctx, name)
	if _, err := client.DeleteAccessKey(ctx, &iam.DeleteAccessKeyInput{UserName: aws.String(user), AccessKeyId: aws.String(old.AccessKeyID)}, signedBy(signer)); err != nil {
		return &hintedError{fmt.Sprintf("profile %s: the new key %s was created, works and is stored, but the old key %s could not be deleted (DeleteAccessKey at %s: %s); it still works",
			name, newID, oldID, describeIAMEndpoint(ep), iamFault(err)),
			"delete it: aws iam delete-access-key --user-name " + user + " --access-key-id " + old.AccessKeyID}
	}
	fmt.Fprintf(a.stdout, "Rotated the access key of profile %s (%s): %s is stored in the %s keyring and works; %s was deleted.\n",
		name, arn, newID, keys.Backend(), oldID)
	return nil
}

// createFailed explains a CreateAccessKey that failed: nothing changed,
// and, when the user already has IAM's two keys, which one to delete.
func (a *app) createFailed(ctx context.Context, client *iam.Client, signer cache.Credentials, name, user, stored string, ep profile.Endpoint, err error) error {
	msg := fmt.Sprintf("profile %s: CreateAccessKey for IAM user %s at %s: %s; nothing changed", name, user, describeIAMEndpoint(ep), iamFault(err))
	if iamCode(err) != "LimitExceeded" {
		return &hintedError{msg, ""}
	}
	list, lerr := client.ListAccessKeys(ctx, &iam.ListAccessKeysInput{UserName: aws.String(user)}, signedBy(signer))
	if lerr != nil {
		return &hintedError{msg + " (IAM users have at most two access keys)", "delete the key that is not stored (" + cache.LastFour(stored) + " is): aws iam list-access-keys --user-name " + user}
	}
	for _, k := range list.AccessKeyMetadata {
		if id := aws.ToString(k.AccessKeyId); id != stored {
			return &hintedError{msg + fmt.Sprintf(" (IAM users have at most two access keys; %s is not stored by credbroker)", cache.LastFour(id)),
				"if nothing else uses it, delete it: aws iam delete-access-key --user-name " + user + " --access-key-id " + id}
		}
	}
	return &hintedError{msg, ""}
}

// waitForKey checks key with GetCallerIdentity until STS accepts it (a new
// key takes IAM a few seconds to propagate), at most keyPropagation, and
// that it is the same user's as wantARN. It says on stderr what it waits
// for before the first wait.
func (a *app) waitForKey(ctx context.Context, b *broker.Broker, r *profile.Resolver, name string, key keystore.AccessKey, wantARN string) error {
	deadline := time.Now().Add(keyPropagation)
	delay := time.Second
	for said := false; ; {
		arn, err := b.CheckKey(ctx, r, name, key, false)
		if err == nil {
			if arn != wantARN {
				return fmt.Errorf("GetCallerIdentity says the new key is %s's, not %s's", arn, wantARN)
			}
			return nil
		}
		if !errors.Is(err, broker.ErrKeyRejected) || time.Now().Add(delay).After(deadline) {
			if errors.Is(err, broker.ErrKeyRejected) {
				return fmt.Errorf("STS still rejects it after %s: %w", keyPropagation, err)
			}
			return err
		}
		if !said {
			fmt.Fprintf(a.stderr, "credbroker: waiting for IAM to make the new key %s known to STS (usually a few seconds, at most %s)...\n", cache.LastFour(key.AccessKeyID), keyPropagation)
			said = true
		}
		t := time.NewTimer(delay)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
		delay = min(2*delay, 8*time.Second)
	}
}
