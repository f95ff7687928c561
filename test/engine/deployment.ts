/**
 * A stand-in for the Pulumi engine on a real Docker engine: it runs the program under mocks
 * (with real images, keys and certificates from RealOutputs), plans what changed since the
 * last run the way the engine would (create, update in place, replace create-before-delete
 * or delete-before-replace, delete), and applies the plan in dependency order through
 * provider.ts (the Docker provider's own create, read and delete) and the commands
 * (@pulumi/command runs `create` again when its inputs change). Replaced and removed
 * resources are deleted at the end, as Pulumi does.
 */
import { spawn, spawnSync } from "child_process";
import Docker from "dockerode";
import { DeclaredResource, ProgramRun, runProgram } from "../helpers/pulumiProgram";
import * as provider from "./provider";
import { RealOutputs } from "./realOutputs";
import { CONFIG, CONTAINER, NETWORK, REMOTE_IMAGE, replacementOrder, SECRET, SERVICE, VOLUME } from "./replacementRules";
import * as swarm from "./swarmProvider";

export { CONTAINER, SERVICE };
const COMMAND = "command:local:Command";
/** Swarm objects: they reference each other by the IDs the mocks hand out ("<name>-id"), swapped for the engine's. */
const SWARM_TYPES = [SERVICE, SECRET, CONFIG];

export type Action = "create" | "update" | "replace" | "delete" | "run";

/** One thing the deployment did, for the test's report. */
export interface Step {
    readonly action: Action;
    readonly resource: string;
    readonly detail: string;
    readonly seconds: number;
}

interface Live {
    resource: DeclaredResource;
    /** The engine's name of a container, volume or network. */
    dockerName?: string;
    /** The engine's ID of a container, network, service, secret or config. */
    id?: string;
    /** A service's inputs with the engine's IDs in place of the mocks' (what was sent). */
    sent?: Record<string, any>;
}

const keyOf = (r: DeclaredResource) => `${r.type}::${r.name}`;

export class Deployment {
    readonly docker = new Docker();
    readonly real: RealOutputs;
    private readonly live = new Map<string, Live>();
    private generation = 0;
    current?: ProgramRun;

    constructor(readonly stack: string, private readonly baseConfig: Record<string, string>) {
        this.real = new RealOutputs(stack);
    }

    /** The program (of this checkout, or the one in `programDir`) as `pulumi up` would evaluate it with this config on top of the base. */
    program(config: Record<string, string> = {}, programDir?: string): Promise<ProgramRun> {
        return runProgram({ ...this.baseConfig, ...config }, {}, { stack: this.stack, providerOutputs: this.real.outputs, programDir });
    }

    /** `pulumi up` of an evaluated program: plans against what is deployed and applies. */
    async up(next: ProgramRun): Promise<Step[]> {
        const steps: Step[] = [];
        const deleteAtEnd: Live[] = [];
        const order = dependencyOrder(next, this.stack);
        const deps = dependencies(next, this.stack);
        // As Pulumi's step executor: a resource's step starts once its dependencies' steps
        // are done, independent steps run at once, and no new step starts after a failure.
        const finished = new Map<DeclaredResource, Promise<void>>();
        let failure: unknown;
        for (const resource of order) {
            const before = [...(deps.get(resource) ?? [])].map((d) => finished.get(d));
            finished.set(
                resource,
                Promise.all(before).then(async () => {
                    if (failure !== undefined) return;
                    await this.step(resource, steps, deleteAtEnd).catch((error) => (failure ??= error));
                }),
            );
        }
        await Promise.all(finished.values());
        if (failure !== undefined) throw failure;
        const wanted = new Set(order.map(keyOf));
        const removed = [...this.live.entries()].filter(([key]) => !wanted.has(key)).reverse();
        for (const old of [...deleteAtEnd.reverse(), ...removed.map(([, live]) => live)]) {
            const started = Date.now();
            await this.delete(old);
            if (isEngineResource(old.resource)) steps.push({ action: "delete", resource: old.resource.name, detail: old.dockerName ?? "", seconds: (Date.now() - started) / 1000 });
        }
        for (const [key] of removed) this.live.delete(key);
        this.current = next;
        return steps;
    }

