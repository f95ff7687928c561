import * as pulumi from "@pulumi/pulumi";

/** What a target reports back, the same on every target: the groups' outputs, and each part's running name. */
export interface TargetRun {
    /** Every group's declared outputs, by name (grafanaAdminPassword, appImage, …). */
    readonly outputs: Readonly<Record<string, pulumi.Output<string>>>;
    /** The Docker name of each part's container (one host) or service (Swarm), by part name. */
    readonly names: Readonly<Record<string, pulumi.Output<string>>>;
}
