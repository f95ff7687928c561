import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import { engineCpus, goDuration } from "../engineForms";
import { LogSettings } from "../../components/platform/settings";
import { serviceLabel, Workload } from "../../components/platform/workload";

/** What every container on the platform shares: its network and log rotation. */
export interface DockerPlacement {
    readonly networkName: pulumi.Input<string>;
    readonly logs: LogSettings;
    /** Labels on every container, e.g. clinicalbdd.stack, by which the operator's verbs find them. */
    readonly labels?: Readonly<Record<string, string>>;
}

/** Resource options, plus whether `pulumi up` waits for the container's healthcheck to pass. */
export type RunOptions = pulumi.CustomResourceOptions & { waitForHealthy?: boolean };

/**
 * How a Workload runs on one Docker host: a docker.Container with the guardrails every
 * container gets (limits, healthcheck, restart policy, json-file rotation,
 * no-new-privileges, stack and service labels). Docker names are left to Pulumi's
 * autonaming so a replacement can start beside the container it replaces.
 */
export function runOnDocker(
    name: string,
    workload: Workload,
    placement: DockerPlacement,
    opts: RunOptions,
): docker.Container {
    const { waitForHealthy, ...resourceOpts } = opts;
    if (workload.readOnlyRootFs && (workload.files ?? []).length > 0) {
        // The provider uploads each file as a tar extracted at / before start, which the
        // engine refuses on a read-only root even when the path is on a volume.
        throw new Error(`${name}: files cannot be uploaded into a read-only root filesystem; write them into a volume with VolumeFiles`);
    }
    const hc = workload.healthcheck;
    // A pinned image is pulled by a resource of its own before the container is touched:
    // a failed pull stops `pulumi up` before a delete-before-replace container is removed.
    const pulled =
        typeof workload.image === "string"
            ? [new docker.RemoteImage(`${name}-image`, { name: workload.image, keepLocally: true }, { parent: resourceOpts.parent })]
            : [];
    return new docker.Container(
        name,
        {
            image: workload.image,
            command: workload.command ? [...workload.command] : undefined,
            envs: Object.entries(workload.envs ?? {})
                .sort(([a], [b]) => a.localeCompare(b))
                .map(([key, value]) => pulumi.interpolate`${key}=${value}`),
            uploads: (workload.files ?? []).map((f) => ({
                file: f.path,
                content: f.content,
                permissions: f.mode ?? "0444",
                owner: f.owner,
                group: f.owner,
            })),
            memory: workload.limits.memoryMb,
            memorySwap: workload.limits.memoryMb,
            // The forms the engine reads back; any other form diffs and replaces on every `pulumi up`.
            cpus: engineCpus(workload.limits.cpus),
            healthcheck: {
                tests: [...hc.test],
                interval: goDuration(hc.intervalSeconds ?? 15),
                timeout: goDuration(hc.timeoutSeconds ?? 5),
                retries: hc.retries ?? 3,
                startPeriod: goDuration(hc.startPeriodSeconds ?? 10),
            },
            restart: "unless-stopped",
            logDriver: "json-file",
            logOpts: { "max-size": placement.logs.maxSize, "max-file": String(placement.logs.maxFiles) },
            // The engine adds label=disable to a privileged container's options and reads it
            // back; declared here too, or cAdvisor would be replaced on every `pulumi up`.
            securityOpts: workload.privileged ? ["no-new-privileges:true", "label=disable"] : ["no-new-privileges:true"],
            user: workload.user,
            readOnly: workload.readOnlyRootFs ?? false,
            tmpfs: workload.tmpfs ? { ...workload.tmpfs } : undefined,
            privileged: workload.privileged ?? false,
            stopTimeout: workload.stopTimeoutSeconds,
            // Without it the provider removes a replaced container with a kill, cutting its
            // in-flight requests; with it the container is stopped (SIGTERM, drain) first.
            destroyGraceSeconds: workload.stopTimeoutSeconds,
            networksAdvanced: [{ name: placement.networkName, aliases: [...workload.aliases] }],
            volumes: [
                ...(workload.volumes ?? []).map((v) => ({
                    volumeName: v.volumeName,
                    containerPath: v.containerPath,
                    readOnly: v.readOnly ?? false,
                })),
                ...(workload.hostMounts ?? []).map((m) => ({
                    hostPath: m.hostPath,
                    containerPath: m.containerPath,
                    readOnly: m.readOnly ?? true,
                })),
            ],
            ports: (workload.ports ?? []).map((p) => ({ internal: p.internal, external: p.external, ip: p.ip })),
            // clinicalbdd.service is the workload's first alias (app, nginx, grafana, …): `npm run logs app`.
            labels: Object.entries({ ...workload.labels, ...placement.labels, [serviceLabel]: workload.aliases[0] })
                .sort(([a], [b]) => a.localeCompare(b))
                .map(([label, value]) => ({ label, value })),
            wait: waitForHealthy ?? false,
            // Grafana's first start runs its database migrations; give it time.
            waitTimeout: 300,
        },
        { ...resourceOpts, dependsOn: [...toArray(resourceOpts.dependsOn), ...pulled] },
    );
}

function toArray(dependsOn: RunOptions["dependsOn"]): pulumi.Input<pulumi.Resource>[] {
    if (dependsOn === undefined) return [];
    return Array.isArray(dependsOn) ? dependsOn : [dependsOn as pulumi.Input<pulumi.Resource>];
}
