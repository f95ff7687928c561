import * as pulumi from "@pulumi/pulumi";
import * as tls from "@pulumi/tls";
import { X509Certificate } from "crypto";
import { TlsSettings } from "../platform/settings";

export interface TlsCertificateArgs {
    /** The DNS name served; with `localhost` and `extraDnsNames` it makes the SANs. */
    readonly domain: string;
    /** Validity, renew-before window and rotation counter. */
    readonly settings: TlsSettings;
    /** More SANs, e.g. the internal alias the blackbox prober uses; default none. */
    readonly extraDnsNames?: readonly string[];
    /** An operator's certificate and key (PEM, secrets); when both are set they replace the generated pair. */
    readonly providedCertificatePem?: pulumi.Output<string | undefined>;
    readonly providedPrivateKeyPem?: pulumi.Output<string | undefined>;
}

/**
 * nginx's key and certificate. The generated one is self-signed by @pulumi/tls; inside the
 * renew-before window the provider marks it ready for renewal, so the next `pulumi up`
 * issues a new one, and bumping `tlsRotation` forces a new key and certificate at once.
 */
export class TlsCertificate extends pulumi.ComponentResource {
    public readonly certificatePem: pulumi.Output<string>;
    public readonly privateKeyPem: pulumi.Output<string>;
    /** When the certificate in use expires, ISO 8601. */
    public readonly expiresAt: pulumi.Output<string>;

    constructor(name: string, args: TlsCertificateArgs, opts?: pulumi.ComponentResourceOptions) {
        super("clinicalbdd:platform:TlsCertificate", name, {}, opts);
        const rotate = { parent: this, replacementTrigger: args.settings.rotation };
        const key = new tls.PrivateKey(`${name}-key`, { algorithm: "RSA", rsaBits: 4096 }, rotate);
        const cert = new tls.SelfSignedCert(
            `${name}-cert`,
            {
                privateKeyPem: key.privateKeyPem,
                subject: { commonName: args.domain, organization: "Clinical BDD Creator" },
                dnsNames: [...new Set([args.domain, "localhost", ...(args.extraDnsNames ?? [])])],
                ipAddresses: ["127.0.0.1"],
                validityPeriodHours: args.settings.validityDays * 24,
                earlyRenewalHours: args.settings.renewBeforeDays * 24,
                allowedUses: ["key_encipherment", "digital_signature", "server_auth"],
            },
            rotate,
        );
        const provided = pulumi.all([args.providedCertificatePem, args.providedPrivateKeyPem]);
        this.certificatePem = pulumi
            .all([provided, cert.certPem])
            .apply(([[pem, keyPem], generated]) => (pem && keyPem ? pem : generated));
        this.privateKeyPem = pulumi.secret(
            pulumi.all([provided, key.privateKeyPem]).apply(([[pem, keyPem], generated]) => (pem && keyPem ? keyPem : generated)),
        );
        this.expiresAt = pulumi
            .all([provided, cert.validityEndTime])
            .apply(([[pem, keyPem], generatedEnd]) => (pem && keyPem ? certificateExpiry(pem) : generatedEnd));
        this.registerOutputs({ certificatePem: this.certificatePem, expiresAt: this.expiresAt });
    }
}

/** Expiry of an operator's PEM certificate; a value that is not one fails naming the key. */
export function certificateExpiry(pem: string): string {
    try {
        return new Date(new X509Certificate(pem).validTo).toISOString();
    } catch (error) {
        throw new Error(`clinical-bdd-creator:tlsCertificate: not a PEM X.509 certificate (${(error as Error).message})`);
    }
}
