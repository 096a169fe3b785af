/** Small shared pieces of the console's pages. */
import { type QueryKey, type UseQueryOptions, useQuery } from "@tanstack/react-query";
import { createContext, type ReactNode, useContext, useEffect, useState } from "react";
import { errorText, ok, type TidingsClient } from "./api.ts";

export const ClientContext = createContext<TidingsClient | null>(null);

/** The signed-in operator's client (only rendered inside the signed-in app). */
export function useClient(): TidingsClient {
  const client = useContext(ClientContext);
  if (!client) {
    throw new Error("useClient outside the signed-in console");
  }
  return client;
}

/** A query of one API call with the operator's client: its data, or the API's error thrown (see `ok`). */
export function useApi<T>(
  queryKey: QueryKey,
  call: (client: TidingsClient) => Promise<{ data?: T; error?: unknown; response: Response }>,
  options: Omit<UseQueryOptions<NonNullable<T>>, "queryKey" | "queryFn"> = {},
) {
  const client = useClient();
  return useQuery({ ...options, queryKey, queryFn: () => ok(call(client)) });
}

/** The current route: the part of the location hash after `#/`, split on `/`. */
export function useRoute(): string[] {
  const read = () =>
    window.location.hash.replace(/^#\/?/, "").split("/").filter(Boolean).map(decodeURIComponent);
  const [route, setRoute] = useState(read);
  useEffect(() => {
    const onChange = () => setRoute(read());
    window.addEventListener("hashchange", onChange);
    return () => window.removeEventListener("hashchange", onChange);
  }, []);
  return route;
}

/** `value`, once it has stopped changing for `ms`. */
export function useSettled<T>(value: T, ms: number): T {
  const [settled, setSettled] = useState(value);
  useEffect(() => {
    const timer = setTimeout(() => setSettled(value), ms);
    return () => clearTimeout(timer);
  }, [value, ms]);
  return settled;
}

/** An API error, announced to screen readers. */
export function ErrorNote({ error }: { error: unknown }) {
  if (!error) {
    return null;
  }
  return (
    <p role="alert" className="error">
      {errorText(error)}
    </p>
  );
}

/** What a query shows while loading or after failing; its children once it has data. */
export function Loaded<T>({
  query,
  children,
}: {
  query: { isPending: boolean; error: unknown; data: T | undefined };
  children: (data: T) => ReactNode;
}) {
  if (query.error) {
    return <ErrorNote error={query.error} />;
  }
  if (query.isPending || query.data === undefined) {
    return <p className="muted">Loading…</p>;
  }
  return <>{children(query.data)}</>;
}

export const when = (iso: string | null | undefined): string =>
  iso ? new Date(iso).toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" }) : "—";

/** A table that scrolls sideways on a phone instead of overflowing the page. */
export function Table({ caption, head, children }: { caption: string; head: string[]; children: ReactNode }) {
  return (
    // biome-ignore lint/a11y/noNoninteractiveTabindex: a scrollable region must be reachable by keyboard.
    <section className="table-wrap" tabIndex={0} aria-label={caption}>
      <table>
        <caption>{caption}</caption>
        <thead>
          <tr>
            {head.map((h) => (
              <th key={h} scope="col">
                {h}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>{children}</tbody>
      </table>
    </section>
  );
}

/** A list page of an API (`{results}`) as a table, one row per item; `empty` when it has none. */
export function ListTable<T>({
  query,
  empty,
  caption,
  head,
  row,
}: {
  query: { isPending: boolean; error: unknown; data: { results: T[] } | undefined };
  empty: string;
  caption: string;
  head: string[];
  row: (item: T) => ReactNode;
}) {
  return (
    <Loaded query={query}>
      {(page) =>
        page.results.length === 0 ? (
          <p className="muted">{empty}</p>
        ) : (
          <Table caption={caption} head={head}>
            {page.results.map(row)}
          </Table>
        )
      }
    </Loaded>
  );
}

/**
 * A confirmation asked in place (an alertdialog): its title, its text (what the action does), any more
 * `children` (a field to type into), the `action` button (dangerous: it does what cannot be undone) and Cancel,
 * then the action's error if it failed.
 */
export function ConfirmDialog({
  id,
  title,
  text,
  children,
  action,
  disabled,
  error,
  onConfirm,
  onCancel,
}: {
  id: string;
  title: string;
  text: ReactNode;
  children?: ReactNode;
  action: string;
  disabled: boolean;
  error: unknown;
  onConfirm: () => void;
  onCancel: () => void;
}) {
  return (
    <div
      role="alertdialog"
      aria-labelledby={`${id}-title`}
      aria-describedby={`${id}-text`}
      className="confirm"
    >
      <h3 id={`${id}-title`}>{title}</h3>
      <p id={`${id}-text`}>{text}</p>
      {children}
      <Actions onCancel={onCancel} error={error}>
        <button type="button" className="danger" disabled={disabled} onClick={onConfirm}>
          {action}
        </button>
      </Actions>
    </div>
  );
}

/** A form's or a dialog's buttons: its action (`children`) and Cancel in a row, then the action's error if any. */
export function Actions({
  children,
  onCancel,
  error,
}: {
  children: ReactNode;
  onCancel: () => void;
  error: unknown;
}) {
  return (
    <>
      <div className="row">
        {children}
        <button type="button" className="secondary" onClick={onCancel}>
          Cancel
        </button>
      </div>
      <ErrorNote error={error} />
    </>
  );
}
