/**
 * Go's time.Duration (ParseDuration and String(), in integer nanoseconds) and docker/cli's
 * CPU count parsing, as the Docker provider and the engine use them: the forms a declared
 * value is sent in and read back in.
 */

const durationUnits: Record<string, bigint> = {
    ns: 1n, us: 1_000n, "µs": 1_000n, "μs": 1_000n, ms: 1_000_000n, s: 1_000_000_000n,
    m: 60_000_000_000n, h: 3_600_000_000_000n,
};

/** Go's time.ParseDuration ("1m30s", "1.5h", "300ms", "0"); throws on what Go rejects. */
export function parseGoDuration(text: string): bigint {
    const invalid = () => new Error(`time: invalid duration "${text}"`);
    let s = text;
    let negative = false;
    if (s.startsWith("-") || s.startsWith("+")) {
        negative = s[0] === "-";
        s = s.slice(1);
    }
    if (s === "0") return 0n;
    if (s === "") throw invalid();
    let total = 0n;
    const part = /^(\d*)(?:\.(\d*))?(ns|us|µs|μs|ms|s|m|h)/;
    while (s !== "") {
        const m = part.exec(s);
        if (!m || (m[1] === "" && (m[2] ?? "") === "")) throw invalid();
        const unit = durationUnits[m[3]];
        const whole = BigInt(m[1] || "0") * unit;
        const digits = m[2] ?? "";
        const fraction = digits === "" ? 0n : (BigInt(digits) * unit) / 10n ** BigInt(digits.length);
        total += whole + fraction;
        s = s.slice(m[0].length);
    }
    return negative ? -total : total;
}

/** Go's time.Duration.String(): 60s → "1m0s", 1.5s → "1.5s", 300ms → "300ms", 0 → "0s". */
export function formatGoDuration(ns: bigint): string {
    if (ns === 0n) return "0s";
    const sign = ns < 0n ? "-" : "";
    const u = ns < 0n ? -ns : ns;
    const frac = (value: bigint, scale: bigint, digits: number): string => {
        const whole = value / scale;
        const rest = (value % scale).toString().padStart(digits, "0").replace(/0+$/, "");
        return rest ? `${whole}.${rest}` : `${whole}`;
    };
    if (u < 1_000_000_000n) {
        if (u < 1_000n) return `${sign}${u}ns`;
        if (u < 1_000_000n) return `${sign}${frac(u, 1_000n, 3)}µs`;
        return `${sign}${frac(u, 1_000_000n, 6)}ms`;
    }
    const seconds = frac(u % 60_000_000_000n, 1_000_000_000n, 9);
    const totalMinutes = u / 60_000_000_000n;
    if (totalMinutes === 0n) return `${sign}${seconds}s`;
    const hours = totalMinutes / 60n;
    const minutes = totalMinutes % 60n;
    return `${sign}${hours > 0n ? `${hours}h` : ""}${minutes}m${seconds}s`;
}

/** The provider ignores ParseDuration's error (`_`), so an unparsable duration becomes 0. */
export function durationOrZero(text: string | undefined): number {
    if (text === undefined) return 0;
    try {
        return Number(parseGoDuration(text));
    } catch {
        return 0;
    }
}

/** docker/cli's ParseCPUs: an exact decimal times 1e9, which must be a whole number. */
export function parseCpus(value: string): number {
    const m = /^\s*(\d*)(?:\.(\d*))?\s*$/.exec(value);
    if (!m || (m[1] === "" && (m[2] ?? "") === "")) throw new Error(`failed to parse ${value} as a rational number`);
    const digits = (m[2] ?? "").replace(/0+$/, "");
    if (digits.length > 9) throw new Error("value is too precise");
    return Number(BigInt(m[1] || "0") * 1_000_000_000n + BigInt(digits.padEnd(9, "0") || "0"));
}

/** Inferred read-back form of cpus (see header, 1): 500000000 → "0.5", 2000000000 → "2.0". */
export function formatCpus(nanoCpus: number): string {
    const n = BigInt(nanoCpus);
    const fraction = (n % 1_000_000_000n).toString().padStart(9, "0").replace(/0+$/, "");
    return `${n / 1_000_000_000n}.${fraction || "0"}`;
}

