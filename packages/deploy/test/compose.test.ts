/**
 * docker-compose.yml gives a usable platform: every container's environment passes its service's own config
 * loader, shares the platform's secrets, reaches the services it calls, and can write where it writes; RabbitMQ has
 * its open-files limit. Checked on `docker compose config` where Docker has its compose plugin, else (and also) on
 * the file resolved here the same way.
 */
import { describe, expect, test } from "vitest";
import {
  type ComposeModel,
  type ComposeService,
  composeCli,
  dockerComposeConfig,
  dockerfile,
  resolveCompose,
} from "./compose.ts";
import { apiPort, CONFIG_LOADERS, SERVICES, serviceOf, serviceUrlVars, workerPort } from "./services.ts";

const SECRETS = {
  ADMIN_TOKEN: "admin-token-0123456789abcdef",
  UNSUBSCRIBE_SECRET: `${"u".repeat(24)}-secret-0123456789`,
};
const cli = composeCli();
if (!cli.ok) {
  process.stderr.write(
    `compose.test: docker compose config not run (${cli.reason}); checking the file as resolved here\n`,
  );
}

const it = test.extend<{ model: ComposeModel }>({
  model: [
    // biome-ignore lint/correctness/noEmptyPattern: vitest reads a fixture's dependencies from its first parameter.
    async ({}, use) => {
      if (!cli.ok) {
        await use(resolveCompose(SECRETS));
        return;
      }
      const { model, stderr } = dockerComposeConfig(SECRETS);
      if (!model) {
        throw new Error(`docker compose config failed: ${stderr}`);
      }
      await use(model);
    },
    { scope: "file" },
  ],
});

const platformContainers = (model: ComposeModel) =>
  Object.entries(model.services).flatMap(([name, service]) => {
    const runs = serviceOf(service.command);
    return runs ? [{ name, container: service, ...runs }] : [];
  });

const env = (service: ComposeService): Record<string, string> =>
  Object.fromEntries(
    Object.entries(service.environment ?? {}).filter((e): e is [string, string] => e[1] !== null),
  );

