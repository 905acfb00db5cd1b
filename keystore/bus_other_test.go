//go:build !linux

package keystore

func stopAutolaunchedBus() (stop func()) { return func() {} }
