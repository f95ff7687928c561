/** status and logs (cli/status.ts, cli/logs.ts) against a recording engine double, on one host and on Swarm. */
import { endpoints, status, StatusDeps, swarmProblems } from "../../cli/status";
import { inTimeOrder, logs, parseLogsArgs, sinceToUnix } from "../../cli/logs";
import { main, parseCommandLine, usage } from "../../cli/main";
import { services } from "../../cli/platformFacts";
import { capture, FakeEngine, hostContainers, hostEngine, runVerbIn, swarmEngine, swarmStack } from "../helpers/fakeEngine";

const outputs: Record<string, string> = {
    healthUrl: "https://localhost/health",
    appUrl: "https://localhost/",
    grafanaUrl: "http://127.0.0.1:3001/",
    prometheusUrl: "http://127.0.0.1:9090/",
    alertmanagerUrl: "http://127.0.0.1:9093/",
    replicas: "2",
};

function statusDeps(engine: FakeEngine, down: string[] = []): StatusDeps & { probed: string[] } {
    const probed: string[] = [];
    return {
        engine,
        probed,
        needPulumi: () => undefined,
        output: (key) => outputs[key],
        probe: async (url) => (probed.push(url), down.includes(url) ? { ok: false, text: "unreachable (ECONNREFUSED)" } : { ok: true, text: "200 in 0.012 s" }),
    };
}

describe("the command line", () => {
    test("--help lists every verb and every service", async () => {
        const io = capture();
        expect(await main(["--help"], io, {})).toBe(0);
        for (const verb of ["status", "logs", "restart", "stop", "scale", "renew-cert", "rotate-grafana-password", "backup", "restore"]) expect(io.stdout).toMatch(new RegExp(`^  ${verb}\\b`, "m"));
        for (const s of services) expect(usage).toContain(` ${s}`);
    });

    test("global options anywhere on the line; OPS_STACK and OPS_DRY_RUN as defaults", () => {
        expect(parseCommandLine(["scale", "--yes", "4", "--stack", "staging"])).toEqual({ help: false, verb: "scale", args: ["4"], stack: "staging", dryRun: false, yes: true });
        expect(parseCommandLine(["--stack=x", "logs", "app", "-y"], {})).toMatchObject({ verb: "logs", args: ["app"], stack: "x", yes: true });
        expect(parseCommandLine(["status"], { OPS_STACK: "qa", OPS_DRY_RUN: "1" })).toMatchObject({ stack: "qa", dryRun: true });
    });

    test.each([
        [[], /^ops: which verb\?/],
        [["frobnicate"], /^frobnicate: unknown verb 'frobnicate'/],
        [["logs", "database"], /^logs: unknown service 'database'; one of: app nginx /],
        [["logs", "app", "--since"], /--since needs a value/],
        [["logs", "app", "--since", "yesterday"], /--since yesterday: not a duration/],
        [["status", "extra"], /status takes no arguments/],
        [["--stack"], /--stack needs a name/],
    ])("%j is refused with exit 2", async (argv, message) => {
        const io = capture();
        expect(await main(argv as string[], io, {})).toBe(2);
        expect(io.stderr).toMatch(message as RegExp);
        expect(io.stderr).toMatch(/npm run ops -- --help/);
    });
});

