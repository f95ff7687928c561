import { Settings } from "../../components/platform/settings";
import { ServiceGroup } from "../../components/platform/service";
import { dockerTopology } from "../../components/platform/topology";
import { Workload } from "../../components/platform/workload";
import { renderBlackboxConfig } from "./blackboxConfig";

interface ExporterFacts {
    readonly images: Pick<Settings["images"], "nodeExporter" | "cadvisor" | "nginxExporter" | "blackboxExporter">;
    /** Rendered blackbox.yml (monitoring/exporters/blackboxConfig.ts). */
    readonly blackboxConfig: string;
    /** URL of nginx's stub_status on the platform network. */
    readonly nginxStatusUrl: string;
    /** A volume node-exporter reads *.prom files from (the backup job's metrics); default none. */
    readonly textfileVolumeName?: string;
}

type ExporterRole = "nodeExporter" | "cadvisor" | "nginxExporter" | "blackboxExporter";

const blackboxConfigPath = "/etc/blackbox_exporter/config.yml";
const small = { memoryMb: 128, cpus: 0.2 };
const textfileDir = "/textfile";

/**
 * The exporters Prometheus scrapes beside the app: node-exporter (host) and cAdvisor
 * (containers) on every node, the nginx exporter (stub_status) and the blackbox prober (the
 * health URL over HTTPS, end to end, with the certificate's expiry). None publishes a port.
 */
export function exportersService(settings: Settings, textfileVolumeName: string): ServiceGroup {
    const t = dockerTopology;
    const w = exporterWorkloads({
        images: settings.images,
        blackboxConfig: renderBlackboxConfig(settings),
        nginxStatusUrl: `http://${t.nginx.alias}:${t.nginx.statusPort}/stub_status`,
        textfileVolumeName,
    });
    return {
        name: "exporters",
        componentType: "clinicalbdd:platform:Exporters",
        declare: () => ({
            parts: [
                { name: "exporters-node-exporter", workload: w.nodeExporter, swarm: { global: true } },
                { name: "exporters-cadvisor", workload: w.cadvisor, swarm: { global: true } },
                { name: "exporters-nginx-exporter", workload: w.nginxExporter },
                { name: "exporters-blackbox-exporter", workload: w.blackboxExporter, liveFiles: { name: "blackbox-config", reload: { signal: "HUP" } } },
            ],
        }),
    };
}

/** What each exporter runs, on either target. */
function exporterWorkloads(args: ExporterFacts): Record<ExporterRole, Workload> {
    const t = dockerTopology;
    const wgetHealth = (port: number, path: string) => ({
        test: ["CMD", "wget", "-q", "-O", "/dev/null", `http://127.0.0.1:${port}${path}`],
    });

    const nodeExporter: Workload = {
        image: args.images.nodeExporter,
        command: ["--path.procfs=/host/proc", "--path.sysfs=/host/sys", "--path.rootfs=/rootfs",
            "--collector.filesystem.mount-points-exclude=^/(dev|proc|sys|var/lib/docker/.+)($|/)",
            ...(args.textfileVolumeName ? [`--collector.textfile.directory=${textfileDir}`] : [])],
        limits: small,
        healthcheck: wgetHealth(t.nodeExporter.port, "/"),
        aliases: [t.nodeExporter.alias],
        hostMounts: [
            { hostPath: "/proc", containerPath: "/host/proc" },
            { hostPath: "/sys", containerPath: "/host/sys" },
            { hostPath: "/", containerPath: "/rootfs" },
        ],
        volumes: args.textfileVolumeName ? [{ volumeName: args.textfileVolumeName, containerPath: textfileDir, readOnly: true }] : [],
        user: "65534:65534",
        readOnlyRootFs: true,
    };
    const cadvisor: Workload = {
        image: args.images.cadvisor,
        command: ["--docker_only=true", "--housekeeping_interval=15s", "--store_container_labels=false"],
        limits: { memoryMb: 256, cpus: 0.5 },
        healthcheck: wgetHealth(t.cadvisor.port, "/healthz"),
        aliases: [t.cadvisor.alias],
        hostMounts: [
            { hostPath: "/", containerPath: "/rootfs" },
            { hostPath: "/var/run", containerPath: "/var/run" },
            { hostPath: "/sys", containerPath: "/sys" },
            { hostPath: "/var/lib/docker", containerPath: "/var/lib/docker" },
        ],
        // Justified: cAdvisor reads every container's cgroups and the host's devices.
        privileged: true,
    };
    const nginxExporter: Workload = {
        image: args.images.nginxExporter,
        command: [`--nginx.scrape-uri=${args.nginxStatusUrl}`, `--web.listen-address=:${t.nginxExporter.port}`],
        limits: small,
        // The image has no shell or wget: a run of the binary is the check it allows.
        healthcheck: { test: ["CMD", "/usr/bin/nginx-prometheus-exporter", "--version"] },
        aliases: [t.nginxExporter.alias],
        user: "65534:65534",
        readOnlyRootFs: true,
    };
    const blackboxExporter: Workload = {
        image: args.images.blackboxExporter,
        command: [`--config.file=${blackboxConfigPath}`, `--web.listen-address=:${t.blackboxExporter.port}`],
        files: [{ path: blackboxConfigPath, content: args.blackboxConfig }],
        limits: small,
        healthcheck: wgetHealth(t.blackboxExporter.port, "/-/healthy"),
        aliases: [t.blackboxExporter.alias],
        user: "65534:65534",
    };
    return { nodeExporter, cadvisor, nginxExporter, blackboxExporter };
}
