/**
 * A TypeScript imitation of what @pulumi/docker 5.2.0's Service, Secret and ServiceConfig do
 * against the Docker Engine API, for tests that run the Swarm target on a real (single-node)
 * Swarm without the Pulumi engine. Read for it, in kreuzwerker/terraform-provider-docker:
 *   - internal/provider/resource_docker_service_funcs.go: Create (ServiceCreate), Update
 *     (ServiceUpdate with the inspected version), Delete (ServiceRemove, then wait for the task
 *     containers within stop_grace_period). Its converge_config wait is not imitated: the
 *     program does not set it (it says only "did not converge" and deletes a service it has
 *     just created); scripts/swarm-converge.sh waits instead, run as the program's command.
 *   - resource_docker_service_structures.go: the read-back forms (durations through shortDur,
 *     max_failure_ratio with one decimal, mounts/secrets/configs as sets, networks by ID).
 *   - resource_docker_secret.go / resource_docker_config.go: create with base64 data; every
 *     field ForceNew (a change is a new object).
 * Registry auth is not modelled (no registry here).
 */
import Docker from "dockerode";
import { formatGoDuration, parseGoDuration } from "./goForms";

type Inputs = Record<string, any>;

/** The provider's shortDur: Go's Duration.String() with "m0s" → "m" and "h0m" → "h". */
export function shortDur(ns: bigint): string {
    return formatGoDuration(ns).replace(/m0s$/, "m").replace(/h0m$/, "h");
}
const ns = (text: string | undefined) => (text === undefined ? undefined : Number(parseGoDuration(text)));

/** The Engine API's ServiceSpec for the program's docker.Service inputs (createServiceSpec). */
export function serviceSpec(inputs: Inputs): Record<string, unknown> {
    const ts = inputs.taskSpec;
    const cs = ts.containerSpec;
    const labels = (list: { label: string; value: string }[] | undefined) => Object.fromEntries((list ?? []).map((l) => [l.label, l.value]));
    const rollout = (c: Inputs | undefined) =>
        c && {
            Parallelism: c.parallelism,
            Delay: ns(c.delay),
            FailureAction: c.failureAction,
            Monitor: ns(c.monitor),
            MaxFailureRatio: Number(c.maxFailureRatio ?? 0),
            Order: c.order,
        };
    const fileRef = (f: Inputs) => ({ Name: f.fileName, UID: f.fileUid ?? "0", GID: f.fileGid ?? "0", Mode: f.fileMode ?? 0o444 });
    return {
        Name: inputs.name,
        Labels: labels(inputs.labels),
        TaskTemplate: {
            ContainerSpec: {
                Image: cs.image,
                Labels: labels(cs.labels),
                Command: cs.commands,
                Args: cs.args,
                Env: cs.env ? Object.entries(cs.env).map(([k, v]) => `${k}=${v}`) : undefined,
                User: cs.user,
                ReadOnly: cs.readOnly ?? false,
                Mounts: (cs.mounts ?? []).map((m: Inputs) => ({
                    Type: m.type,
                    Source: m.source,
                    Target: m.target,
                    ReadOnly: m.readOnly ?? false,
                    ...(m.tmpfsOptions ? { TmpfsOptions: { SizeBytes: m.tmpfsOptions.sizeBytes } } : {}),
                })),
                StopGracePeriod: ns(cs.stopGracePeriod),
                Healthcheck: cs.healthcheck && {
                    Test: cs.healthcheck.tests,
                    Interval: ns(cs.healthcheck.interval),
                    Timeout: ns(cs.healthcheck.timeout),
                    StartPeriod: ns(cs.healthcheck.startPeriod),
                    Retries: cs.healthcheck.retries,
                },
                Secrets: (cs.secrets ?? []).map((s: Inputs) => ({ SecretID: s.secretId, SecretName: s.secretName, File: fileRef(s) })),
                Configs: (cs.configs ?? []).map((c: Inputs) => ({ ConfigID: c.configId, ConfigName: c.configName, File: fileRef(c) })),
            },
            Resources: ts.resources && {
                Limits: ts.resources.limits && { NanoCPUs: ts.resources.limits.nanoCpus, MemoryBytes: ts.resources.limits.memoryBytes },
                Reservations: ts.resources.reservation && { NanoCPUs: ts.resources.reservation.nanoCpus, MemoryBytes: ts.resources.reservation.memoryBytes },
            },
            RestartPolicy: ts.restartPolicy && {
                Condition: ts.restartPolicy.condition,
                Delay: ns(ts.restartPolicy.delay),
                MaxAttempts: ts.restartPolicy.maxAttempts,
                Window: ns(ts.restartPolicy.window),
            },
            Placement: ts.placement && { Constraints: ts.placement.constraints },
            LogDriver: ts.logDriver && { Name: ts.logDriver.name, Options: ts.logDriver.options },
            Networks: (ts.networksAdvanceds ?? []).map((n: Inputs) => ({ Target: n.name, Aliases: n.aliases })),
        },
        Mode: inputs.mode.global ? { Global: {} } : { Replicated: { Replicas: inputs.mode.replicated?.replicas ?? 1 } },
        UpdateConfig: rollout(inputs.updateConfig),
        RollbackConfig: rollout(inputs.rollbackConfig),
        EndpointSpec: inputs.endpointSpec && {
            Mode: inputs.endpointSpec.mode,
            Ports: (inputs.endpointSpec.ports ?? []).map((p: Inputs) => ({
                Protocol: p.protocol ?? "tcp",
                TargetPort: p.targetPort,
                PublishedPort: p.publishedPort,
                PublishMode: p.publishMode ?? "ingress",
            })),
        },
    };
}

