/**
 * A person's consent: the ledger (opt-outs and opt-ins with their sources), recording either, stop all, forget; and
 * what message-sender will do with a send to an address (its own copy of consent).
 */
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { SENDABLE_ADDRESS_TYPES } from "@tidings/contracts/addresses";
import { type FormEvent, type ReactNode, useState } from "react";
import { errorText, ok } from "../api.ts";
import { ConfirmDialog, ErrorNote, Loaded, Table, useApi, useClient, when } from "../ui.tsx";
import type { Address } from "./Person.tsx";

const SOURCE = "console";

/** How often, and how many times, the sender's copy is read again while it disagrees with identity's flag. */
const CATCH_UP_MS = 2_000;
const CATCH_UP_READS = 30;

/** The address types message-sender sends to: it keeps no consent of others. */
export const SENDABLE_TYPES: ReadonlySet<string> = new Set(SENDABLE_ADDRESS_TYPES);

/**
 * What message-sender will do with a send to `address`, by its copy of consent (which every send is checked against,
 * and which also holds a STOP from a number no identity has): "sending: allowed", or "sending: stopped (stop, since
 * <time>)". `optedOut`: identity's flag on the address, when known: while the copy disagrees it is read again for a
 * minute (an opt-out reaches it a moment after identity records it), and after that the difference stays in view.
 */
export function SendingState({ address, optedOut }: { address: string; optedOut?: boolean }) {
  const state = useApi(
    ["sender-consent", address],
    (c) => c.messageSender.GET("/api/v1/consent/", { params: { query: { address } } }),
    {
      refetchInterval: (query) =>
        optedOut !== undefined &&
        query.state.data !== undefined &&
        query.state.data.opted_out !== optedOut &&
        query.state.dataUpdateCount < CATCH_UP_READS
          ? CATCH_UP_MS
          : false,
    },
  );
  if (state.error) {
    return <span className="error">sending: unknown ({errorText(state.error)})</span>;
  }
  if (!state.data) {
    return <span className="muted">sending: …</span>;
  }
  const { opted_out: stopped, kind, changed_at: since } = state.data;
  return stopped ? (
    <strong className="bad">
      sending: stopped ({kind}, since {when(since)})
    </strong>
  ) : (
    <span>sending: allowed</span>
  );
}

/**
 * An opt-out of the whole person (every address), after a confirmation: `stopall` (no message of any kind to any of
 * their addresses, subscriptions stopped; an opt-in lifts it address by address) or `forget` (for good, so the word
 * must be typed).
 */
function WholePersonOptOut({
  id,
  type,
  button,
  title,
  action,
  text,
}: {
  id: string;
  type: "stopall" | "forget";
  button: string;
  title: string;
  action: string;
  text: ReactNode;
}) {
  const client = useClient();
  const queryClient = useQueryClient();
  const [confirming, setConfirming] = useState(false);
  const [typed, setTyped] = useState("");
  const optOut = useMutation({
    mutationFn: () =>
      ok(
        client.identity.POST("/api/v1/optout/", {
          body: { optout_type: type, identity: id, request_source: SOURCE },
        }),
      ),
    onSuccess: () => {
      setConfirming(false);
      return queryClient.invalidateQueries();
    },
  });
  if (!confirming) {
    return (
      <button type="button" className="danger" onClick={() => setConfirming(true)}>
        {button}
      </button>
    );
  }
  return (
    <ConfirmDialog
      id={type}
      title={title}
      action={action}
      disabled={(type === "forget" && typed !== "forget") || optOut.isPending}
      error={optOut.error}
      onConfirm={() => optOut.mutate()}
      onCancel={() => setConfirming(false)}
      text={text}
    >
      {type === "forget" && (
        <>
          <label htmlFor="forget-confirm">Confirmation</label>
          <input id="forget-confirm" value={typed} onChange={(e) => setTyped(e.target.value)} />
        </>
      )}
    </ConfirmDialog>
  );
}

export function Consent({ id, addresses }: { id: string; addresses: Address[] }) {
  const client = useClient();
  const queryClient = useQueryClient();
  const [selected, setSelected] = useState(0);
  const ledger = useApi(["consent", id], (c) =>
    c.identity.GET("/api/v1/identities/{id}/consent/", { params: { path: { id } } }),
  );
  const record = useMutation({
    mutationFn: async (action: "optout" | "optin") => {
      const target = addresses[selected];
      if (!target) {
        throw new Error("Choose an address first");
      }
      const body = {
        identity: id,
        address_type: target.type,
        address: target.address,
        request_source: SOURCE,
      };
      return action === "optout"
        ? ok(client.identity.POST("/api/v1/optout/", { body: { ...body, optout_type: "stop" } }))
        : ok(client.identity.POST("/api/v1/optin/", { body }));
    },
    onSuccess: () =>
      Promise.all([
        queryClient.invalidateQueries({ queryKey: ["consent", id] }),
        queryClient.invalidateQueries({ queryKey: ["identity", id] }),
        queryClient.invalidateQueries({ queryKey: ["sender-consent"] }),
      ]),
  });
  const submit = (action: "optout" | "optin") => (event: FormEvent) => {
    event.preventDefault();
    record.mutate(action);
  };
  return (
    <section aria-labelledby="consent">
      <h2 id="consent">Consent</h2>
      {addresses.length > 0 && (
        <form className="row" onSubmit={submit("optout")}>
          <label htmlFor="consent-address">Address</label>
          <select id="consent-address" value={selected} onChange={(e) => setSelected(Number(e.target.value))}>
            {addresses.map((a, i) => (
              <option key={`${a.type}:${a.address}`} value={i}>
                {a.type} {a.address}
              </option>
            ))}
          </select>
          <button type="submit" disabled={record.isPending}>
            Record opt-out
          </button>
          <button type="button" className="secondary" disabled={record.isPending} onClick={submit("optin")}>
            Record opt-in
          </button>
        </form>
      )}
      <ErrorNote error={record.error} />
      <Loaded query={ledger}>
        {(page) =>
          page.results.length === 0 ? (
            <p>No opt-outs or opt-ins recorded.</p>
          ) : (
            <Table
              caption="Consent history"
              head={["When", "Action", "Kind", "Scope", "Address", "Source", "Reason"]}
            >
              {page.results.map((e) => (
                <tr key={e.id}>
                  <td>{when(e.created_at)}</td>
                  <td>{e.action === "optout" ? "opt-out" : "opt-in"}</td>
                  <td>{e.kind}</td>
                  <td>{e.scope}</td>
                  <td>{e.address ?? e.topic ?? "—"}</td>
                  <td>{e.source}</td>
                  <td>{e.reason ?? "—"}</td>
                </tr>
              ))}
            </Table>
          )
        }
      </Loaded>
      <div className="row">
        <WholePersonOptOut
          id={id}
          type="stopall"
          button="Stop all messages…"
          title="Stop all messages to this person?"
          action="Stop all messages"
          text="Every address of theirs is opted out at once (stopall): no message of any kind goes to them, their subscriptions stop, and sends already queued for them fail as opted out. An opt-in of an address lifts it for that address."
        />
        <WholePersonOptOut
          id={id}
          type="forget"
          button="Forget this person…"
          title="Forget this person?"
          action="Forget for good"
          text={
            <>
              Every service erases their details, addresses and message contents, and cancels their pending
              sends. This cannot be undone. Type <strong>forget</strong> to confirm.
            </>
          }
        />
      </div>
    </section>
  );
}
