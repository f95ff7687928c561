import type * as pulumi from "@pulumi/pulumi";
import * as fs from "fs";
import { Change, dependencyNames, diffRuns, mockGenerated, ProgramRun, runProgram } from "./helpers/pulumiProgram";
import { deletesWhileInUse, plannedReplacements } from "./helpers/replacementPlan";

/**
 * What each operator's config change does to the running platform, read from the resources
 * the program declares before and after it (on Pulumi's mocks):
 *   added / removed   resources that appear or go
 *   replaced          a container whose inputs change outside ignoreChanges (new container;
 *                     app replicas new-before-old, one at a time; the order each replacement
 *                     takes is checked below against test/engine/replacementRules.ts), or a
 *                     generator with new inputs
 *   updated in place  fields the provider changes on the running object (`docker update` of
 *                     memory, a certificate's renewal window)
 *   pushed            LiveFiles commands that re-run: files written into the running
 *                     container, then a graceful reload; the container only ignores its uploads
 * Set CHANGES_TABLE=<file> to write the table as Markdown.
 */

const CONTAINER = "docker:index/container:Container";
/**
 * Container fields the docker provider (5.x, terraform-provider-docker) updates on the running
 * container with `docker update` (resourceDockerContainerUpdate); every other field replaces it.
 */
const containerFieldsUpdatedInPlace = ["restart", "maxRetryCount", "cpuShares", "memory", "cpuSet", "memorySwap"];
/** Fields of other resources that their providers update without replacing. */
const fieldsUpdatedInPlace: Record<string, string[]> = {
    [CONTAINER]: containerFieldsUpdatedInPlace,
    // tls: early_renewal_hours is not ForceNew; it only moves the renewal window.
    "tls:index/selfSignedCert:SelfSignedCert": ["earlyRenewalHours"],
};

interface Effect {
    added: string[];
    removed: string[];
    replaced: string[];
    updatedInPlace: string[];
    pushed: string[];
}

const nameOf = (key: string) => key.split("::")[1];
const typeOf = (key: string) => key.split("::")[0];

function effectOf(before: ProgramRun, after: ProgramRun): Effect {
    const diff = diffRuns(before, after);
    const effect: Effect = {
        added: diff.added.map(nameOf),
        removed: diff.removed.map(nameOf),
        replaced: [],
        updatedInPlace: [],
        pushed: [],
    };
    for (const change of diff.changed) {
        const kind = classify(change);
        if (kind) effect[kind].push(nameOf(change.key));
    }
    for (const list of Object.values(effect)) list.sort();
    return effect;
}

function classify(change: Change): keyof Effect | undefined {
    if (change.ignored) return undefined; // only uploads changed: LiveFiles pushes them; the container stays
    if (typeOf(change.key) === "command:local:Command") return "pushed";
    const inPlace = fieldsUpdatedInPlace[typeOf(change.key)] ?? [];
    return change.fields.every((f) => inPlace.includes(f)) ? "updatedInPlace" : "replaced";
}

const replicaNames = ["app-replica-0", "app-replica-1"];
const none: Effect = { added: [], removed: [], replaced: [], updatedInPlace: [], pushed: [] };

interface Case {
    label: string;
    config: Record<string, string>;
    secrets?: Record<string, string>;
    expected: Effect;
}

