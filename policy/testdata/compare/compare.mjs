// Evaluates developer.json against requests.json with @cloud-copilot/iam-simulate,
// checks that it reaches the decisions policy's own tests expect, and times the
// benchmark request (the first one) the way BenchmarkEvaluate10Statements does.
// See README.md. Not run by go test.
import { readFileSync } from 'node:fs'
import { loadPolicy } from '@cloud-copilot/iam-policy'
import { runUnsafeSimulation } from '@cloud-copilot/iam-simulate'
// The core engine is not exported; reach it by path to time evaluation alone,
// with the policy loaded once, as the Go benchmark does.
import { authorize } from './node_modules/@cloud-copilot/iam-simulate/dist/esm/core_engine/CoreSimulatorEngine.js'
import { AwsRequestImpl } from './node_modules/@cloud-copilot/iam-simulate/dist/esm/request/request.js'
import { RequestContextImpl } from './node_modules/@cloud-copilot/iam-simulate/dist/esm/requestContext.js'
import { DiscoveryContextKeyConstraints } from './node_modules/@cloud-copilot/iam-simulate/dist/esm/context_keys/discoveryContextKeyConstraints.js'

const here = new URL('.', import.meta.url)
const policyDoc = JSON.parse(readFileSync(new URL('developer.json', here)))
const requests = JSON.parse(readFileSync(new URL('requests.json', here)))
const decisions = { Allowed: 'allowed', ExplicitlyDenied: 'explicitDeny', ImplicitlyDenied: 'implicitDeny' }

function simulation(r) {
  return {
    identityPolicies: [{ name: 'developer.json', policy: policyDoc }],
    serviceControlPolicies: [],
    resourceControlPolicies: [],
    resourcePolicy: undefined,
    request: {
      principal: r.principal,
      action: r.action,
      resource: { resource: r.resource, accountId: r.resourceAccount },
      contextVariables: r.context
    }
  }
}

let disagreements = 0
for (const r of requests) {
  const result = runUnsafeSimulation(simulation(r), {})
  const got = decisions[result] ?? String(result)
  const mark = got === r.want ? 'agree   ' : 'DISAGREE'
  if (got !== r.want) disagreements++
  console.log(`${mark} ${r.name}: iam-simulate ${got}, policy ${r.want}`)
}

// Timing: the first request, policy loaded once.
const r = requests[0]
const loaded = [loadPolicy(policyDoc, { name: 'developer.json' })]
const request = new AwsRequestImpl(r.principal, { resource: r.resource, accountId: r.resourceAccount }, r.action, new RequestContextImpl(r.context))
const params = { simulationMode: 'Strict', discoveryContextKeyConstraints: new DiscoveryContextKeyConstraints([]) }
const evaluate = () => authorize({
  request,
  sessionPolicy: undefined,
  identityPolicies: loaded,
  serviceControlPolicies: [],
  resourceControlPolicies: [],
  resourcePolicy: undefined,
  permissionBoundaries: undefined,
  vpcEndpointPolicies: undefined,
  simulationParameters: params,
  serviceSettings: { s3: {} }
})
if (evaluate().result !== 'Allowed') throw new Error('benchmark request not allowed: ' + evaluate().result)

function time(name, fn) {
  for (let i = 0; i < 2000; i++) fn() // warm up the JIT
  let n = 1000
  for (;;) {
    const start = process.hrtime.bigint()
    for (let i = 0; i < n; i++) fn()
    const ns = Number(process.hrtime.bigint() - start)
    if (ns > 2e9) {
      console.log(`${name}\t${n} ops\t${(ns / n).toFixed(0)} ns/op\t${Math.round(1e9 / (ns / n))} ops/s`)
      return
    }
    n *= 2
  }
}
time('iam-simulate authorize (policy loaded once)', evaluate)
time('iam-simulate runUnsafeSimulation (loads the policy per call)', () => runUnsafeSimulation(simulation(r), {}))
process.exitCode = disagreements > 0 ? 1 : 0
