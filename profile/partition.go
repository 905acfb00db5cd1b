package profile

import (
	"fmt"
	"strings"
)

// partition is an AWS partition: a separate set of regions with its own
// accounts, IAM and STS. Credentials of one partition are worthless in
// another, so a chain stays in one.
type partition struct {
	ID string
	// RegionPrefix is how its region names start; "" for aws, which takes
	// every region no other partition claims (as the SDKs'
	// partitions.json falls back to aws).
	RegionPrefix string
	// DefaultRegion is the region credbroker calls STS in when nothing
	// names one.
	DefaultRegion string
}

// partitions follows the SDKs' partitions.json (aws-sdk-go-v2
// internal/endpoints/awsrulesfn): the region patterns there are
// ^us-gov-\w+-\d+$, ^us-iso-..., ^us-isob-..., ^us-isof-..., ^eu-isoe-...,
// ^cn-..., ^eusc-(de)-...; the prefixes below select the same regions
// (longer prefixes first). For aws-cn the SDK's implicit global region is
// cn-northwest-1; credbroker calls STS in cn-north-1, the first China
// region, which serves STS as well.
var partitions = []partition{
	{"aws-us-gov", "us-gov-", "us-gov-west-1"},
	{"aws-iso-b", "us-isob-", "us-isob-east-1"},
	{"aws-iso-f", "us-isof-", "us-isof-south-1"},
	{"aws-iso", "us-iso-", "us-iso-east-1"},
	{"aws-iso-e", "eu-isoe-", "eu-isoe-west-1"},
	{"aws-cn", "cn-", "cn-north-1"},
	{"aws-eusc", "eusc-", "eusc-de-east-1"},
	{"aws", "", "us-east-1"},
}

// regionPartition is the partition a region belongs to.
func regionPartition(region string) partition {
	for _, p := range partitions {
		if p.RegionPrefix != "" && strings.HasPrefix(region, p.RegionPrefix) {
			return p
		}
	}
	return partitions[len(partitions)-1]
}

// partitionByID returns the partition with the id, if there is one.
func partitionByID(id string) (partition, bool) {
	for _, p := range partitions {
		if p.ID == id {
			return p, true
		}
	}
	return partition{}, false
}

// arnPartition is the partition field of an ARN ("" when s is not an
// ARN, as a hardware MFA serial is not).
func arnPartition(s string) string {
	rest, ok := strings.CutPrefix(s, "arn:")
	if !ok {
		return ""
	}
	id, _, _ := strings.Cut(rest, ":")
	return id
}

// checkARNPartition says when an ARN names no partition credbroker knows.
func checkARNPartition(key, arn string) error {
	id := arnPartition(arn)
	if id == "" {
		return nil
	}
	if _, ok := partitionByID(id); !ok {
		known := make([]string, len(partitions))
		for i, p := range partitions {
			known[i] = p.ID
		}
		return fmt.Errorf("%s %q names partition %s, which is not an AWS partition (%s)", key, clip(arn), id, strings.Join(known, ", "))
	}
	return nil
}

// clue is something on a chain that names a partition.
type clue struct {
	what, partition string
	at              setting
}

// place sets the chain's Partition and Region. The role ARNs and the MFA
// device's ARN name the partition (STS never crosses one: a key of aws
// cannot assume a role of aws-cn); the region, when one is set, must be in
// it, or names it when nothing else does. Without a region the chain calls
// STS in the partition's default region.
func (r *Resolver) place(chain *RoleChain, roles []*Profile, mfaFrom, regionFrom *Profile) error {
	var clues []clue
	for _, rp := range roles {
		clues = append(clues, clue{fmt.Sprintf("role_arn %s (profile %s)", rp.RoleARN, rp.Name), arnPartition(rp.RoleARN), rp.at["role_arn"]})
	}
	if mfaFrom != nil && arnPartition(mfaFrom.MFASerial) != "" {
		clues = append(clues, clue{fmt.Sprintf("mfa_serial %s (profile %s)", mfaFrom.MFASerial, mfaFrom.Name), arnPartition(mfaFrom.MFASerial), mfaFrom.at["mfa_serial"]})
	}
	part, named := partitions[len(partitions)-1], false
	for i, c := range clues {
		if i == 0 {
			if p, ok := partitionByID(c.partition); ok {
				part, named = p, true
			}
			continue
		}
		if c.partition != clues[0].partition {
			return &ConfigError{Path: c.at.file, Line: c.at.line, Msg: fmt.Sprintf("profile %s: %s is in partition %s but %s is in %s: a chain stays in one partition; fix one of them",
				chain.Profile, clues[0].what, clues[0].partition, c.what, c.partition)}
		}
	}

	region, env := "", ""
	switch {
	case regionFrom != nil:
		region = regionFrom.Region
	case r.Getenv("AWS_REGION") != "":
		region, env = r.Getenv("AWS_REGION"), "AWS_REGION"
	case r.Getenv("AWS_DEFAULT_REGION") != "":
		region, env = r.Getenv("AWS_DEFAULT_REGION"), "AWS_DEFAULT_REGION"
	}
	if region == "" {
		chain.Partition, chain.Region = part.ID, part.DefaultRegion
		return nil
	}
	rp := regionPartition(region)
	if named && rp.ID != part.ID {
		first := clues[0]
		if env != "" {
			return &ConfigError{Path: first.at.file, Line: first.at.line, Msg: fmt.Sprintf("profile %s: %s is in partition %s but %s=%s is in %s: set %s to an %s region such as %s, or region in [profile %s]",
				chain.Profile, first.what, part.ID, env, region, rp.ID, env, part.ID, part.DefaultRegion, chain.Profile)}
		}
		at := regionFrom.at["region"]
		return &ConfigError{Path: at.file, Line: at.line, Msg: fmt.Sprintf("profile %s: %s is in partition %s but region %s (profile %s) is in %s: set region in [profile %s] to an %s region such as %s",
			chain.Profile, first.what, part.ID, region, regionFrom.Name, rp.ID, regionFrom.Name, part.ID, part.DefaultRegion)}
	}
	chain.Partition, chain.Region = rp.ID, region
	return nil
}
