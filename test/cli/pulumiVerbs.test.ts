/**
 * stop, scale, renew-cert, rotate-grafana-password: their plans compared exactly, and the
 * verbs run against a recording stack (the Automation API's place) and engine double: the
 * order and arguments of the calls they make from their inputs.
 */
import { bumpPlan, ChangeDeps } from "../../cli/changes";
import { main } from "../../cli/main";
import { needPulumiCli, usePlatformBackend } from "../../cli/pulumiEnv";
import { renewCert } from "../../cli/renewCert";
import { rotateGrafanaPassword } from "../../cli/rotateGrafanaPassword";
import { scale, scalePlan } from "../../cli/scale";
import { stop, stopPlan } from "../../cli/stop";
import { Context } from "../../cli/io";
import { capture, FakeEngine, runVerbIn } from "../helpers/fakeEngine";
import { RecordingStack } from "../helpers/recordingStack";
import { makeTempDir } from "../helpers/tools";

type Verb = (ctx: Context, args: readonly string[], deps: ChangeDeps) => Promise<void>;

function setUp(config: Record<string, string> = {}, answers: string[] = []) {
    const stack = new RecordingStack(config, { certificateExpiresAt: "2027-11-28T00:00:00.000Z" });
    const engine = new FakeEngine();
    const asked: string[] = [];
    const deps: ChangeDeps = { stack, engine, needPulumi: () => undefined, ask: async (q) => (asked.push(q), answers.shift() ?? "") };
    return { stack, engine, asked, deps };
}
const run = (verb: string, body: Verb, args: string[], deps: ChangeDeps, opts: Partial<Context> = {}) => runVerbIn(verb, (ctx) => body(ctx, args, deps), opts);

describe("plans", () => {
    test("scale N: replicas set, then up; the bounds are components/settings.ts's", () => {
        expect(scalePlan(["3"])).toEqual([{ kind: "config-set", key: "replicas", value: "3" }, { kind: "up" }]);
        expect(() => scalePlan([])).toThrow("scale needs the number of replicas");
        expect(() => scalePlan(["three"])).toThrow("replicas must be a whole number from 1 to 20, got 'three'");
        expect(() => scalePlan(["21"])).toThrow("got '21'");
        expect(() => scalePlan(["0"])).toThrow("got '0'");
    });

    test("a counter one up from its value, 0 when unset; a non-number refused", () => {
        expect(bumpPlan("tlsRotation", "2")).toEqual({ plan: [{ kind: "config-set", key: "tlsRotation", value: "3" }, { kind: "up" }], note: "tlsRotation 2 -> 3" });
        expect(bumpPlan("grafanaPasswordRotation", undefined).plan[0]).toEqual({ kind: "config-set", key: "grafanaPasswordRotation", value: "1" });
        expect(() => bumpPlan("tlsRotation", "x")).toThrow("tlsRotation is 'x', not a number; fix it with pulumi config set tlsRotation <n>");
    });

    test("stop: destroy; --delete-data on one host turns retention off in the state first and back after; on Swarm removes the volumes after", () => {
        expect(stopPlan("docker", false)).toEqual([{ kind: "destroy" }]);
        expect(stopPlan("docker", true)).toEqual([
            { kind: "config-set", key: "retainDataVolumes", value: "false" },
            { kind: "up" },
            { kind: "destroy" },
            { kind: "config-set", key: "retainDataVolumes", value: "true" },
        ]);
        expect(stopPlan("swarm", true, ["a", "b"])).toEqual([{ kind: "destroy" }, { kind: "volume-rm", volume: "a" }, { kind: "volume-rm", volume: "b" }]);
    });
});

