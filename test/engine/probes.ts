/** What the real-engine tests ask of a deployed front door: its answers, its certificate, its failed requests. */
import { execFileSync } from "child_process";
import * as https from "https";
import { LoadReport } from "./load";

/** GET through nginx over TLS as a client of `localhost` would (the certificate is self-signed). */
export function get(url: string): Promise<{ status: number; body: string }> {
    return new Promise((resolve, reject) => {
        https
            .get(url, { rejectUnauthorized: false, servername: "localhost", headers: { Host: "localhost", Accept: "application/json" } }, (res) => {
                let body = "";
                res.on("data", (c) => (body += c));
                res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
            })
            .on("error", reject);
    });
}

/** The certificate nginx serves on `port`, whitespace removed (compare with normalise). */
export function servedCertificate(port: number): string {
    return normalise(execFileSync("sh", ["-c", `openssl s_client -connect 127.0.0.1:${port} -servername localhost </dev/null 2>/dev/null | openssl x509`], { encoding: "utf8" }));
}

export const normalise = (pem: string) => pem.replace(/\s+/g, "");
export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Every request of the steady load answered 2xx, and some were sent. */
export function expectNoFailures(report: LoadReport): void {
    expect({ ok: report.ok > 0, failed: report.failed, failures: report.failures }).toEqual({ ok: true, failed: 0, failures: [] });
}
