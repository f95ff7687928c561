import { CONFIG, CONTAINER, replacementOrder, SECRET, SERVICE, VOLUME } from "./engine/replacementRules";
import type { DeclaredResource } from "./helpers/pulumiProgram";

/** The rule the harness replaces resources by, on the cases the issue found on the real engine. */
const declared = (type: string, inputs: Record<string, unknown>, opts: Record<string, unknown> = {}): DeclaredResource => ({ type, name: "r", inputs, opts });

describe("replacement order: provider ResourceInfo, explicitly set autonamed fields, then the resource's own option", () => {
    test("a content-named Swarm config or secret is deleted first unless the option says otherwise (the 'config is in use' failure)", () => {
        for (const type of [CONFIG, SECRET]) {
            expect(replacementOrder(declared(type, { name: "stack-x-1234", data: "e30=" }), ["data", "name"])).toEqual({ replaces: true, deleteFirst: true, decidedBy: "provider: explicit name" });
            expect(replacementOrder(declared(type, { name: "stack-x-1234", data: "e30=" }, { deleteBeforeReplace: false }), ["data", "name"])).toEqual({ replaces: true, deleteFirst: false, decidedBy: "option" });
            // Autonamed (no name set): the bridge leaves the default, create first.
            expect(replacementOrder(declared(type, { data: "e30=" }), ["data"]).deleteFirst).toBe(false);
        }
    });

    test("every container is deleted first (ResourceInfo.DeleteBeforeReplace), unless its option is false", () => {
        expect(replacementOrder(declared(CONTAINER, { image: "a" }), ["image"])).toEqual({ replaces: true, deleteFirst: true, decidedBy: "provider: ResourceInfo" });
        expect(replacementOrder(declared(CONTAINER, { image: "a" }, { deleteBeforeReplace: false }), ["image"]).deleteFirst).toBe(false);
        // memory is updated in place (not ForceNew): no replacement at all.
        expect(replacementOrder(declared(CONTAINER, { memory: 512 }), ["memory"]).replaces).toBe(false);
    });

    test("a service is updated in place unless its name changes; a named volume is replaced delete-first", () => {
        expect(replacementOrder(declared(SERVICE, { name: "s" }), ["taskSpec", "mode"]).replaces).toBe(false);
        expect(replacementOrder(declared(SERVICE, { name: "t" }), ["name"])).toEqual({ replaces: true, deleteFirst: true, decidedBy: "provider: explicit name" });
        expect(replacementOrder(declared(VOLUME, { name: "v", labels: [] }), ["labels"])).toEqual({ replaces: true, deleteFirst: true, decidedBy: "provider: explicit name" });
    });
});
