/**
 * How the platform runs on a Docker Swarm cluster: the same service groups as on one host, as
 * services on an overlay network, their files as content-named configs and secrets, every
 * change a rolling service update that `pulumi up` waits for. Each part's scheduling is
 * decided from its data (./scheduling.ts). Prerequisites on the cluster (docs/swarm.md): one
 * node labelled clinicalbdd.data=true (the data volumes live there) and, with
 * swarmPublishMode=host, the nodes labelled clinicalbdd.edge=true, where the edge proxy
 * publishes 80/443 and passes connections to the front door.
 */
import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import { Settings } from "../../components/platform/settings";
import { ServiceGroup } from "../../components/platform/service";
import { stackLabel } from "../../components/platform/workload";
import { TargetRun } from "../targetRun";
import { runOnSwarm, SwarmPlacement } from "./runner";
import { swarmRunOptions } from "./scheduling";

class SwarmStack extends pulumi.ComponentResource {
    constructor(name: string) {
        super("clinicalbdd:platform:SwarmStack", name, {});
    }
}

export function deployOnSwarm(settings: Settings, groups: readonly ServiceGroup[]): TargetRun {
    const stack = pulumi.getStack();
    const parent = new SwarmStack("platform");
    const labels = { [stackLabel]: stack };
    // Attachable, so the operator's one-shot containers (restore) can join it.
    const network = new docker.Network("platform-overlay", { driver: "overlay", attachable: true, labels: [{ label: stackLabel, value: stack }] }, { parent });
    const placement: SwarmPlacement = { networkId: network.id, logs: settings.logs, stack, labels };
    const outputs: Record<string, pulumi.Output<string>> = {};
    const names: Record<string, pulumi.Output<string>> = {};
    for (const group of groups) {
        // Volumes need no resource here: a node creates a named volume on a task's first mount.
        const declared = group.declare(parent);
        Object.assign(outputs, declared.outputs);
        for (const part of declared.parts) {
            if (part.onlyOn === "docker") continue;
            names[part.name] = runOnSwarm(part.name, part.workload, placement, swarmRunOptions(part), { parent }).name;
        }
    }
    return { outputs, names };
}