describe("the verbs against a recording stack", () => {
    test("scale 3 --yes: config set then up, announced; no confirmation asked", async () => {
        const { stack, asked, deps } = setUp();
        const r = await run("scale", scale, ["3"], deps, { yes: true });
        expect(r.code).toBe(0);
        expect(stack.changes()).toEqual(["setConfig replicas=3", "up"]);
        expect(asked).toEqual([]);
        expect(r.stdout).toMatch(/scale: replicas -> 3[\s\S]*\+ pulumi config set replicas 3 --stack prod\n\+ pulumi up --stack prod --yes\nUpdating \(prod\):\n/);
    });

    test("without --yes, up is previewed and confirmed first; a no stops before up", async () => {
        const yes = setUp({}, ["yes"]);
        expect((await run("scale", scale, ["4"], yes.deps)).code).toBe(0);
        expect(yes.stack.calls).toEqual(["setConfig replicas=4", "preview", "up"]);
        expect(yes.asked).toEqual(["Do you want to perform this update? (yes/no) "]);
        const no = setUp({}, ["no"]);
        const r = await run("scale", scale, ["4"], no.deps);
        expect({ code: r.code, stderr: r.stderr, calls: no.stack.calls }).toEqual({ code: 1, stderr: "scale: not confirmed; the update was not performed\n", calls: ["setConfig replicas=4", "preview"] });
    });

    test("--dry-run prints the steps and calls nothing that changes", async () => {
        const { stack, deps } = setUp();
        const r = await run("scale", scale, ["5"], deps, { dryRun: true });
        expect(r.code).toBe(0);
        expect(stack.calls).toEqual([]);
        expect(r.stdout).toMatch(/would run: pulumi config set replicas 5 --stack prod\nwould run: pulumi up --stack prod\n/);
    });

    test("--stack picks the stack the commands name", async () => {
        const { deps } = setUp();
        expect((await run("scale", scale, ["2"], deps, { stack: "staging", yes: true })).stdout).toMatch(/\+ pulumi config set replicas 2 --stack staging\n\+ pulumi up --stack staging --yes/);
    });

    test("renew-cert bumps tlsRotation from its current value and prints the new expiry", async () => {
        const { stack, deps } = setUp({ tlsRotation: "2" });
        const r = await run("renew-cert", renewCert, [], deps, { yes: true });
        expect(r.code).toBe(0);
        expect(stack.calls).toEqual(["getConfig platform", "getConfig tlsRotation", "setConfig tlsRotation=3", "up", "output certificateExpiresAt"]);
        expect(r.stdout).toMatch(/nginx reloads them without a restart[\s\S]*tlsRotation 2 -> 3[\s\S]*expires: 2027-11-28/);
    });

    test("renew-cert on a Swarm stack says nginx's tasks are replaced by a rolling update", async () => {
        const { stack, deps } = setUp({ tlsRotation: "2", platform: "swarm" });
        const r = await run("renew-cert", renewCert, [], deps, { yes: true });
        expect(stack.changes()).toEqual(["setConfig tlsRotation=3", "up"]);
        expect(r.stdout).toMatch(/a new secret and config; the front-door nginx tasks are replaced one at a time, each new one serving before the old stops/);
    });

    test("rotate-grafana-password starts the counter at 1 and never reads the password", async () => {
        const { stack, deps } = setUp();
        const r = await run("rotate-grafana-password", rotateGrafanaPassword, [], deps, { yes: true });
        expect(stack.calls).toEqual(["getConfig platform", "getConfig grafanaPasswordRotation", "setConfig grafanaPasswordRotation=1", "up"]);
        expect(r.stdout).toMatch(/read it with: pulumi stack output grafanaAdminPassword --show-secrets --stack prod\n$/);
    });

    test("stop destroys and keeps the data volumes", async () => {
        const { stack, deps } = setUp();
        const r = await run("stop", stop, [], deps, { yes: true });
        expect(stack.changes()).toEqual(["destroy"]);
        expect(r.stdout).toMatch(/data volumes are kept/);
    });

    test("stop --delete-data --yes on one host: retention off in the state, up, destroy, retention back", async () => {
        const { stack, deps } = setUp();
        expect((await run("stop", stop, ["--delete-data"], deps, { yes: true })).code).toBe(0);
        expect(stack.changes()).toEqual(["setConfig retainDataVolumes=false", "up", "destroy", "setConfig retainDataVolumes=true"]);
    });

    test("stop --delete-data without --yes asks for the stack's name, and stops at a wrong answer", async () => {
        const wrong = setUp({}, ["yes"]);
        const r = await run("stop", stop, ["--delete-data"], wrong.deps);
        expect({ code: r.code, stderr: r.stderr, changes: wrong.stack.changes() }).toEqual({ code: 1, stderr: "stop: not confirmed; nothing was changed\n", changes: [] });
        const right = setUp({}, ["prod", "yes", "yes"]);
        expect((await run("stop", stop, ["--delete-data"], right.deps)).code).toBe(0);
        expect(right.asked).toEqual(["Type the stack name (prod) to delete its data: ", "Do you want to perform this update? (yes/no) ", "Do you want to perform this destroy? (yes/no) "]);
        expect(right.stack.calls.filter((c) => c !== "getConfig platform")).toEqual(["setConfig retainDataVolumes=false", "preview", "up", "previewDestroy", "destroy", "setConfig retainDataVolumes=true"]);
    });

    test("stop --delete-data on Swarm: no retention dance; destroy, then the volumes the services mount removed (retried while in use)", async () => {
        const { stack, engine, deps } = setUp({ platform: "swarm" });
        engine.volumeBusy["prod-grafana-data"] = 2;
        const r = await run("stop", stop, ["--delete-data"], deps, { yes: true, pollMs: 1 });
        expect(r.code).toBe(0);
        expect(stack.changes()).toEqual(["destroy"]);
        expect(engine.calls.filter((c) => c.startsWith("volume-rm"))).toEqual(["volume-rm prod-backups", "volume-rm prod-grafana-data", "volume-rm prod-grafana-data", "volume-rm prod-grafana-data", "volume-rm prod-prometheus-data"]);
        expect(r.stdout).toMatch(/these volumes on the data node will be DELETED: prod-backups prod-grafana-data prod-prometheus-data\n/);
        expect(r.stdout).toMatch(/\+ docker volume rm prod-backups\n\+ docker volume rm prod-grafana-data\n\+ docker volume rm prod-prometheus-data\n/);
    });

    test("stop --delete-data on Swarm with no volume named changes nothing", async () => {
        const { stack, engine, deps } = setUp({ platform: "swarm" });
        engine.volumes = [];
        const r = await run("stop", stop, ["--delete-data"], deps, { yes: true });
        expect({ code: r.code, changes: stack.changes() }).toEqual({ code: 1, changes: [] });
        expect(r.stderr).toMatch(/names a data volume[^\n]*nothing was changed/);
    });
});

