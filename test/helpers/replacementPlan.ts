import { dockerTypes, replacementOrder, VOLUME } from "../engine/replacementRules";
import { DeclaredResource, diffRuns, ProgramRun } from "./pulumiProgram";

/** One Docker object a config change replaces, and in which order the engine would do it. */
export interface PlannedReplacement {
    readonly resource: DeclaredResource;
    readonly deleteFirst: boolean;
    readonly decidedBy: string;
}

/** The Docker objects `after` replaces relative to `before`, each with the real replacement order. */
export function plannedReplacements(before: ProgramRun, after: ProgramRun): PlannedReplacement[] {
    const planned: PlannedReplacement[] = [];
    for (const change of diffRuns(before, after).changed) {
        const [type, name] = change.key.split("::");
        if (!dockerTypes.includes(type)) continue;
        const resource = after.one(type, name);
        const ignored = resource.opts.ignoreChanges ?? [];
        const order = replacementOrder(resource, change.fields.filter((f) => !ignored.includes(f)));
        if (order.replaces) planned.push({ resource, deleteFirst: order.deleteFirst, decidedBy: order.decidedBy });
    }
    return planned;
}

/**
 * Delete-first replacements of an object that another surviving Docker object still uses (a
 * service its config or secret, a container its volume): the engine would refuse the delete
 * ("… is in use"). A user replaced delete-first itself is deleted before it, as Pulumi does
 * with dependents; a retained volume's delete never reaches the engine. Commands hold nothing.
 */
export function deletesWhileInUse(before: ProgramRun, after: ProgramRun): string[] {
    const planned = plannedReplacements(before, after);
    const goneFirst = new Set(planned.filter((p) => p.deleteFirst).map((p) => p.resource));
    const problems: string[] = [];
    for (const { resource, decidedBy } of planned.filter((p) => p.deleteFirst)) {
        if (resource.type === VOLUME && resource.opts.retainOnDelete) continue;
        // Only a named volume is replaced delete-first (explicit name), and it is used by that name.
        const references = [`"${resource.name}-id"`, ...(resource.type === VOLUME ? [`"${resource.inputs.name}"`] : [])];
        const users = after.resources.filter(
            (user) => user !== resource && dockerTypes.includes(user.type) && !goneFirst.has(user) && references.some((ref) => JSON.stringify(user.inputs).includes(ref)),
        );
        for (const user of users) problems.push(`${resource.name} is deleted before its replacement exists (${decidedBy}) while ${user.name} uses it`);
    }
    return problems;
}
