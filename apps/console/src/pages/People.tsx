/**
 * People: find an identity by phone number or email; for an address nobody has, what message-sender will do with a
 * send to it (a STOP from a number no identity has is kept there only).
 */
import { useQuery } from "@tanstack/react-query";
import { type FormEvent, useState } from "react";
import { ok } from "../api.ts";
import { Loaded, Table, useClient, when } from "../ui.tsx";
import { SendingState } from "./PersonConsent.tsx";

/** The identity search filter for what was typed: an email, else a phone number (E.164, spaces ignored). */
export function addressFilter(input: string): Record<string, string> {
  const value = input.trim();
  return value.includes("@")
    ? { details__addresses__email: value.toLowerCase() }
    : { details__addresses__msisdn: value.replace(/[\s()-]/g, "") };
}

export function People() {
  const client = useClient();
  const [input, setInput] = useState("");
  const [search, setSearch] = useState<string | null>(null);
  const found = useQuery({
    queryKey: ["identity-search", search],
    enabled: search !== null,
    queryFn: () =>
      ok(
        client.identity.GET("/api/v1/identities/search/", {
          params: { query: { filters: addressFilter(search ?? "") } },
        }),
      ),
  });
  const submit = (event: FormEvent) => {
    event.preventDefault();
    setSearch(input);
  };
  return (
    <>
      <h1>People</h1>
      <form className="row" onSubmit={submit} aria-label="Find a person">
        <label htmlFor="person-search">Phone number or email</label>
        <input
          id="person-search"
          required
          value={input}
          placeholder="+27820001001"
          onChange={(e) => setInput(e.target.value)}
        />
        <button type="submit">Find</button>
      </form>
      {search !== null && (
        <Loaded query={found}>
          {(page) =>
            page.results.length === 0 ? (
              <p role="status">
                Nobody has that address. Message-sender's consent for it:{" "}
                <SendingState address={search ?? ""} />
              </p>
            ) : (
              <Table caption="People found" head={["Identity", "Language", "Created"]}>
                {page.results.map((person) => (
                  <tr key={person.id}>
                    <td>
                      <a href={`#/people/${person.id}`}>{String(person.details.name ?? person.id)}</a>
                    </td>
                    <td>{String(person.details.lang_code ?? "—")}</td>
                    <td>{when(person.created_at)}</td>
                  </tr>
                ))}
              </Table>
            )
          }
        </Loaded>
      )}
    </>
  );
}
