import { engineCpus, goDuration } from "../targets/engineForms";

// The forms the Docker provider reads back from the engine (checked against a real engine
// in test/engine); a container declared in another form is replaced on every `pulumi up`.
describe("values in the engine's own form", () => {
    test.each([
        [5, "5s"],
        [10, "10s"],
        [60, "1m0s"],
        [90, "1m30s"],
        [180, "3m0s"],
        [3600, "1h0m0s"],
        [3725, "1h2m5s"],
    ])("%i seconds is Go's %s", (seconds, expected) => {
        expect(goDuration(seconds)).toBe(expected);
    });

    test.each([
        [0.5, "0.5"],
        [0.2, "0.2"],
        [1, "1.0"],
        [2, "2.0"],
        [1.5, "1.5"],
    ])("%d cores read back as %s", (cores, expected) => {
        expect(engineCpus(cores)).toBe(expected);
    });

    test("refuse what the engine cannot hold", () => {
        expect(() => goDuration(1.5)).toThrow(/whole seconds/);
        expect(() => engineCpus(0)).toThrow(/positive/);
        expect(() => engineCpus(0.25)).toThrow(/finer than a tenth/);
    });
});
