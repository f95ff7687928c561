import { edgeTopology } from "../platform/topology";
import { nginxConfPath } from "./nginxConf";
import { Workload } from "../platform/workload";

export interface EdgeProxyArgs {
    /** The pinned nginx image (the same as the front door's). */
    readonly image: string;
    /** The rendered edge nginx.conf (components/frontDoor/edgeConf.ts). */
    readonly edgeConf: string;
    /** Host ports the edge publishes: HTTP (redirect) and HTTPS. */
    readonly httpPort: number;
    readonly httpsPort: number;
}

/**
 * What the edge proxy runs (Swarm, host mode): nginx passing TCP from the published ports to
 * the front-door nginx tasks. It holds no certificate and no routing, so certificate rotations
 * and nginx.conf changes roll the front door behind it while it keeps the ports open.
 */
export function edgeWorkload(args: EdgeProxyArgs): Workload {
    const e = edgeTopology;
    return {
        image: args.image,
        files: [{ path: nginxConfPath, content: args.edgeConf, mode: "0444" }],
        // Bytes in, bytes out: no TLS here.
        limits: { memoryMb: 128, cpus: 0.5 },
        healthcheck: {
            test: ["CMD", "wget", "-q", "-O", "/dev/null", `http://127.0.0.1:${e.statusPort}/stub_status`],
            intervalSeconds: 10,
        },
        aliases: [e.alias],
        ports: [
            { internal: e.httpPort, external: args.httpPort, ip: "0.0.0.0" },
            { internal: e.httpsPort, external: args.httpsPort, ip: "0.0.0.0" },
        ],
        tmpfs: { "/tmp": "rw,nosuid,size=16m" },
        // Long enough for the longest request to finish after SIGQUIT.
        stopTimeoutSeconds: 30,
    };
}
