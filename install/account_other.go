//go:build !linux

package install

// The system account and the executable checks belong to the Linux system
// unit (User=credbroker, ProtectHome=, PrivateTmp=); on other platforms the
// service runs under the service manager's default account and nothing
// hides the executable.

type systemAccount struct{}

func newSystemAccount() *systemAccount { return &systemAccount{} }

func (*systemAccount) ensure() (created bool, err error) { return false, nil }

func (*systemAccount) describe() string { return "" }

func checkSystemExecutable(string) error { return nil }