describe("status", () => {
    test("one host: outputs, every container with its health, the four endpoints; exit 0 when all are healthy", async () => {
        const engine = hostEngine();
        const deps = statusDeps(engine);
        const r = await runVerbIn("status", (ctx) => status(ctx, [], deps));
        expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: "" });
        expect(r.stdout).toMatch(/healthUrl\s+https:\/\/localhost\/health/);
        expect(r.stdout).toMatch(/appImage\s+\(none\)/);
        expect(r.stdout).toMatch(/grafanaAdminPassword\s+\(secret: pulumi stack output grafanaAdminPassword --show-secrets\)/);
        for (const c of hostContainers()) expect(r.stdout).toMatch(new RegExp(`${c.service}\\s+${c.name}\\s+Up 2 hours \\(healthy\\)`));
        expect(deps.probed).toEqual(["https://localhost/health", "http://127.0.0.1:9090/-/healthy", "http://127.0.0.1:3001/api/health", "http://127.0.0.1:9093/-/healthy"]);
        expect(r.stdout).toMatch(/status: everything is up and healthy\n$/);
        expect(engine.calls).toEqual(["ping", "info", "containers prod"]);
    });

    test("one host: an unhealthy container and a dead endpoint are counted, shown, and exit 1", async () => {
        const engine = hostEngine();
        engine.containerList[2].health = "unhealthy";
        const r = await runVerbIn("status", (ctx) => status(ctx, [], statusDeps(engine, ["http://127.0.0.1:9093/-/healthy"])));
        expect(r.code).toBe(1);
        expect(r.stdout).toMatch(/app-replica-1-9a8b7c6\s+Up 2 hours \(unhealthy\)/);
        expect(r.stdout).toMatch(/alertmanager\s+http:\/\/127\.0\.0\.1:9093\/-\/healthy\s+unreachable \(ECONNREFUSED\)\n/);
        expect(r.stderr).toBe("status: 2 problem(s) above\n");
    });

    test("no engine: says how to start one", async () => {
        const engine = hostEngine();
        engine.down = true;
        const r = await runVerbIn("status", (ctx) => status(ctx, [], statusDeps(engine)));
        expect(r.code).toBe(1);
        expect(r.stderr).toMatch(/status: no Docker engine answers \(connect ENOENT[^\n]*\n\s+Start it:\s+sudo systemctl enable --now docker/);
    });

    test("Swarm: every service with running/desired tasks; only the front door probed", async () => {
        const engine = swarmEngine();
        const deps = statusDeps(engine);
        const r = await runVerbIn("status", (ctx) => status(ctx, [], deps));
        expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: "" });
        for (const s of swarmStack()) expect(r.stdout).toMatch(new RegExp(`\\n  ${s.label}\\s+${s.name}\\s+${s.label === "app" ? "2/2" : "1/1"}\\s+completed\\n`));
        expect(deps.probed).toEqual(["https://localhost/health"]);
        expect(r.stdout).toMatch(/grafana\s+http:\/\/127\.0\.0\.1:3001\/api\/health\s+not published on Swarm/);
        expect(engine.calls.filter((c) => c.startsWith("containers"))).toEqual([]);
    });

    test("Swarm: a service whose task is not running is named with Swarm's reason, exit 1", async () => {
        const engine = swarmEngine();
        const g = engine.serviceList.findIndex((s) => s.label === "grafana");
        engine.serviceList[g] = { ...engine.serviceList[g], running: 0 };
        engine.taskStates["prod-dashboards-grafana"] = [{ name: "prod-dashboards-grafana.1", state: "pending", since: "2026-11-28T20:00:00Z", error: "no suitable node (scheduling constraints not satisfied on 1 node)" }];
        const r = await runVerbIn("status", (ctx) => status(ctx, [], statusDeps(engine)));
        expect(r.code).toBe(1);
        expect(r.stdout).toMatch(/grafana\s+prod-dashboards-grafana\s+0\/1\s+completed\n    ! 0 of 1 tasks running\n    ! task prod-dashboards-grafana\.1 is Pending since 2026-11-28T20:00:00Z: no suitable node/);
        expect(r.stderr).toBe("status: 1 problem(s) above (Swarm services: grafana)\n");
    });

    test("swarmProblems: rolled back, scaled to 0", () => {
        const base = { name: "s", mode: "replicated", running: 1, desired: 1, updateState: "completed", updateMessage: "" };
        expect(swarmProblems({ ...base, updateState: "rollback_completed", updateMessage: "update rolled back" }, [])).toEqual(["update rollback_completed: update rolled back"]);
        expect(swarmProblems({ ...base, running: 0, desired: 0 }, [])).toEqual(["scaled to 0 tasks (a restore stopped by SIGKILL?): docker service scale s=1"]);
        expect(swarmProblems({ ...base, mode: "global", running: 0, desired: 0 }, [])).toEqual([]);
    });

    test("endpoints come from the stack outputs", () => {
        expect(endpoints((k) => outputs[k]).map((e) => `${e.name} ${e.url}`)).toEqual([
            "app-health https://localhost/health", "prometheus http://127.0.0.1:9090/-/healthy", "grafana http://127.0.0.1:3001/api/health", "alertmanager http://127.0.0.1:9093/-/healthy",
        ]);
    });
});

