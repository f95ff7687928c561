/**
 * Where each part of the platform answers, as seen from inside the platform's network.
 * The Pulumi program passes Docker network aliases; the rehearsal passes loopback
 * addresses. Renderers take these as inputs, so one renderer serves both.
 */
/** host:port of one target, or a DNS name whose every A record is a target (one per Swarm node or task). */
export type ScrapeTarget = string | { readonly dnsName: string; readonly port: number };

export interface ScrapeTargets {
    /** A DNS name that resolves to every app replica (Docker's alias `app`), and their port. */
    readonly app: { readonly dnsName: string; readonly port: number };
    /** host:port of the nginx Prometheus exporter. */
    readonly nginxExporter: string;
    /** node-exporter: one on a single host, one per node (DNS) on Swarm. */
    readonly nodeExporter: ScrapeTarget;
    /** cAdvisor, likewise; absent where no container runtime exists (the rehearsal). */
    readonly cadvisor?: ScrapeTarget;
    /** host:port of the blackbox exporter. */
    readonly blackboxExporter: string;
    /** The HTTPS URL of /health through nginx that the blackbox exporter probes. */
    readonly healthUrl: string;
    /** host:port of Alertmanager. */
    readonly alertmanager: string;
    /** host:port of Prometheus itself. */
    readonly prometheus: string;
}

/** The network aliases and ports of the containers on the platform's Docker network. */
export const dockerTopology = {
    app: { alias: "app", port: 3000 },
    nginx: { alias: "nginx", httpPort: 80, httpsPort: 443, statusPort: 8081 },
    nginxExporter: { alias: "nginx-exporter", port: 9113 },
    nodeExporter: { alias: "node-exporter", port: 9100 },
    cadvisor: { alias: "cadvisor", port: 8080 },
    blackboxExporter: { alias: "blackbox-exporter", port: 9115 },
    alertmanager: { alias: "alertmanager", port: 9093 },
    prometheus: { alias: "prometheus", port: 9090 },
    grafana: { alias: "grafana", port: 3000 },
} as const;

/** The backup job's alias (clinicalbdd.service=backup). */
export const backupAlias = "backup";

/**
 * The edge proxy on Swarm (host mode): where it listens, and the front door's PROXY-protocol
 * ports it forwards to, on every front-door task (tasks.nginx).
 */
export const edgeTopology = {
    alias: "edge",
    httpPort: 80,
    httpsPort: 443,
    statusPort: 8081,
    frontDoorHttpPort: 8080,
    frontDoorHttpsPort: 8443,
} as const;

/**
 * The scrape targets on Swarm: Docker's DNS answers `tasks.<service>` with one A record per
 * running task, on the overlay network and without the Docker socket, so Prometheus finds
 * every app task and the exporter on every node (global services) by dns_sd, as on one host.
 */
export function swarmScrapeTargets(): ScrapeTargets {
    const t = dockerTopology;
    const tasks = (c: { alias: string; port: number }) => ({ dnsName: `tasks.${c.alias}`, port: c.port });
    return { ...dockerScrapeTargets(), app: tasks(t.app), nodeExporter: tasks(t.nodeExporter), cadvisor: tasks(t.cadvisor) };
}

/** The scrape targets of the Docker deployment. */
export function dockerScrapeTargets(): ScrapeTargets {
    const t = dockerTopology;
    const at = (c: { alias: string; port: number }): string => `${c.alias}:${c.port}`;
    return {
        app: { dnsName: t.app.alias, port: t.app.port },
        nginxExporter: at(t.nginxExporter),
        nodeExporter: at(t.nodeExporter),
        cadvisor: at(t.cadvisor),
        blackboxExporter: at(t.blackboxExporter),
        healthUrl: `https://${t.nginx.alias}:${t.nginx.httpsPort}/health`,
        alertmanager: at(t.alertmanager),
        prometheus: at(t.prometheus),
    };
}
