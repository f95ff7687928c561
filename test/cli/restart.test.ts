/** restart (cli/restart.ts): the plans compared exactly, and the verb run against the recording engine double. */
import { describeRoll, hostRestartPlan, parseRestartArgs, restart, swarmRestartPlan } from "../../cli/restart";
import { describeStep } from "../../cli/plan";
import { FakeEngine, hostContainers, hostEngine, runVerbIn, swarmEngine, swarmStack } from "../helpers/fakeEngine";

const run = (engine: FakeEngine, args: string[], opts = {}) => runVerbIn("restart", (ctx) => restart(ctx, args, engine), opts);
/** The calls that change something. */
const changing = (e: FakeEngine) => e.calls.filter((c) => /^(restart|kill|start|service-update) /.test(c));

describe("plans", () => {
    const containers = hostContainers().map((c) => ({ ...c, status: "Up" }));

    test("one host: nginx signalled, the rest restarted, in order; --hard restarts nginx too; --reload signals", () => {
        expect(hostRestartPlan(containers.filter((c) => c.service === "nginx" || c.service === "app"), "default")).toEqual([
            { kind: "restart", container: "app-replica-0-5d6e7f8", service: "app" },
            { kind: "restart", container: "app-replica-1-9a8b7c6", service: "app" },
            { kind: "signal", container: "front-door-nginx-7a8b9c0", service: "nginx", signal: "HUP" },
        ]);
        expect(hostRestartPlan(containers.filter((c) => c.service === "nginx"), "hard")).toEqual([{ kind: "restart", container: "front-door-nginx-7a8b9c0", service: "nginx" }]);
        expect(hostRestartPlan(containers.filter((c) => c.service === "prometheus"), "reload")).toEqual([
            { kind: "signal", container: "metrics-prometheus-2b3c4d5", service: "prometheus", signal: "HUP" },
        ]);
    });

    test("Swarm: a forced update per service", () => {
        expect(swarmRestartPlan(swarmStack().slice(0, 2))).toEqual([
            { kind: "service-update", service: "prod-alerting-alertmanager", label: "alertmanager", force: true },
            { kind: "service-update", service: "prod-app", label: "app", force: true },
        ]);
        expect(describeStep(swarmRestartPlan(swarmStack())[1], "prod")).toBe("docker service update --force --detach=false --quiet prod-app");
    });

    test.each([
        [["grafana", "--reload"], /--reload is for nginx, prometheus, alertmanager or blackbox-exporter/],
        [["--reload"], /--reload is for nginx/],
        [["app", "nginx"], /restart takes at most one service/],
        [["app", "--soft"], /unknown option --soft \(restart takes --hard or --reload\)/],
        [["database"], /unknown service 'database'/],
    ])("%j is refused", (args, message) => {
        expect(() => parseRestartArgs(args as string[])).toThrow(message as RegExp);
    });
});

