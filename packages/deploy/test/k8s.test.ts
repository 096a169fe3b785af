/**
 * infra/k8s: every manifest kustomize would build is valid against the Kubernetes and KEDA schemas (unknown fields
 * included), and together they run the platform: each service's API and worker, with an environment its config
 * loader accepts, probes on the processes' health endpoints, memory within the measured RSS, disruption budgets,
 * autoscaling (HPA per API, KEDA per worker on exactly its queues), the migration Job, and no committed secret.
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import { namesFor, queueNames, queues } from "@tidings/contracts";
import { describe, expect, test } from "vitest";
import { gitTracked, isGitIgnored, ROOT } from "./compose.ts";
import {
  buildKustomization,
  bytes,
  K8S_DIR,
  type Manifest,
  podSpec,
  readEnvFile,
  secretData,
} from "./kustomize.ts";
import { validateManifest } from "./schemas.ts";
import { apiPort, CONFIG_LOADERS, SERVICES, serviceOf, serviceUrlVars, workerPort } from "./services.ts";

/**
 * The largest RSS measured under load, by role (`pnpm bench pipeline`, session 19: an API 176 MB with its 16 MB
 * semi-space, a worker 148 MB with 8; README.md, SERVICE_NODE_ARGS).
 */
const MEASURED_RSS: Record<string, number> = { api: 176 * 1000 * 1000, worker: 148 * 1000 * 1000 };
/** The bound every process keeps (issue 10). */
const RSS_TARGET = 200 * 1000 * 1000;

const it = test.extend<{ manifests: Manifest[] }>({
  // biome-ignore lint/correctness/noEmptyPattern: vitest reads a fixture's dependencies from its first parameter.
  manifests: [async ({}, use) => use(buildKustomization()), { scope: "file" }],
});

const find = (manifests: Manifest[], kind: string, name: string) =>
  manifests.find((m) => m.kind === kind && m.metadata.name === name);

/** Each Deployment running a service process, with that service and role. */
const processes = (manifests: Manifest[]) =>
  manifests
    .filter((m) => m.kind === "Deployment")
    .map((deployment) => {
      const container = podSpec(deployment).containers[0];
      return { deployment, container, ...(serviceOf(container.command) ?? { service: "?", role: "?" }) };
    });

/** The environment a container gets: its envFrom ConfigMaps and Secrets, then its own env. */
function environment(manifests: Manifest[], container: Manifest): Record<string, string> {
  const env: Record<string, string> = {};
  for (const from of container.envFrom ?? []) {
    const ref = from.configMapRef ?? from.secretRef;
    const source = find(manifests, from.configMapRef ? "ConfigMap" : "Secret", ref.name);
    expect(source, `${ref.name} exists`).toBeDefined();
    Object.assign(env, from.configMapRef ? source?.data : secretData(source as Manifest));
  }
  for (const { name, value } of container.env ?? []) {
    env[name] = value;
  }
  return env;
}

const selects = (selector: Record<string, string>, target: Manifest) =>
  Object.entries(selector).every(([k, v]) => target.spec.template.metadata.labels[k] === v);

describe("the schema check", () => {
  it("refuses an unknown field, a wrong type and a kind it has no schema for", async ({ manifests }) => {
    const deployment = structuredClone(find(manifests, "Deployment", "identity-api") as Manifest);
    deployment.spec.template.spec.containers[0].imagePullPolcy = "Always";
    deployment.spec.replicas = "two";
    expect(await validateManifest(deployment)).toEqual([
      '/spec/replicas: type {"type":"integer"}',
      "/spec/template/spec/containers/0/imagePullPolcy: unknown field",
    ]);
    const scaled = structuredClone(find(manifests, "ScaledObject", "message-sender-worker") as Manifest);
    scaled.spec.triggers[0].authenticationRefs = scaled.spec.triggers[0].authenticationRef;
    scaled.spec.triggers[0].metadata.value = 100;
    expect(await validateManifest(scaled)).toEqual([
      '/spec/triggers/0/metadata/value: type {"type":"string"}',
      "/spec/triggers/0/authenticationRefs: unknown field",
    ]);
    await expect(
      validateManifest({ apiVersion: "v1", kind: "Pod", metadata: { name: "x" } }),
    ).rejects.toThrow(/no schema known/);
  });
});

