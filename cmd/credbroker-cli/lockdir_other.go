//go:build !unix

package main

// othersFolder: folders are per user elsewhere (named pipes, Windows).
func othersFolder(string) bool { return false }
