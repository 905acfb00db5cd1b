//go:build !unix

package keystore

// dirLock does nothing where flock(2) is missing: processes sharing a
// keyring folder there are not kept apart during a migration.
type dirLock struct{}

func lockFolder(string) (*dirLock, error) { return &dirLock{}, nil }
func (*dirLock) exclusive() error         { return nil }
func (*dirLock) shared() error            { return nil }
func (*dirLock) unlock()                  {}