describe("arguments and the Pulumi environment", () => {
    test.each([
        [["scale"], /^scale: scale needs the number of replicas/],
        [["scale", "three"], /replicas must be a whole number from 1 to 20, got 'three'/],
        [["stop", "--force"], /^stop: unknown argument --force/],
        [["renew-cert", "now"], /renew-cert takes no arguments/],
    ])("%j is refused with exit 2", async (argv, message) => {
        const io = capture();
        expect(await main(argv as string[], io, {})).toBe(2);
        expect(io.stderr).toMatch(message as RegExp);
    });

    test("without the Pulumi CLI, a Pulumi verb says how to install it", () => {
        expect(() => needPulumiCli({ PATH: "/nonexistent" })).toThrow(/the Pulumi CLI is not installed\.\n\s+Install it:\s+curl -fsSL https:\/\/get\.pulumi\.com \| sh/);
    });

    test("with no state and no backend it says to deploy first; a passphrase file is found or asked for", () => {
        const tmp = makeTempDir("pulumi-env");
        try {
            expect(() => usePlatformBackend({}, tmp.dir)).toThrow(/no state in \.pulumi-state\/ and PULUMI_BACKEND_URL is not set: deploy first/);
            const env: NodeJS.ProcessEnv = { PULUMI_BACKEND_URL: "file:///x", HOME: tmp.dir };
            expect(() => usePlatformBackend(env, tmp.dir)).toThrow(/no stack passphrase: set PULUMI_CONFIG_PASSPHRASE\(_FILE\) or restore .*clinical-bdd-creator\/passphrase/);
            const set: NodeJS.ProcessEnv = { PULUMI_CONFIG_PASSPHRASE: "p" };
            require("fs").mkdirSync(`${tmp.dir}/.pulumi-state`);
            usePlatformBackend(set, tmp.dir);
            expect(set.PULUMI_BACKEND_URL).toBe(`file://${tmp.dir}/.pulumi-state`);
        } finally {
            tmp.cleanup();
        }
    });
});
