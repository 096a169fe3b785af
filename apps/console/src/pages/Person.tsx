/**
 * One person: addresses (each with what message-sender will do with a send to it), consent (history, opt-out,
 * opt-in, forget), subscriptions (with their next sends: their schedule's next runs, and a link to their messages),
 * and messages both ways (all of them, or one subscription's).
 */
import { Loaded, Table, useApi, when } from "../ui.tsx";
import { Consent, SENDABLE_TYPES, SendingState } from "./PersonConsent.tsx";
import { Messages } from "./PersonMessages.tsx";
import { usePersonSubscriptions } from "./person-subscriptions.ts";
import { NextRuns } from "./Schedules.tsx";

export interface Address {
  type: string;
  address: string;
  flags: Record<string, unknown>;
}

/** The addresses of an identity's details (`addresses: {msisdn: {"+2782...": {default: true}}}`). */
export function addressesOf(details: Record<string, unknown>): Address[] {
  const byType = (details.addresses ?? {}) as Record<string, Record<string, Record<string, unknown>>>;
  return Object.entries(byType).flatMap(([type, byAddress]) =>
    Object.entries(byAddress ?? {}).map(([address, flags]) => ({ type, address, flags: flags ?? {} })),
  );
}

function Subscriptions({ id }: { id: string }) {
  const subscriptions = usePersonSubscriptions(id);
  return (
    <section aria-labelledby="subscriptions">
      <h2 id="subscriptions">Subscriptions</h2>
      <Loaded query={subscriptions}>
        {(page) =>
          page.results.length === 0 ? (
            <p>No subscriptions.</p>
          ) : (
            <Table
              caption="Subscriptions"
              head={["Message set", "Position", "Language", "Active", "Next sends", "Created", ""]}
            >
              {page.results.map((s) => (
                <tr key={s.id}>
                  <td>
                    <a href={`#/content/${s.messageset}`}>{s.messageset_label || `Set ${s.messageset}`}</a>
                  </td>
                  <td>{s.next_sequence_number}</td>
                  <td>{s.lang}</td>
                  <td>{s.completed ? "completed" : s.active ? "active" : "inactive"}</td>
                  <td>{s.active && !s.completed ? <NextRuns id={s.schedule} /> : "—"}</td>
                  <td>{when(s.created_at)}</td>
                  <td>
                    <a href={`#/people/${id}/subscription/${s.id}`}>Messages</a>
                  </td>
                </tr>
              ))}
            </Table>
          )
        }
      </Loaded>
    </section>
  );
}

/** A person's page; with `subscription`, its messages are only that subscription's. */
export function Person({ id, subscription }: { id: string; subscription?: string }) {
  const identity = useApi(["identity", id], (c) =>
    c.identity.GET("/api/v1/identities/{id}/", { params: { path: { id } } }),
  );
  return (
    <Loaded query={identity}>
      {(person) => {
        const addresses = addressesOf(person.details);
        return (
          <>
            <h1>{String(person.details.name ?? "Person")}</h1>
            <p className="muted">
              Identity <code>{person.id}</code>, language {String(person.details.lang_code ?? "—")}
            </p>
            <section aria-labelledby="addresses">
              <h2 id="addresses">Addresses</h2>
              {addresses.length === 0 ? (
                <p>No addresses.</p>
              ) : (
                <ul className="addresses">
                  {addresses.map((a) => (
                    <li key={`${a.type}:${a.address}`}>
                      <span className="tag">{a.type}</span> {a.address}
                      {a.flags.default ? " (default)" : ""}
                      {a.flags.optedout ? <strong className="bad"> opted out</strong> : ""}
                      {SENDABLE_TYPES.has(a.type) && (
                        <>
                          {" · "}
                          <SendingState address={a.address} optedOut={Boolean(a.flags.optedout)} />
                        </>
                      )}
                    </li>
                  ))}
                </ul>
              )}
            </section>
            <Consent id={id} addresses={addresses} />
            <Subscriptions id={id} />
            <Messages id={id} subscription={subscription} />
          </>
        );
      }}
    </Loaded>
  );
}
