package profile

import (
	"errors"
	"strings"
	"testing"
)

func TestRegionPartition(t *testing.T) {
	t.Parallel()
	for region, want := range map[string]string{
		"us-east-1": "aws", "eu-west-1": "aws", "ap-southeast-7": "aws", "mx-central-1": "aws", "il-central-1": "aws",
		"cn-north-1": "aws-cn", "cn-northwest-1": "aws-cn",
		"us-gov-west-1": "aws-us-gov", "us-gov-east-1": "aws-us-gov",
		"us-iso-east-1": "aws-iso", "us-iso-west-1": "aws-iso",
		"us-isob-east-1":  "aws-iso-b",
		"eu-isoe-west-1":  "aws-iso-e",
		"us-isof-south-1": "aws-iso-f", "us-isof-east-1": "aws-iso-f",
		"eusc-de-east-1": "aws-eusc",
		// Unknown names fall back to aws, as partitions.json does.
		"xx-nowhere-1": "aws",
	} {
		if got := regionPartition(region).ID; got != want {
			t.Errorf("regionPartition(%s) = %s, want %s", region, got, want)
		}
	}
	// Every partition's default region is its own.
	for _, p := range partitions {
		if got := regionPartition(p.DefaultRegion).ID; got != p.ID {
			t.Errorf("%s's default region %s is in %s", p.ID, p.DefaultRegion, got)
		}
	}
}

func TestResolvePartitionAndRegion(t *testing.T) {
	t.Parallel()
	role := func(part string) string { return "arn:" + part + ":iam::123456789012:role/R" }
	for _, tc := range []struct {
		name, text string
		env        map[string]string
		partition  string
		region     string
	}{
		{"aws default", "[profile p]\n", nil, "aws", "us-east-1"},
		{"aws-cn role, no region", "[profile p]\nrole_arn = " + role("aws-cn") + "\n", nil, "aws-cn", "cn-north-1"},
		{"aws-us-gov role", "[profile p]\nrole_arn = " + role("aws-us-gov") + "\n", nil, "aws-us-gov", "us-gov-west-1"},
		{"aws-iso role", "[profile p]\nrole_arn = " + role("aws-iso") + "\n", nil, "aws-iso", "us-iso-east-1"},
		{"aws-iso-b role", "[profile p]\nrole_arn = " + role("aws-iso-b") + "\n", nil, "aws-iso-b", "us-isob-east-1"},
		{"aws-iso-e role", "[profile p]\nrole_arn = " + role("aws-iso-e") + "\n", nil, "aws-iso-e", "eu-isoe-west-1"},
		{"aws-iso-f role", "[profile p]\nrole_arn = " + role("aws-iso-f") + "\n", nil, "aws-iso-f", "us-isof-south-1"},
		{"aws-eusc role", "[profile p]\nrole_arn = " + role("aws-eusc") + "\n", nil, "aws-eusc", "eusc-de-east-1"},
		{"MFA device names it", "[profile p]\nmfa_serial = arn:aws-cn:iam::123456789012:mfa/a\n", nil, "aws-cn", "cn-north-1"},
		{"hardware MFA names none", "[profile p]\nmfa_serial = GAHT12345678\nregion = us-gov-east-1\n", nil, "aws-us-gov", "us-gov-east-1"},
		{"region names it", "[profile p]\nregion = cn-northwest-1\n", nil, "aws-cn", "cn-northwest-1"},
		{"region matches role", "[profile p]\nrole_arn = " + role("aws-cn") + "\nregion = cn-northwest-1\n", nil, "aws-cn", "cn-northwest-1"},
		{"AWS_REGION", "[profile p]\n", map[string]string{"AWS_REGION": "us-gov-east-1", "AWS_DEFAULT_REGION": "eu-west-1"}, "aws-us-gov", "us-gov-east-1"},
		{"AWS_DEFAULT_REGION", "[profile p]\n", map[string]string{"AWS_DEFAULT_REGION": "eu-west-1"}, "aws", "eu-west-1"},
		// The profile's region beats the environment's, so an
		// environment in another partition is no conflict.
		{"profile region beats env", "[profile p]\nrole_arn = " + role("aws-cn") + "\nregion = cn-north-1\n", map[string]string{"AWS_REGION": "us-east-1"}, "aws-cn", "cn-north-1"},
		{"region inherited", "[profile s]\nregion = cn-northwest-1\n[profile p]\nrole_arn = " + role("aws-cn") + "\nsource_profile = s\n", nil, "aws-cn", "cn-northwest-1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := resolver(t, tc.text, []string{"p", "s"}, tc.env)
			c, err := r.Resolve("p")
			if err != nil {
				t.Fatal(err)
			}
			if c.Partition != tc.partition || c.Region != tc.region {
				t.Errorf("partition, region = %s, %s; want %s, %s", c.Partition, c.Region, tc.partition, tc.region)
			}
			if want := "partition:" + tc.partition; c.TrustDomain() != want {
				t.Errorf("TrustDomain = %s, want %s", c.TrustDomain(), want)
			}
		})
	}
}

