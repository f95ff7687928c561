import * as pulumi from "@pulumi/pulumi";
import { createHash } from "crypto";
import * as path from "path";

/** One resource the program declared, as the Pulumi engine would have received it. */
export interface DeclaredResource {
    readonly type: string;
    readonly name: string;
    /** Its URN, which holds its parents' types: what the Pulumi engine knows it by. */
    urn?: string;
    readonly inputs: Record<string, any>;
    /** The options that decide how a change lands: ignoreChanges, deleteBeforeReplace, retainOnDelete, dependsOn. */
    readonly opts: pulumi.ResourceOptions;
}

export interface ProgramRun {
    readonly resources: DeclaredResource[];
    /** Stack outputs, resolved, with whether each is secret. */
    readonly outputs: Record<string, { value: unknown; secret: boolean }>;
    byType(type: string): DeclaredResource[];
    one(type: string, name: string): DeclaredResource;
}

/** Values the mocks give to generated secrets, so tests can search for them anywhere. */
export const mockGenerated = (name: string) => `generated-secret-of-${name}`;

/**
 * What a real deployment's providers would return for one resource, where a test needs the
 * real thing (test/engine: a built image's ID, a real certificate); undefined keeps the mock's.
 */
export type ProviderOutputs = (
    type: string,
    name: string,
    inputs: Record<string, any>,
    opts: pulumi.ResourceOptions,
) => Promise<Record<string, unknown> | undefined> | Record<string, unknown> | undefined;

export interface RunOptions {
    /** Stack name; default "test". */
    readonly stack?: string;
    /** Provider outputs that replace the mock's (test/engine). */
    readonly providerOutputs?: ProviderOutputs;
    /**
     * The folder holding the program's index.ts; default this repository's root. Paths under
     * it in the inputs read as under this checkout, as if that program had been checked out here.
     */
    readonly programDir?: string;
}

/**
 * Runs index.ts on Pulumi's mocks (no CLI, no engine, no Docker) with the given config
 * (keys without the project prefix) and returns every resource it declared. Secret config
 * values go in `secrets`. A config error surfaces as the returned promise's rejection.
 */
export async function runProgram(config: Record<string, string> = {}, secrets: Record<string, string> = {}, options: RunOptions = {}): Promise<ProgramRun> {
    const resources: DeclaredResource[] = [];
    const optsByName = new Map<string, pulumi.ResourceOptions>();
    const urnByName = new Map<string, pulumi.Output<string>>();
    await pulumi.runtime.setMocks(
        {
            newResource: async (args) => {
                const inputs = asIfHere(unwrapSecrets(args.inputs), options.programDir);
                resources.push({ type: args.type, name: args.name, inputs, opts: optsByName.get(`${args.type}::${args.name}`) ?? {} });
                const opts = optsByName.get(`${args.type}::${args.name}`) ?? {};
                const real = await options.providerOutputs?.(args.type, args.name, inputs, opts);
                return { id: `${args.name}-id`, state: { ...args.inputs, ...(real ?? mockState(args.type, args.name, args.inputs, opts)) } };
            },
            call: (args) => args.inputs,
        },
        "clinical-bdd-creator",
        options.stack ?? "test",
        true,
    );
    const all: Record<string, string> = {};
    for (const [k, v] of Object.entries({ ...config, ...secrets })) all[`clinical-bdd-creator:${k}`] = v;
    pulumi.runtime.setAllConfig(all, Object.keys(secrets).map((k) => `clinical-bdd-creator:${k}`));

    let program: Record<string, unknown> = {};
    jest.isolateModules(() => {
        // The mocks never see resource options; record them where the SDK registers each resource.
        const sdk = require("@pulumi/pulumi/runtime/resource");
        const register = sdk.registerResource;
        sdk.registerResource = (res: unknown, parent: unknown, type: string, name: string, ...rest: any[]) => {
            optsByName.set(`${type}::${name}`, rest[4] ?? {});
            const registered = register(res, parent, type, name, ...rest);
            urnByName.set(`${type}::${name}`, (res as pulumi.Resource).urn);
            return registered;
        };
        program = require(path.join(options.programDir ?? path.join(__dirname, "..", ".."), "index"));
    });
    const outputs: ProgramRun["outputs"] = {};
    for (const [key, value] of Object.entries(program)) {
        if (pulumi.Output.isInstance(value)) {
            const secret = await (value as any).isSecret;
            outputs[key] = { value: await new Promise((resolve) => value.apply(resolve)), secret };
        } else {
            outputs[key] = { value, secret: false };
        }
    }
    // Resources register once their inputs resolve; let the last registrations land.
    await new Promise((resolve) => setTimeout(resolve, 50));
    for (const r of resources) {
        const urn = urnByName.get(`${r.type}::${r.name}`);
        if (urn) r.urn = await new Promise<string>((resolve) => urn.apply(resolve));
    }
    return {
        resources,
        outputs,
        byType: (type) => resources.filter((r) => r.type === type),
        one: (type, name) => {
            const found = resources.find((r) => r.type === type && r.name === name);
            if (!found) throw new Error(`no ${type} named ${name}; declared: ${resources.map((r) => r.name).join(", ")}`);
            return found;
        },
    };
}

