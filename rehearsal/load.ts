import * as https from "https";
import { performance } from "perf_hooks";

export interface LoadRequest {
    readonly method: "GET" | "POST";
    readonly path: string;
    readonly headers?: Readonly<Record<string, string>>;
    readonly body?: string;
}

export interface LoadReport {
    /** Requests answered 2xx. */
    readonly ok: number;
    /** Requests that failed: any other status, a network error, or a timeout. */
    readonly failed: number;
    readonly statuses: Readonly<Record<string, number>>;
    readonly errors: Readonly<Record<string, number>>;
    /**
     * Requests re-sent once because the server closed an idle keep-alive connection as the
     * request went out, before any answer began. Browsers and Node's documented
     * `reusedSocket` pattern re-send such a request once on a new connection (RFC 9112
     * §9.3.1 describes the race); counted here, not hidden. The second attempt's outcome is
     * in ok/failed.
     */
    readonly retriedOnClosedConnection: number;
    readonly durationMs: number;
    /** The first few failures, for the report. */
    readonly failures: readonly string[];
}

export interface SteadyLoadOptions {
    readonly baseUrl: string;
    readonly ca: string;
    readonly servername: string;
    /** Requests in flight at any time. */
    readonly concurrency: number;
    /** The requests, taken in turn by every client loop. */
    readonly requests: readonly LoadRequest[];
    readonly timeoutMs?: number;
}

/**
 * Closed-loop HTTPS load: `concurrency` clients, each sending its next request as soon as the
 * previous one is answered, over keep-alive connections (as browsers and API clients do).
 * Every request is counted; nothing is retried except a request that met a keep-alive
 * connection the server had just closed, which is counted separately.
 */
export class SteadyLoad {
    private running = false;
    private loops: Promise<void>[] = [];
    private started = 0;
    private readonly agent: https.Agent;
    private ok = 0;
    private failed = 0;
    private retried = 0;
    private readonly statuses: Record<string, number> = {};
    private readonly errors: Record<string, number> = {};
    private readonly failures: string[] = [];

    constructor(private readonly options: SteadyLoadOptions) {
        this.agent = new https.Agent({ keepAlive: true, maxSockets: options.concurrency, ca: options.ca, servername: options.servername });
    }

    start(): this {
        this.running = true;
        this.started = performance.now();
        this.loops = Array.from({ length: this.options.concurrency }, (_, i) => this.loop(i));
        return this;
    }

    /** Stops after the requests in flight are answered; returns the counts. */
    async stop(): Promise<LoadReport> {
        this.running = false;
        await Promise.all(this.loops);
        this.agent.destroy();
        return this.snapshot();
    }

    snapshot(): LoadReport {
        return {
            ok: this.ok,
            failed: this.failed,
            statuses: { ...this.statuses },
            errors: { ...this.errors },
            retriedOnClosedConnection: this.retried,
            durationMs: Math.round(performance.now() - this.started),
            failures: [...this.failures],
        };
    }

    private async loop(offset: number): Promise<void> {
        let turn = offset;
        while (this.running) {
            const next = this.options.requests[turn++ % this.options.requests.length];
            await this.send(next, true);
        }
    }

    private async send(req: LoadRequest, mayRetry: boolean): Promise<void> {
        const outcome = await this.once(req, mayRetry);
        if (typeof outcome === "number") {
            const key = String(outcome);
            this.statuses[key] = (this.statuses[key] ?? 0) + 1;
            if (outcome >= 200 && outcome < 300) this.ok++;
            else this.fail(`${req.method} ${req.path}: ${outcome}`);
            return;
        }
        if (outcome.staleConnection && mayRetry) {
            this.retried++;
            await this.send(req, false);
            return;
        }
        this.errors[outcome.code] = (this.errors[outcome.code] ?? 0) + 1;
        this.fail(`${req.method} ${req.path}: ${outcome.code}${outcome.staleConnection ? " on a reused connection" : ""} at ${Math.round(performance.now() - this.started)} ms`);
    }

    private fail(description: string): void {
        this.failed++;
        if (this.failures.length < 10) this.failures.push(description);
    }

    /** One request: on a pooled keep-alive connection, or (`pooled` false) on a new one. */
    private once(req: LoadRequest, pooled: boolean): Promise<number | { code: string; staleConnection: boolean }> {
        const timeoutMs = this.options.timeoutMs ?? 15_000;
        const body = req.body === undefined ? undefined : Buffer.from(req.body);
        let useOfSocket = 0;
        return new Promise((resolve) => {
            let settled = false;
            const finish = (value: number | { code: string; staleConnection: boolean }): void => {
                if (!settled) {
                    settled = true;
                    resolve(value);
                }
            };
            const r = https.request(
                `${this.options.baseUrl}${req.path}`,
                {
                    method: req.method,
                    agent: pooled ? this.agent : false,
                    ca: this.options.ca,
                    servername: this.options.servername,
                    timeout: timeoutMs,
                    headers: { ...(req.headers ?? {}), ...(body ? { "Content-Length": body.length } : {}) },
                },
                (res) => {
                    res.resume();
                    res.on("end", () => finish(res.statusCode ?? 0));
                    res.on("error", (error: NodeJS.ErrnoException) => finish({ code: error.code ?? error.message, staleConnection: false }));
                },
            );
            r.on("timeout", () => r.destroy(Object.assign(new Error("timeout"), { code: "TIMEOUT" })));
            r.on("socket", (socket) => {
                const uses = (socketUses.get(socket) ?? 0) + 1;
                socketUses.set(socket, uses);
                useOfSocket = uses;
            });
            r.on("error", (error: NodeJS.ErrnoException) => {
                // A keep-alive connection the server closed as this request went out: no
                // answer began, so the request is re-sent (Node's documented pattern).
                const stale = useOfSocket > 1 && (error.code === "ECONNRESET" || error.code === "EPIPE" || error.message === "socket hang up");
                finish({ code: error.code ?? error.message, staleConnection: stale });
            });
            r.end(body);
        });
    }
}

const socketUses = new WeakMap<object, number>();

/** A short guideline passage for analyze requests. */
export const sampleGuideline = {
    title: "Community-acquired pneumonia",
    specialty: "pulmonology",
    content:
        "Adults with community-acquired pneumonia and a CURB-65 score of 2 or more should be admitted to hospital. " +
        "Patients with a CURB-65 score of 0 or 1 may be treated at home with amoxicillin 500 mg three times daily for 5 days. " +
        "If oxygen saturation is below 92%, give supplemental oxygen.",
};

/** The steady mix the rehearsal uses: health checks and analyses through nginx. */
export const steadyMix: readonly LoadRequest[] = [
    { method: "GET", path: "/health", headers: { Accept: "application/json" } },
    {
        method: "POST",
        path: "/api/v1/analyze",
        headers: { "Content-Type": "application/json", Accept: "application/json" },
        body: JSON.stringify(sampleGuideline),
    },
];
