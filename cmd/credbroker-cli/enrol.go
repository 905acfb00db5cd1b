package main

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/spf13/cobra"

	"github.com/credbroker/credbroker/cache"
	"github.com/credbroker/credbroker/keystore"
	"github.com/credbroker/credbroker/mfa"
)

func newMFAEnrolCmd(a *app) *cobra.Command {
	var (
		showQR, replace bool
		deviceName      string
	)
	c := &cobra.Command{
		Use:     "enrol PROFILE",
		Aliases: []string{"enroll"},
		Short:   "Make a new virtual MFA device for PROFILE's IAM user and keep its seed in the keyring",
		Long: `Make a virtual MFA device for the IAM user of PROFILE's stored key
(CreateVirtualMFADevice, named after the user unless --device-name), store its
seed in the keyring as credbroker totp add does, and enable it for the user
(EnableMFADevice) with the codes of two consecutive 30-second steps made from
the seed: the previous step's and the current one's, as AWS takes them (both
already shown by an authenticator). The steps are recorded as used, so the
daemon never sends those codes again.

The seed is never printed: --show-qr draws the otpauth:// URI as a QR code on
the terminal, for an authenticator app on a phone to hold it as well.

Then put the mfa_serial line it prints in the profile. A profile that has a
stored seed already is refused unless --replace (the old device stays enabled
in IAM until you deactivate it).`,
		Args: exactProfile,
		RunE: func(c *cobra.Command, args []string) error {
			return a.enrol(c.Context(), args[0], deviceName, showQR, replace)
		},
	}
	c.Flags().BoolVar(&showQR, "show-qr", false, "draw the seed's otpauth:// URI as a QR code on the terminal (it is the secret)")
	c.Flags().BoolVar(&replace, "replace", false, "replace a seed already stored for the profile")
	c.Flags().StringVar(&deviceName, "device-name", "", "the virtual MFA device's name (default: the IAM user's name)")
	return c
}