const cases: Case[] = [
    {
        label: "replicas 2 → 3",
        config: { replicas: "3" },
        // The AppReplicasBelowConfigured threshold is in the rules file: pushed, Prometheus reloaded.
        expected: { ...none, added: ["app-replica-2"], pushed: ["metrics-config-push"] },
    },
    {
        label: "appMemoryMb 2048 → 1024",
        config: { appMemoryMb: "1024" },
        expected: { ...none, updatedInPlace: replicaNames },
    },
    {
        label: "appCpus 2.0 → 1.5",
        config: { appCpus: "1.5" },
        expected: { ...none, replaced: replicaNames },
    },
    {
        label: "appImage: local build → registry.example.org/clinical-bdd:1.2.0",
        config: { appImage: "registry.example.org/clinical-bdd:1.2.0" },
        // The secret files are written again with the new image as the vehicle (same contents).
        expected: { ...none, removed: ["app-image"], replaced: replicaNames, pushed: ["app-secret-files-write"] },
    },
    {
        label: "tlsRotation 0 → 1",
        config: { tlsRotation: "1" },
        expected: { ...none, replaced: ["tls-cert", "tls-key"], pushed: ["front-door-config-push"] },
    },
    {
        label: "tlsValidityDays 365 → 90",
        config: { tlsValidityDays: "90" },
        expected: { ...none, replaced: ["tls-cert"], pushed: ["front-door-config-push"] },
    },
    {
        label: "tlsRenewBeforeDays 30 → 10",
        config: { tlsRenewBeforeDays: "10" },
        // The certificate is not reissued now (only its window moves); the expiry alert's threshold is reloaded.
        expected: { ...none, updatedInPlace: ["tls-cert"], pushed: ["metrics-config-push"] },
    },
    {
        label: "maxBodyMb 2 → 10",
        config: { maxBodyMb: "10" },
        // nginx's client_max_body_size is pushed and reloaded; the app's MAX_BODY_BYTES rolls the replicas.
        expected: { ...none, replaced: replicaNames, pushed: ["front-door-config-push"] },
    },
    {
        label: "requestTimeoutSeconds 300 → 60",
        config: { requestTimeoutSeconds: "60" },
        expected: { ...none, replaced: replicaNames, pushed: ["front-door-config-push"] },
    },
    {
        label: "grafanaPasswordRotation 0 → 1",
        config: { grafanaPasswordRotation: "1" },
        expected: { ...none, replaced: ["dashboards-admin-password"], pushed: ["dashboards-files-push"] },
    },
    {
        label: "prometheusRetention 200h → 15d",
        config: { prometheusRetention: "15d" },
        // A command-line flag: Prometheus restarts on the same data volume (nginx and the app are untouched).
        expected: { ...none, replaced: ["metrics-prometheus"] },
    },
    {
        label: "alert receivers: e-mail via SMTP and a webhook",
        config: { alertEmailTo: "oncall@example.org", smtpSmarthost: "smtp.example.org:587", smtpUsername: "alertmanager" },
        secrets: { smtpPassword: "smtp-secret-value", alertWebhookUrl: "https://hooks.example.org/T0/B0/secret-token" },
        expected: { ...none, pushed: ["alerting-config-push"] },
    },
    {
        label: "backupRetention 48 → 96, backupIntervalMinutes 60 → 30",
        config: { backupRetention: "96", backupIntervalMinutes: "30" },
        // Environment of the job only; its archives are on a volume that stays.
        expected: { ...none, replaced: ["backups-job"] },
    },
    {
        label: "backupIntervalMinutes 60 → 90",
        config: { backupIntervalMinutes: "90" },
        // BackupTooOld allows twice the interval (3 h) when that exceeds 2 h: the rules file is pushed.
        expected: { ...none, replaced: ["backups-job"], pushed: ["metrics-config-push"] },
    },
    {
        label: "nginxImage 1.27.3 → 1.27.4",
        config: { nginxImage: "nginx:1.27.4-alpine" },
        // The new image is pulled (its own resource) before the old container is removed.
        expected: { ...none, replaced: ["front-door-nginx", "front-door-nginx-image"] },
    },
];

let base: ProgramRun;
const runs = new Map<string, ProgramRun>();
const effects = new Map<string, Effect>();

beforeAll(async () => {
    base = await runProgram();
    for (const c of cases) {
        const run = await runProgram(c.config, c.secrets ?? {});
        runs.set(c.label, run);
        effects.set(c.label, effectOf(base, run));
    }
}, 300_000);

afterAll(() => {
    if (process.env.CHANGES_TABLE) fs.writeFileSync(process.env.CHANGES_TABLE, changesTable());
});