describe("logs", () => {
    const now = () => 1_800_000_000;

    test("--since as the docker CLI reads it", () => {
        expect(sinceToUnix("10m", 1000)).toBe(400);
        expect(sinceToUnix("1h30m", 10_000)).toBe(4600);
        expect(sinceToUnix("1700000000", 0)).toBe(1_700_000_000);
        expect(sinceToUnix("2024-01-01T00:00:00Z", 0)).toBe(1_704_067_200);
        expect(parseLogsArgs(["--follow", "app", "--since=2h"])).toEqual({ service: "app", since: "2h", follow: true });
    });

    test("logs app --since 10m: each replica's log, found by the stack and service labels", async () => {
        const engine = hostEngine();
        const r = await runVerbIn("logs", (ctx) => logs(ctx, ["app", "--since", "10m"], engine, now));
        expect(r.code).toBe(0);
        expect(engine.calls).toEqual(["ping", "info", "containers prod app", `logs app-replica-0-5d6e7f8 since=${now() - 600}`, `logs app-replica-1-9a8b7c6 since=${now() - 600}`]);
        expect(r.stdout).toMatch(/^==> app-replica-0-5d6e7f8 \(since 10m\) <==\n.*log line of app-replica-0-5d6e7f8\n==> app-replica-1-9a8b7c6/);
    });

    test("--follow refuses several containers, follows one", async () => {
        expect((await runVerbIn("logs", (ctx) => logs(ctx, ["app", "--follow"], hostEngine(), now))).stderr).toMatch(/--follow needs one container; app has 2/);
        const engine = hostEngine();
        await runVerbIn("logs", (ctx) => logs(ctx, ["nginx", "-f"], engine, now));
        expect(engine.calls.pop()).toBe(`logs front-door-nginx-7a8b9c0 since=${now() - 3600} follow`);
    });

    test("edge on one host is refused, saying nginx holds the ports there", async () => {
        const r = await runVerbIn("logs", (ctx) => logs(ctx, ["edge"], hostEngine(), now));
        expect(r).toMatchObject({ code: 2, stderr: expect.stringMatching(/edge is the Swarm target's TCP proxy in front of nginx; stack prod runs on one Docker host/) });
    });

    test("a stack with no container says so", async () => {
        const r = await runVerbIn("logs", (ctx) => logs(ctx, ["app"], hostEngine(), now), { stack: "other" });
        expect(r).toMatchObject({ code: 1, stderr: "logs: no app container of stack other on this Docker host (deployed? npm run status)\n" });
    });

    test("Swarm: every task's lines, in time order", async () => {
        const engine = swarmEngine();
        const r = await runVerbIn("logs", (ctx) => logs(ctx, ["app", "--since", "10m"], engine, now));
        expect(r.code).toBe(0);
        expect(engine.calls.filter((c) => c.startsWith("service-logs"))).toEqual([`service-logs prod-app since=${now() - 600}`]);
        expect(r.stdout).toBe("==> prod-app (since 10m, every task) <==\n2026-11-28T20:00:01Z prod-app.1.def@node1    | first\n2026-11-28T20:00:02Z prod-app.2.abc@node1    | second\n");
    });

    test("Swarm: --follow takes one service", async () => {
        expect(await runVerbIn("logs", (ctx) => logs(ctx, ["--follow"], swarmEngine(), now))).toMatchObject({ code: 2, stderr: expect.stringMatching(/logs: --follow needs one service/) });
        const engine = swarmEngine();
        await runVerbIn("logs", (ctx) => logs(ctx, ["edge", "-f"], engine, now));
        expect(engine.calls.pop()).toBe(`service-logs prod-front-door-edge since=${now() - 3600} follow`);
    });

    test("inTimeOrder is a stable sort on the timestamp", () => {
        expect(inTimeOrder("b 2\na 1\nb 3\n")).toBe("a 1\nb 2\nb 3\n");
    });
});

test("every verb's npm script runs the CLI with that verb; ops runs it bare", () => {
    const scripts = JSON.parse(require("fs").readFileSync(require("path").join(__dirname, "..", "..", "package.json"), "utf8")).scripts as Record<string, string>;
    const { verbs } = require("../../cli/main") as typeof import("../../cli/main");
    for (const verb of verbs) expect({ verb, script: scripts[verb] }).toEqual({ verb, script: `ts-node --transpile-only cli/main.ts ${verb}` });
    expect(scripts.ops).toBe("ts-node --transpile-only cli/main.ts");
});
