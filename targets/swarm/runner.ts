import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import { swarmDuration } from "../engineForms";
import { LogSettings } from "../../components/platform/settings";
import { Healthcheck, Limits, serviceLabel, Workload } from "../../components/platform/workload";
import { waitForConvergence } from "./convergence";
import { swarmFiles } from "./swarmFiles";

/** What every service on the platform shares on Swarm: its overlay network, log rotation and labels. */
export interface SwarmPlacement {
    /** ID of the overlay network. */
    readonly networkId: pulumi.Input<string>;
    readonly logs: LogSettings;
    /** The stack name; it prefixes the names of configs and secrets. */
    readonly stack: string;
    /** Labels on every service and its containers (clinicalbdd.stack), by which the operator's verbs find them. */
    readonly labels: Readonly<Record<string, string>>;
}

/** How a service is scheduled and rolled. */
export interface SwarmRunOptions {
    /** `replicas` tasks anywhere, or one task on every node (`global`). */
    readonly mode: { readonly replicas: number } | "global";
    /** Placement constraints, e.g. node.labels.clinicalbdd.data==true; default none. */
    readonly constraints?: readonly string[];
    /**
     * start-first when two tasks may run side by side (zero downtime); stop-first when they
     * may not: one data volume (Prometheus' TSDB lock), or a host-mode port the old task holds.
     */
    readonly order: "start-first" | "stop-first";
    /** Published ports' mode (when the workload has public ports): host or ingress (the routing mesh). */
    readonly publishMode?: "host" | "ingress";
    /** Whether `pulumi up` waits for convergence; default true for replicated services (global ones cannot). */
    readonly waitForConvergence?: boolean;
    /** Replaces the image's entrypoint (e.g. a step before the server starts); default the image's. */
    readonly entrypoint?: readonly string[];
}

/**
 * How a Workload runs on Swarm: a docker.Service with the same guardrails as on one host
 * (limits, healthcheck, restart policy, json-file rotation, read-only root, labels), its files
 * as content-named configs and secrets, updated one task at a time and rolled back on failure.
 * Replicated services make `pulumi up` wait until every task runs the new spec (converge), and
 * fail naming the tasks' reason when they do not (./convergence.ts). Reservations, where the
 * workload has them, are what the scheduler sets aside to place a task; limits what it may
 * use. Ports bound to one address (the monitoring UIs) are not published: Swarm cannot bind
 * an address, and publishing them would expose them on every interface.
 */
