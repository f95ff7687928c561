import * as http2 from "http2";
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
    /**
     * Requests with no 2xx answer: any other status, a network error, a timeout, or a
     * connection closed before an answer began (an HTTP/1.1 keep-alive connection the server
     * closed as the request went out: counted here, never re-sent).
     */
    readonly failed: number;
    readonly statuses: Readonly<Record<string, number>>;
    readonly errors: Readonly<Record<string, number>>;
    /**
     * HTTP/2 only: streams the server refused unprocessed (REFUSED_STREAM, or above the last
     * stream id of its GOAWAY), which RFC 9113 §8.7 lets a client send again; sent again on a
     * new connection, counted here, the second outcome in ok/failed.
     */
    readonly refusedUnprocessed: number;
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
    /** HTTP/2 (one multiplexed connection, as browsers use it; default) or HTTP/1.1 keep-alive connections. */
    readonly protocol?: "h2" | "http/1.1";
}

type Outcome = number | { readonly code: string; readonly refused?: boolean };

/**
 * Closed-loop HTTPS load: `concurrency` clients, each sending its next request as soon as the
 * previous one is answered, over one HTTP/2 connection or over HTTP/1.1 keep-alive
 * connections. Every request is counted; only a stream the HTTP/2 server refused unprocessed
 * is sent again, and counted apart.
 */
