package keystore_test

import (
	"errors"
	"fmt"

	"github.com/99designs/keyring"

	"github.com/credbroker/credbroker/keystore"
)

func ExampleStore() {
	// An in-memory keyring, as in aws-vault's examples; Open picks a real
	// backend from a Config.
	s := keystore.New(keyring.NewArrayKeyring(nil))

	// The AWS documentation's example key pair.
	key := keystore.AccessKey{
		AccessKeyID:     "AKIAIOSFODNN7EXAMPLE",
		SecretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
	}
	if err := s.PutAccessKey("prod", key); err != nil {
		fmt.Println(err)
		return
	}
	if err := s.Put(keystore.KindState, "arn:aws:iam::123456789012:mfa/alice", []byte("59040877")); err != nil {
		fmt.Println(err)
		return
	}

	got, err := s.AccessKey("prod")
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(got) // never the secret

	items, err := s.List()
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, it := range items {
		fmt.Println(it.Kind, it.Name)
	}

	_, err = s.Get(keystore.KindTOTPSeed, "prod")
	fmt.Println(errors.Is(err, keystore.ErrNotFound), err)
	// Output:
	// AccessKey{****************MPLE}
	// access-key prod
	// state arn:aws:iam::123456789012:mfa/alice
	// true get totp-seed "prod": not found
}