    /** Plans and applies one resource against what is deployed: create, update, replace or nothing. */
    private async step(resource: DeclaredResource, steps: Step[], deleteAtEnd: Live[]): Promise<void> {
        const key = keyOf(resource);
        const prev = this.live.get(key);
        const started = Date.now();
        const record = (action: Action, detail: string) => steps.push({ action, resource: resource.name, detail, seconds: (Date.now() - started) / 1000 });
        if (!prev) {
            this.live.set(key, await this.create(resource));
            if (isEngineResource(resource)) record("create", this.live.get(key)?.dockerName ?? "");
            return;
        }
        const changed = changedFields(prev.resource, resource);
        if (changed.length === 0) {
            this.live.set(key, { ...prev, resource });
            return;
        }
        if (resource.type === COMMAND) {
            await this.runCommand(resource);
            this.live.set(key, { resource });
            record("run", changed.join(", "));
            return;
        }
        const order = replacementOrder(resource, changed);
        if (resource.type === SERVICE && !order.replaces) {
            // Every field of a service but its name is updated in place: a rolling update.
            const sent = this.withLiveIds(resource.inputs);
            await swarm.updateService(this.docker, prev.id as string, sent);
            this.live.set(key, { ...prev, resource, sent });
            record("update", changed.join(", "));
        } else if (resource.type === CONTAINER && !order.replaces) {
            await this.updateContainer(prev, resource);
            this.live.set(key, { ...prev, resource });
            record("update", changed.join(", "));
        } else if (isEngineResource(resource)) {
            // Delete first or create first as the provider, the bridge and the options decide.
            if (order.deleteFirst) await this.delete(prev);
            else deleteAtEnd.push(prev);
            this.live.set(key, await this.create(resource));
            record("replace", `${changed.join(", ")}${order.deleteFirst ? ` (delete first: ${order.decidedBy})` : ""}`);
        } else {
            this.live.set(key, { resource });
        }
    }

    /** The engine's name of the live container declared as `resourceName`. */
    containerName(resourceName: string): string {
        const live = this.live.get(`${CONTAINER}::${resourceName}`);
        if (!live?.dockerName) throw new Error(`no live container ${resourceName} in stack ${this.stack}`);
        return live.dockerName;
    }

    /** Every live container: resource name, engine name and ID, and what was declared. */
    containers(): { name: string; dockerName: string; id: string; resource: DeclaredResource }[] {
        return [...this.live.values()]
            .filter((l) => l.resource.type === CONTAINER && l.dockerName)
            .map((l) => ({ name: l.resource.name, dockerName: l.dockerName as string, id: l.id as string, resource: l.resource }));
    }

    /** Removes everything this deployment created, data volumes included (a test's clean-up). */
    async destroy(): Promise<void> {
        const order = [...this.live.values()].reverse();
        for (const live of order) await this.delete(live, { keepRetained: false }).catch(() => undefined);
        this.live.clear();
    }

    private async create(resource: DeclaredResource): Promise<Live> {
        switch (resource.type) {
            case NETWORK: {
                const name = dockerNameOf(resource, this.stack);
                const { id } = await provider.createNetwork(this.docker, name, resource.inputs);
                return { resource, dockerName: name, id };
            }
            case VOLUME: {
                const name = dockerNameOf(resource, this.stack);
                // A retained data volume kept by an earlier destroy is reattached, as the provider does.
                if (!(await volumeExists(this.docker, name))) await provider.createVolume(this.docker, name, resource.inputs);
                return { resource, dockerName: name };
            }
            case REMOTE_IMAGE:
                // keepLocally and no registry here: the image must already be on the engine.
                if (spawnSync("docker", ["image", "inspect", resource.inputs.name]).status !== 0) {
                    throw new Error(`${resource.name}: image ${resource.inputs.name} is not on the engine and no registry is reachable`);
                }
                return { resource };
            case CONTAINER: {
                const name = `${this.stack}-${resource.name}-${++this.generation}`;
                const state = await provider.createContainer(this.docker, name, resource.inputs as provider.ContainerInputs);
                return { resource, dockerName: name, id: state.id };
            }
            case COMMAND:
                await this.runCommand(resource);
                return { resource };
            case SECRET:
                return { resource, dockerName: resource.inputs.name, id: await swarm.createSecret(this.docker, resource.inputs) };
            case CONFIG:
                return { resource, dockerName: resource.inputs.name, id: await swarm.createConfig(this.docker, resource.inputs) };
            case SERVICE: {
                const sent = this.withLiveIds(resource.inputs);
                return { resource, dockerName: resource.inputs.name, id: await swarm.createService(this.docker, sent), sent };
            }
            default:
                return { resource };
        }
    }

