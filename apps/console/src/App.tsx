/** The console's frame: sign-in until there is a token, then the navigation and the current page. */
import { useQueryClient } from "@tanstack/react-query";
import { useMemo, useState } from "react";
import { clearToken, clientFor, readToken } from "./api.ts";
import { Batches } from "./pages/Batches.tsx";
import { Broadcasts } from "./pages/Broadcasts.tsx";
import { Content } from "./pages/Content.tsx";
import { Imports } from "./pages/Imports.tsx";
import { Operations } from "./pages/Operations.tsx";
import { Overview } from "./pages/Overview.tsx";
import { People } from "./pages/People.tsx";
import { Person } from "./pages/Person.tsx";
import { SignIn } from "./pages/SignIn.tsx";
import { ClientContext, useRoute } from "./ui.tsx";

const PAGES = [
  { path: "overview", name: "Overview" },
  { path: "people", name: "People" },
  { path: "content", name: "Content" },
  { path: "broadcasts", name: "Broadcasts" },
  { path: "imports", name: "Imports" },
  { path: "batches", name: "Batches" },
  { path: "operations", name: "Operations" },
] as const;

function Page({ route }: { route: string[] }) {
  const [page, id, sub, subscription] = route;
  if (page === "people" && id) {
    return <Person id={id} subscription={sub === "subscription" ? subscription : undefined} />;
  }
  if (page === "content") {
    return <Content setId={id ? Number(id) : undefined} />;
  }
  if (page === "broadcasts") {
    return <Broadcasts />;
  }
  if (page === "imports") {
    return <Imports />;
  }
  if (page === "batches") {
    return <Batches batchId={id} />;
  }
  if (page === "operations") {
    return <Operations />;
  }
  if (page === "people") {
    return <People />;
  }
  return <Overview />;
}

export function App() {
  const [token, setToken] = useState(readToken);
  const route = useRoute();
  const queryClient = useQueryClient();
  const client = useMemo(() => (token ? clientFor(token) : null), [token]);
  if (!client) {
    return <SignIn onSignedIn={setToken} />;
  }
  const current = route[0] ?? "overview";
  const signOut = () => {
    clearToken();
    queryClient.clear();
    setToken(null);
  };
  return (
    <ClientContext.Provider value={client}>
      <header className="top">
        <span className="brand">Tidings console</span>
        <nav aria-label="Main">
          <ul>
            {PAGES.map((p) => (
              <li key={p.path}>
                <a href={`#/${p.path}`} aria-current={current === p.path ? "page" : undefined}>
                  {p.name}
                </a>
              </li>
            ))}
          </ul>
        </nav>
        <button type="button" className="secondary" onClick={signOut}>
          Sign out
        </button>
      </header>
      <main>
        <Page route={route} />
      </main>
    </ClientContext.Provider>
  );
}
