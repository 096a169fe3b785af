/** Sign-in: an API token, checked against the identity service, then kept in sessionStorage only. */
import { useMutation } from "@tanstack/react-query";
import { type FormEvent, useState } from "react";
import { clientFor, ok, saveToken } from "../api.ts";
import { ErrorNote } from "../ui.tsx";

export function SignIn({ onSignedIn }: { onSignedIn: (token: string) => void }) {
  const [token, setToken] = useState("");
  const check = useMutation({
    mutationFn: async (candidate: string) => {
      await ok(clientFor(candidate).identity.GET("/api/v1/detailkeys/"));
      return candidate;
    },
    onSuccess: (candidate) => {
      saveToken(candidate);
      onSignedIn(candidate);
    },
  });
  const submit = (event: FormEvent) => {
    event.preventDefault();
    check.mutate(token.trim());
  };
  return (
    <main className="sign-in">
      <h1>Tidings console</h1>
      <form onSubmit={submit}>
        <label htmlFor="token">API token</label>
        <input
          id="token"
          type="password"
          autoComplete="off"
          required
          value={token}
          onChange={(e) => setToken(e.target.value)}
        />
        <p className="muted">Kept in this browser tab only, until you sign out or close it.</p>
        <button type="submit" disabled={check.isPending}>
          Sign in
        </button>
        <ErrorNote error={check.error} />
      </form>
    </main>
  );
}