    private async updateContainer(prev: Live, next: DeclaredResource): Promise<void> {
        // The provider's Update applies only these; other in-place fields change the state alone.
        const mb = (value: unknown) => (typeof value === "number" && value > 0 ? value * 1024 * 1024 : undefined);
        await this.docker.getContainer(prev.dockerName as string).update({
            Memory: mb(next.inputs.memory),
            MemorySwap: mb(next.inputs.memorySwap),
            RestartPolicy: { Name: next.inputs.restart },
        });
    }

    private async delete(live: Live, { keepRetained = true } = {}): Promise<void> {
        const { resource, dockerName } = live;
        if (!dockerName) return;
        if (resource.type === CONTAINER) await provider.deleteContainer(this.docker, dockerName, resource.inputs);
        else if (resource.type === SERVICE) await swarm.deleteService(this.docker, live.id as string, resource.inputs);
        else if (resource.type === SECRET) await this.docker.getSecret(live.id as string).remove();
        else if (resource.type === CONFIG) await (this.docker as any).getConfig(live.id as string).remove();
        else if (resource.type === NETWORK) await provider.deleteNetwork(this.docker, dockerName);
        else if (resource.type === VOLUME && !(keepRetained && resource.opts.retainOnDelete)) await provider.deleteVolume(this.docker, dockerName);
    }

    /** As @pulumi/command's local.Command: `sh -c create` in `dir`, with `stdin`; a non-zero exit fails the update. */
    private async runCommand(resource: DeclaredResource): Promise<void> {
        const { create, dir, stdin } = resource.inputs;
        // Asynchronous, so other steps and a test's load generator go on meanwhile.
        const child = spawn("sh", ["-c", create], { cwd: dir, stdio: ["pipe", "ignore", "pipe"], timeout: 600_000 });
        let stderr = "";
        child.stderr.on("data", (chunk) => (stderr += chunk));
        child.stdin.end(this.withLiveNames(String(stdin ?? "")));
        const code = await new Promise<number | null>((resolve, reject) => child.on("error", reject).on("close", resolve));
        if (code !== 0) throw new Error(`${resource.name}: command failed (${code}): ${stderr}`);
        this.commandLog.push(`${resource.name}: ${stderr.trim()}`);
    }

    /** What the commands printed, in order (docker-files.js says what it wrote and reloaded). */
    readonly commandLog: string[] = [];

    /** Every live service: resource name, engine ID, and the inputs sent (engine IDs in place). */
    services(): { name: string; id: string; sent: Record<string, any> }[] {
        return [...this.live.values()]
            .filter((l) => l.resource.type === SERVICE && l.id)
            .map((l) => ({ name: l.resource.name, id: l.id as string, sent: l.sent as Record<string, any> }));
    }

    /** The IDs the mocks handed out ("<name>-id") for networks and Swarm objects, replaced by the engine's. */
    private withLiveIds(inputs: Record<string, any>): Record<string, any> {
        let text = JSON.stringify(inputs);
        for (const live of this.live.values()) {
            if (live.id && (live.resource.type === NETWORK || SWARM_TYPES.includes(live.resource.type))) text = text.split(`"${live.resource.name}-id"`).join(`"${live.id}"`);
        }
        return JSON.parse(text);
    }

