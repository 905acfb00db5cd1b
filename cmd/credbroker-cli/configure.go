package main

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/spf13/cobra"

	"github.com/credbroker/credbroker/keystore"
	"github.com/credbroker/credbroker/profile"
	"github.com/credbroker/credbroker/wire"
)

func newConfigureCmd(a *app) *cobra.Command {
	var force bool
	c := &cobra.Command{
		Use:   "configure PROFILE",
		Short: "Add credential_process for PROFILE to ~/.aws/config ($AWS_CONFIG_FILE)",
		Long: `Point the AWS CLI and SDKs at credbroker for PROFILE: add

  credential_process = credbroker credential-process --profile PROFILE

to its section of the AWS config file ($AWS_CONFIG_FILE, else ~/.aws/config),
making the section (and the file) when there is none, with the profile's
region from credbroker's config when the section has no region of its own
(the SDKs read it from the AWS config). Everything else in the
file is kept as it is; the file is replaced in one step (a reader sees the old
or the new one), keeps its mode, and a symlink to it stays a symlink.

A section the SDKs would take other credentials from is left alone, with a
line saying why: static keys (aws_access_key_id), role_arn (the AWS CLI would
assume the role itself), sso_*, credential_source or web_identity_token_file.
A credential_process that runs something else is replaced only with --force.`,
		Example: "  credbroker configure prod\n  AWS_PROFILE=prod aws sts get-caller-identity",
		Args: func(c *cobra.Command, args []string) error {
			if len(args) != 1 {
				return usageError{c, "configure takes one PROFILE"}
			}
			if err := profile.ValidProfileName(args[0]); err != nil {
				return usageError{c, err.Error()}
			}
			return nil
		},
		RunE: func(c *cobra.Command, args []string) error {
			return a.configure(args[0], force)
		},
	}
	c.Flags().BoolVar(&force, "force", false, "replace a credential_process that runs another program or profile")
	return c
}

// configure writes credential_process for name into the AWS config file.
func (a *app) configure(name string, force bool) error {
	if err := a.knownProfile(name); err != nil {
		return err
	}
	// The SDKs take the region from the AWS config, not from credbroker's:
	// the profile's region goes with credential_process when the section
	// has none.
	region := ""
	if own, err := a.ownConfig(); err == nil {
		if p := own.Profiles[name]; p != nil {
			region = p.Region
		}
	}
	path := wire.AWSConfigPath(a.getenv)
	if path == "" {
		return errors.New("no AWS config file to write: set HOME or AWS_CONFIG_FILE")
	}
	// A symlink (a dotfiles manager's) stays one: its target is written.
	if target, err := filepath.EvalSymlinks(path); err == nil {
		path = target
	}
	old, mode, err := readAWSConfig(path)
	if err != nil {
		return err
	}
	command, err := credentialProcessCommand(name)
	if err != nil {
		return err
	}
	updated, changed, withRegion, err := setCredentialProcess(old, path, name, command, region, force)
	if err != nil {
		return err
	}
	if !changed {
		fmt.Fprintf(a.stdout, "Profile %s in %s already runs: %s\n", name, path, command)
		return nil
	}
	if err := writeFileAtomic(path, []byte(updated), mode); err != nil {
		return fmt.Errorf("write %s: %w; it was left as it was", path, err)
	}
	fmt.Fprintf(a.stdout, "Added to [%s] in %s:\n  credential_process = %s\n", sectionName(name), path, command)
	if withRegion {
		fmt.Fprintf(a.stdout, "  region = %s\n", region)
	}
	fmt.Fprintf(a.stdout, "Try: aws sts get-caller-identity --profile %s\n", name)
	return nil
}

// knownProfile: name is a profile of credbroker's config (or the AWS
// config it reads too), or one with a key stored in the keyring.
func (a *app) knownProfile(name string) error {
	cfg, err := a.config()
	if err != nil {
		return err
	}
	names := cfg.Names()
	for _, n := range names {
		if n == name {
			return nil
		}
	}
	if keys, err := a.keystore(); err == nil {
		if items, err := keys.List(); err == nil {
			for _, it := range items {
				if it.Kind == keystore.KindAccessKey && it.Name == name {
					return nil
				}
			}
		}
	}
	return &profile.UnknownProfileError{Name: name, Known: names, ConfigPath: a.configPath()}
}

// readAWSConfig reads the AWS config file at path ("" and mode 0600 when
// there is none yet). A FIFO or device is refused, as every config file is.
func readAWSConfig(path string) (string, fs.FileMode, error) {
	f, err := profile.OpenRegular(path)
	if errors.Is(err, fs.ErrNotExist) {
		return "", 0o600, nil
	}
	if err != nil {
		return "", 0, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return "", 0, err
	}
	data, err := io.ReadAll(io.LimitReader(f, 1<<20+1))
	if err != nil {
		return "", 0, fmt.Errorf("read %s: %w", path, err)
	}
	if len(data) > 1<<20 {
		return "", 0, fmt.Errorf("%s is larger than 1 MiB: not an AWS config file; nothing was written", path)
	}
	return string(data), fi.Mode().Perm(), nil
}