export class SteadyLoad {
    private running = false;
    private loops: Promise<void>[] = [];
    private started = 0;
    private readonly agent: https.Agent;
    private session?: http2.ClientHttp2Session;
    private ok = 0;
    private failed = 0;
    private refused = 0;
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
        this.session?.close();
        return this.snapshot();
    }

    snapshot(): LoadReport {
        return {
            ok: this.ok,
            failed: this.failed,
            statuses: { ...this.statuses },
            errors: { ...this.errors },
            refusedUnprocessed: this.refused,
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

    private async send(req: LoadRequest, mayResend: boolean): Promise<void> {
        const outcome = await (this.options.protocol === "http/1.1" ? this.overHttp1(req) : this.overHttp2(req));
        if (typeof outcome === "number") {
            const key = String(outcome);
            this.statuses[key] = (this.statuses[key] ?? 0) + 1;
            if (outcome >= 200 && outcome < 300) this.ok++;
            else this.fail(`${req.method} ${req.path}: ${outcome}`);
            return;
        }
        if (outcome.refused && mayResend) {
            this.refused++;
            await this.send(req, false);
            return;
        }
        this.errors[outcome.code] = (this.errors[outcome.code] ?? 0) + 1;
        this.fail(`${req.method} ${req.path}: ${outcome.code} at ${Math.round(performance.now() - this.started)} ms`);
    }

    private fail(description: string): void {
        this.failed++;
        if (this.failures.length < 10) this.failures.push(description);
    }

    /** The open HTTP/2 connection, or a new one when the server has said GOAWAY or closed it. */
    private connection(): http2.ClientHttp2Session {
        const s = this.session;
        if (s && !s.closed && !s.destroyed && !goneAway.has(s)) return s;
        const session = http2.connect(this.options.baseUrl, { ca: this.options.ca, servername: this.options.servername });
        session.on("goaway", () => goneAway.add(session));
        // Errors reach the streams; a session error alone must not crash the load.
        session.on("error", () => goneAway.add(session));
        this.session = session;
        return session;
    }

    private overHttp2(req: LoadRequest): Promise<Outcome> {
        const timeoutMs = this.options.timeoutMs ?? 15_000;
        return new Promise((resolve) => {
            const finish = once(resolve);
            const open = () => this.connection().request({ ":method": req.method, ":path": req.path, ...(req.headers ?? {}) });
            let stream: http2.ClientHttp2Stream;
            try {
                stream = open();
            } catch {
                // The connection went away between the check and the request: nothing was sent.
                goneAway.add(this.session as http2.ClientHttp2Session);
                stream = open();
            }
            let status = 0;
            stream.setTimeout(timeoutMs, () => stream.close(http2.constants.NGHTTP2_CANCEL));
            stream.on("response", (headers) => (status = Number(headers[":status"] ?? 0)));
            stream.on("data", () => undefined);
            stream.on("end", () => finish(status));
            stream.on("error", (error: NodeJS.ErrnoException) => finish({ code: error.code ?? error.message, refused: stream.rstCode === http2.constants.NGHTTP2_REFUSED_STREAM }));
            stream.on("close", () => {
                if (stream.rstCode === http2.constants.NGHTTP2_REFUSED_STREAM) finish({ code: "REFUSED_STREAM", refused: true });
                else if (status === 0) finish({ code: stream.rstCode === http2.constants.NGHTTP2_CANCEL ? "TIMEOUT" : `closed (rst ${stream.rstCode})` });
                else finish(status);
            });
            stream.end(req.body === undefined ? undefined : Buffer.from(req.body));
        });
    }

    /** One request on a pooled HTTP/1.1 keep-alive connection. */
    private overHttp1(req: LoadRequest): Promise<Outcome> {
        const timeoutMs = this.options.timeoutMs ?? 15_000;
        const body = req.body === undefined ? undefined : Buffer.from(req.body);
        let useOfSocket = 0;
        return new Promise((resolve) => {
            const finish = once(resolve);
            const r = https.request(
                `${this.options.baseUrl}${req.path}`,
                {
                    method: req.method,
                    agent: this.agent,
                    ca: this.options.ca,
                    servername: this.options.servername,
                    timeout: timeoutMs,
                    headers: { ...(req.headers ?? {}), ...(body ? { "Content-Length": body.length } : {}) },
                },
                (res) => {
                    res.resume();
                    res.on("end", () => finish(res.statusCode ?? 0));
                    res.on("error", (error: NodeJS.ErrnoException) => finish({ code: error.code ?? error.message }));
                },
            );
            r.on("timeout", () => r.destroy(Object.assign(new Error("timeout"), { code: "TIMEOUT" })));
            r.on("socket", (socket) => {
                const uses = (socketUses.get(socket) ?? 0) + 1;
                socketUses.set(socket, uses);
                useOfSocket = uses;
            });
            r.on("error", (error: NodeJS.ErrnoException) => {
                // A keep-alive connection the server closed as this request went out: a failure all the same.
                const reused = useOfSocket > 1 && (error.code === "ECONNRESET" || error.code === "EPIPE" || error.message === "socket hang up");
                finish({ code: reused ? `${error.code ?? "closed"} on a reused keep-alive connection` : (error.code ?? error.message) });
            });
            r.end(body);
        });
    }
}

/** A resolver that takes the first outcome only: a stream or request reports its end more than once. */
function once(resolve: (value: Outcome) => void): (value: Outcome) => void {
    let settled = false;
    return (value) => {
        if (!settled) {
            settled = true;
            resolve(value);
        }
    };
}

const socketUses = new WeakMap<object, number>();
const goneAway = new WeakSet<http2.ClientHttp2Session>();

/** A short guideline passage for analyze requests. */
export const sampleGuideline = {
    title: "Community-acquired pneumonia",
    specialty: "pulmonology",
    content:
        "Adults with community-acquired pneumonia and a CURB-65 score of 2 or more should be admitted to hospital. " +
        "Patients with a CURB-65 score of 0 or 1 may be treated at home with amoxicillin 500 mg three times daily for 5 days. " +
        "If oxygen saturation is below 92%, give supplemental oxygen.",
};

/** The steady mix the engine tests send: health checks and analyses through nginx. */
export const steadyMix: readonly LoadRequest[] = [
    { method: "GET", path: "/health", headers: { Accept: "application/json" } },
    {
        method: "POST",
        path: "/api/v1/analyze",
        headers: { "Content-Type": "application/json", Accept: "application/json" },
        body: JSON.stringify(sampleGuideline),
    },
];
