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

	"github.com/credbroker/credbroker/internal/stspeer"
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
// kernel's user keyring is the user's, not the bench's: the profiles it
// stores there carry this run's tag, and credbroker itself removes them at
// the end (remove: the key and seed, and the sessions made from them; mfa
// reset: the device's used step).
func keyctlColdHerd(bin, dir, motoURL string, proxy *stspeer.Proxy, n int, sec *secrets, clean *cleanup) (herdResult, error) {
	if _, err := os.Stat("/proc/keys"); err != nil {
		return herdResult{}, errors.New("this kernel has no keyrings (/proc/keys)")
	}
	tag := fmt.Sprintf("bench%d-", os.Getpid())
	names := herdNames{base: tag + "base", prod: tag + "prod", user: "bench-keyctl",
		device: "arn:aws:iam::123456789012:mfa/" + tag + "device"}
	s, err := newSite(dir, proxy.URL, "")
	if err != nil {
		return herdResult{}, err
	}
	s.setEnv("CREDBROKER_KEYRING", "keyctl")
	s.setEnv("CREDBROKER_FILE_DIR", "")
	s.setEnv("CREDBROKER_FILE_PASSPHRASE", "")
	clean.add(func() {
		s.setEnv("CREDBROKER_NO_AUTOSTART", "1") // the cleanup starts no daemon
		for _, args := range [][]string{{"remove", names.base, "--yes"}, {"mfa", "reset", names.base}} {
			if _, err := s.run(bin, sec, "", args...); err != nil {
				fmt.Fprintf(os.Stderr, "bench: cleaning the keyctl keyring: %v\n", err)
			}
		}
	})
	return coldHerd(bin, s, names, motoURL, proxy, n, sec, clean)
}
