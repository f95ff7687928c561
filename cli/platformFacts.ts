/**
 * What the verbs take from the Pulumi program, in one place so that it is easy to repoint
 * when components/ moves: the services (network aliases, which are the clinicalbdd.service
 * label values), the replicas bounds and the label names.
 */
import { replicasBounds } from "../components/platform/settings";
import { backupAlias, dockerTopology, edgeTopology } from "../components/platform/topology";
import { dataNodeLabel, serviceLabel, stackLabel } from "../components/platform/workload";

export { dataNodeLabel, replicasBounds, serviceLabel, stackLabel };

/** The Swarm target's TCP proxy holding 80/443 in front of nginx (none on one host). */
export const edgeService: string = edgeTopology.alias;

/** Every service of the platform, as labelled: the app and nginx first, the edge proxy (Swarm only) last. */
export const services: readonly string[] = [...Object.values(dockerTopology).map((t) => t.alias), backupAlias, edgeService];

/** Services whose main process re-reads its configuration on SIGHUP, without a restart. */
export const reloadsOnHup: readonly string[] = [dockerTopology.nginx.alias, dockerTopology.prometheus.alias, dockerTopology.alertmanager.alias, dockerTopology.blackboxExporter.alias];

export const nginxService: string = dockerTopology.nginx.alias;
export const backupService: string = backupAlias;
