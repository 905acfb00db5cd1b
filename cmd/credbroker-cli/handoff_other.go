//go:build !unix

package main

const handoffVar = "CREDBROKER_PASSPHRASE_FD"

func environHas(string) bool { return false }

func reexecWithPassphrase(string) error { return nil }

func (a *app) takePassphraseHandoff() error { return nil }
