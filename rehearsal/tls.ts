import { spawnSync } from "child_process";
import * as crypto from "crypto";
import * as fs from "fs";
import * as path from "path";

export interface CertificateFiles {
    readonly cert: string;
    readonly key: string;
}

function openssl(args: readonly string[]): void {
    const result = spawnSync("openssl", [...args], { encoding: "utf8", timeout: 120_000 });
    if (result.status !== 0) throw new Error(`openssl ${args[0]} failed: ${result.error?.message ?? ""}${result.stderr}`);
}

/**
 * The rehearsal's certificate authority: clients (the tests, the load generator, the
 * blackbox exporter) trust it, so a renewed server certificate is trusted the moment nginx
 * serves it, as a publicly trusted certificate would be after its renewal.
 */
export function createAuthority(dir: string): CertificateFiles {
    const files = { cert: path.join(dir, "ca.pem"), key: path.join(dir, "ca-key.pem") };
    openssl(["req", "-x509", "-newkey", "rsa:4096", "-nodes", "-keyout", files.key, "-out", files.cert, "-days", "30",
        "-subj", "/CN=Clinical BDD rehearsal CA", "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign"]);
    return files;
}

/**
 * Issues a server certificate for `names` (DNS names and IP addresses) with a fresh RSA
 * 4096 key (like the platform's tls.PrivateKey) and writes it over `files` atomically (temp
 * file, then rename), as a renewal uploads a new pair. Returns its SHA-256 fingerprint in
 * the form Node's getPeerCertificate() gives.
 */
export function issueCertificate(authority: CertificateFiles, files: CertificateFiles, names: readonly string[], days = 30): string {
    const san = names.map((n) => (/^\d+\.\d+\.\d+\.\d+$/.test(n) ? `IP:${n}` : `DNS:${n}`)).join(",");
    const next = { cert: `${files.cert}.next`, key: `${files.key}.next`, csr: `${files.cert}.csr`, ext: `${files.cert}.ext` };
    fs.writeFileSync(next.ext, `subjectAltName=${san}\nbasicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n`);
    openssl(["req", "-new", "-newkey", "rsa:4096", "-nodes", "-keyout", next.key, "-out", next.csr, "-subj", `/CN=${names[0]}`]);
    openssl(["x509", "-req", "-in", next.csr, "-CA", authority.cert, "-CAkey", authority.key, "-set_serial", `0x${crypto.randomBytes(8).toString("hex")}`,
        "-days", String(days), "-sha256", "-extfile", next.ext, "-out", next.cert]);
    fs.chmodSync(next.key, 0o600);
    fs.renameSync(next.key, files.key);
    fs.renameSync(next.cert, files.cert);
    fs.rmSync(next.csr);
    fs.rmSync(next.ext);
    return new crypto.X509Certificate(fs.readFileSync(files.cert)).fingerprint256;
}
