//go:build linux

package main

// The cold herd's installations: one on the file keyring (the default),
// one on the kernel's keyctl keyring.

import (
	"crypto/rand"
	"encoding/base32"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/credbroker/credbroker/internal/stspeer"
	"github.com/credbroker/credbroker/keystore"
)

// herdNames names what a cold herd's installation makes: the source
// profile (with the MFA device), the role profile the herd asks for, the
// MFA device's serial and the IAM user at moto.
type herdNames struct {
	base, prod, device, user string
}

// coldHerd sets up site for the herd (an IAM user's key and a TOTP seed
// stored, an MFA + role profile, no daemon running), runs the herd, and
// stops the daemon it autostarted at the end of the bench.
func coldHerd(bin string, s *site, names herdNames, motoURL string, proxy *stspeer.Proxy, n int, sec *secrets, clean *cleanup) (herdResult, error) {
	if names.device == "" {
		names.device = "arn:aws:iam::123456789012:mfa/" + names.user
	}
	key, err := stspeer.CreateIAMUser(motoURL, names.user)
	if err != nil {
		return herdResult{}, err
	}
	sec.add(key.Secret)
	seedBytes := make([]byte, 20)
	_, _ = rand.Read(seedBytes)
	seed := base32.StdEncoding.EncodeToString(seedBytes)
	sec.add(seed)
	if err := s.writeConfig(fmt.Sprintf("[profile %s]\nmfa_serial = %s\n\n[profile %s]\nrole_arn = arn:aws:iam::210987654321:role/Admin\nsource_profile = %s\n",
		names.base, names.device, names.prod, names.base)); err != nil {
		return herdResult{}, err
	}
	if _, err := s.run(bin, sec, key.ID+"\n"+key.Secret+"\n", "add", names.base); err != nil {
		return herdResult{}, err
	}
	if _, err := s.run(bin, sec, seed+"\n", "totp", "add", names.base); err != nil {
		return herdResult{}, err
	}
	if err := waitHealthy(s.socket, 0); err == nil {
		return herdResult{}, errors.New("a daemon already answers on the herd's socket")
	}
	// The herd autostarts a daemon; stop it whatever happens next.
	herdClient := daemonClient(s.socket, 1)
	clean.add(func() {
		if st, err := getStatus(herdClient); err == nil {
			stopPID(st.PID)
		}
		herdClient.CloseIdleConnections()
	})
	proxy.Take()
	hr, err := herd(bin, s, names.prod, n, sec)
	if err != nil {
		return hr, err
	}
	hr.sts = proxy.Take()
	if st, err := getStatus(herdClient); err == nil {
		hr.daemonPID = st.PID
		if m, err := procStatus(st.PID, "VmRSS", "VmHWM"); err == nil {
			hr.rss, hr.hwm = m["VmRSS"], m["VmHWM"]
		}
	}
	return hr, nil
}

// keyctlColdHerd runs the cold herd with CREDBROKER_KEYRING=keyctl. The
// kernel's user keyring is the user's, not the bench's: every name it
// stores there carries this run's tag, and the items are removed at the
// end (exactly those: the run's profiles and its device's used step).
func keyctlColdHerd(bin, dir, motoURL string, proxy *stspeer.Proxy, n int, sec *secrets, clean *cleanup) (herdResult, error) {
	keys, err := keystore.Open(keystore.Config{Backend: "keyctl"})
	if err != nil {
		return herdResult{}, fmt.Errorf("the keyctl keyring cannot be opened here: %w", err)
	}
	tag := fmt.Sprintf("bench%d-", os.Getpid())
	names := herdNames{base: tag + "base", prod: tag + "prod", user: "bench-keyctl",
		device: "arn:aws:iam::123456789012:mfa/" + tag + "device"}
	ours := func(it keystore.Item) bool {
		// The profiles' items (their key, seed and sessions) and the
		// device's used step: nothing else of the user's keyring.
		return strings.HasPrefix(it.Name, tag) || (it.Kind == keystore.KindState && strings.HasSuffix(it.Name, "/"+names.device))
	}
	s, err := newSite(dir, proxy.URL, "")
	if err != nil {
		return herdResult{}, err
	}
	s.setEnv("CREDBROKER_KEYRING", "keyctl")
	s.setEnv("CREDBROKER_FILE_DIR", "")
	s.setEnv("CREDBROKER_FILE_PASSPHRASE", "")
	clean.add(func() {
		items, err := keys.List()
		if err != nil {
			fmt.Fprintf(os.Stderr, "bench: the keyctl items of this run (named %s) were not removed: %v\n", tag, err)
			return
		}
		for _, it := range items {
			if ours(it) {
				_ = keys.Delete(it.Kind, it.Name)
			}
		}
	})
	return coldHerd(bin, s, names, motoURL, proxy, n, sec, clean)
}