describe("docker-compose.yml", () => {
  test.skipIf(!cli.ok)(
    `docker compose config parses it and agrees with the resolution here${cli.ok ? "" : ` (skipped: ${cli.reason})`}`,
    () => {
      const { model, status, stderr } = dockerComposeConfig(SECRETS);
      expect(stderr.match(/^.*level=(warning|error).*$/gm) ?? []).toEqual([]);
      expect(status).toBe(0);
      const local = resolveCompose(SECRETS);
      for (const [name, service] of Object.entries(local.services)) {
        expect({ name, env: env(model?.services[name] as ComposeService) }).toMatchObject({
          name,
          env: env(service),
        });
      }
    },
  );

  test.skipIf(!cli.ok)(
    `docker compose config refuses to run without ADMIN_TOKEN or UNSUBSCRIBE_SECRET${cli.ok ? "" : ` (skipped: ${cli.reason})`}`,
    () => {
      for (const missing of Object.keys(SECRETS)) {
        const { status, stderr } = dockerComposeConfig({ ...SECRETS, [missing]: "" });
        expect(status).not.toBe(0);
        expect(stderr).toContain(`set ${missing}`);
      }
    },
  );

  test("the resolution here refuses to run without ADMIN_TOKEN or UNSUBSCRIBE_SECRET, naming it", () => {
    expect(() => resolveCompose({ UNSUBSCRIBE_SECRET: SECRETS.UNSUBSCRIBE_SECRET })).toThrow(
      /set ADMIN_TOKEN/,
    );
    expect(() => resolveCompose({ ADMIN_TOKEN: SECRETS.ADMIN_TOKEN, UNSUBSCRIBE_SECRET: "" })).toThrow(
      /set UNSUBSCRIBE_SECRET/,
    );
  });

  it("runs an api and a worker of every service", ({ model }) => {
    const runs = platformContainers(model).map(({ service, role }) => `${service} ${role}`);
    expect(runs.sort()).toEqual(SERVICES.flatMap((s) => [`${s} api`, `${s} worker`]).sort());
  });

  it("gives every container an environment its service's config loader accepts, in production", ({
    model,
  }) => {
    for (const { name, container, service } of platformContainers(model)) {
      const vars = env(container);
      expect({ name, NODE_ENV: vars.NODE_ENV }).toEqual({ name, NODE_ENV: "production" });
      const config = (CONFIG_LOADERS[service] as (e: Record<string, string>) => Record<string, unknown>)(
        vars,
      );
      expect({ name, admin: config.ADMIN_TOKEN }).toEqual({ name, admin: SECRETS.ADMIN_TOKEN });
      // The database and the broker are the compose services of those names.
      expect(new URL(config.DATABASE_URL as string).hostname).toBe("postgres");
      expect(new URL(config.AMQP_URL as string).hostname).toBe("rabbitmq");
    }
    expect(model.services.postgres).toBeDefined();
    expect(model.services.rabbitmq).toBeDefined();
  });

  it("shares one ADMIN_TOKEN and one UNSUBSCRIBE_SECRET between every container", ({ model }) => {
    for (const { name, container } of platformContainers(model)) {
      const vars = env(container);
      expect({ name, admin: vars.ADMIN_TOKEN, unsubscribe: vars.UNSUBSCRIBE_SECRET }).toEqual({
        name,
        admin: SECRETS.ADMIN_TOKEN,
        unsubscribe: SECRETS.UNSUBSCRIBE_SECRET,
      });
    }
    // Subscription links are made by its workers and checked by its API: the loader must not invent one.
    const subscription = platformContainers(model).filter((c) => c.service === "subscription");
    const secrets = subscription.map(
      (c) => CONFIG_LOADERS.subscription?.(env(c.container)).UNSUBSCRIBE_SECRET,
    );
    expect(new Set(secrets)).toEqual(new Set([SECRETS.UNSUBSCRIBE_SECRET]));
  });

  it("points every service URL a config.ts declares at that service's API container, with a token", ({
    model,
  }) => {
    const apis = new Map(
      platformContainers(model)
        .filter((c) => c.role === "api")
        .map((c) => [c.service, c.name]),
    );
    const checked: string[] = [];
    for (const { name, container, service } of platformContainers(model)) {
      for (const { variable, target } of serviceUrlVars(service)) {
        const url = new URL(env(container)[variable] ?? "http://unset");
        expect({ name, variable, host: url.host }).toEqual({
          name,
          variable,
          host: `${apis.get(target)}:${apiPort(target)}`,
        });
        checked.push(variable);
      }
    }
    expect(new Set(checked)).toEqual(new Set(["IDENTITY_URL", "CONTENT_URL", "SCHEDULER_URL"]));
    // message-sender calls identity with IDENTITY_TOKEN: the shared admin token is one identity accepts.
    expect(env(model.services["message-sender-worker"] as ComposeService).IDENTITY_TOKEN).toBe(
      SECRETS.ADMIN_TOKEN,
    );
  });

  it("mounts a volume where content keeps media and message-sender its archives, writable by the image's user", ({
    model,
  }) => {
    const lines = dockerfile();
    const user = lines.filter(([i]) => i === "USER").at(-1)?.[1];
    expect(user).toBe("node");
    // message-sender's workers purge forgotten people from the archives its API writes: the same volume.
    const writes = [
      { service: "content", role: "api", variable: "CONTENT_MEDIA_DIR", volume: "media" },
      { service: "message-sender", role: "api", variable: "ARCHIVE_DIR", volume: "archive" },
      { service: "message-sender", role: "worker", variable: "ARCHIVE_DIR", volume: "archive" },
    ];
    for (const { service, role, variable, volume } of writes) {
      const found = platformContainers(model).find((c) => c.service === service && c.role === role);
      const dir = env(found?.container as ComposeService)[variable] as string;
      expect(dir).toMatch(/^\//);
      const mount = found?.container.volumes?.find((v) => v.target === dir);
      expect({ variable, role, mount }).toMatchObject({
        variable,
        role,
        mount: { type: "volume", source: volume },
      });
      expect(Object.keys(model.volumes ?? {})).toContain(mount?.source);
      // The image creates the directory and gives it to that user (an empty named volume starts as a copy of it).
      const chowned = lines.some(
        ([i, args]) =>
          i === "RUN" &&
          args.includes(`mkdir -p`) &&
          args.includes(dir) &&
          new RegExp(`chown (-R )?${user}(:${user})? [^&]*${dir.split("/").slice(0, -1).join("/")}`).test(
            args,
          ),
      );
      expect({ dir, chowned }).toEqual({ dir, chowned: true });
    }
  });

  it("gives RabbitMQ an open-files limit of at least 65,536", ({ model }) => {
    const nofile = model.services.rabbitmq?.ulimits?.nofile;
    const limits = typeof nofile === "number" ? { soft: nofile, hard: nofile } : nofile;
    expect(limits?.soft).toBeGreaterThanOrEqual(65_536);
    expect(limits?.hard).toBeGreaterThanOrEqual(65_536);
  });

  it("migrates before any service starts, and health-checks every process on its port", ({ model }) => {
    expect(model.services.migrate?.command?.join(" ")).toMatch(/db:migrate/);
    for (const { name, container, service, role } of platformContainers(model)) {
      expect({ name, migrate: container.depends_on?.migrate?.condition }).toEqual({
        name,
        migrate: "service_completed_successfully",
      });
      const probe = role === "api" ? `:${apiPort(service)}/api/health/` : `:${workerPort(service)}/health`;
      expect({ name, test: container.healthcheck?.test.join(" ") }).toEqual({
        name,
        test: expect.stringContaining(probe),
      });
    }
  });
});