// TestProfileRegionEveryPartition: each partition's regions are valid
// profile regions and name their partition.
func TestProfileRegionEveryPartition(t *testing.T) {
	t.Parallel()
	for _, p := range partitions {
		r := resolver(t, "[profile p]\nregion = "+p.DefaultRegion+"\n", []string{"p"}, nil)
		c, err := r.Resolve("p")
		if err != nil {
			t.Errorf("%s: %v", p.DefaultRegion, err)
			continue
		}
		if c.Partition != p.ID || c.Region != p.DefaultRegion {
			t.Errorf("region %s: partition %s, region %s", p.DefaultRegion, c.Partition, c.Region)
		}
	}
}

func TestResolvePartitionConflicts(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, text string
		env        map[string]string
		want       string
	}{
		{"role in aws-cn, profile region in aws", "[profile p]\nrole_arn = arn:aws-cn:iam::123456789012:role/R\nregion = us-east-1\n", nil,
			"/etc/credbroker/config:3: profile p: role_arn arn:aws-cn:iam::123456789012:role/R (profile p) is in partition aws-cn but region us-east-1 (profile p) is in aws: set region in [profile p] to an aws-cn region such as cn-north-1"},
		{"role in aws-cn, AWS_REGION in aws", "[profile p]\nrole_arn = arn:aws-cn:iam::123456789012:role/R\n", map[string]string{"AWS_REGION": "us-east-1"},
			"/etc/credbroker/config:2: profile p: role_arn arn:aws-cn:iam::123456789012:role/R (profile p) is in partition aws-cn but AWS_REGION=us-east-1 is in aws: set AWS_REGION to an aws-cn region such as cn-north-1, or region in [profile p]"},
		{"region inherited from the source", "[profile s]\nregion = us-gov-west-1\n[profile p]\nrole_arn = arn:aws:iam::123456789012:role/R\nsource_profile = s\n", nil,
			"/etc/credbroker/config:2: profile p: role_arn arn:aws:iam::123456789012:role/R (profile p) is in partition aws but region us-gov-west-1 (profile s) is in aws-us-gov: set region in [profile s] to an aws region such as us-east-1"},
		{"role and MFA device", "[profile s]\nmfa_serial = arn:aws:iam::123456789012:mfa/a\n[profile p]\nrole_arn = arn:aws-cn:iam::123456789012:role/R\nsource_profile = s\n", nil,
			"/etc/credbroker/config:2: profile p: role_arn arn:aws-cn:iam::123456789012:role/R (profile p) is in partition aws-cn but mfa_serial arn:aws:iam::123456789012:mfa/a (profile s) is in aws: a chain stays in one partition; fix one of them"},
		{"two roles", "[profile s]\nrole_arn = arn:aws-us-gov:iam::123456789012:role/S\n[profile p]\nrole_arn = arn:aws:iam::123456789012:role/R\nsource_profile = s\n", nil,
			"/etc/credbroker/config:2: profile p: role_arn arn:aws:iam::123456789012:role/R (profile p) is in partition aws but role_arn arn:aws-us-gov:iam::123456789012:role/S (profile s) is in aws-us-gov: a chain stays in one partition; fix one of them"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := resolver(t, tc.text, []string{"p", "s"}, tc.env)
			_, err := r.Resolve("p")
			var ce *ConfigError
			if !errors.As(err, &ce) || err.Error() != tc.want {
				t.Errorf("err = %v\nwant   %s", err, tc.want)
			}
		})
	}
	for _, text := range []string{
		"[profile p]\nrole_arn = arn:aws-mars:iam::123456789012:role/R\n",
		"[profile p]\nmfa_serial = arn:aws-mars:iam::123456789012:mfa/a\n",
	} {
		_, err := ParseConfig("cfg", strings.NewReader(text))
		if err == nil || !strings.Contains(err.Error(), "cfg:2: ") || !strings.Contains(err.Error(), "names partition aws-mars, which is not an AWS partition (aws-us-gov, aws-iso-b") {
			t.Errorf("err = %v", err)
		}
	}
}

func TestLocateRegion(t *testing.T) {
	t.Parallel()
	text := "[profile cn]\nmfa_serial = arn:aws-cn:iam::123456789012:mfa/a\n[profile gov]\nrole_arn = arn:aws-us-gov:iam::123456789012:role/R\n[profile own]\nregion = eu-west-1\n"
	for _, tc := range []struct {
		profile string
		env     map[string]string
		want    string
	}{
		{"cn", nil, "cn-north-1"},
		{"gov", nil, "us-gov-west-1"},
		{"own", map[string]string{"AWS_REGION": "us-west-2"}, "eu-west-1"},
		{"new", map[string]string{"AWS_REGION": "us-west-2"}, "us-west-2"},
		{"new", nil, "us-east-1"},
	} {
		r := resolver(t, text, nil, tc.env)
		region, _, err := r.Locate(tc.profile)
		if err != nil || region != tc.want {
			t.Errorf("Locate(%s) = %s, %v; want %s", tc.profile, region, err, tc.want)
		}
	}
}
