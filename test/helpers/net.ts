/** Ports, polling and one-shot HTTP(S) requests for the tests. */
import * as http from "http";
import * as https from "https";
import * as net from "net";
import type { TLSSocket } from "tls";

/** True when a TCP listener can bind host:port right now. */
export function canListen(host: string, port: number): Promise<boolean> {
    return new Promise((resolve) => {
        const server = net.createServer();
        server.once("error", () => resolve(false));
        server.listen({ host, port, exclusive: true }, () => server.close(() => resolve(true)));
    });
}

/** A port free on every one of `hosts` (probed; ephemeral range avoided, never 80/443). */
export async function freePort(hosts: readonly string[]): Promise<number> {
    for (let attempt = 0; attempt < 50; attempt++) {
        const port = 20_000 + Math.floor(Math.random() * 12_000);
        const free = await Promise.all(hosts.map((host) => canListen(host, port)));
        if (free.every(Boolean)) return port;
    }
    throw new Error(`no free port on ${hosts.join(", ")} after 50 tries`);
}

/** Distinct free ports on one host. */
export async function freePorts(host: string, count: number): Promise<number[]> {
    const ports: number[] = [];
    while (ports.length < count) {
        const port = await freePort([host]);
        if (!ports.includes(port)) ports.push(port);
    }
    return ports;
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls `check` until it returns a value (not undefined) or `timeoutMs` passes; then throws naming `what`. */
export async function waitUntil<T>(what: string, check: () => Promise<T | undefined>, timeoutMs: number, intervalMs = 250): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    let lastError = "";
    for (;;) {
        try {
            const value = await check();
            if (value !== undefined) return value;
        } catch (error) {
            lastError = `: last error ${(error as Error).message}`;
        }
        if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${lastError}`);
        await sleep(intervalMs);
    }
}

export interface Answer {
    readonly status: number;
    readonly headers: http.IncomingHttpHeaders;
    readonly body: string;
    /** SHA-256 fingerprint of the server's certificate, for HTTPS. */
    readonly certificateFingerprint?: string;
    readonly elapsedMs: number;
}

export interface RequestOptions {
    readonly method?: string;
    readonly headers?: Readonly<Record<string, string>>;
    readonly body?: string | Buffer;
    /** The CA to verify the server against (our self-signed certificate). */
    readonly ca?: string;
    /** TLS SNI and certificate name to verify. */
    readonly servername?: string;
    readonly timeoutMs?: number;
    readonly agent?: http.Agent | https.Agent | false;
}

/** One HTTP(S) request; resolves with the whole answer, rejects on a network error or timeout. */
export function request(url: string, options: RequestOptions = {}): Promise<Answer> {
    const started = Date.now();
    const target = new URL(url);
    const secure = target.protocol === "https:";
    const body = options.body === undefined ? undefined : Buffer.from(options.body);
    const headers: Record<string, string | number> = { ...(options.headers ?? {}) };
    if (body) headers["Content-Length"] = body.length;
    return new Promise((resolve, reject) => {
        const common = { method: options.method ?? "GET", headers, agent: options.agent ?? false, timeout: options.timeoutMs ?? 10_000 };
        const onResponse = (res: http.IncomingMessage): void => {
            const socket = res.socket as TLSSocket;
            const fingerprint = secure && typeof socket.getPeerCertificate === "function" ? socket.getPeerCertificate().fingerprint256 : undefined;
            const chunks: Buffer[] = [];
            res.on("data", (chunk: Buffer) => chunks.push(chunk));
            res.on("error", reject);
            res.on("end", () =>
                resolve({
                    status: res.statusCode ?? 0,
                    headers: res.headers,
                    body: Buffer.concat(chunks).toString("utf8"),
                    certificateFingerprint: fingerprint,
                    elapsedMs: Date.now() - started,
                }),
            );
        };
        const req = secure
            ? https.request(target, { ...common, ca: options.ca, servername: options.servername }, onResponse)
            : http.request(target, common, onResponse);
        req.on("timeout", () => req.destroy(new Error(`${url}: no answer within ${common.timeout} ms`)));
        req.on("error", reject);
        req.end(body);
    });
}
