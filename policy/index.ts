// The policy pack: every check is a pure function in containerPolicies.ts (unit-tested in
// test/policy.test.ts); this file only hands them to the Pulumi policy engine.
import { PolicyPack } from "@pulumi/policy";
import { guardrailPolicies } from "./containerPolicies";

new PolicyPack("clinical-bdd-guardrails", { enforcementLevel: "mandatory", policies: guardrailPolicies() });