/**
 * docker_service Create. The program sets no converge_config (targets/swarm/convergence.ts
 * waits instead, naming the tasks' reason), so the provider returns once the service exists.
 */
export async function createService(docker: Docker, inputs: Inputs): Promise<string> {
    refuseConvergeConfig(inputs);
    const created = await docker.createService(serviceSpec(inputs) as any);
    return (created as any).id ?? (created as any).ID;
}

/** docker_service Update: ServiceUpdate with the current version. */
export async function updateService(docker: Docker, id: string, inputs: Inputs): Promise<void> {
    refuseConvergeConfig(inputs);
    const service = docker.getService(id);
    const current = await service.inspect();
    await service.update({ version: current.Version.Index, ...serviceSpec(inputs) } as any);
}

/** The program never sets converge_config; a test that does would get none of the provider's wait. */
function refuseConvergeConfig(inputs: Inputs): void {
    if (inputs.convergeConfig) throw new Error(`${inputs.name}: converge_config is not imitated here; the program waits with scripts/swarm-converge.sh`);
}

/** docker_service Delete: remove, then wait until its task containers are gone (stop_grace_period). */
export async function deleteService(docker: Docker, id: string, inputs: Inputs): Promise<void> {
    const containers = await docker.listContainers({ all: true, filters: { label: [`com.docker.swarm.service.id=${id}`] } });
    await docker.getService(id).remove();
    const grace = Number(ns(inputs.taskSpec?.containerSpec?.stopGracePeriod) ?? 0) / 1e6;
    const deadline = Date.now() + grace + 5000;
    for (const c of containers) {
        while (Date.now() < deadline && (await docker.getContainer(c.Id).inspect().then(() => true, () => false))) await sleep(500);
    }
}

/** docker_secret / docker_config Create: name and base64 data; any change is a new object. */
export async function createSecret(docker: Docker, inputs: Inputs): Promise<string> {
    const created: any = await docker.createSecret({ Name: inputs.name, Data: inputs.data, Labels: {} } as any);
    return created.id ?? created.ID;
}
export async function createConfig(docker: Docker, inputs: Inputs): Promise<string> {
    const created: any = await (docker as any).createConfig({ Name: inputs.name, Data: inputs.data, Labels: {} });
    return created.id ?? created.ID;
}

/**
 * docker_service Read, flattened as the provider stores it (the fields the program declares):
 * what `pulumi refresh` or the next `up` compares with the inputs. Durations are shortDur.
 */
