/**
 * Values in the form the Docker provider reads back from the engine. The provider keeps
 * what the engine returns in the state, so an input sent in any other form ("0.50" for
 * "0.5", "60s" for "1m0s") differs on every `pulumi up` and replaces the container.
 * test/engine checks these forms against a real engine.
 */

/** Go's time.Duration String() of whole seconds: 10 → "10s", 60 → "1m0s", 90 → "1m30s", 3600 → "1h0m0s". */
export function goDuration(seconds: number): string {
    if (!Number.isInteger(seconds) || seconds < 0) throw new Error(`goDuration: whole seconds expected, got ${seconds}`);
    if (seconds === 0) return "0s";
    const h = Math.floor(seconds / 3600);
    const m = Math.floor((seconds % 3600) / 60);
    const s = seconds % 60;
    if (h > 0) return `${h}h${m}m${s}s`;
    if (m > 0) return `${m}m${s}s`;
    return `${s}s`;
}

/**
 * A duration as the provider reads a Swarm service's back (its shortDur: Go's form with a
 * trailing "0s" after minutes and "0m" after hours dropped): 10 → "10s", 60 → "1m", 90 → "1m30s", 3600 → "1h".
 */
export function swarmDuration(seconds: number): string {
    return goDuration(seconds).replace(/m0s$/, "m").replace(/h0m$/, "h");
}

/**
 * CPU cores as the provider reads NanoCpus back: "0.5", "1.0", "2.0" were seen on a real
 * engine. Those fit both "one decimal" and "shortest decimal with a point", which differ
 * only past one decimal (0.25), so the platform uses whole tenths of a core and nothing finer.
 */
export function engineCpus(cores: number): string {
    if (!(cores > 0)) throw new Error(`engineCpus: a positive number of cores expected, got ${cores}`);
    if (Math.abs(cores * 10 - Math.round(cores * 10)) > 1e-9) {
        throw new Error(`engineCpus: ${cores} cores is finer than a tenth of a core, whose read-back form is not known`);
    }
    const nano = Math.round(cores * 1e9);
    const text = String(nano / 1e9);
    return text.includes(".") ? text : `${text}.0`;
}
