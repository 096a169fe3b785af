import { copyIdentity, forgetIdentityCopy } from "../services/identity-copy.ts";
import type { WorkerDeps } from "./deps.ts";

/** `subscription.identity-copy`: the local copy of identities that topic sends address. */
export const consumeIdentityCopy = ({ broker, db, config }: WorkerDeps) =>
  broker.consume(
    "subscription.identity-copy",
    {
      "identity.created": async (identity) => {
        await copyIdentity(db, identity);
      },
      "identity.updated": async (identity) => {
        await copyIdentity(db, identity);
      },
      "identity.deleted": ({ id }) => forgetIdentityCopy(db, id),
    },
    { prefetch: config.AMQP_PREFETCH },
  );
