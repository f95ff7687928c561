/**
 * docker_container Read, the read-back half of test/engine/provider.ts's imitation: the
 * refresh loop, must_run handling and what the provider flattens into the state
 * (flattenPorts). provider.ts re-exports it. It calls provider.ts's deleteContainer, as
 * the provider's Read deletes a container that is not running; the two modules import each
 * other, and only at call time.
 */
import Docker from "dockerode";
import { formatCpus, formatGoDuration } from "./goForms";
import { deleteContainer } from "./provider";
import { containerSchema } from "./providerDiff";
import { ContainerInputs, ContainerState, PortInput, ProviderError, sleep } from "./providerTypes";

// ---------------------------------------------------------------------------------------
// Container: Read

export interface ReadOptions {
    /** Set when this read follows a start in the same run (the provider's creationTime). */
    creationTime?: number;
}

/**
 * docker_container Read. Waits (every 100 ms, up to containerReadRefreshTimeoutMilliseconds,
 * default 15 s) for the container to run unless must_run is false. A container that is not
 * running with must_run true is deleted, as the provider does: when it was not just created
 * the resource leaves the state (returns null, so the next `up` creates it again); when it
 * exited right after this run started it, Read fails "container exited immediately".
 * Fields Read does not set keep their declared values from `inputs`.
 */
export async function readContainer(docker: Docker, id: string, inputs?: ContainerInputs, options: ReadOptions = {}): Promise<ContainerState | null> {
    const mustRun = inputs?.mustRun ?? true;
    const container = docker.getContainer(id);
    const exists = (await docker.listContainers({ all: true })).some((c) => c.Id === id);
    if (!exists) return null;

    const timeoutMs = inputs?.containerReadRefreshTimeoutMilliseconds ?? 15_000;
    const deadline = Date.now() + timeoutMs;
    let info: Docker.ContainerInspectInfo;
    await sleep(100);
    for (;;) {
        info = await container.inspect();
        if (info.State.Running || !mustRun) break;
        if (options.creationTime === undefined) {
            await deleteContainer(docker, id, inputs);
            return null;
        }
        const finished = Date.parse(info.State.FinishedAt);
        if (!Number.isNaN(finished) && finished > options.creationTime) {
            try {
                await deleteContainer(docker, id, inputs);
            } catch {
                throw new ProviderError("container failed to be deleted", id);
            }
            throw new ProviderError("container exited immediately", id);
        }
        if (Date.now() >= deadline) {
            throw new ProviderError(`timeout while waiting for state to become 'running' (last state: 'pending', timeout: ${formatGoDuration(BigInt(timeoutMs) * 1_000_000n)})`, id);
        }
        await sleep(100);
    }

    const hc = info.HostConfig;
    const cfg = info.Config;
    const health = (cfg as { Healthcheck?: Docker.HealthConfig & { StartInterval?: number } }).Healthcheck;
    const read: Partial<ContainerState> = {
        id: info.Id,
        name: info.Name.replace(/^\/+/, ""),
        rm: hc.AutoRemove ?? false,
        readOnly: hc.ReadonlyRootfs ?? false,
        image: info.Image,
        hostname: cfg.Hostname,
        domainname: cfg.Domainname,
        command: cfg.Cmd ?? undefined,
        entrypoint: (cfg.Entrypoint as string[] | null) ?? undefined,
        user: cfg.User,
        securityOpts: hc.SecurityOpt ?? [],
        publishAllPorts: hc.PublishAllPorts ?? false,
        restart: hc.RestartPolicy?.Name ?? "",
        maxRetryCount: hc.RestartPolicy?.MaximumRetryCount ?? 0,
        init: (hc as { Init?: boolean | null }).Init ?? false,
        workingDir: cfg.WorkingDir,
        tmpfs: (hc as { Tmpfs?: Record<string, string> }).Tmpfs ?? undefined,
        privileged: hc.Privileged ?? false,
        memory: Math.trunc((hc.Memory ?? 0) / 1024 / 1024),
        memorySwap: (hc.MemorySwap ?? 0) > 0 ? Math.trunc(hc.MemorySwap! / 1024 / 1024) : hc.MemorySwap ?? 0,
        cpus: hc.NanoCpus ? formatCpus(hc.NanoCpus) : undefined,
        logDriver: hc.LogConfig?.Type,
        logOpts: (hc.LogConfig?.Config ?? {}) as Record<string, string>,
        networkMode: hc.NetworkMode,
        stopSignal: (cfg as { StopSignal?: string }).StopSignal,
        stopTimeout: (cfg as { StopTimeout?: number }).StopTimeout,
        ports: flattenPorts(info.NetworkSettings.Ports ?? {}),
        healthcheck: health
            ? {
                tests: health.Test ?? [],
                interval: formatGoDuration(BigInt(health.Interval ?? 0)),
                timeout: formatGoDuration(BigInt(health.Timeout ?? 0)),
                startPeriod: formatGoDuration(BigInt(health.StartPeriod ?? 0)),
                startInterval: formatGoDuration(BigInt(health.StartInterval ?? 0)),
                retries: health.Retries ?? 0,
            }
            : undefined,
    };
    if (!info.State.Running) read.exitCode = info.State.ExitCode;

    const networkAliases: Record<string, string[]> = {};
    for (const [net, settings] of Object.entries(info.NetworkSettings.Networks ?? {})) {
        networkAliases[net] = (settings as { Aliases?: string[] | null }).Aliases ?? [];
    }
    const engine: ContainerState["engine"] = {
        envs: cfg.Env ?? [],
        labels: cfg.Labels ?? {},
        networkAliases,
        running: info.State.Running,
        health: info.State.Health?.Status,
    };
    // The state holds schema defaults for what the program left unset, then the declared
    // values, then whatever Read sets from the engine.
    const defaults = Object.fromEntries(
        Object.entries(containerSchema).filter(([, rule]) => rule.default !== undefined).map(([field, rule]) => [field, rule.default]));
    return { ...defaults, ...stripUndefined(inputs ?? { image: info.Image }), ...stripUndefined(read), engine } as ContainerState;
}

/** flattenContainerPorts, including its quirk: one map per port, so several bindings of a port repeat the last one. */
function flattenPorts(ports: Record<string, Array<{ HostIp: string; HostPort: string }> | null>): PortInput[] {
    const out: PortInput[] = [];
    for (const [port, bindings] of Object.entries(ports)) {
        const [internal, protocol] = port.split("/");
        const m: PortInput = { internal: Number(internal) };
        for (const b of bindings ?? []) {
            m.internal = Number(internal);
            m.external = Number(b.HostPort) || 0;
            m.ip = b.HostIp;
            m.protocol = protocol;
            out.push(m);
        }
    }
    return out;
}

function stripUndefined<T extends object>(o: T): Partial<T> {
    return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
