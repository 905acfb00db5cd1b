package broker

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"github.com/credbroker/credbroker/keystore"
	"github.com/credbroker/credbroker/mfa"
	"github.com/credbroker/credbroker/profile"
)

// sessionStore seals cached credentials in the keystore (cache.Persistence).
type sessionStore struct{ keys *keystore.Store }

func (s sessionStore) Load(name string) ([]byte, bool, error) {
	data, err := s.keys.Get(keystore.KindSession, name)
	if errors.Is(err, keystore.ErrNotFound) {
		return nil, false, nil
	}
	return data, err == nil, err
}

func (s sessionStore) Save(name string, data []byte) error {
	return s.keys.Put(keystore.KindSession, name, data)
}

func (s sessionStore) Delete(name string) error { return s.keys.Delete(keystore.KindSession, name) }

// StepStore keeps the last MFA time step used per device in the keystore
// (mfa.StepStore), so that a daemon restart, or `credbroker totp code` in
// another process, does not hand out a code already used. With LockDir,
// reading and recording a step is one atomic step across processes too.
type StepStore struct {
	Keys *keystore.Store
	// LockDir, when set, holds one lock file per device (mfa.DeviceLocker),
	// so that reading and recording a step is one step across processes:
	// the daemon, another daemon, `credbroker totp code`.
	LockDir string
}

func stepItem(device string) string { return "mfa-step/" + device }

// LastStep implements mfa.StepStore.
func (s StepStore) LastStep(device string) (uint64, bool, error) {
	data, err := s.Keys.Get(keystore.KindState, stepItem(device))
	if errors.Is(err, keystore.ErrNotFound) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, err
	}
	step, err := strconv.ParseUint(string(data), 10, 64)
	if err != nil {
		// A damaged record must not block MFA; the worst case is one
		// code AWS refuses.
		return 0, false, nil
	}
	return step, true, nil
}

// Reset forgets the last step used for device (after a clock that was
// ahead has been set right: credbroker mfa reset).
func (s StepStore) Reset(device string) error {
	err := s.Keys.Delete(keystore.KindState, stepItem(device))
	if errors.Is(err, keystore.ErrNotFound) {
		return nil
	}
	return err
}

// SetLastStep implements mfa.StepStore.
func (s StepStore) SetLastStep(device string, step uint64) error {
	return s.Keys.Put(keystore.KindState, stepItem(device), []byte(strconv.FormatUint(step, 10)))
}

// SeedCodes is the default CodeSource: a TOTP seed stored for a profile of
// the chain (the profile asked for first, then down to the source), else a
// human at the terminal.
type SeedCodes struct {
	Keys      *keystore.Store
	Generator *mfa.Generator
	// Prompter may be nil: then a missing seed is ErrMFARequired.
	Prompter mfa.Prompter
}

// Code implements CodeSource.
func (c *SeedCodes) Code(ctx context.Context, chain *profile.RoleChain) (string, error) {
	seed, found, err := c.Seed(chain.Path)
	if err != nil {
		return "", err
	}
	if found {
		return c.generate(ctx, chain, seed)
	}
	if c.Prompter == nil {
		return "", ErrMFARequired
	}
	code, err := c.Prompter.PromptCode(ctx, chain.MFASerial)
	if errors.Is(err, mfa.ErrNoTerminal) {
		return "", fmt.Errorf("%w: no TOTP seed is stored and there is no terminal to ask on", ErrMFARequired)
	}
	return code, err
}

// generate makes a code for chain's device from seed, a stored one.
func (c *SeedCodes) generate(ctx context.Context, chain *profile.RoleChain, seed mfa.Seed) (string, error) {
	return c.Generator.Code(withMFADevice(ctx, chain.MFASerial), chain.MFASerial, seed)
}

// Unattended implements CodeSource: a seed is stored for the chain's
// device, so codes are made without a human.
func (c *SeedCodes) Unattended(chain *profile.RoleChain) bool {
	_, found, err := c.Seed(chain.Path)
	return err == nil && found
}

// Seed finds the first stored seed among profiles.
func (c *SeedCodes) Seed(profiles []string) (mfa.Seed, bool, error) {
	for _, p := range profiles {
		data, err := c.Keys.Get(keystore.KindTOTPSeed, p)
		if errors.Is(err, keystore.ErrNotFound) {
			continue
		}
		if err != nil {
			return mfa.Seed{}, false, fmt.Errorf("read TOTP seed of profile %s: %w", p, err)
		}
		seed, err := mfa.ParseSeed(string(data))
		if err != nil {
			return mfa.Seed{}, false, &DamagedSeedError{Profile: p, Err: err}
		}
		return seed, true, nil
	}
	return mfa.Seed{}, false, nil
}

// DamagedSeedError: a stored TOTP seed no longer parses.
type DamagedSeedError struct {
	Profile string
	Err     error
}

func (e *DamagedSeedError) Error() string {
	return fmt.Sprintf("stored TOTP seed of profile %s is damaged: %v", e.Profile, e.Err)
}

// Is makes errors.Is(err, ErrDamagedSeed) work.
func (e *DamagedSeedError) Is(target error) bool { return target == ErrDamagedSeed }
