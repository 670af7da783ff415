// The veza-secrets policy pack: `pulumi preview --policy-pack policy`. The policies live in
// policies.ts (tests import that file, never this one: constructing a PolicyPack starts its
// gRPC server and keeps the process alive).
import { PolicyPack } from "@pulumi/policy";
import { POLICIES } from "./policies";

new PolicyPack("veza-secrets", {
  description: "The secrets spec's Security Best Practices for the veza-secrets stacks.",
  policies: POLICIES,
});
