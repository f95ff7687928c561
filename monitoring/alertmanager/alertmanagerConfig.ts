import { stringify } from "yaml";
import { yamlOptions } from "../prometheus/prometheusConfig";
import type { Settings } from "../../components/platform/settings";

/**
 * The secret halves of the receivers. Alertmanager 0.25 (Debian's amtool, which checks the
 * file in tests) has no webhook `url_file` (it came in 0.26), so the webhook URL is rendered
 * into the file itself: the caller keeps the rendered text a Pulumi secret and uploads it as
 * a secret file. The SMTP password stays out of the file: `auth_password_file` is accepted by
 * both 0.25 and the production image's 0.27.
 */
export interface AlertReceiverSecrets {
    /** The webhook URL (from the secret alertWebhookUrl); absent disables the webhook receiver. */
    readonly webhookUrl?: string;
    /** Path, inside the Alertmanager container, of a file holding the SMTP password (smtpPassword). */
    readonly smtpPasswordFile?: string;
}

/** Receiver names; the routes refer to them. */
export const alertReceivers = {
    critical: "operators-critical",
    warning: "operators-warning",
    none: "null",
} as const;

/**
 * Grouping and repetition, matching the production guide's timeline: an alert fires after
 * its condition held for 5 minutes (the rules' `for`); critical alerts are sent 30 s later
 * (group_wait) and repeated every hour while they last; warnings wait 2 min to be batched
 * with their neighbours and are repeated twice a day.
 */
export const alertTiming = Object.freeze({
    critical: { group_wait: "30s", group_interval: "5m", repeat_interval: "1h" },
    warning: { group_wait: "2m", group_interval: "10m", repeat_interval: "12h" },
});

/**
 * Alerts that say less when a bigger one fires: while no replica is up, the missing-replica
 * and missing-target alerts of the app add nothing; a p95 over 10 s already says "slow".
 */
const inhibitions: { source: string; targets: string[]; job?: string }[] = [
    { source: "AppDown", targets: ["AppReplicasBelowConfigured"] },
    { source: "AppDown", targets: ["ScrapeTargetMissing"], job: "app" },
    { source: "HighResponseTime", targets: ["SlowResponses"] },
];

/**
 * alertmanager.yml: route by severity (critical to every receiver, warning by e-mail when
 * e-mail is configured, else to the webhook), grouped by alert name; a receiver that
 * drops everything when neither a webhook nor e-mail is configured.
 */
export function renderAlertmanagerConfig(settings: Settings, secrets: AlertReceiverSecrets = {}): string {
    const { emailTo, emailFrom, smtpSmarthost, smtpUsername } = settings.alerting;
    const webhook = secrets.webhookUrl ? { url: secrets.webhookUrl, send_resolved: true } : undefined;
    const email =
        emailTo && smtpSmarthost
            ? {
                  to: emailTo,
                  from: emailFrom,
                  smarthost: smtpSmarthost,
                  send_resolved: true,
                  ...(smtpUsername ? { auth_username: smtpUsername } : {}),
                  ...(smtpUsername && secrets.smtpPasswordFile ? { auth_password_file: secrets.smtpPasswordFile } : {}),
              }
            : undefined;
    const channels = (...configs: ({ webhook: typeof webhook } | { email: typeof email })[]): object => {
        const webhooks = configs.flatMap((c) => ("webhook" in c && c.webhook ? [c.webhook] : []));
        const emails = configs.flatMap((c) => ("email" in c && c.email ? [c.email] : []));
        return {
            ...(webhooks.length ? { webhook_configs: webhooks } : {}),
            ...(emails.length ? { email_configs: emails } : {}),
        };
    };

    const anyChannel = webhook !== undefined || email !== undefined;
    const critical = anyChannel ? alertReceivers.critical : alertReceivers.none;
    const warning = anyChannel ? alertReceivers.warning : alertReceivers.none;
    const receivers = anyChannel
        ? [
              { name: alertReceivers.critical, ...channels({ webhook }, { email }) },
              { name: alertReceivers.warning, ...(email ? channels({ email }) : channels({ webhook })) },
          ]
        : [{ name: alertReceivers.none }];

    const config = {
        route: {
            receiver: warning,
            group_by: ["alertname"],
            ...alertTiming.warning,
            routes: [
                { receiver: critical, matchers: ['severity="critical"'], ...alertTiming.critical },
                { receiver: warning, matchers: ['severity="warning"'], ...alertTiming.warning },
            ],
        },
        inhibit_rules: inhibitions.map(({ source, targets, job }) => ({
            source_matchers: [`alertname="${source}"`],
            target_matchers: [`alertname=~"${targets.join("|")}"`, ...(job ? [`job="${job}"`] : [])],
        })),
        receivers,
    };
    return stringify(config, yamlOptions);
}
