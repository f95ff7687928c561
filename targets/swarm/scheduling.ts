import { ServicePart } from "../../components/platform/service";
import { dataNodeLabel, edgeNodeLabel } from "../../components/platform/workload";
import { SwarmRunOptions } from "./runner";

/** The node label that pins the stateful parts to the node holding their volumes. */
export const dataNodeConstraint = `node.labels.${dataNodeLabel}==true`;
/** The node label of the nodes that publish 80/443 in host mode. */
export const edgeNodeConstraint = `node.labels.${edgeNodeLabel}==true`;

/**
 * How Swarm schedules and rolls a part, from its data: a part on the data node (its volumes
 * are local there) runs one task, stop-first, because two Prometheus cannot share one TSDB; a
 * global part (one per node) is replaced stop-first on each node; everything else rolls
 * start-first, each new task healthy before its predecessor stops.
 */
export function swarmRunOptions(part: ServicePart): SwarmRunOptions {
    const s = part.swarm ?? {};
    const onDataNode = part.exclusive === "data" || s.onDataNode === true;
    const constraints = onDataNode ? [dataNodeConstraint] : s.onEdgeNodes ? [edgeNodeConstraint] : undefined;
    return {
        mode: s.global ? "global" : { replicas: onDataNode ? 1 : (part.replicas?.count ?? s.replicas ?? 1) },
        order: onDataNode || s.global ? "stop-first" : "start-first",
        ...(constraints ? { constraints } : {}),
        ...(s.publishMode ? { publishMode: s.publishMode } : {}),
        ...(part.healthyLate ? { waitForConvergence: false } : {}),
        ...(s.entrypoint ? { entrypoint: s.entrypoint } : {}),
    };
}