    /** Container IDs the mocks handed out (`"<name>-id"`) replaced by the live engine names. */
    private withLiveNames(text: string): string {
        for (const live of this.live.values()) {
            if (live.resource.type === CONTAINER && live.dockerName) text = text.split(`"${live.resource.name}-id"`).join(`"${live.dockerName}"`);
        }
        return text;
    }
}

/** Volumes, networks and containers the deployment creates on the engine (the rest are values or commands). */
function isEngineResource(r: DeclaredResource): boolean {
    return r.type === CONTAINER || r.type === VOLUME || r.type === NETWORK || r.type === REMOTE_IMAGE || SWARM_TYPES.includes(r.type);
}

function dockerNameOf(r: DeclaredResource, stack: string): string {
    return r.inputs.name ?? `${stack}-${r.name}`;
}

async function volumeExists(docker: Docker, name: string): Promise<boolean> {
    return docker.getVolume(name).inspect().then(() => true, () => false);
}

/** Input fields that differ, less those the resource ignores; a changed replacementTrigger counts. */
function changedFields(prev: DeclaredResource, next: DeclaredResource): string[] {
    const ignored = new Set(next.opts.ignoreChanges ?? []);
    const fields = [...new Set([...Object.keys(prev.inputs), ...Object.keys(next.inputs)])]
        .filter((f) => !ignored.has(f) && JSON.stringify(prev.inputs[f]) !== JSON.stringify(next.inputs[f]));
    if (JSON.stringify(prev.opts.replacementTrigger) !== JSON.stringify(next.opts.replacementTrigger)) fields.push("replacementTrigger");
    return fields.sort();
}

/** The resources in an order the engine could create them one by one: each after its dependencies, otherwise in declaration order. */
export function dependencyOrder(run: ProgramRun, stack: string): DeclaredResource[] {
    const deps = dependencies(run, stack);
    const ordered: DeclaredResource[] = [];
    const done = new Set<DeclaredResource>();
    const visit = (r: DeclaredResource, path: DeclaredResource[]) => {
        if (done.has(r)) return;
        if (path.includes(r)) throw new Error(`dependency cycle: ${[...path, r].map((x) => x.name).join(" → ")}`);
        for (const d of deps.get(r) ?? []) visit(d, [...path, r]);
        done.add(r);
        ordered.push(r);
    };
    for (const r of run.resources) visit(r, []);
    return ordered;
}

/**
 * What each resource waits for: what it explicitly depends on (a component stands for all
 * its descendants), and the volumes, networks, pulled images and containers its inputs name.
 */
export function dependencies(run: ProgramRun, stack: string): Map<DeclaredResource, Set<DeclaredResource>> {
    const ancestors = (r: DeclaredResource): string[] => {
        const names: string[] = [];
        for (let p = (r.opts.parent as any) ?? undefined; p; p = p.__parentResource) names.push(p.__name);
        return names;
    };
    const deps = new Map<DeclaredResource, Set<DeclaredResource>>();
    for (const r of run.resources) {
        const set = new Set<DeclaredResource>();
        const explicit = ((r.opts.dependsOn as { __name?: string }[] | undefined) ?? []).map((d) => d.__name);
        for (const other of run.resources) {
            if (other === r) continue;
            const named = explicit.includes(other.name) || explicit.some((n) => n !== undefined && ancestors(other).includes(n));
            // A command's stdin is JSON text itself: search it as it is.
            const text = r.type === COMMAND ? String(r.inputs.stdin ?? "") : JSON.stringify(r.inputs);
            const referenced =
                ((other.type === CONTAINER || other.type === NETWORK || SWARM_TYPES.includes(other.type)) && text.includes(`"${other.name}-id"`)) ||
                ((other.type === VOLUME || other.type === NETWORK) && text.includes(`"${dockerNameOf(other, stack)}"`)) ||
                (other.type === REMOTE_IMAGE && r.type === CONTAINER && r.inputs.image === other.inputs.name);
            if (named || referenced) set.add(other);
        }
        deps.set(r, set);
    }
    return deps;
}