describe("one host", () => {
    test("restart app restarts the replicas one at a time, each healthy before the next", async () => {
        const e = hostEngine();
        const r = await run(e, ["app"]);
        expect(r.code).toBe(0);
        expect(e.calls.filter((c) => /^(restart|health) /.test(c))).toEqual([
            "restart app-replica-0-5d6e7f8", "health app-replica-0-5d6e7f8", "restart app-replica-1-9a8b7c6", "health app-replica-1-9a8b7c6",
        ]);
        expect(r.stdout).toMatch(/\[1\/2\] restarting app-replica-0-5d6e7f8\n\+ docker restart app-replica-0-5d6e7f8\nrestart: app-replica-0-5d6e7f8 is healthy after \d+ s\n[\s\S]*\[2\/2\]/);
    });

    test("restart nginx reloads it gracefully (SIGHUP by the daemon, no restart) and waits for new workers", async () => {
        const e = hostEngine();
        const r = await run(e, ["nginx"]);
        expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: "" });
        expect(changing(e)).toEqual(["kill front-door-nginx-7a8b9c0 HUP"]);
        expect(r.stdout).toMatch(/nginx is reloaded gracefully \(SIGHUP[^\n]*no connection is dropped\); restart nginx --hard restarts its container and drops connections/);
        expect(r.stdout).toMatch(/new workers 1101 1102 \(the old ones, 1001 1002, finished their requests and exited\)/);
        // The reload's errors are looked for in the log since the signal.
        expect(e.calls.filter((c) => c.startsWith("logs "))).toHaveLength(1);
    });

    test("a reload whose new configuration is refused fails, quoting the log", async () => {
        const e = hostEngine();
        e.logLines["front-door-nginx-7a8b9c0"] = '2026-11-28T20:00:00Z nginx: [emerg] unknown directive "bogus"\n';
        const r = await run(e, ["nginx"]);
        expect(r).toMatchObject({ code: 1, stderr: expect.stringMatching(/front-door-nginx-7a8b9c0 did not take the new configuration \(it keeps serving the old one\):\n.*\[emerg\] unknown directive/) });
    });

    test("restart nginx --hard restarts the container, saying that connections are dropped", async () => {
        const e = hostEngine();
        const r = await run(e, ["nginx", "--hard"]);
        expect(changing(e)).toEqual(["restart front-door-nginx-7a8b9c0"]);
        expect(r.stdout).toMatch(/--hard: nginx is the only front door; every connection to it fails for the second or so it restarts/);
    });

    test("restart with no service restarts each container but reloads nginx", async () => {
        const e = hostEngine();
        const r = await run(e, []);
        expect(r.code).toBe(0);
        expect(changing(e)).toEqual(hostContainers().map((c) => (c.service === "nginx" ? `kill ${c.name} HUP` : `restart ${c.name}`)));
        expect(r.stdout).toMatch(/restarted 6 container\(s\), reloaded 1\n$/);
    });

    test("restart prometheus says its loopback port is down meanwhile and offers --reload, which sends SIGHUP", async () => {
        expect((await run(hostEngine(), ["prometheus"])).stdout).toMatch(/prometheus's UI and API on its published loopback port answer nothing for the seconds it restarts \(the front door is not affected\); --reload/);
        const e = hostEngine();
        await run(e, ["prometheus", "--reload"]);
        expect(changing(e)).toEqual(["kill metrics-prometheus-2b3c4d5 HUP"]);
    });

    test("--dry-run prints the steps and changes nothing", async () => {
        const e = hostEngine();
        const r = await run(e, [], { dryRun: true });
        expect(r.code).toBe(0);
        expect(changing(e)).toEqual([]);
        expect(r.stdout).toMatch(/would run: docker restart alerting-alertmanager-1a2b3c4\n[\s\S]*would run: docker kill --signal HUP front-door-nginx-7a8b9c0\n/);
    });

    test("a restart whose container does not come back healthy fails, naming it and the retry", async () => {
        const e = hostEngine();
        e.healthSequence["app-replica-0-5d6e7f8"] = ["unhealthy"];
        const r = await run(e, ["app"]);
        expect(r.code).toBe(1);
        expect(r.stderr).toMatch(/app-replica-0-5d6e7f8 is unhealthy; see npm run logs[\s\S]*NOT done: app-replica-0-5d6e7f8 is not healthy[\s\S]*retry with: npm run restart -- app --stack prod/);
        expect(changing(e)).toEqual(["restart app-replica-0-5d6e7f8"]);
    });

    test("a container that exits after its restart is started again", async () => {
        const e = hostEngine();
        e.healthSequence["app-replica-0-5d6e7f8"] = ["exited"];
        const r = await run(e, ["app"]);
        expect(r.code).toBe(1);
        expect(changing(e)).toEqual(["restart app-replica-0-5d6e7f8", "start app-replica-0-5d6e7f8"]);
    });

    test("edge on one host is refused", async () => {
        expect(await run(hostEngine(), ["edge"])).toMatchObject({ code: 2, stderr: expect.stringMatching(/edge is the Swarm target's TCP proxy/) });
    });
});

describe("Swarm", () => {
    test("restart app: a rolling update, waited for; nothing restarted or signalled in a task", async () => {
        const e = swarmEngine();
        const r = await run(e, ["app"]);
        expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: "" });
        expect(changing(e)).toEqual(["service-update --force prod-app"]);
        expect(r.stdout).toMatch(/app: each new task starts and turns healthy before its old one stops \(start-first\): no request is dropped/);
        expect(r.stdout).toMatch(/app: Swarm watches the new tasks for 65 s[\s\S]*\+ docker service update --force --detach=false --quiet prod-app\n[\s\S]*restart: app: 2 task\(s\) of prod-app replaced one at a time, converged and watched, in \d+ s/);
    });

    test("describeRoll: stop-first with host ports says connections there are refused", () => {
        expect(describeRoll(swarmStack().find((s) => s.label === "edge")!)[0]).toMatch(/edge: each task stops before its successor starts \(stop-first: host ports 80,443 are its node's alone\): connections to them on that node are refused/);
        expect(describeRoll(swarmStack().find((s) => s.label === "grafana")!)[0]).toMatch(/stop-first: one data volume, or one task per node\): grafana is down/);
    });

    test.each([["nginx", "--hard"], ["nginx", "--reload"], ["app", "--hard"]])("restart %s %s is refused with exit 2, nothing changed", async (service, flag) => {
        const e = swarmEngine();
        const r = await run(e, [service, flag]);
        expect({ code: r.code, changed: changing(e) }).toEqual({ code: 2, changed: [] });
        expect(r.stderr).toMatch(new RegExp(`restart: restart ${flag}: not on Swarm, where stack prod runs: a task is never restarted or signalled in place`));
    });

    test("a restart that rolls back fails, naming the service and the retry", async () => {
        const e = swarmEngine();
        e.failUpdate["prod-dashboards-grafana"] = "rollback_completed";
        const r = await run(e, ["grafana"]);
        expect(r.code).toBe(1);
        expect(r.stderr).toMatch(/prod-dashboards-grafana did not converge \(rollback_completed\)[\s\S]*grafana is not restarted; retry with: npm run restart -- grafana --stack prod/);
    });

    test("restart with no service rolls every service at once; a failing one is named", async () => {
        const e = swarmEngine();
        const r = await run(e, []);
        expect(r.code).toBe(0);
        expect(changing(e).sort()).toEqual(swarmStack().map((s) => `service-update --force ${s.name}`).sort());
        expect(r.stdout).toMatch(/restarted 7 services\n$/);
        const f = swarmEngine();
        f.failUpdate["prod-app"] = "paused";
        expect((await run(f, [])).stderr).toMatch(/not restarted: app \(above\); retry each with: npm run restart -- <service> --stack prod/);
    });
});
