package keystore

import "testing"

func TestMain(m *testing.M) {
	stop := stopAutolaunchedBus()
	defer stop()
	m.Run()
}
