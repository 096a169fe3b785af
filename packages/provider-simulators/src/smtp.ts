import type { AddressInfo } from "node:net";
import { SMTPServer } from "smtp-server";

export interface ReceivedMail {
  from: string | null;
  to: string[];
  /** The whole message as received (headers and body). */
  raw: string;
  /** The Subject header, unfolded (undecoded if it was MIME-encoded). */
  subject: string | null;
  /** The authenticated user, if any. */
  user: string | null;
}

export interface SmtpServerOptions {
  /** Require AUTH PLAIN/LOGIN with these credentials. Default: no authentication. */
  auth?: { user: string; pass: string };
  /** Answer RCPT TO with this SMTP error (e.g. 550 for an unknown mailbox, 451 for a passing failure). */
  rejectRecipient?: (address: string) => { code: number; message: string } | undefined;
  port?: number;
}

export interface SmtpTestServer {
  host: string;
  port: number;
  url: string;
  messages: ReceivedMail[];
  close(): Promise<void>;
}

/** A real SMTP server on localhost (the `smtp-server` package) that records every message it receives. */
export async function startSmtpServer(options: SmtpServerOptions = {}): Promise<SmtpTestServer> {
  const messages: ReceivedMail[] = [];
  const server = new SMTPServer({
    disabledCommands: ["STARTTLS"],
    allowInsecureAuth: true,
    authOptional: !options.auth,
    logger: false,
    onAuth(auth, _session, callback) {
      if (options.auth && auth.username === options.auth.user && auth.password === options.auth.pass) {
        return callback(null, { user: auth.username });
      }
      return callback(new Error("Invalid username or password"));
    },
    onRcptTo(address, _session, callback) {
      const rejection = options.rejectRecipient?.(address.address);
      if (rejection) {
        const err = new Error(rejection.message) as Error & { responseCode: number };
        err.responseCode = rejection.code;
        return callback(err);
      }
      callback();
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on("data", (c: Buffer) => chunks.push(c));
      stream.on("end", () => {
        const raw = Buffer.concat(chunks).toString("utf8");
        const headers = raw.split(/\r?\n\r?\n/)[0]?.replace(/\r?\n[ \t]+/g, " ") ?? "";
        const subject = /^subject: (.*)$/im.exec(headers)?.[1] ?? null;
        messages.push({
          from: session.envelope.mailFrom ? session.envelope.mailFrom.address : null,
          to: session.envelope.rcptTo.map((r) => r.address),
          raw,
          subject,
          user: typeof session.user === "string" ? session.user : null,
        });
        callback();
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(options.port ?? 0, "127.0.0.1", resolve));
  const { port } = server.server.address() as AddressInfo;
  return {
    host: "127.0.0.1",
    port,
    url: `smtp://127.0.0.1:${port}`,
    messages,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