describe("each config change touches exactly the resources that own it", () => {
    test.each(cases.map((c) => [c.label, c] as const))("%s", (_label, c) => {
        expect(effects.get(c.label)).toEqual(c.expected);
    });

    test("the unchanged config changes nothing (the diff is real, not noise)", async () => {
        expect(effectOf(base, await runProgram())).toEqual(none);
    });
});

describe("each replacement in the order the provider, the bridge and the engine give it", () => {
    test.each(cases.map((c) => [c.label, c] as const))("%s: nothing in use is deleted before its successor exists", (_label, c) => {
        expect(deletesWhileInUse(base, runs.get(c.label) as ProgramRun)).toEqual([]);
    });

    test("app replicas start beside the ones they replace (the option overrides the provider's delete-first); nginx and the job go first", () => {
        const order = (label: string) =>
            Object.fromEntries(plannedReplacements(base, runs.get(label) as ProgramRun).map((p) => [p.resource.name, `${p.deleteFirst ? "delete first" : "create first"} (${p.decidedBy})`]));
        expect(order("appCpus 2.0 → 1.5")).toEqual({ "app-replica-0": "create first (option)", "app-replica-1": "create first (option)" });
        // The new image is pulled beside the old one (RemoteImage has no name of its own), then nginx goes first.
        expect(order("nginxImage 1.27.3 → 1.27.4")).toEqual({ "front-door-nginx": "delete first (option)", "front-door-nginx-image": "create first (default)" });
        expect(order("backupIntervalMinutes 60 → 90")).toEqual({ "backups-job": "delete first (provider: ResourceInfo)" });
    });
});

describe("the front door stays up", () => {
    test("no change but the nginx image replaces, updates or removes front-door-nginx", () => {
        const touching = cases
            .filter((c) => {
                const e = effects.get(c.label) as Effect;
                return [...e.replaced, ...e.updatedInPlace, ...e.removed].includes("front-door-nginx");
            })
            .map((c) => c.label);
        expect(touching).toEqual(["nginxImage 1.27.3 → 1.27.4"]);
    });

    test("a rotated key and certificate reach nginx through the push, while its container ignores its uploads", () => {
        const run = runs.get("tlsRotation 0 → 1") as ProgramRun;
        const push = run.one("command:local:Command", "front-door-config-push");
        const request = JSON.parse(push.inputs.stdin);
        const file = (path: string) => request.files.find((f: { path: string }) => f.path === path)?.content;
        expect(file("/etc/nginx/tls/key.pem")).toBe(`${mockGenerated("tls-key")}-generation-1`);
        expect(file("/etc/nginx/tls/cert.pem")).toMatch(/generation-1/);
        expect(request.check).toEqual(["nginx", "-t", "-q"]);
        // nginx's master reloads on SIGHUP, sent by the daemon (docker kill --signal).
        expect(request.reload).toEqual({ signal: "HUP" });
        expect(run.one(CONTAINER, "front-door-nginx").opts.ignoreChanges).toEqual(["uploads"]);
    });

    test("a new nginx image replaces the container delete-first, since it holds the fixed ports 80 and 443", () => {
        const run = runs.get("nginxImage 1.27.3 → 1.27.4") as ProgramRun;
        expect((run.one(CONTAINER, "front-door-nginx").opts as pulumi.CustomResourceOptions).deleteBeforeReplace).toBe(true);
    });
});