/** Inputs with `programDir`'s paths as this checkout's (a build context, a command's folder). */
function asIfHere(inputs: Record<string, any>, programDir: string | undefined): Record<string, any> {
    if (!programDir) return inputs;
    return JSON.parse(JSON.stringify(inputs).split(programDir).join(path.join(__dirname, "..", "..")));
}

/** Inputs reach the mocks with secrets wrapped in Pulumi's wire form; tests look at the values. */
function unwrapSecrets(value: any): any {
    if (Array.isArray(value)) return value.map(unwrapSecrets);
    if (value && typeof value === "object") {
        if (value[pulumi.runtime.specialSigKey] === pulumi.runtime.specialSecretSig) return unwrapSecrets(value.value);
        return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, unwrapSecrets(v)]));
    }
    return value;
}

/**
 * The provider-computed outputs a real deployment would return, for the resources that have
 * some. A generator that a real `pulumi up` would replace (a bumped rotation keeper or
 * replacementTrigger, new certificate fields) yields a new value, as it would for real; the
 * default config yields exactly mockGenerated(name).
 */
function mockState(type: string, name: string, inputs: Record<string, any>, opts: pulumi.ResourceOptions): Record<string, unknown> {
    const generation = (trigger: unknown) => (trigger === undefined || trigger === 0 || trigger === "0" ? "" : `-generation-${String(trigger)}`);
    switch (type) {
        case "random:index/randomPassword:RandomPassword":
            return { result: mockGenerated(name) + generation(inputs.keepers?.rotation) };
        case "tls:index/privateKey:PrivateKey":
            return { privateKeyPem: mockGenerated(name) + generation(opts.replacementTrigger) };
        case "tls:index/selfSignedCert:SelfSignedCert": {
            // Every field but earlyRenewalHours (updated in place) makes a new certificate.
            const { earlyRenewalHours: _inPlace, ...issued } = inputs;
            const fingerprint = createHash("sha256").update(JSON.stringify(issued)).digest("hex").slice(0, 12);
            return {
                certPem: `-----BEGIN CERTIFICATE-----\nmock-${name}-${fingerprint}${generation(opts.replacementTrigger)}\n-----END CERTIFICATE-----\n`,
                validityEndTime: new Date(Date.UTC(2027, 10, 28)).toISOString(),
            };
        }
        case "docker:index/image:Image":
            return { repoDigest: "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef" };
        case "docker:index/container:Container":
        case "docker:index/network:Network":
        case "docker:index/volume:Volume":
            return { name: inputs.name ?? `${name}-docker-name` };
        default:
            return {};
    }
}

/** A resource declared in both runs whose inputs differ, with the top-level fields that differ. */
export interface Change {
    readonly key: string;
    readonly fields: string[];
    /** True when every differing field is one the resource ignores (applied another way, e.g. LiveFiles). */
    readonly ignored: boolean;
}

/** What a config change does, resource by resource: added, removed, and changed (by field). */
export function diffRuns(before: ProgramRun, after: ProgramRun): { added: string[]; removed: string[]; changed: Change[] } {
    const keyOf = (r: DeclaredResource) => `${r.type}::${r.name}`;
    const index = (run: ProgramRun) => new Map(run.resources.map((r) => [keyOf(r), r]));
    const a = index(before);
    const b = index(after);
    const changed: Change[] = [];
    for (const [key, next] of b) {
        const prev = a.get(key);
        if (!prev) continue;
        const fields = [...new Set([...Object.keys(prev.inputs), ...Object.keys(next.inputs)])]
            .filter((f) => JSON.stringify(prev.inputs[f]) !== JSON.stringify(next.inputs[f]))
            .sort();
        // replacementTrigger is an option, not an input, but it replaces the resource all the same.
        if (JSON.stringify(prev.opts.replacementTrigger) !== JSON.stringify(next.opts.replacementTrigger)) fields.push("replacementTrigger");
        if (fields.length === 0) continue;
        const ignoredFields = next.opts.ignoreChanges ?? [];
        changed.push({ key, fields, ignored: fields.every((f) => ignoredFields.includes(f)) });
    }
    return {
        added: [...b.keys()].filter((k) => !a.has(k)),
        removed: [...a.keys()].filter((k) => !b.has(k)),
        changed,
    };
}

/** The request the app's VolumeFiles hands scripts/docker-files.js: the secret files written into the app's volume. */
export function secretFilesRequest(run: ProgramRun): { volume: string; files: { path: string; content: string; mode?: string; owner?: string }[] } {
    return JSON.parse(run.one("command:local:Command", "app-secret-files-write").inputs.stdin);
}

/** Names of the resources a resource was declared to depend on. */
export function dependencyNames(resource: DeclaredResource): string[] {
    const deps = (resource.opts.dependsOn as { __name?: string }[] | undefined) ?? [];
    return deps.map((d) => d.__name ?? "?");
}
