import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { parse, parseAllDocuments } from "yaml";
import { ROOT } from "./compose.ts";

export const K8S_DIR = path.join(ROOT, "infra/k8s");

/** A Kubernetes object as read from YAML: its schema, not a type, says what it holds. */
export interface Manifest {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  // biome-ignore lint/suspicious/noExplicitAny: manifests are checked against their schemas, not typed here.
  [k: string]: any;
}

interface Kustomization {
  namespace?: string;
  resources?: string[];
  images?: { name: string; newName?: string; newTag?: string }[];
  secretGenerator?: { name: string; envs?: string[] }[];
  generatorOptions?: { disableNameSuffixHash?: boolean };
}

/** The kustomization fields `buildKustomization` applies; any other makes it throw rather than build something else. */
const SUPPORTED = new Set([
  "apiVersion",
  "kind",
  "namespace",
  "resources",
  "images",
  "secretGenerator",
  "generatorOptions",
]);
const CLUSTER_SCOPED = new Set(["Namespace", "PersistentVolume", "ClusterRole", "ClusterRoleBinding"]);

/** `KEY=value` lines of an env file (kustomize's `envs`), comments and blank lines skipped. */
export function readEnvFile(file: string): Record<string, string> {
  return Object.fromEntries(
    readFileSync(file, "utf8")
      .split("\n")
      .filter((line) => line.trim() && !line.trim().startsWith("#"))
      .map((line) => {
        const at = line.indexOf("=");
        return [line.slice(0, at).trim(), line.slice(at + 1)];
      }),
  );
}

/**
 * What `kustomize build` makes of a directory, for the fields infra/k8s uses: its resources' documents, a Secret per
 * secretGenerator (from `envs`; a file that is not there, being git-ignored, is read from `<file>.example`), the
 * namespace set on namespaced objects and the images replaced. Throws on a field it does not apply.
 */
export function buildKustomization(dir = K8S_DIR): Manifest[] {
  const kustomization = parse(readFileSync(path.join(dir, "kustomization.yaml"), "utf8")) as Kustomization;
  const unknown = Object.keys(kustomization).filter((key) => !SUPPORTED.has(key));
  if (unknown.length) {
    throw new Error(
      `kustomization.yaml: ${unknown.join(", ")} not applied by this build; add it to kustomize.ts`,
    );
  }
  if (kustomization.secretGenerator?.length && !kustomization.generatorOptions?.disableNameSuffixHash) {
    throw new Error("kustomization.yaml: name-suffixed generated secrets are not applied by this build");
  }
  const manifests: Manifest[] = (kustomization.resources ?? []).flatMap((file) =>
    parseAllDocuments(readFileSync(path.join(dir, file), "utf8")).map((doc) => {
      if (doc.errors.length) {
        throw new Error(`${file}: ${doc.errors.map((e) => e.message).join("; ")}`);
      }
      return doc.toJS() as Manifest;
    }),
  );
  for (const generator of kustomization.secretGenerator ?? []) {
    const data: Record<string, string> = {};
    for (const envs of generator.envs ?? []) {
      const file = path.join(dir, envs);
      for (const [key, value] of Object.entries(readEnvFile(existsSync(file) ? file : `${file}.example`))) {
        data[key] = Buffer.from(value).toString("base64");
      }
    }
    manifests.push({
      apiVersion: "v1",
      kind: "Secret",
      metadata: { name: generator.name },
      type: "Opaque",
      data,
    });
  }
  for (const manifest of manifests) {
    if (kustomization.namespace && !CLUSTER_SCOPED.has(manifest.kind)) {
      manifest.metadata.namespace = kustomization.namespace;
    }
    for (const container of podSpec(manifest)?.containers ?? []) {
      const image = kustomization.images?.find((i) => i.name === container.image);
      if (image) {
        container.image = `${image.newName ?? image.name}${image.newTag ? `:${image.newTag}` : ""}`;
      }
    }
  }
  return manifests;
}

/** The pod spec of a workload (Deployment, Job), else undefined. */
// biome-ignore lint/suspicious/noExplicitAny: see Manifest.
export const podSpec = (manifest: Manifest): any => manifest.spec?.template?.spec;

/** The decoded data of a generated Secret. */
export const secretData = (secret: Manifest): Record<string, string> =>
  Object.fromEntries(
    Object.entries(secret.data as Record<string, string>).map(([k, v]) => [
      k,
      Buffer.from(v, "base64").toString(),
    ]),
  );

/** A Kubernetes memory quantity (`160Mi`, `1Gi`, `256M`, bytes) in bytes. */
export function bytes(quantity: string): number {
  const match = /^(\d+(?:\.\d+)?)([KMGT]i?)?$/.exec(quantity);
  if (!match) {
    throw new Error(`not a memory quantity: ${quantity}`);
  }
  const unit = match[2] ?? "";
  const power = " KMGT".indexOf(unit[0] ?? " ");
  return Number(match[1]) * (unit.endsWith("i") ? 1024 : 1000) ** power;
}
