package sandbox

import (
	"slices"
	"strconv"
	"strings"

	"github.com/credbroker/credbroker/policy"
)

type positionXML struct {
	Line   int `xml:"Line"`
	Column int `xml:"Column"`
}

type statementXML struct {
	SourcePolicyID   string      `xml:"SourcePolicyId"`
	SourcePolicyType string      `xml:"SourcePolicyType"`
	StartPosition    positionXML `xml:"StartPosition"`
}

type evaluationXML struct {
	EvalActionName       string                   `xml:"EvalActionName"`
	EvalResourceName     string                   `xml:"EvalResourceName"`
	EvalDecision         string                   `xml:"EvalDecision"`
	MatchedStatements    memberList[statementXML] `xml:"MatchedStatements"`
	MissingContextValues memberList[string]       `xml:"MissingContextValues"`
}

type simulationXML struct {
	EvaluationResults memberList[evaluationXML] `xml:"EvaluationResults"`
	IsTruncated       bool                      `xml:"IsTruncated"`
}

// simulation is what both simulate calls share: the question (actions,
// resources, context, resource policy, caller) and how each policy is
// named in MatchedStatements.
type simulation struct {
	set     policy.PolicySet
	sources map[string][2]string // policy Name -> SourcePolicyId, SourcePolicyType
}

// simulateCustomPolicy evaluates the policies given (PolicyInputList) as
// a caller's identity-based policies; CallerArn names the caller (the
// signer by default).
func (c *call) simulateCustomPolicy() (any, *apiError) {
	if apiErr := c.authorize("iam:SimulateCustomPolicy", "*"); apiErr != nil {
		return nil, apiErr
	}
	sim := &simulation{sources: map[string][2]string{}}
	if apiErr := sim.addInputs(c, "PolicyInputList", "IAM Policy", &sim.set.Identity); apiErr != nil {
		return nil, apiErr
	}
	if len(sim.set.Identity) == 0 {
		return nil, validationNull("policyInputList")
	}
	return c.runSimulation(sim, c.caller.arn)
}

// simulatePrincipalPolicy evaluates a user's or role's own policies
// (PolicySourceArn), with any PolicyInputList added to them.
func (c *call) simulatePrincipalPolicy() (any, *apiError) {
	source, apiErr := c.stringParam("PolicySourceArn", "policySourceArn", true, 20, 2048, "", nil)
	if apiErr != nil {
		return nil, apiErr
	}
	if apiErr := c.authorize("iam:SimulatePrincipalPolicy", source); apiErr != nil {
		return nil, apiErr
	}
	sim := &simulation{sources: map[string][2]string{}}
	var named []NamedPolicy
	var compiled []*policy.Policy // named, as the index parsed them
	kind := "user"
	if r := c.sn.ix.roles[source]; r != nil {
		named, compiled, kind = r.role.Policies, r.policies, "role"
	} else if u := c.userByARN(source); u != nil {
		named, compiled = u.user.Policies, u.policies
	} else {
		return nil, newError("NoSuchEntity", "The principal %s cannot be found.", clip(source, 128))
	}
	sim.set.Identity = slices.Clone(compiled) // addInputs appends: never into the index's slice
	for _, np := range named {
		sim.sources[np.Name] = [2]string{np.Name, kind}
	}
	if apiErr := sim.addInputs(c, "PolicyInputList", "IAM Policy", &sim.set.Identity); apiErr != nil {
		return nil, apiErr
	}
	return c.runSimulation(sim, source)
}

func (c *call) userByARN(arn string) *userEntry {
	for _, e := range c.sn.ix.users {
		if e.user.ARN() == arn {
			return e
		}
	}
	return nil
}

// addInputs parses the policies of a list parameter.
func (sim *simulation) addInputs(c *call, param, kind string, into *[]*policy.Policy) *apiError {
	for i, doc := range c.members(param) {
		id := param + "." + strconv.Itoa(i+1)
		p, err := policy.Parse(id, []byte(doc))
		if err != nil {
			return newError("InvalidInput", "%v", err)
		}
		*into = append(*into, p)
		sim.sources[id] = [2]string{id, kind}
	}
	return nil
}

// runSimulation answers every action on every resource (ResourceArns, "*"
// by default), with ContextEntries, ResourcePolicy, ResourceOwner,
// CallerArn and the permissions boundaries given.
func (c *call) runSimulation(sim *simulation, defaultCaller string) (any, *apiError) {
	actions := c.members("ActionNames")
	if len(actions) == 0 {
		return nil, validationNull("actionNames")
	}
	resources := c.members("ResourceArns")
	if len(resources) == 0 {
		resources = []string{"*"}
	}
	var bounds []*policy.Policy
	if apiErr := sim.addInputs(c, "PermissionsBoundaryPolicyInputList", "PermissionsBoundaryPolicy", &bounds); apiErr != nil {
		return nil, apiErr
	}
	if len(bounds) > 0 {
		sim.set.Boundary = bounds[0]
	}
	if doc := c.params.Get("ResourcePolicy"); doc != "" {
		p, err := policy.Parse("ResourcePolicy", []byte(doc))
		if err != nil {
			return nil, newError("InvalidInput", "%v", err)
		}
		sim.set.Resource = p
		sim.sources["ResourcePolicy"] = [2]string{"ResourcePolicy", "Resource Policy"}
	}
	callerARN := c.params.Get("CallerArn")
	if callerARN == "" {
		callerARN = defaultCaller
	}
	principal, err := policy.ParsePrincipal(callerARN)
	if err != nil {
		return nil, newError("InvalidInput", "Invalid CallerArn: %v", err)
	}
	ctx, apiErr := c.contextEntries()
	if apiErr != nil {
		return nil, apiErr
	}
	out := simulationXML{}
	out.EvaluationResults.Members = []evaluationXML{}
	for _, a := range actions {
		for _, res := range resources {
			r := sim.set.Evaluate(&policy.Request{Principal: principal, Action: a, Resource: res, ResourceAccount: c.params.Get("ResourceOwner"), Context: ctx})
			ev := evaluationXML{EvalActionName: a, EvalResourceName: res, EvalDecision: string(r.Decision)}
			ev.MatchedStatements.Members, ev.MissingContextValues.Members = []statementXML{}, []string{}
			for _, m := range r.Matched {
				src := sim.sources[m.Policy]
				if src[0] == "" {
					src = [2]string{m.Policy, strings.ToLower(m.Kind.String())}
				}
				ev.MatchedStatements.Members = append(ev.MatchedStatements.Members, statementXML{
					SourcePolicyID: src[0], SourcePolicyType: src[1], StartPosition: positionXML{m.Pos.Line, m.Pos.Col},
				})
			}
			out.EvaluationResults.Members = append(out.EvaluationResults.Members, ev)
		}
	}
	return out, nil
}

// contextEntries reads ContextEntries.member.N.{ContextKeyName,
// ContextKeyValues.member.M, ContextKeyType}; a *List type is multivalued.
func (c *call) contextEntries() (*policy.Context, *apiError) {
	ctx := policy.NewContext()
	for i := 1; ; i++ {
		prefix := "ContextEntries.member." + strconv.Itoa(i)
		name := c.params.Get(prefix + ".ContextKeyName")
		if name == "" {
			return ctx, nil
		}
		values := c.members(prefix + ".ContextKeyValues")
		if strings.HasSuffix(c.params.Get(prefix+".ContextKeyType"), "List") {
			ctx.SetMulti(name, values...)
		} else if len(values) > 0 {
			ctx.Set(name, values[0])
		}
	}
}