// credentialProcessCommand is the credential_process line for name:
// "credbroker" when that name on PATH is this installation's program, else
// its full path.
func credentialProcessCommand(name string) (string, error) {
	exe, err := credbrokerPath()
	if err != nil {
		return "", err
	}
	prog := exe
	if onPath, err := exec.LookPath("credbroker"); err == nil {
		if resolved, err := filepath.EvalSymlinks(onPath); err == nil && resolved == exe {
			prog = "credbroker"
		}
	}
	return prog + " credential-process --profile " + name, nil
}

// sectionName is the AWS config section of a profile.
func sectionName(name string) string {
	if name == "default" {
		return "default"
	}
	return "profile " + name
}

var (
	sectionLine = regexp.MustCompile(`^\s*\[\s*([^\]]*?)\s*\]\s*(?:[#;].*)?$`)
	keyLine     = regexp.MustCompile(`^([A-Za-z0-9_.-]+)\s*=\s*(.*?)\s*$`)
)

// setCredentialProcess returns text with credential_process = command in
// name's section (and region = region when region is set and the section
// has none), whether that changed anything, and whether the region line
// was added. A section with other credentials the SDKs would use first is
// an error naming the line.
func setCredentialProcess(text, path, name, command, region string, force bool) (updated string, changed, withRegion bool, err error) {
	lines := strings.SplitAfter(text, "\n")
	if len(lines) > 0 && lines[len(lines)-1] == "" {
		lines = lines[:len(lines)-1]
	}
	header, existing := -1, -1
	in, hasRegion := false, false
	for i, l := range lines {
		if m := sectionLine.FindStringSubmatch(strings.TrimRight(l, "\r\n")); m != nil {
			fields := strings.Fields(m[1])
			in = (name == "default" && (len(fields) == 1 && fields[0] == "default")) ||
				(len(fields) == 2 && fields[0] == "profile" && fields[1] == name)
			if in && header < 0 {
				header = i
			}
			continue
		}
		if !in || strings.HasPrefix(l, " ") || strings.HasPrefix(l, "\t") {
			continue // another section, or a sub-property line
		}
		m := keyLine.FindStringSubmatch(strings.TrimRight(l, "\r\n"))
		if m == nil {
			continue
		}
		key := strings.ToLower(m[1])
		at := fmt.Sprintf("%s:%d: profile %s", path, i+1, name)
		switch {
		case key == "aws_access_key_id" || key == "aws_secret_access_key" || key == "aws_session_token":
			return "", false, false, fmt.Errorf("%s has a static key (%s): the SDKs would use it and never run credential_process; store the key with credbroker add %s, delete those lines, then run this again", at, key, name)
		case key == "role_arn":
			return "", false, false, &profile.SelfReferenceError{Profile: name, File: path, Line: i + 1}
		case key == "credential_source" || key == "web_identity_token_file" || strings.HasPrefix(key, "sso_"):
			return "", false, false, fmt.Errorf("%s gets credentials from %s, which the AWS CLI uses before credential_process; use another profile name for credbroker's", at, key)
		case key == "region":
			hasRegion = true
		case key == "credential_process":
			if m[2] == command {
				return text, false, false, nil
			}
			if !force {
				return "", false, false, fmt.Errorf("%s already has credential_process = %s; run with --force to replace it", at, m[2])
			}
			existing = i
		}
	}
	newline := "\n"
	if strings.Contains(text, "\r\n") {
		newline = "\r\n"
	}
	line := "credential_process = " + command + newline
	if withRegion = region != "" && !hasRegion; withRegion {
		line += "region = " + region + newline
	}
	switch {
	case existing >= 0:
		lines[existing] = line
	case header >= 0:
		if !strings.HasSuffix(lines[header], "\n") {
			lines[header] += newline // the file ended with the header
		}
		lines = append(lines[:header+1], append([]string{line}, lines[header+1:]...)...)
	default:
		if n := len(lines); n > 0 {
			if !strings.HasSuffix(lines[n-1], "\n") {
				lines[n-1] += newline
			}
			lines = append(lines, newline)
		}
		lines = append(lines, "["+sectionName(name)+"]"+newline, line)
	}
	return strings.Join(lines, ""), true, withRegion, nil
}

// writeFileAtomic replaces path with data in one step (a temporary file in
// the same folder, synced, then renamed over it), with mode; the folder is
// made (0700) when missing.
func writeFileAtomic(path string, data []byte, mode fs.FileMode) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".credbroker-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // after a successful rename, nothing is there
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Chmod(mode); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
