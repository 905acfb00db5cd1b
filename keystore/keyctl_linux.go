package keystore

import "github.com/99designs/keyring"

// keyCtlPerm gives possessor and user all permissions on keyctl items.
const keyCtlPerm = keyring.KEYCTL_PERM_ALL<<keyring.KEYCTL_PERM_PROCESS | keyring.KEYCTL_PERM_ALL<<keyring.KEYCTL_PERM_USER
