import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { freePort } from "./net";
import { Supervisor } from "./processes";

/** Runs a real tool (nginx, openssl, …) and returns its exit code and combined output. */
export function runTool(command: string, args: readonly string[], timeoutMs = 30_000): { code: number; output: string } {
    const result = spawnSync(command, [...args], { encoding: "utf8", timeout: timeoutMs });
    if (result.error) throw new Error(`${command} could not run: ${result.error.message}`);
    return { code: result.status ?? -1, output: `${result.stdout}${result.stderr}` };
}

/** A fresh temporary directory, removed by the returned cleanup function. */
export function makeTempDir(prefix: string): { dir: string; cleanup: () => void } {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), `${prefix}-`));
    return { dir, cleanup: () => fs.rmSync(dir, { recursive: true, force: true }) };
}

/** Writes a self-signed certificate and key for `names` with openssl; returns their paths. */
export function writeSelfSignedCertificate(dir: string, names: readonly string[], days = 30): { cert: string; key: string } {
    const cert = path.join(dir, "cert.pem");
    const key = path.join(dir, "key.pem");
    const san = names.map((n) => (/^\d+\.\d+\.\d+\.\d+$/.test(n) ? `IP:${n}` : `DNS:${n}`)).join(",");
    const { code, output } = runTool("openssl", [
        "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", cert,
        "-days", String(days), "-subj", `/CN=${names[0]}`, "-addext", `subjectAltName=${san}`,
    ]);
    if (code !== 0) throw new Error(`openssl failed: ${output}`);
    return { cert, key };
}

/**
 * Starts a real server (Debian's prometheus, blackbox exporter, …) on a free 127.0.0.1 port
 * under `supervisor` (test/helpers/processes.ts), so it runs in its own process group and is ended by
 * `supervisor.stopAll()` — and waits until `readyPath` answers 2xx. Returns its base URL.
 */
export async function startOnLoopback(
    supervisor: Supervisor,
    name: string,
    command: string,
    argsFor: (listenAddress: string) => string[],
    readyPath: string,
    timeoutMs = 20_000,
): Promise<string> {
    const listenAddress = `127.0.0.1:${await freePort(["127.0.0.1"])}`;
    supervisor.start(name, command, argsFor(listenAddress));
    const base = `http://${listenAddress}`;
    await supervisor.waitReady(name, `${name} at ${base}${readyPath}`, async () => (await fetch(`${base}${readyPath}`, { signal: AbortSignal.timeout(2_000) })).ok, timeoutMs);
    return base;
}
