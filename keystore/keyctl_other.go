//go:build !linux

package keystore

// keyCtlPerm: keyctl exists only on Linux.
const keyCtlPerm = 0
