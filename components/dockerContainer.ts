import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import { LogSettings } from "./settings";
import { Workload } from "./workload";

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
    const hc = workload.healthcheck;
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
            })),
            memory: workload.limits.memoryMb,
            memorySwap: workload.limits.memoryMb,
            cpus: workload.limits.cpus.toFixed(2),
            healthcheck: {
                tests: [...hc.test],
                interval: `${hc.intervalSeconds ?? 15}s`,
                timeout: `${hc.timeoutSeconds ?? 5}s`,
                retries: hc.retries ?? 3,
                startPeriod: `${hc.startPeriodSeconds ?? 10}s`,
            },
            restart: "unless-stopped",
            logDriver: "json-file",
            logOpts: { "max-size": placement.logs.maxSize, "max-file": String(placement.logs.maxFiles) },
            securityOpts: ["no-new-privileges:true"],
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
            labels: Object.entries({ ...placement.labels, "clinicalbdd.service": workload.aliases[0] })
                .sort(([a], [b]) => a.localeCompare(b))
                .map(([label, value]) => ({ label, value })),
            wait: waitForHealthy ?? false,
            // Grafana's first start runs its database migrations; give it time.
            waitTimeout: 300,
        },
        resourceOpts,
    );
}