export function runOnSwarm(
    name: string,
    workload: Workload,
    placement: SwarmPlacement,
    run: SwarmRunOptions,
    opts: pulumi.CustomResourceOptions,
): docker.Service {
    const files = swarmFiles(name, placement.stack, workload.files ?? [], opts.parent as pulumi.Resource);
    const hc = workload.healthcheck;
    const labels = { ...workload.labels, ...placement.labels, [serviceLabel]: workload.aliases[0] };
    const asLabels = (map: Record<string, pulumi.Input<string>>) =>
        Object.entries(map)
            .sort(([a], [b]) => a.localeCompare(b))
            .map(([label, value]) => ({ label, value }));
    const resources = (r: Limits) => ({ memoryBytes: r.memoryMb * 1024 * 1024, nanoCpus: Math.round(r.cpus * 1e9) });
    const publicPorts = (workload.ports ?? []).filter((p) => p.ip === "0.0.0.0");
    const rollout = {
        parallelism: 1,
        delay: swarmDuration(0),
        // Watch each new task for longer than its healthcheck needs to fail it.
        monitor: swarmDuration(monitorSeconds(hc)),
        maxFailureRatio: "0.0",
        order: run.order,
    };
    // Stack-scoped and fixed: a service is updated in place, never replaced (only its name would force that).
    const serviceName = `${placement.stack}-${name}`;
    const spec: docker.ServiceArgs = {
        name: serviceName,
        labels: asLabels(labels),
        mode: run.mode === "global" ? { global: true } : { replicated: { replicas: run.mode.replicas } },
        taskSpec: {
            containerSpec: {
                image: workload.image,
                commands: run.entrypoint ? [...run.entrypoint] : undefined,
                args: workload.command ? [...workload.command] : undefined,
                env: workload.envs ? { ...workload.envs } : undefined,
                user: workload.user,
                readOnly: workload.readOnlyRootFs ?? false,
                labels: asLabels(labels),
                healthcheck: {
                    tests: [...hc.test],
                    interval: swarmDuration(hc.intervalSeconds ?? 15),
                    timeout: swarmDuration(hc.timeoutSeconds ?? 5),
                    retries: hc.retries ?? 3,
                    startPeriod: swarmDuration(hc.startPeriodSeconds ?? 10),
                },
                // Swarm has no privileged mode: cAdvisor reads cgroups through its read-only mounts.
                mounts: [
                    ...(workload.volumes ?? []).map((v) => ({ type: "volume", source: v.volumeName, target: v.containerPath, readOnly: v.readOnly ?? false })),
                    ...(workload.hostMounts ?? []).map((m) => ({ type: "bind", source: m.hostPath, target: m.containerPath, readOnly: m.readOnly ?? true })),
                    ...Object.entries(workload.tmpfs ?? {}).map(([target, options]) => ({ type: "tmpfs", target, readOnly: false, tmpfsOptions: { sizeBytes: tmpfsBytes(options) } })),
                ],
                configs: files.configs,
                secrets: files.secrets,
                stopGracePeriod: swarmDuration(workload.stopTimeoutSeconds ?? 10),
            },
            resources: {
                limits: resources(workload.limits),
                ...(workload.reservations ? { reservation: resources(workload.reservations) } : {}),
            },
            restartPolicy: { condition: "any", delay: swarmDuration(5), maxAttempts: 0, window: swarmDuration(0) },
            placement: run.constraints ? { constraints: [...run.constraints] } : undefined,
            logDriver: { name: "json-file", options: { "max-size": placement.logs.maxSize, "max-file": String(placement.logs.maxFiles) } },
            networksAdvanceds: [{ name: placement.networkId, aliases: [...workload.aliases] }],
        },
        updateConfig: { ...rollout, failureAction: "rollback" },
        // A failed rollback stops where it is (pause), for the operator to look at, not loop.
        rollbackConfig: { ...rollout, failureAction: "pause" },
        endpointSpec: {
            // DNS round robin: nginx and Prometheus resolve every task themselves, and it needs no IPVS.
            mode: run.publishMode === "ingress" && publicPorts.length > 0 ? "vip" : "dnsrr",
            ports: publicPorts.map((p) => ({ targetPort: p.internal, publishedPort: p.external, protocol: "tcp", publishMode: run.publishMode ?? "host" })),
        },
    };
    const service = new docker.Service(name, spec, opts);
    // Global services have no replica count to converge on.
    if (run.mode !== "global" && run.waitForConvergence !== false) waitForConvergence(name, service, serviceName, spec, opts.parent as pulumi.Resource);
    return service;
}

/** Seconds after which a task that never turns healthy has failed its checks: start period, then every retry. */
export function monitorSeconds(hc: Healthcheck): number {
    const interval = hc.intervalSeconds ?? 15;
    return (hc.startPeriodSeconds ?? 10) + interval * ((hc.retries ?? 3) + 1) + (hc.timeoutSeconds ?? 5);
}

/** size= of a tmpfs option string ("rw,noexec,size=256m") in bytes. */
function tmpfsBytes(options: string): number {
    const match = /size=(\d+)([kmg]?)/.exec(options);
    if (!match) throw new Error(`tmpfs options ${options}: a size= is required on Swarm`);
    const unit = { "": 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 }[match[2] as "" | "k" | "m" | "g"];
    return Number(match[1]) * unit;
}