describe("changes that land in a running process", () => {
    test("a rotated Grafana password is pushed and set with grafana cli, read from the file, never on a command line", () => {
        const run = runs.get("grafanaPasswordRotation 0 → 1") as ProgramRun;
        const push = run.one("command:local:Command", "dashboards-files-push");
        const request = JSON.parse(push.inputs.stdin);
        const password = `${mockGenerated("dashboards-admin-password")}-generation-1`;
        expect(request.files.find((f: { path: string }) => f.path === "/etc/grafana/secrets/admin_password")?.content).toBe(password);
        expect(request.reload.exec.join(" ")).toMatch(/grafana cli .*reset-admin-password --password-from-stdin < \/etc\/grafana\/secrets\/admin_password/);
        // As Grafana's own uid: a `docker exec -u 0` root has no capabilities under no-new-privileges.
        expect(request.reload.user).toBe("472");
        expect(JSON.stringify([push.inputs.create, request.reload, request.check])).not.toContain(password);
    });

    test("replaced app replicas roll one at a time: each waits for its healthcheck and follows the one before", () => {
        for (const label of ["appCpus 2.0 → 1.5", "maxBodyMb 2 → 10", "appImage: local build → registry.example.org/clinical-bdd:1.2.0"]) {
            const run = runs.get(label) as ProgramRun;
            const [first, second] = replicaNames.map((n) => run.one(CONTAINER, n));
            expect({ label, wait: [first.inputs.wait, second.inputs.wait] }).toEqual({ label, wait: [true, true] });
            expect({ label, deps: [dependencyNames(first), dependencyNames(second)] })
                .toEqual({ label, deps: [["app-secret-files"], ["app-secret-files", "app-replica-0"]] });
            // Generated names and deleteBeforeReplace false (the provider would delete first): the new container starts before the old goes.
            expect({ label, deleteFirst: (second.opts as pulumi.CustomResourceOptions).deleteBeforeReplace }).toEqual({ label, deleteFirst: false });
        }
    });

    test("the app's env carries the new body limit and timeout that nginx enforces", () => {
        expect(runs.get("maxBodyMb 2 → 10")?.one(CONTAINER, "app-replica-0").inputs.envs).toContain(`MAX_BODY_BYTES=${10 * 1024 * 1024}`);
        expect(runs.get("requestTimeoutSeconds 300 → 60")?.one(CONTAINER, "app-replica-1").inputs.envs).toContain("REQUEST_TIMEOUT_SECONDS=60");
    });

    test("alert receivers reach Alertmanager by the push; the webhook token and SMTP password stay out of its command line", () => {
        const run = runs.get("alert receivers: e-mail via SMTP and a webhook") as ProgramRun;
        const push = run.one("command:local:Command", "alerting-config-push");
        expect(push.inputs.stdin).toContain("oncall@example.org");
        const alertmanager = run.one(CONTAINER, "alerting-alertmanager");
        const visible = JSON.stringify([alertmanager.inputs.command, alertmanager.inputs.envs, push.inputs.create]);
        expect(visible).not.toMatch(/secret-token|smtp-secret-value/);
    });

    test("a new retention replaces Prometheus on the same, retained data volume", () => {
        const run = runs.get("prometheusRetention 200h → 15d") as ProgramRun;
        const prometheus = run.one(CONTAINER, "metrics-prometheus");
        expect(prometheus.inputs.command).toContain("--storage.tsdb.retention.time=15d");
        expect(prometheus.inputs.volumes[0].volumeName).toBe("clinical-bdd-creator-test-prometheus-data");
        expect(run.one("docker:index/volume:Volume", "metrics-data").opts.retainOnDelete).toBe(true);
    });
});

/** The results as a Markdown table: one row per change. */
function changesTable(): string {
    const cell = (names: string[]) => (names.length ? names.join(", ") : "—");
    const rows = cases.map((c) => {
        const e = effects.get(c.label) as Effect;
        const nginx = [...e.replaced, ...e.removed].includes("front-door-nginx") ? "replaced" : e.pushed.includes("front-door-config-push") ? "reloaded" : "untouched";
        return `| ${c.label} | ${cell([...e.added.map((n) => `+${n}`), ...e.removed.map((n) => `-${n}`)])} | ${cell(e.replaced)} | ${cell(e.updatedInPlace)} | ${cell(e.pushed)} | ${nginx} |`;
    });
    return [
        "| change | added/removed | replaced | updated in place | pushed + reloaded | nginx container |",
        "|---|---|---|---|---|---|",
        ...rows,
        "",
    ].join("\n");
}
