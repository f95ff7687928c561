import { spawnSync } from "child_process";
import * as pulumi from "@pulumi/pulumi";
import * as fs from "fs";
import * as path from "path";
import { DeclaredResource, ProgramRun, runProgram } from "./helpers/pulumiProgram";

/**
 * The program of the last commit before the layout moved (issue 18) and the program of this
 * checkout declare the same platform: the same URNs (type, parents and name: what the Pulumi
 * engine knows a resource by), the same inputs and the same resource options, on both
 * targets and on configs that exercise every optional part. So a `pulumi up` after the move
 * plans 0 changes on a stack deployed before it. test/engine/platform.test.ts checks the
 * same on the real engine. When a later change alters resources on purpose, this test's
 * baseline is the commit before the move, not the previous commit: it guards the move only.
 */
const baselineCommit = "8801f13";
const root = path.join(__dirname, "..");
const baselineDir = path.join(root, ".cache", `program-${baselineCommit}`);

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
    if (fs.existsSync(path.join(baselineDir, "index.ts"))) return;
    fs.mkdirSync(baselineDir, { recursive: true });
    const archive = spawnSync("git", ["-C", root, "archive", "--format=tar", baselineCommit, "index.ts", "components", "monitoring", "targets", "scripts", "backup", "app", "Pulumi.yaml"], { maxBuffer: 256 * 1024 * 1024 });
    if (archive.status !== 0) throw new Error(`git archive ${baselineCommit} failed (a shallow clone lacks it): ${archive.stderr}`);
    const untar = spawnSync("tar", ["-x", "-C", baselineDir], { input: archive.stdout });
    if (untar.status !== 0) throw new Error(`tar: ${untar.stderr}`);
});

/** A resource as the engine compares it: URN, inputs and options, the checkout's path in place of the baseline's. */
function comparable(run: ProgramRun, programRoot: string): Map<string, unknown> {
    const normalise = (value: unknown) => JSON.parse(JSON.stringify(value ?? null).split(programRoot).join("<root>"));
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
        // The baseline really ran from its own folder (the backup image is built from there).
        expect(JSON.stringify(old.resources.map((r) => r.inputs))).toContain(baselineDir);
        before = comparable(old, baselineDir);
        after = comparable(now, root);
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
        const plain = (o: ProgramRun["outputs"]) => JSON.parse(JSON.stringify(o).split(baselineDir).join(root));
        expect(plain(outputsAfter)).toEqual(plain(outputsBefore));
    });
});
