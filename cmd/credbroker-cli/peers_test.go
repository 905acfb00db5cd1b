//go:build unix

package main

import (
	"sync"

	"github.com/credbroker/credbroker/internal/stspeer"
)

var (
	sharedMotoOnce sync.Once
	sharedMoto     *stspeer.Moto
	sharedMotoErr  error
)

// theMoto is one moto_server shared by the scripts of a test run; each
// script creates its own IAM users and talks to it through its own
// counting proxy, so they don't interfere.
func theMoto() (*stspeer.Moto, error) {
	sharedMotoOnce.Do(func() { sharedMoto, sharedMotoErr = stspeer.StartMoto(nil) })
	return sharedMoto, sharedMotoErr
}
