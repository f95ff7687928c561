/**
 * The front door's cost, measured with wrk on the platform the program deploys on the real
 * engine (test/engine/frontDoor.bench.ts runs it: `npm run bench`). Health and analyze, each
 * against one app replica directly on the platform network (the baseline) and through nginx
 * with TLS with 1, 2 and 3 replicas behind it; ratios against the baseline of the same run.
 * Prints a table and writes its section of docs/benchmarks.md with the date and the cores.
 */
import { execFileSync, spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { sampleGuideline } from "./load";

const repoRoot = path.join(__dirname, "..", "..");
/** The markers around this benchmark's section of docs/benchmarks.md; the rest of the file is kept. */
const sectionStart = "<!-- front-door benchmark: written by npm run bench -->";
const sectionEnd = "<!-- end of the front-door benchmark -->";

/** Where the benchmark finds the platform: one replica's own address, the front door, and a way to scale. */
export interface BenchTarget {
    readonly directUrl: string;
    readonly frontDoorUrl: string;
    /** GUNICORN_WORKERS and MAX_CONCURRENT_REQUESTS of the running replicas. */
    readonly app: { readonly gunicornWorkers: string; readonly maxConcurrentRequests: string };
    scaleTo(replicas: number): Promise<void>;
}

const durationSeconds = Number(process.env.BENCH_SECONDS ?? 10);
const warmupSeconds = 3;
/** Below maxConcurrentRequests (10) of a single replica, so the baseline never answers 503. */
const connections = 8;
const threads = 2;

interface Endpoint {
    readonly name: string;
    readonly path: string;
    readonly lua: string;
}

interface Figures {
    readonly requestsPerSecond: number;
    readonly p50: number;
    readonly p95: number;
    readonly p99: number;
    /** Non-2xx answers and socket errors. */
    readonly errors: number;
    readonly requests: number;
}

export interface Row {
    readonly setup: string;
    readonly endpoint: string;
    readonly figures: Figures;
}

/** wrk's done() hook prints the summary as JSON; wrk's own --latency has no p95. */
const reportLua = `
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format('WRK {"requests":%d,"duration_us":%d,"errors":%d,"p50":%d,"p95":%d,"p99":%d}\\n',
    summary.requests, summary.duration, e.status + e.connect + e.read + e.write + e.timeout,
    latency:percentile(50), latency:percentile(95), latency:percentile(99)))
end
`;

function endpoints(): Endpoint[] {
    const body = JSON.stringify(sampleGuideline).replace(/\\/g, "\\\\").replace(/'/g, "\\'");
    return [
        { name: "GET /health", path: "/health", lua: `wrk.headers["Accept"] = "application/json"\n${reportLua}` },
        {
            name: "POST /api/v1/analyze",
            path: "/api/v1/analyze",
            lua: `wrk.method = "POST"\nwrk.headers["Content-Type"] = "application/json"\nwrk.headers["Accept"] = "application/json"\nwrk.body = '${body}'\n${reportLua}`,
        },
    ];
}

function wrk(url: string, script: string, seconds: number): Figures {
    const result = spawnSync("wrk", [`-t${threads}`, `-c${connections}`, `-d${seconds}s`, "--timeout", "10s", "-s", script, url], {
        encoding: "utf8",
        timeout: (seconds + 30) * 1000,
    });
    const line = result.stdout.split("\n").find((l) => l.startsWith("WRK "));
    if (result.status !== 0 || !line) throw new Error(`wrk ${url} failed (${result.status}): ${result.stdout}${result.stderr}`);
    const raw = JSON.parse(line.slice(4)) as { requests: number; duration_us: number; errors: number; p50: number; p95: number; p99: number };
    return {
        requests: raw.requests,
        requestsPerSecond: raw.requests / (raw.duration_us / 1e6),
        p50: raw.p50 / 1000,
        p95: raw.p95 / 1000,
        p99: raw.p99 / 1000,
        errors: raw.errors,
    };
}

async function measure(target: BenchTarget, scripts: Map<string, string>, rows: Row[]): Promise<void> {
    const setups: { setup: string; base: string; replicas: number }[] = [
        { setup: "1 replica, direct (baseline)", base: target.directUrl, replicas: 1 },
        { setup: "nginx + TLS, 1 replica", base: target.frontDoorUrl, replicas: 1 },
        { setup: "nginx + TLS, 2 replicas", base: target.frontDoorUrl, replicas: 2 },
        { setup: "nginx + TLS, 3 replicas", base: target.frontDoorUrl, replicas: 3 },
    ];
    let replicas = 1;
    for (const setup of setups) {
        if (setup.replicas !== replicas) {
            await target.scaleTo(setup.replicas);
            replicas = setup.replicas;
        }
        for (const endpoint of endpoints()) {
            const script = scripts.get(endpoint.name) ?? "";
            wrk(`${setup.base}${endpoint.path}`, script, warmupSeconds);
            const figures = wrk(`${setup.base}${endpoint.path}`, script, durationSeconds);
            rows.push({ setup: setup.setup, endpoint: endpoint.name, figures });
            process.stdout.write(`bench: ${setup.setup}, ${endpoint.name}: ${figures.requestsPerSecond.toFixed(0)} req/s, p50 ${figures.p50.toFixed(2)} ms, errors ${figures.errors}\n`);
        }
    }
}

function table(rows: readonly Row[]): string {
    const baseline = (endpoint: string): Figures | undefined => rows.find((r) => r.endpoint === endpoint && r.setup.includes("baseline"))?.figures;
    const ms = (v: number): string => v.toFixed(2);
    const lines = [
        "| Endpoint | Setup | req/s | × baseline req/s | p50 ms | p95 ms | p99 ms | × baseline p50 | errors |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|",
    ];
    for (const row of rows) {
        const base = baseline(row.endpoint);
        const f = row.figures;
        const ratio = (a: number, b: number | undefined): string => (b ? (a / b).toFixed(2) : "-");
        lines.push(`| ${row.endpoint} | ${row.setup} | ${f.requestsPerSecond.toFixed(0)} | ${ratio(f.requestsPerSecond, base?.requestsPerSecond)} | ` +
            `${ms(f.p50)} | ${ms(f.p95)} | ${ms(f.p99)} | ${ratio(f.p50, base?.p50)} | ${f.errors} |`);
    }
    return lines.join("\n");
}

function section(rows: readonly Row[], date: string, cores: number, wrkVersion: string, settingsLine: string, load: string): string {
    return `${sectionStart}
## The front door: nginx + TLS against a direct replica

Measured by \`npm run bench\` (test/engine/frontDoorBenchmark.ts), which writes this section.
Each run deploys the program on the real engine (test/engine: the app image built from app/,
nginx with the rendered nginx.conf and a generated certificate, the whole platform beside
them) and drives it with wrk from the host.

- Date: ${date}
- Machine: ${cores} cores (\`nproc\`), ${os.cpus()[0]?.model ?? "unknown CPU"}, ${Math.round(os.totalmem() / 2 ** 30)} GiB;
  load average before the run ${load} (other work on the host skews every row alike)
- Load: ${wrkVersion}, ${threads} threads, ${connections} keep-alive connections (below one replica's
  concurrency limit), ${warmupSeconds} s warm-up then ${durationSeconds} s measured per row; latency percentiles from wrk.
- Settings: ${settingsLine}
- Baseline: one replica reached directly on the platform network over plain HTTP. The nginx rows
  go through TLS 1.3 (wrk speaks HTTP/1.1) and nginx's DNS-resolved upstream, as users do; their
  ratio to the baseline is the front door's cost.

${table(rows)}

How to read it: wrk, nginx, the monitoring and every gunicorn worker share the same ${cores} cores,
so more replicas add processes, not CPU; on such a machine the replica rows show the cost of
spreading load rather than a gain, which a host with more cores than one replica uses would
turn into capacity. Errors count non-2xx answers and socket errors (none expected).
${sectionEnd}`;
}

/** docs/benchmarks.md with this benchmark's section replaced (or added first), every other section kept. */
function withSection(existing: string, text: string): string {
    const start = existing.indexOf(sectionStart);
    const end = existing.indexOf(sectionEnd);
    if (start >= 0 && end > start) return existing.slice(0, start) + text + existing.slice(end + sectionEnd.length);
    const title = "# Benchmarks\n";
    const rest = existing.startsWith(title) ? existing.slice(title.length) : existing;
    return `${title}\n${text}\n${rest}`;
}

/** Runs every row against `target` and writes the section; returns the rows. */
export async function benchmarkFrontDoor(target: BenchTarget): Promise<readonly Row[]> {
    const rows: Row[] = [];
    const load = os.loadavg().map((l) => l.toFixed(2)).join(", ");
    const scriptDir = fs.mkdtempSync(path.join(os.tmpdir(), "bench-"));
    const scripts = new Map(endpoints().map((e, i) => {
        const file = path.join(scriptDir, `endpoint-${i}.lua`);
        fs.writeFileSync(file, e.lua);
        return [e.name, file] as const;
    }));
    try {
        await measure(target, scripts, rows);
    } finally {
        fs.rmSync(scriptDir, { recursive: true, force: true });
    }
    const date = execFileSync("date", ["-u"], { encoding: "utf8" }).trim();
    const cores = Number(execFileSync("nproc", { encoding: "utf8" }).trim());
    const wrkVersion = (spawnSync("wrk", ["-v"], { encoding: "utf8" }).stdout.split("\n")[0] ?? "wrk").split(" [")[0].trim();
    const settingsLine = `gunicornWorkers=${target.app.gunicornWorkers}, maxConcurrentRequests=${target.app.maxConcurrentRequests} (as the replicas run)`;
    process.stdout.write(`\n${date}, ${cores} cores, load average before ${load}\n${table(rows)}\n`);
    const file = path.join(repoRoot, "docs", "benchmarks.md");
    const existing = fs.existsSync(file) ? fs.readFileSync(file, "utf8") : "# Benchmarks\n";
    fs.writeFileSync(file, withSection(existing, section(rows, date, cores, wrkVersion, settingsLine, load)));
    process.stdout.write(`wrote ${path.relative(process.cwd(), file)}\n`);
    return rows;
}
