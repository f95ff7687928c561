/**
 * What the providers of a real `pulumi up` return, for the resources whose outputs reach the
 * engine: docker.Image builds the Dockerfile on the engine and returns the image ID, @pulumi/tls
 * returns a real key and certificate (openssl here), and autonamed volumes and networks get a
 * Docker name of their own per stack. Handed to runProgram as `providerOutputs`, so the mocked
 * program declares exactly what a real deployment would hand the Docker provider.
 */
import { execFileSync, spawnSync } from "child_process";
import { createHash } from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import type * as pulumi from "@pulumi/pulumi";
import type { ProviderOutputs } from "../helpers/pulumiProgram";

/** Keys and certificates by resource name and generation, so re-running the program keeps them unless rotated. */
export class RealOutputs {
    private readonly keys = new Map<string, string>();
    private readonly certs = new Map<string, { certPem: string; validityEndTime: string }>();

    constructor(private readonly stack: string) {}

    readonly outputs: ProviderOutputs = (type, name, inputs, opts) => {
        switch (type) {
            case "docker:index/image:Image":
                return this.buildImage(inputs);
            case "tls:index/privateKey:PrivateKey":
                return { privateKeyPem: this.privateKey(name, inputs, opts) };
            case "tls:index/selfSignedCert:SelfSignedCert":
                return this.certificate(name, inputs, opts);
            case "docker:index/volume:Volume":
            case "docker:index/network:Network":
                return { name: inputs.name ?? `${this.stack}-${name}` };
            default:
                return undefined;
        }
    };

    /** As docker.Image with skipPush: a local build, whose repoDigest is the image ID. */
    private buildImage(inputs: Record<string, any>): Record<string, unknown> {
        buildImage(inputs.imageName, inputs.build.context, inputs.build.dockerfile, inputs.build.platform);
        return { imageName: inputs.imageName, repoDigest: imageId(inputs.imageName) };
    }

    private privateKey(name: string, inputs: Record<string, any>, opts: pulumi.ResourceOptions): string {
        const key = `${name}#${String(opts.replacementTrigger ?? 0)}`;
        if (!this.keys.has(key)) {
            this.keys.set(key, execFileSync("openssl", ["genpkey", "-algorithm", inputs.algorithm, "-pkeyopt", `rsa_keygen_bits:${inputs.rsaBits}`], { encoding: "utf8" }));
        }
        return this.keys.get(key) as string;
    }

    /** A self-signed certificate for the declared names and validity, signed by the declared key. */
    private certificate(name: string, inputs: Record<string, any>, opts: pulumi.ResourceOptions): { certPem: string; validityEndTime: string } {
        const { earlyRenewalHours: _updatedInPlace, ...issued } = inputs;
        const key = `${name}#${String(opts.replacementTrigger ?? 0)}#${createHash("sha256").update(JSON.stringify(issued)).digest("hex")}`;
        const cached = this.certs.get(key);
        if (cached) return cached;
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "cert-"));
        try {
            const keyFile = path.join(dir, "key.pem");
            fs.writeFileSync(keyFile, inputs.privateKeyPem, { mode: 0o600 });
            const san = [...inputs.dnsNames.map((d: string) => `DNS:${d}`), ...(inputs.ipAddresses ?? []).map((ip: string) => `IP:${ip}`)].join(",");
            const days = Math.max(1, Math.round(inputs.validityPeriodHours / 24));
            const certPem = execFileSync(
                "openssl",
                ["req", "-x509", "-key", keyFile, "-days", String(days), "-subj", `/CN=${inputs.subject.commonName}`, "-addext", `subjectAltName=${san}`],
                { encoding: "utf8" },
            );
            const result = { certPem, validityEndTime: new Date(Date.now() + days * 86_400_000).toISOString() };
            this.certs.set(key, result);
            return result;
        } finally {
            fs.rmSync(dir, { recursive: true, force: true });
        }
    }
}

/** A local BuildKit build on the test engine, as docker.Image builds (cached after the first). */
export function buildImage(tag: string, context: string, dockerfile = path.join(context, "Dockerfile"), platform = "linux/amd64"): void {
    execFileSync(buildkitClient(), ["build", "--quiet", "--platform", platform, "-t", tag, "-f", dockerfile, context], {
        env: { ...process.env, DOCKER_BUILDKIT: "1" },
        stdio: ["ignore", "ignore", "pipe"],
        timeout: 15 * 60_000,
    });
}

/**
 * A docker CLI that builds with BuildKit, as docker.Image does: the one on PATH when it has
 * buildx, else Debian's 20.10 client (BuildKit built in); a newer client without buildx
 * refuses DOCKER_BUILDKIT=1.
 */
function buildkitClient(): string {
    if (spawnSync("docker", ["buildx", "version"]).status === 0) return "docker";
    if (fs.existsSync("/usr/bin/docker")) return "/usr/bin/docker";
    throw new Error("no docker CLI that builds with BuildKit: install buildx, or Debian's docker.io (scripts/docker-engine.sh)");
}

/** The engine's ID of a local image; throws when it is not there (a registry is out of reach here). */
export function imageId(reference: string): string {
    return execFileSync("docker", ["image", "inspect", "--format", "{{.Id}}", reference], { encoding: "utf8" }).trim();
}
