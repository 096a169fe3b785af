import Type, { type Static } from "typebox";

/** Email over SMTP (nodemailer, pooled). */
export const SmtpChannelConfig = Type.Object(
  {
    host: Type.String({ minLength: 1, maxLength: 255 }),
    port: Type.Integer({ minimum: 1, maximum: 65535 }),
    /** TLS from the start (port 465); otherwise STARTTLS when the server offers it. */
    secure: Type.Optional(Type.Boolean()),
    user: Type.Optional(Type.String({ minLength: 1, maxLength: 255 })),
    /** Secret. */
    password: Type.Optional(Type.String({ minLength: 1, maxLength: 255 })),
    /** The From header, e.g. "Tidings <noreply@example.org>". */
    from: Type.String({ minLength: 3, maxLength: 255 }),
    /** The subject when the outbound gives none. */
    default_subject: Type.Optional(Type.String({ maxLength: 255 })),
    /** Pooled connections. Default 5. */
    max_connections: Type.Optional(Type.Integer({ minimum: 1, maximum: 100 })),
  },
  { additionalProperties: false },
);
export type SmtpChannelConfig = Static<typeof SmtpChannelConfig>;
