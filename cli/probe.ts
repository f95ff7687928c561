/** An HTTP(S) GET as `curl -k -s -o /dev/null -w '%{http_code} in %{time_total} s' --max-time 10`. */
import * as http from "http";
import * as https from "https";

export interface ProbeResult {
    readonly ok: boolean;
    readonly text: string;
}

export type Probe = (url: string) => Promise<ProbeResult>;

export const probe: Probe = (url) =>
    new Promise((resolve) => {
        const started = process.hrtime.bigint();
        let target: URL;
        try {
            target = new URL(url);
        } catch {
            resolve({ ok: false, text: "unreachable (not a URL)" });
            return;
        }
        const get = target.protocol === "https:" ? https.get : http.get;
        const request = get(target, { rejectUnauthorized: false, timeout: 10_000 }, (response) => {
            response.resume();
            response.on("end", () => {
                const seconds = Number(process.hrtime.bigint() - started) / 1e9;
                const code = response.statusCode ?? 0;
                resolve({ ok: code >= 200 && code < 300, text: `${code} in ${seconds.toFixed(3)} s` });
            });
        });
        request.on("timeout", () => request.destroy(new Error("timed out after 10 s")));
        request.on("error", (error: NodeJS.ErrnoException) => resolve({ ok: false, text: `unreachable (${error.code ?? error.message})` }));
    });
