import * as pulumi from "@pulumi/pulumi";
import * as fs from "fs";
import * as path from "path";
import { baselineProgramDir } from "./helpers/baselineProgram";
import { DeclaredResource, ProgramRun, runProgram } from "./helpers/pulumiProgram";

/**
 * The program of the last commit before the layout moved (issue 18) and the program of this
 * checkout declare the same platform: the same URNs (type, parents and name: what the Pulumi
 * engine knows a resource by), the same inputs and the same resource options, on both
 * targets and on configs that exercise every optional part. So a `pulumi up` after the move
 * plans 0 changes on a stack deployed before it. test/engine/platform.test.ts checks the
 * same on the real engine (it deploys the baseline's program, then ups this one). The
 * baseline is the commit before the move (test/helpers/baselineProgram.ts): it guards moves.
 */
let baselineDir: string;

const configs: Record<string, Record<string, string>> = {
    "one host, defaults": {},
    "one host, everything optional on": {
        replicas: "3",
        publicGrafana: "true",
        backupHostPath: "/srv/backups",
        alertEmailTo: "ops@example.org",
        alertEmailFrom: "bdd@example.org",
        smtpSmarthost: "smtp.example.org:587",
        appImage: "registry.example.org/clinical-bdd-creator:1.2.3",
    },
    "swarm, host publish mode": { platform: "swarm", appImage: "registry.example.org/clinical-bdd-creator:1.2.3", replicas: "3" },
    "swarm, ingress": { platform: "swarm", appImage: "registry.example.org/clinical-bdd-creator:1.2.3", swarmPublishMode: "ingress", publicGrafana: "true" },
};

beforeAll(() => {
    baselineDir = baselineProgramDir();
    // The baseline is the old layout, not a copy of this one.
    expect(fs.existsSync(path.join(baselineDir, "components", "dockerContainer.ts"))).toBe(true);
    expect(fs.existsSync(path.join(baselineDir, "targets", "docker", "serviceGroup.ts"))).toBe(false);
});

/** A resource as the engine compares it: URN, inputs and options (runProgram reads the baseline's paths as this checkout's). */
function comparable(run: ProgramRun): Map<string, unknown> {
    const normalise = (value: unknown) => JSON.parse(JSON.stringify(value ?? null));
    const options = (r: DeclaredResource) => {
        const o = r.opts as pulumi.CustomResourceOptions;
        return {
            deleteBeforeReplace: o.deleteBeforeReplace,
            ignoreChanges: o.ignoreChanges,
            retainOnDelete: o.retainOnDelete,
            replacementTrigger: o.replacementTrigger,
            dependsOn: ((o.dependsOn as { __name?: string }[] | undefined) ?? []).map((d) => d.__name).sort(),
        };
    };
    return new Map(run.resources.map((r) => [r.urn ?? `${r.type}::${r.name}`, normalise({ inputs: r.inputs, options: options(r) })]));
}

describe.each(Object.entries(configs))("the layout move changes nothing a deployed stack holds: %s", (_label, config) => {
    let before: Map<string, unknown>;
    let after: Map<string, unknown>;
    let outputsBefore: ProgramRun["outputs"];
    let outputsAfter: ProgramRun["outputs"];

    beforeAll(async () => {
        const old = await runProgram(config, {}, { programDir: baselineDir });
        const now = await runProgram(config);
        before = comparable(old);
        after = comparable(now);
        outputsBefore = old.outputs;
        outputsAfter = now.outputs;
    });

    test("the same URNs: nothing created, deleted or re-parented", () => {
        expect([...after.keys()].filter((urn) => !before.has(urn))).toEqual([]);
        expect([...before.keys()].filter((urn) => !after.has(urn))).toEqual([]);
        expect(after.size).toBeGreaterThan(20);
        expect([...after.keys()].filter((urn) => !urn.startsWith("urn:pulumi:"))).toEqual([]);
    });

    test("the same inputs and options: nothing updated or replaced", () => {
        const differing = [...after.keys()].filter((urn) => before.has(urn) && JSON.stringify(before.get(urn)) !== JSON.stringify(after.get(urn)));
        expect(differing.map((urn) => ({ urn, before: before.get(urn), after: after.get(urn) }))).toEqual([]);
    });

    test("the same stack outputs", () => {
        expect(outputsAfter).toEqual(outputsBefore);
    });
});
