package main

import (
	"fmt"
	"slices"
	"strings"

	"github.com/spf13/cobra"
)

// completeProfiles makes the shell complete profile names, from the
// user's config files (credbroker's and ~/.aws/config, as every command
// reads them), wherever a command takes one: a first argument its usage
// names PROFILE (every argument, for PROFILE...), and every --profile
// flag. It runs on the finished command tree, so commands added later
// get it too. Completing never opens the keyring (which may ask for a
// passphrase) and never talks to the daemon.
//
// cobra's own `credbroker completion bash|zsh|fish|powershell` prints the
// script that asks `credbroker __complete` for these.
func (a *app) completeProfiles(root *cobra.Command) {
	root.InitDefaultCompletionCmd()
	for _, c := range root.Commands() {
		if c.Name() == "completion" {
			// cobra's shows its help, exit 0, for a shell it has no
			// script for: say so, exit 1.
			c.RunE = func(c *cobra.Command, args []string) error {
				if len(args) == 0 {
					return c.Help()
				}
				return usageError{c, fmt.Sprintf("no completion for shell %q: want bash, zsh, fish or powershell", args[0])}
			}
			c.Args = cobra.ArbitraryArgs
		}
	}
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		if c.Flags().Lookup("profile") != nil {
			_ = c.RegisterFlagCompletionFunc("profile", func(_ *cobra.Command, _ []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
				return a.profileNames(nil, toComplete), cobra.ShellCompDirectiveNoFileComp
			})
		}
		if c.ValidArgsFunction == nil {
			if first, every := profileArgs(c.Use); first {
				c.ValidArgsFunction = func(_ *cobra.Command, args []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
					switch {
					case every:
						return a.profileNames(args, toComplete), cobra.ShellCompDirectiveNoFileComp
					case len(args) == 0:
						return a.profileNames(nil, toComplete), cobra.ShellCompDirectiveNoFileComp
					case strings.Contains(c.Use, "CMD"):
						return nil, cobra.ShellCompDirectiveDefault // exec PROFILE CMD...: the shell's own
					default:
						return nil, cobra.ShellCompDirectiveNoFileComp
					}
				}
			}
		}
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(root)
}

// profileArgs reads a command's usage line: whether its first argument is
// a PROFILE, and whether every argument is (PROFILE...). Flags in it are
// passed over with their values: "[--server]", "[--format env|json]",
// "--profile PROFILE" (a flag's value, not an argument).
func profileArgs(use string) (first, every bool) {
	fields := strings.Fields(use)
	for i := 1; i < len(fields); i++ {
		f := fields[i]
		if strings.HasPrefix(strings.TrimLeft(f, "["), "-") {
			depth := strings.Count(f, "[") - strings.Count(f, "]")
			if depth == 0 && !strings.HasPrefix(f, "[") && f != "--" {
				i++ // --flag VALUE
			}
			for ; depth > 0 && i+1 < len(fields); i++ {
				depth += strings.Count(fields[i+1], "[") - strings.Count(fields[i+1], "]")
			}
			continue
		}
		arg := strings.Trim(f, "[]")
		if !strings.HasPrefix(arg, "PROFILE") {
			return false, false
		}
		return true, strings.HasSuffix(arg, "...")
	}
	return false, false
}

// profileNames are the profiles of the user's config files that start
// with prefix, less those already given. A config that cannot be read
// completes nothing (the command itself says why).
func (a *app) profileNames(given []string, prefix string) []cobra.Completion {
	cfg, err := a.config()
	if err != nil {
		return nil
	}
	var names []cobra.Completion
	for _, n := range cfg.Names() {
		if strings.HasPrefix(n, prefix) && !slices.Contains(given, n) {
			names = append(names, n)
		}
	}
	return names
}
