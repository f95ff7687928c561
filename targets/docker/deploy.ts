/**
 * How the platform runs on one Docker host: containers on a bridge network, files pushed into
 * running containers and reloaded (LiveFiles), replicas rolled new-before-old; every group
 * through one generic runner (./serviceGroup.ts).
 */
import * as pulumi from "@pulumi/pulumi";
import { Settings } from "../../components/platform/settings";
import { ServiceGroup } from "../../components/platform/service";
import { stackLabel } from "../../components/platform/workload";
import { TargetRun } from "../targetRun";
import { PlatformNetwork } from "./platformNetwork";
import { DockerStackContext, runGroupOnDocker } from "./serviceGroup";

export function deployOnDocker(settings: Settings, groups: readonly ServiceGroup[]): TargetRun {
    // The operator's verbs (cli/) find the stack's containers by these labels.
    const stackLabels = { [stackLabel]: pulumi.getStack() };
    const network = new PlatformNetwork("platform", { labels: stackLabels });
    const context: DockerStackContext = {
        placement: { networkName: network.name, logs: settings.logs, labels: stackLabels },
        volumes: new Map(),
        groups: new Map(),
    };
    const outputs: Record<string, pulumi.Output<string>> = {};
    const names: Record<string, pulumi.Output<string>> = {};
    for (const group of groups) {
        const run = runGroupOnDocker(group, context);
        Object.assign(outputs, run.outputs);
        for (const [part, container] of run.containers) names[part] = container.name;
    }
    return { outputs, names };
}
