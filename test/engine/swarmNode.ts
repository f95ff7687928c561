import { execFileSync } from "child_process";
import { freePorts } from "../helpers/net";
import * as path from "path";
import { ProgramRun } from "../helpers/pulumiProgram";
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
    /** Removes the stack's volumes and, when no other test stack holds the node, the labels, or the whole Swarm when the tests created it. */
    release(stack: string): void;
}

/** The node label by which a test stack says it is using the node (removed by release). */
const holdLabel = (stack: string) => `clinicalbdd.test-hold.${stack}`;

/**
 * `docker swarm init` of the test command's own engine when it is not in a Swarm already. Several
 * test files may share it (one after the other or side by side): each holds the node with a
 * label of its stack from joining to release, and the last one out leaves the Swarm if the
 * tests created it, or else removes their labels.
 */
export function joinTestSwarm(stack: string): SwarmNode {
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
    // A Swarm the tests created is left by the last test out; one that was there before is kept.
    const createdLabel = created ? ["--label-add", "clinicalbdd.test-created=true"] : [];
    docker("node", "update", "--label-add", "clinicalbdd.data=true", "--label-add", "clinicalbdd.edge=true", "--label-add", `${holdLabel(stack)}=true`, ...createdLabel, nodeId);
    return {
        release(stack: string): void {
            // Swarm creates the local volumes on first use; the program does not own them.
            const volumes = docker("volume", "ls", "--quiet", "--filter", `name=clinical-bdd-creator-${stack}-`).split("\n").filter(Boolean);
            for (const v of volumes) quiet("volume", "rm", v);
            quiet("node", "update", "--label-rm", holdLabel(stack), nodeId);
            const labels = Object.keys(JSON.parse(docker("node", "inspect", "--format", "{{json .Spec.Labels}}", nodeId)) ?? {});
            if (labels.some((l) => l.startsWith("clinicalbdd.test-hold.")) || docker("service", "ls", "--quiet") !== "") return;
            // Leaving a Swarm (Engine 20.10) wipes the embedded DNS of every running container on
            // a user-defined network: a one-host stack beside it would answer 502 from then on.
            // With containers running, the Swarm stays (scripts/test.sh leaves it at the end).
            if (labels.includes("clinicalbdd.test-created") && docker("ps", "--quiet") === "") {
                quiet("swarm", "leave", "--force");
            } else {
                quiet("node", "update", "--label-rm", "clinicalbdd.data", "--label-rm", "clinicalbdd.edge", "--label-rm", "clinicalbdd.test-created", nodeId);
            }
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

/** The certificate the program hands the front-door nginx on Swarm: the content of its certificate config. */
export function swarmCertificate(run: ProgramRun): string {
    const config = run.byType("docker:index/serviceConfig:ServiceConfig").find((c) => c.name === "front-door-nginx-cert.pem");
    return Buffer.from(config?.inputs.data, "base64").toString("utf8");
}
