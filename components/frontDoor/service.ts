import * as pulumi from "@pulumi/pulumi";
import { filesHash } from "../platform/filesHash";
import { SecretSettings, Settings } from "../platform/settings";
import { ServiceGroup, ServicePart } from "../platform/service";
import { dockerTopology as t, edgeTopology } from "../platform/topology";
import { Workload, WorkloadFile } from "../platform/workload";
import { renderEdgeConf } from "./edgeConf";
import { dockerNginxFacts, nginxCertificatePath, nginxConfPath, nginxPrivateKeyPath, renderNginxConf } from "./nginxConf";
import { TlsCertificate } from "./tlsCertificate";

/** The certificate nginx serves: the operator's when both halves are set, else generated. */
export function frontDoorCertificate(settings: Settings, secrets: SecretSettings): TlsCertificate {
    return new TlsCertificate("tls", {
        domain: settings.domain,
        settings: settings.tls,
        extraDnsNames: [t.nginx.alias],
        providedCertificatePem: secrets.tlsCertificate,
        providedPrivateKeyPem: secrets.tlsPrivateKey,
    });
}

/**
 * The front door: nginx, the only part published on all interfaces, ending TLS and passing
 * requests to the app replicas. Its config, certificate and key go in at creation; later
 * changes (renewal, rotation, a new nginx.conf) are checked with `nginx -t` and applied with
 * a graceful reload on one host, and roll its two tasks start-first on Swarm. On Swarm with
 * host-mode ports an edge proxy on the edge nodes holds 80/443 and passes TCP (PROXY
 * protocol) to the front door, so the front door's changes never touch the ports.
 */
export function frontDoorService(settings: Settings, certificate: TlsCertificate): ServiceGroup {
    const behindEdge = settings.platform === "swarm" && settings.swarm.publishMode === "host";
    const nginx = nginxWorkload(settings, frontDoorNginxConf(settings, behindEdge), certificate);
    const parts: ServicePart[] = [
        {
            name: "front-door-nginx",
            // Host mode: the ports stay with the edge proxy; ingress: the routing mesh owns them.
            workload: behindEdge ? { ...nginx, ports: [] } : nginx,
            exclusive: "ports",
            liveFiles: { name: "config", check: ["nginx", "-t", "-q"], reload: { signal: "HUP" } },
            // Two tasks: a drained or lost node leaves the other serving; spread over the edge nodes behind the edge.
            swarm: { replicas: 2, ...(behindEdge ? { onEdgeNodes: true } : { publishMode: "ingress" as const }) },
        },
    ];
    if (behindEdge) {
        // Stop-first per node (its successor could not bind the ports): only an nginx image
        // upgrade or a port change restarts it; zero failures then need two edge nodes.
        parts.push({ name: "front-door-edge", workload: edgeWorkload(settings), onlyOn: "swarm", swarm: { global: true, onEdgeNodes: true, publishMode: "host" } });
    }
    return {
        name: "front-door",
        componentType: "clinicalbdd:platform:ReverseProxy",
        declare: () => ({ parts, outputs: { nginxConfigHash: hashOf(nginx.files ?? []) } }),
    };
}

/** Hash of the files nginx runs with; changes when a reload is due. */
function hashOf(files: readonly WorkloadFile[]): pulumi.Output<string> {
    return pulumi.unsecret(pulumi.all(files.map((f) => pulumi.output(f.content))).apply((texts) => filesHash(files.map((f, i) => ({ path: f.path, content: texts[i] })))));
}

/**
 * nginx.conf for the platform network: the app and Grafana by their aliases; behind the edge
 * proxy (Swarm, host mode), also the PROXY-protocol listeners the edge forwards to.
 */
function frontDoorNginxConf(settings: Settings, behindEdge: boolean): string {
    const facts = dockerNginxFacts(settings, {
        app: `${t.app.alias}:${t.app.port}`,
        grafana: `${t.grafana.alias}:${t.grafana.port}`,
        statusPort: t.nginx.statusPort,
    });
    const listenFromEdge = { http: String(edgeTopology.frontDoorHttpPort), https: String(edgeTopology.frontDoorHttpsPort) };
    return renderNginxConf(settings, behindEdge ? { ...facts, listenFromEdge } : facts);
}

/** What nginx runs: nginx.conf, the certificate and the key (a 0400 secret file). */
function nginxWorkload(settings: Settings, nginxConf: string, certificate: TlsCertificate): Workload {
    const files: WorkloadFile[] = [
        { path: nginxConfPath, content: nginxConf, mode: "0444" },
        { path: nginxCertificatePath, content: certificate.certificatePem, mode: "0444" },
        { path: nginxPrivateKeyPath, content: certificate.privateKeyPem, mode: "0400", secret: true },
    ];
    return {
        image: settings.images.nginx,
        files,
        // Plenty for a TLS proxy at this scale.
        limits: { memoryMb: 256, cpus: 0.5 },
        healthcheck: {
            test: ["CMD", "wget", "-q", "-O", "/dev/null", `http://127.0.0.1:${t.nginx.statusPort}/stub_status`],
            intervalSeconds: 10,
        },
        aliases: [t.nginx.alias],
        ports: [
            { internal: t.nginx.httpPort, external: settings.ports.http, ip: "0.0.0.0" },
            { internal: t.nginx.httpsPort, external: settings.ports.https, ip: "0.0.0.0" },
        ],
        tmpfs: { "/tmp": "rw,nosuid,size=64m" },
        stopTimeoutSeconds: 30,
    };
}

/**
 * What the edge proxy runs (Swarm, host mode): nginx passing TCP from the published ports to
 * the front-door nginx tasks. It holds no certificate and no routing.
 */
function edgeWorkload(settings: Settings): Workload {
    const e = edgeTopology;
    const edgeConf = renderEdgeConf({
        resolver: "127.0.0.11",
        frontDoorHost: `tasks.${t.nginx.alias}`,
        http: { listen: e.httpPort, upstreamPort: e.frontDoorHttpPort },
        https: { listen: e.httpsPort, upstreamPort: e.frontDoorHttpsPort },
        statusPort: e.statusPort,
    });
    return {
        image: settings.images.nginx,
        files: [{ path: nginxConfPath, content: edgeConf, mode: "0444" }],
        // Bytes in, bytes out: no TLS here.
        limits: { memoryMb: 128, cpus: 0.5 },
        healthcheck: {
            test: ["CMD", "wget", "-q", "-O", "/dev/null", `http://127.0.0.1:${e.statusPort}/stub_status`],
            intervalSeconds: 10,
        },
        aliases: [e.alias],
        ports: [
            { internal: e.httpPort, external: settings.ports.http, ip: "0.0.0.0" },
            { internal: e.httpsPort, external: settings.ports.https, ip: "0.0.0.0" },
        ],
        tmpfs: { "/tmp": "rw,nosuid,size=16m" },
        // Long enough for the longest request to finish after SIGQUIT.
        stopTimeoutSeconds: 30,
    };
}