export async function readService(docker: Docker, id: string): Promise<Inputs> {
    const s: any = await docker.getService(id).inspect();
    const spec = s.Spec;
    const ts = spec.TaskTemplate;
    const cs = ts.ContainerSpec;
    const dur = (v: number | undefined) => shortDur(BigInt(v ?? 0));
    const labels = (m: Record<string, string> | undefined) => Object.entries(m ?? {}).sort(([a], [b]) => a.localeCompare(b)).map(([label, value]) => ({ label, value }));
    const rollout = (c: any) => ({
        parallelism: c.Parallelism,
        delay: dur(c.Delay),
        failureAction: c.FailureAction,
        monitor: dur(c.Monitor),
        maxFailureRatio: Number(c.MaxFailureRatio ?? 0).toFixed(1),
        order: c.Order,
    });
    const fileRef = (f: any) => ({ fileName: f.File.Name, fileUid: f.File.UID, fileGid: f.File.GID, fileMode: f.File.Mode });
    const endpoint = s.Endpoint?.Spec?.Mode ? s.Endpoint.Spec : spec.EndpointSpec;
    return {
        name: spec.Name,
        labels: labels(spec.Labels),
        mode: spec.Mode.Global ? { global: true } : { replicated: { replicas: spec.Mode.Replicated.Replicas } },
        taskSpec: {
            containerSpec: {
                image: cs.Image,
                commands: cs.Command,
                args: cs.Args,
                env: cs.Env ? Object.fromEntries(cs.Env.map((e: string) => [e.slice(0, e.indexOf("=")), e.slice(e.indexOf("=") + 1)])) : undefined,
                user: cs.User,
                readOnly: cs.ReadOnly ?? false,
                labels: labels(cs.Labels),
                healthcheck: cs.Healthcheck && {
                    tests: cs.Healthcheck.Test,
                    interval: dur(cs.Healthcheck.Interval),
                    timeout: dur(cs.Healthcheck.Timeout),
                    retries: cs.Healthcheck.Retries,
                    startPeriod: dur(cs.Healthcheck.StartPeriod),
                },
                mounts: (cs.Mounts ?? []).map((m: any) => ({
                    type: m.Type,
                    source: m.Source,
                    target: m.Target,
                    readOnly: m.ReadOnly ?? false,
                    ...(m.TmpfsOptions ? { tmpfsOptions: { sizeBytes: m.TmpfsOptions.SizeBytes } } : {}),
                })),
                configs: (cs.Configs ?? []).map((c: any) => ({ ...fileRef(c), configId: c.ConfigID, configName: c.ConfigName })),
                secrets: (cs.Secrets ?? []).map((c: any) => ({ ...fileRef(c), secretId: c.SecretID, secretName: c.SecretName })),
                stopGracePeriod: cs.StopGracePeriod === undefined ? undefined : dur(cs.StopGracePeriod),
            },
            resources: {
                limits: { memoryBytes: ts.Resources?.Limits?.MemoryBytes ?? 0, nanoCpus: ts.Resources?.Limits?.NanoCPUs ?? 0 },
                ...(ts.Resources?.Reservations ? { reservation: { memoryBytes: ts.Resources.Reservations.MemoryBytes ?? 0, nanoCpus: ts.Resources.Reservations.NanoCPUs ?? 0 } } : {}),
            },
            restartPolicy: ts.RestartPolicy && {
                condition: ts.RestartPolicy.Condition,
                delay: dur(ts.RestartPolicy.Delay),
                maxAttempts: ts.RestartPolicy.MaxAttempts,
                window: dur(ts.RestartPolicy.Window),
            },
            placement: ts.Placement?.Constraints ? { constraints: ts.Placement.Constraints } : undefined,
            logDriver: ts.LogDriver && { name: ts.LogDriver.Name, options: ts.LogDriver.Options },
            networksAdvanceds: (ts.Networks ?? []).map((n: any) => ({ name: n.Target, aliases: n.Aliases })),
        },
        updateConfig: spec.UpdateConfig && rollout(spec.UpdateConfig),
        rollbackConfig: spec.RollbackConfig && rollout(spec.RollbackConfig),
        endpointSpec: {
            mode: endpoint?.Mode,
            ports: (endpoint?.Ports ?? []).map((p: any) => ({ targetPort: p.TargetPort, publishedPort: p.PublishedPort, protocol: p.Protocol, publishMode: p.PublishMode })),
        },
    };
}

/** Paths (a.b.c) where the declared inputs and the read-back differ; mounts, secrets and configs compare as sets. */
export function diffService(declared: Inputs, state: Inputs): string[] {
    const diffs: string[] = [];
    const walk = (a: unknown, b: unknown, at: string) => {
        if (a === undefined) return; // not declared: the provider keeps what it reads (Computed/Optional)
        if (Array.isArray(a) && Array.isArray(b) && /mounts|secrets|configs/.test(at)) {
            const key = (x: unknown) => JSON.stringify(x, Object.keys(x as object).sort());
            const as = a.map(key).sort();
            const bs = b.map(key).sort();
            if (JSON.stringify(as) !== JSON.stringify(bs)) diffs.push(`${at}: declared ${JSON.stringify(a)}, read ${JSON.stringify(b)}`);
            return;
        }
        if (a !== null && typeof a === "object") {
            if (b === null || typeof b !== "object") {
                diffs.push(`${at}: declared ${JSON.stringify(a)}, read ${JSON.stringify(b)}`);
                return;
            }
            for (const k of Object.keys(a as object)) walk((a as any)[k], (b as any)[k], at ? `${at}.${k}` : k);
            return;
        }
        if (a !== b) diffs.push(`${at}: declared ${JSON.stringify(a)}, read ${JSON.stringify(b)}`);
    };
    walk(declared, state, "");
    return diffs;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