func (a *app) enrol(ctx context.Context, name, deviceName string, showQR, replace bool) error {
	k, err := a.ownKey(name, "mfa enrol")
	if err != nil {
		return err
	}
	keys, key := k.keys, k.key
	previous, err := keys.Get(keystore.KindTOTPSeed, name)
	switch {
	case err == nil && !replace:
		return &hintedError{fmt.Sprintf("profile %s already has a TOTP seed stored: nothing was changed", name),
			"to enrol a new device in its place, run: credbroker mfa enrol " + name + " --replace"}
	case err != nil && !errors.Is(err, keystore.ErrNotFound):
		return fmt.Errorf("profile %s: read TOTP seed: %w", name, err)
	}
	arn, user, err := k.user(ctx)
	if err != nil {
		return err
	}
	if deviceName == "" {
		deviceName = user
	}
	client, ep, err := k.iamClient()
	if err != nil {
		return err
	}
	signer := signedBy(cache.Credentials{AccessKeyID: key.AccessKeyID, SecretAccessKey: key.SecretAccessKey})

	out, err := client.CreateVirtualMFADevice(ctx, &iam.CreateVirtualMFADeviceInput{VirtualMFADeviceName: aws.String(deviceName)}, signer, sentOnce)
	if err != nil {
		return fmt.Errorf("profile %s: CreateVirtualMFADevice %s at %s: %s; nothing changed", name, deviceName, describeIAMEndpoint(ep), iamFault(err))
	}
	if out.VirtualMFADevice == nil || aws.ToString(out.VirtualMFADevice.SerialNumber) == "" {
		return fmt.Errorf("profile %s: CreateVirtualMFADevice at %s answered without a device", name, describeIAMEndpoint(ep))
	}
	serial := aws.ToString(out.VirtualMFADevice.SerialNumber)
	secret := strings.TrimSpace(string(out.VirtualMFADevice.Base32StringSeed))
	// What undoes the device when a later step fails: IAM keeps an
	// unassigned virtual device until it is deleted.
	undo := func(what string, cause error) error {
		if previous != nil {
			_ = keys.Put(keystore.KindTOTPSeed, name, previous)
		} else {
			_ = keys.Delete(keystore.KindTOTPSeed, name)
		}
		_, derr := client.DeleteVirtualMFADevice(ctx, &iam.DeleteVirtualMFADeviceInput{SerialNumber: aws.String(serial)}, signer)
		if derr == nil {
			return fmt.Errorf("profile %s: %s: %v; the new device %s was deleted again and nothing changed", name, what, cause, serial)
		}
		return &hintedError{fmt.Sprintf("profile %s: %s: %v; the new device %s is not enabled, and could not be deleted (%s)", name, what, cause, serial, iamFault(derr)),
			"delete it: aws iam delete-virtual-mfa-device --serial-number " + serial}
	}
	seed, err := mfa.ParseSeed(secret)
	if err != nil || !seed.AWSCompatible() {
		return undo("IAM answered with a seed that is not a base32 TOTP secret", errors.New("unusable seed"))
	}
	// The seed goes to the keyring before the device is enabled: an
	// enabled device whose seed was lost would lock the user out.
	if err := keys.Put(keystore.KindTOTPSeed, name, []byte(seed.Encode())); err != nil {
		return undo("store the seed", err)
	}
	code1, code2, err := a.enrolCodes(ctx, keys, serial, seed)
	if err != nil {
		return undo("make the codes", err)
	}
	_, err = client.EnableMFADevice(ctx, &iam.EnableMFADeviceInput{UserName: aws.String(user), SerialNumber: aws.String(serial),
		AuthenticationCode1: aws.String(code1), AuthenticationCode2: aws.String(code2)}, signer, sentOnce) // a retry would send the same codes, which AWS refuses
	if err != nil {
		return undo("EnableMFADevice at "+describeIAMEndpoint(ep), errors.New(iamFault(err)))
	}
	a.notifyDaemon(ctx, name)
	fmt.Fprintf(a.stdout, "Enabled the virtual MFA device %s for IAM user %s; its seed is stored for profile %s in the %s keyring.\n",
		serial, user, name, keys.Backend())
	if showQR {
		fmt.Fprintln(a.stdout, "Scan this with your authenticator app (it is the seed: let nobody else see it):")
		if err := writeQR(a.stdout, otpauthURI(secret, user, arn)); err != nil {
			return err
		}
	}
	cfg := k.r.Config
	if p := cfg.Profiles[name]; p != nil && p.MFASerial == serial {
		fmt.Fprintf(a.stdout, "Profile %s already names it (mfa_serial).\n", name)
		return nil
	}
	where := a.configPath()
	if p := cfg.Profiles[name]; p != nil && p.File != "" {
		where = p.File // the file that defines the profile (maybe ~/.aws/config)
	}
	if where == "" {
		// Neither CREDBROKER_CONFIG nor HOME is set: no file is read.
		where = "the config file CREDBROKER_CONFIG names (with neither it nor HOME set, none is read)"
	}
	fmt.Fprintf(a.stdout, "Put this line in [profile %s] of %s:\n", name, where)
	fmt.Fprintf(a.stdout, "mfa_serial = %s\n", serial)
	return nil
}

// enrolCodes makes EnableMFADevice's two consecutive codes: those of the
// previous and the current time step (AWS: "two consecutive
// authentication codes"; both are codes an authenticator has shown, so
// neither is from the future), and records the current step as the last
// used for the device, under its lock, so that no process of this user
// sends either code again.
func (a *app) enrolCodes(ctx context.Context, keys *keystore.Store, serial string, seed mfa.Seed) (string, string, error) {
	steps := a.stepStore(keys)
	unlock, err := steps.LockDevice(ctx, serial)
	if err != nil {
		return "", "", err
	}
	defer unlock()
	now := time.Now()
	code1, err := seed.Code(now.Add(-seed.Period()))
	if err != nil {
		return "", "", err
	}
	code2, err := seed.Code(now)
	if err != nil {
		return "", "", err
	}
	if err := steps.SetLastStep(serial, seed.Step(now)); err != nil {
		return "", "", fmt.Errorf("record the time step used: %w", err)
	}
	return code1, code2, nil
}

// otpauthURI is the Key Uri Format of an AWS virtual MFA seed, labelled
// as the IAM console labels it, for an authenticator app.
func otpauthURI(secret, user, arn string) string {
	account := strings.SplitN(arn, ":", 6)[4]
	label := url.PathEscape("Amazon Web Services:" + user + "@" + account)
	q := url.Values{"secret": {secret}, "issuer": {"Amazon Web Services"}, "algorithm": {"SHA1"}, "digits": {"6"}, "period": {"30"}}
	return "otpauth://totp/" + label + "?" + q.Encode()
}
