// Runs the simulators for demos: `npx tsx packages/provider-simulators/src/cli.ts` from the repository root.
// TWILIO_ACCOUNT_SID / TWILIO_AUTH_TOKEN, VONAGE_API_KEY / VONAGE_API_SECRET / VONAGE_SIGNATURE_SECRET and
// TWILIO_PORT / VONAGE_PORT / SMTP_PORT (default 4010, 4011, 2525) configure them.
import { startSmtpServer } from "./smtp.ts";
import { startTwilioSimulator } from "./twilio.ts";
import { startVonageSimulator } from "./vonage.ts";

const env = process.env;
const twilioSid = env.TWILIO_ACCOUNT_SID ?? `AC${"0".repeat(32)}`;
const twilio = await startTwilioSimulator({
  accounts: { [twilioSid]: env.TWILIO_AUTH_TOKEN ?? "simulator-auth-token" },
  port: Number(env.TWILIO_PORT ?? 4010),
});
const vonage = await startVonageSimulator({
  accounts: { [env.VONAGE_API_KEY ?? "simulator"]: env.VONAGE_API_SECRET ?? "simulator-secret" },
  signatureSecret: env.VONAGE_SIGNATURE_SECRET ?? "simulator-signature-secret",
  port: Number(env.VONAGE_PORT ?? 4011),
});
const smtp = await startSmtpServer({ port: Number(env.SMTP_PORT ?? 2525) });
process.stdout.write(
  `twilio simulator ${twilio.url} (account ${twilioSid})\nvonage simulator ${vonage.url}\nsmtp server ${smtp.url}\n`,
);
const stop = async () => {
  await Promise.all([twilio.close(), vonage.close(), smtp.close()]);
  process.exit(0);
};
process.on("SIGINT", stop);
process.on("SIGTERM", stop);
