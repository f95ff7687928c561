import { execFileSync } from "child_process";
import { freePorts } from "../../rehearsal/net";
import * as path from "path";
import { Deployment } from "./deployment";
import { buildImage } from "./realOutputs";

const docker = (...args: string[]) => execFileSync("docker", args, { encoding: "utf8", timeout: 60_000 }).trim();

function quiet(...args: string[]): void {
    try {
        execFileSync("docker", args, { stdio: "ignore", timeout: 60_000 });
    } catch {
        // clean-up: best effort
    }
}

/** This engine as a one-node Swarm, labelled as the data and edge node the program expects. */
export interface SwarmNode {
    readonly nodeId: string;
    /** Removes the stack's volumes and, when no other stack's service is left, the labels and the Swarm this created. */
    release(stack: string): void;
}

/**
 * `docker swarm init` of the test command's own engine when it is not in a Swarm already. Several
 * test files may share it (one after the other or side by side), so each leaves it only when
 * no service of any other stack is left on it.
 */
export function joinTestSwarm(): SwarmNode {
    let created = false;
    if (docker("info", "--format", "{{.Swarm.LocalNodeState}}") !== "active") {
        try {
            docker("swarm", "init", "--advertise-addr", "127.0.0.1");
            created = true;
        } catch (error) {
            // Another test file initialised it a moment ago.
            if (docker("info", "--format", "{{.Swarm.LocalNodeState}}") !== "active") throw error;
        }
    }
    const nodeId = docker("info", "--format", "{{.Swarm.NodeID}}");
    docker("node", "update", "--label-add", "clinicalbdd.data=true", "--label-add", "clinicalbdd.edge=true", nodeId);
    return {
        nodeId,
        release(stack: string): void {
            // Swarm creates the local volumes on first use; the program does not own them.
            const volumes = docker("volume", "ls", "--quiet", "--filter", `name=clinical-bdd-creator-${stack}-`).split("\n").filter(Boolean);
            for (const v of volumes) quiet("volume", "rm", v);
            if (docker("service", "ls", "--quiet") !== "") return;
            quiet("node", "update", "--label-rm", "clinicalbdd.data", "--label-rm", "clinicalbdd.edge", nodeId);
            if (created) quiet("swarm", "leave", "--force");
        },
    };
}

const swarmAppImage = "clinical-bdd-creator-app:local";

/**
 * A Deployment of the program with `platform: swarm` on free ports, sized for a 2-CPU test
 * engine: the reservations of three replicas plus a start-first fourth must fit.
 */
export async function swarmTestDeployment(stack: string, config: Record<string, string> = {}): Promise<{ deployment: Deployment; httpsPort: number }> {
    // Swarm runs the app from an image reference (appImage); here, the program's own build of app/.
    buildImage(swarmAppImage, path.join(__dirname, "..", "..", "app"));
    const [http, https] = await freePorts("127.0.0.1", 2);
    const deployment = new Deployment(stack, {
        platform: "swarm",
        appImage: swarmAppImage,
        replicas: "2",
        appMemoryMb: "512",
        appCpus: "0.4",
        httpPort: String(http),
        httpsPort: String(https),
        ...config,
    });
    return { deployment, httpsPort: https };
}