describe("infra/k8s", () => {
  it("builds, and every manifest is valid against its Kubernetes or KEDA schema", async ({ manifests }) => {
    expect(manifests.length).toBeGreaterThan(40);
    for (const manifest of manifests) {
      const problems = await validateManifest(manifest);
      expect({ manifest: `${manifest.kind}/${manifest.metadata.name}`, problems }).toEqual({
        manifest: `${manifest.kind}/${manifest.metadata.name}`,
        problems: [],
      });
      expect(manifest.kind === "Namespace" || manifest.metadata.namespace === "tidings").toBe(true);
    }
  });

  it("runs an API and a worker of every service from the image's launcher", ({ manifests }) => {
    const runs = processes(manifests).map(({ service, role }) => `${service} ${role}`);
    expect(runs.sort()).toEqual(SERVICES.flatMap((s) => [`${s} api`, `${s} worker`]).sort());
    for (const { deployment, container } of processes(manifests)) {
      expect(container.image).toBe("registry.example.org/tidings:latest");
      expect(selects(deployment.spec.selector.matchLabels, deployment)).toBe(true);
      // The image's user: volumes are made writable for it through fsGroup.
      expect(podSpec(deployment).securityContext).toMatchObject({
        runAsNonRoot: true,
        runAsUser: 1000,
        fsGroup: 1000,
      });
    }
  });

  it("gives every process an environment its service's config loader accepts, in production", ({
    manifests,
  }) => {
    for (const { deployment, container, service } of processes(manifests)) {
      const env = environment(manifests, container);
      const config = (CONFIG_LOADERS[service] as (e: Record<string, string>) => Record<string, unknown>)(env);
      expect({
        name: deployment.metadata.name,
        NODE_ENV: env.NODE_ENV,
        admin: config.ADMIN_TOKEN !== undefined,
      }).toEqual({ name: deployment.metadata.name, NODE_ENV: "production", admin: true });
      // Every other service it calls is reached through that service's API Service, on its port.
      for (const { variable, target } of serviceUrlVars(service)) {
        const url = new URL(env[variable] ?? "http://unset");
        const api = find(manifests, "Service", url.hostname);
        expect({ variable, host: url.host }).toEqual({ variable, host: `${target}-api:${apiPort(target)}` });
        const targetApi = find(manifests, "Deployment", `${target}-api`) as Manifest;
        expect(api?.spec.ports[0].port).toBe(apiPort(target));
        expect(selects(api?.spec.selector, targetApi)).toBe(true);
      }
    }
  });

  it("probes APIs on /api/health/ and workers on /ready and /health, at the ports the processes listen on", ({
    manifests,
  }) => {
    for (const { deployment, container, service, role } of processes(manifests)) {
      const port = role === "api" ? apiPort(service) : workerPort(service);
      const ports = Object.fromEntries(
        container.ports.map((p: { name: string; containerPort: number }) => [p.name, p]),
      );
      const probe = (kind: string) => {
        const get = container[kind]?.httpGet;
        return {
          name: deployment.metadata.name,
          kind,
          path: get?.path,
          port: ports[get?.port]?.containerPort,
        };
      };
      const name = deployment.metadata.name;
      if (role === "api") {
        expect(probe("readinessProbe")).toEqual({ name, kind: "readinessProbe", path: "/api/health/", port });
        expect(probe("livenessProbe")).toEqual({ name, kind: "livenessProbe", path: "/metrics", port });
      } else {
        expect(environment(manifests, container).WORKER_HTTP_PORT).toBe(String(port));
        expect(probe("readinessProbe")).toEqual({ name, kind: "readinessProbe", path: "/ready", port });
        expect(probe("livenessProbe")).toEqual({ name, kind: "livenessProbe", path: "/health", port });
      }
      expect(probe("startupProbe").port).toBe(port);
    }
  });

  it("requests memory above the measured RSS and limits it near the 200 MB bound", ({ manifests }) => {
    for (const { deployment, container, role } of processes(manifests)) {
      const { requests, limits } = container.resources;
      const name = deployment.metadata.name;
      expect({ name, request: bytes(requests.memory) >= (MEASURED_RSS[role] ?? Infinity) }).toEqual({
        name,
        request: true,
      });
      expect({ name, limit: bytes(limits.memory) >= RSS_TARGET }).toEqual({ name, limit: true });
      expect({ name, limit: bytes(limits.memory) <= 2 * bytes(requests.memory) }).toEqual({
        name,
        limit: true,
      });
      expect(requests.cpu).toBeDefined();
    }
  });

  it("keeps one pod of every process through voluntary disruptions", ({ manifests }) => {
    const budgets = manifests.filter((m) => m.kind === "PodDisruptionBudget");
    for (const { deployment } of processes(manifests)) {
      const covering = budgets.filter((b) => selects(b.spec.selector.matchLabels, deployment));
      expect({ name: deployment.metadata.name, budgets: covering.length }).toEqual({
        name: deployment.metadata.name,
        budgets: 1,
      });
      expect(covering[0]?.spec.minAvailable).toBe(1);
    }
  });

  it("scales every API with an HPA, and every worker on exactly its service's queues with KEDA", ({
    manifests,
  }) => {
    const config = find(manifests, "ConfigMap", "tidings-config") as Manifest;
    const names = namesFor(config.data.AMQP_NAMESPACE);
    const secret = secretData(find(manifests, "Secret", "tidings-secrets") as Manifest);
    for (const { deployment, service, role } of processes(manifests)) {
      const name = deployment.metadata.name;
      const hpa = manifests.find(
        (m) => m.kind === "HorizontalPodAutoscaler" && m.spec.scaleTargetRef.name === name,
      );
      const scaled = manifests.find((m) => m.kind === "ScaledObject" && m.spec.scaleTargetRef.name === name);
      const own = queueNames.filter((q) => queues[q].consumer === service).map((q) => names.queue(q));
      if (role === "api") {
        expect({ name, hpa: hpa?.spec.minReplicas >= 2, keda: scaled }).toEqual({
          name,
          hpa: true,
          keda: undefined,
        });
        expect(deployment.spec.replicas).toBeUndefined();
        continue;
      }
      expect({ name, hpa }).toEqual({ name, hpa: undefined });
      if (own.length === 0) {
        // The content worker consumes no queue (it relays its outbox): a fixed pair.
        expect({ name, keda: scaled, replicas: deployment.spec.replicas }).toEqual({
          name,
          keda: undefined,
          replicas: 2,
        });
        continue;
      }
      expect(deployment.spec.replicas).toBeUndefined();
      const triggers = scaled?.spec.triggers ?? [];
      expect({
        name,
        queues: triggers.map((t: { metadata: { queueName: string } }) => t.metadata.queueName).sort(),
      }).toEqual({
        name,
        queues: own.sort(),
      });
      for (const trigger of triggers) {
        expect(trigger).toMatchObject({
          type: "rabbitmq",
          metadata: { mode: "QueueLength", protocol: "amqp" },
        });
        const auth = find(manifests, "TriggerAuthentication", trigger.authenticationRef.name) as Manifest;
        const host = auth.spec.secretTargetRef.find((r: { parameter: string }) => r.parameter === "host");
        expect(host.name).toBe("tidings-secrets");
        expect(secret[host.key]).toMatch(/^amqps?:\/\//);
      }
      expect(scaled?.spec.minReplicaCount).toBeGreaterThanOrEqual(2);
    }
  });

  it("mounts a volume where content keeps media and message-sender its archives", ({ manifests }) => {
    // message-sender's workers purge forgotten people from the archives its API writes: the same claim, which
    // several pods mount at once.
    const writes = [
      { name: "content-api", variable: "CONTENT_MEDIA_DIR", claim: "tidings-media" },
      { name: "message-sender-api", variable: "ARCHIVE_DIR", claim: "tidings-archive" },
      { name: "message-sender-worker", variable: "ARCHIVE_DIR", claim: "tidings-archive" },
    ];
    for (const { name, variable, claim } of writes) {
      const deployment = find(manifests, "Deployment", name) as Manifest;
      const container = podSpec(deployment).containers[0];
      const dir = environment(manifests, container)[variable];
      const mount = container.volumeMounts?.find((m: { mountPath: string }) => m.mountPath === dir);
      expect({ variable, dir, mounted: mount !== undefined }).toEqual({ variable, dir, mounted: true });
      const volume = podSpec(deployment).volumes.find((v: { name: string }) => v.name === mount.name);
      expect({ name, claim: volume.persistentVolumeClaim.claimName }).toEqual({ name, claim });
      expect(find(manifests, "PersistentVolumeClaim", claim)?.spec.accessModes).toEqual(["ReadWriteMany"]);
    }
  });

  it("migrates every service's database in a Job, with the services' environment", ({ manifests }) => {
    const job = find(manifests, "Job", "tidings-migrate") as Manifest;
    const container = podSpec(job).containers[0];
    expect(container.command.join(" ")).toMatch(/--filter \.\/apps\/\* run db:migrate$/);
    expect(podSpec(job).restartPolicy).toBe("OnFailure");
    const env = environment(manifests, container);
    for (const service of SERVICES) {
      expect(new URL(env[`${service.toUpperCase().replaceAll("-", "_")}_DATABASE_URL`] ?? "").protocol).toBe(
        "postgresql:",
      );
    }
  });

  test("commits no secret: the Secret comes from the git-ignored secret.env, whose example names every key", () => {
    expect(isGitIgnored("infra/k8s/secret.env")).toBe(true);
    expect(gitTracked("infra/k8s/secret.env")).toBe(false);
    expect(gitTracked("infra/k8s/secret.env.example")).toBe(true);
    // Nor is it copied into the image (`COPY . .`), as .env is not.
    const dockerignore = readFileSync(path.join(ROOT, ".dockerignore"), "utf8").split("\n");
    expect(dockerignore).toEqual(expect.arrayContaining([".env", "infra/k8s/secret.env"]));
    const committed = readFileSync(path.join(K8S_DIR, "kustomization.yaml"), "utf8");
    expect(committed).toMatch(/envs: \[secret\.env\]/);
    for (const file of [
      "config.yaml",
      "keda.yaml",
      "migrate-job.yaml",
      ...SERVICES.map((s) => `${s}.yaml`),
    ]) {
      expect({
        file,
        secret: /^kind: Secret$/m.test(readFileSync(path.join(K8S_DIR, file), "utf8")),
      }).toEqual({
        file,
        secret: false,
      });
    }
    const keys = Object.keys(readEnvFile(path.join(K8S_DIR, "secret.env.example")));
    expect(keys).toEqual(expect.arrayContaining(["ADMIN_TOKEN", "UNSUBSCRIBE_SECRET", "AMQP_URL"]));
    expect(path.relative(ROOT, K8S_DIR)).toBe("infra/k8s");
  });
});
